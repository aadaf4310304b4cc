/* Saga and money checker (docs/checkers.md): S1-S6 and S8 here, S7 in
 * saga_wire.c, M1-M3 and Q1-Q2 in saga_money.c. One pass over the saga events in time order keeps a
 * small state per saga; effects, client operations, snapshots and
 * read-model samples are then checked against it. Linear in the history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkers/check.h"
#include "checkers/saga_int.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

static json_t *jstr_or_null(struct ctx *x, int32_t id)
{
	return id >= 0 ? json_string(S(x, id)) : json_null();
}

/* The saga's events as evidence (at most 40). */
json_t *fl_saga_evidence(struct ctx *x, const struct saga_st *s)
{
	json_t *steps = json_array();
	for (size_t i = 0; i < s->ev_n && i < 40; i++) {
		const struct fl_chk_saga_ev *e = &x->h->saga[x->by_saga[s->ev_off + i]];
		json_t *o = json_pack("{s:s, s:I, s:I}", "event", fl_saga_ev_str(e->kind), "t",
				      (json_int_t)e->t, "line", (json_int_t)e->line);
		if (e->step_name >= 0)
			json_object_set_new(o, "step", json_string(S(x, e->step_name)));
		else if (e->step)
			json_object_set_new(o, "step", json_integer(e->step));
		if (e->kind != FL_SAGA_STARTED && e->kind != FL_SAGA_ENDED)
			json_object_set_new(o, "dir", json_string(e->comp ? "comp" : "fwd"));
		if (e->key >= 0)
			json_object_set_new(o, "key", json_string(S(x, e->key)));
		if (e->participant >= 0)
			json_object_set_new(o, "participant", json_string(S(x, e->participant)));
		if (e->state >= 0)
			json_object_set_new(o, "state", json_string(S(x, e->state)));
		if (e->reason >= 0)
			json_object_set_new(o, "reason", json_string(S(x, e->reason)));
		if (e->outcome >= 0)
			json_object_set_new(o, "outcome", json_string(S(x, e->outcome)));
		if (e->amount)
			json_object_set_new(o, "amount", json_integer(e->amount));
		json_array_append_new(steps, o);
	}
	if (s->ev_n > 40)
		json_array_append_new(steps, json_pack("{s:I}", "more_events",
						       (json_int_t)(s->ev_n - 40)));
	return json_pack("{s:s, s:o, s:I, s:o}", "saga_id", S(x, s->id), "state",
			 jstr_or_null(x, s->state), "amount", (json_int_t)s->amount, "steps",
			 steps);
}

/* "debit" for a step given by name, else its number. */
const char *fl_saga_step_label(struct ctx *x, const struct saga_st *s, int k, char *buf, size_t n)
{
	if (k >= 1 && k <= s->nnames)
		return S(x, s->names[k - 1]);
	snprintf(buf, n, "%d", k);
	return buf;
}

static struct saga_st *saga_of(struct ctx *x, int32_t id)
{
	return x->slot[id] >= 0 ? &x->sg[x->slot[id]] : NULL;
}

/* Build the per-saga table and the by-saga event index (counting sort). */
static int index_sagas(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	size_t ns = fl_chk_nstrs(h);
	x->slot = malloc((ns ? ns : 1) * sizeof(*x->slot));
	if (!x->slot)
		return FL_ENOMEM;
	for (size_t i = 0; i < ns; i++)
		x->slot[i] = -1;
	for (size_t i = 0; i < h->n_saga; i++)
		if (x->slot[h->saga[i].saga] < 0)
			x->slot[h->saga[i].saga] = (int32_t)x->nsg++;
	x->sg = calloc(x->nsg ? x->nsg : 1, sizeof(*x->sg));
	x->by_saga = malloc((h->n_saga ? h->n_saga : 1) * sizeof(*x->by_saga));
	if (!x->sg || !x->by_saga)
		return FL_ENOMEM;
	for (size_t i = 0; i < h->n_saga; i++) {
		struct saga_st *s = &x->sg[x->slot[h->saga[i].saga]];
		if (!s->ev_n) {
			s->id = h->saga[i].saga;
			s->state = s->reason = s->type = s->request_key = -1;
			s->deadline_ms = x->c->deadline_ms;
			s->started_t = s->clock_t = h->saga[i].t;
			s->start_line = h->saga[i].line;
		}
		if (h->saga[i].kind == FL_SAGA_STARTED && !s->started) {
			s->started = true; /* replay sets it again */
			s->started_t = s->clock_t = h->saga[i].t;
		}
		s->ev_n++;
	}
	size_t off = 0;
	for (size_t i = 0; i < x->nsg; i++) {
		x->sg[i].ev_off = off;
		off += x->sg[i].ev_n;
		x->sg[i].ev_n = 0;
	}
	for (size_t i = 0; i < h->n_saga; i++) {
		struct saga_st *s = &x->sg[x->slot[h->saga[i].saga]];
		x->by_saga[s->ev_off + s->ev_n++] = i;
	}
	return 0;
}

