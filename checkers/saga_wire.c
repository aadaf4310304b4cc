/* Saga checker, claims against the wire (S7, docs/checkers.md): a step's
 * recorded outcome is compared with the proxy's exchanges that carried its
 * key and with the participants' effects of that key. Also the coverage
 * summary of the paths the sagas took. */
#include <stdlib.h>
#include <string.h>

#include "checkers/saga_int.h"
#include "core/errors.h"

/* Group n items by keys[i]: counting sort, so each key's items stay in the
 * history's (time) order; key id's items are idx[off[id] .. off[id + 1]). */
static int group(struct by_key *b, size_t ns, size_t n, const int32_t *keys)
{
	b->off = calloc(ns + 2, sizeof(*b->off));
	b->idx = malloc((n ? n : 1) * sizeof(*b->idx));
	if (!b->off || !b->idx)
		return FL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (keys[i] >= 0)
			b->off[keys[i] + 2]++;
	for (size_t i = 2; i < ns + 2; i++)
		b->off[i] += b->off[i - 1];
	for (size_t i = 0; i < n; i++)
		if (keys[i] >= 0)
			b->idx[b->off[keys[i] + 1]++] = i;
	return 0;
}

int fl_saga_wire_index(struct ctx *x)
{
	struct fl_chk_history *h = x->h;
	size_t ns = fl_chk_nstrs(h);
	size_t n = h->n_exchanges > h->n_effects ? h->n_exchanges : h->n_effects;
	int32_t *keys = malloc((n ? n : 1) * sizeof(*keys));
	if (!keys)
		return FL_ENOMEM;
	for (size_t i = 0; i < h->n_exchanges; i++)
		keys[i] = h->exchanges[i].key;
	int rc = group(&x->ex, ns, h->n_exchanges, keys);
	for (size_t i = 0; rc == 0 && i < h->n_effects; i++)
		keys[i] = h->effects[i].key;
	if (rc == 0)
		rc = group(&x->eff, ns, h->n_effects, keys);
	free(keys);
	return rc;
}

void fl_saga_wire_free(struct ctx *x)
{
	free(x->ex.off);
	free(x->ex.idx);
	free(x->eff.off);
	free(x->eff.idx);
}

static bool not_applied(const char *o)
{
	return strcmp(o, "applied") && strcmp(o, "succeeded") && strcmp(o, "APPLIED");
}

static json_t *exchange_json(struct ctx *x, const struct fl_chk_exchange *w)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "link", S(x, w->link), "method",
			      S(x, w->method), "path", S(x, w->path), "start", (json_int_t)w->start,
			      "end", (json_int_t)w->end, "line", (json_int_t)w->line);
	json_object_set_new(o, "status", w->status ? json_integer(w->status) : json_null());
	if (w->error >= 0)
		json_object_set_new(o, "error", json_string(S(x, w->error)));
	if (w->fault >= 0)
		json_object_set_new(o, "fault", json_string(S(x, w->fault)));
	return o;
}

static void fail(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e, json_t *wire,
		 const char *msg, int k)
{
	char kb[16];
	json_t *ev = fl_saga_evidence(x, s);
	json_object_set_new(ev, "outcome_line", json_integer(e->line));
	json_object_set_new(ev, "wire", wire);
	fl_check_fail(x->r, "S7", (double)(s->amount ? s->amount : 1), ev,
		      "saga %s: step %s recorded %s (line %ld), %s", S(x, s->id),
		      fl_saga_step_label(x, s, k, kb, sizeof(kb)),
		      e->kind == FL_STEP_RESOLVED ? "resolved not applied" : "failed", e->line,
		      msg);
}

/* A definite failure (step_failed not marked "definite": false, or an
 * in-doubt step resolved not applied) must rest on a definite answer: on
 * every link that carried the key, the last exchange that ended before the
 * outcome was recorded answered (2xx or 4xx), not 5xx or nothing. */
static void definite_on_wire(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e,
			     int k)
{
	const struct fl_chk_history *h = x->h;
	size_t a = x->ex.off[e->key], b = x->ex.off[e->key + 1];
	for (size_t i = a; i < b; i++) {
		const struct fl_chk_exchange *w = &h->exchanges[x->ex.idx[i]];
		if (w->end > e->t)
			continue;
		/* the last exchange on w's link ending before the outcome */
		bool later = false;
		for (size_t j = a; j < b && !later; j++) {
			const struct fl_chk_exchange *o = &h->exchanges[x->ex.idx[j]];
			later = j != i && o->link == w->link && o->end <= e->t &&
				(o->end > w->end || (o->end == w->end && j > i));
		}
		if (later || (w->status > 0 && w->status < 500))
			continue;
		fail(x, s, e, exchange_json(x, w),
		     w->status ? "but the last answer carrying its key on the wire was a server "
				 "error, which proves nothing"
			       : "but the last exchange carrying its key on the wire got no answer",
		     k);
		return;
	}
}

