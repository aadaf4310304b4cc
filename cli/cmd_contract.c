/* faultline contract verify|stub|generate|scaffold: thin argument parsing
 * over contract/. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cli/command.h"
#include "report/report.h"
#include "contract/generate.h"
#include "contract/pact.h"
#include "contract/scaffold.h"
#include "contract/stub.h"
#include "contract/verify.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/prng.h"
#include "core/token.h"
#include "launcher/launcher.h"

enum {
	O_PROVIDER_URL = FL_OPT_LONG,
	O_REF,
	O_REF_DATA,
	O_STATE_URL,
	O_STATE_TEARDOWN,
	O_FILTER_CONSUMER,
	O_FILTER_DESCRIPTION,
	O_FILTER_STATE,
	O_EXCLUDE_DESCRIPTION,
	O_REPORT,
	O_TIMEOUT,
	O_SEED,
	O_LISTEN,
	O_READY_FILE,
	O_PCAP,
	O_EVENTS,
	O_MAP,
	O_ONLY_MAPPED,
	O_VERSION,
	O_PROXY,
	O_LINK,
	O_TOKEN,
	O_TOKEN_FILE,
};

static const struct fl_opt verify_opts[] = {
	{ "provider-url", O_PROVIDER_URL, "URL", "the provider (http://127.0.0.1:8080)" },
	{ "ref", O_REF, NULL,
	  "each pact's provider is that service of the running\n"
	  "reference system (faultline ref up)" },
	{ "ref-data", O_REF_DATA, "DIR", "its data directory (default: as faultline ref)" },
	{ "state-change-url", O_STATE_URL, "URL",
	  "POST {\"state\",\"params\",\"action\":\"setup\"} here before\n"
	  "each interaction (values it returns feed ProviderState\n"
	  "generators)" },
	{ "state-change-teardown", O_STATE_TEARDOWN, NULL,
	  "also POST action \"teardown\" afterwards" },
	{ "filter-consumer", O_FILTER_CONSUMER, "RE", "only pacts whose consumer matches RE" },
	{ "filter-description", O_FILTER_DESCRIPTION, "RE",
	  "only interactions whose description matches RE" },
	{ "filter-state", O_FILTER_STATE, "RE",
	  "only interactions with a provider state matching RE" },
	{ "exclude-description", O_EXCLUDE_DESCRIPTION, "RE",
	  "skip interactions whose description matches RE" },
	{ "report", O_REPORT, "FORMAT[=FILE]",
	  "console (default), tap, tap13, junit, json, html; repeatable" },
	{ "timeout", O_TIMEOUT, "S", "per request (default 10)" },
	{ "seed", O_SEED, "N", "seed for generators" },
	FL_OPTS_CLIENT_TLS,
	FL_OPT_END,
};

static const struct fl_opt stub_opts[] = {
	{ "listen", O_LISTEN, "ADDR", "default 127.0.0.1:8080 (port 0 picks one)" },
	{ "ready-file", O_READY_FILE, "FILE", "write the bound address there once listening" },
	{ "seed", O_SEED, "N", "seed for generators" },
	FL_OPT_END,
};

static const struct fl_opt generate_opts[] = {
	{ "pcap", O_PCAP, "FILE", "a pcap or pcapng capture (Ethernet, Linux cooked, loopback)" },
	{ "events", O_EVENTS, "FILE", "the fault injector's recorded exchanges (JSONL)" },
	{ "map", O_MAP, "ADDR:PORT=SERVICE",
	  "name the service listening at ADDR:PORT (repeatable;\n"
	  "unmapped endpoints are named by address)" },
	{ "only-mapped", O_ONLY_MAPPED, NULL,
	  "ignore connections to servers no --map names (captures)" },
	{ "out", 'o', "DIR", "where to write CONSUMER-PROVIDER.json (default .)" },
	{ "version", O_VERSION, "3|4", "pact specification to write (default 4)" },
	FL_OPT_END,
};

static const struct fl_opt record_opts[] = {
	{ "proxy", O_PROXY, "URL",
	  "the proxy's control API (default http://127.0.0.1:8474,\n"
	  "or $FAULTLINE_PROXY_URL)" },
	{ "link", O_LINK, "NAME", "a link (proxy) name, e.g. remittance->money (repeatable)" },
	{ "out", 'o', "FILE", "the JSONL file to write (- for stdout)" },
	{ "token", O_TOKEN, "T",
	  "the API's bearer token (shows in the process list: prefer\n"
	  "--token-file or FAULTLINE_TOKEN)" },
	{ "token-file", O_TOKEN_FILE, "FILE",
	  "read the token from FILE's first line (default:\n"
	  "$FAULTLINE_TOKEN, then $FAULTLINE_PROXY_TOKEN)" },
	FL_OPTS_CLIENT_TLS,
	FL_OPT_END,
};

static const struct fl_opt scaffold_opts[] = {
	{ "out", 'o', "FILE.lua", "the scenario to write" },
	{ "provider-url", O_PROVIDER_URL, "URL", "default provider URL written into the scenario" },
	{ "ref", O_REF, NULL,
	  "use the provider's service of the running reference\n"
	  "system (tests skip when none runs)" },
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline contract verify PACT... --provider-url URL [options]\n"
	  "       faultline contract stub PACT... [--listen ADDR]\n"
	  "       faultline contract generate (--pcap FILE | --events FILE)... [--map ADDR:PORT=SERVICE]...\n"
	  "                                   [--only-mapped] [-o DIR] [--version 3|4]\n"
	  "       faultline contract scaffold PACT -o FILE.lua [--provider-url URL | --ref]\n"
	  "       faultline contract record [--proxy URL] [--link NAME]... -o FILE.jsonl\n"
	  "\n"
	  "Consumer-driven contracts in the Pact format (V2-V4 read, V3/V4 written).\n"
	  "A PACT argument may be a file or a directory of *.json pacts.\n"
	  "\n"
	  "verify: replay every interaction against a running provider and match its answers.\n",
	  verify_opts },
	{ "  Pending interactions are reported but never fail the run.\n"
	  "  Exit: 0 verified, 1 a mismatch, 2 usage or bad pact, 3 provider unreachable.\n"
	  "\n"
	  "stub: answer as the provider would, from the pacts (500 with the mismatches when no\n"
	  "interaction matches a request).\n",
	  stub_opts },
	{ "\n"
	  "generate: pacts from recorded traffic, one per consumer/provider pair.\n",
	  generate_opts },
	{ "\n"
	  "record: save the fault injector's recorded HTTP exchanges of some links (all when no\n"
	  "--link is given) as JSONL for `generate --events`.\n",
	  record_opts },
	{ "\n"
	  "scaffold: a readable Lua contract test for a pact.\n",
	  scaffold_opts },
	{ "  $PROVIDER_URL overrides either when the scenario runs.\n", NULL },
	{ NULL, NULL },
};

/* Start parsing the options of subcommand argv[1] (argv[0] is "contract"). */
static void sub_opts_init(struct fl_opts *o, const struct fl_opt *table, int argc, char **argv)
{
	fl_opts_init(o, &fl_cmd_contract, table, argc - 1, argv + 1);
	o->sub = argv[1];
}

