/* Service runtime: SQLite access, the outbox and its /events long-poll feed. */
#include "transfer-system/rt_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"

static const char rt_schema[] =
	"CREATE TABLE IF NOT EXISTS rt_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" type TEXT NOT NULL, body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS rt_idem(key TEXT NOT NULL, route TEXT NOT NULL,"
	" status INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(key, route));";

int rt_db_open(struct rt_svc *s, char *err, size_t errlen)
{
	snprintf(s->db_path, sizeof(s->db_path), "%s/%s.db", s->o.data, s->o.service);
	if (sqlite3_open(s->db_path, &s->db) != SQLITE_OK)
		return fl_err_set(err, errlen, FL_EDB, "open %s: %s", s->db_path,
				  s->db ? sqlite3_errmsg(s->db) : "out of memory");
	sqlite3_busy_timeout(s->db, 2000);
	char pragmas[256];
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;",
		 s->def->sync_full ? "FULL" : "NORMAL");
	char *msg = NULL;
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, rt_schema, NULL, NULL, &msg) != SQLITE_OK) {
		fl_err_set(err, errlen, FL_EDB, "%s: %s", s->db_path, msg ? msg : "?");
		sqlite3_free(msg);
		return FL_EDB;
	}
	sqlite3_stmt *st = rt_stmt(s, "SELECT COALESCE(MAX(seq), 0) FROM rt_outbox");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		s->in->last_seq = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return 0;
}

