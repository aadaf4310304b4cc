/* Module faultline.contract_c: the C half of fl.contract (see
 * faultline.contract.lua for the Lua API).
 *   match_response(expected, response) -> { mismatch... }   (empty: match)
 *   load(path) -> pact table (V4 JSON) | nil, message
 *   stub{ pacts = {path...} | pact = path, interactions = {...},
 *         consumer =, provider =, listen = "127.0.0.1:0", seed = }
 *        -> stub userdata "faultline.contract.stub": url(), port(), hits(),
 *           misses(), close()  (__gc and __close close it)
 *   verify{ pacts = {path...} | pact = path, provider = URL, state_change = URL,
 *           teardown =, filter_description =, filter_state =,
 *           filter_consumer =, exclude_description =, timeout =, seed = }
 *        -> result table
 * verify runs on a thread while the calling task waits, so a stub on the
 * scenario's own event loop keeps answering. */
#include <event2/event.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/luajson.h"
#include "runner/runner.h"
#include "runner/sched.h"
#include "contract/pact.h"
#include "contract/stub.h"
#include "contract/verify.h"
#include "core/buf.h"
#include "core/json.h"

static const char stub_mt[] = "faultline.contract.stub";

static void push_mismatches(lua_State *L, const struct fl_pact_mismatches *m)
{
	json_t *a = fl_pact_mismatches_json(m);
	fl_lua_push_json(L, a);
	json_decref(a);
}

/* A JSON value from the argument: a table, or a string holding JSON. */
static json_t *arg_json(lua_State *L, int idx)
{
	char err[256];
	if (lua_type(L, idx) == LUA_TSTRING) {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		json_t *v = fl_json_parse(s, n, err, sizeof(err));
		if (!v)
			luaL_argerror(L, idx, err);
		return v;
	}
	luaL_checktype(L, idx, LUA_TTABLE);
	json_t *v = fl_lua_to_json(L, idx, err, sizeof(err));
	if (!v)
		luaL_argerror(L, idx, err);
	return v;
}

/* match_response(expected, response) */
static int l_match_response(lua_State *L)
{
	json_t *e = arg_json(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	char err[512];
	struct fl_pact_response exp, act;
	if (fl_pact_response_read(e, 3, "expected", &exp, NULL, err, sizeof(err))) {
		fl_pact_response_clear(&exp);
		json_decref(e);
		return luaL_argerror(L, 1, err);
	}
	const char *ct = fl_json_str(e, "contentType", NULL);
	if (ct && !exp.body.content_type)
		exp.body.content_type = strdup(ct);
	json_decref(e);
	fl_pact_response_init(&act);
	lua_getfield(L, 2, "status");
	act.status = (int)luaL_optinteger(L, -1, 0);
	lua_pop(L, 1);
	const char *rct = NULL;
	lua_getfield(L, 2, "headers");
	if (lua_istable(L, -1)) {
		lua_pushnil(L);
		while (lua_next(L, -2)) { /* stack: headers, key, value */
			if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
				const char *k = lua_tostring(L, -2);
				fl_pact_multimap_add(act.headers, k, lua_tostring(L, -1));
				if (!strcasecmp(k, "Content-Type"))
					rct = lua_tostring(L, -1);
			}
			lua_pop(L, 1);
		}
	}
	lua_getfield(L, 2, "body"); /* kept on the stack while used */
	size_t blen = 0;
	const char *body = lua_tolstring(L, -1, &blen);
	if (body && blen)
		fl_pact_body_from_bytes(&act.body, body, blen, rct);
	else
		act.body.state = FL_PACT_BODY_MISSING;
	struct fl_pact_mismatches mm = { 0 };
	fl_pact_match_response(&exp, &act, &mm);
	push_mismatches(L, &mm);
	fl_pact_mismatches_clear(&mm);
	fl_pact_response_clear(&exp);
	fl_pact_response_clear(&act);
	return 1;
}

