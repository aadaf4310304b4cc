/* Probe checker (H1-H6) on hand-written timelines, both ways; and the
 * prober simulation against a real HTTP server on loopback whose answers
 * the test flips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/event.h>

#include "checkers/prober.h"
#include "core/clock.h"
#include "core/http_server.h"
#include "core/json.h"
#include "test_checker_util.h"

static struct fl_buf B;

#define T(ms) ((long long)(ms) * MSNS)

static void probe(long ms, const char *kind, int status, double latency_ms)
{
	hl(&B, "{\"event\":\"probe\",\"service\":\"svc\",\"kind\":\"%s\",\"start\":%lld,\"t\":%lld,"
	       "\"ok\":%s,\"status\":%d,\"latency_ms\":%.1f}", kind, T(ms),
	   T(ms) + (long long)(latency_ms * 1e6), status >= 200 && status < 400 ? "true" : "false",
	   status, latency_ms);
}

static void fault(long ms, const char *action, const char *what, const char *target)
{
	hl(&B, "{\"event\":\"fault\",\"t\":%lld,\"action\":\"%s\",\"what\":\"%s\",\"target\":\"%s\","
	       "\"id\":\"%s-%s\"}", T(ms), action, what, target, what, target);
}

static void proc(long ms, const char *action, int code)
{
	hl(&B, "{\"event\":\"process\",\"t\":%lld,\"service\":\"svc\",\"action\":\"%s\","
	       "\"exit_code\":%d}", T(ms), action, code);
}

/* A kill recorded once the process is gone (ms), its signal sent earlier. */
static void killed_at(long ms, long signalled_ms)
{
	hl(&B, "{\"event\":\"process\",\"t\":%lld,\"service\":\"svc\",\"action\":\"killed\","
	       "\"signalled\":%lld}", T(ms), T(signalled_ms));
}

static int64_t drain_ms;	/* H6's drain delay for run() */

static struct fl_check_result *run(void)
{
	struct fl_probe_check_config c;
	fl_probe_check_config_defaults(&c);
	c.drain_ms = drain_ms;
	strcpy(c.service, "svc");
	c.period_ms = 1000;
	c.timeout_ms = 1000;
	c.grace_ms = 10000;
	struct fl_chk_history *h = hload(&B);
	struct fl_check_result *r = fl_check_probe(h, &c);
	assert_non_null(r);
	fl_chk_history_free(h);
	return r;
}

static void liveness_during_fault(int fail)
{
	fault(0, "added", "kill", "extbank");
	for (int i = 0; i < 5; i++)
		probe(100 + i * 1000, "liveness", fail && i >= 2 ? 503 : 200, 2);
	fault(5000, "removed", "kill", "extbank");
	probe(6000, "liveness", 200, 2);
}

