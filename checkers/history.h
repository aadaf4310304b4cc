/* The history model the checkers read: a JSONL history (core/history.h,
 * schema in docs/checkers.md) loaded in one pass into compact typed arrays,
 * one per kind of event, each sorted by time. Strings (saga ids, keys,
 * participants, breaker names, links, services) are interned: fields hold a
 * string id (>= 0) or -1 when absent; fl_chk_str turns an id back into text.
 *
 * Lines that are not events the checkers know (other services' events, the
 * runner's own notes) are counted in `ignored` and otherwise skipped; a known
 * event with a missing or ill-typed required field is an error naming the
 * line.
 *
 * Ownership: the history owns everything in it, including the json_t values
 * kept for snapshots; fl_chk_history_free releases it all. */
#ifndef FL_CHECKERS_HISTORY_H
#define FL_CHECKERS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Jepsen operation types. */
enum fl_op_type { FL_OP_INVOKE, FL_OP_OK, FL_OP_FAIL, FL_OP_INFO };

struct fl_chk_op {
	int64_t t;
	long line;
	int32_t process; /* interned process number ("3") */
	uint8_t type;	 /* enum fl_op_type */
	int32_t f;	 /* "transfer", "read", ... */
	int32_t saga;	 /* value.saga_id */
	int32_t key;	 /* value.key (the request's idempotency key) */
	int32_t service; /* value.service */
	int32_t breaker; /* value.breaker: the breaker that refused it, -1 when not said */
	int32_t error;	 /* value.error, or value.reason when no error */
	int32_t state;	 /* value.state ("COMPLETED", "DEFERRED", ...) */
	int32_t status;	 /* value.status (HTTP), 0 when absent */
	int64_t amount;	 /* value.amount, 0 when absent */
	int64_t pair;	 /* index of the matching invoke (for completions) or
				 * completion (for invokes), -1 when none */
};

enum fl_saga_ev_kind {
	FL_SAGA_STARTED,
	FL_STEP_REQUESTED,
	FL_STEP_SUCCEEDED,
	FL_STEP_FAILED,
	FL_STEP_UNKNOWN,
	FL_STEP_RESOLVED,
	FL_COMP_REQUESTED,
	FL_COMP_SUCCEEDED,
	FL_SAGA_ENDED,
	FL_SAGA_DEFERRED, /* waiting for a breaker; its deadline is suspended */
	FL_SAGA_RESUMED,  /* running again; its deadline starts afresh */
	FL_SAGA_EV_KINDS
};

struct fl_chk_saga_ev {
	int64_t t;
	long line;
	uint8_t kind;	    /* enum fl_saga_ev_kind */
	uint8_t comp;	    /* dir == "comp" (or a compensation_* event) */
	uint8_t pivot;	    /* "pivot": true on the step */
	uint8_t effect;	    /* "effect": 0 absent, 1 false (moves no money), 2 true */
	uint8_t definite;   /* step_failed "definite": 0 absent, 1 false (not sent), 2 true */
	uint8_t has_amount; /* "amount" present */
	int16_t step;	    /* 0 when absent or given by name */
	int32_t step_name;  /* "step" given as a name ("debit"); -1 when a number */
	int32_t saga;
	int32_t key;
	int32_t participant;
	int32_t state;	     /* saga_ended: state */
	int32_t reason;	     /* saga_ended / step_failed: reason */
	int32_t outcome;     /* step_resolved: "applied" | "not_applied" */
	int32_t saga_type;   /* saga_started: "saga_type" or "type" ("internal", ...) */
	int32_t request_key; /* saga_started: "request_key" */
	int16_t pivot_step;  /* saga_started: "pivot_step", 0 when absent */
	int64_t amount;
	int64_t deadline_ms; /* saga_started: "deadline_ms", -1 when absent */
};

/* An effect applied at a participant (a ledger posting, a bank transfer). */
struct fl_chk_effect {
	int64_t t;
	long line;
	int32_t participant;
	int32_t key;
	int32_t saga;	  /* "saga_id", else the key up to its first ':' */
	int32_t from, to; /* accounts */
	int64_t amount;
};

enum fl_call_outcome { FL_CALL_SUCCESS, FL_CALL_FAILURE, FL_CALL_SLOW, FL_CALL_REJECTED };

struct fl_chk_call {
	int64_t start, end;
	long line;
	int32_t breaker;
	int32_t service; /* the service owning the breaker, -1 when not given */
	uint8_t outcome; /* enum fl_call_outcome */
};

enum fl_breaker_state { FL_BR_CLOSED, FL_BR_OPEN, FL_BR_HALF_OPEN, FL_BR_OTHER };

struct fl_chk_transition {
	int64_t t;
	long line;
	int32_t breaker;
	int32_t service;
	uint8_t from, to; /* enum fl_breaker_state */
};

struct fl_chk_exchange {
	int64_t start, end;
	long line;
	int32_t link;
	int32_t method, path;
	int32_t error; /* "error" when no response ("reset", "timeout", ...) */
	int32_t fault; /* the proxy's HTTP fault ("http_drop_response", ...) or -1 */
	int32_t key;   /* the request's idempotency key: its Idempotency-Key header, else
			* its "key" query parameter, else its path's last segment; -1 */
	int status;    /* 0 when no response */
};

struct fl_chk_conn {
	int64_t t;
	long line;
	int32_t link;
	uint8_t open;  /* connection_open (1) / connection_close (0) */
	int32_t error; /* close reason ("reset") or -1 */
};

enum fl_snap_kind { FL_SNAP_MONEY, FL_SNAP_BANK, FL_SNAP_READ };

