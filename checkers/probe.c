/* Probe checker: H1-H6 over a probe timeline (probe / probe_transition
 * events, as `faultline probe --json` writes them), fault windows, process
 * lifecycle events and client operations (docs/checkers.md). */
#include <stdlib.h>
#include <string.h>

#include "checkers/check.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

#define MS 1000000LL

struct win {
	int64_t a, b;
	long line;
	int32_t what, target;
};

struct pc {
	struct fl_chk_history *h;
	const struct fl_probe_check_config *c;
	struct fl_check_result *r;
	int32_t svc;		    /* -1: every service */
	struct win *dep, *own, *db; /* dependency faults, own-process down, own DB down */
	size_t ndep, nown, ndb;
	int64_t *sigterm;
	long *sigterm_line;
	size_t nsig;
};

static const char *S(struct pc *p, int32_t id)
{
	const char *s = fl_chk_str(p->h, id);
	return s ? s : "";
}

static bool mine(struct pc *p, int32_t service)
{
	return p->svc < 0 || service == p->svc;
}

static bool is(struct pc *p, int32_t id, const char *s)
{
	return id >= 0 && !strcmp(S(p, id), s);
}

static int push_win(struct win **v, size_t *n, struct win w)
{
	struct win *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return FL_ENOMEM;
	nv[(*n)++] = w;
	*v = nv;
	return 0;
}

/* One more SIGTERM (time and line) for the shutdown checks. */
static int push_sigterm(struct pc *p, int64_t t, long line)
{
	int64_t *ns = realloc(p->sigterm, (p->nsig + 1) * sizeof(*ns));
	long *nl = realloc(p->sigterm_line, (p->nsig + 1) * sizeof(*nl));
	if (ns)
		p->sigterm = ns;
	if (nl)
		p->sigterm_line = nl;
	if (!ns || !nl)
		return FL_ENOMEM;
	p->sigterm[p->nsig] = t;
	p->sigterm_line[p->nsig++] = line;
	return 0;
}

static bool own_process_fault(struct pc *p, int32_t what)
{
	static const char *const own[] = { "kill",    "sigkill",   "pause", "sigstop", "stop",
					   "sigterm", "terminate", "crash", "restart", NULL };
	for (int i = 0; own[i]; i++)
		if (is(p, what, own[i]))
			return true;
	return false;
}

/* Fault windows (added..removed, paired by id, else by what+target) and
 * process lifecycle windows. */
static int build_windows(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	for (size_t i = 0; i < h->n_faults; i++) {
		const struct fl_chk_fault *f = &h->faults[i];
		if (!f->added)
			continue;
		int64_t end = h->t_last;
		for (size_t j = i + 1; j < h->n_faults; j++) {
			const struct fl_chk_fault *g = &h->faults[j];
			if (g->added)
				continue;
			if (f->id >= 0 ? g->id == f->id
				       : (g->what == f->what && g->target == f->target)) {
				end = g->t;
				break;
			}
		}
		struct win w = { f->t, end, f->line, f->what, f->target };
		bool on_me = p->svc >= 0 && f->target == p->svc;
		int rc = 0;
		if (on_me && is(p, f->what, "db_down")) {
			rc = push_win(&p->db, &p->ndb, w);
			if (!rc)
				rc = push_win(&p->dep, &p->ndep,
					      w); /* the DB is a dependency for liveness */
		} else if (on_me && own_process_fault(p, f->what)) {
			rc = push_win(&p->own, &p->nown, w);
			if (!rc && (is(p, f->what, "sigterm") || is(p, f->what, "terminate"))) {
				if (push_sigterm(p, f->t, f->line))
					return FL_ENOMEM;
			}
		} else if (!on_me && p->svc >= 0) {
			rc = push_win(&p->dep, &p->ndep, w);
		}
		if (rc)
			return rc;
	}
	/* Process events of the service: down from sigterm/kill/exit to the next start. */
	for (size_t i = 0; i < h->n_procs; i++) {
		const struct fl_chk_process *e = &h->procs[i];
		if (!mine(p, e->service))
			continue;
		bool term = is(p, e->action, "sigterm");
		if (term) {
			if (push_sigterm(p, e->t, e->line))
				return FL_ENOMEM;
		}
		if (term || is(p, e->action, "sigkill") || is(p, e->action, "killed") ||
		    is(p, e->action, "exited") || is(p, e->action, "paused")) {
			int64_t end = h->t_last;
			for (size_t j = i + 1; j < h->n_procs; j++)
				if (h->procs[j].service == e->service &&
				    (is(p, h->procs[j].action, "started") ||
				     (is(p, e->action, "paused") &&
				      is(p, h->procs[j].action, "resumed")))) {
					end = h->procs[j].t;
					break;
				}
			/* a kill recorded once the process was gone: down from the signal */
			int64_t from =
				e->signalled > 0 && e->signalled < e->t ? e->signalled : e->t;
			if (push_win(&p->own, &p->nown,
				     (struct win){ from, end, e->line, e->action, e->service }))
				return FL_ENOMEM;
		}
	}
	return 0;
}

