/* Module faultline.http: HTTP requests from scenarios. A request yields the
 * calling task to the event loop until the answer arrives, so fl.parallel
 * clients overlap. Misuse raises ("bad argument #2 to 'post'"); a transport
 * failure (refused, timeout, reset) raises an error naming the address,
 * unless the request says raise = false, in which case the response has
 * status 0 and .error set.
 *
 * Response: { status, headers = {lower-case name = value}, body, json,
 *             time (s), url, method, error? } */
#include <lauxlib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runner/luajson.h"
#include "runner/runner.h"
#include "runner/sched.h"
#include "core/addr.h"
#include "core/errors.h"
#include "core/http_client.h"

#define MAX_HEADERS 64

/* The module's per-state table (registry "faultline.http", also upvalue 1
 * of its functions): the response's field names as Lua strings at fixed
 * indexes, pushed with lua_rawgeti instead of being looked up by name (a
 * hash and compare each), the last response, and the strings of the
 * string cache (struct http_state, upvalue 2 and st[K_STATE]). */
static const char state_key[] = "faultline.http";
enum {
	K_STATUS = 1,
	K_HEADERS,
	K_BODY,
	K_JSON,
	K_TIME,
	K_URL,
	K_METHOD,
	K_REQUEST_BODY,
	K_ERROR,
	K_ERROR_CODE,
	K_NKEYS = K_ERROR_CODE,
	K_LAST,	 /* the last response, for failure messages */
	K_STATE, /* the struct http_state userdata */
	K_CACHE, /* K_CACHE + slot: the Lua string of a cache slot */
};
static const char *const key_names[K_NKEYS] = { "status", "headers",   "body",	 "json",
						"time",	  "url",       "method", "request_body",
						"error",  "error_code" };

/* The string cache: a response's strings (url, method, body, header names
 * and values) are mostly the ones of the response before at the same
 * place (a load loop asks the same server the same thing). Each slot keeps
 * the bytes of the last string seen there and its Lua string in the state
 * table; an equal string is pushed from there, without hashing and
 * interning it again (that and the garbage it made were a tenth of the
 * runner's own time a request). */
enum {
	S_URL,
	S_METHOD,
	S_BODY,
	S_HEADER0,
	CACHE_HEADERS = 16,
	NSLOTS = S_HEADER0 + 2 * CACHE_HEADERS
};
#define SLOT_BYTES 64

struct http_state {
	int ref; /* registry reference of the state table */
	struct {
		size_t len; /* (size_t)-1: empty */
		char bytes[SLOT_BYTES];
	} slot[NSLOTS];
};

struct http_wait {
	struct fl_http_client *c;
	uint64_t id;
	struct fl_task *t;
	int raise;
	struct http_state *hs; /* anchored by the state table */
};

/* Push s[0..n) (lower-cased and cut at 127 bytes when lower: a header
 * name) through cache slot `slot` (-1: none); st is the state table's
 * index. */
static void push_cached(lua_State *co, int st, struct http_state *hs, int slot, const char *s,
			size_t n, bool lower)
{
	if (slot >= 0 && n == hs->slot[slot].len && memcmp(hs->slot[slot].bytes, s, n) == 0) {
		lua_rawgeti(co, st, K_CACHE + slot);
		return;
	}
	if (lower) {
		char name[128] = "";
		size_t k = 0;
		for (; k < n && k < sizeof(name) - 1; k++) {
			char ch = s[k];
			name[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
		}
		lua_pushlstring(co, name, k);
	} else {
		lua_pushlstring(co, s, n);
	}
	if (slot >= 0 && n <= SLOT_BYTES) {
		memcpy(hs->slot[slot].bytes, s, n);
		hs->slot[slot].len = n;
		lua_pushvalue(co, -1);
		lua_rawseti(co, st, K_CACHE + slot);
	}
}

/* t[key k] = value on top (popped); t is an absolute index, st the state table's. */
static void set_key(lua_State *co, int t, int st, int k)
{
	lua_rawgeti(co, st, k);
	lua_rotate(co, -2, 1);
	lua_rawset(co, t);
}

/* The headers table, names in lower case; a repeated header's values are
 * joined with ", " like a list. */
static void push_headers(lua_State *co, int st, struct http_state *hs,
			 const struct fl_http_response *r)
{
	lua_createtable(co, 0, (int)r->nheaders);
	int h = lua_gettop(co);
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *name = r->headers[i].name, *value = r->headers[i].value;
		int slot = i < CACHE_HEADERS ? S_HEADER0 + 2 * (int)i : -1;
		push_cached(co, st, hs, slot, name, strlen(name), true);
		lua_pushvalue(co, -1);
		if (lua_rawget(co, h) == LUA_TSTRING) { /* key, previous value */
			lua_pushfstring(co, "%s, %s", lua_tostring(co, -1), value);
			lua_remove(co, -2);
		} else {
			lua_pop(co, 1);
			push_cached(co, st, hs, slot >= 0 ? slot + 1 : -1, value, strlen(value),
				    false);
		}
		lua_rawset(co, h);
	}
}