static int l_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char err[512];
	struct fl_pact *p = fl_pact_load(path, err, sizeof(err));
	if (!p) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	json_t *doc = fl_pact_to_json(p, 4);
	fl_pact_free(p);
	fl_lua_push_json(L, doc);
	json_decref(doc);
	return 1;
}

/* --- pacts from options --------------------------------------------------------- */

/* Read opts.pact / opts.pacts / opts.interactions of the table at idx.
 * Returns 0, or -1 with the message in err. */
static int pacts_from_opts(lua_State *L, int idx, struct fl_pact_list *ps, char *err, size_t errlen)
{
	lua_getfield(L, idx, "pact");
	if (lua_isstring(L, -1)) {
		struct fl_pact *p = fl_pact_load(lua_tostring(L, -1), err, errlen);
		if (!p || fl_pact_list_add(ps, p) < 0) {
			lua_pop(L, 1);
			return -1;
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, idx, "pacts");
	if (lua_istable(L, -1)) {
		lua_Integer n = luaL_len(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_geti(L, -1, i);
			const char *path = lua_tostring(L, -1);
			struct fl_pact *p = path ? fl_pact_load(path, err, errlen) : NULL;
			if (!path)
				snprintf(err, errlen, "pacts[%lld] must be a file name",
					 (long long)i);
			lua_pop(L, 1);
			if (!p || fl_pact_list_add(ps, p) < 0) {
				lua_pop(L, 1);
				return -1;
			}
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, idx, "interactions");
	if (lua_istable(L, -1)) {
		json_t *its = fl_lua_to_json(L, -1, err, errlen);
		if (!its) {
			lua_pop(L, 1);
			return -1;
		}
		if (json_is_object(its) && json_object_size(its) == 0) {
			json_decref(its);
			its = json_array();
		}
		lua_getfield(L, idx, "consumer");
		lua_getfield(L, idx, "provider");
		json_t *doc = json_pack("{s:{s:s},s:{s:s},s:o,s:{s:{s:s}}}", "consumer", "name",
					luaL_optstring(L, -2, "consumer"), "provider", "name",
					luaL_optstring(L, -1, "provider"), "interactions", its,
					"metadata", "pactSpecification", "version", "3.0.0");
		lua_pop(L, 2);
		struct fl_pact *p =
			doc ? fl_pact_from_json(doc, "interactions", err, errlen) : NULL;
		json_decref(doc);
		if (!p || fl_pact_list_add(ps, p) < 0) {
			lua_pop(L, 1);
			return -1;
		}
	}
	lua_pop(L, 1);
	if (!ps->n) {
		snprintf(err, errlen,
			 "give pact = FILE, pacts = {FILE...} or interactions = {...}");
		return -1;
	}
	return 0;
}

/* --- stub --------------------------------------------------------------------- */

struct lstub {
	struct fl_stub *s;
	struct fl_pact_list ps;
	char url[96];
};

static struct lstub *check_stub(lua_State *L, int idx)
{
	struct lstub *s = luaL_checkudata(L, idx, stub_mt);
	if (!s->s)
		luaL_argerror(L, idx, "stub is closed");
	return s;
}

static int stub_close(lua_State *L)
{
	struct lstub *s = luaL_checkudata(L, 1, stub_mt);
	fl_stub_free(s->s);
	s->s = NULL;
	fl_pact_list_free(&s->ps);
	return 0;
}

static int l_stub(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct fl_sched *sch = fl_sched_from(L);
	if (!sch)
		return luaL_error(L, "contract.stub needs the scenario runner's event loop");
	struct lstub *s = lua_newuserdatauv(L, sizeof(*s), 0);
	memset(s, 0, sizeof(*s)); /* closed until started */
	luaL_setmetatable(L, stub_mt);
	char err[512];
	if (pacts_from_opts(L, 1, &s->ps, err, sizeof(err)))
		return luaL_argerror(L, 1, err);
	lua_getfield(L, 1, "listen");
	lua_getfield(L, 1, "seed");
	const char *listen = luaL_optstring(L, -2, "127.0.0.1:0");
	uint64_t seed = (uint64_t)luaL_optinteger(L, -1, 1);
	s->s = fl_stub_new(fl_sched_base(sch), s->ps.v, s->ps.n, listen, seed, err, sizeof(err));
	lua_pop(L, 2);
	if (!s->s) {
		fl_pact_list_free(&s->ps);
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	snprintf(s->url, sizeof(s->url), "http://%s", fl_stub_addr(s->s));
	return 1;
}

static int stub_url(lua_State *L)
{
	struct lstub *s = check_stub(L, 1);
	const char *path = luaL_optstring(L, 2, "");
	lua_pushfstring(L, "%s%s", s->url, path);
	return 1;
}

static int stub_port(lua_State *L)
{
	lua_pushinteger(L, fl_stub_port(check_stub(L, 1)->s));
	return 1;
}

static int stub_hits(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)fl_stub_hits(check_stub(L, 1)->s));
	return 1;
}

static int stub_misses(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)fl_stub_misses(check_stub(L, 1)->s));
	return 1;
}

