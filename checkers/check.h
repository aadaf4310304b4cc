/* The checkers: saga and money (M1-M3, S1-S8, Q1-Q2), the plain bank test
 * (B1-B2), the circuit breaker (C1-C7) and probes (H1-H5). Each reads a
 * sealed (or unsealed: it is sealed on entry) history and returns a new
 * result the caller frees with fl_check_result_free, or NULL on out of
 * memory. What each invariant means exactly: docs/checkers.md.
 *
 * Configurations are plain structs with defaults (fl_*_config_defaults) that
 * can be filled from JSON (fl_*_config_from_json: unknown keys are errors,
 * every problem named in err). Strings in configurations are copied into
 * fixed arrays, so a configuration owns nothing. */
#ifndef FL_CHECKERS_CHECK_H
#define FL_CHECKERS_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "checkers/history.h"
#include "checkers/result.h"

#define FL_CHK_NAME_MAX 96

/* --- saga and money --- */

struct fl_saga_config {
	int64_t deadline_ms; /* a saga's deadline unless its saga_started says; 30000 */
	int64_t grace_ms;    /* added to deadlines; 5000 */
	int64_t cqrs_lag_ms; /* Q1/Q2: read models converge within this after quiescence; 2000 */
	char corp[FL_CHK_NAME_MAX];    /* ledger account allowed negative; "CORP" */
	char transit[FL_CHK_NAME_MAX]; /* "TRANSIT" */
	int64_t bank_corp_initial;     /* M3: the bank's CORP balance before any saga; 0 */
	bool has_bank_total;
	int64_t bank_total; /* M2 total when snapshots carry no initial_total */
	int64_t since;	    /* report only what starts at or after this time (ns);
				 * INT64_MIN: everything */
};

void fl_saga_config_defaults(struct fl_saga_config *c);
/* Keys: deadline_ms, grace_ms, cqrs_lag_ms, corp_account, transit_account,
 * bank_corp_initial, bank_total, since. j is borrowed. Returns 0 or FL_EINVAL. */
int fl_saga_config_from_json(struct fl_saga_config *c, const json_t *j, char *err, size_t errlen);
struct fl_check_result *fl_check_saga(struct fl_chk_history *h, const struct fl_saga_config *c);

/* --- plain bank test (Jepsen) --- */

#define FL_BANK_MAX_ALLOW 16
struct fl_bank_config {
	bool has_total;
	int64_t total; /* when snapshots carry no initial_total / total */
	char allow_negative[FL_BANK_MAX_ALLOW][FL_CHK_NAME_MAX];
	int nallow;
	bool use_bank, use_money, use_reads; /* snapshot sources; default bank and reads */
};

void fl_bank_config_defaults(struct fl_bank_config *c);
/* Keys: total, allow_negative (array of names), sources (array of
 * "bank_snapshot", "money_snapshot", "read"). */
int fl_bank_config_from_json(struct fl_bank_config *c, const json_t *j, char *err, size_t errlen);
struct fl_check_result *fl_check_bank(struct fl_chk_history *h, const struct fl_bank_config *c);

/* --- circuit breaker (Resilience4j semantics) --- */

enum fl_window_type { FL_WINDOW_COUNT, FL_WINDOW_TIME };

struct fl_breaker_config {
	char name[FL_CHK_NAME_MAX]; /* breaker name in breaker_* events; "" = any */
	char link[FL_CHK_NAME_MAX]; /* proxy link whose http_exchange events are the
					 * downstream calls; "" = use breaker_call events */
	enum fl_window_type window_type;
	int window_size;		 /* N: calls (count) or seconds (time); 100 */
	int minimum_calls;		 /* m; 100 */
	double failure_rate_threshold;	 /* F %; 50 */
	double slow_call_rate_threshold; /* S %; 100 */
	int64_t slow_call_duration_ms;	 /* D; 60000 */
	int64_t wait_open_ms;		 /* W; 60000 */
	int half_open_calls;		 /* k; 10 */
	bool automatic_transition;	 /* false */
	int64_t tolerance_ms;		 /* clock/in-flight tolerance; 100 */
	int64_t fast_fail_ms;		 /* rejected calls must fail faster; 50 */
	char reject_reason
		[FL_CHK_NAME_MAX]; /* client ops failing for the breaker; "circuit_open" */
	bool claims;		   /* C8 on: compare recorded outcomes with the link's
					 * exchanges (every fault on the link below HTTP must
					 * be in the history); true */
	int failure_status_min;	   /* C8: answers with this status or above are failures; 500 */
	bool transport_error_is_failure; /* C8: no answer (reset, timeout) is a failure; true */
	int64_t since;			 /* report only what starts at or after this time (ns);
				 * earlier events only build the model's state;
				 * INT64_MIN: everything */
};

