/* A remittance saga as data: the steps of each saga type, their names and
 * keys, and the three ways a saga is written down: its log rows in SQLite
 * (saga_save), its outbox events (saga_event) and its JSON shape
 * (saga_json). How a saga moves from step to step is saga.c. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "transfer-system/remit.h"

static const struct step_def internal_steps[] = {
	{ "validate", K_VALIDATE, "membership", false, false },
	{ "debit", K_DEBIT, "money", true, false },
	{ "credit", K_CREDIT, "money", false, true },
};
static const struct step_def external_steps[] = {
	{ "validate", K_VALIDATE, "banking", false, false },
	{ "debit", K_DEBIT, "money", true, false },
	{ "firmbank", K_FIRMBANK, "banking", false, true },
	{ "settle", K_SETTLE, "money", false, false },
};
static const struct step_def topup_steps[] = {
	{ "validate", K_VALIDATE, "banking", false, false },
	{ "firmbank", K_FIRMBANK, "banking", false, true },
	{ "credit", K_CREDIT, "money", false, false },
};

const struct step_def *saga_defs(int type, int *n)
{
	switch (type) {
	case SAGA_INTERNAL: *n = 3; return internal_steps;
	case SAGA_EXTERNAL: *n = 4; return external_steps;
	default: *n = 3; return topup_steps;
	}
}

const char *saga_type_name(int type)
{
	return type == SAGA_INTERNAL ? "internal" : type == SAGA_EXTERNAL ? "external" : "topup";
}

bool saga_terminal(const char *st)
{
	return strcmp(st, "COMPLETED") == 0 || strcmp(st, "COMPENSATED") == 0 ||
	       strcmp(st, "FAILED") == 0 || strcmp(st, "STUCK") == 0;
}

void saga_step_key(const struct saga *g, int step, const char *dir, char *out, size_t n)
{
	snprintf(out, n, "%s:%s:%s", g->id, g->defs[step].name, dir);
}

int64_t saga_deadline_len(const struct saga *g)
{
	return g->deadline_len_ms > 0 ? g->deadline_len_ms : g->s->o.saga_deadline_ms;
}

void saga_event(struct saga *g, const char *type, int step, const char *dir, json_t *extra)
{
	json_t *f = json_pack("{s:s, s:s, s:I, s:s}", "saga_id", g->id, "saga_type",
			      saga_type_name(g->type), "amount", (json_int_t)g->amount, "trace_id",
			      g->trace);
	if (step >= 0) {
		char key[256];
		saga_step_key(g, step, dir, key, sizeof(key));
		json_object_set_new(f, "step", json_string(g->defs[step].name));
		json_object_set_new(f, "dir", json_string(dir));
		json_object_set_new(f, "key", json_string(key));
		json_object_set_new(f, "participant", json_string(g->defs[step].participant));
		json_object_set_new(f, "attempt",
				    json_integer(strcmp(dir, "comp") == 0
							 ? g->st[step].comp_attempts
							 : g->st[step].attempts));
		json_object_set_new(f, "pivot", json_boolean(g->defs[step].pivot));
	}
	if (extra)
		json_object_update(f, extra);
	rt_event(g->s, type, f);
	json_decref(f);
}

int saga_save(struct saga *g)
{
	struct rt_svc *s = g->s;
	sqlite3_stmt *st =
		rt_stmt(s, "UPDATE sagas SET state = ?2, reason = ?3, cur = ?4, deadline_ms = ?5,"
			   " bank = ?6, account = ?7, updated_ms = ?8 WHERE id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, g->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, g->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, g->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, g->cur);
	sqlite3_bind_int64(st, 5, g->deadline_ms);
	sqlite3_bind_text(st, 6, g->bank, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, g->account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, fl_wall_ns() / 1000000);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	st = rt_stmt(
		s,
		"INSERT OR REPLACE INTO steps(saga_id, idx, name, fwd, comp, maybe_sent, attempts,"
		" comp_attempts, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	for (int i = 0; i < g->nsteps; i++) {
		const struct saga_step *x = &g->st[i];
		if (memcmp(x, &g->saved[i], sizeof(*x)) == 0)
			continue; /* unchanged since the last write */
		g->saved[i] = *x;
		sqlite3_bind_text(st, 1, g->id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, i);
		sqlite3_bind_text(st, 3, g->defs[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, x->fwd, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, x->comp, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, x->maybe_sent);
		sqlite3_bind_int(st, 7, x->attempts);
		sqlite3_bind_int(st, 8, x->comp_attempts);
		sqlite3_bind_text(st, 9, x->result, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

json_t *saga_json(const struct saga *g)
{
	json_t *steps = json_array();
	for (int i = 0; i < g->nsteps; i++) {
		char fk[256], ck[256];
		saga_step_key(g, i, "fwd", fk, sizeof(fk));
		saga_step_key(g, i, "comp", ck, sizeof(ck));
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:s}", "step",
				      g->defs[i].name, "participant", g->defs[i].participant, "fwd",
				      g->st[i].fwd, "key", fk, "pivot", g->defs[i].pivot,
				      "compensable", g->defs[i].compensable, "attempts",
				      g->st[i].attempts, "result", g->st[i].result);
		if (g->defs[i].compensable) {
			json_object_set_new(o, "comp", json_string(g->st[i].comp));
			json_object_set_new(o, "comp_key", json_string(ck));
		}
		json_array_append_new(steps, o);
	}
	return json_pack(
		"{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:o}",
		"saga_id", g->id, "state", g->state, "reason", g->reason, "remittanceType",
		g->type == SAGA_TOPUP ? 2 : g->type, "type", saga_type_name(g->type),
		"fromMembershipId", g->from, "toMembershipId", g->to, "bankName", g->bank,
		"bankAccountNumber", g->account, "amount", (json_int_t)g->amount, "trace_id",
		g->trace, "created_ms", (json_int_t)g->created_ms, "deadline_ms",
		(json_int_t)g->deadline_ms, "deadlineMs", (json_int_t)saga_deadline_len(g), "steps",
		steps);
}
