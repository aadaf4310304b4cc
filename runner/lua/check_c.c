/* Module faultline.check_c: the checkers and the kubelet prober for
 * faultline.check (fl.check).
 *
 *   check_c.run(kind, source [, config [, name]]) -> result table
 *       kind    "saga" | "bank" | "breaker" | "probe"
 *       source  a history file path, a list of event tables, or
 *               {files = {PATH...}, events = {...}} merged into one history
 *       config  the checker's configuration as a table (docs/checkers.md)
 *       name    breaker: which breaker in a /breakers list
 *     The result is the JSON form of the result (checker, valid =
 *     true|false|"unknown", invariants = {ID = {name, state, count, checked,
 *     first/worst/last = {message, evidence}, unknown_reason}}, stats, note)
 *     plus `text` (the console report) and `exit_code` (0, 1 or 4).
 *     A history or configuration that cannot be used: nil, message.
 *
 *   check_c.prober(service, spec) -> prober (userdata "faultline.prober")
 *       spec = {liveness=URL, readiness=URL, startup=URL, period=s, timeout=s,
 *               failure_threshold=n, success_threshold=n, initial_delay=s,
 *               observe_held=bool, history=PATH}
 *     probes on the scenario's event loop while tasks sleep or wait on HTTP.
 *     p:events() -> list of the probe / probe_transition events so far
 *     p:status() -> {restarts, started, live, ready, results, failures}
 *     p:stop()   stops probing (events stay readable); __close and __gc
 *                free everything
 */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/check.h"
#include "checkers/prober.h"
#include "runner/luajson.h"
#include "runner/sched.h"
#include "core/history.h"

static const char prober_mt[] = "faultline.prober";

/* Add the events of the list at idx (absolute) to h. */
static int add_list(lua_State *L, int idx, struct fl_chk_history *h, long *line, char *err,
		    size_t errlen)
{
	lua_Integer n = luaL_len(L, idx);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, idx, i);
		char jerr[160];
		json_t *ev = fl_lua_to_json(L, -1, jerr, sizeof(jerr));
		lua_pop(L, 1);
		if (!ev) {
			snprintf(err, errlen, "event %lld: %s", (long long)i, jerr);
			return -1;
		}
		int rc = fl_chk_history_add(h, ev, ++*line, err, errlen);
		json_decref(ev);
		if (rc)
			return -1;
	}
	return 0;
}

/* Build a history from the source at idx: a path, a list of events, or
 * {files = {PATH...}, events = {...}}. Returns 0, or -1 with err set. */
static int load_source(lua_State *L, int idx, struct fl_chk_history **out, char *err, size_t errlen)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		*out = fl_chk_history_load(lua_tostring(L, idx), err, errlen);
		return *out ? 0 : -1;
	}
	luaL_checktype(L, idx, LUA_TTABLE);
	struct fl_chk_history *h = fl_chk_history_new();
	if (!h)
		return luaL_error(L, "out of memory");
	long line = 0;
	int rc = 0;
	lua_getfield(L, idx, "files");
	lua_getfield(L, idx, "events");
	int files = lua_gettop(L) - 1, events = lua_gettop(L);
	if (lua_istable(L, files) || lua_istable(L, events)) {
		lua_Integer n = lua_istable(L, files) ? luaL_len(L, files) : 0;
		for (lua_Integer i = 1; i <= n && !rc; i++) {
			lua_geti(L, files, i);
			const char *path = lua_tostring(L, -1);
			rc = path ? fl_chk_history_add_file(h, path, err, errlen)
				  : (snprintf(err, errlen, "files[%lld] is not a path",
					      (long long)i),
				     -1);
			lua_pop(L, 1);
		}
		if (!rc && lua_istable(L, events))
			rc = add_list(L, events, h, &line, err, errlen);
	} else {
		rc = add_list(L, idx, h, &line, err, errlen);
	}
	lua_pop(L, 2);
	if (rc) {
		fl_chk_history_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

/* The checker named by argument 1 (raises when there is none). */
static const struct fl_checker *check_checker(lua_State *L)
{
	const char *kind = luaL_checkstring(L, 1);
	const struct fl_checker *k = fl_checker_find(kind);
	if (!k) {
		char names[128];
		luaL_argerror(L, 1,
			      lua_pushfstring(L, "unknown checker '%s' (%s)", kind,
					      fl_checker_names(names, sizeof(names))));
	}
	return k;
}

/* Configure checker k from argument 3 (a table; nil: defaults) and 4
 * (breaker: the breaker's name). Raises on a bad argument; returns a
 * negative FL_E* with err set when the configuration is wrong. */
static int configure(lua_State *L, const struct fl_checker *k, union fl_checker_config *c,
		     char *err, size_t errlen)
{
	struct fl_checker_overrides ov = { .name = luaL_optstring(L, 4, NULL) };
	json_t *cfg = NULL;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		char jerr[160];
		/* An empty table converts to {}: fine for every configuration. */
		cfg = fl_lua_to_json(L, 3, jerr, sizeof(jerr));
		if (!cfg)
			return luaL_argerror(L, 3, jerr);
	}
	int rc = fl_checker_configure(k, c, cfg, &ov, err, errlen);
	json_decref(cfg);
	return rc;
}