/* --- pact loading -------------------------------------------------------- */

/* Load every PACT operand argv[first..] into l, showing each pact's
 * warnings. Returns -1 to go on, else an exit code (the error printed). */
static int load_pacts(struct fl_pact_list *l, int argc, char **argv, int first)
{
	char err[1024];
	for (int i = first; i < argc; i++) {
		size_t n0 = l->n;
		int rc = fl_pact_list_load(l, argv[i], err, sizeof(err));
		for (size_t k = n0; k < l->n; k++) {
			size_t j;
			json_t *w;
			json_array_foreach(l->v[k]->warnings, j, w)
				fprintf(stderr, "faultline contract: warning: %s: %s\n",
					l->v[k]->source ? l->v[k]->source : argv[i],
					json_string_value(w));
		}
		if (rc < 0) {
			fprintf(stderr, "faultline contract: %s\n", err);
			return FL_EXIT_USAGE;
		}
	}
	return -1;
}

/* --- verify --------------------------------------------------------------- */

struct verify_ctx {
	struct fl_report_set *reports;
	const char *file;
	int index;
};

static void on_result(const struct fl_verify_result *r, void *arg)
{
	struct verify_ctx *c = arg;
	const struct fl_pact_interaction *it = r->interaction;
	struct fl_test_result t = { 0 };
	struct fl_buf name, msg, detail;
	fl_buf_init(&name, 0);
	fl_buf_init(&msg, 0);
	fl_buf_init(&detail, 0);
	char *states = fl_verify_states_text(it);
	fl_buf_printf(&name, "%s%s%s%s", it->description ? it->description : "(no description)",
		      states[0] ? " (" : "", states, states[0] ? ")" : "");
	free(states);
	t.file = strdup(c->file);
	struct fl_buf suite;
	fl_buf_init(&suite, 0);
	fl_buf_printf(&suite, "%s -> %s", r->pact->consumer, r->pact->provider);
	t.suite = fl_buf_take(&suite, NULL);
	t.name = fl_buf_take(&name, NULL);
	t.duration_ns = r->duration_ns;
	t.start_wall_ns = r->start_wall_ns;
	t.index = ++c->index;
	json_t *extra = json_object();
	json_object_set_new(extra, "pending", json_boolean(r->pending));
	json_object_set_new(extra, "mismatches", fl_pact_mismatches_json(&r->mismatches));
	if (r->sent)
		json_object_set(extra, "request", r->sent);
	if (r->received)
		json_object_set(extra, "response", r->received);
	switch (r->status) {
	case FL_VERIFY_PASS: t.status = FL_TEST_PASS; break;
	case FL_VERIFY_SKIP:
		t.status = FL_TEST_SKIP;
		fl_buf_puts(&msg, "filtered out");
		break;
	case FL_VERIFY_FAIL:
	case FL_VERIFY_ERROR:
		t.status = r->pending ? FL_TEST_SKIP : FL_TEST_FAIL;
		if (r->pending)
			fl_buf_puts(&msg, "pending interaction (does not fail the run): ");
		if (r->status == FL_VERIFY_ERROR) {
			fl_buf_puts(&msg, r->error);
			json_object_set_new(extra, "error", json_string(r->error));
		} else {
			const struct fl_pact_mismatch *m = &r->mismatches.v[0];
			fl_buf_printf(&msg, "%s: %s", m->path ? m->path : m->kind, m->message);
			if (r->mismatches.n > 1)
				fl_buf_printf(&msg, " (and %zu more)", r->mismatches.n - 1);
			if (r->mismatches.n > 1) {
				char *txt = fl_pact_mismatches_text(&r->mismatches);
				fl_buf_printf(&detail, "mismatches:\n%s", txt ? txt : "");
				free(txt);
			}
		}
		if (r->sent)
			fl_buf_printf(&detail, "request: %s %s\n",
				      fl_json_str(r->sent, "method", ""),
				      fl_json_str(r->sent, "url", ""));
		if (r->received)
			fl_buf_printf(&detail, "response: %lld %.300s\n",
				      (long long)fl_json_int(r->received, "status", 0),
				      fl_json_str(r->received, "body", ""));
		break;
	}
	t.message = msg.len ? fl_buf_take(&msg, NULL) : NULL;
	t.detail = detail.len ? fl_buf_take(&detail, NULL) : NULL;
	t.extra = extra;
	fl_report_test_done(c->reports, &t);
	fl_test_result_free(&t);
	fl_buf_free(&msg);
	fl_buf_free(&detail);
}

