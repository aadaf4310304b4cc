/* Cooperative scheduler: Lua coroutines driven by one libevent loop. */
#include "runner/sched.h"

#include <event2/event.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"

enum task_state { T_READY, T_RUNNING, T_WAITING, T_DONE };

/* A task is a full userdata (metatable "faultline.task") whose user value is
 * its coroutine; the scheduler holds a registry reference while it is live,
 * Lua code may hold the userdata longer (a finished task's results stay
 * readable). */
struct fl_task {
	struct fl_sched *s;
	lua_State *co;
	int ref; /* registry ref to the userdata while live, else LUA_NOREF */
	uint64_t group;
	enum task_state state;
	/* waiting */
	void *wait_data;
	fl_wait_cancel_fn wait_cancel;
	int wait_external;	  /* waits on an event source (not a join) */
	int wait_top;		  /* stack top of the waiting C function */
	lua_KFunction wait_after; /* continuation after a successful wake, or NULL */
	/* join: the tasks waiting for this one, and for a joiner the number of
	 * tasks it still waits for */
	struct fl_task **joiners;
	int njoiners, capjoiners;
	int join_pending;
	int joining; /* waiting in join (cleared when woken or cancelled) */
	/* results: a registry ref to {ok=bool, n=N, ...} once done */
	int result_ref;
	struct fl_task *next;  /* all live tasks */
	struct fl_task *rnext; /* ready queue */
};

struct fl_sched {
	lua_State *L;
	struct event_base *base;
	struct fl_http_client *http;
	struct fl_prng prng;
	struct fl_task *tasks;
	struct fl_task *rhead, *rtail;
	uint64_t group_seq, group;
	int group_cancelled;
	char cancel_reason[160];
	int external_waits;
	struct event *timeout_ev;
	char timeout_reason[64];
	struct event *poll_ev;
	volatile int *interrupt;
	int interrupt_seen;	   /* the interrupt level already acted on */
	int group_protected;	   /* a cleanup group: only a second interrupt cancels it */
	struct fl_task *current;   /* task being resumed */
	struct fl_runner_ctx *ctx; /* fl_sched_set_ctx's, or NULL */
};

static const char sched_key[] = "faultline.sched";
static const char task_mt[] = "faultline.task";
static char cancel_marker;

/* The scheduler is found through the state's extra space (LUA_EXTRASPACE,
 * one pointer): fl_sched_new sets the main thread's, and Lua copies it into
 * every thread (coroutine) made afterwards. fl_runner_state_open clears it
 * on a new state, so NULL means a state without a scheduler or a coroutine
 * made before it: then the registry answers. This runs several times a
 * request (fl.http, fl.sleep); a registry lookup by name costs a string
 * hash and compare each time. */
static struct fl_sched **extra_sched(lua_State *L)
{
	return (struct fl_sched **)lua_getextraspace(L);
}

struct fl_sched *fl_sched_from(lua_State *L)
{
	struct fl_sched *s = *extra_sched(L);
	if (s)
		return s;
	lua_getfield(L, LUA_REGISTRYINDEX, sched_key);
	s = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return s;
}

void fl_sched_set_ctx(struct fl_sched *s, struct fl_runner_ctx *ctx)
{
	s->ctx = ctx;
}

struct fl_runner_ctx *fl_sched_ctx(const struct fl_sched *s)
{
	return s->ctx;
}

struct event_base *fl_sched_base(struct fl_sched *s)
{
	return s->base;
}

struct fl_http_client *fl_sched_http(struct fl_sched *s)
{
	return s->http;
}

struct fl_prng *fl_sched_prng(struct fl_sched *s)
{
	return &s->prng;
}

lua_State *fl_task_thread(struct fl_task *t)
{
	return t->co;
}

struct fl_task *fl_sched_current(lua_State *L)
{
	struct fl_sched *s = fl_sched_from(L);
	if (!s || !s->current || s->current->co != L)
		return NULL;
	return s->current;
}

