/* Circuit-breaker checker: replays Resilience4j's state machine over the
 * calls a breaker recorded (breaker_call events, or the proxy's
 * http_exchange events on a link when the service reports nothing) and
 * verifies C1-C8 (C8 in breaker_wire.c) against the transitions it reported, the calls that reached
 * the downstream and the rejections (docs/checkers.md). Linear apart from
 * one sort of the calls by end time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/breaker_int.h"
#include "checkers/check.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

#define MS 1000000LL


/* --- sliding windows --- */

struct bucket {
	int64_t sec;
	int n, fail, slow;
};

struct window {
	int time_based;
	int size, m_eff;
	uint8_t *ring;	  /* count-based: bit 0 failure, bit 1 slow */
	struct bucket *b; /* time-based */
	int head, n, fail, slow;
	int64_t last_sec;
};

static int window_init(struct window *w, int time_based, int size, int m)
{
	memset(w, 0, sizeof(*w));
	w->time_based = time_based;
	w->size = size;
	w->m_eff = time_based ? m : (m < size ? m : size);
	w->last_sec = INT64_MIN;
	if (time_based)
		w->b = calloc((size_t)size, sizeof(*w->b));
	else
		w->ring = calloc((size_t)size, 1);
	return (w->b || w->ring) ? 0 : FL_ENOMEM;
}

static void window_free(struct window *w)
{
	free(w->ring);
	free(w->b);
	w->ring = NULL;
	w->b = NULL;
}

static void window_add(struct window *w, int64_t t, int fail, int slow)
{
	if (!w->time_based) {
		if (w->n == w->size) {
			uint8_t old = w->ring[w->head];
			w->fail -= old & 1;
			w->slow -= (old >> 1) & 1;
			w->n--;
		}
		w->ring[w->head] = (uint8_t)(fail | (slow << 1));
		w->head = (w->head + 1) % w->size;
		w->n++;
		w->fail += fail;
		w->slow += slow;
		return;
	}
	int64_t sec = t >= 0 ? t / 1000000000LL : -((-t + 999999999LL) / 1000000000LL);
	if (w->last_sec == INT64_MIN || sec - w->last_sec >= w->size) {
		for (int i = 0; i < w->size; i++)
			w->b[i] = (struct bucket){ 0, 0, 0, 0 };
		w->n = w->fail = w->slow = 0;
		w->last_sec = sec;
	}
	for (int64_t s = w->last_sec + 1; s <= sec; s++) {
		struct bucket *b = &w->b[((s % w->size) + w->size) % w->size];
		w->n -= b->n;
		w->fail -= b->fail;
		w->slow -= b->slow;
		*b = (struct bucket){ s, 0, 0, 0 };
	}
	if (sec > w->last_sec)
		w->last_sec = sec;
	/* An outcome older than the newest bucket (out of order by < 1 s) still
	 * lands in its own second's bucket when that is within the window. */
	if (sec <= w->last_sec - w->size)
		return;
	struct bucket *b = &w->b[((sec % w->size) + w->size) % w->size];
	b->sec = sec;
	b->n++;
	b->fail += fail;
	b->slow += slow;
	w->n++;
	w->fail += fail;
	w->slow += slow;
}

static void window_reset(struct window *w)
{
	if (w->ring)
		memset(w->ring, 0, (size_t)w->size);
	if (w->b)
		memset(w->b, 0, (size_t)w->size * sizeof(*w->b));
	w->head = w->n = w->fail = w->slow = 0;
	w->last_sec = INT64_MIN;
}

static bool window_trips(const struct window *w, const struct fl_breaker_config *c)
{
	if (w->n < w->m_eff || w->n == 0)
		return false;
	return (double)w->fail * 100.0 >= c->failure_rate_threshold * (double)w->n ||
	       (double)w->slow * 100.0 >= c->slow_call_rate_threshold * (double)w->n;
}

static json_t *window_json(const struct window *w)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:f, s:f}", "n", w->n, "m_eff", w->m_eff, "failures",
			 w->fail, "slow", w->slow, "failure_rate",
			 w->n ? 100.0 * w->fail / w->n : 0.0, "slow_rate",
			 w->n ? 100.0 * w->slow / w->n : 0.0);
}

/* --- the replay --- */

struct call {
	int64_t start, end;
	long line;
	uint8_t fail, slow;
};

