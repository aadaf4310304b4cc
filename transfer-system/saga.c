/* The saga state machine of remittance: forward steps up to the pivot,
 * compensation in reverse on a definite failure or an expired deadline,
 * forward-only retries after the pivot. The step row is written durably
 * before every outbound call and updated after the answer. An UNKNOWN
 * outcome (timeout, reset, 5xx) is never compensated directly: the step is
 * retried with its key, queried, or (past the deadline) fenced at the
 * participant, and only a resolved-applied step is compensated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "transfer-system/remit.h"

static int pivot_index(const struct saga *g)
{
	for (int i = 0; i < g->nsteps; i++)
		if (g->defs[i].pivot)
			return i;
	return g->nsteps;
}

/* --crash-at LABEL fires at the first LABEL; LABEL:STEP only at that step. */
static void crash_at(struct saga *g, const char *label, int step)
{
	char l[96];
	rt_crash_point(g->s, label);
	snprintf(l, sizeof(l), "%s:%s", label, g->defs[step].name);
	rt_crash_point(g->s, l);
}

/* --- transitions --- */

static void commit(struct saga *g)
{
	if (saga_save(g) != 0)
		fl_log(FL_LOG_ERROR, "remittance", "saga %s: cannot write the saga log", g->id);
	rt_commit(g->s);
}

/* The end of the saga into the log (inside the caller's transaction). */
static void end_log(struct saga *g, const char *state, const char *reason)
{
	snprintf(g->state, sizeof(g->state), "%s", state);
	if (reason && !g->reason[0])
		snprintf(g->reason, sizeof(g->reason), "%s", reason);
	json_t *x = json_pack("{s:s, s:s, s:s, s:s}", "state", g->state, "reason", g->reason,
			      "fromMembershipId", g->from, "toMembershipId", g->to);
	saga_event(g, "saga_ended", -1, NULL, x);
	json_decref(x);
}

/* After end_log is committed: say so, answer the waiters, free g. */
static void end_finish(struct saga *g)
{
	json_t *f = json_pack("{s:s, s:s, s:s}", "trace_id", g->trace, "saga_id", g->id, "state",
			      g->state);
	fl_logj(strcmp(g->state, "STUCK") == 0 ? FL_LOG_ERROR : FL_LOG_INFO, "remittance", f,
		"saga %s ended %s%s%s", g->id, g->state, g->reason[0] ? " " : "", g->reason);
	json_decref(f);
	remit_saga_settled(g);
}

static void end(struct saga *g, const char *state, const char *reason)
{
	rt_begin(g->s);
	end_log(g, state, reason);
	commit(g);
	end_finish(g);
}

static void retry_cb(struct rt_svc *s, void *arg)
{
	(void)s;
	struct saga *g = arg;
	g->busy = false;
	saga_drive(g);
}

static void retry_later(struct saga *g, int attempt)
{
	long ms = 50L << (attempt < 6 ? attempt : 6);
	if (ms > 2000)
		ms = 2000;
	ms += (long)fl_prng_range(&g->s->rng, 0, ms / 4);
	g->busy = true;
	if (rt_after(g->s, ms, retry_cb, g) != 0)
		g->busy = false;
}

static void start_compensation(struct saga *g, const char *reason);

static void deferred(struct saga *g)
{
	rt_begin(g->s);
	snprintf(g->state, sizeof(g->state), "DEFERRED");
	snprintf(g->reason, sizeof(g->reason), "circuit_open");
	g->deadline_ms = 0;
	json_t *x = json_pack("{s:s}", "reason", "circuit_open");
	saga_event(g, "saga_deferred", -1, NULL, x);
	json_decref(x);
	commit(g);
	remit_saga_settled(g);
}

void saga_resume(struct saga *g)
{
	rt_begin(g->s);
	snprintf(g->state, sizeof(g->state), "RUNNING");
	g->reason[0] = 0;
	g->deadline_ms = fl_wall_ns() / 1000000 + saga_deadline_len(g);
	saga_event(g, "saga_resumed", -1, NULL, NULL);
	commit(g);
	saga_drive(g);
}