/* The flag may be set by another thread (a worker pool's stop): read atomically. */
static int interrupt_level(const struct fl_sched *s)
{
	return __atomic_load_n(s->interrupt, __ATOMIC_ACQUIRE);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_sched *s = arg;
	if (!s->interrupt || interrupt_level(s) <= s->interrupt_seen)
		return;
	/* the first interrupt stops the running test (its cleanups then run);
	 * a second one abandons cleanups too */
	s->interrupt_seen = interrupt_level(s);
	if (s->group && !s->group_cancelled && (s->interrupt_seen >= 2 || !s->group_protected))
		fl_sched_cancel_group(s, s->interrupt_seen >= 2
						 ? "interrupted again: cleanups abandoned"
						 : "interrupted");
}

struct fl_sched *fl_sched_new(lua_State *L, struct event_base *base, char *err, size_t errlen)
{
	struct fl_sched *s = calloc(1, sizeof(*s));
	if (!s) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	s->L = L;
	s->base = base;
	s->http = fl_http_client_new(base, err, errlen);
	if (!s->http) {
		free(s);
		return NULL;
	}
	fl_prng_seed(&s->prng, 0);
	s->poll_ev = event_new(base, -1, EV_PERSIST, poll_cb, s);
	struct timeval tv = { 0, 100000 };
	event_add(s->poll_ev, &tv);
	lua_pushlightuserdata(L, s);
	lua_setfield(L, LUA_REGISTRYINDEX, sched_key);
	*extra_sched(L) = s;
	return s;
}

void fl_sched_free(struct fl_sched *s)
{
	if (!s)
		return;
	if (s->timeout_ev)
		event_free(s->timeout_ev);
	if (s->poll_ev)
		event_free(s->poll_ev);
	fl_http_client_free(s->http);
	free(s);
}

void fl_sched_set_interrupt_flag(struct fl_sched *s, volatile int *flag)
{
	s->interrupt = flag;
}

static void ready_push(struct fl_sched *s, struct fl_task *t)
{
	t->state = T_READY;
	t->rnext = NULL;
	if (s->rtail)
		s->rtail->rnext = t;
	else
		s->rhead = t;
	s->rtail = t;
}

static struct fl_task *ready_pop(struct fl_sched *s)
{
	struct fl_task *t = s->rhead;
	if (t) {
		s->rhead = t->rnext;
		if (!s->rhead)
			s->rtail = NULL;
		t->rnext = NULL;
	}
	return t;
}

void fl_sched_wake(struct fl_task *t)
{
	if (t->state != T_WAITING)
		return;
	if (t->wait_external)
		t->s->external_waits--;
	t->wait_data = NULL;
	t->wait_cancel = NULL;
	ready_push(t->s, t);
}

/* Continuation of every wait: a cancellation raises; otherwise the values the
 * waker pushed are the results (or wait_after takes over). */
static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
	int top = (int)ctx;
	if (lua_gettop(L) > top && lua_touserdata(L, top + 1) == &cancel_marker) {
		lua_pushvalue(L, top + 2);
		return lua_error(L);
	}
	struct fl_task *t = fl_sched_current(L);
	if (t && t->wait_after) {
		lua_KFunction k = t->wait_after;
		t->wait_after = NULL;
		return k(L, status, ctx);
	}
	return lua_gettop(L) - top;
}

static int sched_yield(lua_State *L, void *data, fl_wait_cancel_fn cancel, int external,
		       lua_KFunction after)
{
	struct fl_task *t = fl_sched_current(L);
	if (!t)
		return luaL_error(L, "cannot wait here: only test code and fl.parallel/fl.spawn "
				     "tasks can wait, not a coroutine of your own");
	struct fl_sched *s = t->s;
	if (s->group_cancelled) {
		if (cancel)
			cancel(t, data);
		return luaL_error(L, "%s", s->cancel_reason);
	}
	t->state = T_WAITING;
	t->wait_data = data;
	t->wait_cancel = cancel;
	t->wait_external = external;
	t->wait_after = after;
	t->wait_top = lua_gettop(L);
	if (external)
		s->external_waits++;
	return lua_yieldk(L, 0, (lua_KContext)lua_gettop(L), wait_k);
}

int fl_sched_wait(lua_State *L, void *data, fl_wait_cancel_fn cancel)
{
	return sched_yield(L, data, cancel, 1, NULL);
}

int fl_sched_wait_k(lua_State *L, void *data, fl_wait_cancel_fn cancel, lua_KFunction after)
{
	return sched_yield(L, data, cancel, 1, after);
}

