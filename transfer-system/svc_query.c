/* query: CQRS read models built from the outbox feeds of membership, money
 * and remittance (long polls on /events): money by address, failed
 * transfers by reason, CTR reports (top-ups and withdrawals of 10,000,000
 * KRW or more per member per day). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "transfer-system/rt.h"

#define CTR_THRESHOLD 10000000LL

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS q_feeds(name TEXT PRIMARY KEY, last INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS q_members(id TEXT PRIMARY KEY, address TEXT NOT NULL, status TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS q_members_address ON q_members(address);"
	"CREATE TABLE IF NOT EXISTS q_wallets(id TEXT PRIMARY KEY, balance INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS q_failures(reason TEXT NOT NULL, state TEXT NOT NULL,"
	" count INTEGER NOT NULL, PRIMARY KEY(reason, state));"
	"CREATE TABLE IF NOT EXISTS q_ctr(member TEXT NOT NULL, date TEXT NOT NULL, kind TEXT NOT NULL,"
	" total INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(member, date, kind));";

static const char *const feed_names[] = { "membership", "money", "remittance" };
#define NFEEDS 3

struct feed {
	struct rt_svc *s;
	const char *name;
	long long last;
	uint64_t applied;
	bool up;
};

struct query {
	struct feed feeds[NFEEDS];
};

static void apply(struct rt_svc *s, const char *feed, json_t *ev)
{
	const char *type = fl_json_str(ev, "type", "");
	if (strcmp(feed, "membership") == 0 &&
	    (strcmp(type, "member_registered") == 0 || strcmp(type, "member_modified") == 0)) {
		sqlite3_stmt *st = rt_stmt(
			s,
			"INSERT OR REPLACE INTO q_members(id, address, status) VALUES (?1, ?2, ?3)");
		sqlite3_bind_text(st, 1, fl_json_str(ev, "membershipId", ""), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, fl_json_str(ev, "address", ""), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, fl_json_str(ev, "status", ""), -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_reset(st);
	} else if (strcmp(feed, "money") == 0 && strcmp(type, "money_changed") == 0) {
		long long delta = fl_json_int(ev, "delta", 0);
		sqlite3_stmt *st;
		if (rt_bug(s, BUG_QUERY_INCREASES_ONLY)) {
			/* the course's drift: only top-ups and credits are added */
			if (delta <= 0)
				delta = 0;
			st = rt_stmt(s, "INSERT INTO q_wallets(id, balance) VALUES (?1, ?2)"
					" ON CONFLICT(id) DO UPDATE SET balance = balance + ?2");
			sqlite3_bind_int64(st, 2, delta);
		} else {
			st = rt_stmt(
				s, "INSERT OR REPLACE INTO q_wallets(id, balance) VALUES (?1, ?2)");
			sqlite3_bind_int64(st, 2, fl_json_int(ev, "balance", 0));
		}
		sqlite3_bind_text(st, 1, fl_json_str(ev, "membershipId", ""), -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_reset(st);
	} else if (strcmp(feed, "remittance") == 0 && strcmp(type, "saga_ended") == 0) {
		const char *state = fl_json_str(ev, "state", "");
		const char *stype = fl_json_str(ev, "saga_type", "");
		if (strcmp(state, "FAILED") == 0 || strcmp(state, "COMPENSATED") == 0) {
			sqlite3_stmt *st = rt_stmt(
				s, "INSERT INTO q_failures(reason, state, count) VALUES (?1, ?2, 1)"
				   " ON CONFLICT(reason, state) DO UPDATE SET count = count + 1");
			sqlite3_bind_text(st, 1, fl_json_str(ev, "reason", ""), -1,
					  SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
			sqlite3_step(st);
			sqlite3_reset(st);
		} else if (strcmp(state, "COMPLETED") == 0 &&
			   (strcmp(stype, "topup") == 0 || strcmp(stype, "external") == 0)) {
			char date[11] = "";
			snprintf(date, sizeof(date), "%s", fl_json_str(ev, "ts", ""));
			sqlite3_stmt *st = rt_stmt(
				s,
				"INSERT INTO q_ctr(member, date, kind, total, count) VALUES (?1, ?2, ?3, ?4, 1)"
				" ON CONFLICT(member, date, kind) DO UPDATE SET total = total + ?4, count = count + 1");
			sqlite3_bind_text(st, 1, fl_json_str(ev, "fromMembershipId", ""), -1,
					  SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3,
					  strcmp(stype, "topup") == 0 ? "topup" : "withdrawal", -1,
					  SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, fl_json_int(ev, "amount", 0));
			sqlite3_step(st);
			sqlite3_reset(st);
		}
	}
}

