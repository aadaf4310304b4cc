/* Saga checker, money and read models: M1-M3 over ledger snapshots, Q1-Q2
 * over read-model samples (docs/checkers.md). */
#include <stdlib.h>
#include <string.h>

#include "checkers/saga_int.h"

/* --- money snapshots: M1, M2, M3 --- */

static int64_t acct(const json_t *accounts, const char *name)
{
	return json_integer_value(json_object_get(accounts, name));
}

void fl_saga_check_money(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	const struct fl_chk_snapshot *qm = NULL, *qb = NULL, *lastm = NULL, *lastb = NULL;
	int64_t q = h->n_quiescence ? h->quiescence[h->n_quiescence - 1] : INT64_MIN;
	for (size_t i = 0; i < h->n_snaps; i++) {
		const struct fl_chk_snapshot *s = &h->snaps[i];
		int64_t sum = 0, neg = 0;
		const char *k, *negname = NULL;
		json_t *v;
		json_object_foreach(s->accounts, k, v) {
			int64_t b = json_integer_value(v);
			sum += b;
			if (b < 0 && strcmp(k, x->c->corp) && b < neg) {
				neg = b;
				negname = k;
			}
		}
		x->r->mute = s->t < x->c->since; /* earlier snapshots: not reported */
		if (s->kind == FL_SNAP_MONEY) {
			lastm = s;
			if (s->quiescent || (q != INT64_MIN && s->t >= q && (!qm || qm->t < q)))
				qm = s;
			fl_check_pass(x->r, "M1");
			if (sum != 0 || negname) {
				json_t *ev =
					json_pack("{s:I, s:I, s:I, s:O}", "t", (json_int_t)s->t,
						  "line", (json_int_t)s->line, "sum",
						  (json_int_t)sum, "accounts", s->accounts);
				double score = (double)(llabs(sum) + llabs(neg));
				if (sum != 0)
					fl_check_fail(
						x->r, "M1", score, ev,
						"money snapshot (line %ld) sums to %lld, not 0",
						s->line, (long long)sum);
				else
					fl_check_fail(x->r, "M1", score, ev,
						      "money snapshot (line %ld): account %s is "
						      "negative (%lld)",
						      s->line, negname, (long long)neg);
			}
		} else if (s->kind == FL_SNAP_BANK) {
			lastb = s;
			if (s->quiescent || (q != INT64_MIN && s->t >= q && (!qb || qb->t < q)))
				qb = s;
			int64_t total = s->has_total ? s->initial_total : x->c->bank_total;
			if (!s->has_total && !x->c->has_bank_total)
				continue; /* no total to hold it to: M2 not checked */
			fl_check_pass(x->r, "M2");
			if (sum != total)
				fl_check_fail(
					x->r, "M2", (double)llabs(sum - total),
					json_pack("{s:I, s:I, s:I, s:I, s:O}", "t",
						  (json_int_t)s->t, "line", (json_int_t)s->line,
						  "sum", (json_int_t)sum, "initial_total",
						  (json_int_t)total, "accounts", s->accounts),
					"bank snapshot (line %ld) sums to %lld, not the initial "
					"total %lld",
					s->line, (long long)sum, (long long)total);
		}
	}
	x->r->mute = false;
	if (!qm && q == INT64_MIN)
		qm = lastm;
	if (!qb && q == INT64_MIN)
		qb = lastb;
	if (!qm || qm->t < x->c->since)
		return;
	bool running = false;
	for (size_t i = 0; i < x->nsg && !running; i++)
		running = !x->sg[i].ended;
	if (running || qm->t < x->last_end || (qb && qb->t < x->last_end)) {
		fl_check_unknown(x->r, "M3",
				 running ? "sagas still running at the end"
					 : "no ledger snapshot after the last saga ended");
		return;
	}
	fl_check_pass(x->r, "M3");
	int64_t transit = acct(qm->accounts, x->c->transit);
	if (transit != 0)
		fl_check_fail(x->r, "M3", (double)llabs(transit),
			      json_pack("{s:I, s:I, s:O}", "t", (json_int_t)qm->t, "line",
					(json_int_t)qm->line, "accounts", qm->accounts),
			      "at quiescence %s holds %lld (line %ld), not 0", x->c->transit,
			      (long long)transit, qm->line);
	if (qb) {
		int64_t mc = acct(qm->accounts, x->c->corp);
		int64_t bc = acct(qb->accounts, x->c->corp) - x->c->bank_corp_initial;
		if (bc != -mc)
			fl_check_fail(x->r, "M3", (double)llabs(bc + mc),
				      json_pack("{s:I, s:I, s:I, s:I, s:I}", "money_line",
						(json_int_t)qm->line, "bank_line",
						(json_int_t)qb->line, "money_corp", (json_int_t)mc,
						"bank_corp_change", (json_int_t)bc, "difference",
						(json_int_t)(bc + mc)),
				      "at quiescence bank %s changed by %lld but money %s is %lld "
				      "(they must mirror)",
				      x->c->corp, (long long)bc, x->c->corp, (long long)mc);
	}
}