/* Whether the saga is in the checked window (it started at or after
 * `since`); sagas before it only build state. */
static bool in_window(struct ctx *x, const struct saga_st *s)
{
	return s->started_t >= x->c->since;
}

static bool applied(uint8_t f)
{
	return f == F_OK || f == F_APPLIED;
}

/* S3 and S5 when a compensation of step k is requested. */
static void on_comp_requested(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e,
			      int k)
{
	char kb[16], jb[16];
	const char *kl = fl_saga_step_label(x, s, k, kb, sizeof(kb));
	if (s->comp[k] != C_NONE)
		return; /* a retry of the same compensation */
	s->comp[k] = C_REQ;
	fl_check_pass(x->r, "S5");
	if (s->pending_unknown) {
		json_t *ev = fl_saga_evidence(x, s);
		json_object_set_new(ev, "unknown_line", json_integer(s->unknown_line));
		json_object_set_new(ev, "compensation_line", json_integer(e->line));
		fl_check_fail(x->r, "S5", 1, ev,
			      "saga %s: compensation of step %s requested (line %ld) while an "
			      "UNKNOWN outcome (line %ld) was neither queried nor retried",
			      S(x, s->id), kl, e->line, s->unknown_line);
	}
	fl_check_pass(x->r, "S3");
	if (!applied(s->fwd[k])) {
		static const char *const fs[] = { "never sent", "requested, no outcome",
						  "succeeded",	"failed",
						  "unknown",	"applied",
						  "not applied" };
		fl_check_fail(x->r, "S3", 2, fl_saga_evidence(x, s),
			      "saga %s: compensation of step %s (line %ld) but its forward step "
			      "was %s",
			      S(x, s->id), kl, e->line, fs[s->fwd[k]]);
	} else if (s->comp_min && k > s->comp_min) {
		fl_check_fail(x->r, "S3", 1, fl_saga_evidence(x, s),
			      "saga %s: compensation of step %s (line %ld) after step %s's: not in "
			      "reverse order",
			      S(x, s->id), kl, e->line,
			      fl_saga_step_label(x, s, s->comp_min, jb, sizeof(jb)));
	} else if (s->pivot_step && applied(s->fwd[s->pivot_step])) {
		fl_check_fail(x->r, "S3", 3, fl_saga_evidence(x, s),
			      "saga %s: compensation of step %s (line %ld) after the pivot (step "
			      "%s) succeeded",
			      S(x, s->id), kl, e->line,
			      fl_saga_step_label(x, s, s->pivot_step, jb, sizeof(jb)));
	}
	if (!s->comp_min || k < s->comp_min)
		s->comp_min = (int16_t)k;
}

static bool moves_money(struct ctx *x, const struct saga_st *s, int k);

/* S1: a saga's deadline may be suspended (saga_deferred) only while nothing
 * it applied is outstanding: money it moved must be settled or given back
 * within the deadline, breaker or not. */
static void on_deferred(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e)
{
	char kb[16];
	s->path |= PATH_DEFERRED;
	for (int k = 1; k <= MAXSTEP; k++) {
		if (!applied(s->fwd[k]) || s->comp[k] == C_OK || !moves_money(x, s, k))
			continue;
		json_t *ev = fl_saga_evidence(x, s);
		json_object_set_new(ev, "deferred_line", json_integer(e->line));
		fl_check_fail(x->r, "S1", (double)(s->amount ? s->amount : 1), ev,
			      "saga %s deferred (line %ld), its deadline suspended, after step %s "
			      "was applied",
			      S(x, s->id), e->line, fl_saga_step_label(x, s, k, kb, sizeof(kb)));
		return;
	}
}

