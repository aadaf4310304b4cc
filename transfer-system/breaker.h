/* A circuit breaker with Resilience4j's semantics (docs/checkers.md, "Circuit breaker"):
 * a count-based sliding window of the last N outcomes, a decision only once
 * m_eff = min(m, N) outcomes are in, tripping iff failure rate >= F % or
 * slow rate >= S % (slow: duration > D, strictly); OPEN rejects until W has
 * passed, then the next call moves it to HALF_OPEN, which permits exactly k
 * trial calls with a fresh window of k and m_eff = min(m, k). Outcomes of
 * calls permitted before the last transition are reported but ignored.
 *
 * The breaker is plain state driven by the caller's clock (monotonic ns);
 * it reports calls and transitions through an optional event callback. */
#ifndef FL_REF_BREAKER_H
#define FL_REF_BREAKER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker_config {
	int window;	      /* N, count-based */
	int min_calls;	      /* m */
	double failure_rate;  /* F, percent */
	long slow_ms;	      /* D */
	double slow_rate;     /* S, percent */
	long wait_open_ms;    /* W */
	int halfopen_calls;   /* k */
	bool auto_transition; /* OPEN -> HALF_OPEN by timer (checked on every query) */
	/* planted bugs */
	bool bug_never_opens, bug_stuck_open, bug_halfopen_flood;
};

/* The spec's defaults for the reference system (N 10, m 5, F 50, D 1 s,
 * S 100, W 5 s, k 3). */
void breaker_config_default(struct breaker_config *c);

/* type: "breaker_call" or "breaker_transition"; fields borrowed. */
typedef void (*breaker_event_fn)(void *arg, const char *type, json_t *fields);

struct breaker;

/* New breaker; name and config are copied. NULL on out of memory. */
struct breaker *breaker_new(const char *name, const struct breaker_config *c, breaker_event_fn ev,
			    void *ev_arg);
void breaker_free(struct breaker *b);

/* Ask to make a call at now_ns. True: permitted, *epoch identifies the
 * state episode the permit belongs to (pass it to breaker_record). False:
 * rejected (the rejection is reported as an event). */
bool breaker_acquire(struct breaker *b, int64_t now_ns, uint64_t *epoch);

/* Report a call refused because breaker_would_permit said no (a caller
 * that checks first and then does not call): counted and reported as a
 * rejected call, like a refusal by breaker_acquire. */
void breaker_reject(struct breaker *b, int64_t now_ns);

/* Would a call be permitted now (without taking a permit)? */
bool breaker_would_permit(struct breaker *b, int64_t now_ns);

/* Record the outcome of a permitted call. */
void breaker_record(struct breaker *b, uint64_t epoch, int64_t now_ns, int64_t duration_ns,
		    bool failure, const char *detail);

enum breaker_state breaker_state(struct breaker *b, int64_t now_ns);
const char *breaker_state_name(enum breaker_state s);
const char *breaker_name(const struct breaker *b);

/* {"name","state","config":{..},"window":{..},"counts":{..}}: new reference. */
json_t *breaker_json(struct breaker *b, int64_t now_ns);

/* Totals for metrics. */
struct breaker_totals {
	uint64_t successes, failures, slow, rejected, transitions;
};
void breaker_totals(const struct breaker *b, struct breaker_totals *t);

#endif
