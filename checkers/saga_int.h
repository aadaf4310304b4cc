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
	int64_t doubt_t; /* the pivot's first unknown outcome: it may have been sent */
	int64_t comp_t;	 /* the first compensation requested: it decided to undo */
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
	int64_t req_t[MAXSTEP + 1]; /* the forward step's last step_requested */
	uint8_t nreq[MAXSTEP + 1];  /* how many times it was requested (saturating) */
	uint8_t ncomp[MAXSTEP + 1]; /* compensation requests of the step (saturating) */
	uint16_t path;		    /* PATH_* bits: what the saga went through */
	size_t ev_off, ev_n;	    /* this saga's events in the by-saga index */
};

/* What a saga went through (saga_st.path), for the coverage summary. */
enum {
	PATH_UNKNOWN = 1,	/* a step's outcome was unknown */
	PATH_PIVOT_DOUBT = 2,	/* ... the pivot's */
	PATH_RES_APPLIED = 4,	/* an unknown outcome resolved applied */
	PATH_RES_NOT = 8,	/* ... resolved not applied */
	PATH_DEFERRED = 16,	/* deferred on an open breaker */
	PATH_COMP_RETRY = 32,	/* a compensation requested more than once */
	PATH_NOT_SENT = 64,	/* a step failed as not sent (refused, circuit open) */
	PATH_AFTER_PIVOT = 128, /* a step after the pivot failed and was retried */
};

/* Exchanges and effects grouped by their key (saga_wire.c). */
struct by_key {
	size_t *off; /* per string id: first index in idx; off[id + 1] ends it */
	size_t *idx; /* exchange / effect indices, by key, in time order */
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
	int64_t last_end;      /* latest saga end */
	struct by_key ex, eff; /* exchanges and effects by key (S7) */
};

static inline const char *S(struct ctx *x, int32_t id)
{
	const char *s = fl_chk_str(x->h, id);
	return s ? s : "";
}

/* S7: index exchanges and effects by key (0 or FL_ENOMEM); free them. */
int fl_saga_wire_index(struct ctx *x);
void fl_saga_wire_free(struct ctx *x);

/* S7 at forward step outcome e of step k of saga s (during the replay). */
void fl_saga_wire_step(struct ctx *x, struct saga_st *s, const struct fl_chk_saga_ev *e, int k);

/* The coverage summary: how many sagas took each path (into the stats). */
void fl_saga_paths(struct ctx *x);

/* The saga's events as evidence (saga.c). */
json_t *fl_saga_evidence(struct ctx *x, const struct saga_st *s);

/* "debit" for a step given by name, else its number (saga.c). */
const char *fl_saga_step_label(struct ctx *x, const struct saga_st *s, int k, char *buf, size_t n);

/* M1-M3 over the money and bank snapshots. */
void fl_saga_check_money(struct ctx *x);

/* Q1 and Q2 over read-model samples and failure counters. */
void fl_saga_check_queries(struct ctx *x);

#endif
