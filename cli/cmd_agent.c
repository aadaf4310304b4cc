/* faultline agent: one program per host (or per pod, as a sidecar) serving
 * the fault injector's Toxiproxy-compatible API, the host's kernel-level
 * faults under /host (hostfault/hostfault.h), /healthz and /metrics, all on
 * one address and behind one token. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/command.h"
#include "core/errors.h"
#include "core/http_server.h"
#include "core/json.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/token.h"
#include "fault-injector/proxy.h"
#include "hostfault/hostfault.h"

enum {
	O_LISTEN = FL_OPT_LONG,
	O_CONFIG,
	O_SEED,
	O_TOKEN,
	O_TOKEN_FILE,
	O_ALLOW_UPSTREAM,
	O_ALLOW_LISTEN,
	O_EVENTS,
	O_LOG_LEVEL,
	O_TABLE,
	O_STATE_DIR,
	O_MAX_TTL,
	O_MAX_FAULTS,
	O_NO_HOST,
	O_ALLOW_NETNS,
	O_TLS_CERT,
	O_TLS_KEY,
	O_TLS_CLIENT_CA
};

/* The proxy's options (cli/cmd_proxy.c, docs/fault-injector.md), then the host faults'. */
static const struct fl_opt opts[] = {
	{ "listen", O_LISTEN, "ADDR",
	  "API address (default 127.0.0.1:8474; port 0 picks one).\n"
	  "Prints 'faultline agent: listening on HOST:PORT'." },
	{ "token-file", O_TOKEN_FILE, "FILE",
	  "the API token, as for faultline proxy (else\n"
	  "FAULTLINE_TOKEN or FAULTLINE_PROXY_TOKEN); required beyond loopback" },
	{ "token", O_TOKEN, "T", "the token itself (visible in the process list)" },
	{ "tls-cert", O_TLS_CERT, "FILE", "serve the API over HTTPS, as for faultline proxy" },
	{ "tls-key", O_TLS_KEY, "FILE", "the certificate's private key (PEM)" },
	{ "tls-client-ca", O_TLS_CLIENT_CA, "FILE",
	  "mutual TLS: only clients with a certificate\n"
	  "this CA signed" },
	{ "allow-upstream", O_ALLOW_UPSTREAM, "LIST",
	  "where links may point, as for faultline proxy" },
	{ "allow-listen", O_ALLOW_LISTEN, "LIST",
	  "where links may listen, as for faultline proxy" },
	{ "config", O_CONFIG, "FILE", "links to create at start, as for faultline proxy" },
	{ "seed", O_SEED, "N", "seed the proxy's random draws" },
	{ "events", O_EVENTS, "FILE", "the proxy's events as JSON lines" },
	{ "log-level", O_LOG_LEVEL, "L", "debug, info (default), warn, error, off" },
	{ "table", O_TABLE, "NAME",
	  "the nftables table (family inet) the agent owns\n"
	  "(default faultline); one agent per table and namespace" },
	{ "state-dir", O_STATE_DIR, "DIR",
	  "where paused pids are recorded for the crash sweep\n"
	  "(default /run/faultline-agent)" },
	{ "max-ttl", O_MAX_TTL, "MS", "longest host-fault TTL accepted (default 3600000)" },
	{ "max-faults", O_MAX_FAULTS, "N", "host faults held at once (default 64)" },
	{ "allow-netns", O_ALLOW_NETNS, "LIST",
	  "other network namespaces a host fault's \"target\" may\n"
	  "enter: pid (any process's, by pid: pods from a DaemonSet),\n"
	  "name:GLOB (/run/netns names); default none" },
	{ "no-host", O_NO_HOST, NULL,
	  "serve the proxy API only (no kernel faults, no root needed)" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline agent [--listen ADDR] [--token-file FILE] [--table NAME]\n"
	  "                       [--state-dir DIR] [--max-ttl MS] [--max-faults N]\n"
	  "                       [--allow-netns LIST] [--no-host] [proxy options]\n"
	  "\n"
	  "Run a faultline agent: the fault injector's Toxiproxy-compatible API plus\n"
	  "kernel-level faults inside this host's network namespace (nftables\n"
	  "partitions and packet loss, tbf bandwidth limits, netem delay where the\n"
	  "kernel has it, process kill/term/pause) under /host. Every host fault has a\n"
	  "TTL and is healed when the controller's lease (POST /lease) lapses, when\n"
	  "the agent exits, or, after a crash, when the agent next starts. With\n"
	  "--allow-netns a fault may name another network namespace as its target\n"
	  "(a pod's, by a pid in it or by name): the agent enters it to apply it.\n"
	  "\n",
	  opts },
	{ "\n"
	  "API: the proxy's (docs/fault-injector.md), and GET /host, GET/POST/DELETE\n"
	  "/host/faults, GET/DELETE /host/faults/{id}, GET /healthz, GET /metrics\n"
	  "(docs/agent.md). Host faults need CAP_NET_ADMIN (and CAP_KILL for other\n"
	  "users' processes); without them /host answers 503 and the proxy still runs.\n"
	  "\n"
	  "SIGTERM or SIGINT heal every fault and stop it (exit 0). Exit 2 on bad\n"
	  "arguments, 3 when the address cannot be bound.\n",
	  NULL },
	{ NULL, NULL },
};

