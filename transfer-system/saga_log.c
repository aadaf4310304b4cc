/* remittance's saga log row and step rows (saga_save) and the JSON shape
 * of a saga (saga_json). The state machine that calls them is saga.c. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "transfer-system/remit.h"

int saga_save(struct saga *g)
{
	struct rt_svc *s = g->s;
	sqlite3_stmt *st = rt_stmt(s, "UPDATE sagas SET state = ?2, reason = ?3, cur = ?4, deadline_ms = ?5,"
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
	st = rt_stmt(s, "INSERT OR REPLACE INTO steps(saga_id, idx, name, fwd, comp, maybe_sent, attempts,"
			" comp_attempts, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	for (int i = 0; i < g->nsteps; i++) {
		const struct saga_step *x = &g->st[i];
		if (memcmp(x, &g->saved[i], sizeof(*x)) == 0)
			continue;	/* unchanged since the last write */
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
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:s}", "step", g->defs[i].name,
				      "participant", g->defs[i].participant, "fwd", g->st[i].fwd, "key", fk,
				      "pivot", g->defs[i].pivot, "compensable", g->defs[i].compensable,
				      "attempts", g->st[i].attempts, "result", g->st[i].result);
		if (g->defs[i].compensable) {
			json_object_set_new(o, "comp", json_string(g->st[i].comp));
			json_object_set_new(o, "comp_key", json_string(ck));
		}
		json_array_append_new(steps, o);
	}
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:o}",
			 "saga_id", g->id, "state", g->state, "reason", g->reason, "remittanceType",
			 g->type == SAGA_TOPUP ? 2 : g->type, "type", saga_type_name(g->type),
			 "fromMembershipId", g->from, "toMembershipId", g->to, "bankName", g->bank,
			 "bankAccountNumber", g->account, "amount", (json_int_t)g->amount, "trace_id",
			 g->trace, "created_ms", (json_int_t)g->created_ms, "deadline_ms",
			 (json_int_t)g->deadline_ms, "deadlineMs", (json_int_t)saga_deadline_len(g), "steps", steps);
}
