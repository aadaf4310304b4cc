/* The result model: verdicts, first/worst/last examples, and the console,
 * JSON forms, and JUnit through report/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_checker_util.h"
#include "report/report.h"

static void test_verdicts(void **state)
{
	(void)state;
	struct fl_check_result *r = fl_check_result_new("x");
	fl_check_declare(r, "A1", "first");
	fl_check_declare(r, "A2", "second");
	assert_int_equal(fl_check_result_finish(r), FL_CHECK_UNKNOWN);	/* nothing checked */
	assert_non_null(r->note);
	fl_check_pass(r, "A1");
	assert_int_equal(fl_check_result_finish(r), FL_CHECK_VALID);
	assert_int_equal(st(r, "A2"), FL_INV_NOT_CHECKED);
	fl_check_unknown(r, "A2", "history too short (%d s)", 3);
	assert_int_equal(fl_check_result_finish(r), FL_CHECK_UNKNOWN);
	assert_string_equal(fl_check_find(r, "A2")->unknown_reason, "history too short (3 s)");
	fl_check_pass(r, "A2");
	fl_check_fail(r, "A2", 1, NULL, "bad");
	assert_int_equal(fl_check_result_finish(r), FL_CHECK_INVALID);	/* violation beats unknown */
	assert_int_equal(fl_check_exit_code(FL_CHECK_INVALID), 1);
	assert_int_equal(fl_check_exit_code(FL_CHECK_UNKNOWN), 4);
	assert_int_equal(fl_check_exit_code(FL_CHECK_VALID), 0);
	fl_check_result_free(r);
}

static void test_first_worst_last(void **state)
{
	(void)state;
	struct fl_check_result *r = fl_check_result_new("x");
	fl_check_declare(r, "M1", "money");
	double scores[] = { 5, 50, 7, 50, 3 };
	for (int i = 0; i < 5; i++) {
		fl_check_pass(r, "M1");
		fl_check_fail(r, "M1", scores[i], json_pack("{s:i}", "i", i), "violation %d", i);
	}
	fl_check_result_finish(r);
	struct fl_check_invariant *v = fl_check_find(r, "M1");
	assert_int_equal(v->count, 5);
	assert_int_equal(v->checked, 5);
	assert_string_equal(v->first_msg, "violation 0");
	assert_string_equal(v->worst_msg, "violation 1");	/* ties keep the earlier */
	assert_string_equal(v->last_msg, "violation 4");
	assert_int_equal(json_integer_value(json_object_get(v->worst, "i")), 1);
	json_t *j = fl_check_result_json(r);
	assert_true(json_is_false(json_object_get(j, "valid")));
	json_t *m1 = json_object_get(json_object_get(j, "invariants"), "M1");
	assert_string_equal(json_string_value(json_object_get(m1, "state")), "failed");
	assert_int_equal(json_integer_value(json_object_get(m1, "count")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 json_object_get(m1, "last"), "evidence"), "i")), 4);
	json_decref(j);
	fl_check_result_free(r);
}

static void test_reports(void **state)
{
	(void)state;
	struct fl_check_result *r = fl_check_result_new("saga");
	fl_check_declare(r, "S1", "termination");
	fl_check_declare(r, "S2", "net <effect> & \"co\"");
	fl_check_declare(r, "S3", "causality");
	fl_check_declare(r, "S4", "idempotency");
	fl_check_pass(r, "S1");
	fl_check_fail(r, "S2", 1, json_pack("{s:s}", "saga_id", "s<1>"), "saga %s", "s<1>");
	fl_check_unknown(r, "S3", "too young");
	fl_check_result_finish(r);
	/* JUnit through report/: the checker as a test suite, an invariant per test case */
	char path[] = "/tmp/fl-chk-junit-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char spec[64], err[128];
	snprintf(spec, sizeof(spec), "junit=%s", path);
	struct fl_report_set *set = fl_report_set_new();
	struct fl_reporter rep;
	assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), 0);
	struct fl_run_summary sum = { 0 };
	fl_report_run_begin(set, 1, 0);
	assert_int_equal(fl_check_result_report(r, set, &sum), 0);
	fl_report_run_end(set, &sum);
	fl_report_set_free(set);
	assert_int_equal(sum.passed, 1);
	assert_int_equal(sum.failed, 2);	/* the unknown one counts as not passed */
	assert_int_equal(sum.skipped, 1);
	FILE *f = fopen(path, "r");
	char text[8192] = "";
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	unlink(path);
	text[n] = '\0';
	assert_non_null(strstr(text, "<?xml"));
	assert_non_null(strstr(text, "</testsuites>"));
	assert_non_null(strstr(text, "<testsuite name=\"check.saga\" tests=\"4\" failures=\"1\" "
				     "errors=\"1\" skipped=\"1\""));
	assert_non_null(strstr(text, "name=\"S2 net &lt;effect&gt; &amp; &quot;co&quot;\""));
	assert_non_null(strstr(text, "<failure message=\"1 violation: saga s&lt;1&gt;\""));
	assert_non_null(strstr(text, "s&lt;1&gt;"));
	assert_non_null(strstr(text, "<error message=\"too young\" type=\"unknown\">"));
	assert_non_null(strstr(text, "<skipped"));
	/* console */
	f = tmpfile();
	fl_check_result_print(r, f, 10);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "check saga: valid false"));
	assert_non_null(strstr(text, "FAIL S2"));
	assert_non_null(strstr(text, "unknown: too young"));
	assert_non_null(strstr(text, "... (18 bytes)"));	/* evidence cut at 10 bytes */
	fl_check_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_first_worst_last),
		cmocka_unit_test(test_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
