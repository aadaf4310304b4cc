/* The checkers' flat JSON view: fields, escapes, numbers, nesting, and the
 * cases it leaves to jansson; and that the history reader gives the same
 * result either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "checkers/flatjson.h"
#include "test_checker_util.h"

static void test_fields(void **state)
{
	(void)state;
	const char *s = " {\"a\":\"x\\\"y\\u00e9\\ud83d\\ude00\", \"n\":-12, \"r\":1.5e3, \"t\":true,"
			"\"f\":false,\"z\":null,\"o\":{\"k\":[1,\"}\",{\"q\":2}]},\"arr\":[ ],\"i\":7} ";
	struct fv v;
	assert_int_equal(fv_parse(s, strlen(s), &v), 0);
	assert_int_equal(v.n, 9);
	char b[64];
	assert_string_equal(fv_str(&v, "a", b, sizeof(b)), "x\"y\xc3\xa9\xf0\x9f\x98\x80");
	int64_t n = 0;
	assert_int_equal(fv_i64(&v, "n", &n), 1);
	assert_int_equal(n, -12);
	assert_int_equal(fv_i64(&v, "r", &n), 1);
	assert_int_equal(n, 1500);
	assert_true(fv_num(&v, "r", 0) == 1500.0);
	assert_true(fv_true(&v, "t"));
	assert_false(fv_true(&v, "f"));
	assert_true(fv_is(&v, "z", 'z'));
	assert_true(fv_is(&v, "arr", 'a'));
	assert_string_equal(fv_text(&v, "i", b, sizeof(b)), "7");
	assert_null(fv_text(&v, "r", b, sizeof(b)));
	assert_null(fv_str(&v, "missing", b, sizeof(b)));
	struct fv sub;
	assert_int_equal(fv_sub(&v, "o", &sub), 0);
	assert_int_equal(sub.n, 1);
	assert_true(fv_is(&sub, "k", 'a'));
	json_t *j = fv_json(&v, "o");
	assert_int_equal(json_array_size(json_object_get(j, "k")), 3);
	json_decref(j);
	assert_int_equal(fv_sub(&v, "n", &sub), -1);
}

static void test_rejects(void **state)
{
	(void)state;
	const char *bad[] = { "", "[1]", "{\"a\":1", "{\"a\" 1}", "{\"a\":tru}", "{\"a\":1,}",
			      "{\"a\":1} x", "{\"a\\u0062\":1}", "{\"a\":\"x\ny\"}", "{a:1}" };
	struct fv v;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fv_parse(bad[i], strlen(bad[i]), &v), -1);
	assert_int_equal(fv_parse("{}", 2, &v), 0);
	assert_int_equal(v.n, 0);
}

/* An escaped key is left to jansson and read just the same. */
static void test_reader_fallback(void **state)
{
	(void)state;
	struct fl_buf b;
	fl_buf_init(&b, 0);
	hl(&b, "{\"event\":\"saga_started\",\"t\":5,\"saga_\\u0069d\":\"s1\",\"amount\":3}");
	hl(&b, "{\"event\":\"saga_ended\",\"t\":6,\"saga_id\":\"s1\",\"state\":\"COMPLETED\"}");
	struct fl_chk_history *h = hload(&b);
	assert_int_equal(h->n_saga, 2);
	assert_string_equal(fl_chk_str(h, h->saga[0].saga), "s1");
	assert_int_equal(h->saga[0].amount, 3);
	fl_chk_history_free(h);
	hl(&b, "{\"event\":\"saga_started\",\"t\":5,\"saga_id\":\"s1\",\"amount\":3,}");
	char path[64], err[256];
	hwrite(&b, path);
	assert_null(fl_chk_history_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, ":1: column"));
	unlink(path);
	fl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_reader_fallback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
