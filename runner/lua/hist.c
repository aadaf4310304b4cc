/* Module faultline.hist: core/hist's HDR-style latency histogram for Lua
 * (fl.hist). A workload records each operation's latency as it runs and
 * reads percentiles back within 1/128 of the recorded values:
 *
 *   local h = fl.hist()              -- empty
 *   h:record(0.0123)                 -- seconds (or h:record_ns(12300000))
 *   h:percentile(99)                 -- seconds; h:percentile_ns(99) in ns
 *   h:count(), h:mean(), h:min(), h:max()   (seconds)
 *   h:merge(other)                   -- add another histogram's values
 *
 * A histogram is a userdata of fixed size (about 18 KB); misuse raises. */
#include <lauxlib.h>
#include <string.h>

#include "core/hist.h"

#define HIST_MT "faultline.hist"

static struct fl_hist *check_hist(lua_State *L, int i)
{
	return luaL_checkudata(L, i, HIST_MT);
}

/* A latency in seconds as ns; negative or not a number raises. */
static uint64_t to_ns(lua_State *L, int i)
{
	double s = luaL_checknumber(L, i);
	luaL_argcheck(L, s >= 0 && s < 1.8e10, i, "expected seconds >= 0");
	return (uint64_t)(s * 1e9 + 0.5);
}

/* new() -> an empty histogram */
static int l_new(lua_State *L)
{
	struct fl_hist *h = lua_newuserdatauv(L, sizeof(*h), 0);
	fl_hist_init(h);
	luaL_setmetatable(L, HIST_MT);
	return 1;
}

/* h:record(seconds [, n]) */
static int l_record(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1);
	lua_Integer n = luaL_optinteger(L, 3, 1);
	luaL_argcheck(L, n >= 0, 3, "expected a count >= 0");
	fl_hist_record_n(h, to_ns(L, 2), (uint64_t)n);
	return 0;
}

/* h:record_ns(ns [, n]) */
static int l_record_ns(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1);
	lua_Integer v = luaL_checkinteger(L, 2), n = luaL_optinteger(L, 3, 1);
	luaL_argcheck(L, v >= 0, 2, "expected ns >= 0");
	luaL_argcheck(L, n >= 0, 3, "expected a count >= 0");
	fl_hist_record_n(h, (uint64_t)v, (uint64_t)n);
	return 0;
}

static double pct_arg(lua_State *L)
{
	double p = luaL_checknumber(L, 2);
	luaL_argcheck(L, p >= 0 && p <= 100, 2, "expected a percentile in 0..100");
	return p;
}

static int l_percentile(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1);
	lua_pushnumber(L, (double)fl_hist_percentile(h, pct_arg(L)) / 1e9);
	return 1;
}

static int l_percentile_ns(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1);
	lua_pushinteger(L, (lua_Integer)fl_hist_percentile(h, pct_arg(L)));
	return 1;
}

static int l_count(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)check_hist(L, 1)->count);
	return 1;
}

static int l_mean(lua_State *L)
{
	lua_pushnumber(L, fl_hist_mean(check_hist(L, 1)) / 1e9);
	return 1;
}

static int l_min(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1);
	lua_pushnumber(L, h->count ? (double)h->min / 1e9 : 0);
	return 1;
}

static int l_max(lua_State *L)
{
	lua_pushnumber(L, (double)check_hist(L, 1)->max / 1e9);
	return 1;
}

/* h:merge(other): other's values added to h; returns h */
static int l_merge(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1), *o = check_hist(L, 2);
	fl_hist_merge(h, o);
	lua_settop(L, 1);
	return 1;
}

static int l_tostring(lua_State *L)
{
	struct fl_hist *h = check_hist(L, 1);
	lua_pushfstring(L, "hist(%I values, p50 %f ms, p99 %f ms)", (lua_Integer)h->count,
			(double)fl_hist_percentile(h, 50) / 1e6,
			(double)fl_hist_percentile(h, 99) / 1e6);
	return 1;
}

int luaopen_faultline_hist(lua_State *L);
int luaopen_faultline_hist(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "record", l_record },
		{ "record_ns", l_record_ns },
		{ "percentile", l_percentile },
		{ "percentile_ns", l_percentile_ns },
		{ "count", l_count },
		{ "mean", l_mean },
		{ "min", l_min },
		{ "max", l_max },
		{ "merge", l_merge },
		{ NULL, NULL },
	};
	static const luaL_Reg fns[] = { { "new", l_new }, { NULL, NULL } };
	luaL_newmetatable(L, HIST_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
	luaL_newlib(L, fns);
	return 1;
}
