/* History events: one line (a flat JSON view) into the typed arrays of
 * checkers/history.h. The event schema is in docs/checkers.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/flatjson.h"
#include "checkers/history.h"
#include "checkers/history_int.h"
#include "core/errors.h"

/* --- field helpers over a flat view --- */

#define get_i64 fv_i64

static int64_t i64_or(const struct fv *o, const char *k, int64_t def)
{
	int64_t v;
	return fv_i64(o, k, &v) ? v : def;
}

/* Intern a string field; integers are interned in their decimal form (saga
 * ids and members are often numbers). -1 when absent. */
static int32_t str_field(struct fl_chk_history *h, const struct fv *o, const char *k)
{
	char buf[1024];
	const char *s = fv_text(o, k, buf, sizeof(buf));
	return s ? fl_chk_intern(h, s) : -1;
}

/* Like str_field, but "" counts as absent. */
static int32_t nonempty_field(struct fl_chk_history *h, const struct fv *o, const char *k)
{
	const struct fv_field *f = fv_get(o, k);
	return f && f->type == 's' && f->vlen == 0 ? -1 : str_field(h, o, k);
}

/* A short string field (borrowed from a thread-local ring of buffers; valid
 * for the next few calls), or NULL. */
static const char *cstr(const struct fv *o, const char *k)
{
	static _Thread_local char bufs[4][256];
	static _Thread_local int next;
	char *b = bufs[next++ & 3];
	return fv_str(o, k, b, sizeof(bufs[0]));
}


static int need_time(const struct fv *ev, const char *k, int64_t *t, long line, const char *what,
		     char *err, size_t errlen)
{
	if (get_i64(ev, k, t))
		return 0;
	return fl_err_set(err, errlen, FL_EPARSE, "line %ld: %s event without a numeric \"%s\"",
			  line, what, k);
}

#define NOMEM(err, errlen) fl_err_set(err, errlen, FL_ENOMEM, "out of memory")

/* --- snapshots --- */

/* [{"account": name, "balance": n}, ...] (or "name") as {name: n}; new
 * reference, NULL when an entry has no name or no integer balance. */
static json_t *accounts_from_array(const json_t *arr)
{
	json_t *o = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "account"));
		if (!name)
			name = json_string_value(json_object_get(e, "name"));
		json_t *bal = json_object_get(e, "balance");
		if (!name || !json_is_integer(bal)) {
			json_decref(o);
			return NULL;
		}
		json_object_set(o, name, bal);
	}
	return o;
}

/* Read the balances under `key` of ev into s: their sum, and the accounts
 * themselves unless `lazy` (client reads, many) and none is negative. */
static int read_accounts(const struct fv *ev, const char *key, struct fl_chk_snapshot *s, bool lazy,
			 long line, char *err, size_t errlen)
{
	struct fv acc;
	if (lazy && fv_sub(ev, key, &acc) == 0) {
		bool neg = false, bad = false;
		int64_t sum = 0;
		for (int i = 0; i < acc.n && !bad; i++) {
			const struct fv_field *f = &acc.f[i];
			char b[40];
			if (f->type != 'n' || f->vlen >= sizeof(b)) {
				bad = true;
				break;
			}
			memcpy(b, f->v, f->vlen);
			b[f->vlen] = '\0';
			char *end;
			int64_t v = strtoll(b, &end, 10);
			bad = *end != '\0';
			sum += v;
			neg |= v < 0;
		}
		if (!bad) {
			s->sum = sum;
			if (!neg)
				return 0;
		}
	}
	json_t *a = fv_json(ev, key);
	if (json_is_array(a)) {
		json_t *o = accounts_from_array(a);
		json_decref(a);
		a = o;
	}
	if (!json_is_object(a)) {
		json_decref(a);
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: snapshot without an \"%s\" object (or array of "
				  "{\"account\", \"balance\"})",
				  line, key);
	}
	const char *k;
	json_t *v;
	int64_t sum = 0;
	json_object_foreach(a, k, v) {
		if (!json_is_integer(v)) {
			/* k belongs to a: the message first, then the release */
			int rc = fl_err_set(err, errlen, FL_EPARSE,
					    "line %ld: snapshot account \"%s\" is not an integer",
					    line, k);
			json_decref(a);
			return rc;
		}
		sum += json_integer_value(v);
	}
	s->sum = sum;
	s->accounts = a;
	return 0;
}

