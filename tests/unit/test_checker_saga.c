/* Saga/money and bank checkers on hand-written histories: every invariant
 * both ways (M1-M3, S1-S8, Q1-Q2, B1-B2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_checker_util.h"

static struct fl_buf B;

#define T(ms) ((long long)(ms) * MSNS)

static void started(long ms, const char *id, long amount, int pivot)
{
	hl(&B, "{\"event\":\"saga_started\",\"t\":%lld,\"saga_id\":\"%s\",\"type\":\"external\","
	       "\"amount\":%ld,\"pivot_step\":%d,\"request_key\":\"rk-%s\"}", T(ms), id, amount,
	   pivot, id);
}

static void step(long ms, const char *ev, const char *id, int k, const char *dir)
{
	hl(&B, "{\"event\":\"%s\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":%d,\"dir\":\"%s\","
	       "\"key\":\"%s:%d:%s\",\"participant\":\"%s\"}", ev, T(ms), id, k, dir, id, k, dir,
	   k == 2 ? "banking" : "money");
}

static void resolved(long ms, const char *id, int k, const char *outcome)
{
	hl(&B, "{\"event\":\"step_resolved\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":%d,"
	       "\"dir\":\"fwd\",\"outcome\":\"%s\"}", T(ms), id, k, outcome);
}

static void ended(long ms, const char *id, const char *state, const char *reason)
{
	hl(&B, "{\"event\":\"saga_ended\",\"t\":%lld,\"saga_id\":\"%s\",\"state\":\"%s\"%s%s%s}",
	   T(ms), id, state, reason ? ",\"reason\":\"" : "", reason ? reason : "",
	   reason ? "\"" : "");
}

static void effect(long ms, const char *part, const char *key, const char *from, const char *to,
		   long amount)
{
	hl(&B, "{\"event\":\"effect\",\"t\":%lld,\"participant\":\"%s\",\"key\":\"%s\","
	       "\"from\":\"%s\",\"to\":\"%s\",\"amount\":%ld}", T(ms), part, key, from, to, amount);
}

static void money(long ms, long a, long b, long transit, long corp)
{
	hl(&B, "{\"event\":\"money_snapshot\",\"t\":%lld,\"accounts\":{\"wallet:A\":%ld,"
	       "\"wallet:B\":%ld,\"TRANSIT\":%ld,\"CORP\":%ld}}", T(ms), a, b, transit, corp);
}

static void bank(long ms, long corp, long x, long total)
{
	hl(&B, "{\"event\":\"bank_snapshot\",\"t\":%lld,\"accounts\":{\"CORP\":%ld,\"X\":%ld},"
	       "\"initial_total\":%ld}", T(ms), corp, x, total);
}

/* A completed external transfer of 100 from A: debit (1), firm banking
 * (2, pivot), settle (3). Ledger: A 900, CORP -900 +100 = -800. */
static void good_saga(const char *id)
{
	started(0, id, 100, 2);
	step(10, "step_requested", id, 1, "fwd");
	step(20, "step_succeeded", id, 1, "fwd");
	step(30, "step_requested", id, 2, "fwd");
	step(40, "step_succeeded", id, 2, "fwd");
	step(50, "step_requested", id, 3, "fwd");
	step(60, "step_succeeded", id, 3, "fwd");
	ended(70, id, "COMPLETED", NULL);
}

static struct fl_check_result *run_cfg(const struct fl_saga_config *c)
{
	struct fl_chk_history *h = hload(&B);
	struct fl_check_result *r = fl_check_saga(h, c);
	assert_non_null(r);
	fl_chk_history_free(h);
	return r;
}

static struct fl_check_result *run(void)
{
	struct fl_saga_config c;
	fl_saga_config_defaults(&c);
	return run_cfg(&c);
}

static void test_correct_history_is_valid(void **state)
{
	(void)state;
	hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"invoke\",\"f\":\"transfer\",\"value\":"
	       "{\"amount\":100,\"key\":\"rk-s1\"}}", T(0));
	good_saga("s1");
	hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"ok\",\"f\":\"transfer\",\"value\":"
	       "{\"saga_id\":\"s1\",\"state\":\"COMPLETED\"}}", T(80));
	effect(20, "money", "s1:1:fwd", "wallet:A", "TRANSIT", 100);
	effect(40, "extbank", "s1:2:fwd", "CORP", "X", 100);
	effect(60, "money", "s1:3:fwd", "TRANSIT", "CORP", 100);
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(1000));
	money(1100, 900, 1000, 0, -1900);
	bank(1100, 1900, 5100, 7000);
	hl(&B, "{\"event\":\"cqrs_sample\",\"t\":%lld,\"address\":\"gangnam\",\"read_model\":1900,"
	       "\"wallet_sum\":1900,\"aggregation\":1900}", T(3500));
	hl(&B, "{\"event\":\"failure_counts\",\"t\":%lld,\"counts\":{}}", T(3500));
	struct fl_check_result *r = run();
	const char *passed[] = { "M1", "M2", "M3", "S1", "S2", "S4", "S6", "Q1" };
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		expect_state(r, passed[i], FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	assert_int_equal(fl_check_exit_code(r->valid), 0);
	fl_check_result_free(r);
}

/* no-refund: the bank rejected the deposit, the saga says COMPENSATED but
 * the debit was never refunded. */
static void rejected_saga(int refund)
{
	started(0, "s2", 100, 2);
	step(10, "step_requested", "s2", 1, "fwd");
	step(20, "step_succeeded", "s2", 1, "fwd");
	step(30, "step_requested", "s2", 2, "fwd");
	step(40, "step_failed", "s2", 2, "fwd");
	if (refund) {
		step(50, "compensation_requested", "s2", 1, "comp");
		step(60, "compensation_succeeded", "s2", 1, "comp");
	}
	ended(70, "s2", "COMPENSATED", NULL);
}