struct rp {
	struct fl_chk_history *h;
	const struct fl_breaker_config *c;
	struct fl_check_result *r;
	bool blackbox;
	struct call *mc, *dc, *rc; /* model outcomes, downstream starts, rejections */
	size_t nmc, ndc, nrc;
	size_t *cr, ncr; /* client operations refused by this breaker (op indices) */
	size_t *by_end;	 /* mc indices by end */
	struct window closed, half;
	int state;
	int64_t since; /* entered the current state */
	long since_line;
	int64_t trip_t; /* CLOSED: the window tripped at (-1: not) */
	long trip_line;
	int permits;  /* HALF_OPEN: trial calls started */
	int decision; /* HALF_OPEN: -1 none, else the state to go to */
	int64_t decided_t;
	bool rep_c3, rep_c2, rep_c5, rep_c6;
	const char *name;
};

static json_t *call_json(const struct call *k, const char *role)
{
	return json_pack("{s:s, s:I, s:I, s:f, s:s, s:I}", "role", role, "start",
			 (json_int_t)k->start, "end", (json_int_t)k->end, "duration_ms",
			 (double)(k->end - k->start) / 1e6, "outcome",
			 k->fail   ? (k->slow ? "failure,slow" : "failure")
			 : k->slow ? "slow"
				   : "success",
			 "line", (json_int_t)k->line);
}

/* Evidence: the state, the window, and the model calls around time t. */
static json_t *evidence(struct rp *p, int64_t t, const struct call *subject, const char *role)
{
	json_t *calls = json_array();
	/* binary search the first model call starting at or after t - 2 s */
	size_t lo = 0, hi = p->nmc;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->mc[mid].start < t - 2000 * MS)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t from = lo, taken = 0;
	for (size_t i = from; i < p->nmc && taken < 24 && p->mc[i].start <= t + 1000 * MS;
	     i++, taken++)
		json_array_append_new(calls, call_json(&p->mc[i], "recorded"));
	const struct window *w = p->state == FL_BR_HALF_OPEN ? &p->half : &p->closed;
	json_t *ev =
		json_pack("{s:s, s:I, s:s, s:I, s:o, s:o}", "breaker", p->name, "t", (json_int_t)t,
			  "state", fl_breaker_state_str(p->state), "state_since",
			  (json_int_t)p->since, "window", window_json(w), "calls_around", calls);
	if (subject)
		json_object_set_new(ev, "call", call_json(subject, role));
	if (p->since_line)
		json_object_set_new(ev, "transition_line", json_integer(p->since_line));
	return ev;
}

static void enter(struct rp *p, int state, int64_t t, long line)
{
	p->state = state;
	p->since = t;
	p->since_line = line;
	p->trip_t = -1;
	p->permits = 0;
	p->decision = -1;
	p->rep_c3 = p->rep_c2 = p->rep_c5 = p->rep_c6 = false;
	if (state == FL_BR_CLOSED)
		window_reset(&p->closed);
	if (state == FL_BR_HALF_OPEN)
		window_reset(&p->half);
}

/* Violations that show by the passing of time: still CLOSED after the
 * window tripped, still HALF_OPEN after the trials decided, still OPEN long
 * after W with automatic transition. White-box only (black-box infers). */
static void overdue(struct rp *p, int64_t now)
{
	int64_t tol = p->c->tolerance_ms * MS;
	if (p->blackbox)
		return;
	if (p->state == FL_BR_CLOSED && p->trip_t >= 0 && now > p->trip_t + tol && !p->rep_c3 &&
	    !p->r->mute) {
		p->rep_c3 = true;
		fl_check_fail(p->r, "C3", (double)(now - p->trip_t) / 1e6,
			      evidence(p, p->trip_t, NULL, NULL),
			      "%s: the window tripped at the outcome on line %ld but the breaker "
			      "stayed CLOSED (%.0f ms later still closed)",
			      p->name, p->trip_line, (double)(now - p->trip_t) / 1e6);
	}
	if (p->state == FL_BR_OPEN && p->c->automatic_transition && !p->rep_c6 && !p->r->mute &&
	    now > p->since + (p->c->wait_open_ms + p->c->tolerance_ms + 1000) * MS) {
		p->rep_c6 = true;
		fl_check_pass(p->r, "C6");
		fl_check_fail(p->r, "C6", (double)(now - p->since) / 1e6,
			      evidence(p, now, NULL, NULL),
			      "%s: stuck open: still OPEN %.1f s after opening with automatic "
			      "transition (W = %lld ms)",
			      p->name, (double)(now - p->since) / 1e9,
			      (long long)p->c->wait_open_ms);
	}
	if (p->state == FL_BR_HALF_OPEN && p->decision >= 0 && now > p->decided_t + tol &&
	    !p->rep_c5 && !p->r->mute) {
		p->rep_c5 = true;
		fl_check_fail(p->r, "C5", 1, evidence(p, p->decided_t, NULL, NULL),
			      "%s: the trials decided %s but the breaker stayed HALF_OPEN", p->name,
			      fl_breaker_state_str(p->decision));
	}
}