/* A step failed as not sent ("definite": false: refused, circuit open)
 * must not have reached its participant in that attempt: no exchange
 * carrying its key that started since the step was requested and was
 * answered 2xx, and, on its first attempt (nothing earlier in flight), no
 * effect of its key since then. */
static void not_sent_on_wire(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e,
			     int k)
{
	const struct fl_chk_history *h = x->h;
	int64_t from = s->req_t[k];
	for (size_t i = x->ex.off[e->key]; i < x->ex.off[e->key + 1]; i++) {
		const struct fl_chk_exchange *w = &h->exchanges[x->ex.idx[i]];
		if (w->start < from || w->start > e->t || w->status < 200 || w->status >= 300)
			continue;
		fail(x, s, e, exchange_json(x, w),
		     "not sent, but the participant answered that attempt with success", k);
		return;
	}
	if (s->nreq[k] != 1)
		return;
	for (size_t i = x->eff.off[e->key]; i < x->eff.off[e->key + 1]; i++) {
		const struct fl_chk_effect *f = &h->effects[x->eff.idx[i]];
		if (f->t < from || f->t > e->t)
			continue;
		fail(x, s, e,
		     json_pack("{s:s, s:I, s:I}", "participant", S(x, f->participant), "amount",
			       (json_int_t)f->amount, "line", (json_int_t)f->line),
		     "not sent, but its participant applied the request", k);
		return;
	}
}

void fl_saga_wire_step(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e, int k)
{
	if (e->comp || e->key < 0 || k < 1)
		return;
	bool definite = e->kind == FL_STEP_FAILED && e->definite != 1;
	bool resolved_not =
		e->kind == FL_STEP_RESOLVED && e->outcome >= 0 && not_applied(S(x, e->outcome));
	bool not_sent = e->kind == FL_STEP_FAILED && e->definite == 1;
	if (!definite && !resolved_not && !not_sent)
		return;
	if (!x->h->n_exchanges && !x->h->n_effects)
		return; /* nothing on the wire to compare with */
	fl_check_pass(x->r, "S7");
	if (definite || resolved_not)
		definite_on_wire(x, s, e, k);
	else
		not_sent_on_wire(x, s, e, k);
}

/* --- the coverage summary --- */

void fl_saga_paths(struct ctx *x)
{
	static const char *const names[] = {
		"completed",
		"completed_after_doubt",
		"compensated",
		"failed",
		"stuck_or_other",
		"running",
		"deadline_exceeded",
		"in_doubt",
		"pivot_in_doubt",
		"resolved_applied",
		"resolved_not_applied",
		"deferred",
		"compensation_retry",
		"not_sent_retried",
		"after_pivot_retry",
	};
	enum { NP = sizeof(names) / sizeof(names[0]) };
	json_int_t n[NP] = { 0 };
	static const uint16_t bits[] = { PATH_UNKNOWN,	PATH_PIVOT_DOUBT, PATH_RES_APPLIED,
					 PATH_RES_NOT,	PATH_DEFERRED,	  PATH_COMP_RETRY,
					 PATH_NOT_SENT, PATH_AFTER_PIVOT };
	for (size_t i = 0; i < x->nsg; i++) {
		const struct saga_st *s = &x->sg[i];
		if (s->started_t < x->c->since)
			continue;
		if (!s->ended)
			n[5]++;
		else if (s->state == x->st_completed)
			n[(s->path & PATH_UNKNOWN) ? 1 : 0]++;
		else if (s->state == x->st_compensated)
			n[2]++;
		else if (s->state == x->st_failed)
			n[3]++;
		else
			n[4]++;
		if (s->ended && s->reason >= 0 && !strcmp(S(x, s->reason), "DEADLINE_EXCEEDED"))
			n[6]++;
		for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++)
			if (s->path & bits[b])
				n[7 + b]++;
	}
	json_t *o = json_object();
	for (size_t i = 0; i < NP; i++)
		json_object_set_new(o, names[i], json_integer(n[i]));
	json_object_set_new(x->r->stats, "paths", o);
}
