/* Module faultline.sys_c: process control of a system started by the
 * launcher, for faultline.sys (signals, restart, one readiness check, the
 * data directory of a system). Failures of the world return nil, message;
 * misuse raises. */
#include <lauxlib.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "launcher/launcher.h"
#include "runner/luajson.h"

static int fail(lua_State *L, const char *err)
{
	lua_pushnil(L);
	lua_pushstring(L, err);
	return 2;
}

/* signal(data, service, "KILL"|"TERM"|"STOP"|"CONT"|"INT"|"ZERO") -> true | nil, err */
static int l_signal(lua_State *L)
{
	const char *data = luaL_checkstring(L, 1);
	const char *svc = luaL_checkstring(L, 2);
	static const char *const names[] = { "KILL", "TERM", "STOP", "CONT", "INT", "ZERO", NULL };
	static const int sigs[] = { SIGKILL, SIGTERM, SIGSTOP, SIGCONT, SIGINT, 0 };
	int i = luaL_checkoption(L, 3, NULL, names);
	char err[512];
	if (fl_launcher_signal(data, svc, sigs[i], err, sizeof(err)) != 0)
		return fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/* restart(data, service [, wait]) -> true | nil, err (blocks while it waits) */
static int l_restart(lua_State *L)
{
	const char *data = luaL_checkstring(L, 1);
	const char *svc = luaL_checkstring(L, 2);
	bool wait = lua_toboolean(L, 3);
	char err[2048];
	if (fl_launcher_restart(data, svc, wait, err, sizeof(err)) != 0)
		return fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/* status(data) -> the system with alive/ready/state per service | nil, err */
static int l_status(lua_State *L)
{
	char err[512];
	json_t *t = fl_launcher_status(luaL_checkstring(L, 1), err, sizeof(err));
	if (!t)
		return fail(L, err);
	fl_lua_push_json(L, t);
	json_decref(t);
	return 1;
}

/* default_data(name) -> $FL_UP_DATA or /tmp/faultline-up-UID/NAME */
static int l_default_data(lua_State *L)
{
	char buf[PATH_MAX];
	lua_pushstring(L, fl_launcher_default_data(luaL_checkstring(L, 1), buf, sizeof(buf)));
	return 1;
}

int luaopen_faultline_sys_c(lua_State *L);
int luaopen_faultline_sys_c(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "signal", l_signal }, { "restart", l_restart },
		{ "status", l_status }, { "default_data", l_default_data },
		{ NULL, NULL },
	};
	luaL_newlib(L, fns);
	return 1;
}