/* --- the event schema -------------------------------------------------------- */

/* How a field is read and what it writes into the element (the C type). */
enum fk {
	FK_END,	     /* end of a field list */
	FK_LINE,     /* long: the line number (no key) */
	FK_KIND,     /* uint8_t: the event type's `kind` (no key) */
	FK_TIME,     /* int64_t: a required integer time; widens the history's span */
	FK_STR,	     /* int32_t: an interned string (integers in decimal), -1 when absent */
	FK_STR_SET,  /* int32_t: as FK_STR, but "" counts as absent */
	FK_NAME,     /* int32_t: as FK_STR, for a string value only (a number gives -1) */
	FK_I64,	     /* int64_t: an integer, `def` when absent (without a key: `def`) */
	FK_INT,	     /* int: an integer, `def` when absent */
	FK_STEP,     /* int16_t: an integer from 0 to 1000, else 0 */
	FK_OPT_I64,  /* int64_t: an integer, 0 when absent; uint8_t at `has`: present */
	FK_NEED_I64, /* int64_t: a required integer */
	FK_MS,	     /* int64_t: a number of milliseconds, as nanoseconds (0 when absent) */
	FK_TRUE,     /* uint8_t: the value is true */
	FK_TRISTATE, /* uint8_t: 0 absent, 1 false, 2 true */
	FK_ENUM,     /* uint8_t: a string named in `names`; required when def < 0 */
	FK_OBJECT,   /* json_t *: a required object (a new reference the history owns) */
	FK_CALL,     /* run `fn` here: what a table cannot say (derived fields) */
};

/* A string value and the number it stands for; lists end with a NULL name. */
struct names {
	const char *s;
	uint8_t v;
};

typedef int (*fl_chk_field_fn)(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
			       char *err, size_t errlen);

struct field {
	const char *key; /* NULL for FK_LINE, FK_KIND, FK_CALL, constants */
	uint8_t kind;	 /* enum fk */
	bool in_value;	 /* read from the event's "value" object */
	bool nocase;	 /* FK_ENUM: names match in any case */
	uint16_t off;	 /* where it goes in the element */
	uint16_t has;	 /* FK_OPT_I64: offset of the presence flag */
	int64_t def;
	const char *alt;	   /* FK_STR: the key read when `key` is absent */
	const struct names *names; /* FK_ENUM */
	fl_chk_field_fn fn;	   /* FK_CALL */
};

/* One kind of event: its name, the history's vector it goes to, its fields
 * in the order they are read (string ids are handed out in that order). */
struct event_type {
	const char *name;
	uint16_t vec, n, cap, size;	   /* offsets of the vector, its count and capacity in
					 * struct fl_chk_history; the element's size */
	uint8_t kind;			   /* FK_KIND writes this */
	bool value;			   /* fields read from "value" (FK in_value) */
	bool (*skip)(const struct fv *ev); /* true: not a checker event after all */
	const struct field *fields, *more; /* `more` (or NULL) is read after `fields` */
};