static void on_transition(struct rp *p, const struct fl_chk_transition *x)
{
	int64_t tol = p->c->tolerance_ms * MS;
	int from = p->state, to = x->to;
	if (from == FL_BR_CLOSED && to == FL_BR_OPEN) {
		fl_check_pass(p->r, "C3");
		fl_check_pass(p->r, "C4");
		if (p->closed.n < p->closed.m_eff)
			fl_check_fail(p->r, "C4", (double)(p->closed.m_eff - p->closed.n),
				      evidence(p, x->t, NULL, NULL),
				      "%s: opened (line %ld) with %d outcomes in the window, fewer "
				      "than m_eff = %d",
				      p->name, x->line, p->closed.n, p->closed.m_eff);
		else if (p->trip_t < 0)
			fl_check_fail(p->r, "C3", 1, evidence(p, x->t, NULL, NULL),
				      "%s: opened (line %ld) although the window does not trip",
				      p->name, x->line);
		else if (x->t - p->trip_t > tol && !p->rep_c3)
			fl_check_fail(p->r, "C3", (double)(x->t - p->trip_t) / 1e6,
				      evidence(p, p->trip_t, NULL, NULL),
				      "%s: opened %.0f ms after the window tripped (line %ld)",
				      p->name, (double)(x->t - p->trip_t) / 1e6, p->trip_line);
	} else if (from == FL_BR_OPEN && to == FL_BR_HALF_OPEN) {
		fl_check_pass(p->r, "C6");
		if (x->t < p->since + p->c->wait_open_ms * MS - tol)
			fl_check_fail(p->r, "C6",
				      (double)(p->since + p->c->wait_open_ms * MS - x->t) / 1e6,
				      evidence(p, x->t, NULL, NULL),
				      "%s: OPEN -> HALF_OPEN (line %ld) after %.0f ms, before the "
				      "wait duration %lld ms",
				      p->name, x->line, (double)(x->t - p->since) / 1e6,
				      (long long)p->c->wait_open_ms);
	} else if (from == FL_BR_HALF_OPEN && (to == FL_BR_CLOSED || to == FL_BR_OPEN)) {
		fl_check_pass(p->r, "C5");
		bool trips = window_trips(&p->half, p->c);
		if (p->half.n < p->half.m_eff) {
			const char *id = to == FL_BR_OPEN ? "C4" : "C5";
			fl_check_fail(
				p->r, id, (double)(p->half.m_eff - p->half.n),
				evidence(p, x->t, NULL, NULL),
				"%s: HALF_OPEN -> %s (line %ld) after %d trial outcomes, fewer "
				"than m_eff = %d",
				p->name, fl_breaker_state_str(to), x->line, p->half.n,
				p->half.m_eff);
		} else if (to == FL_BR_CLOSED && trips) {
			fl_check_fail(p->r, "C5", 2, evidence(p, x->t, NULL, NULL),
				      "%s: HALF_OPEN -> CLOSED (line %ld) although the trials trip",
				      p->name, x->line);
		} else if (to == FL_BR_OPEN && !trips) {
			fl_check_fail(p->r, "C5", 2, evidence(p, x->t, NULL, NULL),
				      "%s: HALF_OPEN -> OPEN (line %ld) although the trials do not "
				      "trip",
				      p->name, x->line);
		}
	} else if (from != to) {
		const char *id = from == FL_BR_CLOSED ? "C3" : from == FL_BR_OPEN ? "C6" : "C5";
		fl_check_fail(p->r, id, 1, evidence(p, x->t, NULL, NULL),
			      "%s: transition %s -> %s (line %ld) is not in the state machine",
			      p->name, fl_breaker_state_str(from), fl_breaker_state_str(to),
			      x->line);
	}
	enter(p, to, x->t, x->line);
}