static void cancel_task(struct fl_task *t, const char *reason)
{
	if (t->state != T_WAITING)
		return;
	if (t->wait_cancel)
		t->wait_cancel(t, t->wait_data);
	t->joining = 0;
	lua_pushlightuserdata(t->co, &cancel_marker);
	lua_pushstring(t->co, reason);
	fl_sched_wake(t);
}

void fl_sched_cancel_group(struct fl_sched *s, const char *reason)
{
	if (!s->group || s->group_cancelled || reason == s->cancel_reason)
		return;
	s->group_cancelled = 1;
	snprintf(s->cancel_reason, sizeof(s->cancel_reason), "%s", reason);
	for (struct fl_task *t = s->tasks; t; t = t->next)
		if (t->group == s->group)
			cancel_task(t, s->cancel_reason);
}

static struct fl_task *task_new(lua_State *L, struct fl_sched *s)
{
	struct fl_task *t = lua_newuserdatauv(L, sizeof(*t), 1);
	memset(t, 0, sizeof(*t));
	t->ref = LUA_NOREF;
	t->result_ref = LUA_NOREF;
	luaL_setmetatable(L, task_mt);
	t->s = s;
	t->co = lua_newthread(L);
	lua_setiuservalue(L, -2, 1);
	lua_pushvalue(L, -1);
	t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	t->group = s->group;
	t->next = s->tasks;
	s->tasks = t;
	return t; /* userdata left on L's stack */
}

static void task_finish(struct fl_task *t, int ok, int nres)
{
	lua_State *co = t->co;
	lua_State *L = t->s->L;
	/* stack of co: nres results, or the error object */
	lua_createtable(L, nres, 2);
	lua_pushboolean(L, ok);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, nres);
	lua_setfield(L, -2, "n");
	int tbl = lua_gettop(L);
	lua_xmove(co, L, nres);
	for (int i = nres; i >= 1; i--)
		lua_rawseti(L, tbl, i);
	t->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_settop(co, 0);
	t->state = T_DONE;
	for (int i = 0; i < t->njoiners; i++) {
		struct fl_task *j = t->joiners[i];
		if (j->joining && --j->join_pending == 0) {
			j->joining = 0;
			fl_sched_wake(j);
		}
	}
	free(t->joiners);
	t->joiners = NULL;
	t->njoiners = t->capjoiners = 0;
}

static int add_joiner(struct fl_task *t, struct fl_task *j)
{
	if (t->njoiners == t->capjoiners) {
		int cap = t->capjoiners ? t->capjoiners * 2 : 2;
		struct fl_task **v = realloc(t->joiners, (size_t)cap * sizeof(*v));
		if (!v)
			return -1;
		t->joiners = v;
		t->capjoiners = cap;
	}
	t->joiners[t->njoiners++] = j;
	return 0;
}

static void task_resume(struct fl_sched *s, struct fl_task *t)
{
	int nres = 0;
	int nargs;
	if (lua_status(t->co) == LUA_OK)
		nargs = lua_gettop(t->co) - 1; /* first run: the function is below its arguments */
	else
		nargs = lua_gettop(t->co) - t->wait_top; /* what the waker pushed */
	t->state = T_RUNNING;
	struct fl_task *prev = s->current;
	s->current = t;
	int rc = lua_resume(t->co, s->L, nargs, &nres);
	s->current = prev;
	if (rc == LUA_YIELD) {
		if (t->state == T_RUNNING) {
			/* a plain coroutine.yield from task code: run again later */
			lua_pop(t->co, nres);
			t->wait_top = lua_gettop(t->co);
			ready_push(s, t);
		}
		return;
	}
	if (rc == LUA_OK) {
		task_finish(t, 1, nres);
	} else {
		lua_State *co = t->co; /* error object on top */
		if (lua_gettop(co) > 1) {
			lua_replace(co, 1);
			lua_settop(co, 1);
		}
		task_finish(t, 0, 1);
	}
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_sched *s = arg;
	fl_sched_cancel_group(s, s->timeout_reason);
}

