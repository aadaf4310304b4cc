/* banking: registered bank accounts and firm-banking requests; the only
 * service that talks to the external bank (through a circuit breaker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "transfer-system/rt.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS accounts(member TEXT PRIMARY KEY, bank TEXT NOT NULL,"
	" number TEXT NOT NULL, registered_ts INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS firmbanking(key TEXT PRIMARY KEY, from_bank TEXT, from_number TEXT,"
	" to_bank TEXT, to_number TEXT, amount INTEGER, status TEXT NOT NULL, reason TEXT,"
	" updated INTEGER NOT NULL);";

struct op { /* one request waiting on the bank */
	struct fl_http_req *req;
	char key[256];
	char member[64], bank[128], number[128];
	int kind; /* 0 register, 1 verify, 2 firmbanking, 3 status, 4 account check */
};

static struct breaker *bank_breaker(struct rt_svc *s)
{
	return rt_breaker(s, "extbank");
}

static void fb_store(struct rt_svc *s, const char *key, const json_t *body, const char *status,
		     const char *reason)
{
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT INTO firmbanking(key, from_bank, from_number, to_bank, to_number, amount, status, reason, updated)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(key) DO UPDATE SET"
		" status = excluded.status, reason = excluded.reason, updated = excluded.updated");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (body) {
		sqlite3_bind_text(st, 2, fl_json_str(body, "fromBankName", ""), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, fl_json_str(body, "fromBankAccountNumber", ""), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, fl_json_str(body, "toBankName", ""), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, fl_json_str(body, "toBankAccountNumber", ""), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 6, fl_json_int(body, "amount", 0));
	}
	sqlite3_bind_text(st, 7, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, reason ? reason : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, fl_wall_ns() / 1000000);
	sqlite3_step(st);
	sqlite3_reset(st);
}

static json_t *fb_load(struct rt_svc *s, const char *key)
{
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT key, from_bank, from_number, to_bank, to_number, amount, status, reason FROM firmbanking WHERE key = ?1");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	json_t *o = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "key",
			      sqlite3_column_text(st, 0), "fromBankName",
			      sqlite3_column_text(st, 1), "fromBankAccountNumber",
			      sqlite3_column_text(st, 2), "toBankName", sqlite3_column_text(st, 3),
			      "toBankAccountNumber", sqlite3_column_text(st, 4), "amount",
			      (json_int_t)sqlite3_column_int64(st, 5), "status",
			      sqlite3_column_text(st, 6), "reason", sqlite3_column_text(st, 7));
	sqlite3_reset(st);
	return o;
}

/* Map a failed bank call to our answer. `uncertain`: the call had an
 * effect if delivered, so "refused" cannot prove it was not (the client may
 * have sent it on a reused connection before retrying on a new one). */
static void bank_unavailable(struct fl_http_req *r, const struct rt_call_result *res,
			     bool uncertain)
{
	if (res->kind == RT_CALL_REJECTED)
		rt_reply_result_error(r, 503, "CIRCUIT_OPEN", "circuit to the bank is open");
	else if (res->kind == RT_CALL_REFUSED && !uncertain)
		rt_reply_result_error(r, 503, "BANK_UNREACHABLE", "bank unreachable: %s",
				      res->errmsg);
	else if (res->kind == RT_CALL_REFUSED)
		rt_reply_result_error(r, 504, "UNKNOWN",
				      "bank unreachable (the request may have been delivered): %s",
				      res->errmsg);
	else if (res->kind == RT_CALL_UNKNOWN)
		rt_reply_result_error(r, 504, "UNKNOWN", "bank did not answer: %s", res->errmsg);
	else
		rt_reply_result_error(r, 502, "UNKNOWN", "bank answered %ld", res->status);
}