/* --- calls --- */

struct call {
	struct saga *g;
	int step;
	int what; /* 0 forward, 1 compensation, 2 resolve (fence query), 3 status query */
};

/* An answer came for the call at arg (taken): its saga, no longer busy, and
 * the step in *step. */
static struct saga *call_done(void *arg, int *step)
{
	struct call *c = arg;
	struct saga *g = c->g;
	*step = c->step;
	free(c);
	g->busy = false;
	return g;
}

static void on_fwd(struct rt_svc *s, const struct rt_call_result *res, void *arg);
static void on_comp(struct rt_svc *s, const struct rt_call_result *res, void *arg);
static void on_resolve(struct rt_svc *s, const struct rt_call_result *res, void *arg);
static void on_query(struct rt_svc *s, const struct rt_call_result *res, void *arg);

static int call(struct saga *g, int step, int what, const char *peer, const char *method,
		const char *path, json_t *body, const char *key)
{
	struct call *c = malloc(sizeof(*c));
	if (!c)
		return -1;
	c->g = g;
	c->step = step;
	c->what = what;
	struct rt_call rc = { .peer = peer,
			      .method = method,
			      .path = path,
			      .json = body,
			      .idem_key = key,
			      .trace_id = g->trace,
			      .breaker = rt_breaker(g->s, peer),
			      .cancel = free };
	rt_call_fn fn = what == 0   ? on_fwd
			: what == 1 ? on_comp
			: what == 2 ? on_resolve
				    : on_query;
	g->busy = true;
	int err = rt_call(g->s, &rc, fn, c);
	json_decref(body);
	if (err) {
		free(c);
		g->busy = false;
		return -1;
	}
	return 0;
}

/* The body and target of forward step i (sub-call g->sub for validate). */
static int send_fwd(struct saga *g, int i)
{
	char key[256], path[256];
	saga_step_key(g, i, "fwd", key, sizeof(key));
	switch (g->defs[i].kind) {
	case K_VALIDATE:
		if (g->sub == 0) {
			snprintf(path, sizeof(path), "/membership/%s", g->from);
			return call(g, i, 0, "membership", "GET", path, NULL, NULL);
		}
		if (g->type == SAGA_INTERNAL) {
			snprintf(path, sizeof(path), "/membership/%s", g->to);
			return call(g, i, 0, "membership", "GET", path, NULL, NULL);
		}
		if (g->type == SAGA_TOPUP) {
			snprintf(path, sizeof(path), "/banking/account/%s?verify=1", g->from);
			return call(g, i, 0, "banking", "GET", path, NULL, NULL);
		}
		return call(g, i, 0, "banking", "POST", "/banking/account/verify",
			    json_pack("{s:s, s:s}", "bankName", g->bank, "bankAccountNumber",
				      g->account),
			    NULL);
	case K_DEBIT:
		return call(g, i, 0, "money", "POST", "/money/debit",
			    json_pack("{s:s, s:I}", "membershipId", g->from, "amount",
				      (json_int_t)g->amount),
			    key);
	case K_CREDIT:
		return call(g, i, 0, "money", "POST", "/money/credit",
			    json_pack("{s:s, s:I, s:s}", "membershipId",
				      g->type == SAGA_TOPUP ? g->from : g->to, "amount",
				      (json_int_t)g->amount, "source",
				      g->type == SAGA_TOPUP ? "CORP" : "TRANSIT"),
			    key);
	case K_SETTLE:
		return call(g, i, 0, "money", "POST", "/money/settle",
			    json_pack("{s:I}", "amount", (json_int_t)g->amount), key);
	case K_FIRMBANK: {
		bool topup = g->type == SAGA_TOPUP;
		return call(g, i, 0, "banking", "POST", "/banking/firmbanking/request",
			    json_pack("{s:s, s:s, s:s, s:s, s:I}", "fromBankName",
				      topup ? g->bank : REF_CORP_BANK, "fromBankAccountNumber",
				      topup ? g->account : REF_CORP_NUMBER, "toBankName",
				      topup ? REF_CORP_BANK : g->bank, "toBankAccountNumber",
				      topup ? REF_CORP_NUMBER : g->account, "amount",
				      (json_int_t)g->amount),
			    key);
	}
	}
	return -1;
}

