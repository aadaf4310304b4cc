/* Shared by the commands on a running system under test (cli/system.h). */
#include "cli/system.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/json.h"
#include "launcher/launcher.h"

int fl_sys_data(const char *cmd, const char *data, const char *system, char *out, size_t n)
{
	if (data) {
		snprintf(out, n, "%s", data);
		return 0;
	}
	if (system || getenv("FL_UP_DATA")) {
		fl_launcher_default_data(system ? system : "", out, n);
		return 0;
	}
	char root[64];
	snprintf(root, sizeof(root), "/tmp/faultline-up-%u", (unsigned)getuid());
	DIR *d = opendir(root);
	int found = 0;
	char names[512] = "";
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%.200s/topology.json", root, e->d_name);
			if (access(p, F_OK) != 0)
				continue;
			if (!found++)
				snprintf(out, n, "%s/%.200s", root, e->d_name);
			size_t used = strlen(names);
			snprintf(names + used, sizeof(names) - used, " %.60s", e->d_name);
		}
		closedir(d);
	}
	if (found == 1)
		return 0;
	if (found == 0)
		fprintf(stderr,
			"faultline %s: no running system (start one with 'faultline up FILE', or "
			"give --data DIR)\n",
			cmd);
	else
		fprintf(stderr,
			"faultline %s: several systems are running (%s ); say which with --system "
			"NAME or --data DIR\n",
			cmd, names + 1);
	return FL_EXIT_USAGE;
}

static const struct fl_opt signal_opts[] = {
	FL_SYS_OPTS,
	FL_OPT_HELP,
	FL_OPT_END,
};

int fl_sys_signal_command(const struct fl_command *cmd, int argc, char **argv, int sig)
{
	const char *data = NULL, *system = NULL;
	struct fl_opts o;
	int c;
	fl_opts_init(&o, cmd, signal_opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		if (c == FL_SYS_DATA)
			data = o.arg;
		else if (c == FL_SYS_SYSTEM)
			system = o.arg;
	}
	if (c < 0)
		return o.exit;
	if (o.optind != argc - 1)
		return fl_cli_usage_error(cmd->name, "needs one SERVICE");
	char dir[PATH_MAX], err[512];
	int rc = fl_sys_data(cmd->name, data, system, dir, sizeof(dir));
	if (rc)
		return rc;
	rc = fl_launcher_signal(dir, argv[o.optind], sig, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline %s: %s\n", cmd->name, err);
		return rc == FL_ENOENT ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	return FL_EXIT_OK;
}

int fl_sys_print_hosts(const json_t *status, bool print)
{
	int rc = FL_EXIT_OK;
	json_t *net = json_object_get(status, "netns");
	if (json_is_object(net) && print)
		printf("  hosts: bridge %s, %s\n", fl_json_str(net, "bridge", ""),
		       fl_json_str(net, "subnet", ""));
	const char *k;
	json_t *h;
	json_object_foreach(json_object_get(net, "hosts"), k, h) {
		json_t *a = json_object_get(h, "agent");
		const char *state = fl_json_str(a, "state", "no agent");
		if (strcmp(state, "ready") != 0)
			rc = FL_EXIT_FAIL;
		if (print)
			printf("    %-12s %-16s agent %-26s pid %-7lld %s\n", k,
			       fl_json_str(h, "addr", ""), fl_json_str(a, "url", "(none)"),
			       (long long)fl_json_int(a, "pid", 0), state);
	}
	return rc;
}
