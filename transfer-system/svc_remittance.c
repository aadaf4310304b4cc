/* remittance: the saga coordinator's HTTP side, saga log, crash recovery
 * (before /startupz turns OK) and DEFERRED sagas waiting for the breaker
 * toward banking. The state machine itself is in saga.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "transfer-system/remit.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS sagas(n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,"
	" type INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" from_m TEXT NOT NULL, to_m TEXT NOT NULL DEFAULT '', bank TEXT NOT NULL DEFAULT '',"
	" account TEXT NOT NULL DEFAULT '', amount INTEGER NOT NULL, trace TEXT NOT NULL,"
	" idem TEXT UNIQUE, cur INTEGER NOT NULL DEFAULT 0, deadline_ms INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, deadline_len INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS sagas_state ON sagas(state);"
	"CREATE INDEX IF NOT EXISTS sagas_from ON sagas(from_m);"
	"CREATE INDEX IF NOT EXISTS sagas_to ON sagas(to_m);"
	"CREATE TABLE IF NOT EXISTS steps(saga_id TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL,"
	" fwd TEXT NOT NULL, comp TEXT NOT NULL, maybe_sent INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" comp_attempts INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY(saga_id, idx));";

#define MAX_AMOUNT 1000000000000000LL /* 10^15 KRW: sums stay far from int64 limits */
#define MIN_DEADLINE_MS 100	      /* bounds of a request's deadlineMs */
#define MAX_DEADLINE_MS 600000

static const char saga_cols[] =
	"SELECT id, type, state, reason, from_m, to_m, bank, account, amount, trace, COALESCE(idem, ''),"
	" cur, deadline_ms, created_ms, deadline_len FROM sagas";

struct waiter {
	struct fl_http_req *req;
	struct saga *g;
	struct event *timer;
	struct waiter *next;
};

static struct remit *RM(struct rt_svc *s)
{
	return s->impl;
}

static struct saga *saga_from_row(struct rt_svc *s, sqlite3_stmt *st)
{
	struct saga *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->s = s;
	snprintf(g->id, sizeof(g->id), "%s", sqlite3_column_text(st, 0));
	g->type = sqlite3_column_int(st, 1);
	snprintf(g->state, sizeof(g->state), "%s", sqlite3_column_text(st, 2));
	snprintf(g->reason, sizeof(g->reason), "%s", sqlite3_column_text(st, 3));
	snprintf(g->from, sizeof(g->from), "%s", sqlite3_column_text(st, 4));
	snprintf(g->to, sizeof(g->to), "%s", sqlite3_column_text(st, 5));
	snprintf(g->bank, sizeof(g->bank), "%s", sqlite3_column_text(st, 6));
	snprintf(g->account, sizeof(g->account), "%s", sqlite3_column_text(st, 7));
	g->amount = sqlite3_column_int64(st, 8);
	snprintf(g->trace, sizeof(g->trace), "%s", sqlite3_column_text(st, 9));
	snprintf(g->idem, sizeof(g->idem), "%s", sqlite3_column_text(st, 10));
	g->cur = sqlite3_column_int(st, 11);
	g->deadline_ms = sqlite3_column_int64(st, 12);
	g->created_ms = sqlite3_column_int64(st, 13);
	g->deadline_len_ms = sqlite3_column_int64(st, 14);
	g->defs = saga_defs(g->type, &g->nsteps);
	return g;
}

