/* kubelet prober simulation on libevent + the async HTTP client. */
#include "checkers/prober.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"

#define MS 1000000LL

struct probe {
	struct fl_prober *owner;
	struct fl_probe_spec spec;
	char *url;
	struct event *timer;
	bool in_use, inflight, passing, req_held;
	uint64_t req_id;
	int64_t req_start;
	int consec_ok, consec_fail;
};

struct fl_prober {
	struct event_base *base;
	struct fl_http_client *http;
	char *service;
	fl_prober_event_fn fn;
	void *arg;
	struct probe probes[3]; /* by kind */
	bool observe_held, started_ok;
	const struct fl_http_tls *tls; /* borrowed */
	struct fl_prober_status st;
};

void fl_probe_spec_defaults(struct fl_probe_spec *s, int kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->period_ms = 10000;
	s->timeout_ms = 1000;
	s->failure_threshold = 3;
	s->success_threshold = 1;
}

struct fl_prober *fl_prober_new(struct event_base *base, const char *service, fl_prober_event_fn fn,
				void *arg, char *err, size_t errlen)
{
	struct fl_prober *p = calloc(1, sizeof(*p));
	if (!p) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	p->base = base;
	p->fn = fn;
	p->arg = arg;
	p->service = strdup(service ? service : "");
	p->http = fl_http_client_new(base, err, errlen);
	if (!p->service || !p->http) {
		fl_prober_free(p);
		return NULL;
	}
	return p;
}

int fl_prober_add(struct fl_prober *p, const struct fl_probe_spec *s, char *err, size_t errlen)
{
	if (s->kind < 0 || s->kind > 2)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "probe kind must be liveness, readiness "
				  "or startup");
	if (p->probes[s->kind].in_use)
		return fl_err_set(err, errlen, FL_EINVAL, "a %s probe was given twice",
				  fl_probe_kind_str(s->kind));
	if (!s->url || (strncmp(s->url, "http://", 7) && strncmp(s->url, "https://", 8)))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "probe URL must start with http:// or "
				  "https://: \"%s\"",
				  s->url ? s->url : "");
	if (s->period_ms <= 0 || s->timeout_ms <= 0 || s->initial_delay_ms < 0)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "period and timeout must be positive, "
				  "initial delay not negative");
	if (s->failure_threshold < 1 || s->success_threshold < 1)
		return fl_err_set(err, errlen, FL_EINVAL, "thresholds must be at least 1");
	if (s->kind != FL_PROBE_READINESS && s->success_threshold != 1)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "successThreshold must be 1 for %s probes",
				  fl_probe_kind_str(s->kind));
	struct probe *q = &p->probes[s->kind];
	q->owner = p;
	q->spec = *s;
	q->url = strdup(s->url);
	if (!q->url)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	q->spec.url = q->url;
	q->in_use = true;
	return 0;
}

void fl_prober_set_tls(struct fl_prober *p, const struct fl_http_tls *tls)
{
	p->tls = tls;
}

void fl_prober_observe_held(struct fl_prober *p, bool on)
{
	p->observe_held = on;
}

static void emit(struct fl_prober *p, json_t *ev)
{
	if (!ev)
		return;
	json_object_set_new(ev, "service", json_string(p->service));
	if (p->fn)
		p->fn(ev, p->arg);
	json_decref(ev);
}

static void transition(struct fl_prober *p, struct probe *q, bool passing, const char *action,
		       int64_t t)
{
	q->passing = passing;
	p->st.transitions++;
	emit(p, json_pack("{s:s, s:s, s:I, s:s, s:s, s:i}", "event", "probe_transition", "kind",
			  fl_probe_kind_str(q->spec.kind), "t", (json_int_t)t, "state",
			  passing ? "passing" : "failing", "action", action, "after",
			  passing ? q->consec_ok : q->consec_fail));
}

static void arm(struct probe *q, int64_t delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000 };
	evtimer_add(q->timer, &tv);
}

static bool held(struct fl_prober *p, const struct probe *q)
{
	return q->spec.kind != FL_PROBE_STARTUP && p->probes[FL_PROBE_STARTUP].in_use &&
	       !p->started_ok;
}

/* The container restarts: every probe starts over after its initial delay,
 * at the first tick of its period at or after it (the kubelet's worker keeps
 * ticking; a new container is probed once it is past its initial delay, and
 * the failure count starts from zero), so the next restart takes
 * failureThreshold periods again, not one. */
static void restart(struct fl_prober *p, int64_t t)
{
	p->st.restarts++;
	p->started_ok = false;
	for (int k = 0; k < 3; k++) {
		struct probe *q = &p->probes[k];
		if (!q->in_use)
			continue;
		if (q->inflight) {
			fl_http_client_cancel(p->http, q->req_id);
			q->inflight = false;
		}
		q->consec_ok = q->consec_fail = 0;
		bool was = q->passing;
		q->passing = k == FL_PROBE_LIVENESS;
		if (k == FL_PROBE_READINESS && was)
			emit(p, json_pack("{s:s, s:s, s:I, s:s, s:s}", "event", "probe_transition",
					  "kind", "readiness", "t", (json_int_t)t, "state",
					  "failing", "action", "removed"));
		evtimer_del(q->timer);
		int64_t delay = q->spec.period_ms > 0 ? q->spec.period_ms : 1;
		while (delay < q->spec.initial_delay_ms)
			delay += q->spec.period_ms > 0 ? q->spec.period_ms
						       : q->spec.initial_delay_ms;
		arm(q, delay);
	}
}

