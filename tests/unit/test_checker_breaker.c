/* Circuit-breaker checker on hand-written histories: each Resilience4j rule
 * both ways, including the boundaries (exactly at the threshold, n = m_eff - 1,
 * calls in flight across a transition, slow at exactly D, k+1 trials). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_checker_util.h"

static struct fl_buf B;

/* N 10, m 5, F 50, S 100, D 1000 ms, W 5000 ms, k 3, tolerance 100 ms. */
static void cfg(struct fl_breaker_config *c)
{
	fl_breaker_config_defaults(c);
	strcpy(c->name, "b");
	c->window_size = 10;
	c->minimum_calls = 5;
	c->slow_call_duration_ms = 1000;
	c->wait_open_ms = 5000;
	c->half_open_calls = 3;
}

static void call(long s_ms, long e_ms, const char *outcome)
{
	hl(&B, "{\"event\":\"breaker_call\",\"breaker\":\"b\",\"start\":%lld,\"end\":%lld,"
	       "\"outcome\":\"%s\"}", s_ms * MSNS, e_ms * MSNS, outcome);
}

static void tr(long t_ms, const char *from, const char *to)
{
	hl(&B, "{\"event\":\"breaker_transition\",\"breaker\":\"b\",\"t\":%lld,\"from\":\"%s\","
	       "\"to\":\"%s\"}", t_ms * MSNS, from, to);
}

static struct fl_check_result *run(const struct fl_breaker_config *c)
{
	struct fl_chk_history *h = hload(&B);
	struct fl_check_result *r = fl_check_breaker(h, c);
	assert_non_null(r);
	fl_chk_history_free(h);
	return r;
}

/* S S F F S F: at n = 6, 3 failures = exactly 50 %: trips (>=). */
static void six_at_threshold(int transition)
{
	const char *o[] = { "success", "success", "failure", "failure", "success", "failure" };
	for (int i = 0; i < 6; i++)
		call(i * 100, i * 100 + 50, o[i]);
	if (transition)
		tr(551, "CLOSED", "OPEN");
	call(800, 810, "rejected");
	call(900, 905, "success");	/* reached downstream 350 ms later if it did not open */
}