/* The response table, onto co (state table at index st). */
static void push_response(lua_State *co, int st, struct http_state *hs,
			  const struct fl_http_response *r)
{
	lua_createtable(co, 0, 9);
	int t = lua_gettop(co);
	lua_pushinteger(co, r->status);
	set_key(co, t, st, K_STATUS);
	push_headers(co, st, hs, r);
	set_key(co, t, st, K_HEADERS);
	push_cached(co, st, hs, S_BODY, r->body.data ? r->body.data : "", r->body.len, false);
	set_key(co, t, st, K_BODY);
	if (r->json) {
		fl_lua_push_json(co, r->json);
		set_key(co, t, st, K_JSON);
	}
	lua_pushnumber(co, r->t_total);
	set_key(co, t, st, K_TIME);
	push_cached(co, st, hs, S_URL, r->url, strlen(r->url), false);
	set_key(co, t, st, K_URL);
	push_cached(co, st, hs, S_METHOD, r->method, strlen(r->method), false);
	set_key(co, t, st, K_METHOD);
	if (r->req_body) {
		lua_pushstring(co, r->req_body);
		set_key(co, t, st, K_REQUEST_BODY);
	}
	if (r->err) {
		lua_pushstring(co, r->errmsg[0] ? r->errmsg : fl_strerror(r->err));
		set_key(co, t, st, K_ERROR);
		lua_pushstring(co, fl_err_name(r->err));
		set_key(co, t, st, K_ERROR_CODE);
	}
}

static void http_done(struct fl_http_response *r, void *arg)
{
	struct http_wait *w = arg;
	struct fl_task *t = w->t;
	lua_State *co = fl_task_thread(t);
	/* a waiting coroutine's free stack is what its last call left: make room
	 * for the response's building (st, table, headers, name, value, copies) */
	lua_checkstack(co, 16);
	lua_rawgeti(co, LUA_REGISTRYINDEX, w->hs->ref);
	int st = lua_gettop(co);
	push_response(co, st, w->hs, r);
	/* remember the exchange for failure messages (last()) */
	lua_pushvalue(co, -1);
	lua_rawseti(co, st, K_LAST);
	lua_remove(co, st);
	if (r->err && w->raise) {
		lua_pop(co, 1);
		if (r->errmsg[0] && strstr(r->errmsg, r->url))
			lua_pushstring(co, r->errmsg);
		else
			lua_pushfstring(co, "%s %s failed: %s", r->method, r->url,
					r->errmsg[0] ? r->errmsg : fl_strerror(r->err));
		lua_pushboolean(co, 0); /* marker: raise the message */
	} else {
		lua_pushboolean(co, 1);
	}
	fl_http_response_free(r);
	free(w);
	fl_sched_wake(t);
}

static void http_cancel(struct fl_task *t, void *data)
{
	(void)t;
	struct http_wait *w = data;
	fl_http_client_cancel(w->c, w->id);
	free(w);
}

/* After the wait: stack top is (value, ok-flag). */
static int request_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		return lua_error(L);
	}
	lua_pop(L, 1);
	return 1;
}

/* The host of an http(s) URL into out ("" when it cannot be found). */
static void url_host(const char *url, char *out, size_t outlen)
{
	out[0] = '\0';
	const char *p = strstr(url, "://");
	if (!p)
		return;
	p += 3;
	const char *at = strpbrk(p, "@/");
	if (at && *at == '@')
		p = at + 1;
	size_t n;
	if (*p == '[') {
		const char *e = strchr(p, ']');
		if (!e)
			return;
		p++;
		n = (size_t)(e - p);
	} else {
		n = strcspn(p, ":/?#");
	}
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* In chaos mode HTTP goes only to loopback and the --allow hosts and CIDR
 * blocks: the blast radius of an experiment is what its operator named. */
static int allowed(lua_State *L, const char *url, char *host, size_t hostlen)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	if (!ctx || !ctx->opts->chaos)
		return 1;
	url_host(url, host, hostlen);
	return fl_runner_allowed(ctx, host);
}

static const char *const known_opts[] = {
	"headers", "json",   "body", "timeout", "connect_timeout", "follow_redirects",
	"raise",   "cacert", "cert", "key",	"insecure",	   NULL
};

/* Raise on a key of the options table at idx that is not an option (a typo
 * such as "cacerts" must not silently turn verification back on). In the
 * request{...} form the table also holds method and url. */
