/* The reference system's circuit breaker against Resilience4j's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "transfer-system/breaker.h"

#define MS 1000000LL

struct seen {
	int transitions, rejected, calls;
	char last_to[16];
};

static void on_event(void *arg, const char *type, json_t *f)
{
	struct seen *s = arg;
	if (strcmp(type, "breaker_transition") == 0) {
		s->transitions++;
		snprintf(s->last_to, sizeof(s->last_to), "%s", json_string_value(json_object_get(f, "to")));
	} else if (strcmp(json_string_value(json_object_get(f, "outcome")), "rejected") == 0)
		s->rejected++;
	else
		s->calls++;
}

static struct breaker *mk(struct breaker_config *c, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return breaker_new("a->b", c, on_event, s);
}

/* one permitted call with an outcome; asserts it was permitted */
static void call(struct breaker *b, int64_t now, bool fail, int64_t dur)
{
	uint64_t e;
	assert_true(breaker_acquire(b, now, &e));
	breaker_record(b, e, now + dur, dur, fail, NULL);
}

static void test_no_decision_below_minimum(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	struct seen s;
	struct breaker *b = mk(&c, &s);
	for (int i = 0; i < 4; i++)
		call(b, i * MS, true, MS);
	assert_int_equal(breaker_state(b, 10 * MS), BREAKER_CLOSED);
	call(b, 10 * MS, true, MS);	/* the 5th outcome decides */
	assert_int_equal(breaker_state(b, 11 * MS), BREAKER_OPEN);
	assert_int_equal(s.transitions, 1);
	breaker_free(b);
}

static void test_threshold_is_inclusive(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	c.min_calls = 4;
	struct seen s;
	struct breaker *b = mk(&c, &s);
	call(b, 0, false, MS);
	call(b, MS, false, MS);
	call(b, 2 * MS, true, MS);
	assert_int_equal(breaker_state(b, 3 * MS), BREAKER_CLOSED);
	call(b, 3 * MS, true, MS);	/* 2 of 4 = 50 % >= 50 % */
	assert_int_equal(breaker_state(b, 4 * MS), BREAKER_OPEN);
	breaker_free(b);
}

static void test_below_threshold_stays_closed(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	struct seen s;
	struct breaker *b = mk(&c, &s);
	/* 4 failures in a window of 10 = 40 % */
	for (int i = 0; i < 10; i++)
		call(b, i * MS, i % 5 >= 3, MS);
	assert_int_equal(breaker_state(b, 20 * MS), BREAKER_CLOSED);
	breaker_free(b);
}

static void test_open_rejects_then_half_open_after_wait(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	struct seen s;
	struct breaker *b = mk(&c, &s);
	for (int i = 0; i < 5; i++)
		call(b, i * MS, true, MS);
	uint64_t e;
	int64_t opened = 5 * MS;
	assert_false(breaker_acquire(b, opened + 4999 * MS, &e));
	assert_int_equal(s.rejected, 1);
	assert_int_equal(breaker_state(b, opened + 6000 * MS), BREAKER_OPEN); /* no automatic transition */
	int64_t t = opened + 5000 * MS;
	assert_true(breaker_acquire(b, t, &e));
	assert_int_equal(breaker_state(b, t), BREAKER_HALF_OPEN);
	uint64_t e2, e3, e4;
	assert_true(breaker_acquire(b, t, &e2));
	assert_true(breaker_acquire(b, t, &e3));
	assert_false(breaker_acquire(b, t, &e4));	/* k = 3 */
	breaker_record(b, e, t + MS, MS, false, NULL);
	breaker_record(b, e2, t + MS, MS, false, NULL);
	assert_int_equal(breaker_state(b, t + MS), BREAKER_HALF_OPEN);
	breaker_record(b, e3, t + MS, MS, false, NULL);	/* m_eff = min(5, 3) = 3 */
	assert_int_equal(breaker_state(b, t + 2 * MS), BREAKER_CLOSED);
	breaker_free(b);
}