static void poll_feed(struct rt_svc *s, void *arg);

static void feed_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	struct feed *f = arg;
	if (s->stopping)
		return;
	json_t *evs = res->kind == RT_CALL_REPLY && res->status == 200 && res->json
			      ? json_object_get(res->json, "events")
			      : NULL;
	if (!json_is_array(evs)) {
		f->up = false;
		rt_after(s, 200, poll_feed, f);
		return;
	}
	f->up = true;
	if (json_array_size(evs)) {
		rt_begin(s);
		size_t i;
		json_t *ev;
		long long last = f->last;
		json_array_foreach(evs, i, ev) {
			long long seq = fl_json_int(ev, "seq", 0);
			if (seq <= last)
				continue;
			apply(s, f->name, ev);
			last = seq;
			f->applied++;
		}
		f->last = last;
		sqlite3_stmt *st =
			rt_stmt(s, "INSERT OR REPLACE INTO q_feeds(name, last) VALUES (?1, ?2)");
		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, f->last);
		sqlite3_step(st);
		sqlite3_reset(st);
		rt_commit(s);
	}
	poll_feed(s, f);
}

static void poll_feed(struct rt_svc *s, void *arg)
{
	struct feed *f = arg;
	if (s->stopping || s->accepting_stopped)
		return;
	char path[128];
	snprintf(path, sizeof(path), "/events?after=%lld&wait=%ld&limit=2000", f->last,
		 s->o.poll_wait_ms);
	struct rt_call c = { .peer = f->name,
			     .method = "GET",
			     .path = path,
			     .timeout_ms = s->o.poll_wait_ms + 5000 };
	if (rt_call(s, &c, feed_done, f) != 0)
		rt_after(s, 500, poll_feed, f);
}

static json_t *lag_json(struct rt_svc *s)
{
	struct query *q = s->impl;
	json_t *o = json_object();
	for (int i = 0; i < NFEEDS; i++)
		json_object_set_new(o, q->feeds[i].name,
				    json_pack("{s:I, s:b}", "last", (json_int_t)q->feeds[i].last,
					      "up", q->feeds[i].up));
	return o;
}

static void h_sum(struct rt_svc *s, struct fl_http_req *r)
{
	const char *addr = fl_http_req_param(r, "addr");
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT COALESCE(SUM(w.balance), 0), COUNT(m.id) FROM q_members m"
			   " LEFT JOIN q_wallets w ON w.id = m.id WHERE m.address = ?1");
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_TRANSIENT);
	long long sum = 0, n = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		sum = sqlite3_column_int64(st, 0);
		n = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	rt_reply_json(r, 200,
		      json_pack("{s:s, s:I, s:I, s:o}", "address", addr, "sum", (json_int_t)sum,
				"members", (json_int_t)n, "feeds", lag_json(s)));
}

