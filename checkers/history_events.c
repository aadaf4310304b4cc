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

static int parse_state(const char *s)
{
	if (!s)
		return FL_BR_OTHER;
	if (!strcasecmp(s, "CLOSED"))
		return FL_BR_CLOSED;
	if (!strcasecmp(s, "OPEN"))
		return FL_BR_OPEN;
	if (!strcasecmp(s, "HALF_OPEN") || !strcasecmp(s, "half-open"))
		return FL_BR_HALF_OPEN;
	return FL_BR_OTHER;
}

static int parse_probe_kind(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "liveness"))
		return FL_PROBE_LIVENESS;
	if (!strcmp(s, "readiness"))
		return FL_PROBE_READINESS;
	if (!strcmp(s, "startup"))
		return FL_PROBE_STARTUP;
	return -1;
}

#define NOMEM(err, errlen) fl_err_set(err, errlen, FL_ENOMEM, "out of memory")

/* --- one event per kind --- */

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
static int read_accounts(const struct fv *ev, const char *key, struct fl_chk_snapshot *s,
			 bool lazy, long line, char *err, size_t errlen)
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
				  "{\"account\", \"balance\"})", line, key);
	}
	const char *k;
	json_t *v;
	int64_t sum = 0;
	json_object_foreach(a, k, v) {
		if (!json_is_integer(v)) {
			json_decref(a);
			return fl_err_set(err, errlen, FL_EPARSE,
					  "line %ld: snapshot account \"%s\" is not an integer", line, k);
		}
		sum += json_integer_value(v);
	}
	s->sum = sum;
	s->accounts = a;
	return 0;
}

static int add_op(struct fl_chk_history *h, const struct fv *ev, long line, const char *type, char *err,
		  size_t errlen)
{
	static const char *const types[] = { "invoke", "ok", "fail", "info" };
	int ty = -1;
	for (int i = 0; i < 4; i++)
		if (!strcmp(type, types[i]))
			ty = i;
	if (ty < 0)
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: operation type \"%s\" is not invoke/ok/fail/info", line,
				  type);
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "operation", err, errlen);
	if (rc)
		return rc;
	struct fl_chk_op *o = PUSH(h, ops);
	if (!o)
		return NOMEM(err, errlen);
	struct fv vv;
	fv_sub(ev, "value", &vv);
	const struct fv *v = &vv;
	o->t = t;
	o->line = line;
	o->type = (uint8_t)ty;
	o->process = str_field(h, ev, "process");
	o->f = str_field(h, ev, "f");
	o->saga = str_field(h, v, "saga_id");
	o->key = str_field(h, v, "key");
	o->service = str_field(h, v, "service");
	o->breaker = str_field(h, v, "breaker");
	o->error = str_field(h, v, "error");
	if (o->error < 0)
		o->error = str_field(h, v, "reason");
	o->state = str_field(h, v, "state");
	o->status = (int)i64_or(v, "status", 0);
	o->amount = i64_or(v, "amount", 0);
	o->pair = -1;
	fl_chk_note_time(h, t);
	/* A client's ok read of balances is a bank-test snapshot. */
	const char *acckey = fv_is(v, "accounts", 'o') ? "accounts"
			     : fv_is(v, "balances", 'o') ? "balances" : NULL;
	if (ty == FL_OP_OK && acckey) {
		struct fl_chk_snapshot *s = PUSH(h, snaps);
		if (!s)
			return NOMEM(err, errlen);
		s->t = t;
		s->line = line;
		s->kind = FL_SNAP_READ;
		s->has_total = get_i64(v, "total", &s->initial_total);
		return read_accounts(v, acckey, s, true, line, err, errlen);
	}
	return 0;
}

static const char *const saga_names[FL_SAGA_EV_KINDS] = {
	"saga_started",		  "step_requested", "step_succeeded",
	"step_failed",		  "step_unknown",   "step_resolved",
	"compensation_requested", "compensation_succeeded", "saga_ended",
	"saga_deferred",	  "saga_resumed",
};

