/* Internals of the saga checker shared by checkers/saga.c (sagas, effects,
 * clients) and checkers/saga_money.c (snapshots, read models). Private. */
#ifndef FL_CHECKERS_SAGA_INT_H
#define FL_CHECKERS_SAGA_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "checkers/check.h"

#define MAXSTEP 31

enum { F_NONE, F_REQ, F_OK, F_FAIL, F_UNK, F_APPLIED, F_NOT_APPLIED };
enum { C_NONE, C_REQ, C_OK };

/* What a step's forward events say about its effect (bits of saga_st.eff). */
enum {
	EFF_AMT = 2,  /* carries a nonzero amount */
	EFF_ZERO = 4, /* carries "amount": 0 */
	EFF_YES = 8,  /* "effect": true */
	EFF_NO = 16,  /* "effect": false */
};

struct saga_st {
	int32_t id;
	int64_t started_t, ended_t, pivot_t;
	int64_t clock_t; /* where its deadline counts from: start, or the last resume */
	long start_line, end_line;
	int32_t state, reason, type, request_key;
	int64_t amount, deadline_ms;
	int16_t pivot_step, comp_min;
	uint8_t fwd[MAXSTEP + 1], comp[MAXSTEP + 1];
	uint8_t eff[MAXSTEP + 1]; /* EFF_* seen on the step's forward events */
	uint32_t pending_unknown;
	int32_t names[MAXSTEP + 1]; /* steps given by name, in order of first sight */
	uint8_t nnames;
	long unknown_line;
	bool ended, started;
	bool deferred; /* waiting (saga_deferred, not resumed since): no deadline */
	long deferred_line;
	size_t ev_off, ev_n; /* this saga's events in the by-saga index */
};

struct ctx {
	struct fl_chk_history *h;
	const struct fl_saga_config *c;
	struct fl_check_result *r;
	struct saga_st *sg;
	size_t nsg;
	int32_t *slot;	 /* string id -> saga index or -1 */
	size_t *by_saga; /* saga event indices grouped by saga */
	int32_t st_completed, st_compensated, st_failed, st_stuck;
	int64_t last_end; /* latest saga end */
};

static inline const char *S(struct ctx *x, int32_t id)
{
	const char *s = fl_chk_str(x->h, id);
	return s ? s : "";
}

/* M1-M3 over the money and bank snapshots. */
void fl_saga_check_money(struct ctx *x);

/* Q1 and Q2 over read-model samples and failure counters. */
void fl_saga_check_queries(struct ctx *x);

#endif