static void on_outcome(struct rp *p, const struct call *k)
{
	bool in_epoch = k->start >= p->since;
	if (p->state == FL_BR_CLOSED) {
		/* a call permitted before the latest transition (a HALF_OPEN
		 * trial still out when the trials decided) is ignored, as the
		 * breaker documents: it is not in the new window */
		if (!in_epoch && !p->blackbox)
			return;
		window_add(&p->closed, k->end, k->fail, k->slow);
		if (in_epoch && p->trip_t < 0 && !p->blackbox)
			fl_check_pass(p->r,
				      "C3"); /* one more outcome it rightly stayed closed on */
		if (in_epoch && p->trip_t < 0 && window_trips(&p->closed, p->c)) {
			p->trip_t = k->end;
			p->trip_line = k->line;
		}
	} else if (p->state == FL_BR_HALF_OPEN) {
		if (!in_epoch)
			return; /* recorded by the old state's metrics, no transition */
		window_add(&p->half, k->end, k->fail, k->slow);
		if (p->decision < 0 && p->half.n >= p->half.m_eff) {
			p->decision = window_trips(&p->half, p->c) ? FL_BR_OPEN : FL_BR_CLOSED;
			p->decided_t = k->end;
		}
	}
}

/* Black-box inference before a downstream call starts at s: did the breaker
 * open when the model said it must? */
static void infer(struct rp *p, const struct call *k)
{
	int64_t tol = p->c->tolerance_ms * MS, w = p->c->wait_open_ms * MS, s = k->start;
	if (p->state == FL_BR_CLOSED && p->trip_t >= 0 && s > p->trip_t + tol) {
		fl_check_pass(p->r, "C3");
		if (s < p->trip_t + w - tol) {
			fl_check_fail(
				p->r, "C3", (double)(s - p->trip_t) / 1e6,
				evidence(p, p->trip_t, k, "passed"),
				"%s: the window tripped at the outcome on line %ld but a call "
				"reached the downstream %.0f ms later (line %ld)",
				p->name, p->trip_line, (double)(s - p->trip_t) / 1e6, k->line);
			enter(p, FL_BR_CLOSED, s, k->line);
		} else {
			enter(p, FL_BR_OPEN, p->trip_t, p->trip_line);
			fl_check_pass(p->r, "C6");
			enter(p, FL_BR_HALF_OPEN, s, k->line);
		}
		return;
	}
	if (p->state == FL_BR_HALF_OPEN && p->decision >= 0 && s > p->decided_t + tol) {
		fl_check_pass(p->r, "C5");
		if (p->decision == FL_BR_CLOSED) {
			enter(p, FL_BR_CLOSED, p->decided_t, 0);
		} else if (s < p->decided_t + w - tol) {
			fl_check_fail(p->r, "C5", (double)(s - p->decided_t) / 1e6,
				      evidence(p, p->decided_t, k, "passed"),
				      "%s: the trials trip but a call reached the downstream %.0f "
				      "ms later (line %ld): it did not reopen",
				      p->name, (double)(s - p->decided_t) / 1e6, k->line);
			enter(p, FL_BR_CLOSED, s, k->line);
		} else {
			enter(p, FL_BR_HALF_OPEN, s, k->line);
		}
	}
}

static void on_start(struct rp *p, const struct call *k)
{
	int64_t tol = p->c->tolerance_ms * MS, w = p->c->wait_open_ms * MS;
	if (p->blackbox)
		infer(p, k);
	if (p->state == FL_BR_OPEN && !p->blackbox) {
		fl_check_pass(p->r, "C1");
		if (k->start > p->since + tol && k->start < p->since + w)
			fl_check_fail(p->r, "C1", 1, evidence(p, k->start, k, "passed"),
				      "%s: a call reached the downstream (line %ld) %.0f ms after "
				      "the breaker opened (line %ld), before the wait duration",
				      p->name, k->line, (double)(k->start - p->since) / 1e6,
				      p->since_line);
	} else if (p->state == FL_BR_HALF_OPEN && k->start >= p->since - tol) {
		p->permits++;
		fl_check_pass(p->r, "C2");
		if (p->permits > p->c->half_open_calls && !p->rep_c2 && !p->r->mute) {
			p->rep_c2 = true;
			fl_check_fail(p->r, "C2", 1, evidence(p, k->start, k, "trial"),
				      "%s: trial call %d (line %ld) in one HALF_OPEN episode; only "
				      "%d are permitted",
				      p->name, p->permits, k->line, p->c->half_open_calls);
		}
	}
}