static void verify_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	struct op *op = arg;
	struct fl_http_req *r = op->req;
	if (res->kind != RT_CALL_REPLY || res->status != 200 || !res->json) {
		bank_unavailable(r, res, false);
		free(op);
		return;
	}
	bool valid = fl_json_bool(res->json, "valid", false);
	if (op->kind == 4) {
		rt_reply_json(r, 200,
			      json_pack("{s:s, s:s, s:s, s:b}", "membershipId", op->member,
					"bankName", op->bank, "bankAccountNumber", op->number,
					"valid", valid));
	} else if (op->kind == 1) {
		rt_reply_json(r, 200,
			      json_pack("{s:s, s:s, s:b}", "bankName", op->bank,
					"bankAccountNumber", op->number, "valid", valid));
	} else if (!valid) {
		rt_reply_result_error(r, 422, "INVALID_ACCOUNT", "bank account %s/%s is not valid",
				      op->bank, op->number);
	} else {
		rt_begin(s);
		sqlite3_stmt *st = rt_stmt(
			s,
			"INSERT OR REPLACE INTO accounts(member, bank, number, registered_ts) VALUES (?1, ?2, ?3, ?4)");
		sqlite3_bind_text(st, 1, op->member, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, op->bank, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, op->number, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, fl_wall_ns() / 1000000);
		sqlite3_step(st);
		sqlite3_reset(st);
		json_t *o =
			json_pack("{s:s, s:s, s:s, s:b}", "membershipId", op->member, "bankName",
				  op->bank, "bankAccountNumber", op->number, "registered", 1);
		rt_event(s, "bank_account_registered", o);
		rt_commit(s);
		rt_reply_json(r, 200, o);
	}
	free(op);
}

static void start_verify(struct rt_svc *s, struct fl_http_req *r, struct op *op)
{
	json_t *body =
		json_pack("{s:s, s:s}", "bankName", op->bank, "bankAccountNumber", op->number);
	struct rt_call c = { .peer = "extbank",
			     .method = "POST",
			     .path = "/bank/verify",
			     .json = body,
			     .trace_id = rt_trace_id(r),
			     .breaker = bank_breaker(s),
			     .cancel = free };
	int rc = rt_call(s, &c, verify_done, op);
	json_decref(body);
	if (rc) {
		free(op);
		rt_reply_error(r, 500, "cannot call the bank: %s", fl_strerror(rc));
	}
}

static struct op *op_from(struct fl_http_req *r, json_t *b, int kind, bool need_member)
{
	const char *m = NULL, *bank = NULL, *num = NULL;
	char err[256];
	json_t *mv = json_object_get(b, "membershipId");
	if ((need_member && !json_is_string(mv) && !json_is_integer(mv)) ||
	    fl_json_take_str(b, "bankName", true, &bank, err, sizeof(err)) ||
	    fl_json_take_str(b, "bankAccountNumber", true, &num, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s",
			       need_member && !mv ? "missing required field: membershipId" : err);
		return NULL;
	}
	struct op *op = calloc(1, sizeof(*op));
	if (!op) {
		rt_reply_error(r, 500, "out of memory");
		return NULL;
	}
	op->req = r;
	op->kind = kind;
	if (json_is_string(mv))
		m = json_string_value(mv);
	if (json_is_integer(mv))
		snprintf(op->member, sizeof(op->member), "%lld", (long long)json_integer_value(mv));
	else if (m)
		snprintf(op->member, sizeof(op->member), "%s", m);
	snprintf(op->bank, sizeof(op->bank), "%s", bank);
	snprintf(op->number, sizeof(op->number), "%s", num);
	return op;
}

static void h_register(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	struct op *op = b ? op_from(r, b, 0, true) : NULL;
	if (op)
		start_verify(s, r, op);
}

static void h_verify(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	struct op *op = b ? op_from(r, b, 1, false) : NULL;
	if (op)
		start_verify(s, r, op);
}

/* GET /banking/account/{member}[?verify=1]: the registered account; with
 * verify, also asks the bank whether it is still valid. */