/* What the saga went through, for the coverage summary and S7. */
static void on_step_event(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e, int k)
{
	if (e->kind == FL_STEP_REQUESTED && !e->comp) {
		s->req_t[k] = e->t;
		if (s->nreq[k] < 255)
			s->nreq[k]++;
	} else if ((e->kind == FL_STEP_REQUESTED && e->comp) || e->kind == FL_COMP_REQUESTED) {
		if (!s->comp_t)
			s->comp_t = e->t;
		if (s->ncomp[k] < 255 && ++s->ncomp[k] > 1)
			s->path |= PATH_COMP_RETRY;
	} else if (e->kind == FL_STEP_UNKNOWN && !e->comp) {
		s->path |= PATH_UNKNOWN | (k == s->pivot_step ? PATH_PIVOT_DOUBT : 0);
	} else if (e->kind == FL_STEP_RESOLVED && !e->comp) {
		const char *o = S(x, e->outcome);
		bool yes =
			!strcmp(o, "applied") || !strcmp(o, "succeeded") || !strcmp(o, "APPLIED");
		s->path |= yes ? PATH_RES_APPLIED : PATH_RES_NOT;
	} else if (e->kind == FL_STEP_FAILED && !e->comp) {
		if (e->definite == 1)
			s->path |= PATH_NOT_SENT;
		else if (s->pivot_step && k > s->pivot_step)
			s->path |= PATH_AFTER_PIVOT;
	}
	fl_saga_wire_step(x, s, e, k);
}

static void replay(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	for (size_t i = 0; i < h->n_saga; i++) {
		const struct fl_chk_saga_ev *e = &h->saga[i];
		struct saga_st *s = saga_of(x, e->saga);
		int k = e->step;
		x->r->mute = !in_window(x, s);
		if (e->step_name >= 0 && !k) {
			for (int j = 0; j < s->nnames && !k; j++)
				if (s->names[j] == e->step_name)
					k = j + 1;
			if (!k && s->nnames < MAXSTEP) {
				s->names[s->nnames++] = e->step_name;
				k = s->nnames;
			} else if (!k) {
				k = MAXSTEP + 1;
			}
		}
		if (k > MAXSTEP) {
			fl_check_unknown(x->r, "S3", "line %ld: step %d beyond %d not tracked",
					 e->line, k, MAXSTEP);
			continue;
		}
		if (e->pivot && k && !s->pivot_step)
			s->pivot_step = (int16_t)k;
		if (e->kind != FL_SAGA_STARTED && e->kind != FL_SAGA_DEFERRED &&
		    e->kind != FL_SAGA_RESUMED)
			s->deferred = false; /* it runs (or ended) again */
		if (!e->comp && e->kind != FL_SAGA_STARTED && e->kind != FL_SAGA_ENDED &&
		    e->kind != FL_SAGA_DEFERRED && e->kind != FL_SAGA_RESUMED) {
			s->eff[k] |= (e->has_amount ? (e->amount ? EFF_AMT : EFF_ZERO) : 0) |
				     (e->effect == 2   ? EFF_YES
				      : e->effect == 1 ? EFF_NO
						       : 0);
		}
		if (e->kind != FL_SAGA_STARTED && e->kind != FL_SAGA_ENDED &&
		    e->kind != FL_SAGA_DEFERRED && e->kind != FL_SAGA_RESUMED)
			on_step_event(x, s, e, k);
		switch (e->kind) {
		case FL_SAGA_STARTED:
			s->started = true;
			s->started_t = s->clock_t = e->t;
			s->start_line = e->line;
			s->type = e->saga_type;
			s->request_key = e->request_key;
			s->amount = e->amount;
			if (e->deadline_ms >= 0)
				s->deadline_ms = e->deadline_ms;
			if (e->pivot_step)
				s->pivot_step = e->pivot_step;
			break;
		case FL_STEP_REQUESTED:
			if (e->comp) {
				on_comp_requested(x, s, e, k);
				break;
			}
			if (s->fwd[k] == F_UNK)
				s->pending_unknown &= ~(1u << k); /* same-key retry */
			if (!applied(s->fwd[k]))
				s->fwd[k] = F_REQ;
			break;
		case FL_STEP_SUCCEEDED:
			if (e->comp) {
				s->comp[k] = C_OK;
				break;
			}
			s->fwd[k] = F_OK;
			s->pending_unknown &= ~(1u << k);
			if (k && k == s->pivot_step && !s->pivot_t)
				s->pivot_t = e->t;
			break;
		case FL_STEP_FAILED:
			if (e->comp)
				break;
			if (!applied(s->fwd[k]))
				s->fwd[k] = F_FAIL;
			s->pending_unknown &= ~(1u << k);
			break;
		case FL_STEP_UNKNOWN:
			if (e->comp)
				break;
			if (k && k == s->pivot_step && !s->doubt_t)
				s->doubt_t = e->t;
			if (!applied(s->fwd[k])) {
				s->fwd[k] = F_UNK;
				s->pending_unknown |= 1u << k;
				s->unknown_line = e->line;
			}
			break;
		case FL_STEP_RESOLVED: {
			const char *o = S(x, e->outcome);
			bool yes = !strcmp(o, "applied") || !strcmp(o, "succeeded") ||
				   !strcmp(o, "APPLIED");
			if (e->comp)
				break;
			s->fwd[k] = yes ? F_APPLIED : F_NOT_APPLIED;
			s->pending_unknown &= ~(1u << k);
			if (yes && k && k == s->pivot_step && !s->pivot_t)
				s->pivot_t = e->t;
			break;
		}
		case FL_COMP_REQUESTED: on_comp_requested(x, s, e, k); break;
		case FL_COMP_SUCCEEDED: s->comp[k] = C_OK; break;
		case FL_SAGA_DEFERRED:
			on_deferred(x, s, e);
			s->clock_t = e->t;
			s->deferred = true;
			s->deferred_line = e->line;
			break;
		case FL_SAGA_RESUMED:
			s->clock_t = e->t;
			s->deferred = false;
			if (e->deadline_ms >= 0)
				s->deadline_ms = e->deadline_ms; /* from the resume */
			break;
		case FL_SAGA_ENDED:
			s->ended = true;
			s->ended_t = e->t;
			s->end_line = e->line;
			s->state = e->state;
			s->reason = e->reason;
			if (e->t > x->last_end)
				x->last_end = e->t;
			break;
		}
	}
	x->r->mute = false;
}