void rt_db_close(struct rt_svc *s)
{
	for (int i = 0; i < s->in->nstmts; i++)
		sqlite3_finalize(s->in->stmts[i]);
	s->in->nstmts = 0;
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

bool rt_db_ok(struct rt_svc *s)
{
	struct stat st;
	if (!s->db || stat(s->db_path, &st) != 0)
		return false;
	sqlite3_stmt *q = rt_stmt(s, "SELECT 1 FROM rt_outbox LIMIT 1");
	if (!q)
		return false;
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

int rt_exec(struct rt_svc *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fl_log(FL_LOG_ERROR, s->o.service, "sql failed: %s: %s", msg ? msg : "?", sql);
		sqlite3_free(msg);
		return FL_EDB;
	}
	return 0;
}

sqlite3_stmt *rt_stmt(struct rt_svc *s, const char *sql)
{
	struct rt_internal *in = s->in;
	for (int i = 0; i < in->nstmts; i++)
		if (in->stmt_sql[i] == sql || strcmp(in->stmt_sql[i], sql) == 0) {
			sqlite3_reset(in->stmts[i]);
			sqlite3_clear_bindings(in->stmts[i]);
			return in->stmts[i];
		}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fl_log(FL_LOG_ERROR, s->o.service, "sql prepare failed: %s: %s",
		       sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	if (in->nstmts < (int)(sizeof(in->stmts) / sizeof(in->stmts[0]))) {
		in->stmts[in->nstmts] = st;
		in->stmt_sql[in->nstmts] = sql;
		in->nstmts++;
	} else {
		fl_log(FL_LOG_ERROR, s->o.service, "statement cache full");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int rt_begin(struct rt_svc *s)
{
	if (s->in->tx_depth++ > 0)
		return 0;
	return rt_exec(s, "BEGIN IMMEDIATE");
}

static void write_pending(struct rt_svc *s);

int rt_commit(struct rt_svc *s)
{
	if (s->in->tx_depth <= 0)
		return FL_ESTATE;
	if (--s->in->tx_depth > 0)
		return 0;
	/* breaker events waiting for their batch ride along: no durable
	 * write of their own */
	write_pending(s);
	int rc = rt_exec(s, "COMMIT");
	if (rc)
		rt_exec(s, "ROLLBACK");
	else
		s->in->commits_total++;
	rt_events_notify(s);
	return rc;
}

void rt_rollback(struct rt_svc *s)
{
	if (s->in->tx_depth <= 0)
		return;
	s->in->tx_depth = 0;
	rt_exec(s, "ROLLBACK");
}

static int event_insert(struct rt_svc *s, const char *type, const char *body)
{
	sqlite3_stmt *st = rt_stmt(s, "INSERT INTO rt_outbox(type, body) VALUES (?1, ?2)");
	if (!st)
		return FL_EDB;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fl_log(FL_LOG_ERROR, s->o.service, "outbox insert: %s", sqlite3_errmsg(s->db));
		return FL_EDB;
	}
	s->in->last_seq = sqlite3_last_insert_rowid(s->db);
	s->in->events_total++;
	return 0;
}

static json_t *event_body(struct rt_svc *s, const char *type, json_t *fields)
{
	char ts[40];
	int64_t wall = fl_wall_ns();
	json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "type", type, "service", s->o.service, "t",
			      (json_int_t)fl_mono_ns(), "ts", fl_wall_iso(wall, ts, sizeof(ts)));
	if (o && fields)
		json_object_update_missing(o, fields);
	return o;
}

int rt_event(struct rt_svc *s, const char *type, json_t *fields)
{
	json_t *o = event_body(s, type, fields);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return FL_ENOMEM;
	int rc = event_insert(s, type, body);
	free(body);
	if (s->in->tx_depth == 0)
		rt_events_notify(s);
	return rc;
}

/* Breaker events are many and not money: they are stamped now and written
 * in batches on the next loop turn. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rt_flush_pending(arg);
}

/* Insert the pending breaker events (inside the caller's transaction). */
static void write_pending(struct rt_svc *s)
{
	struct rt_internal *in = s->in;
	size_t i;
	json_t *ev;
	if (!in->pending_events || !json_array_size(in->pending_events))
		return;
	json_array_foreach(in->pending_events, i, ev) {
		char *body = json_dumps(ev, JSON_COMPACT);
		if (body)
			event_insert(s, fl_json_str(ev, "type", "event"), body);
		free(body);
	}
	json_array_clear(in->pending_events);
}

void rt_flush_pending(struct rt_svc *s)
{
	struct rt_internal *in = s->in;
	size_t n = json_array_size(in->pending_events);
	if (!n || !s->db)
		return;
	if (in->tx_depth == 0) {
		rt_begin(s);
		rt_commit(s); /* writes them */
	} else {
		write_pending(s);
	}
}

void rt_breaker_event(void *arg, const char *type, json_t *fields)
{
	struct rt_svc *s = arg;
	json_t *o = event_body(s, type, fields);
	if (!o)
		return;
	json_array_append_new(s->in->pending_events, o);
	if (!s->in->flush_ev)
		s->in->flush_ev = event_new(s->base, -1, 0, flush_cb, s);
	if (s->in->flush_ev && !event_pending(s->in->flush_ev, EV_TIMEOUT, NULL)) {
		struct timeval tv = { 0, 20000 };
		event_add(s->in->flush_ev, &tv);
	}
	const char *st = fl_json_str(fields, "to", NULL);
	if (strcmp(type, "breaker_transition") == 0)
		fl_logj(FL_LOG_WARN, s->o.service, fields, "breaker %s -> %s",
			fl_json_str(fields, "breaker", "?"), st ? st : "?");
}

/* --- /events --- */

static json_t *events_after(struct rt_svc *s, int64_t after, int limit, int64_t *last)
{
	json_t *a = json_array();
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT seq, body FROM rt_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2");
	*last = after;
	if (!st || !a)
		return a;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *body = (const char *)sqlite3_column_text(st, 1);
		json_t *ev = body ? json_loads(body, 0, NULL) : NULL;
		if (ev) {
			json_object_set_new(ev, "seq", json_integer(seq));
			json_array_append_new(a, ev);
		}
		*last = seq;
	}
	sqlite3_reset(st);
	return a;
}

static void events_reply(struct rt_svc *s, struct fl_http_req *r, int64_t after, int limit)
{
	int64_t last;
	json_t *a = events_after(s, after, limit, &last);
	rt_reply_json(r, 200,
		      json_pack("{s:s, s:o, s:I, s:I}", "service", s->o.service, "events", a,
				"last", (json_int_t)last, "head", (json_int_t)s->in->last_seq));
}

static void waiter_unlink(struct rt_svc *s, struct rt_waiter *w)
{
	for (struct rt_waiter **p = &s->in->waiters; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	event_free(w->timer);
	free(w);
}

static void waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rt_waiter *w = arg;
	struct rt_svc *s = w->s;
	struct fl_http_req *r = w->req;
	int64_t after = w->after;
	int limit = w->limit;
	waiter_unlink(s, w);
	events_reply(s, r, after, limit);
}

static void waiter_closed(struct fl_http_req *r, void *arg)
{
	struct rt_waiter *w = arg;
	struct rt_svc *s = w->s;
	waiter_unlink(s, w);
	struct rt_reqctx *c = fl_http_req_data(r);
	(void)c;
	rt_reply_error(r, 499, "client went away");
}

static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rt_svc *s = arg;
	struct rt_waiter *w = s->in->waiters;
	while (w) {
		struct rt_waiter *next = w->next;
		if (s->in->last_seq > w->after) {
			struct fl_http_req *r = w->req;
			int64_t after = w->after;
			int limit = w->limit;
			waiter_unlink(s, w);
			events_reply(s, r, after, limit);
		}
		w = next;
	}
}

