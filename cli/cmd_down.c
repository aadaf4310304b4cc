/* faultline down: stop a system started by `faultline up` and report how
 * each process exited. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/system.h"
#include "core/json.h"
#include "launcher/launcher.h"

enum { O_JSON = FL_OPT_LONG, O_WAIT };

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	{ "wait", O_WAIT, "S", "wait up to S seconds for each process to exit (default 20)" },
	{ "json", O_JSON, NULL, "print the report as JSON" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline down [--data DIR | --system NAME] [--wait S] [--json]\n"
	  "\n"
	  "Stop the running system: end its lease, SIGTERM every service (the\n"
	  "callers before what they call), then the fault injector, and report how\n"
	  "each exited. Exit 0 when every process exited 0, 1 otherwise (a service\n"
	  "killed by a signal, exiting non-zero, or still running after --wait).\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_down(int argc, char **argv)
{
	const char *data = NULL, *system = NULL;
	bool json = false;
	long wait_ms = 20000;
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_down, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		char *end;
		switch (c) {
		case FL_SYS_DATA: data = o.arg; break;
		case FL_SYS_SYSTEM: system = o.arg; break;
		case O_JSON: json = true; break;
		case O_WAIT: {
			double s = strtod(o.arg, &end);
			if (!*o.arg || *end || s <= 0 || s > 3600)
				return fl_opts_error(&o, "seconds in (0, 3600], got '%s'", o.arg);
			wait_ms = (long)(s * 1000);
			break;
		}
		}
	}
	if (c < 0)
		return o.exit;
	if (o.optind < argc)
		return fl_cli_usage_error("down", "unexpected argument '%s'", argv[o.optind]);
	char dir[PATH_MAX], err[1024];
	int rc = fl_sys_data("down", data, system, dir, sizeof(dir));
	if (rc)
		return rc;
	json_t *rep = fl_launcher_down(dir, wait_ms, err, sizeof(err));
	if (!rep) {
		fprintf(stderr, "faultline down: %s\n", err);
		return FL_EXIT_INFRA;
	}
	rc = FL_EXIT_OK;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(rep, "services"), k, v) {
		json_t *code = json_object_get(v, "exit");
		bool attached = json_object_get(v, "pid") == NULL;
		if (!attached && (!json_is_integer(code) || json_integer_value(code) != 0))
			rc = FL_EXIT_FAIL;
		if (!json)
			printf("  %-14s pid %-7lld %s\n", k, (long long)fl_json_int(v, "pid", 0),
			       fl_json_str(v, "status", "?"));
	}
	json_t *p = json_object_get(rep, "proxy");
	if (p && !json)
		printf("  %-14s pid %-7lld %s\n", "proxy", (long long)fl_json_int(p, "pid", 0),
		       fl_json_str(p, "status", "?"));
	if (json) {
		char *s = json_dumps(rep, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
	}
	json_decref(rep);
	return rc;
}

const struct fl_command fl_cmd_down = {
	.name = "down",
	.summary = "stop the system under test and report each exit",
	.help = help,
	.order = 41,
	.run = cmd_down,
};
