/* Circuit breaker state machine (Resilience4j semantics, count-based). */
#include "transfer-system/breaker.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct breaker {
	char name[96];
	struct breaker_config c;
	breaker_event_fn ev;
	void *ev_arg;
	enum breaker_state state;
	uint64_t epoch; /* bumped on every transition */
	int64_t opened_ns;
	/* the window: ring of outcomes, bit 0 failure, bit 1 slow */
	unsigned char *ring;
	int size, n, head;
	int halfopen_issued;
	struct breaker_totals tot;
};

void breaker_config_default(struct breaker_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window = 10;
	c->min_calls = 5;
	c->failure_rate = 50;
	c->slow_ms = 1000;
	c->slow_rate = 100;
	c->wait_open_ms = 5000;
	c->halfopen_calls = 3;
}

const char *breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED: return "CLOSED";
	case BREAKER_OPEN: return "OPEN";
	case BREAKER_HALF_OPEN: return "HALF_OPEN";
	}
	return "?";
}

const char *breaker_name(const struct breaker *b)
{
	return b->name;
}

static void window_reset(struct breaker *b, int size)
{
	b->size = size > 0 ? size : 1;
	b->n = 0;
	b->head = 0;
	memset(b->ring, 0, (size_t)b->size);
}

struct breaker *breaker_new(const char *name, const struct breaker_config *c, breaker_event_fn ev,
			    void *ev_arg)
{
	struct breaker *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->c = *c;
	if (b->c.window < 1)
		b->c.window = 1;
	if (b->c.halfopen_calls < 1)
		b->c.halfopen_calls = 1;
	if (b->c.min_calls < 1)
		b->c.min_calls = 1;
	int cap = b->c.window > b->c.halfopen_calls ? b->c.window : b->c.halfopen_calls;
	b->ring = calloc((size_t)cap, 1);
	if (!b->ring) {
		free(b);
		return NULL;
	}
	b->ev = ev;
	b->ev_arg = ev_arg;
	window_reset(b, b->c.window);
	return b;
}

void breaker_free(struct breaker *b)
{
	if (!b)
		return;
	free(b->ring);
	free(b);
}

static void emit(struct breaker *b, const char *type, json_t *f)
{
	if (b->ev)
		b->ev(b->ev_arg, type, f);
	json_decref(f);
}

static void transition(struct breaker *b, enum breaker_state to, int64_t now_ns, const char *why)
{
	enum breaker_state from = b->state;
	b->state = to;
	b->epoch++;
	b->tot.transitions++;
	b->halfopen_issued = 0;
	if (to == BREAKER_OPEN)
		b->opened_ns = now_ns;
	window_reset(b, to == BREAKER_HALF_OPEN ? b->c.halfopen_calls : b->c.window);
	emit(b, "breaker_transition",
	     json_pack("{s:s, s:s, s:s, s:s, s:I}", "breaker", b->name, "from",
		       breaker_state_name(from), "to", breaker_state_name(to), "reason", why,
		       "epoch", (json_int_t)b->epoch));
}

static int m_eff(const struct breaker *b)
{
	int lim = b->state == BREAKER_HALF_OPEN ? b->c.halfopen_calls : b->c.window;
	return b->c.min_calls < lim ? b->c.min_calls : lim;
}

static void rates(const struct breaker *b, double *fail, double *slow)
{
	int nf = 0, ns = 0;
	for (int i = 0; i < b->n; i++) {
		nf += b->ring[i] & 1;
		ns += (b->ring[i] >> 1) & 1;
	}
	*fail = b->n ? 100.0 * nf / b->n : 0;
	*slow = b->n ? 100.0 * ns / b->n : 0;
}

static void maybe_half_open(struct breaker *b, int64_t now_ns)
{
	if (b->state == BREAKER_OPEN && !b->c.bug_stuck_open &&
	    now_ns - b->opened_ns >= (int64_t)b->c.wait_open_ms * 1000000)
		transition(b, BREAKER_HALF_OPEN, now_ns, "wait_elapsed");
}

enum breaker_state breaker_state(struct breaker *b, int64_t now_ns)
{
	if (b->c.auto_transition)
		maybe_half_open(b, now_ns);
	return b->state;
}

bool breaker_would_permit(struct breaker *b, int64_t now_ns)
{
	switch (breaker_state(b, now_ns)) {
	case BREAKER_CLOSED: return true;
	case BREAKER_OPEN:
		return !b->c.bug_stuck_open &&
		       now_ns - b->opened_ns >= (int64_t)b->c.wait_open_ms * 1000000;
	case BREAKER_HALF_OPEN:
		return b->c.bug_halfopen_flood || b->halfopen_issued < b->c.halfopen_calls;
	}
	return false;
}