/* Forward step i as requested, into the log (inside the caller's transaction). */
static void fwd_log(struct saga *g, int i)
{
	struct saga_step *x = &g->st[i];
	if (strcmp(x->fwd, "UNKNOWN") != 0)
		snprintf(x->fwd, sizeof(x->fwd), "REQUESTED");
	x->attempts++;
	g->sub = 0;
	saga_event(g, "step_requested", i, "fwd", NULL);
}

/* Send forward step i, once fwd_log(g, i) is committed. */
static void fwd_send(struct saga *g, int i)
{
	crash_at(g, "after_log_before_call", i);
	if (send_fwd(g, i) != 0)
		retry_later(g, g->st[i].attempts);
}

static void fwd_start(struct saga *g, int i)
{
	struct saga_step *x = &g->st[i];
	if (g->defs[i].kind == K_FIRMBANK && strcmp(x->fwd, "UNKNOWN") == 0) {
		/* ask the bank side before sending again */
		char path[300], key[256];
		saga_step_key(g, i, "fwd", key, sizeof(key));
		snprintf(path, sizeof(path), "/banking/firmbanking/%s", key);
		if (call(g, i, 3, "banking", "GET", path, NULL, NULL) != 0)
			retry_later(g, x->attempts);
		return;
	}
	rt_begin(g->s);
	fwd_log(g, i);
	commit(g);
	fwd_send(g, i);
}

enum outcome { O_OK, O_FAIL, O_NOT_SENT, O_CIRCUIT, O_UNKNOWN };

static enum outcome classify(const struct step_def *d, const struct rt_call_result *res,
			     const char **reason)
{
	*reason = "";
	if (res->kind == RT_CALL_REJECTED) {
		*reason = "circuit_open";
		return O_CIRCUIT;
	}
	if (res->kind == RT_CALL_REFUSED) {
		*reason = "connection_refused";
		return O_NOT_SENT;
	}
	if (res->kind == RT_CALL_UNKNOWN) {
		*reason = "timeout";
		return O_UNKNOWN;
	}
	const json_t *j = res->json;
	const char *result = j ? fl_json_str(j, "result", "") : "";
	if (res->status >= 500) {
		if (strcmp(result, "CIRCUIT_OPEN") == 0) {
			*reason = "circuit_open";
			return O_CIRCUIT;
		}
		if (strcmp(result, "BANK_UNREACHABLE") == 0) {
			*reason = "bank_unreachable";
			return O_NOT_SENT;
		}
		*reason = "server_error";
		return O_UNKNOWN;
	}
	if (res->status >= 400) {
		*reason = result[0] ? result : "rejected";
		if (d->kind == K_VALIDATE && res->status == 404)
			*reason = result[0] ? result : "NO_SUCH_MEMBER";
		return O_FAIL;
	}
	switch (d->kind) {
	case K_DEBIT:
	case K_CREDIT:
	case K_SETTLE:
		if (strcmp(result, "OK") == 0)
			return O_OK;
		*reason = result[0] ? result : "unexpected_answer";
		return O_FAIL;
	case K_FIRMBANK: {
		const char *st = j ? fl_json_str(j, "status", "") : "";
		if (strcmp(st, "APPLIED") == 0)
			return O_OK;
		if (strcmp(st, "REJECTED") == 0) {
			*reason = "BANK_REJECTED";
			return O_FAIL;
		}
		*reason = "unexpected_answer";
		return O_UNKNOWN;
	}
	case K_VALIDATE: return O_OK;
	}
	return O_UNKNOWN;
}

