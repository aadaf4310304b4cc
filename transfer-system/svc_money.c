/* money: the double-entry ledger (wallets, TRANSIT, CORP) with an
 * idempotency table; every movement is one SQLite transaction that also
 * records the key's result and the outbox event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "transfer-system/rt.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS accounts(name TEXT PRIMARY KEY, member INTEGER,"
	" balance INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS idem(key TEXT PRIMARY KEY, op TEXT NOT NULL,"
	" member INTEGER, amount INTEGER NOT NULL, result TEXT NOT NULL, status INTEGER NOT NULL,"
	" body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS entries(seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,"
	" op TEXT NOT NULL, from_acct TEXT NOT NULL, to_acct TEXT NOT NULL, amount INTEGER NOT NULL,"
	" ts INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS entries_key ON entries(key);"
	"INSERT OR IGNORE INTO accounts(name, member, balance) VALUES ('TRANSIT', NULL, 0), ('CORP', NULL, 0);";

enum { OP_DEBIT, OP_CREDIT, OP_REFUND, OP_SETTLE };
static const char *const op_names[] = { "debit", "credit", "refund", "settle" };

static void wallet_name(long long member, char *out, size_t n)
{
	snprintf(out, n, "wallet:%lld", member);
}

static int parse_member(const json_t *b, long long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(b, "membershipId");
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		*out = strtoll(json_string_value(v), &end, 10);
		if (*end || end == json_string_value(v))
			*out = -1;
	} else
		return fl_err_set(err, errlen, FL_EINVAL, "missing required field: membershipId");
	if (*out <= 0)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "membershipId must be a positive integer");
	return 0;
}

/* Balance and closed flag of an account; false when absent. */
static bool account_get(struct rt_svc *s, const char *name, long long *bal, int *closed)
{
	sqlite3_stmt *st = rt_stmt(s, "SELECT balance, closed FROM accounts WHERE name = ?1");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		*bal = sqlite3_column_int64(st, 0);
		if (closed)
			*closed = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return found;
}

static int account_add(struct rt_svc *s, const char *name, long long delta)
{
	sqlite3_stmt *st = rt_stmt(s, "UPDATE accounts SET balance = balance + ?2 WHERE name = ?1");
	if (!st)
		return FL_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, delta);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE && sqlite3_changes(s->db) == 1 ? 0 : FL_EDB;
}

static int move(struct rt_svc *s, const char *key, const char *op, const char *from, const char *to,
		long long amount)
{
	if (account_add(s, from, -amount) || account_add(s, to, amount))
		return FL_EDB;
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT INTO entries(key, op, from_acct, to_acct, amount, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st)
		return FL_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, from, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, to, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, amount);
	sqlite3_bind_int64(st, 6, fl_wall_ns() / 1000000);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : FL_EDB;
}

struct idem_row {
	bool found;
	char op[16];
	long long amount;
	char result[32];
	int status;
	char *body; /* malloc'd */
};