/* Index of the first probe result known at or after t (results are sorted
 * by t); scans from there stop once results are later than the window's end
 * plus `slack` (a result is known at most timeout after its start). */
static size_t first_probe_at(const struct fl_chk_history *h, int64_t t)
{
	size_t lo = 0, hi = h->n_probes;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h->probes[mid].t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t slack(const struct pc *p)
{
	return (p->c->timeout_ms + 1000) * MS;
}

static bool in_own_down(struct pc *p, int64_t t)
{
	for (size_t i = 0; i < p->nown; i++)
		if (t >= p->own[i].a && t <= p->own[i].b)
			return true;
	return false;
}

/* An own-down window (the process killed, stopped or not yet restarted)
 * overlaps [a, b]. */
static bool own_down_overlaps(struct pc *p, int64_t a, int64_t b)
{
	for (size_t i = 0; i < p->nown; i++)
		if (p->own[i].a <= b && p->own[i].b >= a)
			return true;
	return false;
}

/* Where the run of failed results that ended in the failing transition x
 * began: the start of its first failure after the kind's last success (the
 * prober counts consecutive failures, held results aside). */
static int64_t failure_run_start(struct pc *p, const struct fl_chk_probe_tr *x)
{
	const struct fl_chk_history *h = p->h;
	int64_t from = x->t;
	for (size_t i = first_probe_at(h, x->t + 1); i-- > 0;) {
		const struct fl_chk_probe *q = &h->probes[i];
		if (q->kind != x->kind || !mine(p, q->service) || q->held)
			continue;
		if (q->ok)
			break;
		from = q->start < from ? q->start : from;
	}
	return from;
}

static json_t *probe_json(struct pc *p, const struct fl_chk_probe *q)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:b, s:i, s:f, s:I}", "service", S(p, q->service),
			 "kind", fl_probe_kind_str(q->kind), "start", (json_int_t)q->start, "t",
			 (json_int_t)q->t, "ok", q->ok, "status", q->status, "latency_ms",
			 (double)q->latency_ns / 1e6, "line", (json_int_t)q->line);
}

/* The probe timeline around t: results of the service within ±3 periods. */
static json_t *timeline(struct pc *p, int64_t a, int64_t b)
{
	json_t *arr = json_array();
	int64_t pad = 3 * p->c->period_ms * MS;
	size_t n = 0;
	for (size_t i = first_probe_at(p->h, a - pad); i < p->h->n_probes && n < 30; i++) {
		const struct fl_chk_probe *q = &p->h->probes[i];
		if (mine(p, q->service) && q->t >= a - pad && q->t <= b + pad) {
			json_array_append_new(arr, probe_json(p, q));
			n++;
		}
	}
	return arr;
}

static json_t *win_json(struct pc *p, const struct win *w)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I}", "what", S(p, w->what), "target",
			 S(p, w->target), "from", (json_int_t)w->a, "to", (json_int_t)w->b, "line",
			 (json_int_t)w->line);
}