struct verify_args {
	struct fl_verify_opts o;
	struct fl_http_tls tls;
	bool ref;
	const char *ref_data;
	const char *reports[16];
	int nreports;
};

/* Fill *a from argv; the pacts from *first. Returns -1 to go on, else an exit code. */
static int parse_verify(int argc, char **argv, struct verify_args *a, int *first)
{
	struct fl_opts op;
	int c;
	sub_opts_init(&op, verify_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		const char *v = op.arg;
		switch (c) {
		case O_PROVIDER_URL: a->o.provider_url = v; break;
		case O_STATE_URL: a->o.state_change_url = v; break;
		case O_FILTER_CONSUMER: a->o.filter_consumer = v; break;
		case O_FILTER_DESCRIPTION: a->o.filter_description = v; break;
		case O_FILTER_STATE: a->o.filter_state = v; break;
		case O_EXCLUDE_DESCRIPTION: a->o.exclude_description = v; break;
		case O_REF: a->ref = true; break;
		case O_REF_DATA:
			a->ref = true;
			a->ref_data = v;
			break;
		case O_STATE_TEARDOWN: a->o.state_teardown = true; break;
		case O_REPORT:
			if (a->nreports < 16)
				a->reports[a->nreports++] = v;
			break;
		case O_TIMEOUT: a->o.timeout_ms = (long)(atof(v) * 1000); break;
		case O_SEED: a->o.seed = strtoull(v, NULL, 10); break;
		default: fl_cli_tls_take(&a->tls, c, v); break;
		}
	}
	if (c < 0)
		return op.exit;
	int rc = fl_cli_tls_check("contract", &a->tls);
	if (rc >= 0)
		return rc;
	a->o.tls = &a->tls;
	*first = op.optind + 1; /* op parsed argv + 1 */
	if (*first >= argc)
		return fl_cli_usage_error("contract", "verify: no pact files given");
	if (!a->o.provider_url && !a->ref)
		return fl_cli_usage_error("contract",
					  "verify: --provider-url URL or --ref is required");
	return -1;
}

