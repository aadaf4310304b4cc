/* transferd's command line: defaults, durations, peers, bugs, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "transfer-system/rt.h"

static int parse(struct rt_opts *o, char *err, size_t n, ...)
{
	char *argv[64] = { "transferd" };
	int argc = 1;
	va_list ap;
	va_start(ap, n);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	return rt_opts_parse(o, argc, argv, err, n);
}

static void test_defaults(void **state)
{
	(void)state;
	struct rt_opts o;
	char err[256] = "";
	assert_int_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "/tmp/x", NULL), 0);
	assert_string_equal(o.service, "money");
	assert_string_equal(o.host, "127.0.0.1");
	assert_int_equal(o.port, 0);
	assert_int_equal(o.drain_delay_ms, 2000);
	assert_int_equal(o.grace_ms, 15000);
	assert_int_equal(o.saga_deadline_ms, 30000);
	assert_int_equal(o.breaker.window, 10);
	assert_int_equal(o.breaker.min_calls, 5);
	assert_int_equal(o.breaker.halfopen_calls, 3);
	assert_int_equal(o.breaker.wait_open_ms, 5000);
	assert_int_equal(o.breaker.slow_ms, 1000);
	assert_int_equal(o.bugs, 0);
}

static void test_values(void **state)
{
	(void)state;
	struct rt_opts o;
	char err[256] = "";
	assert_int_equal(parse(&o, err, sizeof(err), "--service", "remittance", "--data", "d", "--port", "8080",
			       "--peer", "money=http://127.0.0.1:9/", "--peer", "banking=http://h:1",
			       "--saga-deadline", "2s", "--drain-delay", "250ms", "--grace", "1500",
			       "--breaker-wait", "1.5s", "--bug", "no-refund", "--bug", "query-increases-only",
			       "--crash-at", "after_pivot", "--breaker-auto", NULL), 0);
	assert_int_equal(o.port, 8080);
	assert_int_equal(o.npeers, 2);
	assert_string_equal(o.peers[0].name, "money");
	assert_string_equal(o.peers[0].url, "http://127.0.0.1:9");	/* trailing slash dropped */
	assert_int_equal(o.saga_deadline_ms, 2000);
	assert_int_equal(o.drain_delay_ms, 250);
	assert_int_equal(o.grace_ms, 1500);
	assert_int_equal(o.breaker.wait_open_ms, 1500);
	assert_true(o.breaker.auto_transition);
	assert_int_equal(o.bugs, BUG_NO_REFUND | BUG_QUERY_INCREASES_ONLY);
	assert_string_equal(o.crash_at, "after_pivot");
}

static void test_bug_names_round_trip(void **state)
{
	(void)state;
	int n = 0;
	for (int i = 0; rt_bug_names[i]; i++, n++)
		assert_int_equal(rt_bug_parse(rt_bug_names[i]), 1u << i);
	assert_int_equal(n, 12);
	assert_int_equal(rt_bug_parse("no-such-bug"), 0);
	struct rt_opts o;
	char err[256] = "";
	assert_int_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d",
			       "--bug", "breaker-stuck-open", NULL), 0);
	assert_true(o.breaker.bug_stuck_open);
	assert_false(o.breaker.bug_never_opens);
	/* transferd --list-bugs (main prints rt_bug_names) */
	assert_int_not_equal(parse(&o, err, sizeof(err), "--list-bugs", NULL), 0);
	assert_string_equal(err, "list-bugs");
}

static void test_errors(void **state)
{
	(void)state;
	struct rt_opts o;
	char err[256] = "";
	assert_int_not_equal(parse(&o, err, sizeof(err), "--data", "d", NULL), 0);
	assert_non_null(strstr(err, "--service is required"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "bogus", "--data", "d", NULL), 0);
	assert_non_null(strstr(err, "unknown service 'bogus'"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", NULL), 0);
	assert_non_null(strstr(err, "--data is required"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d", "--bug", "x", NULL), 0);
	assert_non_null(strstr(err, "unknown bug 'x'"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d", "--peer", "nourl", NULL), 0);
	assert_non_null(strstr(err, "NAME=URL"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d", "--grace", "5m", NULL), 0);
	assert_non_null(strstr(err, "bad value for --grace"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d", "--port", "70000", NULL), 0);
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d", "--port", NULL), 0);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_not_equal(parse(&o, err, sizeof(err), "--service", "money", "--data", "d", "--what", "1", NULL), 0);
	assert_non_null(strstr(err, "unknown option '--what'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bug_names_round_trip),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
