/* Fuzz target: JSON given to Lua (runner/luajson.c). The input is decoded
 * as fl.json.decode does, pushed as a Lua value, converted back to JSON
 * and encoded; a value that went in must come back out. */
#include <string.h>
#include <jansson.h>
#include <lauxlib.h>
#include <lualib.h>

#include "core/json.h"
#include "runner/luajson.h"
#include "tests/fuzz/fuzz.h"

static lua_State *L;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!L) {
		L = luaL_newstate();
		luaL_openlibs(L);
	}
	char perr[200];
	json_t *v = fl_json_parse((const char *)data, size, perr, sizeof(perr));
	if (!v)
		return 0;
	lua_settop(L, 0);
	fl_lua_push_json(L, v);
	char err[256];
	json_t *back = fl_lua_to_json(L, -1, err, sizeof(err));
	/* anything JSON gave Lua converts back, but for nesting past the encoder's limit */
	if (!back && !strstr(err, "deeper than"))
		abort();
	if (back)
		free(json_dumps(back, JSON_ENCODE_ANY | JSON_COMPACT));
	json_decref(back);
	json_decref(v);
	lua_settop(L, 0);
	lua_gc(L, LUA_GCCOLLECT);
	return 0;
}