/* The running reference system's topology.json (new reference), or NULL (printed). */
static json_t *ref_topology(const char *data)
{
	char terr[512], path[4096];
	snprintf(path, sizeof(path), "%s/topology.json", data ? data : fl_ref_default_data());
	json_t *topo = fl_json_load_file(path, terr, sizeof(terr));
	if (!topo)
		fprintf(stderr,
			"faultline contract verify: no running reference system (%s); start one "
			"with 'faultline ref up'\n",
			terr);
	return topo;
}

/* Verify one pact as a report "file"; errors counted in *sum. */
static void verify_one(const struct fl_pact *p, struct fl_verify_opts *o, const json_t *topo,
		       struct fl_report_set *set, struct fl_verify_summary *sum)
{
	const char *file = p->source ? p->source : "pact";
	struct verify_ctx vc = { set, file, 0 };
	char err[512];
	if (topo) {
		json_t *svc = json_object_get(json_object_get(topo, "services"), p->provider);
		o->provider_url = fl_json_str(svc, "url", NULL);
	}
	fl_report_file_begin(set, file);
	int rc = 0;
	if (!o->provider_url) {
		snprintf(err, sizeof(err),
			 "the reference system has no service '%s' (the pact's provider)",
			 p->provider);
		rc = -1;
	} else {
		rc = fl_verify_pact(p, o, on_result, &vc, sum, err, sizeof(err));
	}
	if (rc) {
		struct fl_file_error fe = { file, err, FL_EXIT_USAGE };
		fl_report_file_error(set, &fe);
		sum->errors++;
	}
	fl_report_file_end(set, file);
}

static int cmd_verify(int argc, char **argv)
{
	struct verify_args a = { .o.seed = fl_prng_entropy_seed() };
	struct fl_pact_list pl = { 0 };
	struct fl_report_set *set = NULL;
	json_t *topo = NULL;
	int first = argc, rc = parse_verify(argc, argv, &a, &first);
	if (rc >= 0)
		return rc;
	if (a.ref && !(topo = ref_topology(a.ref_data)))
		return FL_EXIT_INFRA;
	if ((rc = load_pacts(&pl, argc, argv, first)) >= 0)
		goto out;
	/* the console summary whatever --report asks for (on standard error
	 * when another report writes to standard output), as `run` does */
	if (!(set = fl_cli_reports("contract", a.reports, a.nreports, 1, &rc)))
		goto out;
	struct fl_verify_summary sum = { 0 };
	int64_t t0 = fl_mono_ns();
	fl_report_run_begin(set, (int)pl.n, a.o.seed);
	for (size_t i = 0; i < pl.n; i++)
		verify_one(pl.v[i], &a.o, topo, set, &sum);
	struct fl_run_summary rs = { .passed = sum.passed,
				     .failed = sum.failed + sum.errors,
				     .skipped = sum.skipped + sum.pending_failed,
				     .files = (int)pl.n,
				     .duration_ns = fl_mono_ns() - t0,
				     .seed = a.o.seed };
	fl_report_run_end(set, &rs);
	if (sum.failed || sum.errors > sum.infra_errors)
		rc = FL_EXIT_FAIL;
	else if (sum.infra_errors)
		rc = FL_EXIT_INFRA;
	else
		rc = FL_EXIT_OK;
out:
	fl_report_set_free(set);
	json_decref(topo);
	fl_pact_list_free(&pl);
	return rc;
}