static void h_account(struct rt_svc *s, struct fl_http_req *r)
{
	const char *m = fl_http_req_param(r, "member");
	sqlite3_stmt *st = rt_stmt(s, "SELECT bank, number FROM accounts WHERE member = ?1");
	sqlite3_bind_text(st, 1, m, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		rt_reply_result_error(r, 404, "NO_ACCOUNT",
				      "member %s has no registered bank account", m);
		return;
	}
	if (fl_http_req_query(r, "verify")) {
		struct op *op = calloc(1, sizeof(*op));
		if (!op) {
			sqlite3_reset(st);
			rt_reply_error(r, 500, "out of memory");
			return;
		}
		op->req = r;
		op->kind = 4;
		snprintf(op->member, sizeof(op->member), "%s", m);
		snprintf(op->bank, sizeof(op->bank), "%s", sqlite3_column_text(st, 0));
		snprintf(op->number, sizeof(op->number), "%s", sqlite3_column_text(st, 1));
		sqlite3_reset(st);
		start_verify(s, r, op);
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "membershipId", m, "bankName",
			      sqlite3_column_text(st, 0), "bankAccountNumber",
			      sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	rt_reply_json(r, 200, o);
}

static void transfer_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	struct op *op = arg;
	struct fl_http_req *r = op->req;
	const char *st =
		res->kind == RT_CALL_REPLY && res->json ? fl_json_str(res->json, "status", "") : "";
	if (res->kind == RT_CALL_REPLY && res->status == 200 &&
	    (strcmp(st, "APPLIED") == 0 || strcmp(st, "REJECTED") == 0)) {
		rt_begin(s);
		fb_store(s, op->key, NULL, st, fl_json_str(res->json, "reason", ""));
		json_t *o = fb_load(s, op->key);
		rt_event(s, "firmbanking_decided", o);
		rt_commit(s);
		rt_reply_json(r, 200, o);
	} else if (res->kind == RT_CALL_REPLY && res->status >= 400 && res->status < 500) {
		rt_begin(s);
		fb_store(s, op->key, NULL, "REJECTED", "BAD_REQUEST");
		rt_commit(s);
		rt_reply_json(r, 200, fb_load(s, op->key));
	} else {
		if (res->kind != RT_CALL_REJECTED) {
			rt_begin(s);
			fb_store(s, op->key, NULL, "UNKNOWN",
				 res->errmsg ? res->errmsg : "bank error");
			rt_commit(s);
		}
		bank_unavailable(r, res, true);
	}
	free(op);
}

