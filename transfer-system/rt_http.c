/* Service runtime: routes, replies, request context (trace ids, access logs,
 * metrics), generic Idempotency-Key handling, the Prometheus exposition. */
#include "transfer-system/rt_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "core/text.h"

const double rt_buckets[RT_NBUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					 0.1,	0.25,	0.5,   1,    2.5,   10 };

static bool is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
			return false;
	return true;
}

/* W3C traceparent: 00-<32 hex trace>-<16 hex parent>-<2 hex flags>. */
static bool parse_traceparent(const char *tp, char *trace)
{
	if (!tp || strlen(tp) < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
		return false;
	if (!is_hex(tp, 2) || !is_hex(tp + 3, 32) || !is_hex(tp + 36, 16) || !is_hex(tp + 53, 2))
		return false;
	if (strncmp(tp, "ff", 2) == 0 || strspn(tp + 3, "0") >= 32)
		return false;
	memcpy(trace, tp + 3, 32);
	trace[32] = 0;
	return true;
}

bool rt_http_filter(struct fl_http_req *r, void *arg)
{
	struct rt_svc *s = arg;
	const char *p = fl_http_req_path(r);
	if (rt_started(s) || strcmp(p, "/livez") == 0 || strcmp(p, "/readyz") == 0 ||
	    strcmp(p, "/startupz") == 0 || strcmp(p, "/metrics") == 0)
		return true;
	fl_http_reply_error(r, 503, "service is starting (recovery in progress)");
	return false;
}

static struct rt_idem_flight **flight_find(struct rt_svc *s, const char *key)
{
	for (struct rt_idem_flight **f = &s->in->flights; *f; f = &(*f)->next)
		if (strcmp((*f)->key, key) == 0)
			return f;
	return NULL;
}

static void flight_drop(struct rt_svc *s, const char *key)
{
	struct rt_idem_flight **f = flight_find(s, key);
	if (f) {
		struct rt_idem_flight *x = *f;
		*f = x->next;
		free(x->key);
		free(x);
	}
}

/* Generic idempotency: true when the request was answered from the table. */
static bool idem_begin(struct rt_svc *s, struct rt_reqctx *c, struct fl_http_req *r)
{
	const char *key = fl_http_req_header(r, "Idempotency-Key");
	if (!key || !*key)
		return false;
	sqlite3_stmt *st =
		rt_stmt(s, "SELECT status, body FROM rt_idem WHERE key = ?1 AND route = ?2");
	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, c->route->pattern, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			int status = sqlite3_column_int(st, 0);
			const char *body = (const char *)sqlite3_column_text(st, 1);
			fl_http_reply_header(r, "Idempotent-Replayed", "true");
			rt_reply_raw(r, status, "application/json", body ? body : "",
				     body ? strlen(body) : 0);
			sqlite3_reset(st);
			return true;
		}
		sqlite3_reset(st);
	}
	if (flight_find(s, key)) {
		rt_reply_error(r, 409, "a request with this Idempotency-Key is in progress");
		return true;
	}
	struct rt_idem_flight *f = calloc(1, sizeof(*f));
	if (f && (f->key = strdup(key))) {
		f->next = s->in->flights;
		s->in->flights = f;
		c->idem_key = strdup(key);
	} else
		free(f);
	return false;
}

