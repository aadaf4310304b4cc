/* faultline ref: start, inspect and stop the reference transfer system. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/command.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "launcher/launcher.h"
#include "runner/runner.h"

static const char usage[] =
	"Usage: faultline ref up [--bug NAME]... [--seed N] [--data DIR] [--fresh] [--direct] [--json]\n"
	"                        [-- TRANSFERD-ARGS...]\n"
	"       faultline ref status [--data DIR] [--json]\n"
	"       faultline ref logs [SERVICE] [--data DIR]\n"
	"       faultline ref down [--data DIR] [--json]\n"
	"       faultline ref restart SERVICE [--data DIR] [-- TRANSFERD-ARGS...]\n"
	"       faultline ref kill|term|pause|resume SERVICE [--data DIR]\n"
	"\n"
	"The reference transfer system: membership, money, banking, extbank,\n"
	"remittance, query and gateway, one transferd process each, on loopback,\n"
	"with a fault-injector link (faultline proxy) on every service-to-service\n"
	"edge. `up` waits until every service passes /startupz and /readyz and\n"
	"writes DATA/topology.json (service URLs, links with their listen and\n"
	"upstream addresses, the proxy API URL, pids, data dirs, logs); scenarios\n"
	"read it through fl.ref.system(). `down` sends SIGTERM to every process and\n"
	"reports how each exited (exit 1 unless all exited 0).\n"
	"\n"
	"  --bug NAME    switch on a planted bug (repeatable): no-refund,\n"
	"                refund-on-unknown, non-idempotent-credit,\n"
	"                internal-no-compensation, no-saga-deadline,\n"
	"                breaker-never-opens, breaker-stuck-open,\n"
	"                breaker-halfopen-flood, liveness-checks-deps,\n"
	"                ready-while-draining, drop-inflight-on-sigterm,\n"
	"                query-increases-only\n"
	"  --seed N      seed for the simulated bank's chaos draws\n"
	"  --data DIR    data directory (default $FL_REF_DATA, $FL_REF, else\n"
	"                /tmp/faultline-ref-UID)\n"
	"  --fresh       start from empty databases (removes the earlier ones in DIR)\n"
	"  --direct      no fault-injector links: services call each other directly\n"
	"  --json        print the topology (or the down report) as JSON\n"
	"  -- ARGS       passed to every transferd (e.g. -- --saga-deadline 2s)\n"
	"\n"
	"The system is the reference topology (transfer-system/topology.lua, built\n"
	"into faultline; see docs/topology.md) started by the launcher, as\n"
	"'faultline up' starts any topology, kept until 'ref down'.\n"
	"\n"
	"Environment: TRANSFERD (path of transferd; default: next to faultline),\n"
	"FL_REF_TOPOLOGY (another topology file given the same options).\n";

static int find_self(char *out, size_t n)
{
	ssize_t k = readlink("/proc/self/exe", out, n - 1);
	if (k <= 0)
		return -1;
	out[k] = 0;
	return 0;
}

static void find_transferd(char *out, size_t n)
{
	const char *e = getenv("TRANSFERD");
	if (e && *e) {
		snprintf(out, n, "%s", e);
		return;
	}
	char self[PATH_MAX];
	if (find_self(self, sizeof(self)) == 0) {
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(out, n, "%.*s/transferd", (int)(n - 16), self);
	} else
		snprintf(out, n, "transferd");
}

static int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
	return s ? 0 : -1;
}

static int probe(const char *url, const char *path)
{
	char u[300];
	snprintf(u, sizeof(u), "%s%s", url, path);
	struct fl_http_request req = { .url = u, .timeout_ms = 1000, .connect_timeout_ms = 500 };
	struct fl_http_response *r = NULL;
	int st = 0;
	if (fl_http_fetch(&req, &r) == 0 && r && !r->err)
		st = (int)r->status;
	fl_http_response_free(r);
	return st;
}

/* The reference topology (built in, or $FL_REF_TOPOLOGY) evaluated with
 * up's options: transferd, bugs, seed, extra arguments, direct. */
static int ref_model(const struct fl_ref_up_opts *o, bool direct, json_t **model, char *err,
		     size_t errlen)
{
	json_t *p = json_pack("{s:s, s:b, s:[], s:[]}", "transferd", o->transferd, "direct", direct, "bugs",
			      "args");
	for (int i = 0; i < o->nbugs; i++)
		json_array_append_new(json_object_get(p, "bugs"), json_string(o->bugs[i]));
	for (int i = 0; i < o->nextra; i++)
		json_array_append_new(json_object_get(p, "args"), json_string(o->extra[i]));
	if (o->seeded)
		json_object_set_new(p, "seed", json_integer((json_int_t)o->seed));
	const char *file = getenv("FL_REF_TOPOLOGY");
	char cwd[PATH_MAX];
	int rc = file && *file ? fl_runner_topology_load(file, p, model, err, errlen)
			       : fl_runner_topology_builtin("faultline.ref.topology", getcwd(cwd, sizeof(cwd)) ? cwd : ".",
							    p, model, err, errlen);
	json_decref(p);
	return rc;
}