static void test_h1(void **state)
{
	(void)state;
	liveness_during_fault(0);
	struct fl_check_result *r = run();
	expect_state(r, "H1", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	liveness_during_fault(1);
	r = run();
	expect_state(r, "H1", FL_INV_FAILED);
	json_t *ev = fl_check_find(r, "H1")->first;
	assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "fault"),
								"target")), "extbank");
	assert_true(json_array_size(json_object_get(ev, "timeline")) > 0);
	fl_check_result_free(r);
	/* its own database is a dependency for liveness too */
	fault(0, "added", "db_down", "svc");
	probe(500, "liveness", 500, 2);
	fault(1000, "removed", "db_down", "svc");
	r = run();
	expect_state(r, "H1", FL_INV_FAILED);
	fl_check_result_free(r);
	/* a kill recorded once the process is gone: it is down from the signal
	 * (`signalled`), so a refused liveness probe in between, under a
	 * dependency's fault, is the kill's doing; without it, H1 blames the fault */
	for (int with = 1; with >= 0; with--) {
		fault(0, "added", "flap", "extbank");
		probe(100, "liveness", 200, 2);
		probe(1010, "liveness", 0, 0.2);
		if (with)
			killed_at(1020, 1000);
		else
			proc(1020, "killed", 0);
		proc(1500, "started", 0);
		probe(2100, "liveness", 200, 2);
		fault(3000, "removed", "flap", "extbank");
		r = run();
		expect_state(r, "H1", with ? FL_INV_PASSED : FL_INV_FAILED);
		fl_check_result_free(r);
	}
	/* a liveness probe in flight when its own process is killed (sent
	 * before the signal, refused after it) is the kill's doing too */
	for (int with = 1; with >= 0; with--) {
		fault(0, "added", "flap", "extbank");
		probe(100, "liveness", 200, 2);
		probe(990, "liveness", 0, 100);
		if (with)
			killed_at(1020, 1000);
		proc(1500, "started", 0);
		probe(2100, "liveness", 200, 2);
		fault(3000, "removed", "flap", "extbank");
		r = run();
		expect_state(r, "H1", with ? FL_INV_PASSED : FL_INV_FAILED);
		fl_check_result_free(r);
	}
	/* a startup probe's run of failures that spans its process killed and
	 * started again is no restart (a new container counts from zero); the
	 * same run in one lifetime, under a dependency's fault, is */
	for (int with = 1; with >= 0; with--) {
		fault(0, "added", "flap", "extbank");
		probe(100, "startup", 200, 2);
		probe(150, "liveness", 200, 2);
		probe(1100, "startup", 503, 2);
		if (with) {
			killed_at(1500, 1400);
			proc(1800, "started", 0);
		}
		probe(2100, "startup", 503, 2);
		probe(3100, "startup", 503, 2);
		hl(&B, "{\"event\":\"probe_transition\",\"service\":\"svc\",\"kind\":\"startup\","
		       "\"t\":%lld,\"state\":\"failing\",\"action\":\"restart\"}", T(3102));
		fault(4000, "removed", "flap", "extbank");
		r = run();
		expect_state(r, "H1", with ? FL_INV_PASSED : FL_INV_FAILED);
		fl_check_result_free(r);
	}
}

static void test_h2_sigterm(void **state)
{
	(void)state;
	probe(0, "readiness", 200, 1);
	proc(1000, "sigterm", 0);
	probe(1050, "readiness", 200, 1);	/* within the tolerance: in flight */
	probe(2000, "readiness", 503, 1);
	proc(2500, "exited", 0);
	struct fl_check_result *r = run();
	expect_state(r, "H2", FL_INV_PASSED);
	expect_state(r, "H4", FL_INV_PASSED);
	fl_check_result_free(r);
	probe(0, "readiness", 200, 1);
	proc(1000, "sigterm", 0);
	probe(2000, "readiness", 200, 1);	/* ready while draining */
	proc(3500, "exited", 0);
	r = run();
	expect_state(r, "H2", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_h2_database(void **state)
{
	(void)state;
	probe(0, "readiness", 200, 1);
	fault(500, "added", "db_down", "svc");
	probe(1000, "readiness", 503, 1);
	probe(2000, "readiness", 503, 1);
	fault(2500, "removed", "db_down", "svc");
	probe(3000, "readiness", 200, 1);
	probe(6000, "readiness", 200, 1);
	struct fl_check_result *r = run();
	expect_state(r, "H2", FL_INV_PASSED);
	fl_check_result_free(r);
	/* ready with its database down */
	probe(0, "readiness", 200, 1);
	fault(500, "added", "db_down", "svc");
	probe(1000, "readiness", 200, 1);
	probe(2000, "readiness", 200, 1);
	fault(2500, "removed", "db_down", "svc");
	probe(3000, "readiness", 200, 1);
	r = run();
	expect_state(r, "H2", FL_INV_FAILED);
	fl_check_result_free(r);
	/* never recovers */
	fault(500, "added", "db_down", "svc");
	probe(2000, "readiness", 503, 1);
	fault(2500, "removed", "db_down", "svc");
	for (int i = 3; i < 8; i++)
		probe(i * 1000, "readiness", 503, 1);
	r = run();
	expect_state(r, "H2", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "H2")->last_msg, "recover"));
	fl_check_result_free(r);
}