static void test_trips_exactly_at_threshold(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	six_at_threshold(1);
	/* with the transition reported, the call at 900 was not let through: drop it */
	fl_buf_reset(&B);
	const char *o[] = { "success", "success", "failure", "failure", "success", "failure" };
	for (int i = 0; i < 6; i++)
		call(i * 100, i * 100 + 50, o[i]);
	tr(551, "CLOSED", "OPEN");
	call(800, 810, "rejected");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C3", FL_INV_PASSED);
	expect_state(r, "C4", FL_INV_PASSED);
	expect_state(r, "C1", FL_INV_NOT_CHECKED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
}

static void test_stays_closed_past_threshold(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	six_at_threshold(0);
	struct fl_check_result *r = run(&c);
	expect_state(r, "C3", FL_INV_FAILED);
	assert_int_equal(r->valid, FL_CHECK_INVALID);
	struct fl_check_invariant *v = fl_check_find(r, "C3");
	assert_non_null(strstr(v->first_msg, "stayed CLOSED"));
	assert_non_null(json_object_get(v->first, "calls_around"));
	fl_check_result_free(r);
}

/* n = m_eff - 1 = 4 outcomes, all failures: not decided. */
static void test_below_minimum_does_not_trip(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	for (int i = 0; i < 4; i++)
		call(i * 100, i * 100 + 50, "failure");
	call(1000, 1010, "success");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C3", FL_INV_PASSED);	/* rightly stayed closed on all 5 */
	expect_state(r, "C4", FL_INV_NOT_CHECKED);
	assert_int_equal(fl_check_find(r, "C3")->checked, 5);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* and opening there is a C4 violation */
	for (int i = 0; i < 4; i++)
		call(i * 100, i * 100 + 50, "failure");
	tr(351, "CLOSED", "OPEN");
	r = run(&c);
	expect_state(r, "C4", FL_INV_FAILED);
	fl_check_result_free(r);
}

/* A call started before the trip ends after the transition: in flight, no
 * violation; its failure is recorded but causes nothing. A call starting
 * 300 ms after the transition is a C1 violation. */
static void test_in_flight_across_transition(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	for (int i = 0; i < 5; i++)
		call(i * 100, i * 100 + 50, "failure");	/* trips at 450 */
	call(420, 700, "failure");			/* in flight */
	tr(451, "CLOSED", "OPEN");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C1", FL_INV_NOT_CHECKED);	/* it started while CLOSED */
	expect_state(r, "C3", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);

	for (int i = 0; i < 5; i++)
		call(i * 100, i * 100 + 50, "failure");
	tr(451, "CLOSED", "OPEN");
	call(750, 760, "success");
	r = run(&c);
	expect_state(r, "C1", FL_INV_FAILED);
	fl_check_result_free(r);
}

/* Slow iff duration > D: five calls of exactly 1000 ms are not slow. */
static void test_slow_at_exactly_d(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	for (int i = 0; i < 5; i++)
		call(i * 10, i * 10 + 1000, "success");
	tr(1041, "CLOSED", "OPEN");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C3", FL_INV_FAILED);	/* opened though nothing was slow */
	fl_check_result_free(r);
	for (int i = 0; i < 5; i++)
		call(i * 10, i * 10 + 1001, "success");
	tr(1042, "CLOSED", "OPEN");
	r = run(&c);
	expect_state(r, "C3", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
}

static void open_at_450(void)
{
	for (int i = 0; i < 5; i++)
		call(i * 100, i * 100 + 50, "failure");
	tr(451, "CLOSED", "OPEN");
}

/* HALF_OPEN permits k = 3 trials: three are fine, a fourth is C2. */
static void test_half_open_permits(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	open_at_450();
	tr(5460, "OPEN", "HALF_OPEN");
	call(5460, 5470, "success");
	call(5461, 5471, "success");
	call(5462, 5472, "success");
	tr(5473, "HALF_OPEN", "CLOSED");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C2", FL_INV_PASSED);
	expect_state(r, "C5", FL_INV_PASSED);
	expect_state(r, "C6", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);

	open_at_450();
	tr(5460, "OPEN", "HALF_OPEN");
	for (int i = 0; i < 4; i++)
		call(5460 + i, 5500 + i, "success");
	r = run(&c);
	expect_state(r, "C2", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "C2")->first_msg, "trial call 4"));
	fl_check_result_free(r);
}

/* HALF_OPEN must decide on m_eff = min(m, k) = 3 trials. */
static void test_half_open_decisions(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	open_at_450();
	tr(5460, "OPEN", "HALF_OPEN");
	call(5460, 5470, "success");
	call(5461, 5471, "success");
	tr(5472, "HALF_OPEN", "CLOSED");	/* after 2 of 3 */
	struct fl_check_result *r = run(&c);
	expect_state(r, "C5", FL_INV_FAILED);
	fl_check_result_free(r);

	open_at_450();
	tr(5460, "OPEN", "HALF_OPEN");
	call(5460, 5470, "failure");
	call(5461, 5471, "failure");
	call(5462, 5472, "success");
	tr(5473, "HALF_OPEN", "OPEN");		/* 67 % >= 50 %: reopen */
	r = run(&c);
	expect_state(r, "C5", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);

	open_at_450();
	tr(5460, "OPEN", "HALF_OPEN");
	call(5460, 5470, "failure");
	call(5461, 5471, "failure");
	call(5462, 5472, "success");
	tr(5473, "HALF_OPEN", "CLOSED");	/* should have reopened */
	r = run(&c);
	expect_state(r, "C5", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_half_open_before_wait(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	open_at_450();
	tr(3000, "OPEN", "HALF_OPEN");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C6", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "C6")->first_msg, "before the wait"));
	fl_check_result_free(r);
}

/* Rejections long after W mean the breaker is stuck open. */
static void test_stuck_open(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	open_at_450();
	call(1000, 1001, "rejected");
	call(4000, 4001, "rejected");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C6", FL_INV_NOT_CHECKED);
	expect_state(r, "C7", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);

	open_at_450();
	call(1000, 1001, "rejected");
	call(9000, 9001, "rejected");
	call(20000, 20001, "rejected");
	r = run(&c);
	expect_state(r, "C6", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "C6")->count, 1);
	fl_check_result_free(r);
}

static void test_fast_failure(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	open_at_450();
	call(1000, 1060, "rejected");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C7", FL_INV_FAILED);
	fl_check_result_free(r);
	/* and on the client side: an op failing with circuit_open after 80 ms */
	hl(&B, "{\"t\":%lld,\"process\":1,\"type\":\"invoke\",\"f\":\"transfer\"}", 100 * MSNS);
	hl(&B, "{\"t\":%lld,\"process\":1,\"type\":\"fail\",\"f\":\"transfer\","
	       "\"value\":{\"error\":\"circuit_open\"}}", 180 * MSNS);
	hl(&B, "{\"t\":%lld,\"process\":2,\"type\":\"invoke\",\"f\":\"transfer\"}", 100 * MSNS);
	hl(&B, "{\"t\":%lld,\"process\":2,\"type\":\"fail\",\"f\":\"transfer\","
	       "\"value\":{\"error\":\"circuit_open\"}}", 102 * MSNS);
	r = run(&c);
	expect_state(r, "C7", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "C7")->count, 1);
	assert_int_equal(fl_check_find(r, "C7")->checked, 2);
	fl_check_result_free(r);
}