/* End the current group: cancel what still waits and drop the tasks. */
static void group_end(struct fl_sched *s)
{
	struct fl_task **pp = &s->tasks;
	while (*pp) {
		struct fl_task *t = *pp;
		if (t->group != s->group) {
			pp = &t->next;
			continue;
		}
		if (t->state == T_WAITING && t->wait_cancel)
			t->wait_cancel(t, t->wait_data);
		if (t->state == T_WAITING && t->wait_external)
			s->external_waits--;
		t->state = T_DONE;
		free(t->joiners);
		t->joiners = NULL;
		t->njoiners = t->capjoiners = 0;
		*pp = t->next;
		t->next = NULL;
		luaL_unref(s->L, LUA_REGISTRYINDEX, t->ref);
		t->ref = LUA_NOREF;
		luaL_unref(s->L, LUA_REGISTRYINDEX, t->result_ref);
		t->result_ref = LUA_NOREF;
	}
	s->rhead = s->rtail = NULL;
	if (s->timeout_ev)
		event_del(s->timeout_ev);
	s->group = 0;
	s->group_cancelled = 0;
	s->cancel_reason[0] = '\0';
}

int fl_sched_run_group(struct fl_sched *s, double timeout_s, int protected_group)
{
	lua_State *L = s->L;
	s->group = ++s->group_seq;
	s->group_protected = protected_group;
	if (s->interrupt && interrupt_level(s) >= 2 && protected_group)
		s->interrupt_seen = 1; /* a later second interrupt is noticed anew */
	s->group_cancelled = 0;
	s->cancel_reason[0] = '\0';
	struct fl_task *root = task_new(L, s); /* stack: fn, task */
	lua_rotate(L, -2, 1);		       /* stack: task, fn */
	lua_xmove(L, root->co, 1);
	ready_push(s, root);
	if (timeout_s > 0) {
		if (!s->timeout_ev)
			s->timeout_ev = evtimer_new(s->base, timeout_cb, s);
		snprintf(s->timeout_reason, sizeof(s->timeout_reason), "timed out after %g s",
			 timeout_s);
		struct timeval tv = { (time_t)timeout_s,
				      (suseconds_t)((timeout_s - floor(timeout_s)) * 1e6) };
		event_base_update_cache_time(s->base);
		evtimer_add(s->timeout_ev, &tv);
	}
	while (root->state != T_DONE) {
		struct fl_task *t;
		while ((t = ready_pop(s)) && root->state != T_DONE)
			task_resume(s, t);
		if (root->state == T_DONE)
			break;
		if (!s->rhead && s->external_waits == 0) {
			fl_sched_cancel_group(s, "deadlock: every task waits for another and "
						 "nothing can wake them");
			if (!s->rhead)
				break;
			continue;
		}
		event_base_loop(s->base, EVLOOP_ONCE);
	}
	int n;
	lua_rawgeti(L, LUA_REGISTRYINDEX, root->result_ref); /* stack: task, results */
	if (root->state != T_DONE || root->result_ref == LUA_NOREF) {
		lua_pop(L, 1);
		lua_pushstring(L, "internal error: test task did not finish");
		n = -1;
	} else {
		lua_getfield(L, -1, "ok");
		int ok = lua_toboolean(L, -1);
		lua_pop(L, 1);
		lua_getfield(L, -1, "n");
		n = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
		int tbl = lua_gettop(L);
		for (int i = 1; i <= n; i++)
			lua_rawgeti(L, tbl, i);
		lua_remove(L, tbl);
		if (!ok)
			n = -1;
	}
	lua_remove(L, -(n < 0 ? 1 : n) - 1); /* drop the task userdata */
	group_end(s);
	return n;
}

struct fl_task *fl_sched_spawn(lua_State *L, int nargs)
{
	struct fl_sched *s = fl_sched_from(L);
	struct fl_task *t = task_new(L, s); /* stack: fn, args..., task */
	lua_insert(L, -(nargs + 2));	    /* stack: task, fn, args... */
	lua_xmove(L, t->co, nargs + 1);
	if (!s->group) {
		/* spawned outside any test: belongs to the next group to run */
		t->group = s->group_seq + 1;
	}
	ready_push(s, t);
	return t;
}

/* --- Lua API ------------------------------------------------------------ */

static struct fl_task *check_task(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, task_mt);
}

/* spawn(fn, ...) -> task */
static int l_spawn(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	int nargs = lua_gettop(L) - 1;
	if (!fl_sched_from(L)->group)
		return luaL_error(L, "spawn: no test is running");
	fl_sched_spawn(L, nargs);
	return 1;
}