struct agent {
	struct fl_proxy_engine *e;
	struct fl_hostfault *h;
	char host_err[300]; /* why host faults are off, when h is NULL */
	json_t *swept;
	int64_t started;
};

static void reply_host(struct agent *a, struct fl_http_req *r)
{
	if (!a->h) {
		fl_http_reply_error(r, 503, "host faults unavailable: %s", a->host_err);
		return;
	}
	size_t len = 0;
	const char *body = fl_http_req_body(r, &len);
	int status = 500;
	json_t *reply = NULL;
	fl_hostfault_api_handle(a->h, fl_http_req_method(r), fl_http_req_path(r), body, len,
				&status, &reply);
	fl_http_reply_json(r, status, reply);
}

static void reply_metrics(struct agent *a, struct fl_http_req *r)
{
	size_t plen = 0, hlen = 0;
	char *p = fl_proxy_metrics_text(a->e, &plen);
	char *h = a->h ? fl_hostfault_metrics_text(a->h, &hlen) : NULL;
	char *all = p && (h || !a->h) ? malloc(plen + hlen + 1) : NULL;
	if (!all) {
		fl_http_reply_error(r, 500, "out of memory");
	} else {
		memcpy(all, p, plen);
		if (h)
			memcpy(all + plen, h, hlen);
		fl_http_reply(r, 200, "text/plain; version=0.0.4", all, plen + hlen);
	}
	free(all);
	free(p);
	free(h);
}

static void reply_health(struct agent *a, struct fl_http_req *r)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "status", "ok", "version", FL_VERSION,
			      "commit", FL_GIT_REV, "hostname", host, "host_faults", a->h != NULL);
	if (!a->h)
		json_object_set_new(j, "host_error", json_string(a->host_err));
	if (a->swept)
		json_object_set(j, "swept", a->swept);
	fl_http_reply_json(r, 200, j);
}

/* The agent's routes in front of the proxy's (fl_proxy_api_set_hook). */
static bool agent_hook(struct fl_http_req *r, void *arg)
{
	struct agent *a = arg;
	const char *path = fl_http_req_path(r), *method = fl_http_req_method(r);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(path, "/host") == 0 || strncmp(path, "/host/", 6) == 0) {
		reply_host(a, r);
		return true;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
		if (!get)
			fl_http_reply_error(r, 405, "method not allowed: %s %s", method, path);
		else if (path[1] == 'h')
			reply_health(a, r);
		else
			reply_metrics(a, r);
		return true;
	}
	if (strcmp(path, "/lease") == 0 && a->h) {
		/* the controller's lease holds the host faults too; the proxy answers */
		size_t len = 0;
		const char *body = fl_http_req_body(r, &len);
		const char *uri = fl_http_req_uri(r), *q = uri ? strchr(uri, '?') : NULL;
		fl_hostfault_api_observe_lease(a->h, method, q ? q + 1 : NULL, body, len);
	}
	return false;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	fl_info("agent", "signal %d: healing and stopping", (int)sig);
	fl_proxy_engine_stop(arg);
}