/* Time-based window of 2 s: failures 3 s apart do not add up. */
static void test_time_window(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	c.window_type = FL_WINDOW_TIME;
	c.window_size = 2;
	c.minimum_calls = 3;
	call(100, 110, "failure");
	call(200, 210, "failure");
	call(3100, 3110, "failure");
	tr(3111, "CLOSED", "OPEN");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C4", FL_INV_FAILED);
	fl_check_result_free(r);
	call(100, 110, "failure");
	call(200, 210, "failure");
	call(300, 1110, "failure");
	tr(1111, "CLOSED", "OPEN");
	r = run(&c);
	expect_state(r, "C4", FL_INV_PASSED);
	expect_state(r, "C3", FL_INV_PASSED);
	fl_check_result_free(r);
}

/* Black-box: only the proxy's exchanges on the link. */
static void exch(long s_ms, long e_ms, int status)
{
	hl(&B, "{\"event\":\"http_exchange\",\"link\":\"a->b\",\"method\":\"GET\",\"path\":\"/x\","
	       "\"status\":%d,\"start\":%lld,\"end\":%lld}", status, s_ms * MSNS, e_ms * MSNS);
}

static void test_black_box(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	c.name[0] = '\0';
	strcpy(c.link, "a->b");
	for (int i = 0; i < 5; i++)
		exch(i * 100, i * 100 + 50, 503);
	for (int i = 0; i < 5; i++)
		exch(1000 + i * 100, 1050 + i * 100, 503);	/* kept passing: never opened */
	struct fl_check_result *r = run(&c);
	expect_state(r, "C3", FL_INV_FAILED);
	fl_check_result_free(r);

	for (int i = 0; i < 5; i++)
		exch(i * 100, i * 100 + 50, 503);
	exch(5500, 5510, 200);	/* after W: trials */
	exch(5501, 5511, 200);
	exch(5502, 5512, 200);
	exch(7000, 7010, 200);	/* closed again */
	r = run(&c);
	expect_state(r, "C3", FL_INV_PASSED);
	expect_state(r, "C2", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);

	for (int i = 0; i < 5; i++)
		exch(i * 100, i * 100 + 50, 503);
	for (int i = 0; i < 6; i++)
		exch(5500 + i, 5600 + i, 200);	/* a flood of trials */
	r = run(&c);
	expect_state(r, "C2", FL_INV_FAILED);
	fl_check_result_free(r);
}


/* A killed service comes back with a fresh breaker: outcomes before the
 * kill do not count after it (process events of the breaker's service). */