/* --- verify (on a thread) ---------------------------------------------------------- */

struct vjob {
	struct fl_pact_list ps;
	struct fl_verify_opts o;
	char *strs[8];	 /* owned copies of the option strings */
	json_t *results; /* array filled by the thread */
	struct fl_verify_summary sum;
	char err[512];
	int rc;
	pthread_t th;
	int fds[2];
	struct event *ev;
	struct fl_task *task;
};

static void vjob_free(struct vjob *j)
{
	if (j->ev)
		event_free(j->ev);
	if (j->fds[0] >= 0)
		close(j->fds[0]);
	if (j->fds[1] >= 0)
		close(j->fds[1]);
	for (size_t i = 0; i < 8; i++)
		free(j->strs[i]);
	fl_pact_list_free(&j->ps);
	json_decref(j->results);
	free(j);
}

static void on_result(const struct fl_verify_result *r, void *arg)
{
	struct vjob *j = arg;
	static const char *const names[] = { "pass", "fail", "skip", "error" };
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o}", "consumer", r->pact->consumer, "description",
			      r->interaction->description ? r->interaction->description : "",
			      "status", names[r->status], "pending", r->pending, "mismatches",
			      fl_pact_mismatches_json(&r->mismatches));
	if (r->status == FL_VERIFY_ERROR)
		json_object_set_new(o, "error", json_string(r->error));
	json_array_append_new(j->results, o);
}

static void *verify_thread(void *arg)
{
	struct vjob *j = arg;
	for (size_t i = 0; i < j->ps.n && !j->rc; i++)
		j->rc = fl_verify_pact(j->ps.v[i], &j->o, on_result, j, &j->sum, j->err,
				       sizeof(j->err));
	char b = 1;
	if (write(j->fds[1], &b, 1) != 1)
		j->rc = -1;
	return NULL;
}

static void push_verify_result(lua_State *L, struct vjob *j)
{
	json_t *res = json_pack("{s:b,s:i,s:i,s:i,s:i,s:i,s:O}", "ok",
				!j->rc && !j->sum.failed && !j->sum.errors, "passed", j->sum.passed,
				"failed", j->sum.failed, "pending", j->sum.pending_failed, "errors",
				j->sum.errors, "skipped", j->sum.skipped, "results", j->results);
	if (j->rc)
		json_object_set_new(res, "error", json_string(j->err));
	fl_lua_push_json(L, res);
	json_decref(res);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct vjob *j = arg;
	pthread_join(j->th, NULL);
	lua_State *co = fl_task_thread(j->task);
	push_verify_result(co, j);
	struct fl_task *t = j->task;
	vjob_free(j);
	fl_sched_wake(t);
}