static int push_results(lua_State *L, int first, int last)
{
	/* for each task: a table {ok=, n=, ...}; Lua only promises 20 free
	 * slots beyond the arguments, and join(64 tasks) pushes 64 */
	luaL_checkstack(L, last - first + 1, "join: too many tasks");
	for (int i = first; i <= last; i++) {
		struct fl_task *t = check_task(L, i);
		if (t->result_ref != LUA_NOREF) {
			lua_rawgeti(L, LUA_REGISTRYINDEX, t->result_ref);
			continue;
		}
		lua_createtable(L, 1, 2); /* a task of a test that has ended */
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "ok");
		lua_pushinteger(L, 1);
		lua_setfield(L, -2, "n");
		lua_pushliteral(L, "the task ended with the test that started it");
		lua_rawseti(L, -2, 1);
	}
	return last - first + 1;
}

static int join_after(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	int top = (int)ctx;
	lua_settop(L, top);
	return push_results(L, 1, top);
}

/* join(task...) -> result table per task ({ok=bool, n=N, [1..n]=values or error}) */
static int l_join(lua_State *L)
{
	int n = lua_gettop(L);
	struct fl_task *self = fl_sched_current(L);
	if (!self)
		return luaL_error(L, "join: not inside a task");
	int pending = 0;
	for (int i = 1; i <= n; i++) {
		struct fl_task *t = check_task(L, i);
		if (t == self)
			return luaL_argerror(L, i, "a task cannot join itself");
		if (t->state != T_DONE) {
			if (add_joiner(t, self) < 0)
				return luaL_error(L, "join: out of memory");
			pending++;
		}
	}
	if (pending == 0)
		return push_results(L, 1, n);
	self->join_pending = pending;
	self->joining = 1;
	return sched_yield(L, NULL, NULL, 0, join_after);
}

struct sleep_wait {
	struct event *ev;
	struct fl_task *t;
};

static void sleep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sleep_wait *w = arg;
	struct fl_task *t = w->t;
	event_free(w->ev);
	free(w);
	fl_sched_wake(t);
}

static void sleep_cancel(struct fl_task *t, void *data)
{
	(void)t;
	struct sleep_wait *w = data;
	event_free(w->ev);
	free(w);
}

/* sleep(seconds) */
static int l_sleep(lua_State *L)
{
	double secs = luaL_checknumber(L, 1);
	if (secs < 0 || !isfinite(secs))
		return luaL_argerror(L, 1, "expected a non-negative number of seconds");
	struct fl_sched *s = fl_sched_from(L);
	if (!fl_sched_current(L))
		return luaL_error(
			L, "sleep: cannot wait here: only test code and fl.parallel/fl.spawn "
			   "tasks can wait, not a coroutine of your own");
	struct sleep_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return luaL_error(L, "out of memory");
	w->t = fl_sched_current(L);
	w->ev = evtimer_new(s->base, sleep_cb, w);
	struct timeval tv = { (time_t)secs, (suseconds_t)((secs - floor(secs)) * 1e6) };
	event_base_update_cache_time(s->base);
	evtimer_add(w->ev, &tv);
	lua_settop(L, 0);
	return fl_sched_wait(L, w, sleep_cancel);
}

/* now() -> monotonic seconds */
static int l_now(lua_State *L)
{
	lua_pushnumber(L, (double)fl_mono_ns() / 1e9);
	return 1;
}

/* task:done() -> bool */
static int l_task_done(lua_State *L)
{
	lua_pushboolean(L, check_task(L, 1)->state == T_DONE);
	return 1;
}

/* cancelled() -> reason or nil: whether the current test is being cancelled */
static int l_cancelled(lua_State *L)
{
	struct fl_sched *s = fl_sched_from(L);
	if (s->group_cancelled)
		lua_pushstring(L, s->cancel_reason);
	else
		lua_pushnil(L);
	return 1;
}

void fl_sched_open_lib(lua_State *L)
{
	if (luaL_newmetatable(L, task_mt)) {
		static const luaL_Reg methods[] = { { "done", l_task_done }, { NULL, NULL } };
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	static const luaL_Reg fns[] = {
		{ "spawn", l_spawn }, { "join", l_join },	    { "sleep", l_sleep },
		{ "now", l_now },     { "cancelled", l_cancelled }, { NULL, NULL },
	};
	luaL_setfuncs(L, fns, 0); /* into the table on top */
}
