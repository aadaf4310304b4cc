/* Module faultline.core: the primitives the Lua part of the runner is built
 * on — scheduler (spawn, join, sleep, run_group), reporting, seeded random
 * numbers, -e variables, regular expressions. Not meant for scenarios
 * directly; faultline.lua wraps it. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"
#include "runner/luajson.h"
#include "runner/runner.h"
#include "runner/sched.h"
#include "core/clock.h"
#include "core/regex.h"

/* run_group(fn, timeout_s [, protected]) -> true, results... | false, err
 * Runs fn as the root task of a new scheduler group, driving the event loop
 * until it finishes. A protected group (cleanups) survives the first Ctrl-C.
 * Only from the runner's main thread of control. */
static int l_run_group(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	double timeout = luaL_optnumber(L, 2, 0);
	int protected_group = lua_toboolean(L, 3);
	struct fl_sched *s = fl_sched_from(L);
	if (fl_sched_current(L) || lua_isyieldable(L))
		return luaL_error(L, "run_group: cannot nest inside a running test");
	lua_settop(L, 1);
	int base = lua_gettop(L) - 1;
	int n = fl_sched_run_group(s, timeout, protected_group);
	if (n < 0) {
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_insert(L, base + 1);
	return n + 1;
}

static char *opt_strdup(lua_State *L, int idx, const char *key)
{
	lua_getfield(L, idx, key);
	const char *s = lua_tostring(L, -1);
	char *r = s ? strdup(s) : NULL;
	lua_pop(L, 1);
	return r;
}

/* report{suite=, name=, status="pass|fail|skip", duration=s, message=,
 *        detail=, file=, line=, tags={...}, retries={...}, extra={...}} */
static int l_report(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	struct fl_test_result r;
	memset(&r, 0, sizeof(r));
	r.file = strdup(ctx->path);
	r.suite = opt_strdup(L, 1, "suite");
	r.name = opt_strdup(L, 1, "name");
	if (!r.name)
		r.name = strdup("(unnamed)");
	r.message = opt_strdup(L, 1, "message");
	r.detail = opt_strdup(L, 1, "detail");
	r.fail_file = opt_strdup(L, 1, "file");
	lua_getfield(L, 1, "line");
	r.fail_line = (int)lua_tointeger(L, -1);
	lua_getfield(L, 1, "duration");
	r.duration_ns = (int64_t)(lua_tonumber(L, -1) * 1e9);
	lua_getfield(L, 1, "start_wall");
	r.start_wall_ns = (int64_t)(lua_tonumber(L, -1) * 1e9);
	lua_getfield(L, 1, "status");
	const char *st = luaL_optstring(L, -1, "fail");
	lua_pop(L, 4);
	if (strcmp(st, "pass") == 0) {
		r.status = FL_TEST_PASS;
		ctx->out->passed++;
	} else if (strcmp(st, "skip") == 0) {
		r.status = FL_TEST_SKIP;
		ctx->out->skipped++;
	} else {
		r.status = FL_TEST_FAIL;
		ctx->out->failed++;
		if (ctx->opts->bail) /* --bail: nothing more starts, here or in other files */
			__atomic_store_n(ctx->opts->bail, 1, __ATOMIC_RELEASE);
	}
	lua_getfield(L, 1, "tags");
	if (lua_istable(L, -1)) {
		r.tags = json_array();
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			if (lua_type(L, -1) == LUA_TSTRING)
				json_array_append_new(r.tags, json_string(lua_tostring(L, -1)));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	/* retries = { {message=, detail=, duration=}, ... }: earlier failed tries */
	lua_getfield(L, 1, "retries");
	if (lua_istable(L, -1) && lua_rawlen(L, -1) > 0) {
		int n = (int)lua_rawlen(L, -1);
		r.retries = calloc((size_t)n, sizeof(*r.retries));
		for (int i = 0; r.retries && i < n; i++) {
			lua_rawgeti(L, -1, i + 1);
			int at = lua_gettop(L);
			r.retries[i].message = opt_strdup(L, at, "message");
			r.retries[i].detail = opt_strdup(L, at, "detail");
			lua_getfield(L, at, "duration");
			r.retries[i].duration_ns = (int64_t)(lua_tonumber(L, -1) * 1e9);
			lua_pop(L, 2);
			r.nretries++;
		}
	}
	lua_pop(L, 1);
	/* extra = { checks = {...}, experiment = {...} }: the test's parts */
	lua_getfield(L, 1, "extra");
	if (lua_istable(L, -1)) {
		char err[128];
		r.extra = fl_lua_to_json(L, lua_gettop(L), err, sizeof(err));
	}
	lua_pop(L, 1);
	r.index = ++ctx->test_index;
	fl_report_test_done(ctx->opts->reports, &r);
	fl_test_result_free(&r); /* the set copies what it keeps */
	return 0;
}

/* progress{what=, elapsed=, total=, ops=, errors=, faults=} (nil: take the
 * display down): the console's one-line progress on a terminal. */
static int l_progress(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	struct fl_progress p = { .ops = -1, .errors = -1, .faults = -1 };
	if (lua_istable(L, 1)) {
		lua_getfield(L, 1, "what");
		lua_getfield(L, 1, "elapsed");
		lua_getfield(L, 1, "total");
		lua_getfield(L, 1, "ops");
		lua_getfield(L, 1, "errors");
		lua_getfield(L, 1, "faults");
		p.what = lua_tostring(L, -6);
		p.elapsed_s = lua_tonumber(L, -5);
		p.total_s = lua_tonumber(L, -4);
		if (lua_isnumber(L, -3))
			p.ops = (int64_t)lua_tointeger(L, -3);
		if (lua_isnumber(L, -2))
			p.errors = (int64_t)lua_tointeger(L, -2);
		if (lua_isnumber(L, -1))
			p.faults = (int)lua_tointeger(L, -1);
	}
	fl_report_progress(ctx->opts->reports, &p);
	return 0;
}

/* note(text) -> true when the console took it (else the caller prints it) */
static int l_note(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	lua_pushboolean(L, fl_report_note(ctx->opts->reports, luaL_checkstring(L, 1)));
	return 1;
}

/* file_error(message, exit_code) */
static int l_file_error(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	struct fl_file_error fe = { .file = ctx->path,
				    .message = luaL_checkstring(L, 1),
				    .exit_code = (int)luaL_optinteger(L, 2, 2) };
	fl_report_file_error(ctx->opts->reports, &fe);
	ctx->out->file_errors++;
	if (ctx->out->error_exit < fe.exit_code)
		ctx->out->error_exit = fe.exit_code;
	return 0;
}

/* options() -> {path=, tags={...}, grep=, timeout=, seed=, history=, retries=,
 *               chaos=, dry_run=, journal=, allow={...}} */
static int l_options(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	const struct fl_run_opts *o = ctx->opts;
	lua_createtable(L, 0, 6);
	lua_pushstring(L, ctx->path);
	lua_setfield(L, -2, "path");
	lua_createtable(L, o->ntags, 0);
	for (int i = 0; i < o->ntags; i++) {
		lua_pushstring(L, o->tags[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "tags");
	if (o->grep) {
		lua_pushstring(L, o->grep);
		lua_setfield(L, -2, "grep");
	}
	lua_pushnumber(L, o->timeout_s);
	lua_setfield(L, -2, "timeout");
	lua_pushinteger(L, (lua_Integer)o->seed);
	lua_setfield(L, -2, "seed");
	lua_pushinteger(L, o->retries);
	lua_setfield(L, -2, "retries");
	lua_pushboolean(L, o->chaos);
	lua_setfield(L, -2, "chaos");
	lua_pushboolean(L, o->dry_run);
	lua_setfield(L, -2, "dry_run");
	if (o->journal) {
		lua_pushstring(L, o->journal);
		lua_setfield(L, -2, "journal");
	}
	lua_createtable(L, o->nallow, 0);
	for (int i = 0; i < o->nallow; i++) {
		lua_pushstring(L, o->allow[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "allow");
	if (o->history_path) {
		lua_pushstring(L, o->history_path);
		lua_setfield(L, -2, "history");
	}
	return 1;
}

/* env() -> table of the -e KEY=VAL pairs */
static int l_env(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	lua_newtable(L);
	for (int i = 0; i < ctx->opts->nenv; i++) {
		const char *kv = ctx->opts->env[i];
		const char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		lua_pushlstring(L, kv, (size_t)(eq - kv));
		lua_pushstring(L, eq + 1);
		lua_settable(L, -3);
	}
	return 1;
}

/* interrupted() -> false, or the number of interrupts (1: stop, 2: abandon cleanups) */
static int l_interrupted(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	int v = ctx->opts->interrupt ? __atomic_load_n(ctx->opts->interrupt, __ATOMIC_ACQUIRE) : 0;
	if (v) {
		ctx->out->interrupted = 1;
		lua_pushinteger(L, v);
	} else {
		lua_pushboolean(L, 0);
	}
	return 1;
}

/* bailed() -> true once --bail stopped the run (a test failed somewhere) */
static int l_bailed(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	const struct fl_run_opts *o = ctx->opts;
	lua_pushboolean(L, o->bail && __atomic_load_n(o->bail, __ATOMIC_ACQUIRE));
	return 1;
}

/* not_run(): one more selected test left unrun because of --bail */
static int l_not_run(lua_State *L)
{
	fl_runner_ctx(L)->out->not_run++;
	return 0;
}

/* random([m [, n]]) with math.random's conventions, from the file's seeded PRNG */
static int l_random(lua_State *L)
{
	struct fl_prng *r = fl_sched_prng(fl_sched_from(L));
	switch (lua_gettop(L)) {
	case 0: lua_pushnumber(L, fl_prng_double(r)); return 1;
	case 1: {
		lua_Integer hi = luaL_checkinteger(L, 1);
		luaL_argcheck(L, hi >= 1, 1, "interval is empty");
		lua_pushinteger(L, fl_prng_range(r, 1, hi));
		return 1;
	}
	default: {
		lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
		luaL_argcheck(L, lo <= hi, 2, "interval is empty");
		lua_pushinteger(L, fl_prng_range(r, lo, hi));
		return 1;
	}
	}
}

/* regex_find(re, s) -> bool; raises on a bad expression or one over the
 * limits of core/regex.h (PCRE2 syntax) */
static int l_regex_find(lua_State *L)
{
	const char *re = luaL_checkstring(L, 1);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	struct fl_regex *rx = NULL;
	char msg[256];
	if (fl_regex_compile(re, 0, &rx, msg, sizeof(msg)) < 0)
		return luaL_error(L, "bad regular expression: %s", msg);
	int rc = fl_regex_match(rx, s, len, msg, sizeof(msg));
	fl_regex_free(rx);
	if (rc < 0)
		return luaL_error(L, "%s", msg);
	lua_pushboolean(L, rc == 1);
	return 1;
}

/* wall() -> seconds since the epoch (float) */
static int l_wall(lua_State *L)
{
	lua_pushnumber(L, (double)fl_wall_ns() / 1e9);
	return 1;
}

/* isatty(fd) */
/* allowed(host) -> bool: may an experiment reach host (loopback, --allow)? */
static int l_allowed(lua_State *L)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	lua_pushboolean(L, ctx && fl_runner_allowed(ctx, luaL_checkstring(L, 1)));
	return 1;
}

static int l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

int luaopen_faultline_core(lua_State *L);
int luaopen_faultline_core(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "run_group", l_run_group },
		{ "report", l_report },
		{ "progress", l_progress },
		{ "note", l_note },
		{ "file_error", l_file_error },
		{ "options", l_options },
		{ "env", l_env },
		{ "interrupted", l_interrupted },
		{ "bailed", l_bailed },
		{ "not_run", l_not_run },
		{ "random", l_random },
		{ "regex_find", l_regex_find },
		{ "wall", l_wall },
		{ "isatty", l_isatty },
		{ "allowed", l_allowed },
		{ NULL, NULL },
	};
	luaL_newlib(L, fns);
	fl_sched_open_lib(L);
	return 1;
}