static int do_up(int argc, char **argv, const char *data)
{
	const char *bugs[32];
	int nbugs = 0;
	struct fl_ref_up_opts o = { .data = data };
	bool json = false, direct = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			o.extra = (const char *const *)argv + i + 1;
			o.nextra = argc - i - 1;
			break;
		} else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--direct") == 0)
			direct = true;
		else if (strcmp(argv[i], "--fresh") == 0)
			o.fresh = true;
		else if (strcmp(argv[i], "--bug") == 0 && i + 1 < argc) {
			if (nbugs >= 32)
				return fl_cli_usage_error("ref", "too many --bug");
			bugs[nbugs++] = argv[++i];
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			char *end;
			o.seed = strtoull(argv[++i], &end, 10);
			if (*end)
				return fl_cli_usage_error("ref", "--seed wants a number, got '%s'", argv[i]);
			o.seeded = true;
		} else if (strcmp(argv[i], "--data") == 0) {
			i++;
		} else
			return fl_cli_usage_error("ref", "unexpected argument '%s'", argv[i]);
	}
	static const char *const known[] = { "no-refund", "refund-on-unknown", "non-idempotent-credit",
					     "internal-no-compensation", "no-saga-deadline",
					     "breaker-never-opens", "breaker-stuck-open",
					     "breaker-halfopen-flood", "liveness-checks-deps",
					     "ready-while-draining", "drop-inflight-on-sigterm",
					     "query-increases-only", NULL };
	for (int i = 0; i < nbugs; i++) {
		bool ok = false;
		for (int k = 0; known[k]; k++)
			ok |= strcmp(known[k], bugs[i]) == 0;
		if (!ok)
			return fl_cli_usage_error("ref", "unknown bug '%s' (see 'faultline ref --help')", bugs[i]);
	}
	o.bugs = bugs;
	o.nbugs = nbugs;
	char transferd[PATH_MAX], self[PATH_MAX];
	find_transferd(transferd, sizeof(transferd));
	if (access(transferd, X_OK) != 0) {
		fprintf(stderr, "faultline ref: transferd not found at %s (build it with 'make', or set TRANSFERD)\n",
			transferd);
		return FL_EXIT_INFRA;
	}
	o.transferd = transferd;
	bool have_proxy = fl_command_find("proxy") != NULL;
	if (!direct && have_proxy && find_self(self, sizeof(self)) == 0)
		o.faultline = self;
	json_t *t = NULL, *model = NULL;
	char err[4096];
	int rc = ref_model(&o, direct || !o.faultline, &model, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline ref up: %s\n", err);
		return FL_EXIT_USAGE;
	}
	rc = fl_ref_up(&o, model, &t, err, sizeof(err));
	json_decref(model);
	if (rc) {
		fprintf(stderr, "faultline ref up: %s\n", err);
		return rc == FL_EEXIST ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	if (json) {
		print_json(t);
	} else {
		printf("reference system up in %lld ms (data %s)%s\n",
		       (long long)fl_json_int(t, "startup_ms", 0), fl_json_str(t, "data", ""),
		       o.faultline ? "" : (have_proxy ? "; direct edges (--direct)" : "; direct edges (faultline proxy not available)"));
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(t, "services"), k, v)
			printf("  %-11s %-24s pid %lld\n", k, fl_json_str(v, "url", ""),
			       (long long)fl_json_int(v, "pid", 0));
		if (json_is_object(json_object_get(t, "proxy")))
			printf("  proxy API   %s (%zu links)\n", fl_json_str(json_object_get(t, "proxy"), "api", ""),
			       json_object_size(json_object_get(t, "links")));
		if (nbugs) {
			printf("  planted bugs:");
			for (int i = 0; i < nbugs; i++)
				printf(" %s", bugs[i]);
			printf("\n");
		}
	}
	json_decref(t);
	return FL_EXIT_OK;
}

static int do_status(int argc, char **argv, const char *data)
{
	bool json = false;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			json = true;
	char err[1024];
	json_t *t = fl_ref_load(data, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "faultline ref status: %s\n", err);
		return FL_EXIT_INFRA;
	}
	int rc = FL_EXIT_OK;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t, "services"), k, v) {
		pid_t pid = (pid_t)fl_json_int(v, "pid", 0);
		bool alive = pid > 0 && kill(pid, 0) == 0;
		int ready = alive ? probe(fl_json_str(v, "url", ""), "/readyz") : 0;
		json_object_set_new(v, "alive", json_boolean(alive));
		json_object_set_new(v, "ready", json_boolean(ready == 200));
		if (!alive || ready != 200)
			rc = FL_EXIT_FAIL;
		if (!json)
			printf("  %-11s %-24s pid %-7lld %s\n", k, fl_json_str(v, "url", ""), (long long)pid,
			       !alive ? "DOWN" : ready == 200 ? "ready" : ready ? "not ready" : "not answering");
	}
	if (json)
		print_json(t);
	else if (json_is_object(json_object_get(t, "proxy")))
		printf("  proxy API   %s, links: %zu\n", fl_json_str(json_object_get(t, "proxy"), "api", ""),
		       json_object_size(json_object_get(t, "links")));
	json_decref(t);
	return rc;
}