/* Whether forward step k moves money, from the saga's own events: "effect"
 * says so when given; otherwise a step that only checks (validate*,
 * verify*: the reference system's validate step carries the saga's amount
 * and a participant but moves nothing) or says "amount": 0 moves none.
 * Minimal histories (steps without participant or amount) keep counting. */
static bool moves_money(struct ctx *x, const struct saga_st *s, int k)
{
	uint8_t f = s->eff[k];
	if (f & EFF_YES)
		return true;
	if (f & EFF_NO)
		return false;
	if (k >= 1 && k <= s->nnames) {
		const char *n = S(x, s->names[k - 1]);
		if (!strncasecmp(n, "validat", 7) || !strncasecmp(n, "verif", 5))
			return false;
	}
	return (f & EFF_AMT) || !(f & EFF_ZERO);
}

static bool terminal(struct ctx *x, const struct saga_st *s)
{
	return s->ended && (s->state == x->st_completed || s->state == x->st_compensated ||
			    s->state == x->st_failed);
}

/* S8: an ended saga's compensations are on record: each one requested has
 * its compensation_succeeded, and a COMPENSATED saga has at least one. */
static void check_compensations(struct ctx *x, const struct saga_st *s)
{
	char kb[16];
	bool any = false;
	fl_check_pass(x->r, "S8");
	for (int k = 1; k <= MAXSTEP; k++) {
		any |= s->comp[k] == C_OK;
		if (s->comp[k] != C_REQ)
			continue;
		fl_check_fail(
			x->r, "S8", (double)(s->amount ? s->amount : 1), fl_saga_evidence(x, s),
			"saga %s ended %s (line %ld) with the compensation of step %s requested "
			"but never recorded as succeeded",
			S(x, s->id), S(x, s->state), s->end_line,
			fl_saga_step_label(x, s, k, kb, sizeof(kb)));
		return;
	}
	if (!any && s->state == x->st_compensated)
		fl_check_fail(x->r, "S8", (double)(s->amount ? s->amount : 1),
			      fl_saga_evidence(x, s),
			      "saga %s ended COMPENSATED (line %ld) without any "
			      "compensation_succeeded",
			      S(x, s->id), s->end_line);
}