void fl_breaker_config_defaults(struct fl_breaker_config *c);
/* Accepts the breaker object of a service's /breakers output
 * ({"name","state","config":{...}}), a bare config object, or an array of
 * such objects (with `name` picking one). Config keys: window_type
 * ("COUNT_BASED"|"TIME_BASED"), window_size, minimum_calls,
 * failure_rate_threshold, slow_call_rate_threshold, slow_call_duration_ms,
 * wait_open_ms, half_open_calls, automatic_transition, link, tolerance_ms,
 * fast_fail_ms, reject_reason, since (also beside "config" in a /breakers
 * entry). */
int fl_breaker_config_from_json(struct fl_breaker_config *c, const json_t *j, const char *name,
				char *err, size_t errlen);
struct fl_check_result *fl_check_breaker(struct fl_chk_history *h,
					 const struct fl_breaker_config *c);

/* --- probes and graceful shutdown (Kubernetes semantics) --- */

struct fl_probe_check_config {
	char service[FL_CHK_NAME_MAX]; /* the probed service ("" = every probe event) */
	int64_t period_ms;	       /* 10000 */
	int64_t timeout_ms;	       /* 1000 */
	int success_threshold;	       /* 1 */
	int failure_threshold;	       /* 3 */
	int64_t grace_ms;	       /* terminationGracePeriodSeconds; 30000 */
	int64_t tolerance_ms;	       /* scheduling slack; 200 */
	int64_t drain_ms;	       /* H6: the service's drain delay after SIGTERM
					 * (endpoint propagation); 0 = not checked */
};

void fl_probe_check_config_defaults(struct fl_probe_check_config *c);
/* Keys: service, period (s), timeout (s), success_threshold,
 * failure_threshold, grace (s), tolerance_ms, drain (s); also the k8s names
 * periodSeconds, timeoutSeconds, successThreshold, failureThreshold,
 * terminationGracePeriodSeconds. */
int fl_probe_check_config_from_json(struct fl_probe_check_config *c, const json_t *j, char *err,
				    size_t errlen);
struct fl_check_result *fl_check_probe(struct fl_chk_history *h,
				       const struct fl_probe_check_config *c);

/* --- the registry: one dispatch for `faultline check` and fl.check ---
 *
 * Each checker is a struct fl_checker (checkers/registry.c): its name, its
 * configuration's defaults and JSON reader, and the check itself. A caller
 * finds a checker by name, configures it (defaults, then JSON, then the
 * caller's overrides) and runs it on a history. Adding a checker is adding
 * its entry there and its configuration to the union. */

union fl_checker_config {
	struct fl_saga_config saga;
	struct fl_bank_config bank;
	struct fl_breaker_config breaker;
	struct fl_probe_check_config probe;
};

/* Values set over a configuration after its JSON; NULL (or has_since false)
 * leaves the configuration's own. */
struct fl_checker_overrides {
	const char *name;    /* breaker: the breaker (also picks it from a /breakers list) */
	const char *link;    /* breaker: the proxy link of its downstream calls */
	const char *service; /* probe: the probed service */
	bool has_since;	     /* saga, breaker; an error for the others */
	int64_t since;
};

struct fl_checker {
	const char *name; /* "saga" */
	void (*defaults)(union fl_checker_config *c);
	/* j borrowed; `select` names one entry of a list where the checker
	 * takes lists (breaker), else ignored. 0 or a negative FL_E* with err. */
	int (*from_json)(union fl_checker_config *c, const json_t *j, const char *select, char *err,
			 size_t errlen);
	/* 0, or FL_EINVAL with err when an override does not apply. */
	int (*override)(union fl_checker_config *c, const struct fl_checker_overrides *o, char *err,
			size_t errlen);
	struct fl_check_result *(*run)(struct fl_chk_history *h, const union fl_checker_config *c);
};

/* Every checker, NULL-terminated, in the order they are listed to users. */
const struct fl_checker *const *fl_checkers(void);

/* The checker called `name`, or NULL. */
const struct fl_checker *fl_checker_find(const char *name);

/* "saga, bank, breaker, probe" in buf (for messages); returns buf. */
const char *fl_checker_names(char *buf, size_t len);

/* Fill *c: the checker's defaults, then JSON j (borrowed; NULL: none), then
 * o (NULL: none). Returns 0, or a negative FL_E* with the reason in err. */
int fl_checker_configure(const struct fl_checker *k, union fl_checker_config *c, const json_t *j,
			 const struct fl_checker_overrides *o, char *err, size_t errlen);

#endif
