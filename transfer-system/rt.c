/* Service runtime: options, lifecycle (startup, probes, graceful shutdown). */
#include "transfer-system/rt_int.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

const char *const rt_bug_names[] = {
	"no-refund",
	"refund-on-unknown",
	"non-idempotent-credit",
	"internal-no-compensation",
	"no-saga-deadline",
	"breaker-never-opens",
	"breaker-stuck-open",
	"breaker-halfopen-flood",
	"liveness-checks-deps",
	"ready-while-draining",
	"drop-inflight-on-sigterm",
	"query-increases-only",
	NULL,
};

unsigned rt_bug_parse(const char *name)
{
	for (int i = 0; rt_bug_names[i]; i++)
		if (strcmp(rt_bug_names[i], name) == 0)
			return 1u << i;
	return 0;
}

const char rt_usage[] =
	"Usage: transferd --service NAME --data DIR [options]\n"
	"\n"
	"Runs one service of the reference transfer system (membership, money, banking,\n"
	"extbank, remittance, query, gateway).\n"
	"\n"
	"  --service NAME          the service to run\n"
	"  --data DIR              its data directory (SQLite database)\n"
	"  --host H                bind address (default 127.0.0.1)\n"
	"  --port P                port (default 0: pick a free one)\n"
	"  --peer NAME=URL         where a peer service is reached (repeatable)\n"
	"  --bug NAME              switch on a planted bug (repeatable)\n"
	"  --list-bugs             print the planted bugs' names, one a line, and exit\n"
	"  --crash-at LABEL        exit abruptly the first time LABEL is reached\n"
	"  --seed N                seed for simulated randomness (extbank chaos)\n"
	"  --drain-delay D         keep serving after SIGTERM (default 2s)\n"
	"  --grace D               finish in-flight requests for up to D (default 15s)\n"
	"  --saga-deadline D       deadline of a saga before its pivot (default 30s)\n"
	"  --call-timeout D        timeout of calls to peers (default 2s)\n"
	"  --reply-timeout D       how long a saga request waits for the end (default 10s)\n"
	"  --recovery-timeout D    longest startup wait for recovered sagas (default 10s)\n"
	"  --poll-wait D           query: long-poll wait on event feeds (default 1s)\n"
	"  --breaker-window N      count-based window (default 10)\n"
	"  --breaker-min-calls N   minimum calls (default 5)\n"
	"  --breaker-failure-rate F  percent (default 50)\n"
	"  --breaker-slow D        slow-call threshold (default 1s)\n"
	"  --breaker-slow-rate S   percent (default 100)\n"
	"  --breaker-wait D        wait in open state (default 5s)\n"
	"  --breaker-half-open K   calls permitted in half-open (default 3)\n"
	"  --breaker-auto          automatic open -> half-open transition\n"
	"  --log-level L           debug|info|warn|error (default info)\n"
	"  --log-text              text logs instead of JSON lines\n"
	"Durations take a unit (ms, s); a bare number is milliseconds.\n";

static int parse_ms(const char *v, long *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || d < 0)
		return FL_EINVAL;
	if (*end == 0 || strcmp(end, "ms") == 0)
		*out = (long)d;
	else if (strcmp(end, "s") == 0)
		*out = (long)(d * 1000);
	else
		return FL_EINVAL;
	return 0;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (end == v || *end || x < lo || x > hi)
		return FL_EINVAL;
	*out = x;
	return 0;
}