/* S1 termination and S2 (from the saga's own events when no effects exist). */
static void check_sagas(struct ctx *x, bool have_effects)
{
	int64_t end = x->h->t_last;
	for (size_t i = 0; i < x->nsg; i++) {
		struct saga_st *s = &x->sg[i];
		int64_t limit_ns = (s->deadline_ms + x->c->grace_ms) * 1000000;
		if (!in_window(x, s))
			continue;
		fl_check_pass(x->r, "S1");
		if (!s->ended && s->deferred) {
			fl_check_unknown(
				x->r, "S1",
				"saga %s still deferred (line %ld, %.1f s before the history "
				"ends): its deadline is suspended until it resumes",
				S(x, s->id), s->deferred_line, (double)(end - s->clock_t) / 1e9);
			continue;
		}
		if (!s->ended) {
			if (end - s->clock_t > limit_ns)
				fl_check_fail(
					x->r, "S1", (double)(end - s->clock_t) / 1e9,
					fl_saga_evidence(x, s),
					"saga %s (started line %ld) still running %.1f s after it "
					"started or last resumed, past its deadline plus grace (%.1f s)",
					S(x, s->id), s->start_line,
					(double)(end - s->clock_t) / 1e9, (double)limit_ns / 1e9);
			else
				fl_check_unknown(x->r, "S1",
						 "saga %s still running when the history ends, "
						 "before its deadline plus grace",
						 S(x, s->id));
			continue;
		}
		if (!terminal(x, s)) {
			fl_check_fail(x->r, "S1", 1e6, fl_saga_evidence(x, s),
				      "saga %s ended %s (line %ld), not COMPLETED, COMPENSATED or "
				      "FAILED",
				      S(x, s->id), s->state >= 0 ? S(x, s->state) : "(no state)",
				      s->end_line);
			continue;
		}
		/* the deadline binds until the saga decides: its pivot passed or
		 * sent (in doubt), or its first compensation requested */
		int64_t decided = s->ended_t;
		const char *what = "end";
		if (s->comp_t && s->comp_t < decided) {
			decided = s->comp_t;
			what = "start compensating";
		}
		if (s->pivot_t && s->pivot_t < decided) {
			decided = s->pivot_t;
			what = "pass its pivot";
		}
		if (s->doubt_t && s->doubt_t < decided) {
			decided = s->doubt_t;
			what = "send its pivot";
		}
		if (decided - s->clock_t > limit_ns)
			fl_check_fail(x->r, "S1", (double)(decided - s->clock_t) / 1e9,
				      fl_saga_evidence(x, s),
				      "saga %s took %.1f s to %s, past its deadline plus grace "
				      "(%.1f s)",
				      S(x, s->id), (double)(decided - s->clock_t) / 1e9, what,
				      (double)limit_ns / 1e9);
		check_compensations(x, s);
		if (have_effects)
			continue;
		/* S2 from the coordinator's events: every step that moves money
		 * and was applied is compensated (or, COMPLETED, succeeded). */
		fl_check_pass(x->r, "S2");
		char kb[16];
		if (s->state == x->st_completed) {
			for (int k = 1; k <= MAXSTEP; k++) {
				if (s->comp[k] == C_OK) {
					fl_check_fail(
						x->r, "S2", 1, fl_saga_evidence(x, s),
						"saga %s COMPLETED but step %s was compensated",
						S(x, s->id),
						fl_saga_step_label(x, s, k, kb, sizeof(kb)));
					break;
				}
				if (s->fwd[k] != F_NONE && !applied(s->fwd[k]) &&
				    moves_money(x, s, k)) {
					fl_check_fail(
						x->r, "S2", 1, fl_saga_evidence(x, s),
						"saga %s COMPLETED but step %s never succeeded",
						S(x, s->id),
						fl_saga_step_label(x, s, k, kb, sizeof(kb)));
					break;
				}
			}
			continue;
		}
		for (int k = 1; k <= MAXSTEP; k++) {
			bool a = applied(s->fwd[k]), c = s->comp[k] == C_OK;
			if (a && !c && moves_money(x, s, k)) {
				fl_check_fail(x->r, "S2", (double)(s->amount ? s->amount : 1),
					      fl_saga_evidence(x, s),
					      "saga %s %s but step %s was applied and never "
					      "compensated",
					      S(x, s->id), S(x, s->state),
					      fl_saga_step_label(x, s, k, kb, sizeof(kb)));
				break;
			}
			if (!a && c && s->fwd[k] != F_UNK) {
				fl_check_fail(
					x->r, "S2", (double)(s->amount ? s->amount : 1),
					fl_saga_evidence(x, s),
					"saga %s %s: step %s was compensated but never applied",
					S(x, s->id), S(x, s->state),
					fl_saga_step_label(x, s, k, kb, sizeof(kb)));
				break;
			}
		}
	}
}