#define VEC(name)                                                                                  \
	.vec = offsetof(struct fl_chk_history, name),                                              \
	.n = offsetof(struct fl_chk_history, n_##name),                                            \
	.cap = offsetof(struct fl_chk_history, cap_##name),                                        \
	.size = sizeof(*((struct fl_chk_history *)0)->name)
#define AT(m) .off = offsetof(T, m)
#define LINE                                                                                       \
	{                                                                                          \
		.kind = FK_LINE, AT(line)                                                          \
	}
#define KIND(m)                                                                                    \
	{                                                                                          \
		.kind = FK_KIND, AT(m)                                                             \
	}
#define TIME(k, m)                                                                                 \
	{                                                                                          \
		.key = k, .kind = FK_TIME, AT(m)                                                   \
	}
#define STR(k, m)                                                                                  \
	{                                                                                          \
		.key = k, .kind = FK_STR, AT(m)                                                    \
	}
#define I64(k, m, d)                                                                               \
	{                                                                                          \
		.key = k, .kind = FK_I64, AT(m), .def = d                                          \
	}
#define INT(k, m, d)                                                                               \
	{                                                                                          \
		.key = k, .kind = FK_INT, AT(m), .def = d                                          \
	}
#define ISTRUE(k, m)                                                                               \
	{                                                                                          \
		.key = k, .kind = FK_TRUE, AT(m)                                                   \
	}
#define OPT_I64(k, m, flag)                                                                        \
	{                                                                                          \
		.key = k, .kind = FK_OPT_I64, AT(m), .has = offsetof(T, flag)                      \
	}
#define ENUM(k, m, list, d)                                                                        \
	{                                                                                          \
		.key = k, .kind = FK_ENUM, AT(m), .names = list, .def = d                          \
	}
#define CALL(f)                                                                                    \
	{                                                                                          \
		.kind = FK_CALL, .fn = f                                                           \
	}

static const struct names op_types[] = {
	{ "invoke", FL_OP_INVOKE }, { "ok", FL_OP_OK }, { "fail", FL_OP_FAIL },
	{ "info", FL_OP_INFO },	    { NULL, 0 },
};
static const struct names call_outcomes[] = {
	{ "success", FL_CALL_SUCCESS },
	{ "failure", FL_CALL_FAILURE },
	{ "slow", FL_CALL_SLOW },
	{ "rejected", FL_CALL_REJECTED },
	{ NULL, 0 },
};
static const struct names breaker_states[] = {
	{ "CLOSED", FL_BR_CLOSED },
	{ "OPEN", FL_BR_OPEN },
	{ "HALF_OPEN", FL_BR_HALF_OPEN },
	{ "half-open", FL_BR_HALF_OPEN },
	{ NULL, 0 },
};
static const struct names probe_kinds[] = {
	{ "liveness", FL_PROBE_LIVENESS },
	{ "readiness", FL_PROBE_READINESS },
	{ "startup", FL_PROBE_STARTUP },
	{ NULL, 0 },
};
static const struct names fault_actions[] = { { "added", 1 }, { "removed", 0 }, { NULL, 0 } };
static const struct names probe_states[] = { { "passing", 1 }, { "failing", 0 }, { NULL, 0 } };

/* --- what the table cannot say --- */

/* A client's ok read of balances is a bank-test snapshot (ev: the "value"). */
static int op_read(struct fl_chk_history *h, const struct fv *ev, void *elem, long line, char *err,
		   size_t errlen)
{
	const struct fl_chk_op *o = elem;
	const struct fv *v = ev; /* the operation's "value" */
	const char *acckey = fv_is(v, "accounts", 'o')	 ? "accounts"
			     : fv_is(v, "balances", 'o') ? "balances"
							 : NULL;
	if (o->type != FL_OP_OK || !acckey)
		return 0;
	struct fl_chk_snapshot *s = PUSH(h, snaps);
	if (!s)
		return NOMEM(err, errlen);
	s->t = o->t;
	s->line = line;
	s->kind = FL_SNAP_READ;
	s->has_total = get_i64(v, "total", &s->initial_total);
	return read_accounts(v, acckey, s, true, line, err, errlen);
}

static int saga_comp(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
		     char *err, size_t errlen)
{
	(void)h, (void)line, (void)err, (void)errlen;
	struct fl_chk_saga_ev *s = elem;
	const char *dir = cstr(ev, "dir");
	s->comp = s->kind == FL_COMP_REQUESTED || s->kind == FL_COMP_SUCCEEDED ||
		  (dir && !strcmp(dir, "comp"));
	return 0;
}

/* An effect without "saga_id" belongs to the saga its key starts with. */
static int effect_saga(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
		       char *err, size_t errlen)
{
	(void)ev, (void)line;
	struct fl_chk_effect *e = elem;
	if (e->saga >= 0 || e->key < 0)
		return 0;
	const char *k = fl_chk_str(h, e->key);
	const char *colon = strchr(k, ':');
	if (colon) {
		char *p = strndup(k, (size_t)(colon - k));
		if (!p)
			return NOMEM(err, errlen);
		e->saga = fl_chk_intern(h, p);
		free(p);
	}
	return 0;
}

/* The reference system's money_changed: one wallet leg {key, membershipId,
 * delta}; an effect on account "wallet:<id>" at the emitting service. */
static bool wallet_unchanged(const struct fv *ev)
{
	const char *key = cstr(ev, "key");
	return !key || !*key || !i64_or(ev, "delta", 0);
}

static int wallet_leg(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
		      char *err, size_t errlen)
{
	(void)line, (void)err, (void)errlen;
	struct fl_chk_effect *e = elem;
	if (e->participant < 0)
		e->participant = str_field(h, ev, "service");
	if (e->participant < 0)
		e->participant = fl_chk_intern(h, "money");
	char idb[64], acc[96];
	const char *id = fv_text(ev, "membershipId", idb, sizeof(idb));
	snprintf(acc, sizeof(acc), "wallet:%s", id ? id : "?");
	e->from = -1;
	e->to = fl_chk_intern(h, acc);
	e->amount = i64_or(ev, "delta", 0);
	return 0;
}

/* "start" and "end", or the time it was recorded ("t") and "duration_ms". */
static int call_times(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
		      char *err, size_t errlen)
{
	struct fl_chk_call *c = elem;
	int64_t start = 0, end = 0;
	if (!get_i64(ev, "end", &end)) {
		int rc = need_time(ev, "t", &end, line, "breaker_call", err, errlen);
		if (rc)
			return rc;
	}
	if (!get_i64(ev, "start", &start))
		start = end - (int64_t)(fv_num(ev, "duration_ms", 0) * 1e6);
	c->start = start;
	c->end = end < start ? start : end;
	fl_chk_note_time(h, start);
	fl_chk_note_time(h, end);
	return 0;
}

/* "end" defaults to "start", and is never before it. The request's key:
 * "key" when given, else its Idempotency-Key header, else the "key" query
 * parameter, else the path's last segment (a status query names it there). */
static int exchange_end(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
			char *err, size_t errlen)
{
	(void)line, (void)err, (void)errlen;
	struct fl_chk_exchange *x = elem;
	if (x->end < x->start)
		x->end = x->start;
	fl_chk_note_time(h, x->end);
	x->key = str_field(h, ev, "key");
	struct fv hd;
	char buf[512];
	const char *k = NULL;
	if (x->key < 0 && fv_sub(ev, "req_headers", &hd) == 0)
		k = fv_str(&hd, "idempotency-key", buf, sizeof(buf));
	const char *q = x->key < 0 && !k ? cstr(ev, "query") : NULL;
	const char *kq = q ? strstr(q, "key=") : NULL;
	while (kq && kq != q && kq[-1] != '&')
		kq = strstr(kq + 1, "key=");
	if (kq) {
		size_t n = strcspn(kq + 4, "&");
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1),
			 kq + 4);
		k = buf;
	}
	const char *p = x->key < 0 && !k ? cstr(ev, "path") : NULL;
	if (p && strrchr(p, '/') && strrchr(p, '/')[1])
		k = strrchr(p, '/') + 1;
	if (k && *k)
		x->key = fl_chk_intern(h, k);
	return 0;
}