static void test_half_open_reopens_on_failures(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	struct seen s;
	struct breaker *b = mk(&c, &s);
	for (int i = 0; i < 5; i++)
		call(b, i * MS, true, MS);
	int64_t t = 10000 * MS;
	call(b, t, true, MS);
	call(b, t, false, MS);
	call(b, t, true, MS);
	assert_int_equal(breaker_state(b, t + 2 * MS), BREAKER_OPEN);
	assert_string_equal(s.last_to, "OPEN");
	breaker_free(b);
}

static void test_stale_outcomes_ignored(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	struct seen s;
	struct breaker *b = mk(&c, &s);
	uint64_t early;
	assert_true(breaker_acquire(b, 0, &early));
	for (int i = 0; i < 5; i++)
		call(b, i * MS, true, MS);
	assert_int_equal(breaker_state(b, 6 * MS), BREAKER_OPEN);
	int64_t t = 6000 * MS;
	uint64_t e;
	assert_true(breaker_acquire(b, t, &e));	/* half-open */
	breaker_record(b, early, t, MS, true, NULL);	/* from the closed episode */
	json_t *j = breaker_json(b, t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "window"), "calls")), 0);
	json_decref(j);
	assert_int_equal(breaker_state(b, t), BREAKER_HALF_OPEN);
	breaker_free(b);
}

static void test_slow_calls_strictly_over_threshold(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	struct seen s;
	struct breaker *b = mk(&c, &s);
	for (int i = 0; i < 5; i++)
		call(b, i * 2000 * MS, false, 1000 * MS);	/* exactly D: not slow */
	assert_int_equal(breaker_state(b, 20000 * MS), BREAKER_CLOSED);
	for (int i = 0; i < 10; i++)
		call(b, (20 + i) * 2000 * MS, false, 1001 * MS);
	assert_int_equal(breaker_state(b, 100000 * MS), BREAKER_OPEN);
	breaker_free(b);
}

static void test_planted_bugs(void **state)
{
	(void)state;
	struct breaker_config c;
	struct seen s;
	breaker_config_default(&c);
	c.bug_never_opens = true;
	struct breaker *b = mk(&c, &s);
	for (int i = 0; i < 20; i++)
		call(b, i * MS, true, MS);
	assert_int_equal(breaker_state(b, 30 * MS), BREAKER_CLOSED);
	breaker_free(b);

	breaker_config_default(&c);
	c.bug_stuck_open = true;
	b = mk(&c, &s);
	for (int i = 0; i < 5; i++)
		call(b, i * MS, true, MS);
	uint64_t e;
	assert_false(breaker_acquire(b, 3600000 * MS, &e));
	assert_int_equal(breaker_state(b, 3600000 * MS), BREAKER_OPEN);
	breaker_free(b);

	breaker_config_default(&c);
	c.bug_halfopen_flood = true;
	b = mk(&c, &s);
	for (int i = 0; i < 5; i++)
		call(b, i * MS, true, MS);
	int permitted = 0;
	for (int i = 0; i < 10; i++)
		permitted += breaker_acquire(b, 6000 * MS, &e);
	assert_int_equal(permitted, 10);
	breaker_free(b);
}

static void test_auto_transition(void **state)
{
	(void)state;
	struct breaker_config c;
	breaker_config_default(&c);
	c.auto_transition = true;
	struct seen s;
	struct breaker *b = mk(&c, &s);
	for (int i = 0; i < 5; i++)
		call(b, i * MS, true, MS);
	assert_int_equal(breaker_state(b, 5 * MS), BREAKER_OPEN);
	assert_int_equal(breaker_state(b, 5006 * MS), BREAKER_HALF_OPEN);
	breaker_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_decision_below_minimum),
		cmocka_unit_test(test_threshold_is_inclusive),
		cmocka_unit_test(test_below_threshold_stays_closed),
		cmocka_unit_test(test_open_rejects_then_half_open_after_wait),
		cmocka_unit_test(test_half_open_reopens_on_failures),
		cmocka_unit_test(test_stale_outcomes_ignored),
		cmocka_unit_test(test_slow_calls_strictly_over_threshold),
		cmocka_unit_test(test_planted_bugs),
		cmocka_unit_test(test_auto_transition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
