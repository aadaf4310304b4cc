/* faultline ref: start, inspect and stop the reference transfer system. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cli/command.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "cli/system.h"
#include "launcher/launcher.h"
#include "runner/runner.h"

enum { O_BUG = FL_OPT_LONG, O_SEED, O_DATA, O_FRESH, O_DIRECT, O_NETNS, O_JSON, O_LEASE, O_DRIVER };

static const struct fl_opt opts[] = {
	{ "bug", O_BUG, "NAME",
	  "switch on a planted bug (up; repeatable; 'transferd\n"
	  "--list-bugs' names them, transfer-system/README.md)" },
	{ "seed", O_SEED, "N", "seed for the simulated bank's chaos draws (up)" },
	{ "data", O_DATA, "DIR",
	  "data directory (default $FL_REF_DATA, $FL_REF, else\n"
	  "/tmp/faultline-ref-UID)" },
	{ "fresh", O_FRESH, NULL,
	  "start from empty databases (up; removes the earlier ones in DIR)" },
	{ "direct", O_DIRECT, NULL,
	  "no fault-injector links: services call each other directly (up)" },
	{ "netns", O_NETNS, NULL,
	  "each service a host of its own, as 'up --netns' (up; root;\n"
	  "else loopback, said on stderr): links on the bridge's\n"
	  "address, or with --direct the hosts call each other" },
	{ "lease", O_LEASE, "S",
	  "stop the system S seconds after its driver dies (up;\n"
	  "default: kept until 'ref down')" },
	{ "driver", O_DRIVER, "PID",
	  "with --lease, the driver whose death ends the lease\n"
	  "(default: the process that ran 'faultline ref up')" },
	{ "json", O_JSON, NULL, "print the topology, the status or the down report as JSON" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline ref up [--bug NAME]... [--seed N] [--data DIR] [--fresh] [--direct] [--netns] [--json]\n"
	  "                        [--lease S [--driver PID]] [-- TRANSFERD-ARGS...]\n"
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
	  "\n",
	  opts },
	{ "  -- ARGS                passed to every transferd (e.g. -- --saga-deadline 2s)\n"
	  "\n"
	  "The system is the reference topology (transfer-system/topology.lua, built\n"
	  "into faultline; see docs/topology.md) started by the launcher, as\n"
	  "'faultline up' starts any topology, kept until 'ref down'. With --lease,\n"
	  "a test driver's system is guarded against orphans as 'faultline up's are:\n"
	  "once the driver dies, the launcher's warden stops it S seconds later.\n"
	  "\n"
	  "Environment: TRANSFERD (path of transferd; default: next to faultline),\n"
	  "FL_REF_TOPOLOGY (another topology file given the same options).\n",
	  NULL },
	{ NULL, NULL },
};

/* A ref command line, parsed once for every subcommand. */
struct ref_args {
	const char *sub;     /* "up", "status", ... */
	const char *service; /* the operand after the subcommand, or NULL */
	const char *data;
	const char *bugs[32];
	int nbugs;
	uint64_t seed;
	bool seeded, fresh, direct, netns, json;
	pid_t driver;		  /* --driver, or 0: the parent */
	long lease_ms;		  /* --lease, or 0: kept */
	const char *const *extra; /* after "--" */
	int nextra;
};

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

/* The planted bugs transferd knows (`transferd --list-bugs`, one a line:
 * its list is the one list) into buf; 0, or -1 when it did not run or
 * named none. */