struct fl_chk_snapshot {
	int64_t t;
	long line;
	uint8_t kind;	   /* enum fl_snap_kind; READ: a client's ok read */
	uint8_t quiescent; /* "quiescent": true */
	uint8_t has_total;
	int64_t initial_total;
	int64_t sum;	  /* of every balance */
	json_t *accounts; /* object name -> integer balance (owned reference); NULL
				 * for a client read with no negative balance (kept lean) */
};

struct fl_chk_fault {
	int64_t t;
	long line;
	uint8_t added;	/* action "added" (1) or "removed" (0) */
	int32_t what;	/* "kill", "pause", "partition", "toxic", "sigterm", "db_down", ... */
	int32_t target; /* "extbank", a link "banking->extbank", ... */
	int32_t id;	/* pairs added/removed; -1 when absent */
};

struct fl_chk_process {
	int64_t t;
	long line;
	int32_t service;
	int32_t action;	   /* "started", "sigterm", "sigkill", "exited", "paused", "resumed" */
	int exit_code;	   /* -1 when absent */
	int signal;	   /* 0 when absent */
	int64_t signalled; /* when the signal was sent, 0 when absent (a kill is
			      recorded at t, once the process is gone) */
};

enum fl_probe_kind { FL_PROBE_LIVENESS, FL_PROBE_READINESS, FL_PROBE_STARTUP };

struct fl_chk_probe {
	int64_t start, t; /* t: when the result was known */
	long line;
	int32_t service;
	uint8_t kind; /* enum fl_probe_kind */
	uint8_t ok;
	uint8_t held; /* run while startup held this probe back (observed only) */
	uint8_t timed_out;
	int status;
	int64_t latency_ns;
};

struct fl_chk_probe_tr {
	int64_t t;
	long line;
	int32_t service;
	uint8_t kind;
	uint8_t passing; /* new state */
	int32_t action;	 /* "restart", "removed", "added", "started" or -1 */
};

struct fl_chk_cqrs {
	int64_t t;
	long line;
	int32_t address;
	int64_t read_model, wallet_sum, aggregation;
	uint8_t has_agg;
};

struct fl_chk_counts {
	int64_t t;
	long line;
	json_t *counts; /* reason -> integer (owned) */
};

#define FL_CHK_VEC(type, name)                                                                     \
	type *name;                                                                                \
	size_t n_##name, cap_##name

struct fl_chk_history {
	FL_CHK_VEC(struct fl_chk_op, ops);
	FL_CHK_VEC(struct fl_chk_saga_ev, saga);
	FL_CHK_VEC(struct fl_chk_effect, effects);
	FL_CHK_VEC(struct fl_chk_call, calls);
	FL_CHK_VEC(struct fl_chk_transition, transitions);
	FL_CHK_VEC(struct fl_chk_exchange, exchanges);
	FL_CHK_VEC(struct fl_chk_conn, conns);
	FL_CHK_VEC(struct fl_chk_snapshot, snaps);
	FL_CHK_VEC(struct fl_chk_fault, faults);
	FL_CHK_VEC(struct fl_chk_process, procs);
	FL_CHK_VEC(struct fl_chk_probe, probes);
	FL_CHK_VEC(struct fl_chk_probe_tr, probe_trs);
	FL_CHK_VEC(struct fl_chk_cqrs, cqrs);
	FL_CHK_VEC(struct fl_chk_counts, counts);
	FL_CHK_VEC(int64_t, quiescence); /* {"event":"quiescence"} markers */
	long lines;			 /* events added */
	long ignored;			 /* lines that were not checker events */
	int64_t t_first, t_last;	 /* over every event with a time */
	bool sealed;
	struct fl_chk_strtab *strs; /* private */
};

/* New empty history; NULL on out of memory. */
struct fl_chk_history *fl_chk_history_new(void);
void fl_chk_history_free(struct fl_chk_history *h);

/* Add one event (borrowed; nothing of it is kept but snapshot accounts and
 * counts, which are referenced). `line` is reported in errors and evidence.
 * Returns 0, or FL_EPARSE with "line N: reason" in err, or FL_ENOMEM. */
int fl_chk_history_add(struct fl_chk_history *h, json_t *ev, long line, char *err, size_t errlen);

/* Finish loading: sort every array by time (only when out of order) and pair
 * client invokes with their completions. Called by the checkers when needed;
 * adding after sealing unseals. Returns 0 or FL_ENOMEM. */
int fl_chk_history_seal(struct fl_chk_history *h);

/* Load a JSONL history file. New history (caller frees) or NULL with
 * "PATH:LINE: reason" in err. */
struct fl_chk_history *fl_chk_history_load(const char *path, char *err, size_t errlen);

/* Add every event of a JSONL file to h (several files merge into one
 * history). Returns 0 or a negative FL_E* with "PATH:LINE: reason" in err. */
int fl_chk_history_add_file(struct fl_chk_history *h, const char *path, char *err, size_t errlen);

/* Intern a string (copied); returns its id or -1 on out of memory. */
int32_t fl_chk_intern(struct fl_chk_history *h, const char *s);
/* The id of s if interned, else -1 (interns nothing). */
int32_t fl_chk_lookup(const struct fl_chk_history *h, const char *s);
/* The text of id, or NULL for -1 (borrowed, lives as long as h). */
const char *fl_chk_str(const struct fl_chk_history *h, int32_t id);
/* Number of interned strings (ids are 0 .. n-1). */
size_t fl_chk_nstrs(const struct fl_chk_history *h);

const char *fl_op_type_str(int type);
const char *fl_saga_ev_str(int kind);
const char *fl_call_outcome_str(int outcome);
const char *fl_breaker_state_str(int state);
const char *fl_probe_kind_str(int kind);

#endif