static void load_steps(struct rt_svc *s, struct saga *g)
{
	for (int i = 0; i < g->nsteps; i++) {
		snprintf(g->st[i].fwd, sizeof(g->st[i].fwd), "PENDING");
		snprintf(g->st[i].comp, sizeof(g->st[i].comp), "NONE");
	}
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT idx, fwd, comp, maybe_sent, attempts, comp_attempts, result FROM steps WHERE saga_id = ?1");
	sqlite3_bind_text(st, 1, g->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int i = sqlite3_column_int(st, 0);
		if (i < 0 || i >= g->nsteps)
			continue;
		struct saga_step *x = &g->st[i];
		snprintf(x->fwd, sizeof(x->fwd), "%s", sqlite3_column_text(st, 1));
		snprintf(x->comp, sizeof(x->comp), "%s", sqlite3_column_text(st, 2));
		x->maybe_sent = sqlite3_column_int(st, 3);
		x->attempts = sqlite3_column_int(st, 4);
		x->comp_attempts = sqlite3_column_int(st, 5);
		snprintf(x->result, sizeof(x->result), "%s", sqlite3_column_text(st, 6));
		g->saved[i] = *x;
	}
	sqlite3_reset(st);
}

/* A saga from the log (active one if in memory). Caller frees non-active
 * ones with remit_saga_free; *active tells which. */
static struct saga *find_saga(struct rt_svc *s, const char *id, const char *idem, bool *active)
{
	for (struct saga *g = RM(s)->active; g; g = g->next)
		if ((id && strcmp(g->id, id) == 0) ||
		    (idem && g->idem[0] && strcmp(g->idem, idem) == 0)) {
			*active = true;
			return g;
		}
	*active = false;
	char sql[512];
	snprintf(sql, sizeof(sql), "%s WHERE %s = ?1", saga_cols, id ? "id" : "idem");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, id ? id : idem, -1, SQLITE_TRANSIENT);
	struct saga *g = sqlite3_step(st) == SQLITE_ROW ? saga_from_row(s, st) : NULL;
	sqlite3_finalize(st);
	if (g)
		load_steps(s, g);
	return g;
}

void remit_saga_free(struct saga *g)
{
	while (g->waiters) {
		struct saga_waiter *w = g->waiters;
		g->waiters = w->next;
		struct waiter *ww = w->w;
		if (ww) {
			event_free(ww->timer);
			free(ww);
		}
		free(w);
	}
	free(g);
}

static void waiter_reply(struct waiter *w, int status)
{
	rt_reply_json(w->req, status, saga_json(w->g));
	event_free(w->timer);
	free(w);
}

static void waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct waiter *w = arg;
	struct saga *g = w->g;
	for (struct saga_waiter **p = &g->waiters; *p; p = &(*p)->next)
		if ((*p)->w == w) {
			struct saga_waiter *x = *p;
			*p = x->next;
			free(x);
			break;
		}
	waiter_reply(w, 202);
}

static void add_waiter(struct rt_svc *s, struct saga *g, struct fl_http_req *r)
{
	struct waiter *w = calloc(1, sizeof(*w));
	struct saga_waiter *sw = calloc(1, sizeof(*sw));
	if (!w || !sw || !(w->timer = evtimer_new(s->base, waiter_timeout, w))) {
		free(w);
		free(sw);
		rt_reply_json(r, 202, saga_json(g));
		return;
	}
	w->req = r;
	w->g = g;
	sw->w = w;
	sw->next = g->waiters;
	g->waiters = sw;
	long ms = s->o.reply_timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(w->timer, &tv);
}

void remit_saga_settled(struct saga *g)
{
	struct rt_svc *s = g->s;
	struct remit *rm = RM(s);
	while (g->waiters) {
		struct saga_waiter *sw = g->waiters;
		g->waiters = sw->next;
		waiter_reply(sw->w, 200);
		free(sw);
	}
	if (g->recovered) {
		g->recovered = false;
		if (rm->recovering)
			rm->recovering--;
	}
	if (strcmp(g->state, "DEFERRED") == 0)
		rm->last_deferral_ns = fl_mono_ns();
	if (!saga_terminal(g->state))
		return;
	rm->ended_total++;
	for (struct saga **p = &rm->active; *p; p = &(*p)->next)
		if (*p == g) {
			*p = g->next;
			rm->nactive--;
			break;
		}
	remit_saga_free(g);
}