static int list_bugs(const char *transferd, char *buf, size_t n)
{
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execl(transferd, "transferd", "--list-bugs", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	size_t len = 0;
	ssize_t k;
	while (len + 1 < n && (k = read(fd[0], buf + len, n - 1 - len)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		len += (size_t)k;
	}
	buf[len] = 0;
	close(fd[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 && len > 0 ? 0 : -1;
}

/* Whether name is one of the lines of list. */
static bool has_line(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l == n && strncmp(p, name, n) == 0)
			return true;
		p += l + (nl ? 1 : 0);
	}
	return false;
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
	json_t *p = json_pack("{s:s, s:b, s:[], s:[]}", "transferd", o->transferd, "direct", direct,
			      "bugs", "args");
	for (int i = 0; i < o->nbugs; i++)
		json_array_append_new(json_object_get(p, "bugs"), json_string(o->bugs[i]));
	for (int i = 0; i < o->nextra; i++)
		json_array_append_new(json_object_get(p, "args"), json_string(o->extra[i]));
	if (o->seeded)
		json_object_set_new(p, "seed", json_integer((json_int_t)o->seed));
	const char *file = getenv("FL_REF_TOPOLOGY");
	char cwd[PATH_MAX];
	int rc = file && *file ? fl_runner_topology_load(file, p, model, err, errlen)
			       : fl_runner_topology_builtin("faultline.ref.topology",
							    getcwd(cwd, sizeof(cwd)) ? cwd : ".", p,
							    model, err, errlen);
	json_decref(p);
	return rc;
}

static int do_up(const struct ref_args *a)
{
	struct fl_ref_up_opts o = { .data = a->data,
				    .seed = a->seed,
				    .seeded = a->seeded,
				    .fresh = a->fresh,
				    .netns = a->netns,
				    .driver = a->lease_ms > 0
						      ? (a->driver > 0 ? a->driver : getppid())
						      : 0,
				    .lease_ms = a->lease_ms,
				    .extra = a->extra,
				    .nextra = a->nextra };
	const char *const *bugs = a->bugs;
	int nbugs = a->nbugs;
	bool json = a->json, direct = a->direct;
	char transferd[PATH_MAX], self[PATH_MAX];
	find_transferd(transferd, sizeof(transferd));
	if (access(transferd, X_OK) != 0) {
		fprintf(stderr,
			"faultline ref: transferd not found at %s (build it with 'make', or set TRANSFERD)\n",
			transferd);
		return FL_EXIT_INFRA;
	}
	if (nbugs) {
		char known[2048];
		if (list_bugs(transferd, known, sizeof(known)) != 0) {
			fprintf(stderr, "faultline ref: '%s --list-bugs' did not name its bugs\n",
				transferd);
			return FL_EXIT_INFRA;
		}
		for (int i = 0; i < nbugs; i++)
			if (!has_line(known, bugs[i])) {
				for (char *nl = strchr(known, '\n'); nl; nl = strchr(nl, '\n'))
					*nl = nl[1] ? ' ' : 0;
				return fl_cli_usage_error("ref",
							  "unknown bug '%s' (transferd's: %s)",
							  bugs[i], known);
			}
	}
	o.bugs = (const char **)bugs;
	o.nbugs = nbugs;
	o.transferd = transferd;
	bool have_proxy = fl_command_find("proxy") != NULL;
	if (find_self(self, sizeof(self)) == 0 && (a->netns || (!direct && have_proxy)))
		o.faultline = self; /* links' proxy, or the hosts' agents */
	bool links = !direct && have_proxy && o.faultline;
	json_t *t = NULL, *model = NULL;
	char err[4096];
	int rc = ref_model(&o, !links, &model, err, sizeof(err));
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
	if (json_is_string(json_object_get(t, "netns_fallback")))
		fprintf(stderr, "faultline ref up: --netns: %s; the services run on loopback\n",
			json_string_value(json_object_get(t, "netns_fallback")));
	if (json) {
		print_json(t);
	} else {
		printf("reference system up in %lld ms (data %s)%s\n",
		       (long long)fl_json_int(t, "startup_ms", 0), fl_json_str(t, "data", ""),
		       links ? ""
			     : (have_proxy ? "; direct edges (--direct)"
					   : "; direct edges (faultline proxy not available)"));
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(t, "services"), k, v)
			printf("  %-11s %-24s pid %lld\n", k, fl_json_str(v, "url", ""),
			       (long long)fl_json_int(v, "pid", 0));
		json_t *net = json_object_get(t, "netns");
		if (json_is_object(net))
			printf("  hosts: bridge %s, %s, agents' token in %s\n",
			       fl_json_str(net, "bridge", ""), fl_json_str(net, "subnet", ""),
			       fl_json_str(net, "token_file", "(none)"));
		if (json_is_object(json_object_get(t, "proxy")))
			printf("  proxy API   %s (%zu links)\n",
			       fl_json_str(json_object_get(t, "proxy"), "api", ""),
			       json_object_size(json_object_get(t, "links")));
		if (nbugs) {
			printf("  planted bugs:");
			for (int i = 0; i < nbugs; i++)
				printf(" %s", bugs[i]);
			printf("\n");
		}
		if (o.driver > 0)
			printf("  lease: stopped %g s after pid %lld ends ('faultline ref down' to stop it now)\n",
			       (double)o.lease_ms / 1000, (long long)o.driver);
	}
	json_decref(t);
	return FL_EXIT_OK;
}

static int do_status(const struct ref_args *a)
{
	bool json = a->json;
	const char *data = a->data;
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
			printf("  %-11s %-24s pid %-7lld %s\n", k, fl_json_str(v, "url", ""),
			       (long long)pid,
			       !alive	      ? "DOWN"
			       : ready == 200 ? "ready"
			       : ready	      ? "not ready"
					      : "not answering");
	}
	if (!json && json_is_object(json_object_get(t, "proxy")))
		printf("  proxy API   %s, links: %zu\n",
		       fl_json_str(json_object_get(t, "proxy"), "api", ""),
		       json_object_size(json_object_get(t, "links")));
	/* ref up --netns: each host's agent, as status shows them */
	json_t *st =
		json_object_get(t, "netns") ? fl_launcher_status(data, err, sizeof(err)) : NULL;
	if (st) {
		if (fl_sys_print_hosts(st, !json) != FL_EXIT_OK)
			rc = FL_EXIT_FAIL;
		json_object_set(t, "netns", json_object_get(st, "netns"));
		json_decref(st);
	}
	if (json)
		print_json(t);
	json_decref(t);
	return rc;
}

