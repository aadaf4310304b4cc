/* membership: customers (id, name, status ACTIVE/SUSPENDED/CLOSED, address). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "transfer-system/rt.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS members(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL, address TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL DEFAULT 'ACTIVE', corp INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS members_address ON members(address);";

static bool valid_status(const char *s)
{
	return strcmp(s, "ACTIVE") == 0 || strcmp(s, "SUSPENDED") == 0 || strcmp(s, "CLOSED") == 0;
}

static json_t *member_json(sqlite3_stmt *st)
{
	char id[32];
	snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "membershipId", id, "name",
			 (const char *)sqlite3_column_text(st, 1), "address",
			 (const char *)sqlite3_column_text(st, 2), "email",
			 (const char *)sqlite3_column_text(st, 3), "status",
			 (const char *)sqlite3_column_text(st, 4), "isCorp",
			 sqlite3_column_int(st, 5));
}

static json_t *load(struct rt_svc *s, long long id)
{
	sqlite3_stmt *st =
		rt_stmt(s,
			"SELECT id, name, address, email, status, corp FROM members WHERE id = ?1");
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	json_t *m = sqlite3_step(st) == SQLITE_ROW ? member_json(st) : NULL;
	sqlite3_reset(st);
	return m;
}

static int parse_id(const char *v, long long *out)
{
	char *end;
	if (!v || !*v)
		return FL_EINVAL;
	long long x = strtoll(v, &end, 10);
	if (*end || x <= 0)
		return FL_EINVAL;
	*out = x;
	return 0;
}

static void h_register(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	const char *name = NULL, *addr = NULL, *email = "", *status = "ACTIVE";
	bool corp = false;
	char err[256];
	if (fl_json_take_str(b, "name", true, &name, err, sizeof(err)) ||
	    fl_json_take_str(b, "address", true, &addr, err, sizeof(err)) ||
	    fl_json_take_str(b, "email", false, &email, err, sizeof(err)) ||
	    fl_json_take_str(b, "status", false, &status, err, sizeof(err)) ||
	    fl_json_take_bool(b, "isCorp", false, &corp, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (!valid_status(status)) {
		rt_reply_error(r, 400, "status: expected ACTIVE, SUSPENDED or CLOSED");
		return;
	}
	rt_begin(s);
	sqlite3_stmt *st = rt_stmt(
		s,
		"INSERT INTO members(name, address, email, status, corp) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!st) {
		rt_rollback(s);
		rt_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, corp);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	long long id = sqlite3_last_insert_rowid(s->db);
	json_t *m = rc == SQLITE_DONE ? load(s, id) : NULL;
	if (!m) {
		rt_rollback(s);
		rt_reply_error(r, 500, "database error");
		return;
	}
	rt_event(s, "member_registered", m);
	rt_commit(s);
	rt_reply_json(r, 200, m);
}

static void h_get(struct rt_svc *s, struct fl_http_req *r)
{
	long long id;
	if (parse_id(fl_http_req_param(r, "id"), &id)) {
		rt_reply_error(r, 400, "membership id must be a positive integer");
		return;
	}
	json_t *m = load(s, id);
	if (!m) {
		rt_reply_error(r, 404, "no member %lld", id);
		return;
	}
	rt_reply_json(r, 200, m);
}

static void h_by_address(struct rt_svc *s, struct fl_http_req *r)
{
	const char *addr = fl_http_req_param(r, "addr");
	sqlite3_stmt *st = rt_stmt(
		s,
		"SELECT id, name, address, email, status, corp FROM members WHERE address = ?1 ORDER BY id");
	if (!st) {
		rt_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_TRANSIENT);
	json_t *ids = json_array(), *members = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *m = member_json(st);
		json_array_append(ids, json_object_get(m, "membershipId"));
		json_array_append_new(members, m);
	}
	sqlite3_reset(st);
	bool full = fl_http_req_query(r, "full") != NULL;
	json_t *o = json_pack("{s:s, s:I, s:o}", "address", addr, "count",
			      (json_int_t)json_array_size(ids), "membershipIds", ids);
	if (full)
		json_object_set_new(o, "members", members);
	else
		json_decref(members);
	rt_reply_json(r, 200, o);
}

static void h_modify(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	const char *ids = NULL, *name = NULL, *addr = NULL, *status = NULL, *email = NULL;
	char err[256];
	long long id;
	if (fl_json_take_str(b, "membershipId", true, &ids, err, sizeof(err)) ||
	    fl_json_take_str(b, "name", false, &name, err, sizeof(err)) ||
	    fl_json_take_str(b, "address", false, &addr, err, sizeof(err)) ||
	    fl_json_take_str(b, "email", false, &email, err, sizeof(err)) ||
	    fl_json_take_str(b, "status", false, &status, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	if (parse_id(ids, &id)) {
		rt_reply_error(r, 400, "membershipId must be a positive integer");
		return;
	}
	if (status && !valid_status(status)) {
		rt_reply_error(r, 400, "status: expected ACTIVE, SUSPENDED or CLOSED");
		return;
	}
	rt_begin(s);
	json_t *m = load(s, id);
	if (!m) {
		rt_rollback(s);
		rt_reply_error(r, 404, "no member %lld", id);
		return;
	}
	json_decref(m);
	sqlite3_stmt *st = rt_stmt(
		s, "UPDATE members SET name = COALESCE(?2, name), address = COALESCE(?3, address),"
		   " email = COALESCE(?4, email), status = COALESCE(?5, status) WHERE id = ?1");
	if (!st) {
		rt_rollback(s);
		rt_reply_error(r, 500, "database error");
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	if (name)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (addr)
		sqlite3_bind_text(st, 3, addr, -1, SQLITE_STATIC);
	if (email)
		sqlite3_bind_text(st, 4, email, -1, SQLITE_STATIC);
	if (status)
		sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_reset(st);
	m = load(s, id);
	rt_event(s, "member_modified", m);
	rt_commit(s);
	rt_reply_json(r, 200, m);
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	if (rt_exec(s, schema))
		return fl_err_set(err, errlen, FL_EDB, "membership schema");
	rt_route(s, "POST", "/membership/register", h_register, RT_IDEM);
	rt_route(s, "POST", "/membership/modify", h_modify, RT_IDEM);
	rt_route(s, "GET", "/membership/address/{addr}", h_by_address, 0);
	rt_route(s, "GET", "/membership/{id}", h_get, 0);
	return 0;
}

const struct rt_service_def svc_membership = {
	.name = "membership",
	.init = init,
};
