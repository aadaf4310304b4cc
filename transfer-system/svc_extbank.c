/* extbank: the simulated external bank (accounts including CORP, transfers
 * idempotent by key) with chaos hooks: down, latency, errors, rejections,
 * and the two timeouts (answer lost after or before applying). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "transfer-system/rt.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS accounts(bank TEXT NOT NULL, number TEXT NOT NULL,"
	" owner TEXT NOT NULL DEFAULT '', balance INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL DEFAULT 'OPEN', PRIMARY KEY(bank, number));"
	"CREATE TABLE IF NOT EXISTS transfers(key TEXT PRIMARY KEY, from_bank TEXT, from_number TEXT,"
	" to_bank TEXT, to_number TEXT, amount INTEGER, status TEXT NOT NULL, reason TEXT,"
	" ts INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO accounts(bank, number, owner, balance) VALUES ('" REF_CORP_BANK
	"', '" REF_CORP_NUMBER "', 'faultline corp', 0);";

struct chaos {
	bool down;
	long latency_ms;
	double error_rate, reject_rate, timeout_after_apply, timeout_before_apply;
};

struct held { /* a request whose answer is "lost": held until the client leaves */
	struct fl_http_req *req;
	struct held *next;
};

struct bank {
	struct chaos c;
	struct held *held;
	uint64_t transfers_applied, transfers_rejected;
};

static json_t *chaos_json(const struct chaos *c)
{
	return json_pack("{s:b, s:I, s:f, s:f, s:f, s:f}", "down", c->down, "latency_ms",
			 (json_int_t)c->latency_ms, "error_rate", c->error_rate, "reject_rate",
			 c->reject_rate, "timeout_after_apply", c->timeout_after_apply,
			 "timeout_before_apply", c->timeout_before_apply);
}

static int take_rate(json_t *b, const char *k, double *out, char *err, size_t n)
{
	json_t *v = json_object_get(b, k);
	if (!v)
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v) ? 1 : 0;
		return 0;
	}
	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
		return fl_err_set(err, n, FL_EINVAL, "%s: expected a probability 0..1 or a boolean",
				  k);
	*out = json_number_value(v);
	return 0;
}