static int add_saga(struct fl_chk_history *h, const struct fv *ev, long line, int kind, char *err,
		    size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, saga_names[kind], err, errlen);
	if (rc)
		return rc;
	int32_t saga = str_field(h, ev, "saga_id");
	if (saga < 0)
		return fl_err_set(err, errlen, FL_EPARSE, "line %ld: %s without \"saga_id\"", line,
				  saga_names[kind]);
	struct fl_chk_saga_ev *s = PUSH(h, saga);
	if (!s)
		return NOMEM(err, errlen);
	s->t = t;
	s->line = line;
	s->kind = (uint8_t)kind;
	s->saga = saga;
	int64_t step = i64_or(ev, "step", 0);
	s->step = (int16_t)(step < 0 || step > 1000 ? 0 : step);
	s->step_name = fv_is(ev, "step", 's') ? str_field(h, ev, "step") : -1;
	const char *dir = cstr(ev, "dir");
	s->comp = kind == FL_COMP_REQUESTED || kind == FL_COMP_SUCCEEDED ||
		  (dir && !strcmp(dir, "comp"));
	s->pivot = fv_true(ev, "pivot");
	s->effect = fv_is(ev, "effect", 't') ? 2 : fv_is(ev, "effect", 'f') ? 1 : 0;
	s->key = str_field(h, ev, "key");
	s->participant = str_field(h, ev, "participant");
	s->state = str_field(h, ev, "state");
	s->reason = nonempty_field(h, ev, "reason");
	s->outcome = str_field(h, ev, "outcome");
	s->saga_type = str_field(h, ev, "saga_type");
	if (s->saga_type < 0 && fv_get(ev, "event"))
		s->saga_type = str_field(h, ev, "type");
	s->request_key = str_field(h, ev, "request_key");
	int64_t ps = i64_or(ev, "pivot_step", 0);
	s->pivot_step = (int16_t)(ps < 0 || ps > 1000 ? 0 : ps);
	s->has_amount = (uint8_t)get_i64(ev, "amount", &s->amount);
	if (!s->has_amount)
		s->amount = 0;
	s->deadline_ms = i64_or(ev, "deadline_ms", -1);
	fl_chk_note_time(h, t);
	return 0;
}

static int add_effect(struct fl_chk_history *h, const struct fv *ev, long line, char *err, size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "effect", err, errlen);
	if (rc)
		return rc;
	struct fl_chk_effect *e = PUSH(h, effects);
	if (!e)
		return NOMEM(err, errlen);
	e->t = t;
	e->line = line;
	e->participant = str_field(h, ev, "participant");
	e->key = str_field(h, ev, "key");
	e->saga = str_field(h, ev, "saga_id");
	if (e->saga < 0 && e->key >= 0) {
		const char *k = fl_chk_str(h, e->key);
		const char *colon = strchr(k, ':');
		if (colon) {
			char *p = strndup(k, (size_t)(colon - k));
			if (!p)
				return NOMEM(err, errlen);
			e->saga = fl_chk_intern(h, p);
			free(p);
		}
	}
	e->from = str_field(h, ev, "from");
	e->to = str_field(h, ev, "to");
	e->amount = i64_or(ev, "amount", 0);
	fl_chk_note_time(h, t);
	return 0;
}

/* The reference system's money_changed: one wallet leg {key, membershipId,
 * delta}; an effect on account "wallet:<id>" at the emitting service. */
static int add_wallet_change(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
			     size_t errlen)
{
	const char *key = cstr(ev, "key");
	int64_t delta = i64_or(ev, "delta", 0);
	if (!key || !*key || !delta) {
		h->ignored++;
		return 0;
	}
	int rc = add_effect(h, ev, line, err, errlen);
	if (rc)
		return rc;
	struct fl_chk_effect *e = &h->effects[h->n_effects - 1];
	if (e->participant < 0)
		e->participant = str_field(h, ev, "service");
	if (e->participant < 0)
		e->participant = fl_chk_intern(h, "money");
	char idb[64], acc[96];
	const char *id = fv_text(ev, "membershipId", idb, sizeof(idb));
	snprintf(acc, sizeof(acc), "wallet:%s", id ? id : "?");
	e->from = -1;
	e->to = fl_chk_intern(h, acc);
	e->amount = delta;
	return 0;
}