static void on_reject(struct rp *p, const struct call *k)
{
	int64_t tol = p->c->tolerance_ms * MS, w = p->c->wait_open_ms * MS;
	fl_check_pass(p->r, "C7");
	if (k->end - k->start >= p->c->fast_fail_ms * MS)
		fl_check_fail(p->r, "C7", (double)(k->end - k->start) / 1e6,
			      evidence(p, k->start, k, "rejected"),
			      "%s: a rejected call (line %ld) took %.1f ms, not under %lld ms",
			      p->name, k->line, (double)(k->end - k->start) / 1e6,
			      (long long)p->c->fast_fail_ms);
	if (p->state == FL_BR_OPEN && k->start > p->since + w + tol && !p->rep_c6 && !p->r->mute) {
		p->rep_c6 = true;
		fl_check_pass(p->r, "C6");
		fl_check_fail(
			p->r, "C6", (double)(k->start - p->since) / 1e6,
			evidence(p, k->start, k, "rejected"),
			"%s: stuck open: a call was rejected (line %ld) %.1f s after opening, "
			"past the wait duration %lld ms",
			p->name, k->line, (double)(k->start - p->since) / 1e9,
			(long long)p->c->wait_open_ms);
	}
}

/* A client operation refused by the breaker (invoked at inv, answered at
 * done): while the breaker is (or, black-box, must be) OPEN, a refusal of an
 * operation invoked more than W after it opened means it is stuck open:
 * the first call after W moves it to HALF_OPEN. C7 is client_fast_fail's. */
static void on_client_reject(struct rp *p, const struct fl_chk_op *inv, const struct fl_chk_op *o)
{
	int64_t tol = p->c->tolerance_ms * MS, w = p->c->wait_open_ms * MS, opened = -1;
	if (!p->blackbox && p->state == FL_BR_OPEN)
		opened = p->since;
	else if (p->blackbox && p->state == FL_BR_CLOSED && p->trip_t >= 0)
		opened = p->trip_t; /* inferred: it opened at the trip, nothing passed since */
	else if (p->blackbox && p->state == FL_BR_HALF_OPEN && p->decision == FL_BR_OPEN)
		opened = p->decided_t;
	if (opened < 0 || inv->t <= opened + w + tol || p->rep_c6 || p->r->mute)
		return;
	p->rep_c6 = true;
	struct call k = { inv->t, o->t, o->line, 0, 0 };
	json_t *ev = evidence(p, inv->t, &k, "client_refused");
	json_object_set_new(ev, "invoke_line", json_integer(inv->line));
	json_object_set_new(ev, "opened_at", json_integer(opened));
	fl_check_pass(p->r, "C6");
	fl_check_fail(p->r, "C6", (double)(inv->t - opened) / 1e6, ev,
		      "%s: stuck open: a client operation invoked %.1f s after it opened was "
		      "refused by the breaker (lines %ld, %ld), past the wait duration %lld ms",
		      p->name, (double)(inv->t - opened) / 1e9, inv->line, o->line,
		      (long long)p->c->wait_open_ms);
}

/* The client operations refused by this breaker: completions whose error
 * (or reason) is reject_reason, naming this breaker or none, sent to the
 * breaker's service or to an unnamed one. In time order (ops are sorted). */
static int collect_clients(struct rp *p, int32_t bid, int32_t svc)
{
	struct fl_chk_history *h = p->h;
	int32_t reason = fl_chk_lookup(h, p->c->reject_reason);
	if (reason < 0)
		return 0;
	size_t cap = 0;
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct fl_chk_op *o = &h->ops[i];
		if (o->type == FL_OP_INVOKE || o->error != reason)
			continue;
		if (o->breaker >= 0 && bid >= 0 && o->breaker != bid)
			continue;
		if (o->service >= 0 && svc >= 0 && o->service != svc)
			continue;
		if (p->ncr == cap) {
			size_t nc = cap ? cap * 2 : 32;
			size_t *nv = realloc(p->cr, nc * sizeof(*nv));
			if (!nv)
				return FL_ENOMEM;
			p->cr = nv;
			cap = nc;
		}
		p->cr[p->ncr++] = i;
	}
	return 0;
}