void rt_events_notify(struct rt_svc *s)
{
	if (!s->in->waiters)
		return;
	if (!s->in->notify_ev)
		s->in->notify_ev = event_new(s->base, -1, 0, notify_cb, s);
	if (s->in->notify_ev)
		event_active(s->in->notify_ev, 0, 0);
}

void rt_events_release_all(struct rt_svc *s)
{
	while (s->in->waiters) {
		struct rt_waiter *w = s->in->waiters;
		struct fl_http_req *r = w->req;
		int64_t after = w->after;
		int limit = w->limit;
		waiter_unlink(s, w);
		if (s->http)
			events_reply(s, r, after, limit);
	}
}

static void h_events(struct rt_svc *s, struct fl_http_req *r)
{
	const char *qa = fl_http_req_query(r, "after"), *qw = fl_http_req_query(r, "wait"),
		   *ql = fl_http_req_query(r, "limit");
	char *end;
	long long after = qa ? strtoll(qa, &end, 10) : 0;
	if (qa && (*end || after < 0)) {
		rt_reply_error(r, 400, "after: expected a sequence number, got '%s'", qa);
		return;
	}
	long wait = qw ? strtol(qw, &end, 10) : 0;
	if (qw && (*end || wait < 0 || wait > 60000)) {
		rt_reply_error(r, 400, "wait: expected milliseconds 0..60000, got '%s'", qw);
		return;
	}
	long limit = ql ? strtol(ql, &end, 10) : 1000;
	if (ql && (*end || limit < 1 || limit > 10000)) {
		rt_reply_error(r, 400, "limit: expected 1..10000, got '%s'", ql);
		return;
	}
	/* a snapshot read sees the pending breaker events; a long poll gets
	 * them with the next commit (theirs within 20 ms, or a saga's) rather
	 * than forcing a durable write of their own while calls are in flight */
	if (wait == 0)
		rt_flush_pending(s);
	if (s->in->last_seq > after || wait == 0 || s->accepting_stopped) {
		events_reply(s, r, after, (int)limit);
		return;
	}
	struct rt_waiter *w = calloc(1, sizeof(*w));
	if (!w || !(w->timer = evtimer_new(s->base, waiter_timeout, w))) {
		free(w);
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	w->s = s;
	w->req = r;
	w->after = after;
	w->limit = (int)limit;
	w->next = s->in->waiters;
	s->in->waiters = w;
	struct timeval tv = { wait / 1000, (wait % 1000) * 1000 };
	evtimer_add(w->timer, &tv);
	fl_http_req_on_close(r, waiter_closed, w);
}

void rt_events_route(struct rt_svc *s)
{
	rt_route(s, "GET", "/events", h_events, 0);
}