/* --- stub ----------------------------------------------------------------- */

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static int cmd_stub(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8080", *ready = NULL;
	struct fl_pact_list pl = { 0 };
	int rc = FL_EXIT_USAGE;
	uint64_t seed = fl_prng_entropy_seed();
	struct fl_opts op;
	int c;
	sub_opts_init(&op, stub_opts, argc, argv);
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
	if ((rc = load_pacts(&pl, argc, argv, op.optind + 1)) >= 0)
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

/* --- generate and scaffold -------------------------------------------------------- */

static int cmd_generate(int argc, char **argv)
{
	struct fl_generate_opts o = { .out_dir = ".", .version = 4 };
	const char *inputs[64];
	bool is_pcap[64];
	const char *maps[128];
	size_t nin = 0, nmaps = 0;
	struct fl_opts op;
	int c;
	sub_opts_init(&op, generate_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		const char *v = op.arg;
		switch (c) {
		case O_ONLY_MAPPED: o.only_mapped = 1; break;
		case O_MAP:
			if (nmaps < 128)
				maps[nmaps++] = v;
			break;
		case 'o': o.out_dir = v; break;
		case O_VERSION:
			o.version = atoi(v);
			if (o.version != 3 && o.version != 4)
				return fl_cli_usage_error("contract",
							  "generate: --version must be 3 or 4");
			break;
		case O_PCAP:
		case O_EVENTS:
			if (nin < 64) {
				is_pcap[nin] = c == O_PCAP;
				inputs[nin++] = v;
			}
			break;
		}
	}
	if (c < 0)
		return op.exit;
	if (op.optind + 1 < argc)
		return fl_cli_usage_error("contract", "generate: unexpected argument '%s'",
					  argv[op.optind + 1]);
	if (!nin)
		return fl_cli_usage_error("contract",
					  "generate: give --pcap FILE or --events FILE");
	char err[1024];
	struct fl_generator *g = fl_generator_new(&o, err, sizeof(err));
	if (!g) {
		fprintf(stderr, "faultline contract generate: %s\n", err);
		return FL_EXIT_INFRA;
	}
	int rc = FL_EXIT_OK;
	for (size_t i = 0; i < nmaps && rc == FL_EXIT_OK; i++) {
		if (fl_generator_map(g, maps[i], err, sizeof(err))) {
			rc = fl_cli_usage_error("contract", "generate: %s", err);
		}
	}
	for (size_t i = 0; i < nin && rc == FL_EXIT_OK; i++) {
		int r = is_pcap[i] ? fl_generator_add_pcap(g, inputs[i], err, sizeof(err))
				   : fl_generator_add_events(g, inputs[i], err, sizeof(err));
		if (r) {
			fprintf(stderr, "faultline contract generate: %s\n", err);
			rc = r == FL_EPARSE || r == FL_EINVAL ? FL_EXIT_USAGE : FL_EXIT_INFRA;
		}
	}
	if (rc == FL_EXIT_OK) {
		struct fl_generate_stats st;
		if (fl_generator_write(g, &st, err, sizeof(err))) {
			fprintf(stderr, "faultline contract generate: %s\n", err);
			rc = FL_EXIT_INFRA;
		} else if (st.interactions == 0) {
			/* an empty recording (wrong link, wrong file, no traffic yet)
			 * must not look like a contract that holds */
			fprintf(stderr,
				"faultline contract generate: no HTTP exchange%s in the input%s: "
				"no pact written (record traffic first: faultline contract record)\n",
				st.exchanges ? " between a known consumer and provider" : "",
				st.exchanges ? "" : " (empty recording or capture)");
			rc = FL_EXIT_FAIL;
		} else {
			printf("faultline contract generate: %zu exchange%s, %zu interaction%s, %zu pact%s "
			       "written to %s\n",
			       st.exchanges, st.exchanges == 1 ? "" : "s", st.interactions,
			       st.interactions == 1 ? "" : "s", st.pacts, st.pacts == 1 ? "" : "s",
			       o.out_dir);
			for (size_t i = 0; i < st.nfiles; i++)
				printf("  %s\n", st.files[i]);
			if (st.warnings)
				fprintf(stderr,
					"faultline contract generate: %zu warning%s (see above)\n",
					st.warnings, st.warnings == 1 ? "" : "s");
		}
		fl_generate_stats_free(&st);
	}
	fl_generator_free(g);
	return rc;
}

static int cmd_scaffold(int argc, char **argv)
{
	const char *pact = NULL, *out = NULL, *url = NULL;
	struct fl_opts op;
	int c;
	sub_opts_init(&op, scaffold_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		if (c == 'o')
			out = op.arg;
		else if (c == O_PROVIDER_URL)
			url = op.arg;
		else
			url = "ref";
	}
	if (c < 0)
		return op.exit;
	for (int i = op.optind + 1; i < argc; i++) {
		if (pact)
			return fl_cli_usage_error("contract", "scaffold: one pact at a time");
		pact = argv[i];
	}
	if (!pact || !out)
		return fl_cli_usage_error("contract", "scaffold: usage: scaffold PACT -o FILE.lua");
	char err[1024];
	struct fl_pact *p = fl_pact_load(pact, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "faultline contract scaffold: %s\n", err);
		return FL_EXIT_USAGE;
	}
	int rc = fl_scaffold_write(p, pact, url, out, err, sizeof(err));
	fl_pact_free(p);
	if (rc) {
		fprintf(stderr, "faultline contract scaffold: %s\n", err);
		return FL_EXIT_INFRA;
	}
	printf("faultline contract scaffold: wrote %s\n", out);
	return FL_EXIT_OK;
}

