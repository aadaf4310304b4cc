/* faultline status: each service of the running system, alive and ready. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/system.h"
#include "core/json.h"
#include "launcher/launcher.h"

enum { O_JSON = FL_OPT_LONG };

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	{ "json", O_JSON, NULL,
	  "print the system with each service's (and agent's) alive,\n"
	  "ready, state and last_exit as JSON" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline status [--data DIR | --system NAME] [--json]\n"
	  "\n"
	  "Check every service of the running system once: its process alive, and\n"
	  "its readiness (the topology's ready check); for a --netns system, each\n"
	  "host's agent too (alive, GET /healthz). Exit 0 when all are ready, 1\n"
	  "when one is down or not ready, 2 when no system runs.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_status(int argc, char **argv)
{
	const char *data = NULL, *system = NULL;
	bool json = false;
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_status, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case FL_SYS_DATA: data = o.arg; break;
		case FL_SYS_SYSTEM: system = o.arg; break;
		case O_JSON: json = true; break;
		}
	}
	if (c < 0)
		return o.exit;
	if (o.optind < argc)
		return fl_cli_usage_error("status", "unexpected argument '%s'", argv[o.optind]);
	char dir[PATH_MAX], err[1024];
	int rc = fl_sys_data("status", data, system, dir, sizeof(dir));
	if (rc)
		return rc;
	json_t *t = fl_launcher_status(dir, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "faultline status: %s\n", err);
		return FL_EXIT_USAGE;
	}
	rc = FL_EXIT_OK;
	if (!json)
		printf("%s (data %s)\n", fl_json_str(t, "name", "system"),
		       fl_json_str(t, "data", ""));
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(t, "order"), i, n) {
		json_t *v = json_object_get(json_object_get(t, "services"), json_string_value(n));
		const char *state = fl_json_str(v, "state", "?");
		if (strcmp(state, "ready") != 0 && strcmp(state, "attached") != 0)
			rc = FL_EXIT_FAIL;
		if (!json)
			printf("  %-14s %-28s pid %-7lld %s\n", json_string_value(n),
			       fl_json_str(v, "url", ""), (long long)fl_json_int(v, "pid", 0),
			       state);
	}
	if (fl_sys_print_hosts(t, !json) != FL_EXIT_OK)
		rc = FL_EXIT_FAIL;
	if (json) {
		char *s = json_dumps(t, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
	}
	json_decref(t);
	return rc;
}

const struct fl_command fl_cmd_status = {
	.name = "status",
	.summary = "each service of the system under test: alive, ready",
	.help = help,
	.order = 42,
	.run = cmd_status,
};