static void verify_cancel(struct fl_task *t, void *data)
{
	(void)t;
	struct vjob *j = data;
	pthread_join(j->th, NULL); /* bounded by the request timeouts */
	vjob_free(j);
}

static char *opt_str(lua_State *L, int idx, const char *key)
{
	lua_getfield(L, idx, key);
	const char *s = lua_tostring(L, -1);
	char *out = s ? strdup(s) : NULL;
	lua_pop(L, 1);
	return out;
}

static int l_verify(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct fl_sched *sch = fl_sched_from(L);
	if (!sch || !fl_sched_current(L))
		return luaL_error(L, "contract.verify can only run from a test or a task");
	struct vjob *j = calloc(1, sizeof(*j));
	if (!j)
		return luaL_error(L, "out of memory");
	j->fds[0] = j->fds[1] = -1;
	j->results = json_array();
	char err[512];
	if (pacts_from_opts(L, 1, &j->ps, err, sizeof(err))) {
		vjob_free(j);
		return luaL_argerror(L, 1, err);
	}
	static const char *const keys[] = { "provider",	       "state_change",
					    "filter_consumer", "filter_description",
					    "filter_state",    "exclude_description" };
	for (size_t i = 0; i < 6; i++)
		j->strs[i] = opt_str(L, 1, keys[i]);
	j->o.provider_url = j->strs[0];
	j->o.state_change_url = j->strs[1];
	j->o.filter_consumer = j->strs[2];
	j->o.filter_description = j->strs[3];
	j->o.filter_state = j->strs[4];
	j->o.exclude_description = j->strs[5];
	struct fl_runner_ctx *rctx = fl_runner_ctx(L);
	j->o.tls = rctx ? rctx->opts->tls : NULL; /* the command's --cacert...: lives for the run */
	lua_getfield(L, 1, "teardown");
	j->o.state_teardown = lua_toboolean(L, -1);
	lua_getfield(L, 1, "timeout");
	j->o.timeout_ms = (long)(luaL_optnumber(L, -1, 10) * 1000);
	lua_getfield(L, 1, "seed");
	j->o.seed = (uint64_t)luaL_optinteger(L, -1, (lua_Integer)fl_prng_u64(fl_sched_prng(sch)));
	lua_pop(L, 3);
	if (!j->o.provider_url) {
		vjob_free(j);
		return luaL_argerror(L, 1, "provider = URL is required");
	}
	if (pipe(j->fds) || fcntl(j->fds[0], F_SETFD, FD_CLOEXEC) ||
	    fcntl(j->fds[1], F_SETFD, FD_CLOEXEC)) {
		vjob_free(j);
		return luaL_error(L, "contract.verify: pipe failed");
	}
	j->task = fl_sched_current(L);
	j->ev = event_new(fl_sched_base(sch), j->fds[0], EV_READ, on_done, j);
	if (!j->ev || event_add(j->ev, NULL) || pthread_create(&j->th, NULL, verify_thread, j)) {
		vjob_free(j);
		return luaL_error(L, "contract.verify: could not start");
	}
	return fl_sched_wait(L, j, verify_cancel);
}

int luaopen_faultline_contract_c(lua_State *L);
int luaopen_faultline_contract_c(lua_State *L)
{
	static const luaL_Reg stub_methods[] = {
		{ "url", stub_url },	   { "port", stub_port },   { "hits", stub_hits },
		{ "misses", stub_misses }, { "close", stub_close }, { NULL, NULL },
	};
	static const luaL_Reg fns[] = {
		{ "match_response", l_match_response },
		{ "load", l_load },
		{ "stub", l_stub },
		{ "verify", l_verify },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, stub_mt)) {
		luaL_newlib(L, stub_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, stub_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, stub_close);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	luaL_newlib(L, fns);
	return 1;
}
