/* remittance internals: the saga model shared by svc_remittance.c (HTTP,
 * recovery, deferral), saga_record.c (the saga as data: step tables, log
 * rows, events, JSON) and saga.c (the state machine). */
#ifndef FL_REF_REMIT_H
#define FL_REF_REMIT_H

#include "transfer-system/rt.h"

enum saga_type { SAGA_INTERNAL = 0, SAGA_EXTERNAL = 1, SAGA_TOPUP = 2 };
enum step_kind { K_VALIDATE, K_DEBIT, K_CREDIT, K_FIRMBANK, K_SETTLE };

struct step_def {
	const char *name;
	enum step_kind kind;
	const char *participant;
	bool compensable;
	bool pivot;
};

#define SAGA_MAX_STEPS 4

struct saga_step {
	char fwd[16];	/* PENDING REQUESTED SUCCEEDED FAILED UNKNOWN NOT_APPLIED */
	char comp[16];	/* NONE REQUESTED SUCCEEDED */
	int maybe_sent; /* some attempt may have reached the participant */
	int attempts, comp_attempts;
	char result[96];
};

struct waiter;
struct saga_waiter {
	struct waiter *w;
	struct saga_waiter *next;
};

struct saga {
	struct rt_svc *s;
	char id[32];
	int type;
	char state[16]; /* RUNNING DEFERRED COMPENSATING COMPLETED COMPENSATED FAILED STUCK */
	char reason[96];
	char from[32], to[32], bank[64], account[64];
	long long amount;
	char trace[33];
	char idem[160];
	int cur;
	int64_t deadline_ms;	 /* wall ms; 0: none */
	int64_t deadline_len_ms; /* the request's deadlineMs; 0: --saga-deadline */
	int64_t created_ms;
	const struct step_def *defs;
	int nsteps;
	struct saga_step st[SAGA_MAX_STEPS];
	struct saga_step saved[SAGA_MAX_STEPS]; /* as last written to the log */
	bool busy;				/* a call or a timer is outstanding */
	bool recovered;
	int sub; /* validate: which sub-call */
	struct saga_waiter *waiters;
	struct saga *next;
};

struct remit {
	struct saga *active;
	size_t nactive, recovering;
	bool recovery_done;
	int64_t started_ns;
	struct event *tick;
	uint64_t started_total, ended_total;
	int64_t last_deferral_ns; /* a saga was (re)deferred */
	int64_t last_probe_ns;	  /* a deferred saga was resumed as a trial */
};

/* saga_record.c: the saga as data */
const struct step_def *saga_defs(int type, int *n);
const char *saga_type_name(int type);
bool saga_terminal(const char *state);
void saga_step_key(const struct saga *g, int step, const char *dir, char *out, size_t n);
/* The length of g's pre-pivot deadline in ms: the request's deadlineMs, else --saga-deadline. */
int64_t saga_deadline_len(const struct saga *g);
/* Persist the saga and its steps (inside the caller's transaction). */
int saga_save(struct saga *g);
/* Emit a saga event into the outbox (inside the caller's transaction). */
void saga_event(struct saga *g, const char *type, int step, const char *dir, json_t *extra);
/* The saga as JSON (new reference). */
json_t *saga_json(const struct saga *g);

/* saga.c: the state machine */
/* Continue a saga from where it stands (never blocks). */
void saga_drive(struct saga *g);
/* Inside the transaction that writes g: log its next forward step as
 * REQUESTED when saga_drive would simply start it; true when it did. Then,
 * once that transaction is committed, saga_send_logged(g) sends it (and
 * saga_drive must not be called instead). */
bool saga_log_next(struct saga *g);
void saga_send_logged(struct saga *g);
/* Resume a DEFERRED saga. */
void saga_resume(struct saga *g);

/* svc_remittance.c */
void remit_saga_settled(struct saga *g); /* terminal or deferred: answer waiters */
void remit_saga_free(struct saga *g);

#endif