static int add_call(struct fl_chk_history *h, const struct fv *ev, long line, char *err, size_t errlen)
{
	int64_t start = 0, end = 0;
	/* "start" and "end", or the time it was recorded ("t") and "duration_ms". */
	if (!get_i64(ev, "end", &end)) {
		int rc = need_time(ev, "t", &end, line, "breaker_call", err, errlen);
		if (rc)
			return rc;
	}
	if (!get_i64(ev, "start", &start))
		start = end - (int64_t)(fv_num(ev, "duration_ms", 0) * 1e6);
	const char *oc = cstr(ev, "outcome");
	int outcome = !oc ? -1
		      : !strcmp(oc, "success") ? FL_CALL_SUCCESS
		      : !strcmp(oc, "failure") ? FL_CALL_FAILURE
		      : !strcmp(oc, "slow") ? FL_CALL_SLOW
		      : !strcmp(oc, "rejected") ? FL_CALL_REJECTED : -1;
	if (outcome < 0)
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: breaker_call \"outcome\" must be "
				  "success|failure|slow|rejected", line);
	struct fl_chk_call *c = PUSH(h, calls);
	if (!c)
		return NOMEM(err, errlen);
	c->start = start;
	c->end = end < start ? start : end;
	c->line = line;
	c->breaker = str_field(h, ev, "breaker");
	c->service = str_field(h, ev, "service");
	c->outcome = (uint8_t)outcome;
	fl_chk_note_time(h, start);
	fl_chk_note_time(h, end);
	return 0;
}

static int add_transition(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
			  size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "breaker_transition", err, errlen);
	if (rc)
		return rc;
	struct fl_chk_transition *x = PUSH(h, transitions);
	if (!x)
		return NOMEM(err, errlen);
	x->t = t;
	x->line = line;
	x->breaker = str_field(h, ev, "breaker");
	x->service = str_field(h, ev, "service");
	x->from = (uint8_t)parse_state(cstr(ev, "from"));
	x->to = (uint8_t)parse_state(cstr(ev, "to"));
	fl_chk_note_time(h, t);
	return 0;
}

static int add_exchange(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
			size_t errlen)
{
	int64_t start = 0, end = 0;
	int rc = need_time(ev, "start", &start, line, "http_exchange", err, errlen);
	if (rc)
		return rc;
	end = i64_or(ev, "end", start);
	struct fl_chk_exchange *x = PUSH(h, exchanges);
	if (!x)
		return NOMEM(err, errlen);
	x->start = start;
	x->end = end < start ? start : end;
	x->line = line;
	x->link = str_field(h, ev, "link");
	x->method = str_field(h, ev, "method");
	x->path = str_field(h, ev, "path");
	x->error = str_field(h, ev, "error");
	x->status = (int)i64_or(ev, "status", 0);
	fl_chk_note_time(h, start);
	fl_chk_note_time(h, x->end);
	return 0;
}

static int add_conn(struct fl_chk_history *h, const struct fv *ev, long line, int open, char *err,
		    size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "connection", err, errlen);
	if (rc)
		return rc;
	struct fl_chk_conn *c = PUSH(h, conns);
	if (!c)
		return NOMEM(err, errlen);
	c->t = t;
	c->line = line;
	c->link = str_field(h, ev, "link");
	c->open = (uint8_t)open;
	c->error = str_field(h, ev, "error");
	fl_chk_note_time(h, t);
	return 0;
}

static int add_snapshot(struct fl_chk_history *h, const struct fv *ev, long line, int kind,
			char *err, size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "snapshot", err, errlen);
	if (rc)
		return rc;
	struct fl_chk_snapshot *s = PUSH(h, snaps);
	if (!s)
		return NOMEM(err, errlen);
	s->t = t;
	s->line = line;
	s->kind = (uint8_t)kind;
	s->quiescent = fv_true(ev, "quiescent");
	s->has_total = get_i64(ev, "initial_total", &s->initial_total);
	fl_chk_note_time(h, t);
	rc = read_accounts(ev, "accounts", s, false, line, err, errlen);
	if (rc)
		h->n_snaps--;
	return rc;
}