static const char *field_str(json_t *b, const char *a, const char *alt, char *buf, size_t n)
{
	json_t *v = json_object_get(b, a);
	if (!v && alt)
		v = json_object_get(b, alt);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

static bool valid_id(const char *v)
{
	if (!v || !*v || strlen(v) > 20)
		return false;
	for (const char *p = v; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static void start_saga(struct rt_svc *s, struct fl_http_req *r, int type, const char *from,
		       const char *to, const char *bank, const char *account, long long amount,
		       int64_t deadline_len, bool wait)
{
	struct remit *rm = RM(s);
	const char *idem = fl_http_req_header(r, "Idempotency-Key");
	if (idem && *idem) {
		bool active;
		struct saga *old = find_saga(s, NULL, idem, &active);
		if (old) {
			if (old->amount != amount || strcmp(old->from, from) != 0 ||
			    old->type != type) {
				if (!active)
					remit_saga_free(old);
				rt_reply_error(r, 422,
					       "Idempotency-Key %s was used for another request",
					       idem);
				return;
			}
			fl_http_reply_header(r, "Idempotent-Replayed", "true");
			if (active && wait && !saga_terminal(old->state) &&
			    strcmp(old->state, "DEFERRED") != 0)
				add_waiter(s, old, r);
			else
				rt_reply_json(r,
					      saga_terminal(old->state) ||
							      strcmp(old->state, "DEFERRED") == 0
						      ? 200
						      : 202,
					      saga_json(old));
			if (!active)
				remit_saga_free(old);
			return;
		}
	}
	struct saga *g = calloc(1, sizeof(*g));
	if (!g) {
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	g->s = s;
	g->type = type;
	g->defs = saga_defs(type, &g->nsteps);
	snprintf(g->state, sizeof(g->state), "RUNNING");
	snprintf(g->from, sizeof(g->from), "%s", from);
	snprintf(g->to, sizeof(g->to), "%s", to ? to : "");
	snprintf(g->bank, sizeof(g->bank), "%s", bank ? bank : "");
	snprintf(g->account, sizeof(g->account), "%s", account ? account : "");
	snprintf(g->trace, sizeof(g->trace), "%s", rt_trace_id(r));
	snprintf(g->idem, sizeof(g->idem), "%s", idem ? idem : "");
	g->amount = amount;
	g->created_ms = fl_wall_ns() / 1000000;
	g->deadline_len_ms = deadline_len;
	g->deadline_ms = g->created_ms + saga_deadline_len(g);
	for (int i = 0; i < g->nsteps; i++) {
		snprintf(g->st[i].fwd, sizeof(g->st[i].fwd), "PENDING");
		snprintf(g->st[i].comp, sizeof(g->st[i].comp), "NONE");
	}
	rt_begin(s);
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT INTO sagas(type, state, from_m, to_m, bank, account, amount, trace, idem,"
		" created_ms, updated_ms, deadline_len)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)");
	sqlite3_bind_int(st, 1, type);
	sqlite3_bind_text(st, 2, g->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, g->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, g->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, g->bank, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, g->account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, amount);
	sqlite3_bind_text(st, 8, g->trace, -1, SQLITE_STATIC);
	if (g->idem[0])
		sqlite3_bind_text(st, 9, g->idem, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, g->created_ms);
	sqlite3_bind_int64(st, 11, g->deadline_len_ms);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rt_rollback(s);
		free(g);
		rt_reply_error(r, 500, "cannot write the saga log");
		return;
	}
	long long n = sqlite3_last_insert_rowid(s->db);
	snprintf(g->id, sizeof(g->id), "S%lld", n);
	st = rt_stmt(s, "UPDATE sagas SET id = ?2 WHERE n = ?1");
	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_text(st, 2, g->id, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_reset(st);
	json_t *x = json_pack("{s:s, s:s, s:s, s:s, s:I}", "fromMembershipId", g->from,
			      "toMembershipId", g->to, "bankName", g->bank, "bankAccountNumber",
			      g->account, "deadline_ms", (json_int_t)saga_deadline_len(g));
	if (g->idem[0])
		json_object_set_new(x, "request_key", json_string(g->idem));
	saga_event(g, "saga_started", -1, NULL, x);
	json_decref(x);
	/* the breaker toward the bank is open: the saga will be deferred */
	struct breaker *b = rt_breaker(s, "banking");
	bool defer = type != SAGA_INTERNAL && b && !breaker_would_permit(b, fl_mono_ns());
	/* else its first step goes into the log with it: one durable write */
	bool logged = !defer && saga_log_next(g);
	saga_save(g);
	if (rt_commit(s)) {
		free(g);
		rt_reply_error(r, 500, "cannot write the saga log");
		return;
	}
	g->next = rm->active;
	rm->active = g;
	rm->nactive++;
	rm->started_total++;
	if (wait)
		add_waiter(s, g, r);
	else
		rt_reply_json(r, 202, saga_json(g));
	if (defer) {
		/* the breaker toward the bank is open: keep the request for later;
		 * the call it would have made is a rejected call (checkers, C6) */
		breaker_reject(b, fl_mono_ns());
		rt_begin(s);
		snprintf(g->state, sizeof(g->state), "DEFERRED");
		snprintf(g->reason, sizeof(g->reason), "circuit_open");
		g->deadline_ms = 0;
		json_t *e = json_pack("{s:s}", "reason", "circuit_open");
		saga_event(g, "saga_deferred", -1, NULL, e);
		json_decref(e);
		saga_save(g);
		rt_commit(s);
		remit_saga_settled(g);
		return;
	}
	if (logged)
		saga_send_logged(g);
	else
		saga_drive(g);
}

/* The request's optional deadlineMs into *len (0 when absent). False after
 * replying 400 to a value that is not an integer within the bounds. */
static bool request_deadline(json_t *b, struct fl_http_req *r, int64_t *len)
{
	json_t *v = json_object_get(b, "deadlineMs");
	*len = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < MIN_DEADLINE_MS ||
	    json_integer_value(v) > MAX_DEADLINE_MS) {
		rt_reply_error(r, 400,
			       "deadlineMs: expected an integer from %d to %d (milliseconds)",
			       MIN_DEADLINE_MS, MAX_DEADLINE_MS);
		return false;
	}
	*len = json_integer_value(v);
	return true;
}

static void h_request(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	char fb[32], tb[32];
	const char *from = field_str(b, "fromMembershipId", "from", fb, sizeof(fb));
	const char *to = field_str(b, "toMembershipId", "to", tb, sizeof(tb));
	const char *bank = fl_json_str(b, "toBankName", fl_json_str(b, "to_bank", NULL));
	const char *account =
		fl_json_str(b, "toBankAccountNumber", fl_json_str(b, "to_account", NULL));
	json_t *tv = json_object_get(b, "remittanceType");
	if (!tv)
		tv = json_object_get(b, "type");
	json_t *av = json_object_get(b, "amount");
	bool wait = fl_json_bool(b, "wait", true);
	if (!json_is_integer(av) || json_integer_value(av) <= 0 ||
	    json_integer_value(av) > MAX_AMOUNT) {
		rt_reply_error(r, 400, "amount: expected a positive integer (KRW) up to %lld",
			       MAX_AMOUNT);
		return;
	}
	int type = tv ? (int)json_integer_value(tv) : 0;
	if (tv && (!json_is_integer(tv) || (type != 0 && type != 1))) {
		rt_reply_error(r, 400, "remittanceType: expected 0 (internal) or 1 (bank)");
		return;
	}
	if (!valid_id(from)) {
		rt_reply_error(r, 400, "fromMembershipId: expected a membership id");
		return;
	}
	if (type == 0 && (!valid_id(to) || strcmp(from, to) == 0)) {
		rt_reply_error(r, 400, "toMembershipId: expected another member's id");
		return;
	}
	if (type == 1 && (!bank || !*bank || !account || !*account)) {
		rt_reply_error(
			r, 400,
			"toBankName and toBankAccountNumber are required for remittanceType 1");
		return;
	}
	int64_t dl;
	if (!request_deadline(b, r, &dl))
		return;
	start_saga(s, r, type == 0 ? SAGA_INTERNAL : SAGA_EXTERNAL, from, type == 0 ? to : NULL,
		   type == 1 ? bank : NULL, type == 1 ? account : NULL, json_integer_value(av), dl,
		   wait);
}

static void h_topup(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	char mb[32];
	const char *m = field_str(b, "membershipId", "member", mb, sizeof(mb));
	json_t *av = json_object_get(b, "amount");
	if (!valid_id(m)) {
		rt_reply_error(r, 400, "membershipId: expected a membership id");
		return;
	}
	if (!json_is_integer(av) || json_integer_value(av) <= 0 ||
	    json_integer_value(av) > MAX_AMOUNT) {
		rt_reply_error(r, 400, "amount: expected a positive integer (KRW) up to %lld",
			       MAX_AMOUNT);
		return;
	}
	int64_t dl;
	if (!request_deadline(b, r, &dl))
		return;
	start_saga(s, r, SAGA_TOPUP, m, NULL, NULL, NULL, json_integer_value(av), dl,
		   fl_json_bool(b, "wait", true));
}

static void h_get(struct rt_svc *s, struct fl_http_req *r)
{
	bool active;
	struct saga *g = find_saga(s, fl_http_req_param(r, "id"), NULL, &active);
	if (!g) {
		rt_reply_error(r, 404, "no saga %s", fl_http_req_param(r, "id"));
		return;
	}
	rt_reply_json(r, 200, saga_json(g));
	if (!active)
		remit_saga_free(g);
}

static void list(struct rt_svc *s, struct fl_http_req *r, const char *where, const char *arg)
{
	const char *ql = fl_http_req_query(r, "limit");
	long limit = ql ? strtol(ql, NULL, 10) : 1000;
	if (limit <= 0 || limit > 100000)
		limit = 1000;
	char sql[700];
	snprintf(sql, sizeof(sql), "%s %s ORDER BY n DESC LIMIT %ld", saga_cols, where, limit);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rt_reply_error(r, 500, "database error");
		return;
	}
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
	json_t *a = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct saga *g = saga_from_row(s, st);
		if (!g)
			break;
		bool active = false;
		for (struct saga *x = RM(s)->active; x; x = x->next)
			if (strcmp(x->id, g->id) == 0) {
				json_array_append_new(a, saga_json(x));
				active = true;
			}
		if (!active) {
			load_steps(s, g);
			json_array_append_new(a, saga_json(g));
		}
		free(g);
	}
	sqlite3_finalize(st);
	rt_reply_json(r, 200,
		      json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(a), "sagas", a));
}