static void idem_end(struct rt_svc *s, struct rt_reqctx *c, int status, const char *body)
{
	if (!c->idem_key)
		return;
	if (status < 500) {
		sqlite3_stmt *st =
			rt_stmt(s, "INSERT OR REPLACE INTO rt_idem(key, route, status, body) "
				   "VALUES (?1, ?2, ?3, ?4)");
		if (st) {
			sqlite3_bind_text(st, 1, c->idem_key, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, c->route->pattern, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, status);
			sqlite3_bind_text(st, 4, body ? body : "", -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
	}
	flight_drop(s, c->idem_key);
	free(c->idem_key);
	c->idem_key = NULL;
}

static void trampoline(struct fl_http_req *r, void *arg)
{
	struct rt_route_ent *re = arg;
	struct rt_svc *s = re->s;
	struct rt_reqctx *c = calloc(1, sizeof(*c));
	if (!c) {
		fl_http_reply_error(r, 500, "out of memory");
		return;
	}
	c->s = s;
	c->route = re;
	c->req = r;
	c->start_ns = fl_mono_ns();
	if (!parse_traceparent(fl_http_req_header(r, "traceparent"), c->trace_id))
		rt_new_trace_id(s, c->trace_id);
	c->next = s->in->live;
	if (c->next)
		c->next->prev = c;
	s->in->live = c;
	fl_http_req_set_data(r, c);
	if ((re->flags & RT_IDEM) && idem_begin(s, c, r))
		return;
	re->fn(s, r);
}

int rt_route(struct rt_svc *s, const char *method, const char *pattern, rt_handler_fn fn, int flags)
{
	if (s->in->nroutes >= RT_MAX_ROUTES)
		return FL_E2BIG;
	struct rt_route_ent *re = &s->in->routes[s->in->nroutes++];
	re->s = s;
	snprintf(re->method, sizeof(re->method), "%s", method);
	snprintf(re->pattern, sizeof(re->pattern), "%s", pattern);
	re->fn = fn;
	re->flags = flags;
	return fl_http_server_route(s->http, method, pattern, trampoline, re);
}

static void ctx_free(struct rt_svc *s, struct rt_reqctx *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->in->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->idem_key) {
		flight_drop(s, c->idem_key);
		free(c->idem_key);
	}
	free(c);
}

void rt_http_free_live(struct rt_svc *s)
{
	while (s->in->live)
		ctx_free(s, s->in->live);
}

static void account(struct rt_reqctx *c, int status)
{
	struct rt_route_ent *re = c->route;
	double dt = (double)(fl_mono_ns() - c->start_ns) / 1e9;
	re->count++;
	re->sum += dt;
	for (int i = 0; i < RT_NBUCKETS; i++)
		if (dt <= rt_buckets[i])
			re->bucket[i]++;
	int i;
	for (i = 0; i < re->ncodes; i++)
		if (re->codes[i].status == status)
			break;
	if (i == re->ncodes && re->ncodes < 16)
		re->codes[re->ncodes++].status = status;
	if (i < re->ncodes)
		re->codes[i].n++;
	bool probe = strncmp(re->pattern, "/livez", 6) == 0 ||
		     strncmp(re->pattern, "/readyz", 7) == 0 ||
		     strncmp(re->pattern, "/startupz", 9) == 0;
	if ((status >= 500 && !probe) || fl_log_get_level() <= FL_LOG_DEBUG) {
		json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:f}", "trace_id", c->trace_id,
				      "method", fl_http_req_method(c->req), "route", re->pattern,
				      "status", status, "duration_ms", dt * 1000);
		fl_logj(status >= 500 ? FL_LOG_WARN : FL_LOG_DEBUG, c->s->o.service, f,
			"%s %s -> %d", fl_http_req_method(c->req), fl_http_req_uri(c->req), status);
		json_decref(f);
	}
}

/* Finish the context of r (if it has one) before the reply. */
static void finish(struct fl_http_req *r, int status, const char *body)
{
	struct rt_reqctx *c = fl_http_req_data(r);
	if (!c)
		return;
	fl_http_req_set_data(r, NULL);
	idem_end(c->s, c, status, body);
	account(c, status);
	fl_http_reply_header(r, "X-Trace-Id", c->trace_id);
	ctx_free(c->s, c);
}

