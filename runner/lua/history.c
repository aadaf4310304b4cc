/* Module faultline.history: Jepsen-style histories from scenarios.
 *   local h = fl.history.open(path [, {append=true}])
 *   h:invoke(process, f, value) / h:ok(...) / h:fail(...) / h:info(...)
 *   h:event{...}   any event object;  h:path(), h:count(), h:close()
 * A recorder is a userdata "faultline.history"; __gc and __close close it. */
#include <lauxlib.h>
#include <stdlib.h>

#include "runner/luajson.h"
#include "core/history.h"

static const char mt[] = "faultline.history";

struct recorder {
	struct fl_history *h;
	int borrowed; /* another state's history (a worker thread's view): not closed here */
};

static struct recorder *check_rec(lua_State *L, int idx)
{
	struct recorder *r = luaL_checkudata(L, idx, mt);
	if (!r->h)
		luaL_argerror(L, idx, "history is closed");
	return r;
}

static int l_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int append = 0;
	if (lua_istable(L, 2)) {
		lua_getfield(L, 2, "append");
		append = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	struct recorder *r = lua_newuserdatauv(L, sizeof(*r), 0);
	r->h = NULL; /* closed until the file is open */
	r->borrowed = 0;
	luaL_setmetatable(L, mt);
	char err[256];
	r->h = fl_history_open(path, append, err, sizeof(err));
	if (!r->h) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

static int record_op(lua_State *L, const char *type)
{
	struct recorder *r = check_rec(L, 1);
	lua_Integer process = luaL_checkinteger(L, 2);
	const char *f = luaL_checkstring(L, 3);
	json_t *value = NULL;
	if (!lua_isnoneornil(L, 4)) {
		char err[160];
		value = fl_lua_to_json(L, 4, err, sizeof(err));
		if (!value)
			return luaL_argerror(L, 4, err);
	}
	int rc = fl_history_op(r->h, (int)process, type, f, value);
	json_decref(value);
	if (rc < 0)
		return luaL_error(L, "history %s: write failed", fl_history_path(r->h));
	lua_settop(L, 1);
	return 1;
}

static int l_invoke(lua_State *L)
{
	return record_op(L, "invoke");
}
static int l_ok(lua_State *L)
{
	return record_op(L, "ok");
}
static int l_fail(lua_State *L)
{
	return record_op(L, "fail");
}
static int l_info(lua_State *L)
{
	return record_op(L, "info");
}

static int l_event(lua_State *L)
{
	struct recorder *r = check_rec(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	char err[160];
	json_t *ev = fl_lua_to_json(L, 2, err, sizeof(err));
	if (!ev || !json_is_object(ev)) {
		json_decref(ev);
		return luaL_argerror(L, 2, ev ? "expected an object" : err);
	}
	int rc = fl_history_append(r->h, ev);
	json_decref(ev);
	if (rc < 0)
		return luaL_error(L, "history %s: write failed", fl_history_path(r->h));
	lua_settop(L, 1);
	return 1;
}

static int l_path(lua_State *L)
{
	lua_pushstring(L, fl_history_path(check_rec(L, 1)->h));
	return 1;
}

static int l_count(lua_State *L)
{
	lua_pushinteger(L, fl_history_count(check_rec(L, 1)->h));
	return 1;
}

static int l_close(lua_State *L)
{
	struct recorder *r = luaL_checkudata(L, 1, mt);
	if (!r->borrowed)
		fl_history_close(r->h);
	r->h = NULL;
	return 0;
}

/* h:_share() -> light userdata: the history itself, for worker threads
 * (faultline.load); it must stay open until they have finished */
static int l_share(lua_State *L)
{
	lua_pushlightuserdata(L, check_rec(L, 1)->h);
	return 1;
}

/* _borrow(light userdata from _share) -> a recorder writing to that history
 * (thread-safe, core/history.h); closing it does not close the history */
static int l_borrow(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	struct recorder *r = lua_newuserdatauv(L, sizeof(*r), 0);
	r->h = lua_touserdata(L, 1);
	r->borrowed = 1;
	luaL_setmetatable(L, mt);
	return 1;
}

int luaopen_faultline_history(lua_State *L);
int luaopen_faultline_history(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "invoke", l_invoke }, { "ok", l_ok },	      { "fail", l_fail },
		{ "info", l_info },	{ "event", l_event }, { "path", l_path },
		{ "count", l_count },	{ "close", l_close }, { "_share", l_share },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, mt)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, l_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_close);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	static const luaL_Reg fns[] = { { "open", l_open },
					{ "_borrow", l_borrow },
					{ NULL, NULL } };
	luaL_newlib(L, fns);
	return 1;
}