bool breaker_acquire(struct breaker *b, int64_t now_ns, uint64_t *epoch)
{
	maybe_half_open(b, now_ns);
	bool ok = false;
	if (b->state == BREAKER_CLOSED)
		ok = true;
	else if (b->state == BREAKER_HALF_OPEN &&
		 (b->c.bug_halfopen_flood || b->halfopen_issued < b->c.halfopen_calls)) {
		b->halfopen_issued++;
		ok = true;
	}
	if (ok) {
		*epoch = b->epoch;
		return true;
	}
	breaker_reject(b, now_ns);
	return false;
}

void breaker_reject(struct breaker *b, int64_t now_ns)
{
	(void)now_ns;
	b->tot.rejected++;
	emit(b, "breaker_call",
	     json_pack("{s:s, s:s, s:s, s:b, s:f, s:I}", "breaker", b->name, "outcome", "rejected",
		       "state", breaker_state_name(b->state), "slow", 0, "duration_ms", 0.0,
		       "epoch", (json_int_t)b->epoch));
}

void breaker_record(struct breaker *b, uint64_t epoch, int64_t now_ns, int64_t duration_ns,
		    bool failure, const char *detail)
{
	bool slow = duration_ns > (int64_t)b->c.slow_ms * 1000000;
	bool stale = epoch != b->epoch;
	if (failure)
		b->tot.failures++;
	else
		b->tot.successes++;
	if (slow)
		b->tot.slow++;
	emit(b, "breaker_call",
	     json_pack("{s:s, s:s, s:s, s:b, s:f, s:I, s:b, s:s}", "breaker", b->name, "outcome",
		       failure ? "failure"
		       : slow  ? "slow"
			       : "success",
		       "state", breaker_state_name(b->state), "slow", slow, "duration_ms",
		       (double)duration_ns / 1e6, "epoch", (json_int_t)epoch, "stale", stale,
		       "detail", detail ? detail : ""));
	if (stale || b->state == BREAKER_OPEN)
		return;
	b->ring[b->head] = (unsigned char)((failure ? 1 : 0) | (slow ? 2 : 0));
	b->head = (b->head + 1) % b->size;
	if (b->n < b->size)
		b->n++;
	if (b->n < m_eff(b))
		return;
	double fr, sr;
	rates(b, &fr, &sr);
	bool trips = fr >= b->c.failure_rate || sr >= b->c.slow_rate;
	if (b->state == BREAKER_CLOSED) {
		if (trips && !b->c.bug_never_opens)
			transition(b, BREAKER_OPEN, now_ns,
				   fr >= b->c.failure_rate ? "failure_rate" : "slow_rate");
	} else if (b->state == BREAKER_HALF_OPEN) {
		if (trips)
			transition(b, BREAKER_OPEN, now_ns, "half_open_trials_failed");
		else
			transition(b, BREAKER_CLOSED, now_ns, "half_open_trials_passed");
	}
}

json_t *breaker_json(struct breaker *b, int64_t now_ns)
{
	enum breaker_state st = breaker_state(b, now_ns);
	double fr, sr;
	rates(b, &fr, &sr);
	int nf = 0, ns = 0;
	for (int i = 0; i < b->n; i++) {
		nf += b->ring[i] & 1;
		ns += (b->ring[i] >> 1) & 1;
	}
	json_t *o =
		json_pack("{s:s, s:s, s:I, s:{s:s, s:i, s:i, s:f, s:I, s:f, s:I, s:i, s:b}, "
			  "s:{s:i, s:i, s:i, s:i, s:f, s:f, s:i}, s:{s:I, s:I, s:I, s:I, s:I}}",
			  "name", b->name, "state", breaker_state_name(st), "epoch",
			  (json_int_t)b->epoch, "config", "window_type", "COUNT_BASED", "window",
			  b->c.window, "minimum_calls", b->c.min_calls, "failure_rate_threshold",
			  b->c.failure_rate, "slow_call_duration_ms", (json_int_t)b->c.slow_ms,
			  "slow_call_rate_threshold", b->c.slow_rate, "wait_in_open_ms",
			  (json_int_t)b->c.wait_open_ms, "permitted_calls_in_half_open",
			  b->c.halfopen_calls, "automatic_transition", b->c.auto_transition,
			  "window", "size", b->size, "calls", b->n, "failures", nf, "slow", ns,
			  "failure_rate", fr, "slow_rate", sr, "half_open_issued",
			  b->halfopen_issued, "totals", "successes", (json_int_t)b->tot.successes,
			  "failures", (json_int_t)b->tot.failures, "slow", (json_int_t)b->tot.slow,
			  "rejected", (json_int_t)b->tot.rejected, "transitions",
			  (json_int_t)b->tot.transitions);
	if (o && st == BREAKER_OPEN) {
		int64_t left = (int64_t)b->c.wait_open_ms * 1000000 - (now_ns - b->opened_ns);
		json_object_set_new(o, "open_remaining_ms",
				    json_integer(left > 0 ? left / 1000000 : 0));
	}
	return o;
}

void breaker_totals(const struct breaker *b, struct breaker_totals *t)
{
	*t = b->tot;
}
