/* Running one scenario file in its own Lua state, loop and scheduler. */
#include "runner/runner.h"

#include <errno.h>
#include <event2/event.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/lua_embed.h"
#include "runner/luajson.h"
#include "runner/runner_int.h"
#include "runner/sched.h"
#include "core/addr.h"
#include "core/clock.h"
#include "core/errors.h"
#include "fault-injector/proxy.h"

#define FL_LUAMOD(n) int luaopen_faultline_##n(lua_State *L);
#include "luamods.inc"
#undef FL_LUAMOD

static const char ctx_key[] = "faultline.runner";

struct fl_runner_ctx *fl_runner_ctx(lua_State *L)
{
	struct fl_sched *s = fl_sched_from(L); /* no registry lookup (several a request) */
	struct fl_runner_ctx *c = s ? fl_sched_ctx(s) : NULL;
	if (c)
		return c;
	lua_getfield(L, LUA_REGISTRYINDEX, ctx_key);
	c = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return c;
}

/* package.searchers entry: modules compiled into the binary. */
static int embedded_searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	for (const struct fl_lua_embed *e = fl_lua_embedded; e->module; e++) {
		if (strcmp(e->module, name) != 0)
			continue;
		char chunkname[256];
		snprintf(chunkname, sizeof(chunkname), "@%s", e->path);
		if (luaL_loadbufferx(L, e->src, e->len, chunkname, "t") != LUA_OK)
			return lua_error(L);
		lua_pushstring(L, e->path);
		return 2;
	}
	lua_pushfstring(L, "no embedded module '%s'", name);
	return 1;
}

void fl_runner_open_modules(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#define FL_LUAMOD(n)                                                                               \
	lua_pushcfunction(L, luaopen_faultline_##n);                                               \
	lua_setfield(L, -2, "faultline." #n);
#include "luamods.inc"
#undef FL_LUAMOD
	lua_pop(L, 1);
	/* searchers: preload first (Lua's own), then ours before the file system */
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchers");
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	for (lua_Integer i = n; i >= 2; i--) {
		lua_rawgeti(L, -1, i);
		lua_rawseti(L, -2, i + 1);
	}
	lua_pushcfunction(L, embedded_searcher);
	lua_rawseti(L, -2, 2);
	lua_pop(L, 2);
}

/* Add the scenario's directory to package.path so files can require helpers
 * that live beside them. */
static void add_scenario_path(lua_State *L, const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;
	const char *dir = slash ? path : ".";
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "path");
	char buf[8192];
	snprintf(buf, sizeof(buf), "%.*s/?.lua;%.*s/?/init.lua;%s", dirlen, dir, dirlen, dir,
		 lua_tostring(L, -1));
	lua_pushstring(L, buf);
	lua_setfield(L, -3, "path");
	lua_pop(L, 2);
}

static int traceback_handler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
	return 1;
}

