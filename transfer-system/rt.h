/* The service runtime shared by every transferd service (private to
 * transfer-system/): options, the HTTP server with probes, metrics, events
 * and idempotency, SQLite with an outbox, outbound calls through circuit
 * breakers with W3C trace propagation, graceful shutdown.
 *
 * One process runs one service on one libevent loop; nothing blocks on a
 * peer. Handlers receive the core request and reply through rt_reply* (never
 * fl_http_reply* directly) so metrics, logs and idempotency see the reply. */
#ifndef FL_REF_RT_H
#define FL_REF_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>

#include "core/http_client.h"
#include "core/http_server.h"
#include "core/prng.h"
#include "transfer-system/breaker.h"

#define RT_MAX_PEERS 16
#define RT_MAX_BREAKERS 8

/* The corporate account at the external bank (mirrors money's CORP). */
#define REF_CORP_BANK "fl-bank"
#define REF_CORP_NUMBER "000-CORP"

enum rt_bug {
	BUG_NO_REFUND = 1u << 0,
	BUG_REFUND_ON_UNKNOWN = 1u << 1,
	BUG_NON_IDEMPOTENT_CREDIT = 1u << 2,
	BUG_INTERNAL_NO_COMPENSATION = 1u << 3,
	BUG_NO_SAGA_DEADLINE = 1u << 4,
	BUG_BREAKER_NEVER_OPENS = 1u << 5,
	BUG_BREAKER_STUCK_OPEN = 1u << 6,
	BUG_BREAKER_HALFOPEN_FLOOD = 1u << 7,
	BUG_LIVENESS_CHECKS_DEPS = 1u << 8,
	BUG_READY_WHILE_DRAINING = 1u << 9,
	BUG_DROP_INFLIGHT_ON_SIGTERM = 1u << 10,
	BUG_QUERY_INCREASES_ONLY = 1u << 11,
};

/* Bug names in the order of the bits above, NULL-terminated: the one list
 * of them (`transferd --list-bugs` prints it for faultline ref up). */
extern const char *const rt_bug_names[];
/* The bit for a bug name, or 0. */
unsigned rt_bug_parse(const char *name);

struct rt_peer {
	char name[32];
	char url[256]; /* "http://127.0.0.1:PORT" without a trailing slash */
};

struct rt_opts {
	char service[32];
	char host[64];
	int port;
	char data[1024];
	struct rt_peer peers[RT_MAX_PEERS];
	int npeers;
	unsigned bugs;
	char crash_at[64];
	uint64_t seed;
	long drain_delay_ms;
	long grace_ms;
	long saga_deadline_ms;
	long call_timeout_ms;
	long reply_timeout_ms;
	long recovery_timeout_ms;
	long poll_wait_ms; /* query: long-poll wait on feeds */
	struct breaker_config breaker;
	int log_json;
	char log_level[16];
};

/* Fill defaults, then parse argv (transferd's flags). Returns 0, or
 * FL_EINVAL with the message in err; "help" in err when --help was asked. */
int rt_opts_parse(struct rt_opts *o, int argc, char **argv, char *err, size_t errlen);
extern const char rt_usage[];

struct rt_svc;
typedef void (*rt_handler_fn)(struct rt_svc *s, struct fl_http_req *r);

/* One service's definition. init creates its schema and routes. */
struct rt_service_def {
	const char *name;
	bool sync_full; /* synchronous=FULL (money, saga log) */
	int (*init)(struct rt_svc *s, char *err, size_t errlen);
	void (*fini)(struct rt_svc *s);
	/* extra metrics lines (HELP/TYPE included); may be NULL */
	void (*metrics)(struct rt_svc *s, struct fl_buf *out);
	/* extra readiness condition (e.g. recovery done); may be NULL */
	bool (*started)(struct rt_svc *s);
	/* called once when the drain begins; may be NULL */
	void (*on_stop_accepting)(struct rt_svc *s);
};

const struct rt_service_def *rt_service_find(const char *name);

struct rt_svc {
	struct rt_opts o;
	const struct rt_service_def *def;
	struct event_base *base;
	struct fl_http_server *http;
	struct fl_http_client *client;
	sqlite3 *db;
	char db_path[1100];
	struct fl_prng rng;
	bool draining, accepting_stopped, stopping;
	int64_t drain_started_ns;
	struct breaker *breakers[RT_MAX_BREAKERS];
	int nbreakers;
	void *impl;		/* the service's own state */
	struct rt_internal *in; /* runtime internals (rt.c) */
};

/* Run a service until it exits; returns the process exit code. */
int rt_run(const struct rt_opts *o);