static void check_h1(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	int64_t tail = (p->c->failure_threshold * p->c->period_ms + p->c->tolerance_ms) * MS;
	for (size_t w = 0; w < p->ndep; w++) {
		const struct win *d = &p->dep[w];
		bool reported = false;
		for (size_t i = first_probe_at(h, d->a);
		     i < h->n_probes && !reported && h->probes[i].t <= d->b + slack(p); i++) {
			const struct fl_chk_probe *q = &h->probes[i];
			/* (in flight when its own process went down: the kill's doing) */
			if (q->kind != FL_PROBE_LIVENESS || !mine(p, q->service) || q->held ||
			    q->start < d->a || q->start > d->b ||
			    own_down_overlaps(p, q->start, q->t))
				continue;
			fl_check_pass(p->r, "H1");
			if (!q->ok) {
				reported = true;
				json_t *ev = json_pack("{s:o, s:o, s:o}", "fault", win_json(p, d),
						       "probe", probe_json(p, q), "timeline",
						       timeline(p, d->a, d->b));
				fl_check_fail(
					p->r, "H1", 1, ev,
					"liveness failed (line %ld, status %d) while %s of %s "
					"was in effect (line %ld)",
					q->line, q->status, S(p, d->what), S(p, d->target),
					d->line);
			}
		}
		for (size_t i = 0; i < h->n_probe_trs && !reported; i++) {
			const struct fl_chk_probe_tr *x = &h->probe_trs[i];
			/* a run of failures that spans its own process going down
			 * and starting again is no restart a kubelet would make: it
			 * counts a new container's failures from zero (the prober,
			 * outside, does not see the restart) */
			if (x->kind == FL_PROBE_READINESS || !mine(p, x->service) || x->passing ||
			    x->t < d->a || x->t > d->b + tail ||
			    own_down_overlaps(p, failure_run_start(p, x), x->t))
				continue;
			reported = true;
			fl_check_fail(p->r, "H1", 2,
				      json_pack("{s:o, s:I, s:o}", "fault", win_json(p, d),
						"restart_line", (json_int_t)x->line, "timeline",
						timeline(p, d->a, d->b)),
				      "%s probe failed and the container would be restarted (line "
				      "%ld) during %s of %s",
				      fl_probe_kind_str(x->kind), x->line, S(p, d->what),
				      S(p, d->target));
		}
	}
}

