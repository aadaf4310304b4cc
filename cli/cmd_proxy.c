/* faultline proxy: the fault injector as a standalone agent with the
 * Toxiproxy-compatible control API. */
#include <getopt.h>
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
#include "fault-injector/proxy.h"

static const char usage[] =
	"Usage: faultline proxy [--listen ADDR] [--config FILE] [--seed N] [--token T]\n"
	"                       [--events FILE] [--log-level LEVEL]\n"
	"\n"
	"Run the fault injector: a TCP proxy (HTTP/1.x aware) with a control API\n"
	"compatible with Toxiproxy's, so Toxiproxy clients work unchanged.\n"
	"\n"
	"  --listen ADDR     control API address (default 127.0.0.1:8474; port 0 picks\n"
	"                    one). Prints 'faultline proxy: listening on HOST:PORT'.\n"
	"  --config FILE     create proxies (and their toxics) from FILE: the JSON array\n"
	"                    POST /populate takes\n"
	"  --seed N          seed every random draw (toxicity, jitter, probability);\n"
	"                    the same seed and the same traffic give the same faults\n"
	"  --token T         require 'Authorization: Bearer T' on the API; required\n"
	"                    when ADDR is not a loopback address (also read from\n"
	"                    FAULTLINE_PROXY_TOKEN)\n"
	"  --events FILE     write every recorded event (connections, HTTP exchanges,\n"
	"                    toxics added/removed) to FILE as JSON lines (created or\n"
	"                    truncated at start)\n"
	"  --log-level L     debug, info (default), warn, error, off\n"
	"\n"
	"API: GET/POST /proxies, GET/POST/PATCH/DELETE /proxies/{p},\n"
	"GET/POST /proxies/{p}/toxics, GET/POST/PATCH/DELETE /proxies/{p}/toxics/{t},\n"
	"POST /populate, POST /reset, GET /version, and faultline's POST /lease,\n"
	"GET /metrics, GET /proxies/{p}/events. See docs/fault-injector.md.\n"
	"\n"
	"SIGTERM or SIGINT stop it (exit 0). Exit 2 on bad arguments or config,\n"
	"3 when the API address cannot be bound.\n";

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	fl_info("proxy", "signal %d: stopping", (int)sig);
	fl_proxy_engine_stop(arg);
}

static int cmd_proxy(int argc, char **argv)
{
	if (fl_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return FL_EXIT_OK;
	}
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "events", required_argument, NULL, 'e' },
		{ "log-level", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "127.0.0.1:8474", *config = NULL, *token = NULL, *events = NULL;
	struct fl_proxy_opts po = { 0 };
	int rc = FL_EXIT_OK, c;
	char err[512];
	struct fl_proxy_engine *e = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	json_t *cfg = NULL;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'c': config = optarg; break;
		case 't': token = optarg; break;
		case 'e': events = optarg; break;
		case 's': {
			char *end;
			po.seed = strtoull(optarg, &end, 0);
			if (!*optarg || *end)
				return fl_cli_usage_error("proxy", "--seed: not a number: '%s'", optarg);
			po.seeded = true;
			break;
		}
		case 'L': {
			enum fl_log_level lv;
			if (fl_log_level_parse(optarg, &lv))
				return fl_cli_usage_error("proxy", "--log-level: unknown level '%s'",
							  optarg);
			fl_log_set_level(lv);
			break;
		}
		default:
			return fl_cli_usage_error("proxy", "unknown or incomplete option '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fl_cli_usage_error("proxy", "unexpected argument '%s'", argv[optind]);
	if (!token)
		token = getenv("FAULTLINE_PROXY_TOKEN");
	if (config) {
		cfg = fl_json_load_file(config, err, sizeof(err));
		if (!cfg) {
			fprintf(stderr, "faultline proxy: --config: %s\n", err);
			return FL_EXIT_USAGE;
		}
	}
	po.events_path = events;
	e = fl_proxy_engine_new(&po, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "faultline proxy: %s\n", err);
		rc = events ? FL_EXIT_USAGE : FL_EXIT_INFRA;
		goto out;
	}
	int arc = fl_proxy_api_start(e, listen, token, err, sizeof(err));
	if (arc) {
		fprintf(stderr, "faultline proxy: %s\n", err);
		rc = arc == FL_EPERM ? FL_EXIT_USAGE : FL_EXIT_INFRA;
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
	printf("faultline proxy: listening on %s\n", url + strlen("http://"));
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
	return rc;
}

const struct fl_command fl_cmd_proxy = {
	.name = "proxy",
	.summary = "run the fault-injecting proxy (Toxiproxy-compatible API)",
	.usage = usage,
	.order = 20,
	.run = cmd_proxy,
};