static void h_history(struct rt_svc *s, struct fl_http_req *r)
{
	list(s, r, "WHERE from_m = ?1 OR to_m = ?1", fl_http_req_param(r, "member"));
}

static void h_sagas(struct rt_svc *s, struct fl_http_req *r)
{
	const char *state = fl_http_req_query(r, "state");
	if (!state) {
		list(s, r, "", NULL);
		return;
	}
	if (strcmp(state, "open") == 0)
		list(s, r, "WHERE state NOT IN ('COMPLETED', 'COMPENSATED', 'FAILED', 'STUCK')",
		     NULL);
	else
		list(s, r, "WHERE state = ?1", state);
}

/* Deferred sagas run again once the breaker toward banking lets calls through. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rt_svc *s = arg;
	struct remit *rm = RM(s);
	if (!rm->recovery_done &&
	    (rm->recovering == 0 ||
	     fl_mono_ns() - rm->started_ns > (int64_t)s->o.recovery_timeout_ms * 1000000)) {
		rm->recovery_done = true;
		fl_log(FL_LOG_INFO, "remittance", "recovery finished (%zu sagas still open)",
		       rm->recovering);
	}
	struct breaker *b = rt_breaker(s, "banking");
	int64_t now = fl_mono_ns();
	if (!b || !breaker_would_permit(b, now))
		return;
	/* closed and calm: drain quickly; closed but sagas were deferred again
	 * lately (banking's own breaker toward the bank): a few per tick;
	 * half-open: one trial at a time */
	bool closed = breaker_state(b, now) == BREAKER_CLOSED;
	bool calm = now - rm->last_deferral_ns >= 500000000LL;
	int budget = closed ? (calm ? 16 : 2) : 1;
	if (!closed && now - rm->last_probe_ns < 250000000LL)
		return;
	/* oldest first: the list is newest first */
	struct saga *pick[16];
	int n = 0;
	for (struct saga *g = rm->active; g; g = g->next)
		if (strcmp(g->state, "DEFERRED") == 0) {
			if (n < budget)
				pick[n++] = g;
			else {
				memmove(pick, pick + 1, sizeof(pick[0]) * (size_t)(budget - 1));
				pick[budget - 1] = g;
			}
		}
	for (int i = n - 1; i >= 0; i--) {
		rm->last_probe_ns = now;
		saga_resume(pick[i]);
	}
}