static void test_h3(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		probe(i * 100, "liveness", 200, i == 50 ? 900 : 3);
	struct fl_check_result *r = run();
	expect_state(r, "H3", FL_INV_PASSED);
	fl_check_result_free(r);
	for (int i = 0; i < 100; i++)
		probe(i * 100, "liveness", 200, i % 10 == 0 ? 1200 : 3);
	r = run();
	expect_state(r, "H3", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void shutdown_under_load(int drop)
{
	for (int p = 0; p < 3; p++)
		hl(&B, "{\"t\":%lld,\"process\":%d,\"type\":\"invoke\",\"f\":\"get\",\"value\":"
		       "{\"service\":\"svc\"}}", T(900 + p), p);
	proc(1000, "sigterm", 0);
	for (int p = 0; p < 3; p++) {
		if (drop && p == 1)
			hl(&B, "{\"t\":%lld,\"process\":%d,\"type\":\"info\",\"f\":\"get\",\"value\":"
			       "{\"error\":\"connection reset by peer\"}}", T(1010), p);
		else
			hl(&B, "{\"t\":%lld,\"process\":%d,\"type\":\"ok\",\"f\":\"get\",\"value\":"
			       "{\"status\":200}}", T(1200), p);
	}
	proc(drop ? 1011 : 3000, "exited", 0);
}

static void test_h4(void **state)
{
	(void)state;
	shutdown_under_load(0);
	struct fl_check_result *r = run();
	expect_state(r, "H4", FL_INV_PASSED);
	fl_check_result_free(r);
	shutdown_under_load(1);
	r = run();
	expect_state(r, "H4", FL_INV_FAILED);
	fl_check_result_free(r);
	/* SIGKILL after the grace period, and a bad exit code */
	proc(1000, "sigterm", 0);
	proc(12000, "sigkill", 0);
	r = run();
	expect_state(r, "H4", FL_INV_FAILED);
	fl_check_result_free(r);
	proc(1000, "sigterm", 0);
	proc(2000, "exited", 1);
	r = run();
	expect_state(r, "H4", FL_INV_FAILED);
	fl_check_result_free(r);
	/* the history stops before the process exits: undecided */
	proc(1000, "sigterm", 0);
	probe(1500, "readiness", 503, 1);
	r = run();
	expect_state(r, "H4", FL_INV_UNKNOWN);
	assert_int_equal(r->valid, FL_CHECK_UNKNOWN);
	fl_check_result_free(r);
}

static void test_h5(void **state)
{
	(void)state;
	proc(0, "started", -1);
	hl(&B, "{\"event\":\"probe\",\"service\":\"svc\",\"kind\":\"readiness\",\"start\":%lld,"
	       "\"t\":%lld,\"ok\":false,\"status\":503,\"latency_ms\":1,\"held\":true}", T(500), T(501));
	probe(1000, "startup", 503, 1);
	probe(2000, "startup", 200, 1);
	probe(2100, "readiness", 200, 1);
	struct fl_check_result *r = run();
	expect_state(r, "H5", FL_INV_PASSED);
	fl_check_result_free(r);
	proc(0, "started", -1);
	hl(&B, "{\"event\":\"probe\",\"service\":\"svc\",\"kind\":\"readiness\",\"start\":%lld,"
	       "\"t\":%lld,\"ok\":true,\"status\":200,\"latency_ms\":1,\"held\":true}", T(500), T(501));
	probe(1000, "startup", 503, 1);
	probe(2000, "startup", 200, 1);
	r = run();
	expect_state(r, "H5", FL_INV_FAILED);
	fl_check_result_free(r);
	/* recovery ends between a failing startup probe and a held readiness
	 * probe sent at the same tick: ready, and startup never failed after */
	proc(0, "started", -1);
	probe(1000, "startup", 503, 1);
	hl(&B, "{\"event\":\"probe\",\"service\":\"svc\",\"kind\":\"readiness\",\"start\":%lld,"
	       "\"t\":%lld,\"ok\":true,\"status\":200,\"latency_ms\":2,\"held\":true}", T(1000), T(1002));
	probe(2000, "startup", 200, 1);
	r = run();
	expect_state(r, "H5", FL_INV_PASSED);
	fl_check_result_free(r);
}

/* Requests sent after SIGTERM: inside the drain delay they must be answered. */
static void after_sigterm(long invoke_ms, const char *answer)
{
	proc(1000, "sigterm", 0);
	hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"value\":"
	       "{\"service\":\"svc\"}}", T(invoke_ms));
	hl(&B, "{\"t\":%lld,\"process\":0,%s,\"f\":\"get\",\"value\":{\"service\":\"svc\"%s}}",
	   T(invoke_ms + 5), answer[0] == 'o' ? "\"type\":\"ok\"" : "\"type\":\"info\"",
	   answer[0] == 'o' ? ",\"status\":200" : ",\"error\":\"connection refused\"");
	proc(4000, "exited", 0);
}

static void test_h6(void **state)
{
	(void)state;
	drain_ms = 2000;
	after_sigterm(1500, "ok");
	struct fl_check_result *r = run();
	expect_state(r, "H6", FL_INV_PASSED);
	fl_check_result_free(r);
	after_sigterm(1500, "refused");
	r = run();
	expect_state(r, "H6", FL_INV_FAILED);
	fl_check_result_free(r);
	/* after the drain delay (less the tolerance) refusing is right */
	after_sigterm(2900, "refused");
	r = run();
	expect_state(r, "H6", FL_INV_NOT_CHECKED);
	fl_check_result_free(r);
	/* no drain delay configured: not checked */
	drain_ms = 0;
	after_sigterm(1500, "refused");
	r = run();
	expect_state(r, "H6", FL_INV_NOT_CHECKED);
	fl_check_result_free(r);
}

/* --- the prober against a real server --- */

struct pending {
	struct fl_http_req *req;
	int status;
	struct event *ev;
	struct pending *next, **prev;
};

struct flip {
	int status;		/* what /health answers */
	int delay_ms;		/* answer after this long */
	struct event_base *base;
	struct pending *pending;	/* delayed answers not sent yet */
};

static void reply_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pending *p = arg;
	fl_http_reply_json(p->req, p->status, json_pack("{s:i}", "status", p->status));
	*p->prev = p->next;
	if (p->next)
		p->next->prev = p->prev;
	event_free(p->ev);
	free(p);
}