int rt_opts_parse(struct rt_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->drain_delay_ms = 2000;
	o->grace_ms = 15000;
	o->saga_deadline_ms = 30000;
	o->call_timeout_ms = 2000;
	o->reply_timeout_ms = 10000;
	o->recovery_timeout_ms = 10000;
	o->poll_wait_ms = 1000;
	o->log_json = 1;
	snprintf(o->log_level, sizeof(o->log_level), "info");
	breaker_config_default(&o->breaker);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return fl_err_set(err, errlen, FL_EINVAL, "help");
		if (strcmp(a, "--list-bugs") == 0)
			return fl_err_set(err, errlen, FL_EINVAL, "list-bugs");
		if (strcmp(a, "--breaker-auto") == 0) {
			o->breaker.auto_transition = true;
			continue;
		}
		if (strcmp(a, "--log-text") == 0) {
			o->log_json = 0;
			continue;
		}
		if (i + 1 >= argc)
			return fl_err_set(err, errlen, FL_EINVAL, "%s needs a value", a);
		const char *v = argv[++i];
		long x = 0;
		int rc = 0;
		if (strcmp(a, "--service") == 0)
			snprintf(o->service, sizeof(o->service), "%s", v);
		else if (strcmp(a, "--host") == 0)
			snprintf(o->host, sizeof(o->host), "%s", v);
		else if (strcmp(a, "--port") == 0)
			rc = parse_long(v, 0, 65535, &x), o->port = (int)x;
		else if (strcmp(a, "--data") == 0)
			snprintf(o->data, sizeof(o->data), "%s", v);
		else if (strcmp(a, "--peer") == 0) {
			const char *eq = strchr(v, '=');
			if (!eq || eq == v || !eq[1] || o->npeers >= RT_MAX_PEERS)
				return fl_err_set(err, errlen, FL_EINVAL,
						  "--peer wants NAME=URL, got '%s'", v);
			struct rt_peer *p = &o->peers[o->npeers++];
			snprintf(p->name, sizeof(p->name), "%.*s", (int)(eq - v), v);
			snprintf(p->url, sizeof(p->url), "%s", eq + 1);
			size_t n = strlen(p->url);
			while (n > 0 && p->url[n - 1] == '/')
				p->url[--n] = 0;
		} else if (strcmp(a, "--bug") == 0) {
			unsigned b = rt_bug_parse(v);
			if (!b)
				return fl_err_set(err, errlen, FL_EINVAL, "unknown bug '%s'", v);
			o->bugs |= b;
		} else if (strcmp(a, "--crash-at") == 0)
			snprintf(o->crash_at, sizeof(o->crash_at), "%s", v);
		else if (strcmp(a, "--seed") == 0)
			o->seed = strtoull(v, NULL, 10);
		else if (strcmp(a, "--drain-delay") == 0)
			rc = parse_ms(v, &o->drain_delay_ms);
		else if (strcmp(a, "--grace") == 0)
			rc = parse_ms(v, &o->grace_ms);
		else if (strcmp(a, "--saga-deadline") == 0)
			rc = parse_ms(v, &o->saga_deadline_ms);
		else if (strcmp(a, "--call-timeout") == 0)
			rc = parse_ms(v, &o->call_timeout_ms);
		else if (strcmp(a, "--reply-timeout") == 0)
			rc = parse_ms(v, &o->reply_timeout_ms);
		else if (strcmp(a, "--recovery-timeout") == 0)
			rc = parse_ms(v, &o->recovery_timeout_ms);
		else if (strcmp(a, "--poll-wait") == 0)
			rc = parse_ms(v, &o->poll_wait_ms);
		else if (strcmp(a, "--breaker-window") == 0)
			rc = parse_long(v, 1, 10000, &x), o->breaker.window = (int)x;
		else if (strcmp(a, "--breaker-min-calls") == 0)
			rc = parse_long(v, 1, 10000, &x), o->breaker.min_calls = (int)x;
		else if (strcmp(a, "--breaker-failure-rate") == 0)
			rc = parse_long(v, 1, 100, &x), o->breaker.failure_rate = (double)x;
		else if (strcmp(a, "--breaker-slow") == 0)
			rc = parse_ms(v, &o->breaker.slow_ms);
		else if (strcmp(a, "--breaker-slow-rate") == 0)
			rc = parse_long(v, 1, 100, &x), o->breaker.slow_rate = (double)x;
		else if (strcmp(a, "--breaker-wait") == 0)
			rc = parse_ms(v, &o->breaker.wait_open_ms);
		else if (strcmp(a, "--breaker-half-open") == 0)
			rc = parse_long(v, 1, 10000, &x), o->breaker.halfopen_calls = (int)x;
		else if (strcmp(a, "--log-level") == 0)
			snprintf(o->log_level, sizeof(o->log_level), "%s", v);
		else
			return fl_err_set(err, errlen, FL_EINVAL, "unknown option '%s'", a);
		if (rc)
			return fl_err_set(err, errlen, FL_EINVAL, "bad value for %s: '%s'", a, v);
	}
	if (!o->service[0])
		return fl_err_set(err, errlen, FL_EINVAL, "--service is required");
	if (!rt_service_find(o->service))
		return fl_err_set(err, errlen, FL_EINVAL, "unknown service '%s'", o->service);
	if (!o->data[0])
		return fl_err_set(err, errlen, FL_EINVAL, "--data is required");
	o->breaker.bug_never_opens = o->bugs & BUG_BREAKER_NEVER_OPENS;
	o->breaker.bug_stuck_open = o->bugs & BUG_BREAKER_STUCK_OPEN;
	o->breaker.bug_halfopen_flood = o->bugs & BUG_BREAKER_HALFOPEN_FLOOD;
	return 0;
}