static int l_run(lua_State *L)
{
	const struct fl_checker *k = check_checker(L);
	if (!lua_isstring(L, 2) && !lua_istable(L, 2))
		return luaL_argerror(L, 2,
				     "expected a history path, a list of events or "
				     "{files=, events=}");
	char err[512] = "";
	union fl_checker_config c;
	if (configure(L, k, &c, err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s config: %s", lua_tostring(L, 1), err);
		return 2;
	}
	struct fl_chk_history *h = NULL;
	if (load_source(L, 2, &h, err, sizeof(err)) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	struct fl_check_result *r = k->run(h, &c);
	fl_chk_history_free(h);
	if (!r)
		return luaL_error(L, "out of memory");
	json_t *j = fl_check_result_json(r);
	char *text = NULL;
	size_t tlen = 0;
	FILE *mem = open_memstream(&text, &tlen);
	if (mem) {
		fl_check_result_print(r, mem, 4000);
		fclose(mem);
	}
	fl_lua_push_json(L, j);
	lua_pushstring(L, text ? text : "");
	lua_setfield(L, -2, "text");
	lua_pushinteger(L, fl_check_exit_code(r->valid));
	lua_setfield(L, -2, "exit_code");
	free(text);
	json_decref(j);
	fl_check_result_free(r);
	return 1;
}

/* --- the prober --- */

struct lprober {
	struct fl_prober *p;
	json_t *events;
	struct fl_history *hist;
};

static void on_probe_event(const json_t *ev, void *arg)
{
	struct lprober *lp = arg;
	json_array_append_new(lp->events, json_deep_copy(ev));
	if (lp->hist)
		fl_history_append(lp->hist, ev);
}

/* stop: no more probes; the events stay readable. */
static int prober_stop(lua_State *L)
{
	struct lprober *lp = luaL_checkudata(L, 1, prober_mt);
	fl_prober_free(lp->p);
	lp->p = NULL;
	fl_history_close(lp->hist);
	lp->hist = NULL;
	return 0;
}

static int prober_close(lua_State *L)
{
	struct lprober *lp = luaL_checkudata(L, 1, prober_mt);
	prober_stop(L);
	json_decref(lp->events);
	lp->events = NULL;
	return 0;
}

static struct lprober *check_prober(lua_State *L)
{
	return luaL_checkudata(L, 1, prober_mt);
}

static double opt_num(lua_State *L, int t, const char *k, double def)
{
	lua_getfield(L, t, k);
	double v = lua_isnil(L, -1) ? def : luaL_checknumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static int l_prober(lua_State *L)
{
	const char *service = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	struct fl_sched *s = fl_sched_from(L);
	if (!s)
		return luaL_error(L, "prober: no scenario event loop");
	struct lprober *lp = lua_newuserdatauv(L, sizeof(*lp), 0);
	memset(lp, 0, sizeof(*lp));
	luaL_setmetatable(L, prober_mt);
	char err[512];
	lp->events = json_array();
	lp->p = fl_prober_new(fl_sched_base(s), service, on_probe_event, lp, err, sizeof(err));
	if (!lp->events || !lp->p)
		return luaL_error(L, "prober: %s", err);
	struct fl_probe_set set;
	fl_probe_set_defaults(&set);
	for (int k = FL_PROBE_LIVENESS; k <= FL_PROBE_STARTUP; k++) {
		lua_getfield(L, 2, fl_probe_kind_str(k));
		set.url[k] = lua_tostring(L, -1); /* stays on the stack until added */
	}
	set.period_ms = (int64_t)(opt_num(L, 2, "period", 10) * 1000);
	set.timeout_ms = (int64_t)(opt_num(L, 2, "timeout", 1) * 1000);
	set.initial_delay_ms = (int64_t)(opt_num(L, 2, "initial_delay", 0) * 1000);
	set.failure_threshold = (int)opt_num(L, 2, "failure_threshold", 3);
	set.success_threshold = (int)opt_num(L, 2, "success_threshold", 1);
	if (fl_prober_add_set(lp->p, &set, err, sizeof(err)) < 0)
		return luaL_argerror(L, 2, err);
	lua_pop(L, 3);
	lua_getfield(L, 2, "observe_held");
	fl_prober_observe_held(lp->p, lua_toboolean(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, 2, "history");
	const char *hpath = lua_tostring(L, -1);
	if (hpath && !(lp->hist = fl_history_open(hpath, 1, err, sizeof(err)))) {
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pop(L, 1);
	if (fl_prober_start(lp->p) < 0)
		return luaL_error(L, "prober: cannot start");
	return 1;
}

static int l_prober_events(lua_State *L)
{
	struct lprober *lp = check_prober(L);
	if (!lp->events)
		return luaL_argerror(L, 1, "prober is closed");
	fl_lua_push_json(L, lp->events);
	return 1;
}

static int l_prober_status(lua_State *L)
{
	struct lprober *lp = check_prober(L);
	if (!lp->p)
		return luaL_argerror(L, 1, "prober is stopped");
	struct fl_prober_status st;
	fl_prober_status(lp->p, &st);
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, st.restarts);
	lua_setfield(L, -2, "restarts");
	lua_pushboolean(L, st.started);
	lua_setfield(L, -2, "started");
	lua_pushboolean(L, st.live);
	lua_setfield(L, -2, "live");
	lua_pushboolean(L, st.ready);
	lua_setfield(L, -2, "ready");
	lua_pushinteger(L, st.results);
	lua_setfield(L, -2, "results");
	lua_pushinteger(L, st.failures);
	lua_setfield(L, -2, "failures");
	return 1;
}

int luaopen_faultline_check_c(lua_State *L);
int luaopen_faultline_check_c(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "events", l_prober_events },
		{ "status", l_prober_status },
		{ "stop", prober_stop },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, prober_mt)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, prober_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, prober_close);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	static const luaL_Reg fns[] = { { "run", l_run }, { "prober", l_prober }, { NULL, NULL } };
	luaL_newlib(L, fns);
	return 1;
}