/* --- effects: S2 (net effect per participant) and S4 (one effect per key) --- */

struct net {
	int32_t participant, account;
	int64_t amount;
};

static void add_net(struct net *nets, int *n, int max, int32_t p, int32_t acc, int64_t d)
{
	if (acc < 0)
		return;
	for (int i = 0; i < *n; i++)
		if (nets[i].participant == p && nets[i].account == acc) {
			nets[i].amount += d;
			return;
		}
	if (*n < max)
		nets[(*n)++] = (struct net){ p, acc, d };
}

static json_t *nets_json(struct ctx *x, const struct net *nets, int n)
{
	json_t *o = json_object();
	for (int i = 0; i < n; i++) {
		char k[2 * FL_CHK_NAME_MAX + 2];
		snprintf(k, sizeof(k), "%s/%s", S(x, nets[i].participant), S(x, nets[i].account));
		json_object_set_new(o, k, json_integer(nets[i].amount));
	}
	return o;
}

static int check_effects(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	size_t n = h->n_effects;
	/* S4: (participant, key) seen twice. Open addressing on the pair. */
	size_t cap = 16;
	while (cap < n * 2)
		cap <<= 1;
	int64_t *tab = malloc(cap * sizeof(*tab));
	size_t *grp = malloc((n ? n : 1) * sizeof(*grp));
	size_t *cnt = calloc(x->nsg + 1, sizeof(*cnt));
	if (!tab || !grp || !cnt) {
		free(tab);
		free(grp);
		free(cnt);
		return FL_ENOMEM;
	}
	memset(tab, 0xff, cap * sizeof(*tab));
	for (size_t i = 0; i < n; i++) {
		const struct fl_chk_effect *e = &h->effects[i];
		if (e->key < 0)
			continue;
		/* in the window: the effect's saga, else the effect itself */
		const struct saga_st *es = e->saga >= 0 ? saga_of(x, e->saga) : NULL;
		x->r->mute = es ? !in_window(x, es) : e->t < x->c->since;
		fl_check_pass(x->r, "S4");
		uint64_t hv = ((uint64_t)(uint32_t)e->participant * 0x9E3779B97F4A7C15ull) ^
			      (uint64_t)(uint32_t)e->key;
		hv ^= hv >> 29;
		size_t j = hv & (cap - 1);
		while (tab[j] >= 0) {
			const struct fl_chk_effect *o = &h->effects[tab[j]];
			if (o->participant == e->participant && o->key == e->key)
				break;
			j = (j + 1) & (cap - 1);
		}
		if (tab[j] < 0) {
			tab[j] = (int64_t)i;
			continue;
		}
		const struct fl_chk_effect *o = &h->effects[tab[j]];
		fl_check_fail(x->r, "S4", (double)e->amount,
			      json_pack("{s:s, s:s, s:I, s:I, s:I}", "participant",
					S(x, e->participant), "key", S(x, e->key), "amount",
					(json_int_t)e->amount, "first_line", (json_int_t)o->line,
					"second_line", (json_int_t)e->line),
			      "key %s had a second effect at %s (lines %ld and %ld)", S(x, e->key),
			      S(x, e->participant), o->line, e->line);
	}
	x->r->mute = false;
	free(tab);
	/* S2: group effects by saga (counting sort), then net per account. */
	for (size_t i = 0; i < n; i++) {
		int32_t sid = h->effects[i].saga;
		cnt[sid >= 0 && x->slot[sid] >= 0 ? x->slot[sid] : (int32_t)x->nsg]++;
	}
	size_t off = 0;
	for (size_t i = 0; i <= x->nsg; i++) {
		size_t c = cnt[i];
		cnt[i] = off;
		off += c;
	}
	for (size_t i = 0; i < n; i++) {
		int32_t sid = h->effects[i].saga;
		grp[cnt[sid >= 0 && x->slot[sid] >= 0 ? x->slot[sid] : (int32_t)x->nsg]++] = i;
	}
	size_t start = 0;
	for (size_t si = 0; si < x->nsg; si++) {
		size_t stop = cnt[si];
		struct saga_st *s = &x->sg[si];
		if (!terminal(x, s) || !in_window(x, s)) {
			start = stop;
			continue;
		}
		struct net nets[32];
		int nn = 0;
		for (size_t i = start; i < stop; i++) {
			const struct fl_chk_effect *e = &h->effects[grp[i]];
			add_net(nets, &nn, 32, e->participant, e->from, -e->amount);
			add_net(nets, &nn, 32, e->participant, e->to, e->amount);
		}
		start = stop;
		fl_check_pass(x->r, "S2");
		if (s->state != x->st_completed) {
			int64_t worst = 0;
			for (int i = 0; i < nn; i++)
				if (llabs(nets[i].amount) > worst)
					worst = llabs(nets[i].amount);
			if (worst) {
				json_t *ev = fl_saga_evidence(x, s);
				json_object_set_new(ev, "net_effects", nets_json(x, nets, nn));
				fl_check_fail(
					x->r, "S2", (double)worst, ev,
					"saga %s ended %s with a net effect (up to %lld on one "
					"account)",
					S(x, s->id), S(x, s->state), (long long)worst);
			}
			continue;
		}
		/* COMPLETED: at each participant, the amount moved is the saga's
		 * amount: what left accounts, or what arrived when only arrivals are
		 * recorded (single-leg effects), equals it. */
		for (int i = 0; i < nn && s->amount > 0; i++) {
			int64_t pos = 0, neg = 0;
			bool seen = false;
			for (int j = 0; j < nn; j++) {
				if (nets[j].participant != nets[i].participant)
					continue;
				if (j < i) {
					seen = true;
					break;
				}
				if (nets[j].amount > 0)
					pos += nets[j].amount;
				else
					neg -= nets[j].amount;
			}
			if (neg > pos)
				pos = neg;
			if (seen || pos == s->amount)
				continue;
			json_t *ev = fl_saga_evidence(x, s);
			json_object_set_new(ev, "net_effects", nets_json(x, nets, nn));
			fl_check_fail(
				x->r, "S2", (double)llabs(pos - s->amount), ev,
				"saga %s COMPLETED moving %lld at %s instead of its amount %lld",
				S(x, s->id), (long long)pos, S(x, nets[i].participant),
				(long long)s->amount);
			break;
		}
	}
	free(grp);
	free(cnt);
	return 0;
}