static void check_opts(lua_State *L, int idx, int with_target)
{
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1); /* stack: key */
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
		bool ok = k && with_target && (strcmp(k, "method") == 0 || strcmp(k, "url") == 0);
		for (int i = 0; k && !ok && known_opts[i]; i++)
			ok = strcmp(k, known_opts[i]) == 0;
		if (!ok) {
			if (!k)
				luaL_error(L, "options: keys must be option names, got a %s",
					   luaL_typename(L, -1));
			luaL_error(L,
				   "unknown option '%s' (options: headers, json, body, timeout, "
				   "connect_timeout, follow_redirects, raise, cacert, cert, key, "
				   "insecure)",
				   k);
		}
	}
}

/* An optional string option (a path): NULL when absent; raises on another type. */
static const char *opt_path(lua_State *L, int opts, const char *name)
{
	lua_getfield(L, opts, name); /* stays on the stack: the string outlives the start */
	if (lua_isnil(L, -1))
		return NULL;
	if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
		luaL_error(L, "%s: expected a file name, got %s", name, luaL_typename(L, -1));
	return lua_tostring(L, -1);
}

/* cacert=, cert=, key=, insecure= (opts may be 0: none) over the run's
 * defaults (the command's --cacert, ...) into t; raises on a key without a
 * cert. A request's cert comes with its own key, never the default's. */
static void tls_opts(lua_State *L, int opts, struct fl_http_tls *t)
{
	struct fl_runner_ctx *ctx = fl_runner_ctx(L);
	if (ctx && ctx->opts->tls)
		*t = *ctx->opts->tls;
	if (!opts)
		return;
	const char *cacert = opt_path(L, opts, "cacert");
	const char *cert = opt_path(L, opts, "cert");
	const char *key = opt_path(L, opts, "key");
	if (cacert)
		t->cacert = cacert;
	if (cert) {
		t->cert = cert;
		t->key = key;
	} else if (key) {
		luaL_error(L, "key: a client key needs its certificate (cert=)");
	}
	lua_getfield(L, opts, "insecure");
	if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
		luaL_error(L, "insecure: expected a boolean, got %s", luaL_typename(L, -1));
	if (lua_isboolean(L, -1))
		t->insecure = lua_toboolean(L, -1);
	lua_pop(L, 1);
}

/* The table of options at idx -> request; strings stay on the Lua stack
 * (anchored by the options table), so they outlive the start call. */
static int do_request(lua_State *L, const char *method, const char *url, int opts, int with_target)
{
	struct fl_sched *s = fl_sched_from(L);
	if (!fl_sched_current(L))
		return luaL_error(L, "HTTP requests can only be made from a test, a hook or an "
				     "fl.parallel/fl.spawn task");
	char host[256];
	if (!allowed(L, url, host, sizeof(host)))
		return luaL_error(L,
				  "%s %s: host '%s' is not on the allowlist (loopback is always "
				  "allowed; add it, or a CIDR block holding it, with --allow %s)",
				  method, url, host, host[0] ? host : "HOST");
	struct fl_http_request req = { .method = method, .url = url };
	const char *hdrs[MAX_HEADERS];
	size_t nh = 0;
	json_t *json = NULL;
	int raise = 1;
	struct fl_http_tls tls = { 0 };
	luaL_checkstack(L, 16, "options");
	if (opts)
		check_opts(L, opts, with_target);
	tls_opts(L, opts, &tls);
	req.tls = &tls;
	if (opts) {
		/* headers = {Name = value} or {"Name: value", ...}: build the lines in
		 * a table kept on the stack, so the strings outlive the start call */
		lua_getfield(L, opts, "headers");
		if (lua_istable(L, -1)) {
			int src = lua_gettop(L);
			lua_newtable(L);
			int lines = lua_gettop(L);
			lua_pushnil(L);
			while (lua_next(L, src)) {
				if (nh >= MAX_HEADERS)
					return luaL_error(L, "too many headers (max %d)",
							  MAX_HEADERS);
				/* stack: key, value */
				const char *v = luaL_tolstring(L, -1, NULL); /* key, value, v */
				if (lua_type(L, -3) == LUA_TSTRING) {
					lua_pushfstring(L, "%s: %s", lua_tostring(L, -3), v);
					lua_remove(L, -2); /* key, value, line */
				}
				lua_rawseti(L, lines, (lua_Integer)++nh);
				lua_settop(L, lines + 1); /* keep the key */
			}
			for (size_t i = 0; i < nh; i++) {
				lua_rawgeti(L, lines, (lua_Integer)i + 1);
				hdrs[i] = lua_tostring(L, -1);
				lua_pop(L, 1);
			}
		} else if (!lua_isnil(L, -1)) {
			return luaL_error(L, "headers: expected a table, got %s",
					  luaL_typename(L, -1));
		}
		lua_getfield(L, opts, "json");
		if (!lua_isnil(L, -1)) {
			char err[160];
			json = fl_lua_to_json(L, -1, err, sizeof(err));
			if (!json)
				return luaL_error(L, "json: %s", err);
		}
		lua_pop(L, 1);
		lua_getfield(L, opts, "body");
		if (lua_type(L, -1) == LUA_TSTRING)
			req.body = lua_tolstring(L, -1, &req.body_len); /* stays on the stack */
		else if (!lua_isnil(L, -1))
			return luaL_error(L, "body: expected a string, got %s",
					  luaL_typename(L, -1));
		lua_getfield(L, opts, "timeout");
		if (lua_isnumber(L, -1))
			req.timeout_ms = (long)(lua_tonumber(L, -1) * 1000);
		lua_pop(L, 1);
		lua_getfield(L, opts, "connect_timeout");
		if (lua_isnumber(L, -1))
			req.connect_timeout_ms = (long)(lua_tonumber(L, -1) * 1000);
		lua_pop(L, 1);
		lua_getfield(L, opts, "follow_redirects");
		req.follow_redirects = lua_toboolean(L, -1);
		lua_pop(L, 1);
		lua_getfield(L, opts, "raise");
		if (lua_isboolean(L, -1))
			raise = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	req.headers = hdrs;
	req.nheaders = nh;
	req.json = json;
	struct http_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		json_decref(json);
		return luaL_error(L, "out of memory");
	}
	w->c = fl_sched_http(s);
	w->t = fl_sched_current(L);
	w->raise = raise;
	w->hs = lua_touserdata(L, lua_upvalueindex(2));
	int rc = fl_http_client_start(w->c, &req, http_done, w, &w->id);
	json_decref(json);
	if (rc < 0) {
		free(w);
		return luaL_error(L, "%s %s: %s", method, url, fl_strerror(rc));
	}
	return fl_sched_wait_k(L, w, http_cancel, request_k);
}