static bool started(struct rt_svc *s)
{
	return RM(s)->recovery_done;
}

static int recover(struct rt_svc *s)
{
	struct remit *rm = RM(s);
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "%s WHERE state NOT IN ('COMPLETED', 'COMPENSATED', 'FAILED', 'STUCK') ORDER BY n",
		 saga_cols);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return FL_EDB;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct saga *g = saga_from_row(s, st);
		if (!g)
			break;
		load_steps(s, g);
		for (int i = 0; i < g->nsteps; i++) {
			struct saga_step *x = &g->st[i];
			if (strcmp(x->fwd, "REQUESTED") == 0) {
				/* the call may or may not have gone out before the crash */
				if (g->defs[i].kind == K_VALIDATE)
					snprintf(x->fwd, sizeof(x->fwd), "PENDING");
				else {
					snprintf(x->fwd, sizeof(x->fwd), "UNKNOWN");
					x->maybe_sent = 1;
				}
			}
			if (strcmp(x->comp, "REQUESTED") == 0)
				snprintf(x->comp, sizeof(x->comp), "NONE");
		}
		g->next = rm->active;
		rm->active = g;
		rm->nactive++;
		if (strcmp(g->state, "DEFERRED") != 0) {
			g->recovered = true;
			rm->recovering++;
		}
	}
	sqlite3_finalize(st);
	if (rm->nactive)
		fl_log(FL_LOG_INFO, "remittance", "recovering %zu open sagas", rm->nactive);
	return 0;
}

