/* faultline restart SERVICE: start a service of the system again. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>

#include "cli/system.h"
#include "core/clock.h"
#include "core/errors.h"
#include "launcher/launcher.h"

enum { O_NO_WAIT = FL_OPT_LONG };

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	{ "no-wait", O_NO_WAIT, NULL, "return once started, without waiting for readiness" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline restart SERVICE [--data DIR | --system NAME] [--no-wait]\n"
	  "\n"
	  "Start SERVICE again with the same command, environment and port, and\n"
	  "wait until it is ready. A service still running is terminated first\n"
	  "(SIGTERM, then SIGKILL after 10 s).\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_restart(int argc, char **argv)
{
	const char *data = NULL, *system = NULL;
	bool wait = true;
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_restart, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case FL_SYS_DATA: data = o.arg; break;
		case FL_SYS_SYSTEM: system = o.arg; break;
		case O_NO_WAIT: wait = false; break;
		}
	}
	if (c < 0)
		return o.exit;
	if (o.optind != argc - 1)
		return fl_cli_usage_error("restart", "needs one SERVICE");
	const char *svc = argv[o.optind];
	char dir[PATH_MAX], err[4096];
	int rc = fl_sys_data("restart", data, system, dir, sizeof(dir));
	if (rc)
		return rc;
	/* a running service is stopped first */
	if (fl_launcher_signal(dir, svc, SIGTERM, err, sizeof(err)) == 0) {
		for (int i = 0; i < 1000 && fl_launcher_signal(dir, svc, 0, err, sizeof(err)) == 0;
		     i++) {
			if (i == 999)
				fl_launcher_signal(dir, svc, SIGKILL, err, sizeof(err));
			fl_sleep_ns(10000000);
		}
		fl_sleep_ns(20000000); /* its reaper writes the exit record */
	}
	rc = fl_launcher_restart(dir, svc, wait, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline restart: %s\n", err);
		return rc == FL_ENOENT ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	printf("%s restarted\n", svc);
	return FL_EXIT_OK;
}

const struct fl_command fl_cmd_restart = {
	.name = "restart",
	.summary = "start a service of the system under test again",
	.help = help,
	.order = 44,
	.run = cmd_restart,
};