static void check_h2(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	int64_t tol = p->c->tolerance_ms * MS, period = p->c->period_ms * MS;
	/* After SIGTERM: no ready answer from a probe started later. */
	for (size_t s = 0; s < p->nsig; s++) {
		int64_t ts = p->sigterm[s], until = h->t_last;
		for (size_t i = 0; i < h->n_procs; i++)
			if (mine(p, h->procs[i].service) && h->procs[i].t > ts &&
			    is(p, h->procs[i].action, "started")) {
				until = h->procs[i].t;
				break;
			}
		for (size_t i = 0; i < h->n_probes; i++) {
			const struct fl_chk_probe *q = &h->probes[i];
			if (q->kind != FL_PROBE_READINESS || !mine(p, q->service) ||
			    q->start <= ts + tol || q->start >= until)
				continue;
			fl_check_pass(p->r, "H2");
			if (q->ok) {
				fl_check_fail(
					p->r, "H2", (double)(q->start - ts) / 1e6,
					json_pack("{s:I, s:I, s:o, s:o}", "sigterm_t",
						  (json_int_t)ts, "sigterm_line",
						  (json_int_t)p->sigterm_line[s], "probe",
						  probe_json(p, q), "timeline",
						  timeline(p, ts, q->t)),
					"readiness still passing %.0f ms after SIGTERM (line %ld)",
					(double)(q->start - ts) / 1e6, q->line);
				break;
			}
		}
	}
	/* Own database down: failing within a period, recovering after. */
	for (size_t w = 0; w < p->ndb; w++) {
		const struct win *d = &p->db[w];
		for (size_t i = first_probe_at(h, d->a);
		     i < h->n_probes && h->probes[i].t <= d->b + slack(p); i++) {
			const struct fl_chk_probe *q = &h->probes[i];
			if (q->kind != FL_PROBE_READINESS || !mine(p, q->service) ||
			    q->start <= d->a + period + tol || q->t >= d->b)
				continue; /* answered after the window: it may see the database back */
			fl_check_pass(p->r, "H2");
			if (q->ok) {
				fl_check_fail(
					p->r, "H2", 1,
					json_pack("{s:o, s:o, s:o}", "fault", win_json(p, d),
						  "probe", probe_json(p, q), "timeline",
						  timeline(p, d->a, d->b)),
					"readiness passing (line %ld) while its own database was "
					"down (line %ld)",
					q->line, d->line);
				break;
			}
		}
		if (d->b >= h->t_last)
			continue; /* never healed in this history */
		int64_t by = d->b + (p->c->success_threshold * p->c->period_ms + p->c->timeout_ms +
				     p->c->tolerance_ms) *
					    MS;
		bool recovered = false;
		for (size_t i = first_probe_at(h, d->b);
		     i < h->n_probes && !recovered && h->probes[i].t <= by; i++) {
			const struct fl_chk_probe *q = &h->probes[i];
			recovered = q->kind == FL_PROBE_READINESS && mine(p, q->service) && q->ok &&
				    q->t >= d->b && q->t <= by;
		}
		if (recovered) {
			fl_check_pass(p->r, "H2");
		} else if (h->t_last < by) {
			fl_check_unknown(p->r, "H2",
					 "the history ends before readiness could recover "
					 "from the database fault");
		} else {
			fl_check_pass(p->r, "H2");
			fl_check_fail(
				p->r, "H2", 2,
				json_pack("{s:o, s:o}", "fault", win_json(p, d), "timeline",
					  timeline(p, d->b, by)),
				"readiness did not recover within %.1f s after the database came "
				"back",
				(double)(by - d->b) / 1e9);
		}
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int check_h3(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	int64_t *lat = malloc((h->n_probes ? h->n_probes : 1) * sizeof(*lat));
	if (!lat)
		return FL_ENOMEM;
	size_t n = 0;
	const struct fl_chk_probe *slowest = NULL;
	for (size_t i = 0; i < h->n_probes; i++) {
		const struct fl_chk_probe *q = &h->probes[i];
		if (!mine(p, q->service) || in_own_down(p, q->start))
			continue;
		int64_t l;
		if (q->timed_out)
			l = p->c->timeout_ms * MS;
		else if (q->status > 0)
			l = q->latency_ns;
		else
			continue; /* refused: nothing answered */
		lat[n++] = l;
		if (!slowest ||
		    l > (slowest->timed_out ? p->c->timeout_ms * MS : slowest->latency_ns))
			slowest = q;
	}
	if (n) {
		qsort(lat, n, sizeof(*lat), cmp_i64);
		size_t k = (n * 99 + 99) / 100;
		int64_t p99 = lat[k ? k - 1 : 0];
		fl_check_pass(p->r, "H3");
		json_object_set_new(p->r->stats, "probe_p50_ms",
				    json_real((double)lat[n / 2] / 1e6));
		json_object_set_new(p->r->stats, "probe_p99_ms", json_real((double)p99 / 1e6));
		if (p99 >= p->c->timeout_ms * MS)
			fl_check_fail(p->r, "H3", (double)p99 / 1e6,
				      json_pack("{s:f, s:f, s:f, s:I, s:o}", "p50_ms",
						(double)lat[n / 2] / 1e6, "p99_ms",
						(double)p99 / 1e6, "max_ms",
						(double)lat[n - 1] / 1e6, "results", (json_int_t)n,
						"slowest", probe_json(p, slowest)),
				      "probe latency p99 %.1f ms is not under the timeout %lld ms",
				      (double)p99 / 1e6, (long long)p->c->timeout_ms);
	}
	free(lat);
	return 0;
}

static bool contains(struct pc *p, int32_t id, const char *needle)
{
	return id >= 0 && strcasestr(S(p, id), needle) != NULL;
}

static void check_h4(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	int64_t tol = p->c->tolerance_ms * MS, grace = p->c->grace_ms * MS;
	for (size_t s = 0; s < p->nsig; s++) {
		int64_t ts = p->sigterm[s];
		const struct fl_chk_process *exit_ev = NULL, *kill_ev = NULL;
		for (size_t i = 0; i < h->n_procs; i++) {
			const struct fl_chk_process *e = &h->procs[i];
			if (!mine(p, e->service) || e->t < ts)
				continue;
			if (is(p, e->action, "started"))
				break;
			if (is(p, e->action, "exited") && !exit_ev)
				exit_ev = e;
			if ((is(p, e->action, "sigkill") || is(p, e->action, "killed")) && !kill_ev)
				kill_ev = e;
		}
		int64_t until = exit_ev ? exit_ev->t : h->t_last;
		json_t *base = json_pack("{s:I, s:I}", "sigterm_t", (json_int_t)ts, "sigterm_line",
					 (json_int_t)p->sigterm_line[s]);
		fl_check_pass(p->r, "H4");
		if (kill_ev)
			fl_check_fail(p->r, "H4", 3,
				      json_pack("{s:O, s:I}", "sigterm", base, "sigkill_line",
						(json_int_t)kill_ev->line),
				      "SIGKILL (line %ld) after SIGTERM: the grace period ran out",
				      kill_ev->line);
		else if (!exit_ev && h->t_last - ts > grace + tol)
			fl_check_fail(p->r, "H4", 3, json_incref(base),
				      "no exit within the grace period (%.1f s) after SIGTERM",
				      (double)grace / 1e9);
		else if (!exit_ev)
			fl_check_unknown(p->r, "H4", "the history ends before the process exited");
		else if (exit_ev->exit_code != 0 || exit_ev->signal)
			fl_check_fail(
				p->r, "H4", 2,
				json_pack("{s:O, s:I, s:i, s:i}", "sigterm", base, "exit_line",
					  (json_int_t)exit_ev->line, "exit_code",
					  exit_ev->exit_code, "signal", exit_ev->signal),
				"exited with code %d signal %d after SIGTERM (line %ld), not 0",
				exit_ev->exit_code, exit_ev->signal, exit_ev->line);
		else if (exit_ev->t - ts > grace)
			fl_check_fail(p->r, "H4", 2, json_incref(base),
				      "exited %.1f s after SIGTERM, past the grace period",
				      (double)(exit_ev->t - ts) / 1e9);
		/* Client requests around the shutdown. */
		for (size_t i = 0; i < h->n_ops; i++) {
			const struct fl_chk_op *o = &h->ops[i];
			if (o->type == FL_OP_INVOKE || o->pair < 0 ||
			    (o->service >= 0 && !mine(p, o->service)))
				continue;
			const struct fl_chk_op *inv = &h->ops[o->pair];
			if (o->t < ts - tol || inv->t > until + tol)
				continue;
			fl_check_pass(p->r, "H4");
			bool reset = contains(p, o->error, "reset") ||
				     contains(p, o->error, "ECONNRESET");
			bool unanswered = inv->t < ts && o->type != FL_OP_OK && o->status == 0;
			if (reset || unanswered) {
				fl_check_fail(
					p->r, "H4", 1,
					json_pack("{s:O, s:I, s:I, s:s, s:s}", "sigterm", base,
						  "invoke_line", (json_int_t)inv->line, "line",
						  (json_int_t)o->line, "type",
						  fl_op_type_str(o->type), "error",
						  o->error >= 0 ? S(p, o->error) : ""),
					reset ? "client connection reset during shutdown (line %ld)"
					      : "request accepted before SIGTERM never answered "
						"(line %ld)",
					o->line);
			}
		}
		json_decref(base);
	}
}

/* A startup probe started at or after t and before b got an HTTP answer that
 * was not a pass: the service itself said it was still starting (recovering).
 * A timeout is no evidence: the service may just be slow. */
static bool answered_starting_after(struct pc *p, int64_t t, int64_t b)
{
	for (size_t i = 0; i < p->h->n_probes; i++) {
		const struct fl_chk_probe *q = &p->h->probes[i];
		if (q->kind == FL_PROBE_STARTUP && mine(p, q->service) && !q->ok &&
		    q->status >= 400 && q->start >= t && q->start < b)
			return true;
	}
	return false;
}

static void check_h5(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	bool any_startup = false;
	for (size_t i = 0; i < h->n_probes && !any_startup; i++)
		any_startup =
			h->probes[i].kind == FL_PROBE_STARTUP && mine(p, h->probes[i].service);
	if (!any_startup)
		return;
	/* Each start of the process (and the history's beginning) until startup passes. */
	for (size_t si = 0; si <= h->n_procs; si++) {
		int64_t a;
		long line = 0;
		if (si == h->n_procs) {
			a = h->t_first;
		} else {
			const struct fl_chk_process *e = &h->procs[si];
			if (!mine(p, e->service) || !is(p, e->action, "started"))
				continue;
			a = e->t;
			line = e->line;
		}
		if (si == h->n_procs) {
			bool started_events = false;
			for (size_t i = 0; i < h->n_procs && !started_events; i++)
				started_events = mine(p, h->procs[i].service) &&
						 is(p, h->procs[i].action, "started");
			if (started_events)
				break;
		}
		int64_t b = h->t_last;
		for (size_t i = 0; i < h->n_probes; i++) {
			const struct fl_chk_probe *q = &h->probes[i];
			if (q->kind == FL_PROBE_STARTUP && mine(p, q->service) && q->ok &&
			    q->start >= a) {
				b = q->start;
				break;
			}
		}
		for (size_t i = 0; i < h->n_probes; i++) {
			const struct fl_chk_probe *q = &h->probes[i];
			if (q->kind != FL_PROBE_READINESS || !mine(p, q->service) || q->start < a ||
			    q->start >= b)
				continue;
			fl_check_pass(p->r, "H5");
			if (q->ok && answered_starting_after(p, q->t, b)) {
				fl_check_fail(
					p->r, "H5", 1,
					json_pack("{s:I, s:I, s:o, s:o}", "started_t",
						  (json_int_t)a, "started_line", (json_int_t)line,
						  "probe", probe_json(p, q), "timeline",
						  timeline(p, a, b)),
					"readiness reported ready (line %ld) while startup still "
					"answered not started",
					q->line);
				break;
			}
		}
		for (size_t i = 0; i < h->n_ops; i++) {
			const struct fl_chk_op *o = &h->ops[i];
			if (o->type != FL_OP_OK || o->service < 0 || !mine(p, o->service) ||
			    o->pair < 0 || h->ops[o->pair].t < a || o->t >= b)
				continue;
			fl_check_pass(p->r, "H5");
			fl_check_fail(
				p->r, "H5", 1,
				json_pack("{s:I, s:I}", "started_t", (json_int_t)a, "op_line",
					  (json_int_t)o->line),
				"a request was served (line %ld) before the startup probe passed",
				o->line);
			break;
		}
	}
}

/* H6: Kubernetes removes a terminating pod from its endpoints only after
 * SIGTERM, and the removal takes a while to reach every client; the service
 * keeps accepting for its drain delay. A request sent after SIGTERM and before
 * the drain delay is over (less the tolerance) must get an answer: no answer
 * at all (refused, reset, timed out) is a failure. */
static void check_h6(struct pc *p)
{
	struct fl_chk_history *h = p->h;
	int64_t tol = p->c->tolerance_ms * MS, drain = p->c->drain_ms * MS;
	if (drain <= tol)
		return;
	for (size_t s = 0; s < p->nsig; s++) {
		int64_t ts = p->sigterm[s];
		for (size_t i = 0; i < h->n_ops; i++) {
			const struct fl_chk_op *o = &h->ops[i];
			if (o->type == FL_OP_INVOKE || o->pair < 0 ||
			    (o->service >= 0 && !mine(p, o->service)))
				continue;
			const struct fl_chk_op *inv = &h->ops[o->pair];
			if (inv->t < ts || inv->t > ts + drain - tol)
				continue;
			fl_check_pass(p->r, "H6");
			if (o->type == FL_OP_OK || o->status != 0)
				continue;
			fl_check_fail(
				p->r, "H6", 1,
				json_pack("{s:I, s:I, s:I, s:I, s:f, s:s}", "sigterm_t",
					  (json_int_t)ts, "sigterm_line",
					  (json_int_t)p->sigterm_line[s], "invoke_line",
					  (json_int_t)inv->line, "line", (json_int_t)o->line,
					  "after_sigterm_ms", (double)(inv->t - ts) / 1e6, "error",
					  o->error >= 0 ? S(p, o->error) : ""),
				"request sent %.0f ms after SIGTERM (line %ld), inside the %lld ms "
				"drain delay, got no answer",
				(double)(inv->t - ts) / 1e6, inv->line, (long long)p->c->drain_ms);
		}
	}
}

struct fl_check_result *fl_check_probe(struct fl_chk_history *h,
				       const struct fl_probe_check_config *c)
{
	int64_t t0 = fl_mono_ns();
	struct fl_check_result *r = fl_check_result_new("probe");
	if (!r || fl_chk_history_seal(h) < 0) {
		fl_check_result_free(r);
		return NULL;
	}
	static const char *const inv[][2] = {
		{ "H1", "liveness does not depend on dependencies" },
		{ "H2", "readiness follows SIGTERM and own database" },
		{ "H3", "probe latency p99 under the timeout" },
		{ "H4", "graceful shutdown under load" },
		{ "H5", "nothing served or ready before startup" },
		{ "H6", "requests inside the drain window after SIGTERM are served" },
	};
	for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++)
		fl_check_declare(r, inv[i][0], inv[i][1]);
	struct pc p = { .h = h, .c = c, .r = r, .svc = -1 };
	if (c->service[0])
		p.svc = fl_chk_intern(h, c->service);
	int rc = build_windows(&p);
	if (!rc) {
		check_h1(&p);
		check_h2(&p);
		rc = check_h3(&p);
		check_h4(&p);
		check_h5(&p);
		check_h6(&p);
	}
	fl_check_stat(r, "probe_results", (json_int_t)h->n_probes);
	fl_check_stat(r, "fault_windows", (json_int_t)(p.ndep + p.ndb));
	fl_check_stat(r, "sigterms", (json_int_t)p.nsig);
	free(p.dep);
	free(p.own);
	free(p.db);
	free(p.sigterm);
	free(p.sigterm_line);
	if (rc) {
		fl_check_result_free(r);
		return NULL;
	}
	fl_check_result_finish(r);
	r->duration_ns = fl_mono_ns() - t0;
	return r;
}