/* C8: recorded outcomes against the exchange each call made on the link. */
static void test_claims_vs_wire(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	strcpy(c.link, "a->b");
	c.claims = true;
	/* 200 success, 404 success, 503 failure, no answer in time failure */
	call(0, 20, "success");
	exch(5, 19, 200);
	call(100, 120, "success");
	exch(105, 119, 404);
	call(200, 220, "failure");
	exch(205, 219, 503);
	call(300, 320, "failure");
	exch(305, 900, 200);	/* the caller gave up at 320 */
	struct fl_check_result *r = run(&c);
	expect_state(r, "C8", FL_INV_PASSED);
	fl_check_result_free(r);
	/* a 4xx recorded as a failure */
	call(0, 20, "failure");
	exch(5, 19, 404);
	r = run(&c);
	expect_state(r, "C8", FL_INV_FAILED);
	fl_check_result_free(r);
	/* ... unless the breaker documents 4xx as failures */
	c.failure_status_min = 400;
	call(0, 20, "failure");
	exch(5, 19, 404);
	r = run(&c);
	expect_state(r, "C8", FL_INV_PASSED);
	fl_check_result_free(r);
	c.failure_status_min = 500;
	/* a timeout recorded as a success */
	call(0, 20, "success");
	exch(5, 900, 200);
	r = run(&c);
	expect_state(r, "C8", FL_INV_FAILED);
	fl_check_result_free(r);
	/* two overlapping calls and two exchanges: whose is whose is unknown */
	call(0, 50, "failure");
	call(10, 60, "success");
	exch(12, 40, 404);
	exch(14, 45, 503);
	r = run(&c);
	expect_state(r, "C8", FL_INV_NOT_CHECKED);
	fl_check_result_free(r);
	/* the answer left the proxy long before the caller finished (a latency
	 * toxic on the way back): the wire cannot tell what the caller saw */
	call(0, 2000, "failure");
	exch(5, 19, 200);
	r = run(&c);
	expect_state(r, "C8", FL_INV_NOT_CHECKED);
	fl_check_result_free(r);
}

static void exch_err(long s_ms, long e_ms, const char *error)
{
	hl(&B, "{\"event\":\"http_exchange\",\"link\":\"a->b\",\"method\":\"GET\",\"path\":\"/x\","
	       "\"status\":null,\"error\":\"%s\",\"start\":%lld,\"end\":%lld}", error,
	   s_ms * MSNS, e_ms * MSNS);
}

/* The proxy's record of a caller that gave up (it closed before the
 * answer): a failure, whatever the breaker said. */
static void test_claims_client_gave_up(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	strcpy(c.link, "a->b");
	c.claims = true;
	call(0, 2000, "failure");
	exch_err(5, 2001, "client closed before the response");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C8", FL_INV_PASSED);
	fl_check_result_free(r);
	call(0, 2000, "success");
	exch_err(5, 2001, "client closed before the response");
	r = run(&c);
	expect_state(r, "C8", FL_INV_FAILED);
	fl_check_result_free(r);
}

/* The proxy's own fault records (toxic_added / toxic_removed on the link):
 * a call under a fault below HTTP is not judged, one after its removal is;
 * a removal with no add in the history was on from the start. */
static void test_claims_proxy_toxics(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	strcpy(c.link, "a->b");
	hl(&B, "{\"event\":\"toxic_added\",\"link\":\"a->b\",\"t\":0,"
	       "\"toxic\":{\"name\":\"slow\",\"type\":\"reset_peer\",\"attributes\":{}}}");
	call(100, 120, "failure");
	exch(105, 119, 200);
	hl(&B, "{\"event\":\"toxic_removed\",\"link\":\"a->b\",\"t\":%lld,"
	       "\"toxic\":{\"name\":\"slow\",\"type\":\"reset_peer\"}}", 500 * MSNS);
	struct fl_check_result *r = run(&c);
	expect_state(r, "C8", FL_INV_NOT_CHECKED);
	fl_check_result_free(r);
	call(100, 120, "failure");
	exch(105, 119, 200);
	hl(&B, "{\"event\":\"toxic_removed\",\"link\":\"a->b\",\"t\":%lld,"
	       "\"toxic\":{\"name\":\"slow\",\"type\":\"reset_peer\"}}", 500 * MSNS);
	call(1000, 1020, "failure");
	exch(1005, 1019, 200);
	r = run(&c);
	expect_state(r, "C8", FL_INV_FAILED); /* judged after the removal only */
	assert_int_equal(fl_check_find(r, "C8")->checked, 1);
	fl_check_result_free(r);
}

/* A request the proxy saw on a kept-alive connection the downstream had
 * already closed never reached it; the client resent it: one trial call,
 * not two (C2), and its own exchange is the resend's (C8). */
