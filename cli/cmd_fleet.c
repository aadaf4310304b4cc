/* faultline fleet: many agents at once (docs/agent.md "Fleets"): status,
 * one host fault applied on all or none, heal. The work is fl.fleet's
 * (runner/lua/faultline.fleet.lua, run through fl_runner_call): one home for
 * the all-or-nothing apply and the leases, for the command and scenarios. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/command.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/token.h"
#include "runner/runner.h"

enum {
	O_AGENT = FL_OPT_LONG,
	O_INVENTORY,
	O_TOKEN_FILE,
	O_JSON,
	O_LEASE,
	O_HOLD,
	O_HOLDER,
	O_CACERT,
	O_CERT,
	O_KEY,
	O_INSECURE
};

static const struct fl_opt opts[] = {
	{ "inventory", O_INVENTORY, "FILE",
	  "the agents: one a line, 'URL' or 'NAME URL' ('#' comments)" },
	{ "agent", O_AGENT, "URL", "an agent (repeatable; with or without --inventory)" },
	{ "token-file", O_TOKEN_FILE, "FILE",
	  "the agents' token (else FAULTLINE_TOKEN or\n"
	  "FAULTLINE_PROXY_TOKEN)" },
	{ "cacert", O_CACERT, "FILE", "trust this CA (PEM) for https:// agents" },
	{ "cert", O_CERT, "FILE", "client certificate (PEM) for agents asking mutual TLS" },
	{ "key", O_KEY, "FILE", "its private key (PEM)" },
	{ "insecure", O_INSECURE, NULL, "do not verify the agents' certificates" },
	{ "json", O_JSON, NULL, "status: one JSON document" },
	{ "lease-ms", O_LEASE, "MS",
	  "apply --hold: the controller lease taken on every agent\n"
	  "and renewed every third of it (default 5000)" },
	{ "hold", O_HOLD, NULL,
	  "apply: stay, renewing the lease, until SIGINT/SIGTERM\n"
	  "(then heal) or the fault's TTL; killed, the fleet heals\n"
	  "when the lease lapses" },
	{ "holder", O_HOLDER, "NAME", "the lease holder's name (default faultline-fleet-PID)" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline fleet status [--json] AGENTS\n"
	  "       faultline fleet apply SPEC [--hold [--lease-ms MS]] AGENTS\n"
	  "       faultline fleet heal AGENTS\n"
	  "AGENTS: --inventory FILE and/or --agent URL... [--token-file FILE]\n"
	  "        [--cacert FILE] [--cert FILE --key FILE] [--insecure]\n"
	  "\n"
	  "status  each agent: reachable, version, host faults with their remaining\n"
	  "        TTL, lease holders. Exit 0 when every agent answers, 3 otherwise.\n"
	  "apply   the host fault SPEC (JSON, docs/agent.md; ttl_ms required) on every\n"
	  "        agent, or on none: when one refuses, the others' are deleted (exit 1;\n"
	  "        3 when an agent is unreachable). Prints 'NAME ID' per agent.\n"
	  "heal    delete every host fault on every agent.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static volatile int interrupted;
static void on_stop(int sig)
{
	(void)sig;
	interrupted++;
}

/* The --lease-ms value, or a usage error. */
static int parse_lease(struct fl_opts *o, json_t *args)
{
	char *end;
	long long ms = strtoll(o->arg, &end, 10);
	if (!*o->arg || *end || ms < 100 || ms > 600000)
		return fl_opts_error(o, "must be 100..600000 ms: '%s'", o->arg);
	json_object_set_new(args, "lease_ms", json_integer(ms));
	return 0;
}