static void test_net_effect_from_steps(void **state)
{
	(void)state;
	rejected_saga(0);
	struct fl_check_result *r = run();
	expect_state(r, "S2", FL_INV_FAILED);
	assert_int_equal(fl_check_exit_code(r->valid), 1);
	json_t *ev = fl_check_find(r, "S2")->first;
	assert_string_equal(json_string_value(json_object_get(ev, "saga_id")), "s2");
	assert_true(json_array_size(json_object_get(ev, "steps")) >= 5);
	fl_check_result_free(r);
	rejected_saga(1);
	r = run();
	expect_state(r, "S2", FL_INV_PASSED);
	expect_state(r, "S3", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
}

static void test_net_effect_from_effects(void **state)
{
	(void)state;
	rejected_saga(1);	/* the coordinator claims a refund... */
	effect(20, "money", "s2:1:fwd", "wallet:A", "TRANSIT", 100);	/* ...that never landed */
	struct fl_check_result *r = run();
	expect_state(r, "S2", FL_INV_FAILED);
	assert_non_null(json_object_get(fl_check_find(r, "S2")->first, "net_effects"));
	fl_check_result_free(r);
	rejected_saga(1);
	effect(20, "money", "s2:1:fwd", "wallet:A", "TRANSIT", 100);
	effect(60, "money", "s2:1:comp", "TRANSIT", "wallet:A", 100);
	r = run();
	expect_state(r, "S2", FL_INV_PASSED);
	fl_check_result_free(r);
	/* COMPLETED must move exactly its amount at each participant */
	good_saga("s3");
	effect(20, "money", "s3:1:fwd", "wallet:A", "TRANSIT", 100);
	effect(60, "money", "s3:3:fwd", "TRANSIT", "CORP", 100);
	effect(61, "money", "s3:3:fwd-again", "TRANSIT", "CORP", 100);
	r = run();
	expect_state(r, "S2", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_causality(void **state)
{
	(void)state;
	/* compensating a step that was never sent */
	started(0, "s4", 100, 2);
	step(10, "step_requested", "s4", 1, "fwd");
	step(20, "step_failed", "s4", 1, "fwd");
	step(30, "compensation_requested", "s4", 2, "comp");
	ended(40, "s4", "FAILED", "X");
	struct fl_check_result *r = run();
	expect_state(r, "S3", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "S3")->first_msg, "never sent"));
	fl_check_result_free(r);
	/* not in reverse order */
	started(0, "s5", 100, 3);
	step(10, "step_succeeded", "s5", 1, "fwd");
	step(20, "step_succeeded", "s5", 2, "fwd");
	step(30, "step_failed", "s5", 3, "fwd");
	step(40, "compensation_requested", "s5", 1, "comp");
	step(50, "compensation_requested", "s5", 2, "comp");
	ended(60, "s5", "COMPENSATED", NULL);
	r = run();
	expect_state(r, "S3", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "S3")->first_msg, "reverse"));
	fl_check_result_free(r);
	/* after the pivot */
	started(0, "s6", 100, 2);
	step(10, "step_succeeded", "s6", 1, "fwd");
	step(20, "step_succeeded", "s6", 2, "fwd");
	step(30, "compensation_requested", "s6", 1, "comp");
	ended(60, "s6", "COMPENSATED", NULL);
	r = run();
	expect_state(r, "S3", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "S3")->first_msg, "pivot"));
	fl_check_result_free(r);
}

static void test_idempotency(void **state)
{
	(void)state;
	good_saga("s7");
	effect(20, "money", "s7:1:fwd", "wallet:A", "TRANSIT", 100);
	effect(25, "money", "s7:1:fwd", "wallet:A", "TRANSIT", 100);	/* retried, paid twice */
	struct fl_check_result *r = run();
	expect_state(r, "S4", FL_INV_FAILED);
	json_t *ev = fl_check_find(r, "S4")->first;
	assert_string_equal(json_string_value(json_object_get(ev, "key")), "s7:1:fwd");
	fl_check_result_free(r);
	good_saga("s7");
	effect(20, "money", "s7:1:fwd", "wallet:A", "TRANSIT", 100);
	effect(25, "extbank", "s7:1:fwd", "X", "Y", 100);	/* another participant: fine */
	r = run();
	expect_state(r, "S4", FL_INV_PASSED);
	fl_check_result_free(r);
}

static void unknown_saga(int ask_first)
{
	started(0, "s8", 100, 2);
	step(10, "step_succeeded", "s8", 1, "fwd");
	step(20, "step_requested", "s8", 2, "fwd");
	step(30, "step_unknown", "s8", 2, "fwd");
	if (ask_first)
		resolved(40, "s8", 2, "not_applied");
	step(50, "compensation_requested", "s8", 1, "comp");
	step(60, "compensation_succeeded", "s8", 1, "comp");
	ended(70, "s8", "COMPENSATED", NULL);
}

