/* faultline logs [SERVICE]: the logs of the system under test. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/system.h"
#include "core/json.h"
#include "launcher/launcher.h"

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline logs [SERVICE] [--data DIR | --system NAME]\n"
	  "\n"
	  "Print SERVICE's log (stdout and stderr of every run of it), or every\n"
	  "service's log with the service name before each line. 'proxy' is the\n"
	  "fault injector's. Works after 'faultline down' too.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int print_log(const char *path, const char *prefix)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[8192];
	while (fgets(line, sizeof(line), f)) {
		if (prefix)
			printf("%-14s | %s", prefix, line);
		else
			fputs(line, stdout);
	}
	fclose(f);
	return 0;
}

static int cmd_logs(int argc, char **argv)
{
	const char *data = NULL, *system = NULL;
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_logs, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		if (c == FL_SYS_DATA)
			data = o.arg;
		else if (c == FL_SYS_SYSTEM)
			system = o.arg;
	}
	if (c < 0)
		return o.exit;
	if (o.optind < argc - 1)
		return fl_cli_usage_error("logs", "at most one SERVICE");
	const char *only = o.optind < argc ? argv[o.optind] : NULL;
	char dir[PATH_MAX], err[1024];
	int rc = fl_sys_data("logs", data, system, dir, sizeof(dir));
	if (rc)
		return rc;
	json_t *t = fl_launcher_load(dir, err, sizeof(err));
	if (!t) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/topology.down.json", dir);
		if (!(t = fl_json_load_file(path, NULL, 0))) {
			fprintf(stderr, "faultline logs: %s\n", err);
			return FL_EXIT_USAGE;
		}
	}
	int found = 0;
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(t, "order"), i, n) {
		const char *k = json_string_value(n);
		json_t *v = json_object_get(json_object_get(t, "services"), k);
		if ((only && strcmp(only, k) != 0) || json_object_get(v, "attach"))
			continue;
		found++;
		print_log(fl_json_str(v, "log", ""), only ? NULL : k);
	}
	json_t *p = json_object_get(t, "proxy");
	if (json_is_object(p) && (!only || strcmp(only, "proxy") == 0)) {
		found++;
		print_log(fl_json_str(p, "log", ""), only ? NULL : "proxy");
	}
	json_decref(t);
	if (only && !found)
		return fl_cli_usage_error("logs", "no started service '%s'", only);
	return FL_EXIT_OK;
}

const struct fl_command fl_cmd_logs = {
	.name = "logs",
	.summary = "the logs of the system under test",
	.help = help,
	.order = 43,
	.run = cmd_logs,
};