void rt_reply_raw(struct fl_http_req *r, int status, const char *ctype, const void *body,
		  size_t len)
{
	struct rt_reqctx *c = fl_http_req_data(r);
	/* --crash-at before_reply: the effect is done, the answer is lost */
	if (c && strcmp(fl_http_req_method(r), "GET") != 0)
		rt_crash_point(c->s, "before_reply");
	if (c && c->idem_key) {
		char *copy = strndup(body ? body : "", len);
		finish(r, status, copy);
		free(copy);
	} else
		finish(r, status, NULL);
	fl_http_reply(r, status, ctype, body, len);
}

void rt_reply_json(struct fl_http_req *r, int status, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	rt_reply_raw(r, status, "application/json", s ? s : "", s ? strlen(s) : 0);
	free(s);
}

void rt_reply_error(struct fl_http_req *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rt_reply_json(r, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

void rt_reply_result_error(struct fl_http_req *r, int status, const char *result, const char *fmt,
			   ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rt_reply_json(r, status,
		      json_pack("{s:s, s:i, s:s}", "error", msg, "status", status, "result",
				result));
}

json_t *rt_body(struct fl_http_req *r)
{
	char err[256];
	json_t *j = fl_http_req_json(r, err, sizeof(err));
	if (!j) {
		rt_reply_error(r, 400, "bad request body: %s", err);
		return NULL;
	}
	if (!json_is_object(j)) {
		rt_reply_error(r, 400, "bad request body: expected a JSON object");
		return NULL;
	}
	return j;
}

const char *rt_trace_id(struct fl_http_req *r)
{
	struct rt_reqctx *c = fl_http_req_data(r);
	return c ? c->trace_id : "00000000000000000000000000000000";
}

/* --- Prometheus text format --- */

static void lbl(struct fl_buf *b, const char *name, const char *v, bool first)
{
	fl_buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	fl_text_prom_escape(b, v);
	fl_buf_puts(b, "\"");
}

void rt_metrics_write(struct rt_svc *s, struct fl_buf *b)
{
	struct rt_internal *in = s->in;
	fl_buf_puts(b,
		    "# HELP fl_http_requests_total HTTP requests answered, by route and status.\n"
		    "# TYPE fl_http_requests_total counter\n");
	for (int i = 0; i < in->nroutes; i++) {
		struct rt_route_ent *re = &in->routes[i];
		for (int k = 0; k < re->ncodes; k++) {
			char code[8];
			snprintf(code, sizeof(code), "%d", re->codes[k].status);
			fl_buf_puts(b, "fl_http_requests_total{");
			lbl(b, "method", re->method, true);
			lbl(b, "route", re->pattern, false);
			lbl(b, "code", code, false);
			fl_buf_printf(b, "} %llu\n", (unsigned long long)re->codes[k].n);
		}
	}
	fl_buf_puts(b, "# HELP fl_http_request_duration_seconds Time to answer, by route.\n"
		       "# TYPE fl_http_request_duration_seconds histogram\n");
	for (int i = 0; i < in->nroutes; i++) {
		struct rt_route_ent *re = &in->routes[i];
		if (!re->count)
			continue;
		for (int k = 0; k <= RT_NBUCKETS; k++) {
			char le[32];
			if (k < RT_NBUCKETS)
				snprintf(le, sizeof(le), "%g", rt_buckets[k]);
			else
				snprintf(le, sizeof(le), "+Inf");
			fl_buf_puts(b, "fl_http_request_duration_seconds_bucket{");
			lbl(b, "method", re->method, true);
			lbl(b, "route", re->pattern, false);
			lbl(b, "le", le, false);
			fl_buf_printf(b, "} %llu\n",
				      (unsigned long long)(k < RT_NBUCKETS ? re->bucket[k]
									   : re->count));
		}
		fl_buf_puts(b, "fl_http_request_duration_seconds_sum{");
		lbl(b, "method", re->method, true);
		lbl(b, "route", re->pattern, false);
		fl_buf_printf(b, "} %.6f\n", re->sum);
		fl_buf_puts(b, "fl_http_request_duration_seconds_count{");
		lbl(b, "method", re->method, true);
		lbl(b, "route", re->pattern, false);
		fl_buf_printf(b, "} %llu\n", (unsigned long long)re->count);
	}
	fl_buf_printf(
		b,
		"# HELP fl_http_inflight_requests Requests received and not yet answered.\n"
		"# TYPE fl_http_inflight_requests gauge\n"
		"fl_http_inflight_requests %zu\n"
		"# HELP fl_ready Whether the service reports ready (1) or not (0).\n"
		"# TYPE fl_ready gauge\n"
		"fl_ready %d\n"
		"# HELP fl_draining Whether the service is shutting down.\n"
		"# TYPE fl_draining gauge\n"
		"fl_draining %d\n"
		"# HELP fl_process_start_time_seconds Start time of the process since the epoch.\n"
		"# TYPE fl_process_start_time_seconds gauge\n"
		"fl_process_start_time_seconds %.3f\n"
		"# HELP fl_outbox_last_sequence Sequence number of the newest outbox event.\n"
		"# TYPE fl_outbox_last_sequence gauge\n"
		"fl_outbox_last_sequence %lld\n"
		"# HELP fl_peer_calls_total Calls made to peer services.\n"
		"# TYPE fl_peer_calls_total counter\n"
		"fl_peer_calls_total %llu\n"
		"# HELP fl_peer_call_failures_total Peer calls that failed (5xx, timeout, connection).\n"
		"# TYPE fl_peer_call_failures_total counter\n"
		"fl_peer_call_failures_total %llu\n"
		"# HELP fl_db_commits_total Committed database transactions (each a durable write).\n"
		"# TYPE fl_db_commits_total counter\n"
		"fl_db_commits_total %llu\n",
		fl_http_server_inflight(s->http), rt_started(s) && !s->draining,
		s->draining ? 1 : 0, (double)in->start_wall_ns / 1e9, (long long)in->last_seq,
		(unsigned long long)in->calls_total, (unsigned long long)in->calls_failed,
		(unsigned long long)in->commits_total);
	if (s->nbreakers) {
		fl_buf_puts(
			b,
			"# HELP fl_breaker_state Circuit breaker state (0 closed, 1 open, 2 half-open).\n"
			"# TYPE fl_breaker_state gauge\n");
		for (int i = 0; i < s->nbreakers; i++) {
			fl_buf_puts(b, "fl_breaker_state{");
			lbl(b, "breaker", breaker_name(s->breakers[i]), true);
			fl_buf_printf(b, "} %d\n",
				      (int)breaker_state(s->breakers[i], fl_mono_ns()));
		}
		fl_buf_puts(b,
			    "# HELP fl_breaker_calls_total Calls seen by a breaker, by outcome.\n"
			    "# TYPE fl_breaker_calls_total counter\n");
		for (int i = 0; i < s->nbreakers; i++) {
			struct breaker_totals t;
			breaker_totals(s->breakers[i], &t);
			const char *names[] = { "success", "failure", "rejected" };
			uint64_t v[] = { t.successes, t.failures, t.rejected };
			for (int k = 0; k < 3; k++) {
				fl_buf_puts(b, "fl_breaker_calls_total{");
				lbl(b, "breaker", breaker_name(s->breakers[i]), true);
				lbl(b, "outcome", names[k], false);
				fl_buf_printf(b, "} %llu\n", (unsigned long long)v[k]);
			}
		}
		fl_buf_puts(b,
			    "# HELP fl_breaker_transitions_total State transitions of a breaker.\n"
			    "# TYPE fl_breaker_transitions_total counter\n");
		for (int i = 0; i < s->nbreakers; i++) {
			struct breaker_totals t;
			breaker_totals(s->breakers[i], &t);
			fl_buf_puts(b, "fl_breaker_transitions_total{");
			lbl(b, "breaker", breaker_name(s->breakers[i]), true);
			fl_buf_printf(b, "} %llu\n", (unsigned long long)t.transitions);
		}
	}
	if (s->def->metrics)
		s->def->metrics(s, b);
}