struct agent_opts {
	const char *listen, *config, *token, *token_file, *events;
	struct fl_tls_server_opts tls;
	char *loaded; /* the token read from a file or the environment */
	struct fl_proxy_opts po;
	struct fl_hostfault_opts ho;
	bool no_host;
};

static int parse_num(const struct fl_opts *o, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v = strtoll(o->arg, &end, 0);
	if (!*o->arg || *end || v < lo || v > hi)
		return fl_opts_error(o, "must be a number in %lld..%lld: '%s'", (long long)lo,
				     (long long)hi, o->arg);
	*out = v;
	return 0;
}

/* Returns -1 to go on, or the exit code to stop with (help, usage error). */
static int parse_args(int argc, char **argv, struct agent_opts *a)
{
	struct fl_opts o;
	int c;
	int64_t v;
	fl_opts_init(&o, &fl_cmd_agent, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case O_LISTEN: a->listen = o.arg; break;
		case O_CONFIG: a->config = o.arg; break;
		case O_TOKEN: a->token = o.arg; break;
		case O_TOKEN_FILE: a->token_file = o.arg; break;
		case O_ALLOW_UPSTREAM: a->po.allow_upstream = o.arg; break;
		case O_ALLOW_LISTEN: a->po.allow_listen = o.arg; break;
		case O_EVENTS: a->events = o.arg; break;
		case O_TABLE: a->ho.table = o.arg; break;
		case O_STATE_DIR: a->ho.state_dir = o.arg; break;
		case O_NO_HOST: a->no_host = true; break;
		case O_ALLOW_NETNS: a->ho.allow_netns = o.arg; break;
		case O_TLS_CERT: a->tls.cert = o.arg; break;
		case O_TLS_KEY: a->tls.key = o.arg; break;
		case O_TLS_CLIENT_CA: a->tls.client_ca = o.arg; break;
		case O_SEED:
			if (parse_num(&o, 0, INT64_MAX, &v))
				return FL_EXIT_USAGE;
			a->po.seed = (uint64_t)v;
			a->po.seeded = true;
			break;
		case O_MAX_TTL:
			if (parse_num(&o, 1, 86400000, &v))
				return FL_EXIT_USAGE;
			a->ho.max_ttl_ms = v;
			break;
		case O_MAX_FAULTS:
			if (parse_num(&o, 1, 4096, &v))
				return FL_EXIT_USAGE;
			a->ho.max_faults = (size_t)v;
			break;
		case O_LOG_LEVEL: {
			enum fl_log_level lv;
			if (fl_log_level_parse(o.arg, &lv))
				return fl_opts_error(&o, "unknown level '%s'", o.arg);
			fl_log_set_level(lv);
			break;
		}
		}
	}
	if (c < 0)
		return o.exit;
	if (o.optind < argc)
		return fl_cli_usage_error("agent", "unexpected argument '%s'", argv[o.optind]);
	if ((a->tls.cert || a->tls.key || a->tls.client_ca) && !(a->tls.cert && a->tls.key))
		return fl_cli_usage_error("agent", "TLS needs both --tls-cert and --tls-key");
	if (a->token && a->token_file)
		return fl_cli_usage_error("agent", "--token and --token-file: give one");
	if (!a->token) {
		char err[300];
		if (fl_token_load(a->token_file, &a->loaded, err, sizeof(err))) {
			fprintf(stderr, "faultline agent: %s\n", err);
			return FL_EXIT_USAGE;
		}
		a->token = a->loaded;
	}
	return -1;
}

/* Host faults on, after sweeping a crashed predecessor's leftovers; when the
 * kernel refuses (no CAP_NET_ADMIN), the agent runs without them. Returns
 * -1 to go on, or FL_EXIT_USAGE for options the set refuses. */