/* The proxy's own record of a fault on a link (toxic_added, toxic_removed):
 * a fault window on the link, "what" the toxic's type, paired by its name. */
static int toxic_read(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
		      char *err, size_t errlen)
{
	(void)line, (void)err, (void)errlen;
	struct fl_chk_fault *f = elem;
	struct fv t;
	if (fv_sub(ev, "toxic", &t) < 0)
		return 0;
	f->what = str_field(h, &t, "type");
	char name[300], buf[256];
	const char *n = fv_text(&t, "name", buf, sizeof(buf));
	if (n) {
		snprintf(name, sizeof(name), "toxic:%s", n);
		f->id = fl_chk_intern(h, name);
	}
	return 0;
}

static int snapshot_accounts(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
			     char *err, size_t errlen)
{
	(void)h;
	return read_accounts(ev, "accounts", elem, false, line, err, errlen);
}

/* timed_out from the error text; "start" defaults to t - latency. */
static int probe_timing(struct fl_chk_history *h, const struct fv *ev, void *elem, long line,
			char *err, size_t errlen)
{
	(void)h, (void)line, (void)err, (void)errlen;
	struct fl_chk_probe *p = elem;
	const char *e = cstr(ev, "error");
	p->timed_out = e && strstr(e, "timeout") != NULL;
	p->start = i64_or(ev, "start", p->t - p->latency_ns);
	return 0;
}

/* --- the table --- */