static int add_fault(struct fl_chk_history *h, const struct fv *ev, long line, char *err, size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "fault", err, errlen);
	if (rc)
		return rc;
	const char *action = cstr(ev, "action");
	if (!action || (strcmp(action, "added") && strcmp(action, "removed")))
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: fault \"action\" must be \"added\" or \"removed\"",
				  line);
	struct fl_chk_fault *f = PUSH(h, faults);
	if (!f)
		return NOMEM(err, errlen);
	f->t = t;
	f->line = line;
	f->added = !strcmp(action, "added");
	f->what = str_field(h, ev, "what");
	f->target = str_field(h, ev, "target");
	f->id = str_field(h, ev, "id");
	fl_chk_note_time(h, t);
	return 0;
}

static int add_process(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
		       size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "process", err, errlen);
	if (rc)
		return rc;
	struct fl_chk_process *p = PUSH(h, procs);
	if (!p)
		return NOMEM(err, errlen);
	p->t = t;
	p->line = line;
	p->service = str_field(h, ev, "service");
	p->action = str_field(h, ev, "action");
	p->exit_code = (int)i64_or(ev, "exit_code", -1);
	p->signal = (int)i64_or(ev, "signal", 0);
	fl_chk_note_time(h, t);
	return 0;
}

static int add_probe(struct fl_chk_history *h, const struct fv *ev, long line, char *err, size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "probe", err, errlen);
	if (rc)
		return rc;
	int kind = parse_probe_kind(cstr(ev, "kind"));
	if (kind < 0)
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: probe \"kind\" must be liveness|readiness|startup",
				  line);
	struct fl_chk_probe *p = PUSH(h, probes);
	if (!p)
		return NOMEM(err, errlen);
	p->t = t;
	p->line = line;
	p->service = str_field(h, ev, "service");
	p->kind = (uint8_t)kind;
	p->ok = fv_true(ev, "ok");
	p->held = fv_true(ev, "held");
	p->status = (int)i64_or(ev, "status", 0);
	const char *e = cstr(ev, "error");
	p->timed_out = e && strstr(e, "timeout") != NULL;
	double ms = fv_num(ev, "latency_ms", 0);
	p->latency_ns = (int64_t)(ms * 1e6);
	p->start = i64_or(ev, "start", t - p->latency_ns);
	fl_chk_note_time(h, t);
	return 0;
}

static int add_probe_tr(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
			size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "probe_transition", err, errlen);
	if (rc)
		return rc;
	int kind = parse_probe_kind(cstr(ev, "kind"));
	const char *st = cstr(ev, "state");
	if (kind < 0 || !st || (strcmp(st, "passing") && strcmp(st, "failing")))
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: probe_transition needs \"kind\" and \"state\" "
				  "passing|failing", line);
	struct fl_chk_probe_tr *p = PUSH(h, probe_trs);
	if (!p)
		return NOMEM(err, errlen);
	p->t = t;
	p->line = line;
	p->service = str_field(h, ev, "service");
	p->kind = (uint8_t)kind;
	p->passing = !strcmp(st, "passing");
	p->action = str_field(h, ev, "action");
	fl_chk_note_time(h, t);
	return 0;
}

static int add_cqrs(struct fl_chk_history *h, const struct fv *ev, long line, char *err, size_t errlen)
{
	int64_t t = 0, rm = 0, ws = 0;
	int rc = need_time(ev, "t", &t, line, "cqrs_sample", err, errlen);
	if (rc)
		return rc;
	if (!get_i64(ev, "read_model", &rm) || !get_i64(ev, "wallet_sum", &ws))
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: cqrs_sample needs \"read_model\" and \"wallet_sum\"",
				  line);
	struct fl_chk_cqrs *c = PUSH(h, cqrs);
	if (!c)
		return NOMEM(err, errlen);
	c->t = t;
	c->line = line;
	c->address = str_field(h, ev, "address");
	c->read_model = rm;
	c->wallet_sum = ws;
	c->has_agg = get_i64(ev, "aggregation", &c->aggregation);
	fl_chk_note_time(h, t);
	return 0;
}