static int host_start(struct agent *a, struct agent_opts *o)
{
	char err[300];
	const char *url = fl_proxy_api_url(a->e), *colon = strrchr(url, ':');
	o->ho.exempt_port = colon ? (uint16_t)atoi(colon + 1) : 0;
	a->h = fl_hostfault_new(&o->ho, err, sizeof(err));
	if (!a->h && strncmp(err, "--", 2) == 0) {
		fprintf(stderr, "faultline agent: %s\n", err);
		return FL_EXIT_USAGE;
	}
	if (a->h && fl_hostfault_sweep(a->h, &a->swept, err, sizeof(err)) == 0 &&
	    fl_hostfault_attach(a->h, fl_proxy_engine_base(a->e), err, sizeof(err)) == 0)
		return -1;
	fl_hostfault_free(a->h);
	a->h = NULL;
	snprintf(a->host_err, sizeof(a->host_err), "%s", err);
	fprintf(stderr, "faultline agent: host faults off: %s\n", err);
	return -1;
}

static int cmd_agent(int argc, char **argv)
{
	struct agent_opts o = { .listen = "127.0.0.1:8474" };
	struct agent a = { 0 };
	int rc = parse_args(argc, argv, &o);
	char err[512];
	struct event *sigterm = NULL, *sigint = NULL;
	json_t *cfg = NULL;
	if (rc >= 0)
		goto out;
	rc = FL_EXIT_OK;
	if (o.config && !(cfg = fl_json_load_file(o.config, err, sizeof(err)))) {
		fprintf(stderr, "faultline agent: --config: %s\n", err);
		rc = FL_EXIT_USAGE;
		goto out;
	}
	o.po.events_path = o.events;
	if (!(a.e = fl_proxy_engine_new(&o.po, err, sizeof(err)))) {
		fprintf(stderr, "faultline agent: %s\n", err);
		rc = o.events || o.po.allow_upstream || o.po.allow_listen ? FL_EXIT_USAGE
									  : FL_EXIT_INFRA;
		goto out;
	}
	int arc = fl_proxy_api_start(a.e, o.listen, o.token, err, sizeof(err));
	if (arc) {
		fprintf(stderr, "faultline agent: %s\n", err);
		rc = arc == FL_EPERM ? FL_EXIT_USAGE : FL_EXIT_INFRA;
		goto out;
	}
	if (o.tls.cert && fl_proxy_api_use_tls(a.e, &o.tls, err, sizeof(err))) {
		fprintf(stderr, "faultline agent: %s\n", err);
		rc = FL_EXIT_USAGE;
		goto out;
	}
	if (cfg && fl_proxy_engine_populate(a.e, cfg, err, sizeof(err))) {
		fprintf(stderr, "faultline agent: %s: %s\n", o.config, err);
		rc = FL_EXIT_USAGE;
		goto out;
	}
	if (o.no_host)
		snprintf(a.host_err, sizeof(a.host_err), "the agent runs with --no-host");
	else if ((rc = host_start(&a, &o)) >= 0)
		goto out;
	rc = FL_EXIT_OK;
	fl_proxy_api_set_hook(a.e, agent_hook, &a);
	struct event_base *b = fl_proxy_engine_base(a.e);
	sigterm = evsignal_new(b, SIGTERM, on_signal, a.e);
	sigint = evsignal_new(b, SIGINT, on_signal, a.e);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL)) {
		fprintf(stderr, "faultline agent: cannot install signal handlers\n");
		rc = FL_EXIT_INFRA;
		goto out;
	}
	const char *url = fl_proxy_api_url(a.e), *sep = strstr(url, "://");
	printf("faultline agent: listening on %s\n", sep ? sep + 3 : url);
	fflush(stdout);
	fprintf(stderr, "faultline agent: seed %" PRIu64 ", host faults %s\n",
		fl_proxy_engine_seed(a.e), a.h ? "on" : "off");
	fl_proxy_engine_run(a.e);
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (a.e)
		fl_proxy_api_set_hook(a.e, NULL, NULL);
	fl_hostfault_free(a.h);
	fl_proxy_engine_free(a.e);
	json_decref(a.swept);
	json_decref(cfg);
	free(o.loaded);
	return rc;
}

const struct fl_command fl_cmd_agent = {
	.name = "agent",
	.summary = "run an agent: the proxy API plus this host's kernel-level faults",
	.help = help,
	.order = 21,
	.run = cmd_agent,
};