static void test_no_compensation_on_unknown(void **state)
{
	(void)state;
	unknown_saga(0);
	struct fl_check_result *r = run();
	expect_state(r, "S5", FL_INV_FAILED);
	fl_check_result_free(r);
	unknown_saga(1);
	r = run();
	expect_state(r, "S5", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* a same-key retry also settles the unknown */
	started(0, "s9", 100, 3);
	step(10, "step_succeeded", "s9", 1, "fwd");
	step(20, "step_unknown", "s9", 2, "fwd");
	step(30, "step_requested", "s9", 2, "fwd");
	step(40, "step_failed", "s9", 2, "fwd");
	step(50, "compensation_requested", "s9", 1, "comp");
	step(60, "compensation_succeeded", "s9", 1, "comp");
	ended(70, "s9", "COMPENSATED", NULL);
	r = run();
	expect_state(r, "S5", FL_INV_PASSED);
	fl_check_result_free(r);
}

static void test_termination(void **state)
{
	(void)state;
	started(0, "s10", 100, 2);
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(40000));	/* 40 s > 30 + 5 */
	struct fl_check_result *r = run();
	expect_state(r, "S1", FL_INV_FAILED);
	fl_check_result_free(r);
	started(0, "s10", 100, 2);
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(1000));
	r = run();
	expect_state(r, "S1", FL_INV_UNKNOWN);
	assert_int_equal(r->valid, FL_CHECK_UNKNOWN);
	assert_int_equal(fl_check_exit_code(r->valid), 4);
	fl_check_result_free(r);
	started(0, "s11", 100, 2);
	ended(100, "s11", "STUCK", "compensation exhausted");
	r = run();
	expect_state(r, "S1", FL_INV_FAILED);
	fl_check_result_free(r);
	/* deferred while a breaker is open: the deadline counts from the resume */
	for (int resumed = 0; resumed < 2; resumed++) {
		started(0, "s14", 100, 2);
		hl(&B, "{\"type\":\"saga_deferred\",\"t\":%lld,\"saga_id\":\"s14\",\"reason\":\"circuit_open\"}",
		   T(1000));
		if (resumed)
			hl(&B, "{\"type\":\"saga_resumed\",\"t\":%lld,\"saga_id\":\"s14\"}", T(60000));
		step(61000, "step_succeeded", "s14", 1, "fwd");
		step(62000, "step_succeeded", "s14", 2, "fwd");
		ended(63000, "s14", "COMPLETED", NULL);
		r = run();
		expect_state(r, "S1", resumed ? FL_INV_PASSED : FL_INV_FAILED);
		fl_check_result_free(r);
	}
	/* the reference system defers at the door (saga_started and
	 * saga_deferred together) while the banking breaker is open for a
	 * minute: within its deadline after the resume it passes; overrunning
	 * the deadline counted from the resume fails */
	for (int overrun = 0; overrun < 2; overrun++) {
		long done = overrun ? 60000 + 36000 : 60000 + 34000;
		hl(&B, "{\"type\":\"saga_started\",\"t\":%lld,\"saga_id\":\"s15\",\"amount\":100,"
		       "\"deadline_ms\":30000}", T(0));
		hl(&B, "{\"type\":\"saga_deferred\",\"t\":%lld,\"saga_id\":\"s15\",\"reason\":\"circuit_open\"}",
		   T(0));
		hl(&B, "{\"type\":\"saga_resumed\",\"t\":%lld,\"saga_id\":\"s15\"}", T(60000));
		step(60001, "step_requested", "s15", 1, "fwd");
		step(60002, "step_succeeded", "s15", 1, "fwd");
		step(done - 2, "step_requested", "s15", 2, "fwd");
		step(done - 1, "step_succeeded", "s15", 2, "fwd");
		ended(done, "s15", "COMPLETED", NULL);
		r = run();
		expect_state(r, "S1", overrun ? FL_INV_FAILED : FL_INV_PASSED);
		if (overrun)
			assert_non_null(strstr(fl_check_find(r, "S1")->first_msg, "took 36.0 s"));
		fl_check_result_free(r);
	}
	/* a resume may give the deadline from there */
	hl(&B, "{\"type\":\"saga_started\",\"t\":0,\"saga_id\":\"s17\",\"amount\":1,\"deadline_ms\":30000}");
	hl(&B, "{\"type\":\"saga_deferred\",\"t\":%lld,\"saga_id\":\"s17\"}", T(1));
	hl(&B, "{\"type\":\"saga_resumed\",\"t\":%lld,\"saga_id\":\"s17\",\"deadline_ms\":1000}",
	   T(60000));
	ended(60000 + 7000, "s17", "FAILED", NULL);
	r = run();
	expect_state(r, "S1", FL_INV_FAILED);	/* 7 s > 1 + 5 */
	fl_check_result_free(r);
	/* still deferred when the history ends, 100 s later: its deadline is
	 * suspended, undecided (not a violation); resumed and then running
	 * past its deadline: a violation; a client's info answer for the
	 * deferred saga is not flagged as never converging */
	for (int resumed = 0; resumed < 2; resumed++) {
		hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"invoke\",\"f\":\"transfer\","
		       "\"value\":{\"key\":\"rk-s16\"}}", T(0));
		started(0, "s16", 100, 2);
		hl(&B, "{\"type\":\"saga_deferred\",\"t\":%lld,\"saga_id\":\"s16\"}", T(1));
		hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"info\",\"f\":\"transfer\","
		       "\"value\":{\"saga_id\":\"s16\",\"state\":\"DEFERRED\",\"reason\":\"circuit_open\"}}",
		   T(2));
		if (resumed) {
			hl(&B, "{\"type\":\"saga_resumed\",\"t\":%lld,\"saga_id\":\"s16\"}", T(50000));
			step(50001, "step_requested", "s16", 1, "fwd");
		}
		hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(100000));
		r = run();
		expect_state(r, "S1", resumed ? FL_INV_FAILED : FL_INV_UNKNOWN);
		expect_state(r, "S6", resumed ? FL_INV_FAILED : FL_INV_PASSED);
		if (!resumed)
			assert_non_null(strstr(fl_check_find(r, "S1")->unknown_reason, "deferred"));
		fl_check_result_free(r);
	}
	/* a deadline given by the saga itself */
	hl(&B, "{\"event\":\"saga_started\",\"t\":0,\"saga_id\":\"s12\",\"deadline_ms\":100}");
	ended(6000, "s12", "COMPENSATED", NULL);
	r = run();
	expect_state(r, "S1", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_client_agreement(void **state)
{
	(void)state;
	rejected_saga(1);
	hl(&B, "{\"t\":%lld,\"process\":4,\"type\":\"invoke\",\"f\":\"transfer\",\"value\":"
	       "{\"key\":\"rk-s2\"}}", T(0));
	hl(&B, "{\"t\":%lld,\"process\":4,\"type\":\"ok\",\"f\":\"transfer\",\"value\":"
	       "{\"status\":200}}", T(90));
	struct fl_check_result *r = run();
	expect_state(r, "S6", FL_INV_FAILED);	/* told ok, saga compensated */
	fl_check_result_free(r);
	good_saga("s1");
	hl(&B, "{\"t\":%lld,\"process\":4,\"type\":\"invoke\",\"f\":\"transfer\"}", T(0));
	hl(&B, "{\"t\":%lld,\"process\":4,\"type\":\"fail\",\"f\":\"transfer\",\"value\":"
	       "{\"saga_id\":\"s1\"}}", T(90));
	r = run();
	expect_state(r, "S6", FL_INV_FAILED);	/* told fail, saga completed */
	fl_check_result_free(r);
	good_saga("s1");
	hl(&B, "{\"t\":%lld,\"process\":4,\"type\":\"invoke\",\"f\":\"transfer\"}", T(0));
	hl(&B, "{\"t\":%lld,\"process\":4,\"type\":\"info\",\"f\":\"transfer\",\"value\":"
	       "{\"saga_id\":\"s1\",\"error\":\"timeout\"}}", T(90));
	r = run();
	expect_state(r, "S6", FL_INV_PASSED);
	fl_check_result_free(r);
}

static void test_money_snapshots(void **state)
{
	(void)state;
	money(0, 1000, 1000, 0, -2000);
	money(10, 1000, 1000, 5, -2000);	/* sums to 5 */
	money(20, 1000, 1001, -1, -2000);	/* sums to 0, TRANSIT negative */
	struct fl_check_result *r = run();
	expect_state(r, "M1", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "M1")->count, 2);
	assert_int_equal(fl_check_find(r, "M1")->checked, 3);
	assert_non_null(strstr(fl_check_find(r, "M1")->last_msg, "TRANSIT"));
	fl_check_result_free(r);
	bank(0, 0, 7000, 7000);
	bank(10, 0, 6900, 7000);
	r = run();
	expect_state(r, "M2", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "M2")->count, 1);
	fl_check_result_free(r);
	/* M3: TRANSIT left over, CORP not mirrored */
	good_saga("s1");
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(1000));
	money(1100, 900, 1000, 100, -2000);
	bank(1100, 1900, 5100, 7000);
	r = run();
	expect_state(r, "M3", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "M3")->count, 2);
	fl_check_result_free(r);
	/* a snapshot taken while sagas still run is not quiescent */
	started(0, "s1", 100, 2);
	money(10, 900, 1000, 100, -2000);
	r = run();
	expect_state(r, "M3", FL_INV_UNKNOWN);
	fl_check_result_free(r);
}