static void recover_start(struct rt_svc *s, void *arg)
{
	(void)arg;
	struct remit *rm = RM(s);
	for (struct saga *g = rm->active; g;) {
		struct saga *next = g->next;
		if (g->recovered) {
			rt_begin(s);
			saga_event(g, "saga_recovered", -1, NULL, NULL);
			rt_commit(s);
			saga_drive(g);
		}
		g = next;
	}
}

static void metrics(struct rt_svc *s, struct fl_buf *out)
{
	static const char *const states[] = { "RUNNING",   "DEFERRED",	  "COMPENSATING",
					      "COMPLETED", "COMPENSATED", "FAILED",
					      "STUCK",	   NULL };
	long long n[7] = { 0 };
	sqlite3_stmt *st = rt_stmt(s, "SELECT state, COUNT(*) FROM sagas GROUP BY state");
	while (st && sqlite3_step(st) == SQLITE_ROW)
		for (int i = 0; states[i]; i++)
			if (strcmp(states[i], (const char *)sqlite3_column_text(st, 0)) == 0)
				n[i] = sqlite3_column_int64(st, 1);
	if (st)
		sqlite3_reset(st);
	fl_buf_puts(out, "# HELP fl_sagas Sagas in the log by state.\n# TYPE fl_sagas gauge\n");
	for (int i = 0; states[i]; i++)
		fl_buf_printf(out, "fl_sagas{state=\"%s\"} %lld\n", states[i], n[i]);
	fl_buf_printf(
		out,
		"# HELP fl_sagas_started_total Sagas started by this process.\n"
		"# TYPE fl_sagas_started_total counter\n"
		"fl_sagas_started_total %llu\n"
		"# HELP fl_sagas_ended_total Sagas that reached a terminal state in this process.\n"
		"# TYPE fl_sagas_ended_total counter\n"
		"fl_sagas_ended_total %llu\n"
		"# HELP fl_sagas_active Sagas held in memory (running, compensating, deferred).\n"
		"# TYPE fl_sagas_active gauge\n"
		"fl_sagas_active %zu\n",
		(unsigned long long)RM(s)->started_total, (unsigned long long)RM(s)->ended_total,
		RM(s)->nactive);
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	static const char *const peers[] = { "membership", "money", "banking" };
	for (int i = 0; i < 3; i++)
		if (!rt_peer_url(s, peers[i]))
			return fl_err_set(err, errlen, FL_EINVAL, "remittance needs --peer %s=URL",
					  peers[i]);
	if (rt_exec(s, schema))
		return fl_err_set(err, errlen, FL_EDB, "remittance schema");
	/* a saga log written before per-request deadlines lacks the column */
	sqlite3_stmt *probe = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT deadline_len FROM sagas LIMIT 0", -1, &probe, NULL) !=
		    SQLITE_OK &&
	    rt_exec(s, "ALTER TABLE sagas ADD COLUMN deadline_len INTEGER NOT NULL DEFAULT 0"))
		return fl_err_set(err, errlen, FL_EDB, "remittance schema (deadline_len)");
	sqlite3_finalize(probe);
	struct remit *rm = calloc(1, sizeof(*rm));
	if (!rm)
		return FL_ENOMEM;
	s->impl = rm;
	rm->started_ns = fl_mono_ns();
	rt_breaker(s, "membership");
	rt_breaker(s, "money");
	rt_breaker(s, "banking");
	if (recover(s))
		return fl_err_set(err, errlen, FL_EDB, "cannot read the saga log");
	rt_after(s, 0, recover_start, NULL);
	rm->tick = event_new(s->base, -1, EV_PERSIST, tick_cb, s);
	struct timeval tv = { 0, 50000 };
	if (!rm->tick || event_add(rm->tick, &tv))
		return FL_ENOMEM;
	rt_route(s, "POST", "/remittance/request", h_request, 0);
	rt_route(s, "POST", "/topup/request", h_topup, 0);
	rt_route(s, "GET", "/remittance/request/{id}", h_get, 0);
	rt_route(s, "GET", "/remittance/{member}", h_history, 0);
	rt_route(s, "GET", "/sagas", h_sagas, 0);
	return 0;
}

static void fini(struct rt_svc *s)
{
	struct remit *rm = RM(s);
	while (rm->active) {
		struct saga *g = rm->active;
		rm->active = g->next;
		remit_saga_free(g);
	}
	if (rm->tick)
		event_free(rm->tick);
	free(rm);
	s->impl = NULL;
}

const struct rt_service_def svc_remittance = {
	.name = "remittance",
	.sync_full = true,
	.init = init,
	.fini = fini,
	.metrics = metrics,
	.started = started,
};
