/* faultline down: stop a system started by `faultline up` and report how
 * each process exited. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/system.h"
#include "core/json.h"
#include "launcher/launcher.h"

enum { O_JSON = FL_OPT_LONG, O_WAIT, O_SWEEP };

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	{ "wait", O_WAIT, "S", "wait up to S seconds for each process to exit (default 20)" },
	{ "sweep", O_SWEEP, NULL,
	  "stop no system: remove the hosts of --netns systems whose\n"
	  "launcher, warden and driver are all gone (root)" },
	{ "json", O_JSON, NULL, "print the report as JSON" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline down [--data DIR | --system NAME] [--wait S] [--json]\n"
	  "       faultline down --sweep [--json]\n"
	  "\n"
	  "Stop the running system: end its lease, SIGTERM every service (the\n"
	  "callers before what they call), then the fault injector, and the agents\n"
	  "and hosts of a --netns system, and report how each exited. Exit 0 when\n"
	  "every process exited 0, 1 otherwise (a service killed by a signal,\n"
	  "exiting non-zero, or still running after --wait).\n"
	  "\n"
	  "--sweep stops the orphans of --netns systems instead: every system whose\n"
	  "launcher, warden and driver are all dead (a kept one: whose data\n"
	  "directory no longer records it) is stopped, and its namespaces, veths\n"
	  "and bridge are removed; live systems and names faultline did not record\n"
	  "are not touched ('up --netns' sweeps the same way first). Exit 0, or 3\n"
	  "when it cannot (not root).\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static void print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
}

/* down --sweep: the orphans of --netns systems. */
static int sweep(bool json)
{
	char err[1024];
	json_t *rep = fl_launcher_sweep(err, sizeof(err));
	if (!rep) {
		fprintf(stderr, "faultline down --sweep: %s\n", err);
		return FL_EXIT_INFRA;
	}
	if (json)
		print_json(rep);
	else {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(rep, "swept"), i, v)
			printf("swept %-12s data %s: %zu names removed, %lld processes killed\n",
			       fl_json_str(v, "bridge", ""), fl_json_str(v, "data", "(none)"),
			       json_array_size(json_object_get(v, "removed")),
			       (long long)fl_json_int(v, "killed", 0));
		json_array_foreach(json_object_get(rep, "kept"), i, v)
			printf("kept  %-12s data %s: %s\n", fl_json_str(v, "bridge", ""),
			       fl_json_str(v, "data", "(none)"), fl_json_str(v, "owner", ""));
		if (!json_array_size(json_object_get(rep, "swept")))
			printf("no orphaned hosts\n");
	}
	json_decref(rep);
	return FL_EXIT_OK;
}

/* One process of the report: "  NAME  pid N  status"; false unless it exited 0. */
static bool print_exit(const char *name, const json_t *v, bool json)
{
	json_t *code = json_object_get(v, "exit");
	if (!json)
		printf("  %-14s pid %-7lld %s\n", name, (long long)fl_json_int(v, "pid", 0),
		       fl_json_str(v, "status", "?"));
	return json_is_integer(code) && json_integer_value(code) == 0;
}

static int cmd_down(int argc, char **argv)
{
	const char *data = NULL, *system = NULL;
	bool json = false, do_sweep = false;
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
		case O_SWEEP: do_sweep = true; break;
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
	if (do_sweep && (data || system))
		return fl_cli_usage_error("down", "--sweep stops no system: no --data or --system");
	if (do_sweep)
		return sweep(json);
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
		bool attached = json_object_get(v, "pid") == NULL;
		if (!print_exit(k, v, json) && !attached)
			rc = FL_EXIT_FAIL;
	}
	json_t *p = json_object_get(rep, "proxy");
	if (p)
		print_exit("proxy", p, json);
	json_object_foreach(json_object_get(rep, "agents"), k, v) {
		char name[128];
		snprintf(name, sizeof(name), "agent %s", k);
		if (!print_exit(name, v, json))
			rc = FL_EXIT_FAIL;
	}
	if (json)
		print_json(rep);
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
