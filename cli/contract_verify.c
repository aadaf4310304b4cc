/* faultline contract verify: replay every interaction of the pacts against
 * a running provider (or the reference system's service) and report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/contract_int.h"
#include "contract/verify.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/prng.h"
#include "launcher/launcher.h"
#include "report/report.h"

const struct fl_opt fl_cli_contract_verify_opts[] = {
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
	fl_cli_contract_opts_init(&op, fl_cli_contract_verify_opts, argc, argv);
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

int fl_cli_contract_verify(int argc, char **argv)
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
	if ((rc = fl_cli_contract_load_pacts(&pl, argc, argv, first)) >= 0)
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