/* --- record -------------------------------------------------------------------- */

static int cmd_record(int argc, char **argv)
{
	const char *proxy = getenv("FAULTLINE_PROXY_URL"), *out = NULL;
	const char *links[64], *token = NULL, *token_file = NULL;
	size_t nlinks = 0;
	struct fl_http_tls tls = { 0 };
	if (!proxy)
		proxy = "http://127.0.0.1:8474";
	struct fl_opts op;
	int c;
	sub_opts_init(&op, record_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		if (c == O_PROXY)
			proxy = op.arg;
		else if (c == 'o')
			out = op.arg;
		else if (c == O_TOKEN)
			token = op.arg;
		else if (c == O_TOKEN_FILE)
			token_file = op.arg;
		else if (fl_cli_tls_take(&tls, c, op.arg))
			continue;
		else if (nlinks < 64)
			links[nlinks++] = op.arg;
	}
	if (c < 0)
		return op.exit;
	if (op.optind + 1 < argc)
		return fl_cli_usage_error("contract", "record: unexpected argument '%s'",
					  argv[op.optind + 1]);
	if (!out)
		return fl_cli_usage_error("contract", "record: -o FILE.jsonl is required");
	if (token && token_file)
		return fl_cli_usage_error("contract", "record: --token and --token-file: give one");
	int rc = fl_cli_tls_check("contract", &tls);
	if (rc >= 0)
		return rc;
	char err[512];
	char *loaded = NULL;
	if (!token && fl_token_load(token_file, &loaded, err, sizeof(err))) {
		fprintf(stderr, "faultline contract record: %s\n", err);
		return FL_EXIT_USAGE;
	}
	FILE *f = strcmp(out, "-") ? fopen(out, "w") : stdout;
	if (!f) {
		fprintf(stderr, "faultline contract record: %s: %s\n", out, strerror(errno));
		free(loaded);
		return FL_EXIT_INFRA;
	}
	struct fl_record_stats st;
	struct fl_record_opts ro = { .token = token ? token : loaded, .tls = &tls };
	rc = FL_EXIT_OK;
	if (fl_contract_record(proxy, links, nlinks, &ro, f, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "faultline contract record: %s\n", err);
		rc = FL_EXIT_INFRA;
	}
	if (f != stdout && fclose(f)) {
		fprintf(stderr, "faultline contract record: %s: write failed\n", out);
		rc = FL_EXIT_INFRA;
	}
	if (rc == FL_EXIT_OK)
		fprintf(stderr,
			"faultline contract record: %zu HTTP exchange%s from %zu link%s written to %s\n",
			st.exchanges, st.exchanges == 1 ? "" : "s", st.links,
			st.links == 1 ? "" : "s", out);
	free(loaded);
	return rc;
}

static int cmd_contract(int argc, char **argv)
{
	if (argc < 2) {
		fl_cli_help_print(&fl_cmd_contract, stderr);
		return FL_EXIT_USAGE;
	}
	if (fl_cli_wants_help(argc, argv)) {
		fl_cli_help_print(&fl_cmd_contract, stdout);
		return FL_EXIT_OK;
	}
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc, argv);
	if (!strcmp(argv[1], "stub"))
		return cmd_stub(argc, argv);
	if (!strcmp(argv[1], "generate"))
		return cmd_generate(argc, argv);
	if (!strcmp(argv[1], "scaffold"))
		return cmd_scaffold(argc, argv);
	if (!strcmp(argv[1], "record"))
		return cmd_record(argc, argv);
	return fl_cli_usage_error(
		"contract", "unknown subcommand '%s' (verify, stub, generate, scaffold, record)",
		argv[1]);
}

const struct fl_command fl_cmd_contract = {
	.name = "contract",
	.summary = "verify providers against pacts, stub them, generate pacts from traffic",
	.help = help,
	.order = 30,
	.run = cmd_contract,
};