/* --- Q1 read-model convergence, Q2 failure counters --- */

void fl_saga_check_queries(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	bool marker = h->n_quiescence > 0;
	int64_t from = marker ? h->quiescence[h->n_quiescence - 1] + x->c->cqrs_lag_ms * 1000000
			      : INT64_MIN;
	for (size_t i = 0; i < h->n_cqrs; i++) {
		const struct fl_chk_cqrs *c = &h->cqrs[i];
		if (c->t < from || c->t < x->c->since)
			continue;
		if (!marker) { /* only the last sample of each address */
			bool later = false;
			for (size_t j = i + 1; j < h->n_cqrs && !later; j++)
				later = h->cqrs[j].address == c->address;
			if (later)
				continue;
		}
		fl_check_pass(x->r, "Q1");
		if (c->read_model != c->wallet_sum ||
		    (c->has_agg && c->aggregation != c->wallet_sum))
			fl_check_fail(x->r, "Q1", (double)llabs(c->read_model - c->wallet_sum),
				      json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "address",
						c->address >= 0 ? S(x, c->address) : "", "t",
						(json_int_t)c->t, "line", (json_int_t)c->line,
						"read_model", (json_int_t)c->read_model,
						"wallet_sum", (json_int_t)c->wallet_sum,
						"aggregation",
						c->has_agg ? json_integer(c->aggregation)
							   : json_null()),
				      "read model for %s says %lld, wallets sum to %lld (line %ld)",
				      c->address >= 0 ? S(x, c->address) : "?",
				      (long long)c->read_model, (long long)c->wallet_sum, c->line);
	}
	if (marker && h->n_cqrs && !fl_check_find(x->r, "Q1")->checked)
		fl_check_unknown(x->r, "Q1",
				 "no read-model sample taken after quiescence plus lag");
	const struct fl_chk_counts *last = NULL;
	for (size_t i = 0; i < h->n_counts; i++)
		if (h->counts[i].t >= from && h->counts[i].t >= x->c->since)
			last = &h->counts[i];
	if (!last) {
		if (h->n_counts)
			fl_check_unknown(x->r, "Q2",
					 "no failure counters read after quiescence plus "
					 "lag");
		return;
	}
	/* FAILED sagas by reason. */
	json_t *expect = json_object();
	for (size_t i = 0; i < x->nsg; i++) {
		const struct saga_st *s = &x->sg[i];
		if (!s->ended || s->state != x->st_failed)
			continue;
		const char *reason = s->reason >= 0 ? S(x, s->reason) : "unspecified";
		json_t *v = json_object_get(expect, reason);
		json_object_set_new(expect, reason, json_integer(json_integer_value(v) + 1));
	}
	const char *k;
	json_t *v;
	json_object_foreach(last->counts, k, v) {
		fl_check_pass(x->r, "Q2");
		int64_t want = json_integer_value(json_object_get(expect, k));
		if (json_integer_value(v) != want)
			fl_check_fail(x->r, "Q2", (double)llabs(json_integer_value(v) - want),
				      json_pack("{s:s, s:I, s:I, s:I, s:O}", "reason", k, "counter",
						(json_int_t)json_integer_value(v), "failed_sagas",
						(json_int_t)want, "line", (json_int_t)last->line,
						"counts", last->counts),
				      "failure counter %s is %lld but %lld sagas FAILED with that "
				      "reason",
				      k, (long long)json_integer_value(v), (long long)want);
	}
	json_object_foreach(expect, k, v) {
		if (json_object_get(last->counts, k))
			continue;
		fl_check_fail(x->r, "Q2", (double)json_integer_value(v),
			      json_pack("{s:s, s:I, s:I}", "reason", k, "failed_sagas",
					(json_int_t)json_integer_value(v), "line",
					(json_int_t)last->line),
			      "%lld sagas FAILED with reason %s but the counters do not list it",
			      (long long)json_integer_value(v), k);
	}
	json_decref(expect);
}