/* --- S6 client agreement --- */

static void check_clients(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	size_t ns = fl_chk_nstrs(h);
	int32_t *by_key = NULL;
	for (size_t i = 0; i < x->nsg; i++) {
		if (x->sg[i].request_key < 0)
			continue;
		if (!by_key) {
			by_key = malloc(ns * sizeof(*by_key));
			if (!by_key)
				return;
			for (size_t j = 0; j < ns; j++)
				by_key[j] = -1;
		}
		by_key[x->sg[i].request_key] = (int32_t)i;
	}
	int32_t completed_str = fl_chk_lookup(h, "COMPLETED");
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct fl_chk_op *o = &h->ops[i];
		if (o->type == FL_OP_INVOKE)
			continue;
		struct saga_st *s = NULL;
		if (o->saga >= 0 && x->slot[o->saga] >= 0)
			s = &x->sg[x->slot[o->saga]];
		else if (o->key >= 0 && by_key && by_key[o->key] >= 0)
			s = &x->sg[by_key[o->key]];
		if (!s)
			continue;
		/* in the window: operations invoked at or after `since` */
		if ((o->pair >= 0 ? h->ops[o->pair].t : o->t) < x->c->since)
			continue;
		int type = o->type;
		if (type == FL_OP_OK && o->state >= 0 && o->state != completed_str)
			type = FL_OP_INFO; /* accepted, not done: outcome comes later */
		fl_check_pass(x->r, "S6");
		json_t *ev = NULL;
		if (type == FL_OP_OK && !(s->ended && s->state == x->st_completed)) {
			ev = fl_saga_evidence(x, s);
			json_object_set_new(ev, "op_line", json_integer(o->line));
			fl_check_fail(x->r, "S6", 2, ev,
				      "client got ok for saga %s (line %ld) but the saga %s",
				      S(x, s->id), o->line,
				      s->ended ? S(x, s->state) : "never ended");
		} else if (type == FL_OP_FAIL && s->ended && s->state == x->st_completed) {
			ev = fl_saga_evidence(x, s);
			json_object_set_new(ev, "op_line", json_integer(o->line));
			fl_check_fail(
				x->r, "S6", 2, ev,
				"client got fail for saga %s (line %ld) but the saga COMPLETED",
				S(x, s->id), o->line);
		} else if (type == FL_OP_INFO && !s->ended && !s->deferred &&
			   h->t_last - s->clock_t > (s->deadline_ms + x->c->grace_ms) * 1000000) {
			ev = fl_saga_evidence(x, s);
			json_object_set_new(ev, "op_line", json_integer(o->line));
			fl_check_fail(
				x->r, "S6", 1, ev,
				"client got an indeterminate answer for saga %s (line %ld) and "
				"the saga never converged",
				S(x, s->id), o->line);
		}
	}
	free(by_key);
}