static void on_health(struct fl_http_req *req, void *arg)
{
	struct flip *f = arg;
	if (!f->delay_ms) {
		fl_http_reply_json(req, f->status, json_pack("{s:i}", "status", f->status));
		return;
	}
	struct pending *p = calloc(1, sizeof(*p));
	p->req = req;
	p->status = f->status;
	p->ev = evtimer_new(f->base, reply_later, p);
	p->next = f->pending;
	p->prev = &f->pending;
	if (f->pending)
		f->pending->prev = &p->next;
	f->pending = p;
	struct timeval tv = { 0, f->delay_ms * 1000 };
	evtimer_add(p->ev, &tv);
}

struct seen {
	json_t *events;
	struct flip *flip;
};

static void collect(const json_t *ev, void *arg)
{
	struct seen *s = arg;
	json_array_append_new(s->events, json_copy((json_t *)ev));
}

struct step {
	int at_ms, status, delay_ms;
	struct flip *f;
	struct event *ev;
};

static void do_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct step *s = arg;
	s->f->status = s->status;
	s->f->delay_ms = s->delay_ms;
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static int count_transitions(json_t *evs, const char *kind, const char *action)
{
	size_t i;
	json_t *e;
	int n = 0;
	json_array_foreach(evs, i, e) {
		if (!strcmp(fl_json_str(e, "event", ""), "probe_transition") &&
		    !strcmp(fl_json_str(e, "kind", ""), kind) &&
		    !strcmp(fl_json_str(e, "action", ""), action))
			n++;
	}
	return n;
}

/* Readiness every 50 ms against a server that answers 200, then 503 for
 * ~400 ms, then 200 again, then slow (past the timeout): removed after 3
 * failures, added back, removed again on timeouts. A liveness probe on the
 * same server restarts the container while it fails. */