static int add_counts(struct fl_chk_history *h, const struct fv *ev, long line, char *err, size_t errlen)
{
	int64_t t = 0;
	int rc = need_time(ev, "t", &t, line, "failure_counts", err, errlen);
	if (rc)
		return rc;
	json_t *c = fv_is(ev, "counts", 'o') ? fv_json(ev, "counts") : NULL;
	if (!json_is_object(c)) {
		json_decref(c);
		return fl_err_set(err, errlen, FL_EPARSE,
				  "line %ld: failure_counts without a \"counts\" object", line);
	}
	struct fl_chk_counts *x = PUSH(h, counts);
	if (!x) {
		json_decref(c);
		return NOMEM(err, errlen);
	}
	x->t = t;
	x->line = line;
	x->counts = c;
	fl_chk_note_time(h, t);
	return 0;
}

/* One event as a flat view. */
static int add_view(struct fl_chk_history *h, const struct fv *ev, long line, char *err,
		    size_t errlen)
{
	h->sealed = false;
	h->lines++;
	char nb[64];
	const char *name = fv_str(ev, "event", nb, sizeof(nb));
	if (!name) {
		const char *type = fv_str(ev, "type", nb, sizeof(nb));
		if (type && fv_get(ev, "process"))
			return add_op(h, ev, line, type, err, errlen);
		/* Service outboxes name their events in "type". */
		name = type;
		if (!name) {
			h->ignored++;
			return 0;
		}
	}
	for (int k = 0; k < FL_SAGA_EV_KINDS; k++)
		if (!strcmp(name, saga_names[k]))
			return add_saga(h, ev, line, k, err, errlen);
	if (!strcmp(name, "effect"))
		return add_effect(h, ev, line, err, errlen);
	if (!strcmp(name, "money_changed"))
		return add_wallet_change(h, ev, line, err, errlen);
	if (!strcmp(name, "breaker_call"))
		return add_call(h, ev, line, err, errlen);
	if (!strcmp(name, "breaker_transition"))
		return add_transition(h, ev, line, err, errlen);
	if (!strcmp(name, "http_exchange"))
		return add_exchange(h, ev, line, err, errlen);
	if (!strcmp(name, "connection_open") || !strcmp(name, "connection_close"))
		return add_conn(h, ev, line, name[11] == 'o', err, errlen);
	if (!strcmp(name, "money_snapshot"))
		return add_snapshot(h, ev, line, FL_SNAP_MONEY, err, errlen);
	if (!strcmp(name, "bank_snapshot"))
		return add_snapshot(h, ev, line, FL_SNAP_BANK, err, errlen);
	if (!strcmp(name, "fault"))
		return add_fault(h, ev, line, err, errlen);
	if (!strcmp(name, "process"))
		return add_process(h, ev, line, err, errlen);
	if (!strcmp(name, "probe"))
		return add_probe(h, ev, line, err, errlen);
	if (!strcmp(name, "probe_transition"))
		return add_probe_tr(h, ev, line, err, errlen);
	if (!strcmp(name, "cqrs_sample"))
		return add_cqrs(h, ev, line, err, errlen);
	if (!strcmp(name, "failure_counts"))
		return add_counts(h, ev, line, err, errlen);
	if (!strcmp(name, "quiescence")) {
		int64_t t = 0;
		int rc = need_time(ev, "t", &t, line, "quiescence", err, errlen);
		if (rc)
			return rc;
		int64_t *q = PUSH(h, quiescence);
		if (!q)
			return NOMEM(err, errlen);
		*q = t;
		fl_chk_note_time(h, t);
		return 0;
	}
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
		return fl_err_set(err, errlen, FL_EPARSE, "line %ld: column %d: %s", line, je.column,
				  je.text);
	}
	char *again = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!again || fv_parse(again, strlen(again), ev) < 0) {
		rc = fl_err_set(err, errlen, FL_EPARSE,
				"line %ld: an event object with more than %d fields or escaped keys",
				line, FV_MAX);
	} else {
		rc = add_view(h, ev, line, err, errlen);
	}
	free(again);
	free(ev);
	return rc;
}

int fl_chk_history_add(struct fl_chk_history *h, json_t *ev, long line, char *err,
		       size_t errlen)
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
	return kind >= 0 && kind < FL_SAGA_EV_KINDS ? saga_names[kind] : "?";
}
