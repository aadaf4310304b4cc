/* Lua <-> JSON conversion used by fl.http and fl.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "runner/luajson.h"

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	return L;
}

/* Evaluate `expr` in Lua and convert the result to compact JSON text. */
static char *lua_expr_to_json(lua_State *L, const char *expr, char *err, size_t errlen)
{
	char code[512];
	snprintf(code, sizeof(code), "return %s", expr);
	assert_int_equal(luaL_dostring(L, code), LUA_OK);
	json_t *v = fl_lua_to_json(L, -1, err, errlen);
	lua_pop(L, 1);
	if (!v)
		return NULL;
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(v);
	return s;
}

static void check(lua_State *L, const char *expr, const char *want)
{
	char err[160];
	char *got = lua_expr_to_json(L, expr, err, sizeof(err));
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_scalars_and_tables(void **state)
{
	(void)state;
	lua_State *L = new_state();
	check(L, "42", "42");
	check(L, "1.5", "1.5");
	check(L, "3.0", "3");
	check(L, "'a\\\"b'", "\"a\\\"b\"");
	check(L, "true", "true");
	check(L, "nil", "null");
	check(L, "{1, 2, {3}}", "[1,2,[3]]");
	check(L, "{a = 1, b = {c = 'x'}}", "{\"a\":1,\"b\":{\"c\":\"x\"}}");
	check(L, "{}", "{}");
	check(L, "{[1] = 'a', [3] = 'c'}", "{\"1\":\"a\",\"3\":\"c\"}");
	lua_close(L);
}

static void test_errors(void **state)
{
	(void)state;
	lua_State *L = new_state();
	char err[160];
	assert_null(lua_expr_to_json(L, "{f = print}", err, sizeof(err)));
	assert_non_null(strstr(err, "function"));
	assert_int_equal(luaL_dostring(L, "t = {}; t.self = t"), LUA_OK);
	assert_null(lua_expr_to_json(L, "t", err, sizeof(err)));
	assert_non_null(strstr(err, "deeper"));
	assert_null(lua_expr_to_json(L, "{[true] = 1}", err, sizeof(err)));
	assert_null(lua_expr_to_json(L, "0/0", err, sizeof(err)));
	lua_close(L);
}

static void test_round_trip_keeps_arrays_and_null(void **state)
{
	(void)state;
	lua_State *L = new_state();
	json_error_t je;
	json_t *in = json_loads("{\"empty\":[],\"n\":null,\"list\":[1,\"two\",{\"x\":[]}],\"o\":{}}", 0, &je);
	assert_non_null(in);
	fl_lua_push_json(L, in);
	char err[160];
	json_t *out = fl_lua_to_json(L, -1, err, sizeof(err));
	assert_non_null(out);
	assert_true(json_equal(in, out));
	/* the decoded empty array is still an array when re-encoded */
	assert_true(json_is_array(json_object_get(out, "empty")));
	assert_true(json_is_null(json_object_get(out, "n")));
	json_decref(in);
	json_decref(out);
	lua_close(L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_and_tables),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_round_trip_keeps_arrays_and_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
