/* Module faultline.json: encode/decode, the null sentinel and the array marker. */
#include <lauxlib.h>
#include <stdlib.h>

#include "runner/luajson.h"
#include "core/json.h"

/* encode(value [, {pretty=true}]) -> string; raises on values JSON cannot hold */
static int l_encode(lua_State *L)
{
	char err[160];
	luaL_checkany(L, 1);
	json_t *v = fl_lua_to_json(L, 1, err, sizeof(err));
	if (!v)
		return luaL_argerror(L, 1, err);
	int pretty = 0;
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "pretty");
		pretty = lua_toboolean(L, -1);
	}
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_SORT_KEYS |
					(pretty ? JSON_INDENT(2) : JSON_COMPACT));
	json_decref(v);
	if (!s)
		return luaL_error(L, "encode: out of memory");
	lua_pushstring(L, s);
	free(s);
	return 1;
}

/* decode(string) -> value | nil, message */
static int l_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char err[200];
	json_t *v = fl_json_parse(s, len, err, sizeof(err));
	if (!v) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	fl_lua_push_json(L, v);
	json_decref(v);
	return 1;
}

/* array([t]) -> t marked to encode as a JSON array even when empty */
static int l_array(lua_State *L)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	fl_lua_mark_array(L, 1);
	return 1;
}

int luaopen_faultline_json(lua_State *L);
int luaopen_faultline_json(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "encode", l_encode },
		{ "decode", l_decode },
		{ "array", l_array },
		{ NULL, NULL },
	};
	luaL_newlib(L, fns);
	fl_lua_push_null(L);
	lua_setfield(L, -2, "null");
	return 1;
}