#define T struct fl_chk_op
static const struct field op_fields[] = {
	ENUM("type", type, op_types, -1),
	TIME("t", t),
	LINE,
	STR("process", process),
	STR("f", f),
	{ .key = "saga_id", .kind = FK_STR, .in_value = true, AT(saga) },
	{ .key = "key", .kind = FK_STR, .in_value = true, AT(key) },
	{ .key = "service", .kind = FK_STR, .in_value = true, AT(service) },
	{ .key = "breaker", .kind = FK_STR, .in_value = true, AT(breaker) },
	{ .key = "error", .alt = "reason", .kind = FK_STR, .in_value = true, AT(error) },
	{ .key = "state", .kind = FK_STR, .in_value = true, AT(state) },
	{ .key = "status", .kind = FK_INT, .in_value = true, AT(status) },
	{ .key = "amount", .kind = FK_I64, .in_value = true, AT(amount) },
	I64(NULL, pair, -1),
	{ .kind = FK_CALL, .in_value = true, .fn = op_read },
	{ 0 },
};
#undef T

#define T struct fl_chk_saga_ev
static const struct field saga_fields[] = {
	TIME("t", t),
	{ .key = "saga_id", .kind = FK_STR, .def = -1, AT(saga) },
	LINE,
	KIND(kind),
	{ .key = "step", .kind = FK_STEP, AT(step) },
	{ .key = "step", .kind = FK_NAME, AT(step_name) },
	CALL(saga_comp),
	ISTRUE("pivot", pivot),
	{ .key = "effect", .kind = FK_TRISTATE, AT(effect) },
	{ .key = "definite", .kind = FK_TRISTATE, AT(definite) },
	STR("key", key),
	STR("participant", participant),
	STR("state", state),
	{ .key = "reason", .kind = FK_STR_SET, AT(reason) },
	STR("outcome", outcome),
	{ .key = "saga_type", .alt = "type", .kind = FK_STR, AT(saga_type) },
	STR("request_key", request_key),
	{ .key = "pivot_step", .kind = FK_STEP, AT(pivot_step) },
	OPT_I64("amount", amount, has_amount),
	I64("deadline_ms", deadline_ms, -1),
	{ 0 },
};
#undef T

#define T struct fl_chk_effect
static const struct field effect_fields[] = {
	TIME("t", t),
	LINE,
	STR("participant", participant),
	STR("key", key),
	STR("saga_id", saga),
	CALL(effect_saga),
	STR("from", from),
	STR("to", to),
	I64("amount", amount, 0),
	{ 0 },
};
static const struct field wallet_fields[] = { CALL(wallet_leg), { 0 } };
#undef T

#define T struct fl_chk_call
static const struct field call_fields[] = {
	CALL(call_times),
	ENUM("outcome", outcome, call_outcomes, -1),
	LINE,
	STR("breaker", breaker),
	STR("service", service),
	{ 0 },
};
#undef T

#define T struct fl_chk_transition
static const struct field transition_fields[] = {
	TIME("t", t),
	LINE,
	STR("breaker", breaker),
	STR("service", service),
	{ .key = "from",
	  .kind = FK_ENUM,
	  AT(from),
	  .names = breaker_states,
	  .def = FL_BR_OTHER,
	  .nocase = true },
	{ .key = "to",
	  .kind = FK_ENUM,
	  AT(to),
	  .names = breaker_states,
	  .def = FL_BR_OTHER,
	  .nocase = true },
	{ 0 },
};
#undef T

#define T struct fl_chk_exchange
static const struct field exchange_fields[] = {
	TIME("start", start),
	I64("end", end, INT64_MIN),
	LINE,
	STR("link", link),
	STR("method", method),
	STR("path", path),
	STR("error", error),
	INT("status", status, 0),
	STR("fault", fault),
	CALL(exchange_end),
	{ 0 },
};
#undef T

#define T struct fl_chk_conn
static const struct field conn_fields[] = {
	TIME("t", t), LINE, STR("link", link), KIND(open), STR("error", error), { 0 },
};
#undef T

#define T struct fl_chk_snapshot
static const struct field snapshot_fields[] = {
	TIME("t", t),
	LINE,
	KIND(kind),
	ISTRUE("quiescent", quiescent),
	OPT_I64("initial_total", initial_total, has_total),
	CALL(snapshot_accounts),
	{ 0 },
};
#undef T

#define T struct fl_chk_fault
static const struct field fault_fields[] = {
	TIME("t", t),
	ENUM("action", added, fault_actions, -1),
	LINE,
	STR("what", what),
	STR("target", target),
	STR("id", id),
	{ 0 },
};
#undef T

#define T struct fl_chk_fault
static const struct field toxic_fields[] = {
	TIME("t", t),	  LINE,	 KIND(added), STR("link", target), STR("id", id), STR("what", what),
	CALL(toxic_read), { 0 },
};
#undef T