static int cmp_end(const void *a, const void *b, void *arg)
{
	const struct call *mc = arg;
	const struct call *x = &mc[*(const size_t *)a], *y = &mc[*(const size_t *)b];
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int push_call(struct call **v, size_t *n, size_t *cap, struct call k)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct call *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return FL_ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = k;
	return 0;
}

/* Collect this breaker's calls. Returns 0 or FL_ENOMEM. */
static int collect(struct rp *p, int32_t bid, int32_t link, size_t *ntr)
{
	struct fl_chk_history *h = p->h;
	int64_t D = p->c->slow_call_duration_ms * MS;
	size_t cm = 0, cd = 0, cr = 0;
	bool any_named = false;
	*ntr = 0;
	for (size_t i = 0; i < h->n_transitions; i++)
		if (bid < 0 || h->transitions[i].breaker == bid)
			(*ntr)++;
	for (size_t i = 0; i < h->n_calls; i++) {
		const struct fl_chk_call *k = &h->calls[i];
		if (bid >= 0 && k->breaker != bid)
			continue;
		any_named = true;
		struct call c = { k->start, k->end, k->line, k->outcome == FL_CALL_FAILURE,
				  (k->end - k->start) > D };
		if (k->outcome == FL_CALL_REJECTED) {
			if (push_call(&p->rc, &p->nrc, &cr, c))
				return FL_ENOMEM;
			continue;
		}
		if (push_call(&p->mc, &p->nmc, &cm, c))
			return FL_ENOMEM;
		if (link < 0 && push_call(&p->dc, &p->ndc, &cd, c))
			return FL_ENOMEM;
	}
	p->blackbox = !any_named && *ntr == 0;
	bool link_seen = false;
	for (size_t i = 0; link >= 0 && i < h->n_exchanges && !link_seen; i++)
		link_seen = h->exchanges[i].link == link;
	if (link >= 0 && !link_seen && !p->blackbox) {
		/* The proxy recorded nothing on the link: what the breaker let
		 * through is what reached the downstream. */
		for (size_t i = 0; i < p->nmc; i++)
			if (push_call(&p->dc, &p->ndc, &cd, p->mc[i]))
				return FL_ENOMEM;
	}
	if (link >= 0 && link_seen) {
		for (size_t i = 0; i < h->n_exchanges; i++) {
			const struct fl_chk_exchange *x = &h->exchanges[i];
			if (x->link != link || fl_breaker_exchange_unsent(h, x) ||
			    fl_breaker_exchange_superseded(h, i, p->c->tolerance_ms * MS))
				continue;
			struct call c = { x->start, x->end, x->line,
					  x->status == 0 || x->status >= 500,
					  (x->end - x->start) > D };
			if (push_call(&p->dc, &p->ndc, &cd, c))
				return FL_ENOMEM;
			if (p->blackbox && push_call(&p->mc, &p->nmc, &cm, c))
				return FL_ENOMEM;
		}
	}
	return 0;
}

/* Client operations that failed because of the breaker must fail fast. */
static void client_fast_fail(struct rp *p)
{
	struct fl_chk_history *h = p->h;
	int32_t reason = fl_chk_lookup(h, p->c->reject_reason);
	if (reason < 0)
		return;
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct fl_chk_op *o = &h->ops[i];
		if (o->type == FL_OP_INVOKE || o->error != reason || o->pair < 0)
			continue;
		if (o->breaker >= 0 && p->c->name[0] &&
		    strcmp(fl_chk_str(h, o->breaker), p->c->name))
			continue; /* refused by another breaker */
		int64_t d = o->t - h->ops[o->pair].t;
		if (h->ops[o->pair].t < p->c->since)
			continue; /* before the checked window */
		fl_check_pass(p->r, "C7");
		if (d >= p->c->fast_fail_ms * MS)
			fl_check_fail(
				p->r, "C7", (double)d / 1e6,
				json_pack("{s:I, s:I, s:f}", "invoke_line",
					  (json_int_t)h->ops[o->pair].line, "line",
					  (json_int_t)o->line, "duration_ms", (double)d / 1e6),
				"client op rejected by the breaker (line %ld) took %.1f ms, not "
				"under %lld ms",
				o->line, (double)d / 1e6, (long long)p->c->fast_fail_ms);
	}
}

