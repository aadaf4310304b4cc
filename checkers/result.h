/* Checker results in Jepsen's form: a verdict (valid true / false /
 * unknown) and, per error type (an invariant id such as "M1", "S5", "C3",
 * "H2"), how many violations were found and the first, worst and last of
 * them, each with its evidence as JSON.
 *
 * A checker declares every invariant it evaluates (in the order it wants
 * them shown), marks the ones it could evaluate, records violations, and may
 * mark an invariant "unknown" with a reason when the history does not allow a
 * decision. fl_check_result_finish computes the verdict: false if any
 * violation; otherwise unknown if any invariant is unknown or nothing at all
 * could be evaluated; otherwise true.
 *
 * Ownership: a result owns everything in it; evidence handed to
 * fl_check_fail is taken (the reference is stolen). */
#ifndef FL_CHECKERS_RESULT_H
#define FL_CHECKERS_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "core/buf.h"

enum fl_check_valid { FL_CHECK_VALID = 0, FL_CHECK_INVALID = 1, FL_CHECK_UNKNOWN = 2 };

/* State of one invariant after checking. */
enum fl_check_inv_state {
	FL_INV_NOT_CHECKED, /* no data in the history to evaluate it */
	FL_INV_PASSED,	    /* evaluated at least once, no violation */
	FL_INV_FAILED,	    /* at least one violation */
	FL_INV_UNKNOWN,	    /* could not be decided (reason given) */
};

struct fl_check_invariant {
	char id[8]; /* "M1" */
	char *name; /* "conservation per snapshot" */
	enum fl_check_inv_state state;
	long checked;				/* how many times it was evaluated */
	long count;				/* violations */
	char *first_msg, *worst_msg, *last_msg; /* one-line descriptions */
	json_t *first, *worst, *last;		/* evidence (owned) */
	double worst_score;
	char *unknown_reason;
};

struct fl_check_result {
	char *checker; /* "saga", "bank", "breaker", "probe" */
	enum fl_check_valid valid;
	struct fl_check_invariant *inv;
	size_t ninv, capinv;
	json_t *stats;	     /* object: what was looked at ("sagas": 120, ...) (owned) */
	char *note;	     /* overall unknown reason, if any */
	int64_t duration_ns; /* time the check took */
	bool mute;	     /* while set, fl_check_pass/fail/unknown record nothing
				 * (a checker's `since` window: earlier events only
				 * build state) */
};

/* New empty result for `checker` (copied). NULL on out of memory. Free with
 * fl_check_result_free. */
struct fl_check_result *fl_check_result_new(const char *checker);
void fl_check_result_free(struct fl_check_result *r);

/* Declare an invariant (id and name copied). Declaring an id twice returns
 * the existing one. Returns NULL only on out of memory. */
struct fl_check_invariant *fl_check_declare(struct fl_check_result *r, const char *id,
					    const char *name);

/* The invariant with this id, or NULL. */
struct fl_check_invariant *fl_check_find(struct fl_check_result *r, const char *id);

/* Count one evaluation of invariant id (declared beforehand). A violation
 * is an evaluation too: call fl_check_pass for every evaluation and
 * fl_check_fail in addition for the failing ones. */
void fl_check_pass(struct fl_check_result *r, const char *id);

/* Record one violation of id with a one-line message and evidence (taken;
 * may be NULL). `score` orders violations for "worst" (higher is worse; ties
 * keep the earlier). Times and history line numbers belong in the evidence
 * ("t", "line"). */
void fl_check_fail(struct fl_check_result *r, const char *id, double score, json_t *evidence,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* (fl_check_pass, fl_check_fail and fl_check_unknown record nothing while
 * r->mute is set; fl_check_fail then frees the evidence.) */

/* Mark id undecidable with a reason (the first reason is kept). A later
 * violation of the same id overrides unknown. */
void fl_check_unknown(struct fl_check_result *r, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add to the stats object ("sagas": n). */
void fl_check_stat(struct fl_check_result *r, const char *key, json_int_t value);

/* Compute the verdict (see above) and return it. */
enum fl_check_valid fl_check_result_finish(struct fl_check_result *r);

/* "true", "false", "unknown". */
const char *fl_check_valid_str(enum fl_check_valid v);
/* "passed", "failed", "unknown", "not checked". */
const char *fl_check_inv_state_str(enum fl_check_inv_state s);

/* Exit code for a verdict (docs/cli.md, "Exit codes"): 0 valid, 1 invalid,
 * 4 unknown. */
int fl_check_exit_code(enum fl_check_valid v);

/* --- reports (checkers/result_report.c) --- */

/* Human-readable report: verdict, one line per invariant, and for each
 * failed one the first/worst/last message with its evidence (compact JSON,
 * `evidence_max` bytes at most per example; 0 = no limit). */
void fl_check_result_print(const struct fl_check_result *r, FILE *out, size_t evidence_max);

/* The result as JSON (new reference):
 * {"checker","valid":true|false|"unknown","invariants":{ID:{"name","state",
 *  "checked","count","first":{"message","evidence"},"worst":..,"last":..,
 *  "unknown_reason"}},"stats":{..},"note","duration_ms"} */
json_t *fl_check_result_json(const struct fl_check_result *r);

struct fl_report_set;
struct fl_run_summary;

/* Report r through set (borrowed) as the file "check.CHECKER" with one test
 * per declared invariant (report/parts.c: failed ones carry the first,
 * worst and last examples with their evidence, unknown ones are errors,
 * not-checked ones skipped), so every report format (JUnit, JSON, HTML,
 * TAP) shows a checker's verdict. Adds the tests and the file to *sum.
 * The caller frames the run (fl_report_run_begin/run_end). Returns 0 or
 * FL_ENOMEM. */
int fl_check_result_report(const struct fl_check_result *r, struct fl_report_set *set,
			   struct fl_run_summary *sum);

#endif