#define T struct fl_chk_process
static const struct field process_fields[] = {
	TIME("t", t),
	LINE,
	STR("service", service),
	STR("action", action),
	INT("exit_code", exit_code, -1),
	INT("signal", signal, 0),
	I64("signalled", signalled, 0),
	{ 0 },
};
#undef T

#define T struct fl_chk_probe
static const struct field probe_fields[] = {
	TIME("t", t),
	ENUM("kind", kind, probe_kinds, -1),
	LINE,
	STR("service", service),
	ISTRUE("ok", ok),
	ISTRUE("held", held),
	INT("status", status, 0),
	{ .key = "latency_ms", .kind = FK_MS, AT(latency_ns) },
	CALL(probe_timing),
	{ 0 },
};
#undef T

#define T struct fl_chk_probe_tr
static const struct field probe_tr_fields[] = {
	TIME("t", t),
	ENUM("kind", kind, probe_kinds, -1),
	ENUM("state", passing, probe_states, -1),
	LINE,
	STR("service", service),
	STR("action", action),
	{ 0 },
};
#undef T

#define T struct fl_chk_cqrs
static const struct field cqrs_fields[] = {
	TIME("t", t),
	{ .key = "read_model", .kind = FK_NEED_I64, AT(read_model) },
	{ .key = "wallet_sum", .kind = FK_NEED_I64, AT(wallet_sum) },
	LINE,
	STR("address", address),
	OPT_I64("aggregation", aggregation, has_agg),
	{ 0 },
};
#undef T

#define T struct fl_chk_counts
static const struct field counts_fields[] = {
	TIME("t", t),
	{ .key = "counts", .kind = FK_OBJECT, AT(counts) },
	LINE,
	{ 0 },
};
#undef T

#define T int64_t
static const struct field quiescence_fields[] = { { .key = "t", .kind = FK_TIME, .off = 0 },
						  { 0 } };
#undef T

/* A client operation: a line with "type" and "process" and no "event". */
static const struct event_type op_type = { "operation", VEC(ops), .value = true,
					   .fields = op_fields };

#define SAGA(nm, k)                                                                                \
	{                                                                                          \
		nm, VEC(saga), .kind = k, .fields = saga_fields                                    \
	}
static const struct event_type event_types[] = {
	SAGA("saga_started", FL_SAGA_STARTED),
	SAGA("step_requested", FL_STEP_REQUESTED),
	SAGA("step_succeeded", FL_STEP_SUCCEEDED),
	SAGA("step_failed", FL_STEP_FAILED),
	SAGA("step_unknown", FL_STEP_UNKNOWN),
	SAGA("step_resolved", FL_STEP_RESOLVED),
	SAGA("compensation_requested", FL_COMP_REQUESTED),
	SAGA("compensation_succeeded", FL_COMP_SUCCEEDED),
	SAGA("saga_ended", FL_SAGA_ENDED),
	SAGA("saga_deferred", FL_SAGA_DEFERRED),
	SAGA("saga_resumed", FL_SAGA_RESUMED),
	{ "effect", VEC(effects), .fields = effect_fields },
	{ "money_changed", VEC(effects), .skip = wallet_unchanged, .fields = effect_fields,
	  .more = wallet_fields },
	{ "breaker_call", VEC(calls), .fields = call_fields },
	{ "breaker_transition", VEC(transitions), .fields = transition_fields },
	{ "http_exchange", VEC(exchanges), .fields = exchange_fields },
	{ "connection_open", VEC(conns), .kind = 1, .fields = conn_fields },
	{ "connection_close", VEC(conns), .kind = 0, .fields = conn_fields },
	{ "money_snapshot", VEC(snaps), .kind = FL_SNAP_MONEY, .fields = snapshot_fields },
	{ "bank_snapshot", VEC(snaps), .kind = FL_SNAP_BANK, .fields = snapshot_fields },
	{ "fault", VEC(faults), .fields = fault_fields },
	{ "toxic_added", VEC(faults), .kind = 1, .fields = toxic_fields },
	{ "toxic_removed", VEC(faults), .kind = 0, .fields = toxic_fields },
	{ "process", VEC(procs), .fields = process_fields },
	{ "probe", VEC(probes), .fields = probe_fields },
	{ "probe_transition", VEC(probe_trs), .fields = probe_tr_fields },
	{ "cqrs_sample", VEC(cqrs), .fields = cqrs_fields },
	{ "failure_counts", VEC(counts), .fields = counts_fields },
	{ "quiescence", VEC(quiescence), .fields = quiescence_fields },
};