static void h_firmbanking(struct rt_svc *s, struct fl_http_req *r)
{
	const char *key = fl_http_req_header(r, "Idempotency-Key");
	json_t *b = rt_body(r);
	if (!b)
		return;
	if (!key || !*key) {
		rt_reply_error(r, 400, "missing Idempotency-Key header");
		return;
	}
	const char *fb, *fn, *tb, *tn;
	int64_t amount;
	char err[256];
	if (fl_json_take_str(b, "fromBankName", true, &fb, err, sizeof(err)) ||
	    fl_json_take_str(b, "fromBankAccountNumber", true, &fn, err, sizeof(err)) ||
	    fl_json_take_str(b, "toBankName", true, &tb, err, sizeof(err)) ||
	    fl_json_take_str(b, "toBankAccountNumber", true, &tn, err, sizeof(err)) ||
	    fl_json_take_int(b, "amount", true, &amount, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (amount <= 0) {
		rt_reply_error(r, 400, "amount must be positive");
		return;
	}
	json_t *prev = fb_load(s, key);
	if (prev) {
		const char *pst = fl_json_str(prev, "status", "");
		if (strcmp(pst, "APPLIED") == 0 || strcmp(pst, "REJECTED") == 0) {
			fl_http_reply_header(r, "Idempotent-Replayed", "true");
			rt_reply_json(r, 200, prev);
			return;
		}
		json_decref(prev);
	} else {
		rt_begin(s);
		fb_store(s, key, b, "REQUESTED", NULL);
		rt_commit(s);
	}
	struct op *op = calloc(1, sizeof(*op));
	if (!op) {
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	op->req = r;
	op->kind = 2;
	snprintf(op->key, sizeof(op->key), "%s", key);
	json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "key", key, "fromBankName", fb,
				 "fromBankAccountNumber", fn, "toBankName", tb,
				 "toBankAccountNumber", tn, "amount", (json_int_t)amount);
	struct rt_call c = { .peer = "extbank",
			     .method = "POST",
			     .path = "/bank/transfer",
			     .json = body,
			     .idem_key = key,
			     .trace_id = rt_trace_id(r),
			     .breaker = bank_breaker(s),
			     .cancel = free };
	int rc = rt_call(s, &c, transfer_done, op);
	json_decref(body);
	if (rc) {
		free(op);
		rt_reply_error(r, 500, "cannot call the bank: %s", fl_strerror(rc));
	}
}

static void status_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	struct op *op = arg;
	struct fl_http_req *r = op->req;
	const char *st =
		res->kind == RT_CALL_REPLY && res->json ? fl_json_str(res->json, "status", "") : "";
	if (res->kind == RT_CALL_REPLY && res->status == 200 &&
	    (strcmp(st, "APPLIED") == 0 || strcmp(st, "REJECTED") == 0)) {
		rt_begin(s);
		fb_store(s, op->key, res->json, st, fl_json_str(res->json, "reason", ""));
		rt_commit(s);
		rt_reply_json(r, 200, fb_load(s, op->key));
	} else if (res->kind == RT_CALL_REPLY && res->status == 404) {
		rt_reply_result_error(r, 404, "NOT_FOUND", "the bank has no transfer %s", op->key);
	} else {
		rt_reply_json(r, 200,
			      json_pack("{s:s, s:s, s:s}", "key", op->key, "status", "UNKNOWN",
					"detail", res->errmsg ? res->errmsg : "bank error"));
	}
	free(op);
}

static void h_firmbanking_get(struct rt_svc *s, struct fl_http_req *r)
{
	const char *key = fl_http_req_param(r, "key");
	json_t *prev = fb_load(s, key);
	if (prev) {
		const char *pst = fl_json_str(prev, "status", "");
		if (strcmp(pst, "APPLIED") == 0 || strcmp(pst, "REJECTED") == 0) {
			rt_reply_json(r, 200, prev);
			return;
		}
		json_decref(prev);
	}
	struct op *op = calloc(1, sizeof(*op));
	if (!op) {
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	op->req = r;
	op->kind = 3;
	snprintf(op->key, sizeof(op->key), "%s", key);
	char path[512];
	snprintf(path, sizeof(path), "/bank/transfer/%s", key);
	struct rt_call c = { .peer = "extbank",
			     .method = "GET",
			     .path = path,
			     .trace_id = rt_trace_id(r),
			     .breaker = bank_breaker(s),
			     .cancel = free };
	if (rt_call(s, &c, status_done, op)) {
		free(op);
		rt_reply_error(r, 500, "cannot call the bank");
	}
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	if (rt_exec(s, schema))
		return fl_err_set(err, errlen, FL_EDB, "banking schema");
	if (!rt_peer_url(s, "extbank"))
		return fl_err_set(err, errlen, FL_EINVAL, "banking needs --peer extbank=URL");
	bank_breaker(s);
	rt_route(s, "POST", "/banking/account/register", h_register, RT_IDEM);
	rt_route(s, "POST", "/banking/account/verify", h_verify, 0);
	rt_route(s, "GET", "/banking/account/{member}", h_account, 0);
	rt_route(s, "POST", "/banking/firmbanking/request", h_firmbanking, 0);
	rt_route(s, "GET", "/banking/firmbanking/{key}", h_firmbanking_get, 0);
	return 0;
}

const struct rt_service_def svc_banking = {
	.name = "banking",
	.sync_full = true,
	.init = init,
};