/* request{method=, url=, ...} or request(method, url, opts) */
static int l_request(lua_State *L)
{
	if (lua_istable(L, 1)) {
		lua_getfield(L, 1, "method");
		lua_getfield(L, 1, "url");
		const char *method = luaL_optstring(L, -2, "GET");
		const char *url = lua_tostring(L, -1);
		if (!url)
			return luaL_argerror(L, 1, "url is required");
		return do_request(L, method, url, 1, 1);
	}
	const char *method = luaL_checkstring(L, 1);
	const char *url = luaL_checkstring(L, 2);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	return do_request(L, method, url, lua_istable(L, 3) ? 3 : 0, 0);
}

static int verb(lua_State *L, const char *method)
{
	const char *url = luaL_checkstring(L, 1);
	int opts = 0;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		opts = 2;
	}
	return do_request(L, method, url, opts, 0);
}

static int l_get(lua_State *L)
{
	return verb(L, "GET");
}
static int l_post(lua_State *L)
{
	return verb(L, "POST");
}
static int l_put(lua_State *L)
{
	return verb(L, "PUT");
}
static int l_patch(lua_State *L)
{
	return verb(L, "PATCH");
}
static int l_delete(lua_State *L)
{
	return verb(L, "DELETE");
}
static int l_head(lua_State *L)
{
	return verb(L, "HEAD");
}

/* last() -> the last response seen in this state (for failure messages), or nil */
static int l_last(lua_State *L)
{
	lua_rawgeti(L, lua_upvalueindex(1), K_LAST);
	return 1;
}

/* forget(): clear last() (the runner does it when a test starts) */
static int l_forget(lua_State *L)
{
	lua_pushnil(L);
	lua_rawseti(L, lua_upvalueindex(1), K_LAST);
	return 0;
}

int luaopen_faultline_http(lua_State *L);
int luaopen_faultline_http(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "request", l_request }, { "get", l_get },	{ "post", l_post },
		{ "put", l_put },	  { "patch", l_patch }, { "delete", l_delete },
		{ "head", l_head },	  { "last", l_last },	{ "forget", l_forget },
		{ NULL, NULL },
	};
	luaL_newlibtable(L, fns);
	/* one state table per Lua state, also when the module is loaded again */
	if (!luaL_getsubtable(L, LUA_REGISTRYINDEX, state_key)) {
		for (int k = 1; k <= K_NKEYS; k++) {
			lua_pushstring(L, key_names[k - 1]);
			lua_rawseti(L, -2, k);
		}
		struct http_state *hs = lua_newuserdatauv(L, sizeof(*hs), 0);
		for (int i = 0; i < NSLOTS; i++)
			hs->slot[i].len = (size_t)-1;
		lua_rawseti(L, -2, K_STATE);
		lua_pushvalue(L, -1);
		hs->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_rawgeti(L, -1, K_STATE); /* stack: lib, state table, state */
	luaL_setfuncs(L, fns, 2);
	return 1;
}