static void test_queries(void **state)
{
	(void)state;
	struct fl_saga_config c;
	fl_saga_config_defaults(&c);
	started(0, "s13", 100, 2);
	ended(10, "s13", "FAILED", "INSUFFICIENT_BALANCE");
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(10000));
	hl(&B, "{\"event\":\"cqrs_sample\",\"t\":%lld,\"address\":\"g\",\"read_model\":5,"
	       "\"wallet_sum\":7}", T(11000));	/* within the lag: may lag */
	hl(&B, "{\"event\":\"cqrs_sample\",\"t\":%lld,\"address\":\"g\",\"read_model\":7,"
	       "\"wallet_sum\":7,\"aggregation\":7}", T(12500));
	hl(&B, "{\"event\":\"failure_counts\",\"t\":%lld,\"counts\":{\"INSUFFICIENT_BALANCE\":1}}",
	   T(12500));
	struct fl_check_result *r = run_cfg(&c);
	expect_state(r, "Q1", FL_INV_PASSED);
	expect_state(r, "Q2", FL_INV_PASSED);
	fl_check_result_free(r);
	started(0, "s13", 100, 2);
	ended(10, "s13", "FAILED", "INSUFFICIENT_BALANCE");
	hl(&B, "{\"event\":\"quiescence\",\"t\":%lld}", T(10000));
	hl(&B, "{\"event\":\"cqrs_sample\",\"t\":%lld,\"address\":\"g\",\"read_model\":9,"
	       "\"wallet_sum\":7,\"aggregation\":7}", T(12500));	/* increases only */
	hl(&B, "{\"event\":\"failure_counts\",\"t\":%lld,\"counts\":{\"INSUFFICIENT_BALANCE\":2}}",
	   T(12500));
	r = run_cfg(&c);
	expect_state(r, "Q1", FL_INV_FAILED);
	expect_state(r, "Q2", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_bank_test(void **state)
{
	(void)state;
	struct fl_bank_config c;
	char err[256];
	fl_bank_config_defaults(&c);
	json_t *j = json_loads("{\"total\":100,\"allow_negative\":[\"CORP\"]}", 0, NULL);
	assert_int_equal(fl_bank_config_from_json(&c, j, err, sizeof(err)), 0);
	json_decref(j);
	hl(&B, "{\"t\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}");
	hl(&B, "{\"t\":2,\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":{\"accounts\":"
	       "{\"a\":60,\"b\":50,\"CORP\":-10}}}");
	hl(&B, "{\"event\":\"bank_snapshot\",\"t\":3,\"accounts\":{\"a\":50,\"b\":50}}");
	struct fl_chk_history *h = hload(&B);
	struct fl_check_result *r = fl_check_bank(h, &c);
	fl_chk_history_free(h);
	expect_state(r, "B1", FL_INV_PASSED);
	expect_state(r, "B2", FL_INV_PASSED);
	fl_check_result_free(r);
	hl(&B, "{\"t\":2,\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":{\"accounts\":"
	       "{\"a\":60,\"b\":50,\"c\":-10}}}");
	hl(&B, "{\"event\":\"bank_snapshot\",\"t\":3,\"accounts\":{\"a\":50,\"b\":40}}");
	h = hload(&B);
	r = fl_check_bank(h, &c);
	fl_chk_history_free(h);
	expect_state(r, "B1", FL_INV_FAILED);
	expect_state(r, "B2", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "B1")->count, 1);
	fl_check_result_free(r);
	j = json_loads("{\"sources\":[\"nope\"]}", 0, NULL);
	assert_int_not_equal(fl_bank_config_from_json(&c, j, err, sizeof(err)), 0);
	json_decref(j);
}

static void test_bad_history_lines(void **state)
{
	(void)state;
	char path[64], err[256] = "";
	hl(&B, "{\"event\":\"saga_started\",\"t\":1,\"saga_id\":\"x\"}");
	hl(&B, "{\"event\":\"step_requested\",\"saga_id\":\"x\"}");
	hwrite(&B, path);
	fl_buf_reset(&B);
	assert_null(fl_chk_history_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "\"t\""));
	unlink(path);
	hl(&B, "{\"event\":\"saga_started\",\"t\":1,\"saga_id\":\"x\"}");
	hl(&B, "not json");
	hwrite(&B, path);
	fl_buf_reset(&B);
	assert_null(fl_chk_history_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
	/* unknown events are skipped and counted */
	hl(&B, "{\"event\":\"something_else\",\"t\":1}");
	hl(&B, "{\"hello\":1}");
	struct fl_chk_history *h = hload(&B);
	assert_int_equal(h->ignored, 2);
	fl_chk_history_free(h);
}


/* The reference system's outbox shape: "type" names the event, steps by
 * name, money_changed wallet legs, snapshot accounts as arrays. */
static void ref_saga(int refund)
{
	const char *ev = "{\"type\":\"%s\",\"service\":\"remittance\",\"t\":%lld,"
			 "\"saga_id\":\"r1\",\"saga_type\":\"external\",\"amount\":500%s}";
	char step[256];
	hl(&B, ev, "saga_started", T(0), "");
	snprintf(step, sizeof(step), ",\"step\":\"validate\",\"dir\":\"fwd\",\"key\":\"r1:validate:fwd\","
		 "\"participant\":\"membership\",\"pivot\":false");
	hl(&B, ev, "step_requested", T(1), step);
	hl(&B, ev, "step_succeeded", T(2), step);
	snprintf(step, sizeof(step), ",\"step\":\"debit\",\"dir\":\"fwd\",\"key\":\"r1:debit:fwd\","
		 "\"participant\":\"money\",\"pivot\":false");
	hl(&B, ev, "step_requested", T(3), step);
	hl(&B, ev, "step_succeeded", T(4), step);
	hl(&B, "{\"type\":\"money_changed\",\"service\":\"money\",\"t\":%lld,\"key\":\"r1:debit:fwd\","
	       "\"op\":\"debit\",\"membershipId\":\"7\",\"delta\":-500,\"balance\":500}", T(4));
	snprintf(step, sizeof(step), ",\"step\":\"firmbanking\",\"dir\":\"fwd\","
		 "\"key\":\"r1:firmbanking:fwd\",\"participant\":\"banking\",\"pivot\":true");
	hl(&B, ev, "step_requested", T(5), step);
	hl(&B, ev, "step_failed", T(6), step);
	if (refund) {
		snprintf(step, sizeof(step), ",\"step\":\"debit\",\"dir\":\"comp\",\"key\":\"r1:debit:comp\","
			 "\"participant\":\"money\",\"pivot\":false");
		hl(&B, ev, "compensation_requested", T(7), step);
		hl(&B, ev, "compensation_succeeded", T(8), step);
		hl(&B, "{\"type\":\"money_changed\",\"service\":\"money\",\"t\":%lld,"
		       "\"key\":\"r1:debit:comp\",\"op\":\"refund\",\"membershipId\":\"7\","
		       "\"delta\":500,\"balance\":1000}", T(8));
	}
	hl(&B, ev, "saga_ended", T(9), ",\"state\":\"COMPENSATED\",\"reason\":\"\"");
	hl(&B, "{\"event\":\"money_snapshot\",\"t\":%lld,\"accounts\":[{\"account\":\"wallet:7\","
	       "\"balance\":%d},{\"account\":\"TRANSIT\",\"balance\":%d},{\"account\":\"CORP\","
	       "\"balance\":-1000}]}", T(100), refund ? 1000 : 500, refund ? 0 : 500);
}

static void test_reference_system_shapes(void **state)
{
	(void)state;
	ref_saga(1);
	struct fl_check_result *r = run();
	expect_state(r, "S2", FL_INV_PASSED);
	expect_state(r, "S3", FL_INV_PASSED);
	expect_state(r, "M1", FL_INV_PASSED);
	expect_state(r, "M3", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	ref_saga(0);
	r = run();
	expect_state(r, "S2", FL_INV_FAILED);
	expect_state(r, "M3", FL_INV_FAILED);	/* TRANSIT holds the money */
	json_t *steps = json_object_get(fl_check_find(r, "S2")->first, "steps");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "key")),
			    "r1:validate:fwd");
	fl_check_result_free(r);
}