static int do_logs(const struct ref_args *a)
{
	const char *only = a->service, *data = a->data;
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

static int do_down(const struct ref_args *a)
{
	bool json = a->json;
	const char *data = a->data;
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
	json_object_foreach(json_object_get(rep, "agents"), k, v) {
		json_t *code = json_object_get(v, "exit");
		if (!json_is_integer(code) || json_integer_value(code) != 0)
			rc = FL_EXIT_FAIL;
		if (!json)
			printf("  agent %-5s pid %-7lld %s\n", k,
			       (long long)fl_json_int(v, "pid", 0), fl_json_str(v, "status", "?"));
	}
	if (json)
		print_json(rep);
	json_decref(rep);
	return rc;
}

static int do_restart(const struct ref_args *a)
{
	if (!a->service)
		return fl_cli_usage_error("ref", "restart needs a SERVICE");
	char err[1024];
	int rc = fl_ref_restart(a->data, a->service, a->extra, a->nextra, true, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline ref restart: %s\n", err);
		return rc == FL_ENOENT ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	printf("%s restarted\n", a->service);
	return FL_EXIT_OK;
}

static int do_signal(const struct ref_args *a, int sig)
{
	if (!a->service)
		return fl_cli_usage_error("ref", "%s needs a SERVICE", a->sub);
	char err[1024];
	int rc = fl_ref_signal(a->data, a->service, sig, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "faultline ref %s: %s\n", a->sub, err);
		return rc == FL_ENOENT ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	return FL_EXIT_OK;
}

/* Options anywhere (getopt over the shared table), the subcommand and its
 * SERVICE as operands; everything after "--" is kept apart for transferd. */
static int parse(int argc, char **argv, struct ref_args *a)
{
	int nopt = argc;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			nopt = i;
			a->extra = (const char *const *)argv + i + 1;
			a->nextra = argc - i - 1;
			break;
		}
	a->data = fl_ref_default_data();
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_ref, opts, nopt, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case O_BUG:
			if (a->nbugs >= 32)
				return fl_opts_error(&o, "too many --bug");
			a->bugs[a->nbugs++] = o.arg;
			break;
		case O_SEED: {
			char *end;
			a->seed = strtoull(o.arg, &end, 10);
			if (*end || end == o.arg)
				return fl_opts_error(&o, "--seed wants a number, got '%s'", o.arg);
			a->seeded = true;
			break;
		}
		case O_DATA: a->data = o.arg; break;
		case O_FRESH: a->fresh = true; break;
		case O_LEASE: {
			char *end;
			double s = strtod(o.arg, &end);
			if (!*o.arg || *end || !(s > 0 && s <= 86400))
				return fl_opts_error(
					&o, "--lease wants seconds in (0, 86400], got '%s'", o.arg);
			a->lease_ms = (long)(s * 1000);
			break;
		}
		case O_DRIVER: {
			char *end;
			long pid = strtol(o.arg, &end, 10);
			if (!*o.arg || *end || pid <= 0 || pid > INT_MAX)
				return fl_opts_error(&o, "--driver wants a pid, got '%s'", o.arg);
			a->driver = (pid_t)pid;
			break;
		}
		case O_DIRECT: a->direct = true; break;
		case O_NETNS: a->netns = true; break;
		case O_JSON: a->json = true; break;
		}
	}
	if (c < 0)
		return o.exit;
	int nops = nopt - o.optind;
	if (nops < 1)
		return fl_cli_usage_error(
			"ref",
			"missing subcommand (up, status, logs, down, restart, kill, term, pause, resume)");
	a->sub = argv[o.optind];
	if (nops > 1)
		a->service = argv[o.optind + 1];
	if (nops > 2)
		return fl_cli_usage_error("ref", "unexpected argument '%s'", argv[o.optind + 2]);
	bool up = strcmp(a->sub, "up") == 0;
	if (!up && (a->nbugs || a->seeded || a->fresh || a->direct || a->netns || a->lease_ms ||
		    a->driver))
		return fl_cli_usage_error("ref",
					  "--bug, --seed, --fresh, --direct, --netns, --lease and "
					  "--driver go with 'ref up'");
	if (a->driver && !a->lease_ms)
		return fl_cli_usage_error("ref", "--driver goes with --lease");
	if (a->nextra && !up && strcmp(a->sub, "restart") != 0)
		return fl_cli_usage_error("ref", "'-- ARGS' goes with 'ref up' and 'ref restart'");
	if (a->service && (up || strcmp(a->sub, "status") == 0 || strcmp(a->sub, "down") == 0))
		return fl_cli_usage_error("ref", "unexpected argument '%s'", a->service);
	return FL_EXIT_OK;
}

static int cmd_ref(int argc, char **argv)
{
	struct ref_args a = { 0 };
	int rc = parse(argc, argv, &a);
	if (rc != FL_EXIT_OK || !a.sub)
		return rc;
	static const struct {
		const char *name;
		int sig;
	} signals[] = { { "kill", SIGKILL },
			{ "term", SIGTERM },
			{ "pause", SIGSTOP },
			{ "resume", SIGCONT } };
	if (strcmp(a.sub, "up") == 0)
		return do_up(&a);
	if (strcmp(a.sub, "status") == 0)
		return do_status(&a);
	if (strcmp(a.sub, "logs") == 0)
		return do_logs(&a);
	if (strcmp(a.sub, "down") == 0)
		return do_down(&a);
	if (strcmp(a.sub, "restart") == 0)
		return do_restart(&a);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcmp(a.sub, signals[i].name) == 0)
			return do_signal(&a, signals[i].sig);
	return fl_cli_usage_error("ref", "unknown subcommand '%s'", a.sub);
}

const struct fl_command fl_cmd_ref = {
	.name = "ref",
	.summary = "start, inspect and stop the reference transfer system",
	.help = help,
	.order = 60,
	.run = cmd_ref,
};
