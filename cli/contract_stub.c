/* faultline contract stub: answer as the provider would, from the pacts. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "cli/contract_int.h"
#include "contract/stub.h"
#include "core/prng.h"

const struct fl_opt fl_cli_contract_stub_opts[] = {
	{ "listen", O_LISTEN, "ADDR", "default 127.0.0.1:8080 (port 0 picks one)" },
	{ "ready-file", O_READY_FILE, "FILE", "write the bound address there once listening" },
	{ "seed", O_SEED, "N", "seed for generators" },
	FL_OPT_END,
};

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

int fl_cli_contract_stub(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8080", *ready = NULL;
	struct fl_pact_list pl = { 0 };
	int rc = FL_EXIT_USAGE;
	uint64_t seed = fl_prng_entropy_seed();
	struct fl_opts op;
	int c;
	fl_cli_contract_opts_init(&op, fl_cli_contract_stub_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		if (c == O_LISTEN)
			listen = op.arg;
		else if (c == O_READY_FILE)
			ready = op.arg;
		else
			seed = strtoull(op.arg, NULL, 10);
	}
	if (c < 0)
		return op.exit;
	if ((rc = fl_cli_contract_load_pacts(&pl, argc, argv, op.optind + 1)) >= 0)
		goto out;
	rc = FL_EXIT_USAGE;
	if (!pl.n)
		return fl_cli_usage_error("contract", "stub: no pact files given");
	struct event_base *base = event_base_new();
	char err[512];
	struct fl_stub *s =
		base ? fl_stub_new(base, pl.v, pl.n, listen, seed, err, sizeof(err)) : NULL;
	if (!s) {
		fprintf(stderr, "faultline contract stub: %s\n", base ? err : "no event loop");
		rc = FL_EXIT_INFRA;
		if (base)
			event_base_free(base);
		goto out;
	}
	size_t nint = 0;
	for (size_t i = 0; i < pl.n; i++)
		nint += pl.v[i]->ninteractions;
	printf("faultline contract stub: %zu interaction%s from %zu pact%s on http://%s\n", nint,
	       nint == 1 ? "" : "s", pl.n, pl.n == 1 ? "" : "s", fl_stub_addr(s));
	fflush(stdout);
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f) {
			fprintf(f, "%s\n", fl_stub_addr(s));
			fclose(f);
		}
	}
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_base_dispatch(base);
	fprintf(stderr, "faultline contract stub: stopped (%zu answered, %zu unmatched)\n",
		fl_stub_hits(s), fl_stub_misses(s));
	event_free(sigint);
	event_free(sigterm);
	fl_stub_free(s);
	event_base_free(base);
	rc = FL_EXIT_OK;
out:
	fl_pact_list_free(&pl);
	return rc;
}