/* Validate sub-call answers: true when the step goes on to the next sub-call. */
static enum outcome validate_answer(struct saga *g, const struct rt_call_result *res,
				    const char **reason)
{
	const json_t *j = res->json;
	if (g->sub == 0 || g->type == SAGA_INTERNAL) {
		const char *st = fl_json_str(j, "status", "");
		if (strcmp(st, "ACTIVE") != 0) {
			*reason = g->sub == 0 ? "SENDER_NOT_ACTIVE" : "RECIPIENT_NOT_ACTIVE";
			return O_FAIL;
		}
		return O_OK;
	}
	if (g->type == SAGA_TOPUP) {
		if (!fl_json_bool(j, "valid", false)) {
			*reason = "INVALID_ACCOUNT";
			return O_FAIL;
		}
		snprintf(g->bank, sizeof(g->bank), "%s", fl_json_str(j, "bankName", ""));
		snprintf(g->account, sizeof(g->account), "%s",
			 fl_json_str(j, "bankAccountNumber", ""));
		return O_OK;
	}
	if (!fl_json_bool(j, "valid", false)) {
		*reason = "INVALID_ACCOUNT";
		return O_FAIL;
	}
	return O_OK;
}

/* Before the pivot, with the deadline checked and passed. */
static bool deadline_passed(const struct saga *g)
{
	int p = pivot_index(g);
	bool before_pivot = g->cur < p || (g->cur == p && !g->st[p].maybe_sent);
	return before_pivot && g->deadline_ms && !rt_bug(g->s, BUG_NO_SAGA_DEADLINE) &&
	       fl_wall_ns() / 1000000 >= g->deadline_ms;
}

enum drive_next { DRIVE_OTHER, DRIVE_FWD, DRIVE_END };

/* What saga_drive would do next: start the next forward step the plain way
 * (DRIVE_FWD), complete the saga (DRIVE_END), or anything else. */
static enum drive_next drive_next(const struct saga *g)
{
	if (g->busy || strcmp(g->state, "RUNNING") != 0)
		return DRIVE_OTHER;
	if (g->cur >= g->nsteps)
		return DRIVE_END;
	if (deadline_passed(g))
		return DRIVE_OTHER;
	if (g->defs[g->cur].kind == K_FIRMBANK && strcmp(g->st[g->cur].fwd, "UNKNOWN") == 0)
		return DRIVE_OTHER;
	return DRIVE_FWD;
}

/* Step i succeeded. Its success goes into the log in one transaction with
 * what follows when that is a plain next step (logged REQUESTED) or the end
 * (COMPLETED): one durable write instead of two, still committed before the
 * next outbound call or the answer to the client. A crash before that commit
 * leaves step i REQUESTED, which recovery retries with its key, as before. */
static void step_done_ok(struct saga *g, int i, const char *was)
{
	struct saga_step *x = &g->st[i];
	rt_begin(g->s);
	if (strcmp(was, "UNKNOWN") == 0) {
		json_t *e = json_pack("{s:s, s:s}", "outcome", "applied", "via", "retry");
		saga_event(g, "step_resolved", i, "fwd", e);
		json_decref(e);
	}
	snprintf(x->fwd, sizeof(x->fwd), "SUCCEEDED");
	saga_event(g, "step_succeeded", i, "fwd", NULL);
	g->cur = i + 1;
	if (g->defs[i].pivot)
		g->deadline_ms = 0;
	enum drive_next n = drive_next(g);
	if (n == DRIVE_FWD)
		fwd_log(g, g->cur);
	else if (n == DRIVE_END)
		end_log(g, "COMPLETED", NULL);
	commit(g);
	if (g->defs[i].pivot)
		rt_crash_point(g->s, "after_pivot");
	if (n == DRIVE_FWD)
		fwd_send(g, g->cur);
	else if (n == DRIVE_END)
		end_finish(g);
	else
		saga_drive(g);
}

