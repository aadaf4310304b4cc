/* Runtime internals shared by transfer-system/rt*.c (not for services). */
#ifndef FL_REF_RT_INT_H
#define FL_REF_RT_INT_H

#include <event2/event.h>

#include "core/buf.h"
#include "transfer-system/rt.h"

#define RT_MAX_ROUTES 64
#define RT_NBUCKETS 12
extern const double rt_buckets[RT_NBUCKETS];

struct rt_status_count {
	int status;
	uint64_t n;
};

struct rt_route_ent {
	struct rt_svc *s;
	char method[8];
	char pattern[128];
	rt_handler_fn fn;
	int flags;
	struct rt_status_count codes[16];
	int ncodes;
	uint64_t bucket[RT_NBUCKETS];
	uint64_t count;
	double sum;
};

/* Per-request context, attached with fl_http_req_set_data. */
struct rt_reqctx {
	struct rt_svc *s;
	struct rt_route_ent *route;
	struct fl_http_req *req;
	int64_t start_ns;
	char trace_id[33];
	char *idem_key; /* owned, set when generic idempotency applies */
	struct rt_reqctx *prev, *next;
};

struct rt_waiter { /* a parked /events long poll */
	struct rt_svc *s;
	struct fl_http_req *req;
	int64_t after;
	int limit;
	struct event *timer;
	struct rt_waiter *next;
};

struct rt_idem_flight {
	char *key;
	struct rt_idem_flight *next;
};

struct rt_internal {
	struct rt_route_ent routes[RT_MAX_ROUTES];
	int nroutes;
	struct rt_reqctx *live;
	struct rt_waiter *waiters;
	struct rt_idem_flight *flights;
	sqlite3_stmt *stmts[128];
	const char *stmt_sql[128];
	int nstmts;
	struct event *sig_term, *sig_int, *drain_timer, *poll_timer;
	struct event *notify_ev;
	int64_t start_wall_ns;
	int64_t last_seq;
	int exit_code;
	int tx_depth;
	uint64_t events_total;
	json_t *pending_events; /* breaker events waiting for a flush */
	struct event *flush_ev;
	uint64_t calls_total, calls_failed;
	uint64_t commits_total; /* transactions committed (durable writes) */
	struct rt_after_ctx *afters;
	struct call_ctx *calls; /* outbound calls in flight */
};

/* rt_http.c */
void rt_http_free_live(struct rt_svc *s);
void rt_metrics_write(struct rt_svc *s, struct fl_buf *out);
bool rt_http_filter(struct fl_http_req *r, void *arg);
/* rt_call.c: release the calls still in flight (after the client is freed) */
void rt_calls_free(struct rt_svc *s);
/* rt_db.c */
int rt_db_open(struct rt_svc *s, char *err, size_t errlen);
void rt_db_close(struct rt_svc *s);
void rt_events_route(struct rt_svc *s);
void rt_events_release_all(struct rt_svc *s);
void rt_breaker_event(void *arg, const char *type, json_t *fields);
void rt_flush_pending(struct rt_svc *s);
bool rt_db_ok(struct rt_svc *s);
/* rt.c */
bool rt_started(struct rt_svc *s);

#endif
