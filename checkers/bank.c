/* The plain bank test (Jepsen's): every snapshot of balances sums to the
 * total (B1) and no balance is negative (B2) unless allowed. Snapshots are
 * bank_snapshot / money_snapshot events and clients' ok reads whose value
 * has "accounts" (or "balances"). */
#include <stdlib.h>
#include <string.h>

#include "checkers/check.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

static bool allowed(const struct fl_bank_config *c, const char *name)
{
	for (int i = 0; i < c->nallow; i++)
		if (!strcmp(c->allow_negative[i], name))
			return true;
	return false;
}

struct fl_check_result *fl_check_bank(struct fl_chk_history *h, const struct fl_bank_config *c)
{
	int64_t t0 = fl_mono_ns();
	struct fl_check_result *r = fl_check_result_new("bank");
	if (!r || fl_chk_history_seal(h) < 0) {
		fl_check_result_free(r);
		return NULL;
	}
	fl_check_declare(r, "B1", "snapshots sum to the total");
	fl_check_declare(r, "B2", "no negative balance");
	static const char *const src[] = { "money_snapshot", "bank_snapshot", "read" };
	long used = 0;
	for (size_t i = 0; i < h->n_snaps; i++) {
		const struct fl_chk_snapshot *s = &h->snaps[i];
		if ((s->kind == FL_SNAP_BANK && !c->use_bank) ||
		    (s->kind == FL_SNAP_MONEY && !c->use_money) ||
		    (s->kind == FL_SNAP_READ && !c->use_reads))
			continue;
		used++;
		int64_t sum = s->sum;
		const char *k;
		json_t *v;
		if (!s->accounts)
			fl_check_pass(r, "B2"); /* a read kept lean: it had no negative balance */
		json_object_foreach(s->accounts, k, v) {
			int64_t b = json_integer_value(v);
			fl_check_pass(r, "B2");
			if (b < 0 && !allowed(c, k))
				fl_check_fail(r, "B2", (double)-b,
					      json_pack("{s:s, s:I, s:I, s:s, s:I, s:O}", "source",
							src[s->kind], "t", (json_int_t)s->t, "line",
							(json_int_t)s->line, "account", k,
							"balance", (json_int_t)b, "accounts",
							s->accounts),
					      "%s (line %ld): account %s is negative (%lld)",
					      src[s->kind], s->line, k, (long long)b);
		}
		if (!s->has_total && !c->has_total) {
			fl_check_unknown(r, "B1",
					 "no total configured and the snapshots carry none");
			continue;
		}
		int64_t total = s->has_total ? s->initial_total : c->total;
		fl_check_pass(r, "B1");
		if (sum != total)
			fl_check_fail(r, "B1", (double)llabs(sum - total),
				      json_pack("{s:s, s:I, s:I, s:I, s:I, s:O}", "source",
						src[s->kind], "t", (json_int_t)s->t, "line",
						(json_int_t)s->line, "sum", (json_int_t)sum,
						"total", (json_int_t)total, "accounts",
						s->accounts ? s->accounts : json_null()),
				      "%s (line %ld) sums to %lld, not %lld", src[s->kind], s->line,
				      (long long)sum, (long long)total);
	}
	fl_check_stat(r, "snapshots", used);
	fl_check_result_finish(r);
	r->duration_ns = fl_mono_ns() - t0;
	return r;
}