/* --- the one adder --- */

/* "a|b|c" of an enum's names, for messages. */
static const char *names_list(const struct names *n, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (; n->s && o < len; n++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "|" : "", n->s);
	return buf;
}

static int enum_value(const struct field *f, const char *s)
{
	for (const struct names *n = f->names; s && n->s; n++)
		if (f->nocase ? !strcasecmp(s, n->s) : !strcmp(s, n->s))
			return n->v;
	return -1;
}

/* Read one field of ev into the element at e. `named_by` is the key that
 * named the event ("event" or "type"): never read as an alternative key. */
static int read_field(struct fl_chk_history *h, const struct event_type *ty, const struct field *f,
		      const struct fv *ev, const char *named_by, char *e, long line, char *err,
		      size_t errlen)
{
	const char *k = f->key;
	const char *alt = f->alt && named_by && !strcmp(f->alt, named_by) ? NULL : f->alt;
	char *at = e + f->off;
	int64_t i = 0;
	switch ((enum fk)f->kind) {
	case FK_END: break;
	case FK_LINE: memcpy(at, &line, sizeof(long)); break;
	case FK_KIND: *(uint8_t *)at = ty->kind; break;
	case FK_TIME:
		if (!get_i64(ev, k, &i))
			return fl_err_set(err, errlen, FL_EPARSE,
					  "line %ld: %s event without a numeric \"%s\"", line,
					  ty->name, k);
		memcpy(at, &i, sizeof(i));
		fl_chk_note_time(h, i);
		break;
	case FK_STR:
	case FK_STR_SET:
	case FK_NAME: {
		int32_t id = -1;
		if (k && (f->kind != FK_NAME || fv_is(ev, k, 's')))
			id = f->kind == FK_STR_SET ? nonempty_field(h, ev, k) : str_field(h, ev, k);
		if (id < 0 && alt)
			id = str_field(h, ev, alt);
		if (id < 0 && f->def < 0) /* required */
			return fl_err_set(err, errlen, FL_EPARSE, "line %ld: %s without \"%s\"",
					  line, ty->name, f->key);
		memcpy(at, &id, sizeof(id));
		break;
	}
	case FK_I64:
		i = k ? i64_or(ev, k, f->def) : f->def;
		memcpy(at, &i, sizeof(i));
		break;
	case FK_INT: {
		int v = (int)(k ? i64_or(ev, k, f->def) : f->def);
		memcpy(at, &v, sizeof(v));
		break;
	}
	case FK_STEP: {
		i = k ? i64_or(ev, k, 0) : 0;
		int16_t v = (int16_t)(i < 0 || i > 1000 ? 0 : i);
		memcpy(at, &v, sizeof(v));
		break;
	}
	case FK_OPT_I64:
	case FK_NEED_I64: {
		uint8_t has = k && get_i64(ev, k, &i);
		if (!has && f->kind == FK_NEED_I64)
			return fl_err_set(err, errlen, FL_EPARSE,
					  "line %ld: %s needs an integer \"%s\"", line, ty->name,
					  f->key);
		if (!has)
			i = 0;
		memcpy(at, &i, sizeof(i));
		if (f->kind == FK_OPT_I64)
			*(uint8_t *)(e + f->has) = has;
		break;
	}
	case FK_MS:
		i = k ? (int64_t)(fv_num(ev, k, 0) * 1e6) : 0;
		memcpy(at, &i, sizeof(i));
		break;
	case FK_TRUE: *(uint8_t *)at = k && fv_true(ev, k); break;
	case FK_TRISTATE:
		*(uint8_t *)at = !k ? 0 : fv_is(ev, k, 't') ? 2 : fv_is(ev, k, 'f') ? 1 : 0;
		break;
	case FK_ENUM: {
		int v = enum_value(f, k ? cstr(ev, k) : NULL);
		if (v < 0 && f->def < 0) {
			char list[128];
			return fl_err_set(err, errlen, FL_EPARSE, "line %ld: %s \"%s\" must be %s",
					  line, ty->name, f->key,
					  names_list(f->names, list, sizeof(list)));
		}
		*(uint8_t *)at = (uint8_t)(v < 0 ? f->def : v);
		break;
	}
	case FK_OBJECT: {
		json_t *o = k && fv_is(ev, k, 'o') ? fv_json(ev, k) : NULL;
		if (!json_is_object(o)) {
			json_decref(o);
			return fl_err_set(err, errlen, FL_EPARSE,
					  "line %ld: %s without a \"%s\" object", line, ty->name,
					  f->key);
		}
		memcpy(at, &o, sizeof(o));
		break;
	}
	case FK_CALL: return f->fn(h, ev, e, line, err, errlen);
	}
	return 0;
}