static void on_result(struct probe *q, bool ok, int64_t t)
{
	struct fl_prober *p = q->owner;
	int kind = q->spec.kind;
	if (ok) {
		q->consec_ok++;
		q->consec_fail = 0;
	} else {
		q->consec_fail++;
		q->consec_ok = 0;
	}
	if (kind == FL_PROBE_STARTUP) {
		if (ok && !p->started_ok) {
			p->started_ok = true;
			transition(p, q, true, "started", t);
		} else if (!ok && q->consec_fail >= q->spec.failure_threshold) {
			transition(p, q, false, "restart", t);
			restart(p, t);
		}
		return;
	}
	if (kind == FL_PROBE_LIVENESS) {
		if (!ok && q->consec_fail >= q->spec.failure_threshold) {
			transition(p, q, false, "restart", t);
			restart(p, t);
		} else if (ok && !q->passing) {
			transition(p, q, true, "live", t);
		}
		return;
	}
	if (ok && !q->passing && q->consec_ok >= q->spec.success_threshold)
		transition(p, q, true, "added", t);
	else if (!ok && q->passing && q->consec_fail >= q->spec.failure_threshold)
		transition(p, q, false, "removed", t);
}

static void on_done(struct fl_http_response *resp, void *arg)
{
	struct probe *q = arg;
	struct fl_prober *p = q->owner;
	bool was_held = q->req_held;
	int64_t t = fl_mono_ns();
	q->inflight = false;
	bool ok = resp->err == 0 && resp->status >= 200 && resp->status < 400;
	json_t *ev =
		json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:f}", "event", "probe", "kind",
			  fl_probe_kind_str(q->spec.kind), "url", q->url, "start",
			  (json_int_t)q->req_start, "t", (json_int_t)t, "ok", ok, "status",
			  (json_int_t)resp->status, "latency_ms", (double)(t - q->req_start) / 1e6);
	if (ev && resp->err)
		json_object_set_new(ev, "error",
				    json_string(resp->err == FL_ETIMEDOUT ? "timeout"
									  : resp->errmsg));
	if (ev && was_held)
		json_object_set_new(ev, "held", json_true());
	fl_http_response_free(resp);
	emit(p, ev);
	if (was_held)
		return;
	p->st.results++;
	p->st.failures += !ok;
	on_result(q, ok, t);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct probe *q = arg;
	struct fl_prober *p = q->owner;
	arm(q, q->spec.period_ms);
	bool is_held = held(p, q);
	if (q->inflight || (is_held && !p->observe_held))
		return;
	q->req_held = is_held;
	struct fl_http_request req = { .method = "GET",
				       .url = q->url,
				       .timeout_ms = q->spec.timeout_ms,
				       .connect_timeout_ms = q->spec.timeout_ms,
				       .max_body = 64 * 1024,
				       .tls = p->tls };
	q->req_start = fl_mono_ns();
	if (fl_http_client_start(p->http, &req, on_done, q, &q->req_id) < 0) {
		int64_t t = fl_mono_ns();
		emit(p, json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:i, s:f, s:s}", "event", "probe",
				  "kind", fl_probe_kind_str(q->spec.kind), "url", q->url, "start",
				  (json_int_t)q->req_start, "t", (json_int_t)t, "ok", 0, "status",
				  0, "latency_ms", 0.0, "error", "could not start the request"));
		if (!is_held)
			on_result(q, false, t);
		return;
	}
	q->inflight = true;
}

int fl_prober_start(struct fl_prober *p)
{
	for (int k = 0; k < 3; k++) {
		struct probe *q = &p->probes[k];
		if (!q->in_use)
			continue;
		q->timer = evtimer_new(p->base, on_tick, q);
		if (!q->timer)
			return FL_ENOMEM;
		q->passing = k == FL_PROBE_LIVENESS;
		arm(q, q->spec.initial_delay_ms);
	}
	return 0;
}

void fl_prober_status(const struct fl_prober *p, struct fl_prober_status *out)
{
	*out = p->st;
	out->started = !p->probes[FL_PROBE_STARTUP].in_use || p->started_ok;
	out->live = !p->probes[FL_PROBE_LIVENESS].in_use || p->probes[FL_PROBE_LIVENESS].passing;
	out->ready = p->probes[FL_PROBE_READINESS].in_use ? p->probes[FL_PROBE_READINESS].passing
							  : out->started && out->live;
}

void fl_prober_free(struct fl_prober *p)
{
	if (!p)
		return;
	for (int k = 0; k < 3; k++) {
		if (p->probes[k].timer)
			event_free(p->probes[k].timer);
		free(p->probes[k].url);
	}
	/* Cancels in-flight requests; their callbacks are not called. */
	fl_http_client_free(p->http);
	free(p->service);
	free(p);
}