static void step_done_fail(struct saga *g, int i, const char *reason, const char *was)
{
	struct saga_step *x = &g->st[i];
	rt_begin(g->s);
	if (strcmp(was, "UNKNOWN") == 0) {
		json_t *e = json_pack("{s:s, s:s}", "outcome", "not_applied", "via", "retry");
		saga_event(g, "step_resolved", i, "fwd", e);
		json_decref(e);
	}
	snprintf(x->fwd, sizeof(x->fwd), "FAILED");
	snprintf(x->result, sizeof(x->result), "%s", reason);
	json_t *e = json_pack("{s:s, s:b}", "reason", reason, "definite", 1);
	saga_event(g, "step_failed", i, "fwd", e);
	json_decref(e);
	commit(g);
	if (i > pivot_index(g)) {
		/* after the pivot only forward: keep trying */
		fl_log(FL_LOG_ERROR, "remittance",
		       "saga %s: step %s after the pivot failed (%s); retrying", g->id,
		       g->defs[i].name, reason);
		snprintf(x->fwd, sizeof(x->fwd), "PENDING");
		retry_later(g, x->attempts);
		return;
	}
	if (g->defs[i].kind == K_CREDIT && g->type == SAGA_INTERNAL &&
	    rt_bug(g->s, BUG_INTERNAL_NO_COMPENSATION)) {
		end(g, "FAILED", reason);
		return;
	}
	if (g->defs[i].kind == K_FIRMBANK && g->type == SAGA_EXTERNAL &&
	    rt_bug(g->s, BUG_NO_REFUND)) {
		end(g, "FAILED", reason);
		return;
	}
	start_compensation(g, reason);
}

static void on_fwd(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	(void)s;
	int i;
	struct saga *g = call_done(arg, &i);
	crash_at(g, "after_call_before_log", i);
	struct saga_step *x = &g->st[i];
	const struct step_def *d = &g->defs[i];
	char was[16];
	snprintf(was, sizeof(was), "%s", x->fwd);
	const char *reason;
	enum outcome o = classify(d, res, &reason);
	if (o == O_OK && d->kind == K_VALIDATE)
		o = validate_answer(g, res, &reason);
	/* A 4xx without the participant's own result code was answered by
	 * something in between (a gateway, a proxy, a WAF), not by the
	 * participant: it says nothing of an earlier attempt of this key,
	 * which may have been applied. Only the participant's rejection of the
	 * key proves it was not (it replays an applied key's answer). */
	if (o == O_FAIL && d->kind != K_VALIDATE && x->maybe_sent && res->status >= 400 &&
	    !(res->json && fl_json_str(res->json, "result", "")[0])) {
		o = O_UNKNOWN;
		reason = "unrecognised_rejection";
	}
	if (o == O_OK && d->kind == K_VALIDATE && g->sub == 0) {
		g->sub = 1;
		if (send_fwd(g, i) != 0)
			retry_later(g, x->attempts);
		return;
	}
	switch (o) {
	case O_OK: step_done_ok(g, i, was); return;
	case O_FAIL: step_done_fail(g, i, reason, was); return;
	case O_NOT_SENT:
		if (d->kind != K_VALIDATE) {
			/* "refused" is not proof of non-execution: the client may have
			 * delivered the request on a reused connection before retrying
			 * on a new one; an effectful step is treated as UNKNOWN */
			goto unknown;
		}
		/* fall through */
	case O_CIRCUIT: {
		bool no_effect = true;
		for (int k = 0; k < i; k++)
			if (g->defs[k].kind != K_VALIDATE && strcmp(g->st[k].fwd, "SUCCEEDED") == 0)
				no_effect = false;
		/* validate's first call goes to membership: only banking defers */
		bool to_banking = strcmp(d->participant, "banking") == 0 &&
				  !(d->kind == K_VALIDATE && g->sub == 0);
		if (o == O_CIRCUIT && no_effect && g->type != SAGA_INTERNAL && to_banking &&
		    !x->maybe_sent) {
			deferred(g);
			return;
		}
		rt_begin(g->s);
		json_t *e = json_pack("{s:s, s:b}", "reason", reason, "definite", 0);
		saga_event(g, "step_failed", i, "fwd", e);
		json_decref(e);
		commit(g);
		retry_later(g, x->attempts);
		return;
	}
	case O_UNKNOWN:
	unknown:
		rt_begin(g->s);
		if (d->kind != K_VALIDATE) {
			snprintf(x->fwd, sizeof(x->fwd), "UNKNOWN");
			x->maybe_sent = 1;
		}
		json_t *e = json_pack("{s:s}", "reason", reason);
		saga_event(g, "step_unknown", i, "fwd", e);
		json_decref(e);
		commit(g);
		if (d->kind == K_FIRMBANK && rt_bug(g->s, BUG_REFUND_ON_UNKNOWN)) {
			/* the planted bug: an unknown deposit is treated as failed */
			snprintf(x->fwd, sizeof(x->fwd), "FAILED");
			start_compensation(g, "BANK_TIMEOUT");
			return;
		}
		retry_later(g, x->attempts);
		return;
	}
}