/* Issue: a window with no money effects: S2 reads the saga's own events.
 * The reference system's S10 (as its /events feed shows it): validate
 * succeeded, debit failed with INSUFFICIENT_BALANCE, FAILED without a
 * compensation. validate carries the saga's amount and a participant like
 * every step event, yet moves no money: not an effect to compensate. With
 * `debit_ok` the debit succeeded and the credit failed: a real missing
 * compensation of a step that moved money. */
static void ref_insufficient(const char *id, int debit_ok)
{
	const char *ev = "{\"type\":\"%s\",\"service\":\"remittance\",\"t\":%lld,"
			 "\"saga_id\":\"%s\",\"saga_type\":\"internal\",\"amount\":5000%s}";
	char step[256];
	hl(&B, ev, "saga_started", T(0), id, ",\"deadline_ms\":30000");
	snprintf(step, sizeof(step), ",\"step\":\"validate\",\"dir\":\"fwd\",\"key\":\"%s:validate:fwd\","
		 "\"participant\":\"membership\",\"attempt\":1,\"pivot\":false", id);
	hl(&B, ev, "step_requested", T(1), id, step);
	hl(&B, ev, "step_succeeded", T(2), id, step);
	snprintf(step, sizeof(step), ",\"step\":\"debit\",\"dir\":\"fwd\",\"key\":\"%s:debit:fwd\","
		 "\"participant\":\"money\",\"attempt\":1,\"pivot\":false", id);
	hl(&B, ev, "step_requested", T(3), id, step);
	if (!debit_ok) {
		char failed[320];
		snprintf(failed, sizeof(failed), "%s,\"reason\":\"INSUFFICIENT_BALANCE\",\"definite\":true",
			 step);
		hl(&B, ev, "step_failed", T(4), id, failed);
		hl(&B, ev, "saga_ended", T(5), id, ",\"state\":\"FAILED\",\"reason\":\"INSUFFICIENT_BALANCE\"");
		return;
	}
	hl(&B, ev, "step_succeeded", T(4), id, step);
	snprintf(step, sizeof(step), ",\"step\":\"credit\",\"dir\":\"fwd\",\"key\":\"%s:credit:fwd\","
		 "\"participant\":\"money\",\"attempt\":1,\"pivot\":true", id);
	hl(&B, ev, "step_requested", T(5), id, step);
	hl(&B, ev, "step_failed", T(6), id, step);
	hl(&B, ev, "saga_ended", T(7), id, ",\"state\":\"FAILED\",\"reason\":\"NO_SUCH_MEMBER\"");
}