static int do_logs(int argc, char **argv, const char *data)
{
	const char *only = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0)
			i++;
		else if (argv[i][0] != '-')
			only = argv[i];
	}
	char err[1024];
	json_t *t = fl_ref_load(data, err, sizeof(err));
	if (!t) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/topology.down.json", data);
		t = fl_json_load_file(path, NULL, 0);
		if (!t) {
			fprintf(stderr, "faultline ref logs: %s\n", err);
			return FL_EXIT_INFRA;
		}
	}
	int found = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t, "services"), k, v) {
		if (only && strcmp(only, k) != 0)
			continue;
		found++;
		FILE *f = fopen(fl_json_str(v, "log", ""), "r");
		if (!f)
			continue;
		char line[8192];
		while (fgets(line, sizeof(line), f)) {
			if (only)
				fputs(line, stdout);
			else
				printf("%-10s | %s", k, line);
		}
		fclose(f);
	}
	json_decref(t);
	if (only && !found)
		return fl_cli_usage_error("ref", "no service '%s'", only);
	return FL_EXIT_OK;
}

static int do_down(int argc, char **argv, const char *data)
{
	bool json = false;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			json = true;
	char err[1024];
	json_t *rep = fl_ref_down(data, 25000, err, sizeof(err));
	if (!rep) {
		fprintf(stderr, "faultline ref down: %s\n", err);
		return FL_EXIT_INFRA;
	}
	int rc = FL_EXIT_OK;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(rep, "services"), k, v) {
		json_t *code = json_object_get(v, "exit");
		if (!json_is_integer(code) || json_integer_value(code) != 0)
			rc = FL_EXIT_FAIL;
		if (!json)
			printf("  %-11s pid %-7lld %s\n", k, (long long)fl_json_int(v, "pid", 0),
			       fl_json_str(v, "status", "?"));
	}
	json_t *p = json_object_get(rep, "proxy");
	if (p && !json)
		printf("  %-11s pid %-7lld %s\n", "proxy", (long long)fl_json_int(p, "pid", 0),
		       fl_json_str(p, "status", "?"));
	if (json)
		print_json(rep);
	json_decref(rep);
	return rc;
}

static int do_restart(int argc, char **argv, const char *data)
{
	if (argc < 3 || argv[2][0] == '-')
		return fl_cli_usage_error("ref", "restart needs a SERVICE");
	const char *const *extra = NULL;
	int nextra = 0;
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			extra = (const char *const *)argv + i + 1;
			nextra = argc - i - 1;
			break;
		}
	char err[1024];
	int rc = fl_ref_restart(data, argv[2], extra, nextra, true, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline ref restart: %s\n", err);
		return rc == FL_ENOENT ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	printf("%s restarted\n", argv[2]);
	return FL_EXIT_OK;
}

static int do_signal(int argc, char **argv, const char *data, int sig)
{
	if (argc < 3 || argv[2][0] == '-')
		return fl_cli_usage_error("ref", "%s needs a SERVICE", argv[1]);
	char err[1024];
	int rc = fl_ref_signal(data, argv[2], sig, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline ref %s: %s\n", argv[1], err);
		return rc == FL_ENOENT ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	return FL_EXIT_OK;
}

static int cmd_ref(int argc, char **argv)
{
	if (fl_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc < 2)
		return fl_cli_usage_error("ref", "missing subcommand (up, status, logs, down, restart, kill, term, pause, resume)");
	const char *data = fl_ref_default_data();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--data") == 0) {
			if (i + 1 >= argc)
				return fl_cli_usage_error("ref", "--data needs a directory");
			data = argv[i + 1];
		}
	}
	const char *sub = argv[1];
	if (strcmp(sub, "up") == 0)
		return do_up(argc, argv, data);
	if (strcmp(sub, "status") == 0)
		return do_status(argc, argv, data);
	if (strcmp(sub, "logs") == 0)
		return do_logs(argc, argv, data);
	if (strcmp(sub, "down") == 0)
		return do_down(argc, argv, data);
	if (strcmp(sub, "restart") == 0)
		return do_restart(argc, argv, data);
	if (strcmp(sub, "kill") == 0)
		return do_signal(argc, argv, data, SIGKILL);
	if (strcmp(sub, "term") == 0)
		return do_signal(argc, argv, data, SIGTERM);
	if (strcmp(sub, "pause") == 0)
		return do_signal(argc, argv, data, SIGSTOP);
	if (strcmp(sub, "resume") == 0)
		return do_signal(argc, argv, data, SIGCONT);
	return fl_cli_usage_error("ref", "unknown subcommand '%s'", sub);
}

const struct fl_command fl_cmd_ref = {
	.name = "ref",
	.summary = "start, inspect and stop the reference transfer system",
	.usage = usage,
	.order = 60,
	.run = cmd_ref,
};