static void idem_get(struct rt_svc *s, const char *key, struct idem_row *row)
{
	memset(row, 0, sizeof(*row));
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT op, amount, result, status, body FROM idem WHERE key = ?1");
	if (!st)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		row->found = true;
		snprintf(row->op, sizeof(row->op), "%s", sqlite3_column_text(st, 0));
		row->amount = sqlite3_column_int64(st, 1);
		snprintf(row->result, sizeof(row->result), "%s", sqlite3_column_text(st, 2));
		row->status = sqlite3_column_int(st, 3);
		row->body = strdup((const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_reset(st);
}

static int idem_put(struct rt_svc *s, const char *key, const char *op, long long member,
		    long long amount, const char *result, int status, const char *body)
{
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT OR REPLACE INTO idem(key, op, member, amount, result, status, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		return FL_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
	if (member > 0)
		sqlite3_bind_int64(st, 3, member);
	sqlite3_bind_int64(st, 4, amount);
	sqlite3_bind_text(st, 5, result, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, status);
	sqlite3_bind_text(st, 7, body, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : FL_EDB;
}

static void money_event(struct rt_svc *s, const char *key, const char *op, long long member,
			long long delta, const char *trace)
{
	char w[64];
	long long bal = 0;
	wallet_name(member, w, sizeof(w));
	account_get(s, w, &bal, NULL);
	char id[32];
	snprintf(id, sizeof(id), "%lld", member);
	json_t *f = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "key", key, "op", op,
			      "membershipId", id, "delta", (json_int_t)delta, "balance",
			      (json_int_t)bal, "trace_id", trace);
	rt_event(s, "money_changed", f);
	json_decref(f);
}

/* Finish a movement: record the key's result with the reply body, commit,
 * reply. Takes body. */
static void conclude(struct rt_svc *s, struct fl_http_req *r, const char *key, const char *op,
		     long long member, long long amount, const char *result, int status,
		     json_t *body)
{
	char *txt = json_dumps(body, JSON_COMPACT);
	if (!txt || idem_put(s, key, op, member, amount, result, status, txt) || rt_commit(s)) {
		free(txt);
		json_decref(body);
		rt_rollback(s);
		rt_reply_error(r, 500, "database error");
		return;
	}
	free(txt);
	rt_crash_point(s, "after_commit_before_reply");
	rt_reply_json(r, status, body);
}

static void h_move(struct rt_svc *s, struct fl_http_req *r, int op)
{
	const char *key = fl_http_req_header(r, "Idempotency-Key");
	if (!key || !*key) {
		rt_reply_error(r, 400, "missing Idempotency-Key header");
		return;
	}
	json_t *b = rt_body(r);
	if (!b)
		return;
	char err[256];
	long long member = 0;
	int64_t amount = 0;
	const char *source = "TRANSIT", *fwd = NULL;
	if ((op != OP_SETTLE && parse_member(b, &member, err, sizeof(err))) ||
	    fl_json_take_int(b, "amount", true, &amount, err, sizeof(err)) ||
	    fl_json_take_str(b, "source", false, &source, err, sizeof(err)) ||
	    fl_json_take_str(b, "forwardKey", op == OP_REFUND, &fwd, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (amount <= 0 || amount > 1000000000000000LL) {
		rt_reply_error(r, 400, "amount must be a positive integer (KRW) up to 10^15");
		return;
	}
	if (op == OP_CREDIT && strcmp(source, "TRANSIT") != 0 && strcmp(source, "CORP") != 0) {
		rt_reply_error(r, 400, "source: expected TRANSIT or CORP");
		return;
	}
	const char *opn = op_names[op];
	if (rt_begin(s)) {
		rt_reply_error(r, 503, "database busy");
		return;
	}
	struct idem_row row;
	bool replay_check = !(op == OP_CREDIT && rt_bug(s, BUG_NON_IDEMPOTENT_CREDIT));
	idem_get(s, key, &row);
	if (row.found && replay_check) {
		rt_rollback(s);
		if (strcmp(row.op, opn) != 0 || row.amount != amount) {
			if (strcmp(row.result, "CANCELLED") == 0)
				rt_reply_result_error(r, 409, "CANCELLED",
						      "this key was cancelled by a compensation");
			else
				rt_reply_error(
					r, 422,
					"Idempotency-Key %s was used for another request (%s %lld)",
					key, row.op, row.amount);
		} else {
			fl_http_reply_header(r, "Idempotent-Replayed", "true");
			rt_reply_raw(r, row.status, "application/json", row.body, strlen(row.body));
		}
		free(row.body);
		return;
	}
	free(row.body);
	char w[64];
	wallet_name(member, w, sizeof(w));
	long long bal = 0;
	int closed = 0;
	if (op != OP_SETTLE && !account_get(s, w, &bal, &closed)) {
		rt_rollback(s);
		rt_reply_result_error(r, 404, "NO_WALLET", "member %lld has no money account",
				      member);
		return;
	}
	const char *trace = rt_trace_id(r);
	char id[32];
	snprintf(id, sizeof(id), "%lld", member);
	if (op == OP_DEBIT) {
		if (closed) {
			conclude(s, r, key, opn, member, amount, "WALLET_CLOSED", 409,
				 json_pack("{s:s, s:i, s:s}", "error", "wallet closed", "status",
					   409, "result", "WALLET_CLOSED"));
			return;
		}
		if (bal < amount) {
			conclude(s, r, key, opn, member, amount, "INSUFFICIENT_BALANCE", 200,
				 json_pack("{s:s, s:s, s:s, s:I}", "result", "INSUFFICIENT_BALANCE",
					   "key", key, "membershipId", id, "balance",
					   (json_int_t)bal));
			return;
		}
		if (move(s, key, opn, w, "TRANSIT", amount))
			goto dberr;
		money_event(s, key, opn, member, -amount, trace);
	} else if (op == OP_CREDIT) {
		/* a closed wallet takes no transfers from others; money coming
		 * back from the member's own bank (CORP, after a top-up's pivot)
		 * must still land */
		if (closed && strcmp(source, "CORP") != 0) {
			conclude(s, r, key, opn, member, amount, "WALLET_CLOSED", 409,
				 json_pack("{s:s, s:i, s:s}", "error", "wallet closed", "status",
					   409, "result", "WALLET_CLOSED"));
			return;
		}
		if (move(s, key, opn, source, w, amount))
			goto dberr;
		money_event(s, key, opn, member, amount, trace);
	} else if (op == OP_REFUND) {
		struct idem_row f;
		idem_get(s, fwd, &f);
		free(f.body);
		if (!f.found) {
			/* the forward request never arrived: fence it so it cannot apply later */
			idem_put(
				s, fwd, "debit", member, amount, "CANCELLED", 409,
				"{\"error\":\"cancelled by compensation\",\"status\":409,\"result\":\"CANCELLED\"}");
			conclude(s, r, key, opn, member, amount, "NOTHING_TO_REFUND", 200,
				 json_pack("{s:s, s:s, s:s}", "result", "NOTHING_TO_REFUND", "key",
					   key, "forwardKey", fwd));
			return;
		}
		if (strcmp(f.result, "OK") != 0) {
			conclude(s, r, key, opn, member, amount, "NOTHING_TO_REFUND", 200,
				 json_pack("{s:s, s:s, s:s}", "result", "NOTHING_TO_REFUND", "key",
					   key, "forwardKey", fwd));
			return;
		}
		if (move(s, key, opn, "TRANSIT", w, amount))
			goto dberr;
		money_event(s, key, opn, member, amount, trace);
	} else {
		if (move(s, key, opn, "TRANSIT", "CORP", amount))
			goto dberr;
	}
	long long nb = 0;
	if (op != OP_SETTLE)
		account_get(s, w, &nb, NULL);
	conclude(s, r, key, opn, member, amount, "OK", 200,
		 json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "result", "OK", "key", key, "op", opn,
			   "membershipId", op == OP_SETTLE ? "" : id, "amount", (json_int_t)amount,
			   "balance", (json_int_t)nb));
	return;
dberr:
	rt_rollback(s);
	rt_reply_error(r, 500, "database error");
}

static void h_debit(struct rt_svc *s, struct fl_http_req *r)
{
	h_move(s, r, OP_DEBIT);
}
static void h_credit(struct rt_svc *s, struct fl_http_req *r)
{
	h_move(s, r, OP_CREDIT);
}
static void h_refund(struct rt_svc *s, struct fl_http_req *r)
{
	h_move(s, r, OP_REFUND);
}
static void h_settle(struct rt_svc *s, struct fl_http_req *r)
{
	h_move(s, r, OP_SETTLE);
}

static void h_create(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	char err[256], w[64];
	long long member;
	if (parse_member(b, &member, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	wallet_name(member, w, sizeof(w));
	rt_begin(s);
	sqlite3_stmt *st =
		rt_stmt(s,
			"INSERT OR IGNORE INTO accounts(name, member, balance) VALUES (?1, ?2, 0)");
	if (!st) {
		rt_rollback(s);
		rt_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, member);
	sqlite3_step(st);
	sqlite3_reset(st);
	bool created = sqlite3_changes(s->db) == 1;
	char id[32];
	snprintf(id, sizeof(id), "%lld", member);
	if (created) {
		json_t *f = json_pack("{s:s, s:s, s:i, s:i, s:s}", "key", "", "op", "create",
				      "membershipId", id, "delta", 0, "balance", 0, "trace_id",
				      rt_trace_id(r));
		json_object_set_new(f, "key", json_string(""));
		rt_event(s, "money_changed", f);
		json_decref(f);
	}
	rt_commit(s);
	long long bal = 0;
	account_get(s, w, &bal, NULL);
	rt_reply_json(r, 200,
		      json_pack("{s:s, s:I, s:b}", "membershipId", id, "balance", (json_int_t)bal,
				"created", created));
}

static void h_close(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	char err[256], w[64];
	long long member;
	bool closed = true;
	if (parse_member(b, &member, err, sizeof(err)) ||
	    fl_json_take_bool(b, "closed", false, &closed, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	wallet_name(member, w, sizeof(w));
	sqlite3_stmt *st = rt_stmt(s, "UPDATE accounts SET closed = ?2 WHERE name = ?1");
	sqlite3_bind_text(st, 1, w, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, closed);
	sqlite3_step(st);
	sqlite3_reset(st);
	if (sqlite3_changes(s->db) != 1) {
		rt_reply_result_error(r, 404, "NO_WALLET", "member %lld has no money account",
				      member);
		return;
	}
	rt_reply_json(r, 200,
		      json_pack("{s:I, s:b}", "membershipId", (json_int_t)member, "closed",
				closed));
}

static void h_get(struct rt_svc *s, struct fl_http_req *r)
{
	const char *m = fl_http_req_param(r, "member");
	char *end;
	long long member = strtoll(m, &end, 10);
	char w[64];
	long long bal;
	int closed = 0;
	if (*end || member <= 0) {
		rt_reply_error(r, 400, "membership id must be a positive integer");
		return;
	}
	wallet_name(member, w, sizeof(w));
	if (!account_get(s, w, &bal, &closed)) {
		rt_reply_result_error(r, 404, "NO_WALLET", "member %lld has no money account",
				      member);
		return;
	}
	rt_reply_json(r, 200,
		      json_pack("{s:s, s:I, s:b}", "membershipId", m, "balance", (json_int_t)bal,
				"closed", closed));
}

static void h_batch(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	json_t *ids = json_object_get(b, "membershipIds");
	if (!json_is_array(ids)) {
		rt_reply_error(r, 400, "membershipIds: expected an array");
		return;
	}
	json_t *out = json_array();
	long long sum = 0;
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		long long member = json_is_integer(v)  ? json_integer_value(v)
				   : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
						       : 0;
		char w[64], id[32];
		long long bal = 0;
		wallet_name(member, w, sizeof(w));
		snprintf(id, sizeof(id), "%lld", member);
		bool found = member > 0 && account_get(s, w, &bal, NULL);
		json_array_append_new(out, found ? json_pack("{s:s, s:I}", "membershipId", id,
							     "balance", (json_int_t)bal)
						 : json_pack("{s:s, s:n}", "membershipId", id,
							     "balance"));
		sum += bal;
	}
	rt_reply_json(r, 200, json_pack("{s:o, s:I}", "members", out, "sum", (json_int_t)sum));
}

static void h_snapshot(struct rt_svc *s, struct fl_http_req *r)
{
	char ts[40];
	int64_t t = fl_mono_ns();
	rt_exec(s, "BEGIN");
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT name, member, balance, closed FROM accounts ORDER BY name");
	json_t *acc = json_array();
	long long sum = 0, wallets = 0, transit = 0, corp = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		long long bal = sqlite3_column_int64(st, 2);
		sum += bal;
		json_t *a = json_pack("{s:s, s:I, s:b}", "account", name, "balance",
				      (json_int_t)bal, "closed", sqlite3_column_int(st, 3));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			char id[32];
			snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 1));
			json_object_set_new(a, "membershipId", json_string(id));
			wallets += bal;
		} else if (strcmp(name, "TRANSIT") == 0)
			transit = bal;
		else if (strcmp(name, "CORP") == 0)
			corp = bal;
		json_array_append_new(acc, a);
	}
	if (st)
		sqlite3_reset(st);
	long long nentries = 0;
	st = rt_stmt(s, "SELECT COUNT(*) FROM entries");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		nentries = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	rt_exec(s, "COMMIT");
	rt_reply_json(r, 200,
		      json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "accounts", acc, "sum",
				(json_int_t)sum, "wallets", (json_int_t)wallets, "transit",
				(json_int_t)transit, "corp", (json_int_t)corp, "entries",
				(json_int_t)nentries, "t", (json_int_t)t, "ts",
				fl_wall_iso(fl_wall_ns(), ts, sizeof(ts))));
}

static void h_entries(struct rt_svc *s, struct fl_http_req *r)
{
	const char *key = fl_http_req_query(r, "key");
	bool fence = fl_http_req_query(r, "fence") != NULL;
	if (!key || !*key) {
		rt_reply_error(r, 400, "missing query parameter: key");
		return;
	}
	rt_begin(s);
	struct idem_row row;
	idem_get(s, key, &row);
	bool fenced = false;
	if (!row.found && fence) {
		idem_put(
			s, key, "debit", 0, 0, "CANCELLED", 409,
			"{\"error\":\"cancelled by compensation\",\"status\":409,\"result\":\"CANCELLED\"}");
		fenced = true;
	}
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT seq, op, from_acct, to_acct, amount, ts FROM entries WHERE key = ?1 ORDER BY seq");
	json_t *a = json_array();
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}", "seq",
						   (json_int_t)sqlite3_column_int64(st, 0), "op",
						   sqlite3_column_text(st, 1), "from",
						   sqlite3_column_text(st, 2), "to",
						   sqlite3_column_text(st, 3), "amount",
						   (json_int_t)sqlite3_column_int64(st, 4), "ts",
						   (json_int_t)sqlite3_column_int64(st, 5)));
	sqlite3_reset(st);
	rt_commit(s);
	json_t *o = json_pack("{s:s, s:b, s:o, s:b}", "key", key, "applied", json_array_size(a) > 0,
			      "entries", a, "fenced", fenced);
	json_object_set_new(o, "result", row.found ? json_string(row.result) : json_null());
	free(row.body);
	rt_reply_json(r, 200, o);
}