/* The event ev of type ty into a new element of its vector. On an error
 * the element is taken back (with any object it held). */
static int add_event(struct fl_chk_history *h, const struct event_type *ty, const struct fv *ev,
		     const char *named_by, long line, char *err, size_t errlen)
{
	if (ty->skip && ty->skip(ev)) {
		h->ignored++;
		return 0;
	}
	char *base = (char *)h;
	size_t *n = (size_t *)(base + ty->n);
	char *e =
		fl_chk_vec_push((void **)(base + ty->vec), n, (size_t *)(base + ty->cap), ty->size);
	if (!e)
		return NOMEM(err, errlen);
	struct fv value;
	if (ty->value)
		fv_sub(ev, "value", &value);
	int rc = 0;
	for (const struct field *list = ty->fields; list && rc == 0;
	     list = list == ty->fields ? ty->more : NULL)
		for (const struct field *f = list; f->kind != FK_END && rc == 0; f++)
			rc = read_field(h, ty, f, f->in_value ? &value : ev, named_by, e, line, err,
					errlen);
	if (rc) {
		for (const struct field *f = ty->fields; f->kind != FK_END; f++)
			if (f->kind == FK_OBJECT)
				json_decref(*(json_t **)(e + f->off));
		(*n)--;
	}
	return rc;
}

/* One event as a flat view. */
static int add_view(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
		    size_t errlen)
{
	h->sealed = false;
	h->lines++;
	char nb[64];
	const char *named_by = "event";
	const char *name = fv_str(ev, "event", nb, sizeof(nb));
	if (!name) {
		/* Service outboxes name their events in "type"; clients' operations
		 * have a "type" and a "process". */
		named_by = "type";
		name = fv_str(ev, "type", nb, sizeof(nb));
		if (name && fv_get(ev, "process"))
			return add_event(h, &op_type, ev, NULL, line, err, errlen);
		if (!name) {
			h->ignored++;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (!strcmp(name, event_types[i].name))
			return add_event(h, &event_types[i], ev, named_by, line, err, errlen);
	h->ignored++;
	return 0;
}

/* One line of text: the flat view when it takes it, else jansson decides
 * (an error with its message, or a canonical re-serialisation). */
int fl_chk_add_text(struct fl_chk_history *h, const char *text, size_t len, long line, char *err,
		    size_t errlen)
{
	struct fv *ev = malloc(sizeof(*ev));
	if (!ev)
		return NOMEM(err, errlen);
	int rc;
	if (fv_parse(text, len, ev) == 0) {
		rc = add_view(h, ev, line, err, errlen);
		free(ev);
		return rc;
	}
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	if (!j) {
		free(ev);
		return fl_err_set(err, errlen, FL_EPARSE, "line %ld: column %d: %s", line,
				  je.column, je.text);
	}
	char *again = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!again || fv_parse(again, strlen(again), ev) < 0) {
		rc = fl_err_set(
			err, errlen, FL_EPARSE,
			"line %ld: an event object with more than %d fields or escaped keys", line,
			FV_MAX);
	} else {
		rc = add_view(h, ev, line, err, errlen);
	}
	free(again);
	free(ev);
	return rc;
}

int fl_chk_history_add(struct fl_chk_history *h, json_t *ev, long line, char *err, size_t errlen)
{
	if (!json_is_object(ev))
		return fl_err_set(err, errlen, FL_EPARSE, "line %ld: not a JSON object", line);
	char *text = json_dumps(ev, JSON_COMPACT);
	if (!text)
		return NOMEM(err, errlen);
	int rc = fl_chk_add_text(h, text, strlen(text), line, err, errlen);
	free(text);
	return rc;
}

const char *fl_saga_ev_str(int kind)
{
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (event_types[i].fields == saga_fields && event_types[i].kind == kind)
			return event_types[i].name;
	return "?";
}