static void test_net_effect_steps_without_money(void **state)
{
	(void)state;
	ref_insufficient("S10", 0);
	struct fl_check_result *r = run();
	expect_state(r, "S2", FL_INV_PASSED);
	assert_int_equal(fl_check_find(r, "S2")->checked, 1);
	expect_state(r, "S1", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* the same shape where the debit did move money: flagged, naming it */
	ref_insufficient("S11", 1);
	r = run();
	expect_state(r, "S2", FL_INV_FAILED);
	assert_non_null(strstr(fl_check_find(r, "S2")->first_msg, "step debit was applied"));
	fl_check_result_free(r);
	/* "effect" decides when given; a step saying "amount": 0 moves
	 * nothing; a minimal step (no participant, no amount) still counts */
	const char *cases[][2] = {
		{ ",\"participant\":\"money\",\"effect\":false", "passed" },
		{ ",\"participant\":\"money\",\"amount\":0", "passed" },
		{ ",\"step_name\":\"x\"", "failed" },
		{ ",\"participant\":\"money\"", "failed" },
		{ ",\"participant\":\"money\",\"amount\":0,\"effect\":true", "failed" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		started(0, "s20", 100, 2);
		hl(&B, "{\"event\":\"step_succeeded\",\"t\":%lld,\"saga_id\":\"s20\",\"step\":1,"
		       "\"dir\":\"fwd\"%s}", T(10), cases[i][0]);
		step(20, "step_failed", "s20", 2, "fwd");
		ended(30, "s20", "FAILED", "BANK_REJECTED");
		r = run();
		if (strcmp(fl_check_inv_state_str(st(r, "S2")), cases[i][1]))
			fail_msg("case %zu (%s): S2 %s, want %s", i, cases[i][0],
				 fl_check_inv_state_str(st(r, "S2")), cases[i][1]);
		fl_check_result_free(r);
	}
}

static void test_saga_config(void **state)
{
	(void)state;
	struct fl_saga_config c;
	char err[256];
	fl_saga_config_defaults(&c);
	json_t *j = json_loads("{\"deadline_ms\":1000,\"corp_account\":\"HQ\",\"bank_total\":5}",
			       0, NULL);
	assert_int_equal(fl_saga_config_from_json(&c, j, err, sizeof(err)), 0);
	assert_int_equal(c.deadline_ms, 1000);
	assert_string_equal(c.corp, "HQ");
	assert_true(c.has_bank_total);
	json_decref(j);
	j = json_loads("{\"deadline_ms\":\"soon\"}", 0, NULL);
	assert_int_not_equal(fl_saga_config_from_json(&c, j, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "deadline_ms"));
	json_decref(j);
}

/* A window (`since`): sagas, client operations and snapshots before it
 * only build state; violations are reported for what starts at or after it. */
static void since_history(int bad_in_window)
{
	/* before the window: a STUCK saga (S1), a client ok for a saga that
	 * failed (S6), a snapshot that does not sum (M1), a duplicate effect (S4) */
	started(0, "old", 100, 2);
	ended(100, "old", "STUCK", "compensation_exhausted");
	hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"invoke\",\"f\":\"transfer\","
	       "\"value\":{\"key\":\"rk-old2\"}}", T(150));
	started(200, "old2", 100, 2);
	ended(300, "old2", "FAILED", "INSUFFICIENT_BALANCE");
	hl(&B, "{\"t\":%lld,\"process\":0,\"type\":\"ok\",\"f\":\"transfer\","
	       "\"value\":{\"saga_id\":\"old2\",\"state\":\"COMPLETED\"}}", T(310));
	effect(400, "money", "old3:1:fwd", "wallet:A", "TRANSIT", 5);
	effect(410, "money", "old3:1:fwd", "wallet:A", "TRANSIT", 5);
	money(500, 1000, 1000, 7, -2000);
	/* in the window (from 1 s): a saga compensated, or left undone */
	if (bad_in_window)
		rejected_saga(0);	/* s2, undone at 0..70 ms: before the window too */
	started(1000, "new", 100, 2);
	hl(&B, "{\"event\":\"step_succeeded\",\"t\":%lld,\"saga_id\":\"new\",\"step\":1,"
	       "\"dir\":\"fwd\",\"participant\":\"money\"}", T(1010));
	hl(&B, "{\"event\":\"step_failed\",\"t\":%lld,\"saga_id\":\"new\",\"step\":2,"
	       "\"dir\":\"fwd\",\"participant\":\"banking\"}", T(1020));
	if (!bad_in_window) {
		step(1030, "compensation_requested", "new", 1, "comp");
		step(1040, "compensation_succeeded", "new", 1, "comp");
	}
	ended(1050, "new", "COMPENSATED", NULL);
	money(1100, 1000, 1000, 0, -2000);
}

static void test_since_window(void **state)
{
	(void)state;
	struct fl_saga_config c;
	fl_saga_config_defaults(&c);
	since_history(0);
	struct fl_check_result *r = run_cfg(&c);	/* the whole history */
	expect_state(r, "S1", FL_INV_FAILED);
	expect_state(r, "S4", FL_INV_FAILED);
	expect_state(r, "S6", FL_INV_FAILED);
	expect_state(r, "M1", FL_INV_FAILED);
	fl_check_result_free(r);
	c.since = T(1000);
	since_history(0);
	r = run_cfg(&c);
	expect_state(r, "S1", FL_INV_PASSED);
	assert_int_equal(fl_check_find(r, "S1")->checked, 1);
	expect_state(r, "S2", FL_INV_PASSED);
	expect_state(r, "S6", FL_INV_NOT_CHECKED);
	expect_state(r, "S4", FL_INV_NOT_CHECKED);	/* the window has no effects */
	expect_state(r, "M1", FL_INV_PASSED);
	assert_int_equal(fl_check_find(r, "M1")->checked, 1);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* the window's own violation is reported; the one before it is not */
	since_history(1);
	r = run_cfg(&c);
	expect_state(r, "S2", FL_INV_FAILED);
	assert_int_equal(fl_check_find(r, "S2")->count, 1);
	assert_non_null(strstr(fl_check_find(r, "S2")->first_msg, "saga new"));
	fl_check_result_free(r);
	/* configuration: "since" is a number of ns */
	char err[256];
	json_t *j = json_loads("{\"since\":123456789}", 0, NULL);
	fl_saga_config_defaults(&c);
	assert_int_equal(c.since, INT64_MIN);
	assert_int_equal(fl_saga_config_from_json(&c, j, err, sizeof(err)), 0);
	assert_int_equal(c.since, 123456789);
	json_decref(j);
	j = json_loads("{\"since\":\"now\"}", 0, NULL);
	assert_int_not_equal(fl_saga_config_from_json(&c, j, err, sizeof(err)), 0);
	json_decref(j);
}

/* A proxy exchange carrying a key: in its Idempotency-Key header, or (path
 * given with the key in it) as the path's last segment. */
static void exchange(long start, long end, const char *link, const char *method, const char *path,
		     int status, const char *key)
{
	char st[16];
	snprintf(st, sizeof(st), "%d", status);
	hl(&B, "{\"event\":\"http_exchange\",\"link\":\"%s\",\"method\":\"%s\","
	       "\"path\":\"%s\",\"start\":%lld,\"end\":%lld,\"status\":%s,\"fault\":null,"
	       "\"req_headers\":{\"host\":\"x\"%s%s%s}}",
	   link, method, path, T(start), T(end), status ? st : "null", key ? ",\"idempotency-key\":\"" : "",
	   key ? key : "", key ? "\"" : "");
}

/* External saga w: debit (1) applied, firm banking (2, pivot) failed as the
 * bank's answer came back through banking (remittance->banking 200
 * REJECTED); the bank itself answered `bank_status` to banking, then, with
 * `status_query`, a later status query was answered 200. */
static void wire_saga(int bank_status, int status_query)
{
	started(0, "w", 100, 2);
	step(10, "step_requested", "w", 1, "fwd");
	step(20, "step_succeeded", "w", 1, "fwd");
	effect(15, "money", "w:1:fwd", "wallet:A", "TRANSIT", 100);
	step(30, "step_requested", "w", 2, "fwd");
	exchange(31, 33, "banking->extbank", "POST", "/bank/transfer", bank_status, "w:2:fwd");
	if (status_query)
		exchange(34, 35, "banking->extbank", "GET", "/bank/transfer/w:2:fwd", 200, NULL);
	exchange(30, 36, "remittance->banking", "POST", "/banking/firmbanking/request", 200,
		 "w:2:fwd");
	hl(&B, "{\"event\":\"step_failed\",\"t\":%lld,\"saga_id\":\"w\",\"step\":2,\"dir\":\"fwd\","
	       "\"key\":\"w:2:fwd\",\"reason\":\"BANK_REJECTED\",\"definite\":true}", T(40));
	step(50, "compensation_requested", "w", 1, "comp");
	step(60, "compensation_succeeded", "w", 1, "comp");
	effect(55, "money", "w:1:comp", "TRANSIT", "wallet:A", 100);
	ended(70, "w", "COMPENSATED", NULL);
}

static void test_outcomes_against_the_wire(void **state)
{
	(void)state;
	/* the bank said 422: a definite rejection */
	wire_saga(422, 0);
	struct fl_check_result *r = run();
	expect_state(r, "S7", FL_INV_PASSED);
	assert_int_equal(r->valid, FL_CHECK_VALID);
	fl_check_result_free(r);
	/* the bank said 500 and banking recorded a firm rejection */
	wire_saga(500, 0);
	r = run();
	expect_state(r, "S7", FL_INV_FAILED);
	json_t *first = fl_check_find(r, "S7")->first;
	assert_string_equal(json_string_value(json_object_get(json_object_get(first, "wire"), "link")),
			    "banking->extbank");
	fl_check_result_free(r);
	/* ... but a later status query (its key in the path) answered */
	wire_saga(500, 1);
	r = run();
	expect_state(r, "S7", FL_INV_PASSED);
	fl_check_result_free(r);
	/* no answer at all on the last exchange */
	wire_saga(0, 0);
	r = run();
	expect_state(r, "S7", FL_INV_FAILED);
	fl_check_result_free(r);
}

/* Internal saga n: the debit's first attempt "refused" ("definite": false)
 * while money applied it (effect), or with `answered` a 2xx on the wire. */
static void not_sent_saga(int applied, int answered)
{
	started(0, "n", 100, 3);
	step(10, "step_requested", "n", 1, "fwd");
	if (applied)
		effect(12, "money", "n:1:fwd", "wallet:A", "TRANSIT", 100);
	if (answered)
		exchange(11, 13, "remittance->money", "POST", "/money/debit", 200, "n:1:fwd");
	hl(&B, "{\"event\":\"step_failed\",\"t\":%lld,\"saga_id\":\"n\",\"step\":1,\"dir\":\"fwd\","
	       "\"key\":\"n:1:fwd\",\"reason\":\"connection_refused\",\"definite\":false}", T(20));
	step(30, "step_requested", "n", 1, "fwd");
	if (!applied)
		effect(32, "money", "n:1:fwd", "wallet:A", "TRANSIT", 100);
	step(35, "step_succeeded", "n", 1, "fwd");
	step(40, "step_requested", "n", 2, "fwd");
	step(45, "step_succeeded", "n", 2, "fwd");
	ended(50, "n", "COMPLETED", NULL);
}

static void test_not_sent_against_the_wire(void **state)
{
	(void)state;
	not_sent_saga(0, 0);
	struct fl_check_result *r = run();
	expect_state(r, "S7", FL_INV_PASSED);
	fl_check_result_free(r);
	not_sent_saga(1, 0);
	r = run();
	expect_state(r, "S7", FL_INV_FAILED);
	fl_check_result_free(r);
	not_sent_saga(0, 1);
	r = run();
	expect_state(r, "S7", FL_INV_FAILED);
	fl_check_result_free(r);
}

static void test_compensations_on_record(void **state)
{
	(void)state;
	rejected_saga(1);
	struct fl_check_result *r = run();
	expect_state(r, "S8", FL_INV_PASSED);
	json_t *paths = json_object_get(r->stats, "paths");
	assert_int_equal(json_integer_value(json_object_get(paths, "compensated")), 1);
	fl_check_result_free(r);
	/* the refund requested, its success never recorded */
	started(0, "s2", 100, 2);
	step(10, "step_requested", "s2", 1, "fwd");
	step(20, "step_succeeded", "s2", 1, "fwd");
	step(30, "step_requested", "s2", 2, "fwd");
	step(40, "step_failed", "s2", 2, "fwd");
	step(50, "compensation_requested", "s2", 1, "comp");
	ended(70, "s2", "COMPENSATED", NULL);
	r = run();
	expect_state(r, "S8", FL_INV_FAILED);
	fl_check_result_free(r);
	/* COMPENSATED with no compensation at all */
	started(0, "s3", 100, 2);
	step(10, "step_requested", "s3", 1, "fwd");
	step(20, "step_failed", "s3", 1, "fwd");
	ended(70, "s3", "COMPENSATED", NULL);
	r = run();
	expect_state(r, "S8", FL_INV_FAILED);
	fl_check_result_free(r);
}

/* A saga deferred (deadline suspended) after its debit was applied. */
static void test_deferral_after_effect(void **state)
{
	(void)state;
	for (int debit = 0; debit <= 1; debit++) {
		started(0, "d", 100, 2);
		step(10, "step_requested", "d", 1, "fwd");
		step(20, debit ? "step_succeeded" : "step_failed", "d", 1, "fwd");
		hl(&B, "{\"event\":\"saga_deferred\",\"t\":%lld,\"saga_id\":\"d\"}", T(30));
		hl(&B, "{\"event\":\"saga_resumed\",\"t\":%lld,\"saga_id\":\"d\"}", T(40));
		if (debit) {
			step(50, "step_requested", "d", 2, "fwd");
			step(60, "step_succeeded", "d", 2, "fwd");
			step(70, "step_requested", "d", 3, "fwd");
			step(80, "step_succeeded", "d", 3, "fwd");
		}
		ended(90, "d", debit ? "COMPLETED" : "FAILED", NULL);
		struct fl_check_result *r = run();
		expect_state(r, "S1", debit ? FL_INV_FAILED : FL_INV_PASSED);
		fl_check_result_free(r);
	}
}

/* S1: the deadline binds until the pivot is sent (in doubt) or the first
 * compensation is requested; then the saga may take longer, and must end. */
static void test_deadline_binds_until_decided(void **state)
{
	(void)state;
	struct fl_saga_config c;
	fl_saga_config_defaults(&c);
	c.deadline_ms = 100;
	c.grace_ms = 100;
	for (int doubt = 0; doubt <= 1; doubt++) {
		started(0, "p", 100, 2);
		step(10, "step_requested", "p", 1, "fwd");
		step(20, "step_succeeded", "p", 1, "fwd");
		step(30, "step_requested", "p", 2, "fwd");
		if (doubt)
			step(150, "step_unknown", "p", 2, "fwd");
		step(1000, "step_succeeded", "p", 2, "fwd");
		step(1010, "step_requested", "p", 3, "fwd");
		step(1020, "step_succeeded", "p", 3, "fwd");
		ended(1030, "p", "COMPLETED", NULL);
		struct fl_check_result *r = run_cfg(&c);
		expect_state(r, "S1", doubt ? FL_INV_PASSED : FL_INV_FAILED);
		fl_check_result_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_correct_history_is_valid),
		cmocka_unit_test(test_net_effect_from_steps),
		cmocka_unit_test(test_net_effect_from_effects),
		cmocka_unit_test(test_causality),
		cmocka_unit_test(test_idempotency),
		cmocka_unit_test(test_no_compensation_on_unknown),
		cmocka_unit_test(test_termination),
		cmocka_unit_test(test_client_agreement),
		cmocka_unit_test(test_money_snapshots),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_bank_test),
		cmocka_unit_test(test_bad_history_lines),
		cmocka_unit_test(test_saga_config),
		cmocka_unit_test(test_reference_system_shapes),
		cmocka_unit_test(test_net_effect_steps_without_money),
		cmocka_unit_test(test_since_window),
		cmocka_unit_test(test_outcomes_against_the_wire),
		cmocka_unit_test(test_not_sent_against_the_wire),
		cmocka_unit_test(test_compensations_on_record),
		cmocka_unit_test(test_deferral_after_effect),
		cmocka_unit_test(test_deadline_binds_until_decided),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fl_buf_free(&B);
	return rc;
}
