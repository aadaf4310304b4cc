/* The checker registry: every checker is found by name, configured the one
 * way (defaults, JSON, overrides) and run through its entry, as `faultline
 * check` and fl.check do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/errors.h"
#include "core/json.h"
#include "test_checker_util.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

static void test_find(void **state)
{
	(void)state;
	const char *want[] = { "saga", "bank", "breaker", "probe" };
	size_t n = 0;
	for (const struct fl_checker *const *k = fl_checkers(); *k; k++, n++) {
		assert_ptr_equal(fl_checker_find((*k)->name), *k);
		assert_non_null((*k)->defaults);
		assert_non_null((*k)->from_json);
		assert_non_null((*k)->override);
		assert_non_null((*k)->run);
	}
	assert_true(n >= 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(fl_checkers()[i]->name, want[i]);
	assert_null(fl_checker_find("nosuch"));
	assert_null(fl_checker_find(NULL));
	char names[256];
	assert_true(strncmp(fl_checker_names(names, sizeof(names)), "saga, bank, breaker, probe", 26) == 0);
	char tiny[8];
	fl_checker_names(tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
}

static void test_configure(void **state)
{
	(void)state;
	union fl_checker_config c;
	char err[256] = "";
	/* defaults only */
	assert_int_equal(fl_checker_configure(fl_checker_find("saga"), &c, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.saga.deadline_ms, 30000);
	/* JSON, then the overrides win */
	json_t *j = parse("{\"deadline_ms\": 100, \"since\": 5}");
	struct fl_checker_overrides ov = { .has_since = true, .since = 7 };
	assert_int_equal(fl_checker_configure(fl_checker_find("saga"), &c, j, &ov, err, sizeof(err)), 0);
	assert_int_equal(c.saga.deadline_ms, 100);
	assert_int_equal(c.saga.since, 7);
	json_decref(j);
	/* a JSON error names the key */
	j = parse("{\"deadline_ms\": \"soon\"}");
	assert_int_equal(fl_checker_configure(fl_checker_find("saga"), &c, j, NULL, err, sizeof(err)),
			 FL_EINVAL);
	assert_non_null(strstr(err, "deadline_ms"));
	json_decref(j);
	/* since where it does not apply */
	err[0] = '\0';
	assert_int_equal(fl_checker_configure(fl_checker_find("bank"), &c, NULL, &ov, err, sizeof(err)),
			 FL_EINVAL);
	assert_non_null(strstr(err, "since"));
	/* breaker: the name picks one of a /breakers list; the link override */
	j = parse("[{\"name\":\"a\",\"config\":{\"window_size\":10}},"
		  "{\"name\":\"b\",\"config\":{\"window_size\":20}}]");
	struct fl_checker_overrides bo = { .name = "b", .link = "x->y" };
	assert_int_equal(fl_checker_configure(fl_checker_find("breaker"), &c, j, &bo, err, sizeof(err)), 0);
	assert_string_equal(c.breaker.name, "b");
	assert_int_equal(c.breaker.window_size, 20);
	assert_string_equal(c.breaker.link, "x->y");
	bo.name = "c";
	assert_true(fl_checker_configure(fl_checker_find("breaker"), &c, j, &bo, err, sizeof(err)) < 0);
	json_decref(j);
	/* probe: the service override */
	struct fl_checker_overrides po = { .service = "svc" };
	assert_int_equal(fl_checker_configure(fl_checker_find("probe"), &c, NULL, &po, err, sizeof(err)), 0);
	assert_string_equal(c.probe.service, "svc");
}

/* Each entry runs its own checker: the result names it. */
static void test_run(void **state)
{
	(void)state;
	for (const struct fl_checker *const *k = fl_checkers(); *k; k++) {
		struct fl_buf b;
		fl_buf_init(&b, 0);
		hl(&b, "{\"event\":\"noop\",\"t\":1}");
		struct fl_chk_history *h = hload(&b);
		union fl_checker_config c;
		char err[256];
		assert_int_equal(fl_checker_configure(*k, &c, NULL, NULL, err, sizeof(err)), 0);
		struct fl_check_result *r = (*k)->run(h, &c);
		assert_non_null(r);
		assert_string_equal(r->checker, (*k)->name);
		fl_check_result_free(r);
		fl_chk_history_free(h);
		fl_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