bool rt_bug(const struct rt_svc *s, unsigned bug)
{
	return (s->o.bugs & bug) != 0;
}

void rt_crash_point(struct rt_svc *s, const char *label)
{
	if (s->o.crash_at[0] && strcmp(s->o.crash_at, label) == 0) {
		fl_log(FL_LOG_WARN, s->o.service, "crash point %s reached: exiting abruptly",
		       label);
		kill(getpid(), SIGKILL);
		_exit(137);
	}
}

struct rt_after_ctx {
	struct rt_svc *s;
	void (*fn)(struct rt_svc *s, void *arg);
	void *arg;
	void (*cancel)(void *arg);
	struct event *ev;
	struct rt_after_ctx *prev, *next;
};

static void after_unlink(struct rt_svc *s, struct rt_after_ctx *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->in->afters = c->next;
	if (c->next)
		c->next->prev = c->prev;
	event_free(c->ev);
	free(c);
}

static void after_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rt_after_ctx *c = arg;
	struct rt_svc *s = c->s;
	void (*fn)(struct rt_svc *, void *) = c->fn;
	void *a = c->arg;
	after_unlink(s, c);
	fn(s, a);
}

int rt_after(struct rt_svc *s, long ms, void (*fn)(struct rt_svc *s, void *arg), void *arg)
{
	return rt_after_owned(s, ms, fn, arg, NULL);
}

int rt_after_owned(struct rt_svc *s, long ms, void (*fn)(struct rt_svc *s, void *arg), void *arg,
		   void (*cancel)(void *arg))
{
	struct rt_after_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return FL_ENOMEM;
	c->s = s;
	c->fn = fn;
	c->arg = arg;
	c->cancel = cancel;
	c->ev = evtimer_new(s->base, after_cb, c);
	if (!c->ev) {
		free(c);
		return FL_ENOMEM;
	}
	c->next = s->in->afters;
	if (c->next)
		c->next->prev = c;
	s->in->afters = c;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(c->ev, &tv);
	return 0;
}

static void afters_free(struct rt_svc *s)
{
	while (s->in->afters) {
		struct rt_after_ctx *c = s->in->afters;
		if (c->cancel)
			c->cancel(c->arg);
		after_unlink(s, c);
	}
}