static void file_error(const struct fl_run_opts *opts, struct fl_file_outcome *out,
		       const char *path, const char *msg, int code)
{
	struct fl_file_error fe = { .file = path, .message = msg, .exit_code = code };
	fl_report_file_error(opts->reports, &fe);
	out->file_errors++;
	if (out->error_exit < code)
		out->error_exit = code;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void fl_runner_file_prng(uint64_t seed, const char *path, struct fl_prng *out)
{
	struct fl_prng root;
	fl_prng_seed(&root, seed);
	fl_prng_fork(&root, hash_str(path), out);
}

/* The --allow lists of o as one list (NULL when none or one is malformed). */
static struct fl_allow *parse_allow(const struct fl_run_opts *o)
{
	size_t n = 1;
	for (int i = 0; i < o->nallow; i++)
		n += strlen(o->allow[i]) + 1;
	char *spec = malloc(n);
	struct fl_allow *list = NULL;
	if (!spec)
		return NULL;
	spec[0] = 0;
	for (int i = 0; i < o->nallow; i++) {
		if (i)
			strcat(spec, ",");
		strcat(spec, o->allow[i]);
	}
	if (fl_allow_parse(spec, &list, NULL, 0) != 0)
		list = NULL;
	free(spec);
	return list;
}

int fl_runner_state_open(struct fl_runner_ctx *ctx, const struct fl_prng *prng, const char *beside,
			 lua_State **Lp, struct event_base **basep, struct fl_sched **schedp,
			 char *err, size_t errlen)
{
	int rc = FL_ENOMEM;
	struct event_base *base = NULL;
	struct fl_sched *sched = NULL;
	lua_State *L = luaL_newstate();
	if (!L) {
		fl_err_set(err, errlen, rc, "out of memory");
		goto fail;
	}
	/* no scheduler yet (fl_sched_from): fl_sched_new sets it */
	memset(lua_getextraspace(L), 0, LUA_EXTRASPACE);
	base = event_base_new();
	if (!base) {
		rc = FL_EIO;
		fl_err_set(err, errlen, rc, "cannot create an event loop");
		goto fail;
	}
	luaL_openlibs(L);
	fl_runner_open_modules(L);
	lua_pushlightuserdata(L, ctx);
	lua_setfield(L, LUA_REGISTRYINDEX, ctx_key);
	sched = fl_sched_new(L, base, err, errlen);
	if (!sched) {
		rc = FL_EIO;
		goto fail;
	}
	fl_sched_set_ctx(sched, ctx);
	ctx->allow = ctx->opts->nallow > 0 ? parse_allow(ctx->opts) : NULL;
	*fl_sched_prng(sched) = *prng;
	fl_sched_set_interrupt_flag(sched, ctx->opts->interrupt);
	if (beside)
		add_scenario_path(L, beside);
	*Lp = L;
	*basep = base;
	*schedp = sched;
	return 0;
fail:
	fl_runner_state_close(L, base, sched);
	return rc;
}

void fl_runner_state_close(lua_State *L, struct event_base *base, struct fl_sched *sched)
{
	struct fl_runner_ctx *ctx = sched ? fl_sched_ctx(sched) : NULL;
	if (L)
		lua_close(L); /* before the scheduler: __gc may touch it */
	if (ctx) {
		fl_allow_free(ctx->allow);
		ctx->allow = NULL;
	}
	fl_sched_free(sched);
	if (base)
		event_base_free(base);
}

int fl_runner_run_file(const char *path, const struct fl_run_opts *opts,
		       struct fl_file_outcome *out)
{
	int rc = FL_ENOMEM;
	char err[256] = "";
	struct event_base *base = NULL;
	struct fl_sched *sched = NULL;
	struct fl_runner_ctx ctx = { .path = path, .opts = opts, .out = out };
	memset(out, 0, sizeof(*out));

	lua_State *L = NULL;
	struct fl_prng prng;
	fl_runner_file_prng(opts->seed, path, &prng);
	rc = fl_runner_state_open(&ctx, &prng, path, &L, &base, &sched, err, sizeof(err));
	if (rc < 0) {
		file_error(opts, out, path, err, 3);
		return rc;
	}

	fl_report_file_begin(opts->reports, path);
	lua_pushcfunction(L, traceback_handler);
	int hidx = lua_gettop(L);
	char chunkname[1024];
	snprintf(chunkname, sizeof(chunkname), "@%s", path);
	FILE *f = fopen(path, "r");
	if (!f) {
		char msg[1200];
		snprintf(msg, sizeof(msg), "%s: cannot open: %s", path, strerror(errno));
		file_error(opts, out, path, msg, 2);
		rc = 0;
		goto end_file;
	}
	fclose(f);
	if (luaL_loadfilex(L, path, "t") != LUA_OK) {
		/* "path:line: message": the syntax error's place */
		file_error(opts, out, path, lua_tostring(L, -1), 2);
		rc = 0;
		goto end_file;
	}
	/* require("faultline")._run_file(chunk, path) */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "faultline");
	if (lua_pcall(L, 1, 1, hidx) != LUA_OK) {
		file_error(opts, out, path, lua_tostring(L, -1), 3);
		rc = 0;
		goto end_file;
	}
	lua_getfield(L, -1, "_run_file");
	lua_remove(L, -2);
	lua_rotate(L, -2, 1); /* stack: handler, _run_file, chunk */
	lua_pushstring(L, path);
	if (lua_pcall(L, 2, 0, hidx) != LUA_OK) {
		char msg[2048];
		snprintf(msg, sizeof(msg), "internal error in the runner: %s", lua_tostring(L, -1));
		file_error(opts, out, path, msg, 3);
	}
	rc = 0;
end_file:
	fl_report_file_end(opts->reports, path);
	fl_runner_state_close(L, base, sched);
	return rc;
}

/* The first result of a finished group (results on top of L's stack) into
 * *result, or its error message into err. */
static int call_result(lua_State *L, int n, json_t **result, char *err, size_t errlen)
{
	if (n < 0) {
		const char *m = lua_tostring(L, -1);
		return fl_err_set(err, errlen, FL_EINVAL, "%s",
				  m ? m : "(error object is not a string)");
	}
	if (n == 0 || lua_isnil(L, -n)) {
		*result = json_null();
		return 0;
	}
	*result = fl_lua_to_json(L, -n, err, errlen);
	return *result ? 0 : FL_EINVAL;
}

int fl_runner_call(const char *module, const char *fn, const json_t *args,
		   const struct fl_run_opts *opts, json_t **result, char *err, size_t errlen)
{
	struct event_base *base = NULL;
	struct fl_sched *sched = NULL;
	lua_State *L = NULL;
	struct fl_file_outcome out;
	struct fl_runner_ctx ctx = { .path = module, .opts = opts, .out = &out };
	memset(&out, 0, sizeof(out));
	*result = NULL;
	struct fl_prng prng;
	fl_runner_file_prng(opts->seed, module, &prng);
	/* a module is found by name: nothing goes on package.path */
	int rc = fl_runner_state_open(&ctx, &prng, NULL, &L, &base, &sched, err, errlen);
	if (rc < 0)
		return rc;
	lua_pushcfunction(L, traceback_handler);
	int hidx = lua_gettop(L);
	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	if (lua_pcall(L, 1, 1, hidx) != LUA_OK) {
		rc = fl_err_set(err, errlen, FL_EINVAL, "%s", lua_tostring(L, -1));
		goto out;
	}
	lua_getfield(L, -1, fn); /* stack: handler, module, fn */
	if (!lua_isfunction(L, -1)) {
		rc = fl_err_set(err, errlen, FL_EINVAL, "%s has no function %s", module, fn);
		goto out;
	}
	/* the root task runs fn(args): a closure over both */
	luaL_loadstring(L, "local f, a = ... return function() return f(a) end");
	lua_rotate(L, -2, 1); /* stack: handler, module, loader, fn */
	if (args)
		fl_lua_push_json(L, args);
	else
		lua_pushnil(L);
	lua_call(L, 2, 1); /* stack: handler, module, task function */
	int n = fl_sched_run_group(sched, 0, 1);
	rc = call_result(L, n, result, err, errlen);
out:
	fl_runner_state_close(L, base, sched);
	return rc;
}

bool fl_runner_allowed(const struct fl_runner_ctx *ctx, const char *host)
{
	return fl_host_is_loopback(host) || (ctx->allow && fl_allow_host(ctx->allow, host));
}