/* The operation and its SPEC from the words after the options into args. */
static int parse_op(int argc, char **argv, int optind, json_t *args)
{
	const char *sub = optind < argc ? argv[optind] : NULL;
	int nops = argc - optind - 1;
	if (!sub)
		return fl_cli_usage_error("fleet", "which: status, apply or heal?");
	bool known = (strcmp(sub, "status") == 0 || strcmp(sub, "heal") == 0) && nops == 0;
	if (strcmp(sub, "apply") == 0 && nops == 1) {
		char err[300] = "";
		const char *text = argv[optind + 1];
		json_t *spec = fl_json_parse(text, strlen(text), err, sizeof(err));
		if (!json_is_object(spec)) {
			json_decref(spec);
			return fl_cli_usage_error("fleet", "apply: SPEC is not a JSON object%s%s",
						  *err ? ": " : "", err);
		}
		json_object_set_new(args, "spec", spec);
		known = true;
	}
	if (!known)
		return fl_cli_usage_error("fleet", "unknown subcommand or arguments: '%s'", sub);
	json_object_set_new(args, "op", json_string(sub));
	return 0;
}

static int exit_code(const json_t *result)
{
	const char *e = fl_json_str(result, "exit", "");
	if (strcmp(e, "ok") == 0)
		return FL_EXIT_OK;
	if (strcmp(e, "fail") == 0)
		return FL_EXIT_FAIL;
	if (strcmp(e, "usage") == 0)
		return FL_EXIT_USAGE;
	return FL_EXIT_INFRA;
}

static int cmd_fleet(int argc, char **argv)
{
	struct fl_opts o;
	const char *token_file = NULL;
	char holder[64], err[2048];
	int c, rc = 0;
	json_t *args = json_object(), *agents = json_array(), *result = NULL;
	char *token = NULL;
	snprintf(holder, sizeof(holder), "faultline-fleet-%d", (int)getpid());
	json_object_set_new(args, "lease_ms", json_integer(5000));
	fl_opts_init(&o, &fl_cmd_fleet, opts, argc, argv);
	while (!rc && (c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case O_INVENTORY: json_object_set_new(args, "inventory", json_string(o.arg)); break;
		case O_AGENT: json_array_append_new(agents, json_string(o.arg)); break;
		case O_TOKEN_FILE: token_file = o.arg; break;
		case O_JSON: json_object_set_new(args, "json", json_true()); break;
		case O_CACERT: json_object_set_new(args, "cacert", json_string(o.arg)); break;
		case O_CERT: json_object_set_new(args, "cert", json_string(o.arg)); break;
		case O_KEY: json_object_set_new(args, "key", json_string(o.arg)); break;
		case O_INSECURE: json_object_set_new(args, "insecure", json_true()); break;
		case O_HOLD: json_object_set_new(args, "hold", json_true()); break;
		case O_HOLDER: snprintf(holder, sizeof(holder), "%s", o.arg); break;
		case O_LEASE: rc = parse_lease(&o, args); break;
		}
	}
	if (!rc && c < 0)
		rc = o.exit == FL_EXIT_OK ? -1 : o.exit;
	if (!rc)
		rc = parse_op(argc, argv, o.optind, args);
	if (!rc && !json_object_get(args, "inventory") && !json_array_size(agents))
		rc = fl_cli_usage_error("fleet", "no agents: give --inventory FILE or --agent URL");
	if (!rc && fl_token_load(token_file, &token, err, sizeof(err))) {
		fprintf(stderr, "faultline fleet: %s\n", err);
		rc = FL_EXIT_USAGE;
	}
	if (rc)
		goto out;
	json_object_set_new(args, "agents", json_incref(agents));
	json_object_set_new(args, "holder", json_string(holder));
	if (token)
		json_object_set_new(args, "token", json_string(token));
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct fl_run_opts ro = { .interrupt = &interrupted };
	if (fl_runner_call("faultline.fleet", "_cli", args, &ro, &result, err, sizeof(err))) {
		fprintf(stderr, "faultline fleet: %s\n", err);
		rc = FL_EXIT_INFRA;
		goto out;
	}
	rc = exit_code(result);
out:
	json_decref(result);
	json_decref(agents);
	json_decref(args);
	free(token);
	return rc < 0 ? FL_EXIT_OK : rc;
}

const struct fl_command fl_cmd_fleet = {
	.name = "fleet",
	.summary = "many agents at once: status, a host fault on all or none, heal",
	.help = help,
	.order = 22,
	.run = cmd_fleet,
};