struct fl_check_result *fl_check_saga(struct fl_chk_history *h, const struct fl_saga_config *c)
{
	int64_t t0 = fl_mono_ns();
	struct fl_check_result *r = fl_check_result_new("saga");
	if (!r || fl_chk_history_seal(h) < 0) {
		fl_check_result_free(r);
		return NULL;
	}
	static const char *const inv[][2] = {
		{ "M1", "conservation per money snapshot" },
		{ "M2", "bank conservation" },
		{ "M3", "mirror at quiescence" },
		{ "S1", "termination" },
		{ "S2", "net effect" },
		{ "S3", "causality of compensations" },
		{ "S4", "idempotency" },
		{ "S5", "no compensation on UNKNOWN" },
		{ "S6", "client agreement" },
		{ "S7", "step outcomes agree with the wire" },
		{ "S8", "compensations on record" },
		{ "Q1", "CQRS convergence" },
		{ "Q2", "failure counters" },
	};
	for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++)
		fl_check_declare(r, inv[i][0], inv[i][1]);
	struct ctx x = { .h = h, .c = c, .r = r, .last_end = INT64_MIN };
	x.st_completed = fl_chk_intern(h, "COMPLETED");
	x.st_compensated = fl_chk_intern(h, "COMPENSATED");
	x.st_failed = fl_chk_intern(h, "FAILED");
	x.st_stuck = fl_chk_intern(h, "STUCK");
	if (index_sagas(&x) < 0 || fl_saga_wire_index(&x) < 0)
		goto oom;
	replay(&x);
	/* S2 reads effects when the checked window has any */
	bool have_effects = false;
	for (size_t i = h->n_effects; i-- > 0 && !have_effects;)
		have_effects = h->effects[i].t >= c->since;
	check_sagas(&x, have_effects);
	if (have_effects && check_effects(&x) < 0)
		goto oom;
	check_clients(&x);
	fl_saga_check_money(&x);
	fl_saga_check_queries(&x);
	fl_saga_paths(&x);
	fl_check_stat(r, "sagas", (json_int_t)x.nsg);
	fl_check_stat(r, "exchanges", (json_int_t)h->n_exchanges);
	fl_check_stat(r, "saga_events", (json_int_t)h->n_saga);
	fl_check_stat(r, "effects", (json_int_t)h->n_effects);
	fl_check_stat(r, "snapshots", (json_int_t)h->n_snaps);
	fl_check_stat(r, "operations", (json_int_t)h->n_ops);
	if (c->since != INT64_MIN)
		fl_check_stat(r, "since", (json_int_t)c->since);
	fl_saga_wire_free(&x);
	free(x.slot);
	free(x.sg);
	free(x.by_saga);
	fl_check_result_finish(r);
	r->duration_ns = fl_mono_ns() - t0;
	return r;
oom:
	fl_saga_wire_free(&x);
	free(x.slot);
	free(x.sg);
	free(x.by_saga);
	fl_check_result_free(r);
	return NULL;
}