/* Release what a replay holds (not p itself). */
static void rp_free(struct rp *p)
{
	free(p->mc);
	free(p->dc);
	free(p->rc);
	free(p->cr);
	free(p->by_end);
	window_free(&p->closed);
	window_free(&p->half);
}

struct fl_check_result *fl_check_breaker(struct fl_chk_history *h,
					 const struct fl_breaker_config *c)
{
	int64_t t0 = fl_mono_ns();
	struct fl_check_result *r = fl_check_result_new("breaker");
	if (!r || fl_chk_history_seal(h) < 0) {
		fl_check_result_free(r);
		return NULL;
	}
	static const char *const inv[][2] = {
		{ "C1", "no call reaches the downstream while OPEN" },
		{ "C2", "at most k trial calls per HALF_OPEN" },
		{ "C3", "opens at the first tripping outcome" },
		{ "C4", "never opens with fewer than m_eff outcomes" },
		{ "C5", "HALF_OPEN decides on m_eff trials" },
		{ "C6", "OPEN -> HALF_OPEN after W, and not stuck" },
		{ "C7", "rejected calls fail fast" },
		{ "C8", "recorded outcomes match the wire" },
	};
	for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++)
		fl_check_declare(r, inv[i][0], inv[i][1]);
	struct rp p = { .h = h, .c = c, .r = r };
	int32_t bid = c->name[0] ? fl_chk_lookup(h, c->name) : -1;
	int32_t link = c->link[0] ? fl_chk_lookup(h, c->link) : -1;
	p.name = c->name[0] ? c->name : c->link[0] ? c->link : "breaker";
	client_fast_fail(&p);
	if (c->claims && link >= 0 && (!c->name[0] || bid >= 0))
		fl_breaker_check_wire(h, c, bid, link, r);
	if (!c->name[0]) {
		/* No name: fine when the history has at most one breaker. */
		int32_t seen = -1;
		for (size_t i = 0; i < h->n_calls; i++) {
			if (seen >= 0 && h->calls[i].breaker != seen) {
				r->note = strdup("the history has several breakers; name one "
						 "(config \"name\")");
				goto done;
			}
			seen = h->calls[i].breaker;
		}
	} else if (bid < 0 && !c->link[0]) {
		/* Nothing about this breaker: nothing to check. */
		goto done;
	}
	if (c->name[0] && bid < 0)
		bid = fl_chk_intern(h, c->name); /* matches nothing; keeps filters exact */
	size_t ntr = 0;
	bool ok = collect(&p, bid, c->link[0] ? (link >= 0 ? link : fl_chk_intern(h, c->link)) : -1,
			  &ntr) == 0 &&
		  window_init(&p.closed, c->window_type == FL_WINDOW_TIME, c->window_size,
			      c->minimum_calls) == 0 &&
		  window_init(&p.half, 0, c->half_open_calls, c->minimum_calls) == 0;
	if (!ok)
		goto oom;
	p.by_end = malloc((p.nmc ? p.nmc : 1) * sizeof(*p.by_end));
	if (!p.by_end)
		goto oom;
	for (size_t i = 0; i < p.nmc; i++)
		p.by_end[i] = i;
	qsort_r(p.by_end, p.nmc, sizeof(*p.by_end), cmp_end, p.mc);
	int64_t origin = h->t_first == INT64_MAX ? 0 : h->t_first;
	enter(&p, FL_BR_CLOSED, origin, 0);
	if (ntr) {
		for (size_t i = 0; i < h->n_transitions; i++)
			if (bid < 0 || h->transitions[i].breaker == bid) {
				if (h->transitions[i].from != FL_BR_OTHER)
					enter(&p, h->transitions[i].from, origin, 0);
				break;
			}
	}
	/* The service owning the breaker: a new lifetime of its process (after
	 * a kill or an exit) starts with a fresh CLOSED breaker and no
	 * transition event. */
	int32_t svc = -1;
	for (size_t i = 0; i < h->n_calls && svc < 0; i++)
		if (bid < 0 || h->calls[i].breaker == bid)
			svc = h->calls[i].service;
	for (size_t i = 0; i < h->n_transitions && svc < 0; i++)
		if (bid < 0 || h->transitions[i].breaker == bid)
			svc = h->transitions[i].service;
	if (collect_clients(&p, bid, svc) < 0)
		goto oom;
	int32_t a_started = fl_chk_lookup(h, "started"), a_killed = fl_chk_lookup(h, "killed"),
		a_sigkill = fl_chk_lookup(h, "sigkill"), a_exited = fl_chk_lookup(h, "exited");
	/* Merge six streams in time order; at equal times process lifetimes
	 * first, then outcomes are recorded, then transitions, then new calls,
	 * then rejections, then client operations refused (at their answer). */
	size_t io = 0, it = 0, is = 0, ir = 0, ip = 0, ic = 0;
	for (;;) {
		while (it < h->n_transitions && bid >= 0 && h->transitions[it].breaker != bid)
			it++;
		while (ip < h->n_procs &&
		       (svc < 0 || h->procs[ip].service != svc ||
			(h->procs[ip].action != a_started && h->procs[ip].action != a_killed &&
			 h->procs[ip].action != a_sigkill && h->procs[ip].action != a_exited)))
			ip++;
		int64_t tp = ip < h->n_procs ? h->procs[ip].t : INT64_MAX;
		if (tp != INT64_MAX) {
			int64_t first = INT64_MAX;
			if (io < p.nmc)
				first = p.mc[p.by_end[io]].end;
			if (it < h->n_transitions && h->transitions[it].t < first)
				first = h->transitions[it].t;
			if (is < p.ndc && p.dc[is].start < first)
				first = p.dc[is].start;
			if (ir < p.nrc && p.rc[ir].start < first)
				first = p.rc[ir].start;
			if (ic < p.ncr && h->ops[p.cr[ic]].t < first)
				first = h->ops[p.cr[ic]].t;
			if (tp <= first) {
				r->mute = tp < c->since;
				overdue(&p, tp);
				enter(&p, FL_BR_CLOSED, tp, h->procs[ip].line); /* a new lifetime */
				ip++;
				continue;
			}
		}
		int64_t to = io < p.nmc ? p.mc[p.by_end[io]].end : INT64_MAX;
		int64_t tt = it < h->n_transitions ? h->transitions[it].t : INT64_MAX;
		int64_t ts = is < p.ndc ? p.dc[is].start : INT64_MAX;
		int64_t tr = ir < p.nrc ? p.rc[ir].start : INT64_MAX;
		int64_t tc = ic < p.ncr ? h->ops[p.cr[ic]].t : INT64_MAX;
		int64_t m = to;
		if (tt < m)
			m = tt;
		if (ts < m)
			m = ts;
		if (tr < m)
			m = tr;
		if (tc < m)
			m = tc;
		if (m == INT64_MAX)
			break;
		/* events before the window only build the model's state */
		r->mute = m < c->since;
		overdue(&p, m);
		if (to == m)
			on_outcome(&p, &p.mc[p.by_end[io++]]);
		else if (tt == m)
			on_transition(&p, &h->transitions[it++]);
		else if (ts == m)
			on_start(&p, &p.dc[is++]);
		else if (tr == m)
			on_reject(&p, &p.rc[ir++]);
		else {
			const struct fl_chk_op *o = &h->ops[p.cr[ic++]];
			const struct fl_chk_op *oi = o->pair >= 0 ? &h->ops[o->pair] : o;
			r->mute = oi->t < c->since; /* operations invoked in the window */
			on_client_reject(&p, oi, o);
		}
	}
	r->mute = h->t_last < c->since;
	overdue(&p, h->t_last);
	r->mute = false;
	if (c->since != INT64_MIN)
		fl_check_stat(r, "since", (json_int_t)c->since);
	fl_check_stat(r, "recorded_calls", (json_int_t)p.nmc);
	fl_check_stat(r, "downstream_calls", (json_int_t)p.ndc);
	fl_check_stat(r, "rejected_calls", (json_int_t)p.nrc);
	fl_check_stat(r, "client_refusals", (json_int_t)p.ncr);
	fl_check_stat(r, "transitions", (json_int_t)ntr);
done:
	rp_free(&p);
	fl_check_result_finish(r);
	r->duration_ns = fl_mono_ns() - t0;
	return r;
oom:
	rp_free(&p);
	fl_check_result_free(r);
	return NULL;
}
