/* Module faultline.ref_c: what faultline.ref adds to faultline.sys for the
 * reference system (restarting a service with extra transferd arguments,
 * the default data directory); signals go through faultline.sys_c. Failures of the
 * world return nil, message; misuse raises. */
#include <lauxlib.h>
#include <stdbool.h>
#include <string.h>

#include "launcher/launcher.h"

/* restart(data, service [, {extra args} [, wait]]) */
static int l_restart(lua_State *L)
{
	const char *data = luaL_checkstring(L, 1);
	const char *svc = luaL_checkstring(L, 2);
	const char *extra[32];
	int n = 0;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		lua_Integer len = luaL_len(L, 3);
		if (len > 32)
			return luaL_argerror(L, 3, "at most 32 extra arguments");
		for (lua_Integer i = 1; i <= len; i++) {
			lua_geti(L, 3, i);
			extra[n++] = luaL_checkstring(L, -1);
			lua_pop(L, 1); /* the table keeps the string alive */
		}
	}
	bool wait = lua_isnoneornil(L, 4) || lua_toboolean(L, 4);
	char err[512];
	if (fl_ref_restart(data, svc, extra, n, wait, err, sizeof(err)) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_default_data(lua_State *L)
{
	lua_pushstring(L, fl_ref_default_data());
	return 1;
}

int luaopen_faultline_ref_c(lua_State *L);
int luaopen_faultline_ref_c(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "restart", l_restart },
		{ "default_data", l_default_data },
		{ NULL, NULL },
	};
	luaL_newlib(L, fns);
	return 1;
}