void rt_new_trace_id(struct rt_svc *s, char *out)
{
	uint64_t a = fl_prng_u64(&s->rng), b = fl_prng_u64(&s->rng);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

void rt_today(int64_t wall_ns, char *out)
{
	time_t t = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

bool rt_started(struct rt_svc *s)
{
	return !s->def->started || s->def->started(s);
}

/* --- probes --- */

static void h_livez(struct rt_svc *s, struct fl_http_req *r)
{
	if (rt_bug(s, BUG_LIVENESS_CHECKS_DEPS)) {
		/* the planted bug: liveness that looks at dependencies */
		if (!rt_db_ok(s)) {
			rt_reply_error(r, 503, "database unreachable");
			return;
		}
		for (int i = 0; i < s->nbreakers; i++)
			if (breaker_state(s->breakers[i], fl_mono_ns()) != BREAKER_CLOSED) {
				rt_reply_error(r, 503, "dependency %s unavailable",
					       breaker_name(s->breakers[i]));
				return;
			}
	}
	rt_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_readyz(struct rt_svc *s, struct fl_http_req *r)
{
	if (!rt_started(s)) {
		rt_reply_error(r, 503, "starting");
		return;
	}
	if (s->draining && !rt_bug(s, BUG_READY_WHILE_DRAINING)) {
		rt_reply_error(r, 503, "draining");
		return;
	}
	if (!rt_db_ok(s)) {
		rt_reply_error(r, 503, "database unreachable");
		return;
	}
	rt_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
}

static void h_startupz(struct rt_svc *s, struct fl_http_req *r)
{
	if (!rt_started(s))
		rt_reply_error(r, 503, "recovery in progress");
	else
		rt_reply_json(r, 200, json_pack("{s:s}", "status", "started"));
}

static void h_metrics(struct rt_svc *s, struct fl_http_req *r)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	rt_metrics_write(s, &b);
	rt_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
		     b.len);
	fl_buf_free(&b);
}

static void h_breakers(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *a = json_array();
	for (int i = 0; i < s->nbreakers; i++)
		json_array_append_new(a, breaker_json(s->breakers[i], fl_mono_ns()));
	rt_reply_json(r, 200, json_pack("{s:s, s:o}", "service", s->o.service, "breakers", a));
}

/* --- shutdown --- */

static void stop_now(struct rt_svc *s, const char *why)
{
	if (s->stopping)
		return;
	s->stopping = true;
	size_t left = fl_http_server_inflight(s->http);
	fl_log(left ? FL_LOG_WARN : FL_LOG_INFO, s->o.service,
	       "stopping (%s), %zu requests unanswered", why, left);
	/* a last moment on the loop so the answers just given reach their sockets */
	struct timeval tv = { 0, 100000 };
	event_base_loopexit(s->base, &tv);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rt_svc *s = arg;
	if (s->stopping)
		return;
	int64_t waited = (fl_mono_ns() - s->drain_started_ns) / 1000000;
	if (fl_http_server_inflight(s->http) == 0)
		stop_now(s, "drained");
	else if (waited >= s->o.grace_ms)
		stop_now(s, "grace period over");
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct rt_svc *s = arg;
	fl_log(FL_LOG_INFO, s->o.service, "drain delay over: no longer accepting connections");
	fl_http_server_stop_accepting(s->http);
	s->accepting_stopped = true;
	rt_events_release_all(s);
	if (s->def->on_stop_accepting)
		s->def->on_stop_accepting(s);
	struct timeval tv = { 0, 10000 };
	event_add(s->in->poll_timer, &tv);
}

static void sig_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct rt_svc *s = arg;
	if (rt_bug(s, BUG_DROP_INFLIGHT_ON_SIGTERM)) {
		fl_log(FL_LOG_INFO, s->o.service, "signal %d: exiting at once", (int)sig);
		s->stopping = true;
		event_base_loopbreak(s->base);
		return;
	}
	if (s->draining) {
		stop_now(s, "second signal");
		return;
	}
	s->draining = true;
	s->drain_started_ns = fl_mono_ns();
	fl_log(FL_LOG_INFO, s->o.service,
	       "signal %d: draining (readiness off), delay %ld ms, grace %ld ms", (int)sig,
	       s->o.drain_delay_ms, s->o.grace_ms);
	struct timeval tv = { s->o.drain_delay_ms / 1000, (s->o.drain_delay_ms % 1000) * 1000 };
	event_add(s->in->drain_timer, &tv);
}

/* --- run --- */