static void test_resend_is_one_call(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	strcpy(c.link, "a->b");
	c.claims = true;
	for (int i = 0; i < 5; i++) {
		call(i * 100, i * 100 + 50, "failure");
		exch(i * 100 + 5, i * 100 + 45, 503);
	}
	tr(450, "CLOSED", "OPEN");
	tr(5500, "OPEN", "HALF_OPEN");
	for (int i = 0; i < 3; i++) {
		long s0 = 5500 + i * 100;
		call(s0, s0 + 50, "success");
		if (i == 1)
			exch_err(s0 + 2, s0 + 3, "upstream closed before the request");
		exch(s0 + 5, s0 + 45, 200);
	}
	tr(5751, "HALF_OPEN", "CLOSED");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C2", FL_INV_PASSED);
	expect_state(r, "C8", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* the answer to a trial dropped by the proxy: the client resends it at
	 * once on a new connection (it reached the downstream twice, as one
	 * call); a fourth trial is still one too many */
	for (int i = 0; i < 5; i++) {
		call(i * 100, i * 100 + 50, "failure");
		exch(i * 100 + 5, i * 100 + 45, 503);
	}
	tr(450, "CLOSED", "OPEN");
	tr(5500, "OPEN", "HALF_OPEN");
	call(5500, 5550, "success");
	exch(5505, 5545, 200);
	call(5600, 5650, "success"); /* what the resend's answer said */
	hl(&B, "{\"event\":\"http_exchange\",\"link\":\"a->b\",\"method\":\"GET\",\"path\":\"/x\","
	       "\"status\":200,\"fault\":\"http_drop_response\",\"start\":%lld,\"end\":%lld}",
	   5605 * MSNS, 5620 * MSNS);
	exch(5622, 5640, 200);
	call(5700, 5750, "success");
	exch(5705, 5745, 200);
	tr(5751, "HALF_OPEN", "CLOSED");
	r = run(&c);
	expect_state(r, "C2", FL_INV_PASSED);
	expect_state(r, "C8", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
}

/* A HALF_OPEN trial still out when the other trials closed the breaker is
 * counted in no window: one failure after the close is 1 outcome of the 2
 * needed (m = 2), so opening on it is C4, and staying closed is right. */
static void test_stale_trial_not_in_closed_window(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	c.minimum_calls = 2;
	call(0, 10, "failure");
	call(20, 30, "failure");
	tr(31, "CLOSED", "OPEN");
	tr(5100, "OPEN", "HALF_OPEN");
	call(5100, 5900, "success"); /* the slow trial */
	call(5200, 5210, "success");
	call(5300, 5310, "success");
	tr(5311, "HALF_OPEN", "CLOSED");
	call(6000, 6010, "failure");
	struct fl_check_result *r = run(&c);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* the same, with a breaker that counted the stale trial and opened */
	call(0, 10, "failure");
	call(20, 30, "failure");
	tr(31, "CLOSED", "OPEN");
	tr(5100, "OPEN", "HALF_OPEN");
	call(5100, 5900, "success");
	call(5200, 5210, "success");
	call(5300, 5310, "success");
	tr(5311, "HALF_OPEN", "CLOSED");
	call(6000, 6010, "failure");
	tr(6011, "CLOSED", "OPEN");
	r = run(&c);
	expect_state(r, "C4", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_new_lifetime_after_kill(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	for (int with_restart = 0; with_restart < 2; with_restart++) {
		for (int i = 0; i < 4; i++)
			hl(&B, "{\"event\":\"breaker_call\",\"breaker\":\"b\",\"service\":\"svc\","
			       "\"start\":%lld,\"end\":%lld,\"outcome\":\"failure\"}", i * 100 * MSNS,
			   (i * 100 + 50) * MSNS);
		if (with_restart) {
			hl(&B, "{\"event\":\"process\",\"t\":%lld,\"service\":\"svc\",\"action\":\"killed\"}",
			   500 * MSNS);
			hl(&B, "{\"event\":\"process\",\"t\":%lld,\"service\":\"svc\",\"action\":\"started\"}",
			   900 * MSNS);
		}
		hl(&B, "{\"event\":\"breaker_call\",\"breaker\":\"b\",\"service\":\"svc\",\"start\":%lld,"
		       "\"end\":%lld,\"outcome\":\"failure\"}", 1000 * MSNS, 1050 * MSNS);
		call(2000, 2010, "success");
		struct fl_check_result *r = run(&c);
		expect_state(r, "C3", with_restart ? FL_INV_PASSED : FL_INV_FAILED);
		fl_check_result_free(r);
	}
}


/* With automatic transition the timer moves OPEN to HALF_OPEN at W, calls
 * or not; a breaker still OPEN well past W is stuck. */
static void test_automatic_transition(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	c.automatic_transition = true;
	open_at_450();
	tr(5452, "OPEN", "HALF_OPEN");
	call(9000, 9010, "success");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C6", FL_INV_PASSED);
	fl_check_result_free(r);
	open_at_450();
	call(9000, 9010, "rejected");	/* 8.5 s after opening, no transition yet */
	r = run(&c);
	expect_state(r, "C6", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "C6")->count, 1);
	fl_check_result_free(r);
	open_at_450();
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", 12000 * MSNS);	/* the history goes on */
	r = run(&c);
	expect_state(r, "C6", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_config_from_breakers_output(void **state)
{
	(void)state;
	const char *text = "[{\"name\":\"banking\",\"state\":\"CLOSED\",\"config\":{"
			   "\"window_type\":\"COUNT_BASED\",\"window_size\":10,\"minimum_calls\":5,"
			   "\"failure_rate_threshold\":50,\"slow_call_rate_threshold\":100,"
			   "\"slow_call_duration_ms\":1000,\"wait_open_ms\":5000,"
			   "\"half_open_calls\":3,\"automatic_transition\":false}},"
			   "{\"name\":\"money\",\"state\":\"OPEN\",\"config\":{\"window_size\":20}}]";
	json_t *j = json_loads(text, 0, NULL);
	struct fl_breaker_config c;
	char err[256];
	fl_breaker_config_defaults(&c);
	assert_int_equal(fl_breaker_config_from_json(&c, j, "banking", err, sizeof(err)), 0);
	assert_string_equal(c.name, "banking");
	assert_int_equal(c.window_size, 10);
	assert_int_equal(c.minimum_calls, 5);
	assert_int_equal(c.half_open_calls, 3);
	assert_int_equal(c.wait_open_ms, 5000);
	fl_breaker_config_defaults(&c);
	assert_int_not_equal(fl_breaker_config_from_json(&c, j, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "several"));
	assert_int_not_equal(fl_breaker_config_from_json(&c, j, "nope", err, sizeof(err)), 0);
	json_decref(j);
	/* the reference system's spelling, with state and counters around it */
	j = json_loads("{\"name\":\"remittance->banking\",\"state\":\"OPEN\",\"config\":{"
		       "\"window_type\":\"COUNT_BASED\",\"window\":12,\"minimum_calls\":4,"
		       "\"wait_in_open_ms\":700,\"permitted_calls_in_half_open\":2},"
		       "\"window\":{\"size\":12,\"calls\":3},\"totals\":{\"rejected\":5}}", 0, NULL);
	fl_breaker_config_defaults(&c);
	assert_int_equal(fl_breaker_config_from_json(&c, j, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.name, "remittance->banking");
	assert_int_equal(c.window_size, 12);
	assert_int_equal(c.minimum_calls, 4);
	assert_int_equal(c.wait_open_ms, 700);
	assert_int_equal(c.half_open_calls, 2);
	json_decref(j);
	j = json_loads("{\"window_size\":10,\"bogus\":1}", 0, NULL);
	assert_int_not_equal(fl_breaker_config_from_json(&c, j, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "bogus"));
	json_decref(j);
}

/* A window (`since`): earlier events build the model's state, violations
 * are reported only for what starts at or after it. */
static void test_since_window(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	/* a C1 violation at 750, then a correct episode from 10 s: the window
	 * from 10 s is valid, the whole history is not */
	open_at_450();
	call(750, 760, "success");		/* reached the downstream while OPEN */
	tr(5460, "OPEN", "HALF_OPEN");
	for (int i = 0; i < 3; i++)
		call(5460 + i, 5470 + i, "success");
	tr(5473, "HALF_OPEN", "CLOSED");
	for (int i = 0; i < 4; i++)
		call(10000 + i * 100, 10050 + i * 100, "failure");
	struct fl_buf keep = { 0 };
	assert_int_equal(fl_buf_append(&keep, B.data, B.len), 0);
	struct fl_check_result *r = run(&c);
	expect_state(r, "C1", FL_INV_FAILED);
	fl_check_result_free(r);
	c.since = 10000 * MSNS;
	assert_int_equal(fl_buf_append(&B, keep.data, keep.len), 0);
	r = run(&c);
	expect_state(r, "C1", FL_INV_NOT_CHECKED);
	expect_state(r, "C3", FL_INV_PASSED);
	assert_int_equal(fl_check_find(r, "C3")->checked, 4);	/* only the window's outcomes */
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	fl_buf_free(&keep);
	/* state from before the window: four failures before it and one in it
	 * make five, m_eff: opening at the fifth is right (C4 passes), and
	 * staying closed past it is a C3 violation in the window */
	for (int with_open = 0; with_open < 2; with_open++) {
		for (int i = 0; i < 4; i++)
			call(i * 100, i * 100 + 50, "failure");
		call(1000, 1050, "failure");
		if (with_open)
			tr(1051, "CLOSED", "OPEN");
		call(1500, 1510, with_open ? "rejected" : "success");
		c.since = 900 * MSNS;
		r = run(&c);
		if (with_open) {
			expect_state(r, "C4", FL_INV_PASSED);
			expect_state(r, "C3", FL_INV_PASSED);
			assert_int_equal(r->valid, FL_CHECK_VALID);
		} else {
			expect_state(r, "C3", FL_INV_FAILED);
		}
		fl_check_result_free(r);
	}
	/* a /breakers entry takes `since` beside its config; it must be a number */
	char err[256];
	json_t *j = json_loads("{\"name\":\"b\",\"since\":42,\"config\":{\"window\":10}}", 0, NULL);
	fl_breaker_config_defaults(&c);
	assert_int_equal(fl_breaker_config_from_json(&c, j, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.since, 42);
	json_decref(j);
	j = json_loads("{\"since\":\"yesterday\"}", 0, NULL);
	assert_int_not_equal(fl_breaker_config_from_json(&c, j, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "since"));
	json_decref(j);
}

/* C6 evidence of a breaker stuck open: refusals after W. The reference
 * system's remittance reports a saga it defers at the door as a rejected
 * breaker_call ("t", duration 0); clients see operations answered
 * DEFERRED / circuit_open (the workload's info ops). */
static void door_reject(long t_ms)
{
	hl(&B, "{\"type\":\"breaker_call\",\"service\":\"remittance\",\"t\":%lld,\"breaker\":\"b\","
	       "\"outcome\":\"rejected\",\"state\":\"OPEN\",\"slow\":false,\"duration_ms\":0.0,"
	       "\"epoch\":1,\"seq\":9}", t_ms * MSNS);
}

static void client_refused(int process, long inv_ms, long done_ms, const char *extra)
{
	hl(&B, "{\"t\":%lld,\"process\":%d,\"type\":\"invoke\",\"f\":\"topup\","
	       "\"value\":{\"key\":\"k%d\",\"member\":\"3\",\"amount\":500}}", inv_ms * MSNS, process,
	   process);
	hl(&B, "{\"t\":%lld,\"process\":%d,\"type\":\"info\",\"f\":\"topup\","
	       "\"value\":{\"key\":\"k%d\",\"member\":\"3\",\"amount\":500,\"status\":202,"
	       "\"saga_id\":\"S%d\",\"state\":\"DEFERRED\",\"reason\":\"circuit_open\"%s}}",
	   done_ms * MSNS, process, process, process, extra);
}

static void test_stuck_open_evidence(void **state)
{
	(void)state;
	struct fl_breaker_config c;
	cfg(&c);
	/* the service's own door rejections: at 3 s fine, at 9 s stuck */
	for (int late = 0; late < 2; late++) {
		open_at_450();
		door_reject(3000);
		if (late)
			door_reject(9000);
		struct fl_check_result *r = run(&c);
		expect_state(r, "C6", late ? FL_INV_FAILED : FL_INV_NOT_CHECKED);
		if (late)
			assert_non_null(strstr(fl_check_find(r, "C6")->first_msg, "line 8"));
		fl_check_result_free(r);
	}
	/* client operations refused: invoked at 3 s fine; invoked at 8 s (W is
	 * 5 s after opening at 0.45 s) while still OPEN: stuck */
	for (int late = 0; late < 2; late++) {
		open_at_450();
		client_refused(1, 3000, 3004, "");
		if (late)
			client_refused(2, 8000, 8003, "");
		struct fl_check_result *r = run(&c);
		expect_state(r, "C6", late ? FL_INV_FAILED : FL_INV_NOT_CHECKED);
		expect_state(r, "C7", FL_INV_PASSED);
		if (late) {
			struct fl_check_invariant *v = fl_check_find(r, "C6");
			assert_non_null(strstr(v->first_msg, "client operation invoked 7.5 s after"));
			assert_int_equal(json_integer_value(json_object_get(v->first, "invoke_line")), 9);
		}
		fl_check_result_free(r);
	}
	/* not evidence: refused after it went HALF_OPEN (trials used up), or
	 * refused by another breaker, or sent to another service, or invoked
	 * before the checked window */
	open_at_450();
	tr(5460, "OPEN", "HALF_OPEN");
	client_refused(1, 8000, 8003, "");
	client_refused(2, 8100, 8103, ",\"breaker\":\"other\"");
	struct fl_check_result *r = run(&c);
	expect_state(r, "C6", FL_INV_PASSED);
	assert_int_equal(fl_check_find(r, "C7")->checked, 1);	/* not the other breaker's */
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	open_at_450();
	hl(&B, "{\"event\":\"breaker_call\",\"breaker\":\"b\",\"service\":\"remittance\","
	       "\"start\":%lld,\"end\":%lld,\"outcome\":\"failure\"}", 10 * MSNS, 20 * MSNS);
	client_refused(2, 8100, 8103, ",\"breaker\":\"other\"");
	client_refused(3, 8200, 8203, ",\"service\":\"money\"");
	client_refused(4, 8300, 8303, ",\"breaker\":\"b\",\"service\":\"remittance\"");
	r = run(&c);
	expect_state(r, "C6", FL_INV_FAILED);
	assert_int_equal(json_integer_value(json_object_get(fl_check_find(r, "C6")->first,
							    "invoke_line")), 12);
	fl_check_result_free(r);
	open_at_450();
	client_refused(1, 8000, 8003, "");
	c.since = 8500 * MSNS;
	r = run(&c);
	expect_state(r, "C6", FL_INV_NOT_CHECKED);
	fl_check_result_free(r);
	c.since = INT64_MIN;
	/* black-box (only the proxy's exchanges and the clients): it tripped at
	 * 0.45 s and nothing reached the downstream since; refusals after W */
	c.name[0] = '\0';
	strcpy(c.link, "a->b");
	for (int late = 0; late < 2; late++) {
		for (int i = 0; i < 5; i++)
			exch(i * 100, i * 100 + 50, 503);
		client_refused(1, late ? 9000 : 2000, late ? 9002 : 2002, "");
		r = run(&c);
		expect_state(r, "C6", late ? FL_INV_FAILED : FL_INV_NOT_CHECKED);
		fl_check_result_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trips_exactly_at_threshold),
		cmocka_unit_test(test_stays_closed_past_threshold),
		cmocka_unit_test(test_below_minimum_does_not_trip),
		cmocka_unit_test(test_in_flight_across_transition),
		cmocka_unit_test(test_slow_at_exactly_d),
		cmocka_unit_test(test_half_open_permits),
		cmocka_unit_test(test_half_open_decisions),
		cmocka_unit_test(test_half_open_before_wait),
		cmocka_unit_test(test_stuck_open),
		cmocka_unit_test(test_fast_failure),
		cmocka_unit_test(test_time_window),
		cmocka_unit_test(test_black_box),
		cmocka_unit_test(test_new_lifetime_after_kill),
		cmocka_unit_test(test_automatic_transition),
		cmocka_unit_test(test_config_from_breakers_output),
		cmocka_unit_test(test_since_window),
		cmocka_unit_test(test_stuck_open_evidence),
		cmocka_unit_test(test_claims_vs_wire),
		cmocka_unit_test(test_claims_client_gave_up),
		cmocka_unit_test(test_claims_proxy_toxics),
		cmocka_unit_test(test_resend_is_one_call),
		cmocka_unit_test(test_stale_trial_not_in_closed_window),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fl_buf_free(&B);
	return rc;
}