static void h_failed(struct rt_svc *s, struct fl_http_req *r)
{
	const char *reason = fl_http_req_query(r, "reason");
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT reason, state, count FROM q_failures ORDER BY reason, state");
	json_t *by = json_object();
	long long failed = 0, comp = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rs = (const char *)sqlite3_column_text(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 1);
		long long n = sqlite3_column_int64(st, 2);
		if (reason && strcmp(rs, reason) != 0)
			continue;
		json_t *e = json_object_get(by, rs);
		if (!e) {
			e = json_pack("{s:I, s:I}", "failed", (json_int_t)0, "compensated",
				      (json_int_t)0);
			json_object_set_new(by, rs, e);
		}
		bool f = strcmp(state, "FAILED") == 0;
		json_object_set_new(e, f ? "failed" : "compensated", json_integer(n));
		if (f)
			failed += n;
		else
			comp += n;
	}
	sqlite3_reset(st);
	json_t *o = json_pack("{s:I, s:I, s:I, s:o}", "count", (json_int_t)failed, "failed",
			      (json_int_t)failed, "compensated", (json_int_t)comp, "by_reason", by);
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	rt_reply_json(r, 200, o);
}

static void h_ctr(struct rt_svc *s, struct fl_http_req *r)
{
	const char *date = fl_http_req_query(r, "date");
	char today[11];
	if (!date) {
		rt_today(fl_wall_ns(), today);
		date = today;
	}
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT member, kind, total, count FROM q_ctr WHERE date = ?1 AND total >= ?2 ORDER BY member, kind");
	sqlite3_bind_text(st, 1, date, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, CTR_THRESHOLD);
	json_t *a = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "membershipId",
						   sqlite3_column_text(st, 0), "kind",
						   sqlite3_column_text(st, 1), "total",
						   (json_int_t)sqlite3_column_int64(st, 2), "count",
						   (json_int_t)sqlite3_column_int64(st, 3)));
	sqlite3_reset(st);
	rt_reply_json(r, 200,
		      json_pack("{s:s, s:I, s:o}", "date", date, "threshold",
				(json_int_t)CTR_THRESHOLD, "reports", a));
}

static void h_status(struct rt_svc *s, struct fl_http_req *r)
{
	rt_reply_json(r, 200, json_pack("{s:o}", "feeds", lag_json(s)));
}

static void metrics(struct rt_svc *s, struct fl_buf *out)
{
	struct query *q = s->impl;
	fl_buf_puts(out, "# HELP fl_query_feed_position Last event applied from each feed.\n"
			 "# TYPE fl_query_feed_position gauge\n");
	for (int i = 0; i < NFEEDS; i++)
		fl_buf_printf(out, "fl_query_feed_position{feed=\"%s\"} %lld\n", q->feeds[i].name,
			      q->feeds[i].last);
	fl_buf_puts(out, "# HELP fl_query_events_applied_total Events applied to the read models.\n"
			 "# TYPE fl_query_events_applied_total counter\n");
	for (int i = 0; i < NFEEDS; i++)
		fl_buf_printf(out, "fl_query_events_applied_total{feed=\"%s\"} %llu\n",
			      q->feeds[i].name, (unsigned long long)q->feeds[i].applied);
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	if (rt_exec(s, schema))
		return fl_err_set(err, errlen, FL_EDB, "query schema");
	struct query *q = calloc(1, sizeof(*q));
	if (!q)
		return FL_ENOMEM;
	s->impl = q;
	for (int i = 0; i < NFEEDS; i++) {
		struct feed *f = &q->feeds[i];
		f->s = s;
		f->name = feed_names[i];
		if (!rt_peer_url(s, f->name))
			return fl_err_set(err, errlen, FL_EINVAL, "query needs --peer %s=URL",
					  f->name);
		sqlite3_stmt *st = rt_stmt(s, "SELECT last FROM q_feeds WHERE name = ?1");
		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			f->last = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rt_after(s, 0, poll_feed, f);
	}
	rt_route(s, "GET", "/money/query/get-money-sum-by-address/{addr}", h_sum, 0);
	rt_route(s, "GET", "/stats/failed-transfers", h_failed, 0);
	rt_route(s, "GET", "/compliance/ctr", h_ctr, 0);
	rt_route(s, "GET", "/query/status", h_status, 0);
	return 0;
}

static void fini(struct rt_svc *s)
{
	free(s->impl);
	s->impl = NULL;
}

const struct rt_service_def svc_query = {
	.name = "query",
	.init = init,
	.fini = fini,
	.metrics = metrics,
};