/* The answer to a status query of an UNKNOWN bank step. */
static void on_query(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	(void)s;
	int i;
	struct saga *g = call_done(arg, &i);
	struct saga_step *x = &g->st[i];
	const char *st =
		res->kind == RT_CALL_REPLY && res->json ? fl_json_str(res->json, "status", "") : "";
	if (res->kind == RT_CALL_REPLY && res->status == 200 && strcmp(st, "APPLIED") == 0) {
		rt_begin(g->s);
		json_t *e = json_pack("{s:s, s:s}", "outcome", "applied", "via", "status_query");
		saga_event(g, "step_resolved", i, "fwd", e);
		json_decref(e);
		commit(g);
		step_done_ok(g, i, "RESOLVED");
	} else if (res->kind == RT_CALL_REPLY && res->status == 200 &&
		   strcmp(st, "REJECTED") == 0) {
		rt_begin(g->s);
		json_t *e = json_pack("{s:s, s:s}", "outcome", "rejected", "via", "status_query");
		saga_event(g, "step_resolved", i, "fwd", e);
		json_decref(e);
		commit(g);
		step_done_fail(g, i, "BANK_REJECTED", "RESOLVED");
	} else if (res->kind == RT_CALL_REPLY && res->status == 404) {
		/* the bank never saw it: send again with the same key */
		snprintf(x->fwd, sizeof(x->fwd), "REQUESTED");
		fwd_start(g, i);
	} else {
		retry_later(g, x->attempts);
	}
}

/* --- compensation --- */

static void comp_next(struct saga *g);

static void start_compensation(struct saga *g, const char *reason)
{
	rt_begin(g->s);
	snprintf(g->state, sizeof(g->state), "COMPENSATING");
	if (!g->reason[0])
		snprintf(g->reason, sizeof(g->reason), "%s", reason);
	commit(g);
	comp_next(g);
}

static void on_resolve(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	(void)s;
	int i;
	struct saga *g = call_done(arg, &i);
	struct saga_step *x = &g->st[i];
	if (res->kind != RT_CALL_REPLY || res->status != 200 || !res->json) {
		x->comp_attempts++;
		retry_later(g, x->comp_attempts);
		return;
	}
	bool applied = fl_json_bool(res->json, "applied", false);
	rt_begin(g->s);
	json_t *e =
		json_pack("{s:s, s:s, s:b}", "outcome", applied ? "applied" : "not_applied", "via",
			  "fenced_query", "fenced", fl_json_bool(res->json, "fenced", false));
	saga_event(g, "step_resolved", i, "fwd", e);
	json_decref(e);
	snprintf(x->fwd, sizeof(x->fwd), "%s", applied ? "SUCCEEDED" : "NOT_APPLIED");
	commit(g);
	comp_next(g);
}