/* --- routing and replies --- */
enum { RT_IDEM = 1 }; /* route flag: generic Idempotency-Key handling */
int rt_route(struct rt_svc *s, const char *method, const char *pattern, rt_handler_fn fn,
	     int flags);
/* Takes body. */
void rt_reply_json(struct fl_http_req *r, int status, json_t *body);
void rt_reply_error(struct fl_http_req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* {"error": msg, "status": status, "result": result} */
void rt_reply_result_error(struct fl_http_req *r, int status, const char *result, const char *fmt,
			   ...) __attribute__((format(printf, 4, 5)));
void rt_reply_raw(struct fl_http_req *r, int status, const char *ctype, const void *body,
		  size_t len);
/* The request's JSON body or NULL after replying 400 itself. Borrowed. */
json_t *rt_body(struct fl_http_req *r);
/* The request's trace id (32 hex, borrowed for the request's life). */
const char *rt_trace_id(struct fl_http_req *r);

/* --- database --- */
/* Run SQL (no results). Returns 0 or FL_EDB (logged). */
int rt_exec(struct rt_svc *s, const char *sql);
/* Prepare a cached statement (finalised at exit). NULL on error (logged). */
sqlite3_stmt *rt_stmt(struct rt_svc *s, const char *sql);
int rt_begin(struct rt_svc *s);
int rt_commit(struct rt_svc *s);
void rt_rollback(struct rt_svc *s);
/* Append an event to the outbox inside the caller's transaction (or alone).
 * fields is borrowed; "type", "seq", "service", "t" and "ts" are added. */
int rt_event(struct rt_svc *s, const char *type, json_t *fields);
/* Wake /events long polls after a commit that added events. */
void rt_events_notify(struct rt_svc *s);

/* --- outbound calls --- */
enum rt_call_kind {
	RT_CALL_REPLY,	  /* an HTTP answer (any status) */
	RT_CALL_REJECTED, /* the breaker refused: not sent */
	RT_CALL_REFUSED,  /* connection refused: not sent */
	RT_CALL_UNKNOWN,  /* timeout, reset, error after sending */
};
struct rt_call_result {
	enum rt_call_kind kind;
	long status;
	json_t *json;	  /* borrowed, may be NULL */
	const char *body; /* borrowed, may be NULL */
	size_t body_len;
	const char *errmsg;
	double seconds;
};
typedef void (*rt_call_fn)(struct rt_svc *s, const struct rt_call_result *res, void *arg);
struct rt_call {
	const char *peer; /* peer name (its --peer URL) */
	const char *method;
	const char *path;   /* "/money/debit?x=1" */
	const json_t *json; /* borrowed */
	const void *body;   /* raw body (when json is NULL), borrowed */
	size_t body_len;
	const char *idem_key;
	const char *trace_id;	    /* NULL: a new trace */
	const char *const *headers; /* extra "Name: value" */
	size_t nheaders;
	long timeout_ms;	 /* 0: --call-timeout */
	struct breaker *breaker; /* NULL: no breaker */
	/* called instead of cb when the service stops with the call in flight,
	 * to release arg; NULL: arg is not owned by the call */
	void (*cancel)(void *arg);
};
/* Start a call; cb is always called later from the loop, exactly once.
 * Returns 0 or FL_ENOENT (unknown peer) / FL_ENOMEM, then cb is not called. */
int rt_call(struct rt_svc *s, const struct rt_call *c, rt_call_fn cb, void *arg);
const char *rt_peer_url(struct rt_svc *s, const char *name);
/* A breaker named "SERVICE->peer" with the configured settings (registered
 * for /breakers and /metrics). */
struct breaker *rt_breaker(struct rt_svc *s, const char *peer);

/* --- misc --- */
/* Exit abruptly (SIGKILL self) when --crash-at equals label. */
void rt_crash_point(struct rt_svc *s, const char *label);
bool rt_bug(const struct rt_svc *s, unsigned bug);
/* Run fn(arg) after ms on the loop. Returns 0 or FL_ENOMEM. */
int rt_after(struct rt_svc *s, long ms, void (*fn)(struct rt_svc *s, void *arg), void *arg);
/* The same; cancel(arg) runs instead when the service stops first. */
int rt_after_owned(struct rt_svc *s, long ms, void (*fn)(struct rt_svc *s, void *arg), void *arg,
		   void (*cancel)(void *arg));
/* A fresh 32-hex trace id into out (33 bytes). */
void rt_new_trace_id(struct rt_svc *s, char *out);
/* Write the current wall time as UTC "YYYY-MM-DD" into out (11 bytes). */
void rt_today(int64_t wall_ns, char *out);

#endif
