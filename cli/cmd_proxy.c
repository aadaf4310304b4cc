/* faultline proxy: the fault injector as a standalone agent with the
 * Toxiproxy-compatible control API. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cli/command.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/token.h"
#include "fault-injector/proxy.h"

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
	O_TLS_CERT,
	O_TLS_KEY,
	O_TLS_CLIENT_CA
};

static const struct fl_opt opts[] = {
	{ "listen", O_LISTEN, "ADDR",
	  "control API address (default 127.0.0.1:8474; port 0 picks\n"
	  "one). Prints 'faultline proxy: listening on HOST:PORT'." },
	{ "config", O_CONFIG, "FILE",
	  "create proxies (and their toxics) from FILE: the JSON array\n"
	  "POST /populate takes" },
	{ "seed", O_SEED, "N",
	  "seed every random draw (toxicity, jitter, probability);\n"
	  "the same seed and the same traffic give the same faults" },
	{ "token-file", O_TOKEN_FILE, "FILE",
	  "require 'Authorization: Bearer T' on the API, T the\n"
	  "first line of FILE; required when ADDR is bound beyond\n"
	  "loopback. Without it: FAULTLINE_TOKEN (or the older\n"
	  "FAULTLINE_PROXY_TOKEN) from the environment" },
	{ "token", O_TOKEN, "T",
	  "the token itself (visible in the process list: prefer\n"
	  "--token-file or FAULTLINE_TOKEN)" },
	{ "allow-upstream", O_ALLOW_UPSTREAM, "LIST",
	  "hosts, IPs and CIDR blocks links may point at\n"
	  "(\"10.0.0.0/8,db.internal\"); default: any while ADDR is\n"
	  "loopback, none beyond it. Self-loops are always refused" },
	{ "allow-listen", O_ALLOW_LISTEN, "LIST",
	  "addresses beyond loopback links may listen on\n"
	  "(\"0.0.0.0\", \"10.0.0.5\"); default: loopback only" },
	{ "events", O_EVENTS, "FILE",
	  "write every recorded event (connections, HTTP exchanges,\n"
	  "toxics added/removed) to FILE as JSON lines (created or\n"
	  "truncated at start)" },
	{ "log-level", O_LOG_LEVEL, "L", "debug, info (default), warn, error, off" },
	{ "tls-cert", O_TLS_CERT, "FILE",
	  "serve the API over HTTPS with this certificate (PEM,\n"
	  "the chain after it); needs --tls-key" },
	{ "tls-key", O_TLS_KEY, "FILE", "the certificate's private key (PEM)" },
	{ "tls-client-ca", O_TLS_CLIENT_CA, "FILE",
	  "mutual TLS: serve only clients presenting a\n"
	  "certificate signed by a CA in FILE (PEM)" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline proxy [--listen ADDR] [--config FILE] [--seed N] [--token T]\n"
	  "                       [--token-file FILE] [--allow-upstream LIST]\n"
	  "                       [--allow-listen LIST] [--events FILE] [--log-level LEVEL]\n"
	  "                       [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]\n"
	  "\n"
	  "Run the fault injector: a TCP proxy (HTTP/1.x aware) with a control API\n"
	  "compatible with Toxiproxy's, so Toxiproxy clients work unchanged.\n"
	  "\n",
	  opts },
	{ "\n"
	  "API: GET/POST /proxies, GET/POST/PATCH/DELETE /proxies/{p},\n"
	  "GET/POST /proxies/{p}/toxics, GET/POST/PATCH/DELETE /proxies/{p}/toxics/{t},\n"
	  "POST /populate, POST /reset, GET /version, and faultline's POST /lease,\n"
	  "GET /metrics, GET /proxies/{p}/events. See docs/fault-injector.md.\n"
	  "\n"
	  "SIGTERM or SIGINT stop it (exit 0). Exit 2 on bad arguments or config,\n"
	  "3 when the API address cannot be bound.\n",
	  NULL },
	{ NULL, NULL },
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	fl_info("proxy", "signal %d: stopping", (int)sig);
	fl_proxy_engine_stop(arg);
}

static int cmd_proxy(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8474", *config = NULL, *token = NULL, *events = NULL;
	const char *token_file = NULL;
	char *loaded = NULL;
	struct fl_tls_server_opts tls = { 0 };
	struct fl_proxy_opts po = { 0 };
	int rc = FL_EXIT_OK, c;
	char err[512];
	struct fl_proxy_engine *e = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	json_t *cfg = NULL;

	struct fl_opts o;
	fl_opts_init(&o, &fl_cmd_proxy, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case O_LISTEN: listen = o.arg; break;
		case O_CONFIG: config = o.arg; break;
		case O_TOKEN: token = o.arg; break;
		case O_TOKEN_FILE: token_file = o.arg; break;
		case O_ALLOW_UPSTREAM: po.allow_upstream = o.arg; break;
		case O_ALLOW_LISTEN: po.allow_listen = o.arg; break;
		case O_EVENTS: events = o.arg; break;
		case O_TLS_CERT: tls.cert = o.arg; break;
		case O_TLS_KEY: tls.key = o.arg; break;
		case O_TLS_CLIENT_CA: tls.client_ca = o.arg; break;
		case O_SEED: {
			char *end;
			po.seed = strtoull(o.arg, &end, 0);
			if (!*o.arg || *end)
				return fl_cli_usage_error("proxy", "--seed: not a number: '%s'",
							  o.arg);
			po.seeded = true;
			break;
		}
		case O_LOG_LEVEL: {
			enum fl_log_level lv;
			if (fl_log_level_parse(o.arg, &lv))
				return fl_cli_usage_error("proxy",
							  "--log-level: unknown level '%s'", o.arg);
			fl_log_set_level(lv);
			break;
		}
		}
	}
	if (c < 0)
		return o.exit;
	if (o.optind < argc)
		return fl_cli_usage_error("proxy", "unexpected argument '%s'", argv[o.optind]);
	if ((tls.cert || tls.key || tls.client_ca) && !(tls.cert && tls.key))
		return fl_cli_usage_error("proxy", "TLS needs both --tls-cert and --tls-key");
	if (token && token_file)
		return fl_cli_usage_error("proxy", "--token and --token-file: give one");
	if (!token) {
		if (fl_token_load(token_file, &loaded, err, sizeof(err))) {
			fprintf(stderr, "faultline proxy: %s\n", err);
			return FL_EXIT_USAGE;
		}
		token = loaded;
	}
	if (config) {
		cfg = fl_json_load_file(config, err, sizeof(err));
		if (!cfg) {
			fprintf(stderr, "faultline proxy: --config: %s\n", err);
			rc = FL_EXIT_USAGE;
			goto out;
		}
	}
	po.events_path = events;
	e = fl_proxy_engine_new(&po, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "faultline proxy: %s\n", err);
		rc = events || po.allow_upstream || po.allow_listen ? FL_EXIT_USAGE : FL_EXIT_INFRA;
		goto out;
	}
	int arc = fl_proxy_api_start(e, listen, token, err, sizeof(err));
	if (arc) {
		fprintf(stderr, "faultline proxy: %s\n", err);
		rc = arc == FL_EPERM ? FL_EXIT_USAGE : FL_EXIT_INFRA;
		goto out;
	}
	if (tls.cert && fl_proxy_api_use_tls(e, &tls, err, sizeof(err))) {
		fprintf(stderr, "faultline proxy: %s\n", err);
		rc = FL_EXIT_USAGE;
		goto out;
	}
	if (cfg && fl_proxy_engine_populate(e, cfg, err, sizeof(err))) {
		fprintf(stderr, "faultline proxy: %s: %s\n", config, err);
		rc = FL_EXIT_USAGE;
		goto out;
	}
	struct event_base *b = fl_proxy_engine_base(e);
	sigterm = evsignal_new(b, SIGTERM, on_signal, e);
	sigint = evsignal_new(b, SIGINT, on_signal, e);
	if (!sigterm || !sigint) {
		fprintf(stderr, "faultline proxy: cannot install signal handlers\n");
		rc = FL_EXIT_INFRA;
		goto out;
	}
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	const char *url = fl_proxy_api_url(e);
	printf("faultline proxy: listening on %s\n", strstr(url, "://") + 3);
	fflush(stdout);
	fprintf(stderr, "faultline proxy: seed %" PRIu64 "\n", fl_proxy_engine_seed(e));
	fl_proxy_engine_run(e);
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	fl_proxy_engine_free(e);
	json_decref(cfg);
	free(loaded);
	return rc;
}

const struct fl_command fl_cmd_proxy = {
	.name = "proxy",
	.summary = "run the fault-injecting proxy (Toxiproxy-compatible API)",
	.help = help,
	.order = 20,
	.run = cmd_proxy,
};