static int setup(struct rt_svc *s, char *err, size_t errlen)
{
	if (mkdir(s->o.data, 0755) != 0 && errno != EEXIST)
		return fl_err_set(err, errlen, FL_EIO, "mkdir %s: %s", s->o.data, strerror(errno));
	int rc = rt_db_open(s, err, errlen);
	if (rc)
		return rc;
	char addr[128];
	snprintf(addr, sizeof(addr), "%s%s%s:%d", strchr(s->o.host, ':') ? "[" : "", s->o.host,
		 strchr(s->o.host, ':') ? "]" : "", s->o.port);
	struct fl_http_server_opts so = { .addr = addr, .max_body = 4 << 20 };
	s->http = fl_http_server_new(s->base, &so, err, errlen);
	if (!s->http)
		return FL_EADDRINUSE;
	fl_http_server_set_filter(s->http, rt_http_filter, s);
	s->client = fl_http_client_new(s->base, err, errlen);
	if (!s->client)
		return FL_ENOMEM;
	rt_route(s, "GET", "/livez", h_livez, 0);
	rt_route(s, "GET", "/readyz", h_readyz, 0);
	rt_route(s, "GET", "/startupz", h_startupz, 0);
	rt_route(s, "GET", "/metrics", h_metrics, 0);
	rt_route(s, "GET", "/breakers", h_breakers, 0);
	rt_events_route(s);
	rc = s->def->init(s, err, errlen);
	if (rc)
		return rc;
	return 0;
}

int rt_run(const struct rt_opts *o)
{
	struct rt_svc *s = calloc(1, sizeof(*s));
	struct rt_internal *in = calloc(1, sizeof(*in));
	char err[512] = "";
	int code = 1;
	if (!s || !in) {
		free(s);
		free(in);
		return 1;
	}
	s->o = *o;
	s->in = in;
	s->def = rt_service_find(o->service);
	enum fl_log_level lvl = FL_LOG_INFO;
	fl_log_level_parse(o->log_level, &lvl);
	fl_log_setup(lvl, o->log_json ? FL_LOG_JSON : FL_LOG_TEXT, stderr);
	fl_prng_seed(&s->rng, o->seed ? o->seed : fl_prng_entropy_seed());
	in->start_wall_ns = fl_wall_ns();
	in->pending_events = json_array();
	s->base = event_base_new();
	if (!s->base || !in->pending_events)
		goto out;
	if (setup(s, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_ERROR, o->service, "cannot start: %s", err);
		fprintf(stderr, "transferd %s: %s\n", o->service, err);
		goto out;
	}
	in->sig_term = evsignal_new(s->base, SIGTERM, sig_cb, s);
	in->sig_int = evsignal_new(s->base, SIGINT, sig_cb, s);
	in->drain_timer = evtimer_new(s->base, drain_cb, s);
	in->poll_timer = event_new(s->base, -1, EV_PERSIST, poll_cb, s);
	if (!in->sig_term || !in->sig_int || !in->drain_timer || !in->poll_timer)
		goto out;
	event_add(in->sig_term, NULL);
	event_add(in->sig_int, NULL);
	printf("transferd %s listening on %s pid %d\n", o->service, fl_http_server_addr(s->http),
	       (int)getpid());
	fflush(stdout);
	fl_log(FL_LOG_INFO, o->service, "listening on %s", fl_http_server_addr(s->http));
	event_base_dispatch(s->base);
	rt_flush_pending(s);
	code = 0;
	fl_log(FL_LOG_INFO, o->service, "exit %d", code);
out:
	if (s->def && s->def->fini && s->impl)
		s->def->fini(s);
	fl_http_client_free(s->client);
	rt_calls_free(s);
	rt_events_release_all(s);
	fl_http_server_free(s->http);
	rt_http_free_live(s);
	for (int i = 0; i < s->nbreakers; i++)
		breaker_free(s->breakers[i]);
	afters_free(s);
	rt_db_close(s);
	if (in->sig_term)
		event_free(in->sig_term);
	if (in->sig_int)
		event_free(in->sig_int);
	if (in->drain_timer)
		event_free(in->drain_timer);
	if (in->poll_timer)
		event_free(in->poll_timer);
	if (in->flush_ev)
		event_free(in->flush_ev);
	if (in->notify_ev)
		event_free(in->notify_ev);
	json_decref(in->pending_events);
	if (s->base)
		event_base_free(s->base);
	free(in);
	free(s);
	return code;
}