static void test_prober_against_server(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	char err[256];
	struct flip f = { 200, 0, base, NULL };
	struct fl_http_server_opts o = { .addr = "127.0.0.1:0" };
	struct fl_http_server *srv = fl_http_server_new(base, &o, err, sizeof(err));
	assert_non_null(srv);
	assert_int_equal(fl_http_server_route(srv, "GET", "/health", on_health, &f), 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/health", fl_http_server_port(srv));
	struct seen s = { json_array(), &f };
	struct fl_prober *p = fl_prober_new(base, "svc", collect, &s, err, sizeof(err));
	assert_non_null(p);
	struct fl_probe_spec sp;
	fl_probe_spec_defaults(&sp, FL_PROBE_READINESS);
	sp.url = url;
	sp.period_ms = 50;
	sp.timeout_ms = 100;
	assert_int_equal(fl_prober_add(p, &sp, err, sizeof(err)), 0);
	fl_probe_spec_defaults(&sp, FL_PROBE_LIVENESS);
	sp.url = url;
	sp.period_ms = 50;
	sp.timeout_ms = 100;
	assert_int_equal(fl_prober_add(p, &sp, err, sizeof(err)), 0);
	assert_int_not_equal(fl_prober_add(p, &sp, err, sizeof(err)), 0);	/* twice */
	sp.kind = FL_PROBE_STARTUP;
	sp.success_threshold = 2;
	assert_int_not_equal(fl_prober_add(p, &sp, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "successThreshold"));
	struct step steps[] = { { 300, 503, 0, &f, NULL }, { 700, 200, 0, &f, NULL },
				{ 1000, 200, 250, &f, NULL } };
	for (size_t i = 0; i < 3; i++) {
		steps[i].ev = evtimer_new(base, do_step, &steps[i]);
		struct timeval tv = { 0, steps[i].at_ms * 1000 };
		evtimer_add(steps[i].ev, &tv);
	}
	struct event *stop = evtimer_new(base, stop_loop, base);
	struct timeval tv = { 1, 500000 };
	evtimer_add(stop, &tv);
	assert_int_equal(fl_prober_start(p), 0);
	event_base_dispatch(base);
	struct fl_prober_status st;
	fl_prober_status(p, &st);
	assert_true(st.results > 40);
	if (getenv("FL_TEST_VERBOSE")) {
		size_t j;
		json_t *x;
		json_array_foreach(s.events, j, x)
			if (!strcmp(fl_json_str(x, "event", ""), "probe_transition"))
				printf("%s\n", json_dumps(x, JSON_COMPACT));
	}
	assert_int_equal(count_transitions(s.events, "readiness", "added"), 2);
	assert_true(count_transitions(s.events, "readiness", "removed") >= 2);
	assert_true(count_transitions(s.events, "liveness", "restart") >= 2);
	assert_true(st.restarts >= 2);
	assert_false(st.ready);
	/* every result is a history event the checker can read */
	size_t i;
	json_t *e;
	int timeouts = 0;
	json_array_foreach(s.events, i, e) {
		if (!strcmp(fl_json_str(e, "event", ""), "probe")) {
			assert_true(fl_json_int(e, "t", 0) >= fl_json_int(e, "start", 0));
			const char *er = fl_json_str(e, "error", NULL);
			timeouts += er && !strcmp(er, "timeout");
		}
	}
	assert_true(timeouts > 0);
	fl_prober_free(p);
	for (size_t k = 0; k < 3; k++)
		event_free(steps[k].ev);
	event_free(stop);
	fl_http_server_free(srv);
	/* answers still pending were abandoned with the server */
	while (f.pending) {
		struct pending *n = f.pending->next;
		event_free(f.pending->ev);
		free(f.pending);
		f.pending = n;
	}
	json_decref(s.events);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h1),
		cmocka_unit_test(test_h2_sigterm),
		cmocka_unit_test(test_h2_database),
		cmocka_unit_test(test_h3),
		cmocka_unit_test(test_h4),
		cmocka_unit_test(test_h5),
		cmocka_unit_test(test_h6),
		cmocka_unit_test(test_prober_against_server),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fl_buf_free(&B);
	return rc;
}