static void on_comp(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	(void)s;
	int i;
	struct saga *g = call_done(arg, &i);
	crash_at(g, "mid_compensation", i);
	struct saga_step *x = &g->st[i];
	const char *result = res->json ? fl_json_str(res->json, "result", "") : "";
	if (res->kind == RT_CALL_REPLY && res->status == 200 &&
	    (strcmp(result, "OK") == 0 || strcmp(result, "NOTHING_TO_REFUND") == 0)) {
		rt_begin(g->s);
		snprintf(x->comp, sizeof(x->comp), "SUCCEEDED");
		json_t *e = json_pack("{s:s}", "result", result);
		saga_event(g, "compensation_succeeded", i, "comp", e);
		json_decref(e);
		commit(g);
		comp_next(g);
		return;
	}
	if (x->comp_attempts >= 200) {
		end(g, "STUCK", "compensation_exhausted");
		return;
	}
	retry_later(g, x->comp_attempts);
}

static void comp_next(struct saga *g)
{
	bool any = false;
	for (int j = g->nsteps - 1; j >= 0; j--) {
		const struct step_def *d = &g->defs[j];
		struct saga_step *x = &g->st[j];
		if (!d->compensable)
			continue;
		if (strcmp(x->comp, "SUCCEEDED") == 0) {
			any = true;
			continue;
		}
		if (x->maybe_sent &&
		    (strcmp(x->fwd, "UNKNOWN") == 0 || strcmp(x->fwd, "REQUESTED") == 0)) {
			/* in doubt: ask the participant, fencing the key so a late
			 * request cannot apply after we decide */
			char key[256], path[400];
			saga_step_key(g, j, "fwd", key, sizeof(key));
			snprintf(path, sizeof(path), "/money/entries?key=%s&fence=1", key);
			if (call(g, j, 2, d->participant, "GET", path, NULL, NULL) != 0)
				retry_later(g, x->comp_attempts + 1);
			return;
		}
		if (strcmp(x->fwd, "SUCCEEDED") != 0)
			continue;
		char fkey[256], key[256];
		saga_step_key(g, j, "fwd", fkey, sizeof(fkey));
		saga_step_key(g, j, "comp", key, sizeof(key));
		rt_begin(g->s);
		snprintf(x->comp, sizeof(x->comp), "REQUESTED");
		x->comp_attempts++;
		saga_event(g, "compensation_requested", j, "comp", NULL);
		commit(g);
		if (call(g, j, 1, "money", "POST", "/money/refund",
			 json_pack("{s:s, s:I, s:s}", "membershipId", g->from, "amount",
				   (json_int_t)g->amount, "forwardKey", fkey),
			 key) != 0)
			retry_later(g, x->comp_attempts);
		return;
	}
	end(g, any ? "COMPENSATED" : "FAILED", NULL);
}

bool saga_log_next(struct saga *g)
{
	if (drive_next(g) != DRIVE_FWD)
		return false;
	fwd_log(g, g->cur);
	return true;
}

void saga_send_logged(struct saga *g)
{
	fwd_send(g, g->cur);
}

void saga_drive(struct saga *g)
{
	if (g->busy || saga_terminal(g->state) || strcmp(g->state, "DEFERRED") == 0)
		return;
	if (strcmp(g->state, "COMPENSATING") == 0) {
		comp_next(g);
		return;
	}
	if (g->cur >= g->nsteps) {
		end(g, "COMPLETED", NULL);
		return;
	}
	if (deadline_passed(g)) {
		for (int k = g->cur; k < g->nsteps; k++)
			if (strcmp(g->st[k].fwd, "REQUESTED") == 0 && !g->st[k].maybe_sent)
				snprintf(g->st[k].fwd, sizeof(g->st[k].fwd), "NOT_APPLIED");
		start_compensation(g, "DEADLINE_EXCEEDED");
		return;
	}
	fwd_start(g, g->cur);
}