static void metrics(struct rt_svc *s, struct fl_buf *out)
{
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT COALESCE(SUM(CASE WHEN member IS NOT NULL THEN balance END), 0),"
			   " COALESCE(SUM(CASE WHEN name = 'TRANSIT' THEN balance END), 0),"
			   " COALESCE(SUM(CASE WHEN name = 'CORP' THEN balance END), 0),"
			   " COALESCE(SUM(balance), 0) FROM accounts");
	if (!st || sqlite3_step(st) != SQLITE_ROW) {
		if (st)
			sqlite3_reset(st);
		return;
	}
	fl_buf_printf(out,
		      "# HELP fl_ledger_balance_krw Ledger balances by account class.\n"
		      "# TYPE fl_ledger_balance_krw gauge\n"
		      "fl_ledger_balance_krw{account=\"wallets\"} %lld\n"
		      "fl_ledger_balance_krw{account=\"TRANSIT\"} %lld\n"
		      "fl_ledger_balance_krw{account=\"CORP\"} %lld\n"
		      "# HELP fl_ledger_sum_krw Sum of every ledger account (0 when conserved).\n"
		      "# TYPE fl_ledger_sum_krw gauge\n"
		      "fl_ledger_sum_krw %lld\n",
		      (long long)sqlite3_column_int64(st, 0),
		      (long long)sqlite3_column_int64(st, 1),
		      (long long)sqlite3_column_int64(st, 2),
		      (long long)sqlite3_column_int64(st, 3));
	sqlite3_reset(st);
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	if (rt_exec(s, schema))
		return fl_err_set(err, errlen, FL_EDB, "money schema");
	rt_route(s, "POST", "/money/create-member-money", h_create, 0);
	rt_route(s, "POST", "/money/close-member-money", h_close, 0);
	rt_route(s, "POST", "/money/debit", h_debit, 0);
	rt_route(s, "POST", "/money/credit", h_credit, 0);
	rt_route(s, "POST", "/money/refund", h_refund, 0);
	rt_route(s, "POST", "/money/settle", h_settle, 0);
	rt_route(s, "POST", "/money/member-money", h_batch, 0);
	rt_route(s, "GET", "/money/snapshot", h_snapshot, 0);
	rt_route(s, "GET", "/money/entries", h_entries, 0);
	rt_route(s, "GET", "/money/{member}", h_get, 0);
	return 0;
}

const struct rt_service_def svc_money = {
	.name = "money",
	.sync_full = true,
	.init = init,
	.metrics = metrics,
};