static void h_chaos(struct rt_svc *s, struct fl_http_req *r)
{
	struct bank *bk = s->impl;
	if (strcmp(fl_http_req_method(r), "GET") == 0) {
		rt_reply_json(r, 200, chaos_json(&bk->c));
		return;
	}
	json_t *b = rt_body(r);
	if (!b)
		return;
	static const char *const keys[] = { "down",
					    "latency_ms",
					    "error_rate",
					    "reject_rate",
					    "timeout_after_apply",
					    "timeout_before_apply",
					    "reset",
					    NULL };
	char err[256];
	struct chaos c = bk->c;
	bool reset = false;
	int64_t lat = c.latency_ms;
	if (fl_json_only_keys(b, keys, err, sizeof(err)) ||
	    fl_json_take_bool(b, "reset", false, &reset, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (reset)
		memset(&c, 0, sizeof(c));
	lat = c.latency_ms;
	if (fl_json_take_bool(b, "down", false, &c.down, err, sizeof(err)) ||
	    fl_json_take_int(b, "latency_ms", false, &lat, err, sizeof(err)) ||
	    take_rate(b, "error_rate", &c.error_rate, err, sizeof(err)) ||
	    take_rate(b, "reject_rate", &c.reject_rate, err, sizeof(err)) ||
	    take_rate(b, "timeout_after_apply", &c.timeout_after_apply, err, sizeof(err)) ||
	    take_rate(b, "timeout_before_apply", &c.timeout_before_apply, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (lat < 0 || lat > 600000) {
		rt_reply_error(r, 400, "latency_ms: expected 0..600000");
		return;
	}
	c.latency_ms = (long)lat;
	bk->c = c;
	json_t *f = chaos_json(&c);
	fl_logj(FL_LOG_INFO, "extbank", f, "chaos changed");
	rt_event(s, "chaos_changed", f);
	rt_reply_json(r, 200, f);
}

static void hold(struct rt_svc *s, struct fl_http_req *r);

/* Delay a reply by the chaos latency without blocking the loop. */
struct delayed {
	struct fl_http_req *req;
	int status;
	json_t *body;
};

static void delayed_cb(struct rt_svc *s, void *arg)
{
	(void)s;
	struct delayed *d = arg;
	rt_reply_json(d->req, d->status, d->body);
	free(d);
}

static void delayed_cancel(void *arg)
{
	struct delayed *d = arg;
	json_decref(d->body);
	free(d);
}

static void reply(struct rt_svc *s, struct fl_http_req *r, int status, json_t *body)
{
	struct bank *bk = s->impl;
	if (bk->c.latency_ms > 0) {
		struct delayed *d = malloc(sizeof(*d));
		if (d) {
			d->req = r;
			d->status = status;
			d->body = body;
			if (rt_after_owned(s, bk->c.latency_ms, delayed_cb, d, delayed_cancel) == 0)
				return;
			free(d);
		}
	}
	rt_reply_json(r, status, body);
}

/* Common chaos gate for the bank API: true when it answered already. */
static bool chaos_gate(struct rt_svc *s, struct fl_http_req *r)
{
	struct bank *bk = s->impl;
	if (bk->c.down) {
		reply(s, r, 503, json_pack("{s:s, s:i}", "error", "bank is down", "status", 503));
		return true;
	}
	if (fl_prng_chance(&s->rng, bk->c.error_rate)) {
		reply(s, r, 500,
		      json_pack("{s:s, s:i}", "error", "bank internal error", "status", 500));
		return true;
	}
	return false;
}

static bool account_get(struct rt_svc *s, const char *bank, const char *num, long long *bal,
			char *owner, size_t ownlen, char *status, size_t stlen)
{
	sqlite3_stmt *st = rt_stmt(
		s, "SELECT balance, owner, status FROM accounts WHERE bank = ?1 AND number = ?2");
	sqlite3_bind_text(st, 1, bank, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, num, -1, SQLITE_TRANSIENT);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		if (bal)
			*bal = sqlite3_column_int64(st, 0);
		if (owner)
			snprintf(owner, ownlen, "%s", sqlite3_column_text(st, 1));
		if (status)
			snprintf(status, stlen, "%s", sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	return found;
}

static void h_open(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	const char *bank = NULL, *num = NULL, *owner = "", *status = "OPEN";
	int64_t bal = 0;
	char err[256];
	if (fl_json_take_str(b, "bankName", true, &bank, err, sizeof(err)) ||
	    fl_json_take_str(b, "bankAccountNumber", true, &num, err, sizeof(err)) ||
	    fl_json_take_str(b, "owner", false, &owner, err, sizeof(err)) ||
	    fl_json_take_str(b, "status", false, &status, err, sizeof(err)) ||
	    fl_json_take_int(b, "balance", false, &bal, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (bal < 0 || bal > 1000000000000000LL || !*bank || !*num) {
		rt_reply_error(r, 400,
			       "bankName and bankAccountNumber must be non-empty, balance >= 0");
		return;
	}
	if (strcmp(status, "OPEN") != 0 && strcmp(status, "CLOSED") != 0) {
		rt_reply_error(r, 400, "status: expected OPEN or CLOSED");
		return;
	}
	rt_begin(s);
	if (account_get(s, bank, num, NULL, NULL, 0, NULL, 0)) {
		rt_rollback(s);
		rt_reply_error(r, 409, "account %s/%s exists", bank, num);
		return;
	}
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT INTO accounts(bank, number, owner, balance, status) VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_bind_text(st, 1, bank, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, num, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, bal);
	sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_reset(st);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "bankName", bank, "bankAccountNumber",
			      num, "owner", owner, "balance", (json_int_t)bal, "status", status);
	rt_event(s, "account_opened", o);
	rt_commit(s);
	rt_reply_json(r, 201, o);
}

static void h_verify(struct rt_svc *s, struct fl_http_req *r)
{
	if (chaos_gate(s, r))
		return;
	json_t *b = rt_body(r);
	if (!b)
		return;
	const char *bank = NULL, *num = NULL;
	char err[256], owner[128] = "", status[16] = "";
	if (fl_json_take_str(b, "bankName", true, &bank, err, sizeof(err)) ||
	    fl_json_take_str(b, "bankAccountNumber", true, &num, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	bool found = account_get(s, bank, num, NULL, owner, sizeof(owner), status, sizeof(status));
	bool valid = found && strcmp(status, "OPEN") == 0;
	reply(s, r, 200,
	      json_pack("{s:s, s:s, s:b, s:s}", "bankName", bank, "bankAccountNumber", num, "valid",
			valid, "owner", owner));
}

static json_t *transfer_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "key",
			 sqlite3_column_text(st, 0), "fromBankName", sqlite3_column_text(st, 1),
			 "fromBankAccountNumber", sqlite3_column_text(st, 2), "toBankName",
			 sqlite3_column_text(st, 3), "toBankAccountNumber",
			 sqlite3_column_text(st, 4), "amount",
			 (json_int_t)sqlite3_column_int64(st, 5), "status",
			 sqlite3_column_text(st, 6), "reason",
			 sqlite3_column_text(st, 7) ? (const char *)sqlite3_column_text(st, 7)
						    : "");
}

static json_t *transfer_load(struct rt_svc *s, const char *key)
{
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT key, from_bank, from_number, to_bank, to_number, amount, status, reason FROM transfers WHERE key = ?1");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	json_t *t = sqlite3_step(st) == SQLITE_ROW ? transfer_json(st) : NULL;
	sqlite3_reset(st);
	return t;
}

static int add_balance(struct rt_svc *s, const char *bank, const char *num, long long d)
{
	sqlite3_stmt *st = rt_stmt(
		s, "UPDATE accounts SET balance = balance + ?3 WHERE bank = ?1 AND number = ?2");
	sqlite3_bind_text(st, 1, bank, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, num, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, d);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE && sqlite3_changes(s->db) == 1 ? 0 : FL_EDB;
}

static void h_transfer(struct rt_svc *s, struct fl_http_req *r)
{
	struct bank *bk = s->impl;
	if (chaos_gate(s, r))
		return;
	json_t *b = rt_body(r);
	if (!b)
		return;
	const char *key = NULL, *fb = NULL, *fn = NULL, *tb = NULL, *tn = NULL;
	int64_t amount = 0;
	char err[256];
	if (fl_json_take_str(b, "key", false, &key, err, sizeof(err)) ||
	    fl_json_take_str(b, "fromBankName", true, &fb, err, sizeof(err)) ||
	    fl_json_take_str(b, "fromBankAccountNumber", true, &fn, err, sizeof(err)) ||
	    fl_json_take_str(b, "toBankName", true, &tb, err, sizeof(err)) ||
	    fl_json_take_str(b, "toBankAccountNumber", true, &tn, err, sizeof(err)) ||
	    fl_json_take_int(b, "amount", true, &amount, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (!key)
		key = fl_http_req_header(r, "Idempotency-Key");
	if (!key || !*key || amount <= 0) {
		rt_reply_error(
			r, 400,
			"a transfer needs a key (body or Idempotency-Key) and a positive amount");
		return;
	}
	json_t *t = transfer_load(s, key);
	if (t) {
		reply(s, r, 200, t);
		return;
	}
	if (fl_prng_chance(&s->rng, bk->c.timeout_before_apply)) {
		hold(s, r);
		return;
	}
	const char *status = "APPLIED", *reason = "";
	long long fbal = 0;
	char fst[16] = "", tst[16] = "";
	bool corp_from = strcmp(fb, REF_CORP_BANK) == 0 && strcmp(fn, REF_CORP_NUMBER) == 0;
	rt_begin(s);
	if (!account_get(s, fb, fn, &fbal, NULL, 0, fst, sizeof(fst)) ||
	    !account_get(s, tb, tn, NULL, NULL, 0, tst, sizeof(tst)))
		status = "REJECTED", reason = "NO_SUCH_ACCOUNT";
	else if (strcmp(fst, "OPEN") != 0 || strcmp(tst, "OPEN") != 0)
		status = "REJECTED", reason = "ACCOUNT_CLOSED";
	else if (!corp_from && fbal < amount)
		status = "REJECTED", reason = "INSUFFICIENT_FUNDS";
	else if (fl_prng_chance(&s->rng, bk->c.reject_rate))
		status = "REJECTED", reason = "REJECTED_BY_BANK";
	if (strcmp(status, "APPLIED") == 0 &&
	    (add_balance(s, fb, fn, -amount) || add_balance(s, tb, tn, amount))) {
		rt_rollback(s);
		rt_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT INTO transfers(key, from_bank, from_number, to_bank, to_number, amount, status, reason, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fb, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tb, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, tn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, amount);
	sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, fl_wall_ns() / 1000000);
	sqlite3_step(st);
	sqlite3_reset(st);
	t = transfer_load(s, key);
	json_object_set_new(t, "trace_id", json_string(rt_trace_id(r)));
	rt_event(s, "bank_transfer", t);
	if (rt_commit(s)) {
		json_decref(t);
		rt_reply_error(r, 500, "database error");
		return;
	}
	if (strcmp(status, "APPLIED") == 0)
		bk->transfers_applied++;
	else
		bk->transfers_rejected++;
	if (fl_prng_chance(&s->rng, bk->c.timeout_after_apply)) {
		json_decref(t);
		hold(s, r);
		return;
	}
	reply(s, r, 200, t);
}

static void held_closed(struct fl_http_req *r, void *arg)
{
	struct rt_svc *s = arg;
	struct bank *bk = s->impl;
	for (struct held **h = &bk->held; *h; h = &(*h)->next)
		if ((*h)->req == r) {
			struct held *x = *h;
			*h = x->next;
			free(x);
			break;
		}
	rt_reply_error(r, 504, "answer lost");
}

static void hold(struct rt_svc *s, struct fl_http_req *r)
{
	struct bank *bk = s->impl;
	struct held *h = calloc(1, sizeof(*h));
	if (!h) {
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	h->req = r;
	h->next = bk->held;
	bk->held = h;
	fl_http_req_on_close(r, held_closed, s);
}

static void release_held(struct rt_svc *s)
{
	struct bank *bk = s->impl;
	while (bk->held) {
		struct held *h = bk->held;
		bk->held = h->next;
		rt_reply_error(h->req, 504, "answer lost");
		free(h);
	}
}

static void h_transfer_get(struct rt_svc *s, struct fl_http_req *r)
{
	if (chaos_gate(s, r))
		return;
	json_t *t = transfer_load(s, fl_http_req_param(r, "key"));
	if (!t) {
		reply(s, r, 404,
		      json_pack("{s:s, s:i, s:s}", "error", "no such transfer", "status", 404,
				"result", "NOT_FOUND"));
		return;
	}
	reply(s, r, 200, t);
}

static void h_accounts(struct rt_svc *s, struct fl_http_req *r)
{
	char ts[40];
	int64_t t = fl_mono_ns();
	rt_exec(s, "BEGIN");
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT bank, number, owner, balance, status FROM accounts ORDER BY bank, number");
	json_t *a = json_array();
	long long total = 0, corp = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long bal = sqlite3_column_int64(st, 3);
		total += bal;
		if (strcmp((const char *)sqlite3_column_text(st, 0), REF_CORP_BANK) == 0 &&
		    strcmp((const char *)sqlite3_column_text(st, 1), REF_CORP_NUMBER) == 0)
			corp = bal;
		/* "account": a flat name for checkers; the corporate one is "CORP" */
		char acct[300];
		if (strcmp((const char *)sqlite3_column_text(st, 0), REF_CORP_BANK) == 0 &&
		    strcmp((const char *)sqlite3_column_text(st, 1), REF_CORP_NUMBER) == 0)
			snprintf(acct, sizeof(acct), "CORP");
		else
			snprintf(acct, sizeof(acct), "%s/%s", sqlite3_column_text(st, 0),
				 sqlite3_column_text(st, 1));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "account",
						   acct, "bankName", sqlite3_column_text(st, 0),
						   "bankAccountNumber", sqlite3_column_text(st, 1),
						   "owner", sqlite3_column_text(st, 2), "balance",
						   (json_int_t)bal, "status",
						   sqlite3_column_text(st, 4)));
	}
	sqlite3_reset(st);
	long long ntransfers = 0;
	st = rt_stmt(s, "SELECT COUNT(*) FROM transfers");
	if (sqlite3_step(st) == SQLITE_ROW)
		ntransfers = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	rt_exec(s, "COMMIT");
	rt_reply_json(r, 200,
		      json_pack("{s:o, s:I, s:I, s:I, s:I, s:s}", "accounts", a, "total",
				(json_int_t)total, "corp", (json_int_t)corp, "transfers",
				(json_int_t)ntransfers, "t", (json_int_t)t, "ts",
				fl_wall_iso(fl_wall_ns(), ts, sizeof(ts))));
}

static void metrics(struct rt_svc *s, struct fl_buf *out)
{
	struct bank *bk = s->impl;
	fl_buf_printf(out,
		      "# HELP fl_bank_transfers_total Transfers decided by the bank, by status.\n"
		      "# TYPE fl_bank_transfers_total counter\n"
		      "fl_bank_transfers_total{status=\"APPLIED\"} %llu\n"
		      "fl_bank_transfers_total{status=\"REJECTED\"} %llu\n"
		      "# HELP fl_bank_down Whether the chaos switch 'down' is on.\n"
		      "# TYPE fl_bank_down gauge\n"
		      "fl_bank_down %d\n",
		      (unsigned long long)bk->transfers_applied,
		      (unsigned long long)bk->transfers_rejected, bk->c.down ? 1 : 0);
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	if (rt_exec(s, schema))
		return fl_err_set(err, errlen, FL_EDB, "extbank schema");
	s->impl = calloc(1, sizeof(struct bank));
	if (!s->impl)
		return FL_ENOMEM;
	rt_route(s, "POST", "/bank/accounts", h_open, 0);
	rt_route(s, "GET", "/bank/accounts", h_accounts, 0);
	rt_route(s, "POST", "/bank/verify", h_verify, 0);
	rt_route(s, "POST", "/bank/transfer", h_transfer, 0);
	rt_route(s, "GET", "/bank/transfer/{key}", h_transfer_get, 0);
	rt_route(s, "*", "/bank/chaos", h_chaos, 0);
	return 0;
}

static void fini(struct rt_svc *s)
{
	struct bank *bk = s->impl;
	while (bk->held) {
		struct held *h = bk->held;
		bk->held = h->next;
		free(h);
	}
	free(bk);
	s->impl = NULL;
}

const struct rt_service_def svc_extbank = {
	.name = "extbank",
	.sync_full = true,
	.init = init,
	.fini = fini,
	.metrics = metrics,
	.on_stop_accepting = release_held,
};
