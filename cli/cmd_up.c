/* faultline up FILE: start a system under test from its topology file. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/system.h"
#include "core/errors.h"
#include "core/json.h"
#include "launcher/launcher.h"
#include "runner/runner.h"

enum { O_DATA = FL_OPT_LONG, O_KEEP, O_SEED, O_FRESH, O_LEASE, O_DRIVER, O_JSON, O_CHECK, O_NETNS };

static const struct fl_opt opts[] = {
	{ "data", O_DATA, "DIR",
	  "data directory: logs, exit records, topology.json, {data}\n"
	  "(default $FL_UP_DATA, else /tmp/faultline-up-UID/NAME)" },
	{ "fresh", O_FRESH, NULL, "empty the data directory first (only one made by up)" },
	{ "seed", O_SEED, "N",
	  "given to the services as {seed} and FL_SEED, and to the\n"
	  "fault injector (its random draws)" },
	{ "keep", O_KEEP, NULL,
	  "detached: the system outlives the process that started it\n"
	  "(no lease; stop it with 'faultline down')" },
	{ "lease", O_LEASE, "S", "stop the system S seconds after its driver dies (default 10)" },
	{ "driver", O_DRIVER, "PID",
	  "the driver whose death ends the lease (default: the\n"
	  "process that ran 'faultline up', its parent)" },
	{ "netns", O_NETNS, NULL,
	  "each service on a host of its own (root): a network namespace\n"
	  "faultlineN-NAME, its address on a bridge faultlineN in\n"
	  "198.18.0.0/15, an agent for host faults on ADDR:8474; all\n"
	  "removed by 'down' or the lease, and the orphans of dead\n"
	  "systems swept first (as 'down --sweep'). Without root:\n"
	  "loopback, said on stderr" },
	{ "check", O_CHECK, NULL, "check the file (keys, names, calls, cycles), start nothing" },
	{ "json", O_JSON, NULL, "print the running system (topology.json) as JSON" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline up FILE [--data DIR] [--fresh] [--seed N] [--keep | --lease S]\n"
	  "                         [--netns] [--json] [--check]\n"
	  "\n"
	  "Start the system described by the topology file FILE (Lua returning\n"
	  "{ name =, services = { ... } }, see docs/topology.md): each service gets\n"
	  "a port from the OS, every call A -> B goes through a fault-injector link\n"
	  "'A->B' (faultline proxy), and services start in dependency order, each\n"
	  "layer ready before the next starts. Returns once every service is ready,\n"
	  "or fails naming the service and the last lines of its log (everything\n"
	  "started is then stopped). Attached services (attach = URL) are not started.\n"
	  "\n"
	  "A lease guards against orphans: when the driver (the process that ran\n"
	  "'faultline up') dies, the system is stopped after the lease, unless\n"
	  "--keep. Then 'faultline status', 'logs', 'kill', 'term', 'pause',\n"
	  "'resume', 'restart' and 'down' act on it.\n"
	  "\n"
	  "With --netns the services are separate hosts: {host} and {url:X} are\n"
	  "their own addresses (a service must listen on {host}), links listen on\n"
	  "the bridge's address, and each host's agent (token in\n"
	  "DATA/run/agent.token) applies partitions, loss and bandwidth limits\n"
	  "inside it (docs/agent.md).\n"
	  "\n",
	  opts },
	{ "\n"
	  "Exit 0 when up, 2 for a bad file or a system already running in DIR,\n"
	  "3 when a service does not start or become ready.\n",
	  NULL },
	{ NULL, NULL },
};

static int self_path(char *out, size_t n)
{
	ssize_t k = readlink("/proc/self/exe", out, n - 1);
	if (k <= 0)
		return -1;
	out[k] = 0;
	return 0;
}

static void print_up(const json_t *t)
{
	printf("%s up in %lld ms (data %s)\n", fl_json_str(t, "name", "system"),
	       (long long)fl_json_int(t, "startup_ms", 0), fl_json_str(t, "data", ""));
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(t, "order"), i, n) {
		json_t *v = json_object_get(json_object_get(t, "services"), json_string_value(n));
		if (json_object_get(v, "attach"))
			printf("  %-14s %-28s attached\n", json_string_value(n),
			       fl_json_str(v, "url", ""));
		else
			printf("  %-14s %-28s pid %lld\n", json_string_value(n),
			       fl_json_str(v, "url", ""), (long long)fl_json_int(v, "pid", 0));
	}
	json_t *net = json_object_get(t, "netns");
	if (json_is_object(net)) {
		printf("  hosts: bridge %s, %s, gateway %s; agents' token in %s\n",
		       fl_json_str(net, "bridge", ""), fl_json_str(net, "subnet", ""),
		       fl_json_str(net, "gateway", ""), fl_json_str(net, "token_file", "(none)"));
		const char *hk;
		json_t *h;
		json_object_foreach(json_object_get(net, "hosts"), hk, h)
			printf("    %-14s netns %-24s agent %s\n", hk, fl_json_str(h, "ns", ""),
			       fl_json_str(json_object_get(h, "agent"), "url", "(none)"));
	}
	json_t *p = json_object_get(t, "proxy");
	if (json_is_object(p))
		printf("  %-14s %-28s %zu links\n", "proxy API", fl_json_str(p, "api", ""),
		       json_object_size(json_object_get(t, "links")));
	const char *k;
	json_t *l;
	json_object_foreach(json_object_get(t, "links"), k, l)
		printf("    %-24s %s -> %s\n", k, fl_json_str(l, "listen", ""),
		       fl_json_str(l, "upstream", ""));
	json_t *w = json_object_get(t, "warden");
	if (json_is_object(w))
		printf("  lease: stopped %lld s after pid %lld ends ('faultline down' to stop it "
		       "now)\n",
		       (long long)fl_json_int(w, "lease_ms", 0) / 1000,
		       (long long)fl_json_int(w, "driver", 0));
	else
		printf("  kept: runs until 'faultline down'\n");
}

static int cmd_up(int argc, char **argv)
{
	const char *data = NULL, *seed = NULL;
	struct fl_up_opts uo = { .driver = getppid() };
	bool json = false, check = false;
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_up, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		char *end;
		switch (c) {
		case O_DATA: data = o.arg; break;
		case O_FRESH: uo.fresh = true; break;
		case O_KEEP: uo.keep = true; break;
		case O_JSON: json = true; break;
		case O_CHECK: check = true; break;
		case O_NETNS: uo.netns = true; break;
		case O_SEED:
			strtoull(o.arg, &end, 10);
			if (!*o.arg || *end)
				return fl_opts_error(&o, "not a number: '%s'", o.arg);
			seed = o.arg;
			break;
		case O_LEASE: {
			double s = strtod(o.arg, &end);
			if (!*o.arg || *end || s <= 0 || s > 86400)
				return fl_opts_error(&o, "seconds in (0, 86400], got '%s'", o.arg);
			uo.lease_ms = (long)(s * 1000);
			break;
		}
		case O_DRIVER:
			uo.driver = (pid_t)strtol(o.arg, &end, 10);
			if (!*o.arg || *end || uo.driver <= 0)
				return fl_opts_error(&o, "not a pid: '%s'", o.arg);
			break;
		}
	}
	if (c < 0)
		return o.exit;
	if (o.optind != argc - 1)
		return fl_cli_usage_error("up", "needs one topology FILE");
	json_t *model = NULL, *state = NULL;
	char err[4096], dir[PATH_MAX], self[PATH_MAX];
	if (fl_runner_topology_load(argv[o.optind], NULL, &model, err, sizeof(err)) != 0) {
		fprintf(stderr, "faultline up: %s\n", err);
		return FL_EXIT_USAGE;
	}
	int rc = FL_EXIT_OK;
	if (check) {
		if (fl_launcher_model_check(model, err, sizeof(err)) != 0) {
			fprintf(stderr, "faultline up: %s\n", err);
			rc = FL_EXIT_USAGE;
		} else
			printf("%s: %zu services, ok\n", argv[o.optind],
			       json_array_size(json_object_get(model, "services")));
		json_decref(model);
		return rc;
	}
	uo.data = data ? data
		       : fl_launcher_default_data(fl_json_str(model, "name", "system"), dir,
						  sizeof(dir));
	uo.faultline = self_path(self, sizeof(self)) == 0 ? self : NULL;
	uo.seed = seed;
	int lrc = fl_launcher_up(model, &uo, &state, err, sizeof(err));
	json_decref(model);
	if (lrc) {
		fprintf(stderr, "faultline up: %s%s", err,
			err[0] && err[strlen(err) - 1] == '\n' ? "" : "\n");
		return lrc == FL_EINVAL || lrc == FL_EEXIST ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	if (json_is_string(json_object_get(state, "netns_fallback")))
		fprintf(stderr, "faultline up: --netns: %s; the services run on loopback\n",
			json_string_value(json_object_get(state, "netns_fallback")));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(state, "netns_swept"), i, v)
		fprintf(stderr,
			"faultline up: --netns: swept the orphaned hosts of %s (data %s): %zu names "
			"removed\n",
			fl_json_str(v, "bridge", ""), fl_json_str(v, "data", "(none)"),
			json_array_size(json_object_get(v, "removed")));
	if (json) {
		char *s = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
	} else
		print_up(state);
	json_decref(state);
	return rc;
}

const struct fl_command fl_cmd_up = {
	.name = "up",
	.summary = "start a system under test from its topology file",
	.help = help,
	.order = 40,
	.run = cmd_up,
};
