/* Module faultline.workers_c: worker threads for load (faultline.load builds
 * fl.parallel.load, the threads= of fl.rate and fl.workload.clients on it).
 *
 *   local pool = workers_c.start(n, payload)   -- n threads, each with its own
 *                                              -- Lua state, event loop and
 *                                              -- scheduler, running
 *                                              -- require("faultline.load")._worker(payload, i, n)
 *   pool:stop()                                -- ask them to finish (workers_c.stopping())
 *   local rs = pool:wait()                     -- waits without blocking other tasks:
 *                                              -- rs[i] = {ok = bool, value or error}
 *   pool:counts()                              -- ops, errors: sums of the workers' count()
 *   -- in a worker: workers_c.stopping() -> bool, workers_c.index() -> i, n,
 *   --              workers_c.count(ops [, errors])
 *   workers_c.cpus()                           -- CPUs online (the default number of threads)
 *
 * A Lua value cannot cross states, so payload and the workers' results are
 * copied: nil, booleans, numbers, strings, light userdata, fl.hist
 * histograms and tables of them (no metatables, nested at most 64 deep).
 * Functions are turned into data by faultline.load before they get here.
 *
 * Each worker's PRNG is forked from one draw of the calling file's PRNG and
 * the worker's index, so --seed replays every worker's stream. A worker's
 * reports go nowhere (it runs no tests); its interrupt flag is the pool's,
 * set when the waiting task is cancelled (a test timeout, Ctrl-C): the
 * workers' tasks are then cancelled within the scheduler's 100 ms poll and
 * the cancel waits for them (a worker spinning in Lua without ever waiting
 * cannot be stopped, as in the main thread). */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/hist.h"
#include "runner/runner_int.h"
#include "runner/sched.h"

#define POOL_MT "faultline.workers"
#define HIST_MT "faultline.hist"
#define MAX_WORKERS 256
#define MAX_DEPTH 64

static const char worker_key[] = "faultline.worker";

struct pool;

struct worker {
	struct pool *p;
	int index; /* 1-based */
	lua_State *L;
	struct event_base *base;
	struct fl_sched *sched;
	struct fl_runner_ctx ctx;
	struct fl_run_opts opts;
	struct fl_file_outcome out;
	pthread_t th;
	int started, joined;
	int nres; /* fl_sched_run_group's: results, or -1 (error object on L's stack) */
};

struct pool {
	int n;
	struct worker *w;
	struct fl_report_set *noreports; /* workers report nothing */
	int fds[2];			 /* workers write a byte each when done */
	struct event *ev;
	int done;		/* bytes read: workers finished */
	struct fl_task *waiter; /* the task in pool:wait(), or NULL */
	volatile int hard_stop; /* the workers' interrupt flag */
	int soft_stop;		/* pool:stop(); read with __atomic */
	int64_t counters[2];	/* workers_c.count(): ops and errors, with __atomic */
	int closed;
};

/* --- copying values between states --------------------------------------- */

/* Push onto `to` a copy of the value at idx of `from`. 0, or -1 with the
 * reason in err. May raise in `to` (out of memory) only. */
static int copy_value(lua_State *from, int idx, lua_State *to, int depth, char *err, size_t errlen)
{
	idx = lua_absindex(from, idx);
	if (!lua_checkstack(to, 4) || !lua_checkstack(from, 4)) {
		snprintf(err, errlen, "out of stack space");
		return -1;
	}
	switch (lua_type(from, idx)) {
	case LUA_TNIL: lua_pushnil(to); return 0;
	case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return 0;
	case LUA_TLIGHTUSERDATA: lua_pushlightuserdata(to, lua_touserdata(from, idx)); return 0;
	case LUA_TNUMBER:
		if (lua_isinteger(from, idx))
			lua_pushinteger(to, lua_tointeger(from, idx));
		else
			lua_pushnumber(to, lua_tonumber(from, idx));
		return 0;
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(from, idx, &len);
		lua_pushlstring(to, s, len);
		return 0;
	}
	case LUA_TUSERDATA: {
		struct fl_hist *h = luaL_testudata(from, idx, HIST_MT);
		if (!h)
			break;
		struct fl_hist *c = lua_newuserdatauv(to, sizeof(*c), 0);
		memcpy(c, h, sizeof(*c));
		if (luaL_getmetatable(to, HIST_MT) != LUA_TTABLE) {
			lua_pop(to, 2);
			snprintf(err, errlen, "faultline.hist is not loaded");
			return -1;
		}
		lua_setmetatable(to, -2);
		return 0;
	}
	case LUA_TTABLE: {
		if (depth >= MAX_DEPTH) {
			snprintf(err, errlen, "tables nested more than %d deep (a cycle?)",
				 MAX_DEPTH);
			return -1;
		}
		if (lua_getmetatable(from, idx)) {
			lua_pop(from, 1);
			snprintf(err, errlen, "a table with a metatable");
			return -1;
		}
		lua_newtable(to);
		lua_pushnil(from);
		while (lua_next(from, idx)) { /* from: key, value */
			if (copy_value(from, -2, to, depth + 1, err, errlen) < 0) {
				lua_pop(from, 2);
				lua_pop(to, 1);
				return -1;
			}
			if (copy_value(from, -1, to, depth + 1, err, errlen) < 0) {
				lua_pop(from, 2);
				lua_pop(to, 2);
				return -1;
			}
			lua_rawset(to, -3);
			lua_pop(from, 1);
		}
		return 0;
	}
	default: break;
	}
	snprintf(err, errlen, "a %s", luaL_typename(from, idx));
	return -1;
}

/* --- the pool ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/* stack: the root function, prepared by start() */
	w->nres = fl_sched_run_group(w->sched, 0, 0);
	char b = 1;
	while (write(w->p->fds[1], &b, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void pool_join(struct pool *p)
{
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (w->started && !w->joined) {
			pthread_join(w->th, NULL);
			w->joined = 1;
		}
	}
}

/* Stop (hard), join and free everything but the userdata itself. */
static void pool_close(struct pool *p)
{
	if (p->closed)
		return;
	p->closed = 1;
	__atomic_store_n(&p->hard_stop, 1, __ATOMIC_RELEASE);
	pool_join(p);
	for (int i = 0; p->w && i < p->n; i++)
		fl_runner_state_close(p->w[i].L, p->w[i].base, p->w[i].sched);
	free(p->w);
	p->w = NULL;
	if (p->ev)
		event_free(p->ev);
	p->ev = NULL;
	for (int i = 0; i < 2; i++)
		if (p->fds[i] >= 0)
			close(p->fds[i]);
	p->fds[0] = p->fds[1] = -1;
	fl_report_set_free(p->noreports);
	p->noreports = NULL;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct pool *p = arg;
	char buf[64];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		p->done += (int)r;
	if (p->done >= p->n && p->waiter) {
		struct fl_task *t = p->waiter;
		p->waiter = NULL;
		fl_sched_wake(t);
	}
}

static struct pool *check_pool(lua_State *L, int idx)
{
	struct pool *p = luaL_checkudata(L, idx, POOL_MT);
	if (p->closed)
		luaL_argerror(L, idx, "the workers are gone");
	return p;
}

/* In the worker's state: the root function, require("faultline.load")._worker
 * bound to (payload, i, n), on its stack. Runs protected in that state. */
static int prepare_root(lua_State *L)
{
	struct worker *w = lua_touserdata(L, 1);
	struct pool *p = w->p;
	lua_State *from = lua_touserdata(L, 2);
	char err[200] = "";
	lua_pushlightuserdata(L, w);
	lua_setfield(L, LUA_REGISTRYINDEX, worker_key);
	if (luaL_loadstring(L, "local f, payload, i, n = ... "
			       "return function() return f(payload, i, n) end") != LUA_OK)
		return lua_error(L);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "faultline.load");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "_worker");
	lua_remove(L, -2);
	if (copy_value(from, 2, L, 0, err, sizeof(err)) < 0)
		return luaL_error(L, "payload: cannot copy %s to a worker", err);
	lua_pushinteger(L, w->index);
	lua_pushinteger(L, p->n);
	lua_call(L, 4, 1);
	return 1;
}

/* Set up worker w (its state, the root function) and start its thread.
 * 0, or -1 with the reason in err. */
static int start_worker(lua_State *L, struct pool *p, struct worker *w, const struct fl_prng *prng,
			char *err, size_t errlen)
{
	struct fl_runner_ctx *parent = fl_runner_ctx(L);
	w->opts = *parent->opts;
	w->opts.reports = p->noreports;
	w->opts.interrupt = &p->hard_stop;
	w->opts.timeout_s = 0;
	w->ctx.path = parent->path;
	w->ctx.opts = &w->opts;
	w->ctx.out = &w->out;
	if (fl_runner_state_open(&w->ctx, prng, w->ctx.path, &w->L, &w->base, &w->sched, err,
				 errlen) < 0)
		return -1;
	lua_pushcfunction(w->L, prepare_root);
	lua_pushlightuserdata(w->L, w);
	lua_pushlightuserdata(w->L, L);
	if (lua_pcall(w->L, 2, 1, 0) != LUA_OK) {
		snprintf(err, errlen, "%s", lua_tostring(w->L, -1));
		return -1;
	}
	int rc = pthread_create(&w->th, NULL, worker_main, w);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
		return -1;
	}
	w->started = 1;
	return 0;
}

/* start(n, payload) -> pool: payload (argument 2) is copied to each worker */
static int l_start(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	luaL_argcheck(L, n >= 1 && n <= MAX_WORKERS, 1, "expected 1 to 256 threads");
	luaL_checkany(L, 2);
	lua_settop(L, 2);
	struct fl_sched *s = fl_sched_from(L);
	if (!s || !fl_runner_ctx(L))
		return luaL_error(L, "workers: not inside a scenario");
	struct pool *p = lua_newuserdatauv(L, sizeof(*p), 0);
	memset(p, 0, sizeof(*p));
	p->fds[0] = p->fds[1] = -1;
	luaL_setmetatable(L, POOL_MT);
	char err[512] = "out of memory";
	p->w = calloc((size_t)n, sizeof(*p->w));
	p->noreports = fl_report_set_new();
	if (!p->w || !p->noreports)
		goto fail;
	if (pipe(p->fds) < 0) {
		snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < 2; i++)
		fcntl(p->fds[i], F_SETFD, FD_CLOEXEC);
	fcntl(p->fds[0], F_SETFL, O_NONBLOCK);
	p->ev = event_new(fl_sched_base(s), p->fds[0], EV_READ | EV_PERSIST, done_cb, p);
	if (!p->ev || event_add(p->ev, NULL) < 0) {
		snprintf(err, sizeof(err), "cannot watch the workers' pipe");
		goto fail;
	}
	struct fl_prng base;
	fl_prng_seed(&base, fl_prng_u64(fl_sched_prng(s)));
	p->n = (int)n;
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		w->p = p;
		w->index = i + 1;
		struct fl_prng prng;
		fl_prng_fork(&base, (uint64_t)w->index, &prng);
		char werr[400] = "";
		if (start_worker(L, p, w, &prng, werr, sizeof(werr)) < 0) {
			snprintf(err, sizeof(err), "worker %d: %s", w->index, werr);
			goto fail;
		}
	}
	return 1;
fail:
	pool_close(p); /* stops and joins the workers already started */
	return luaL_error(L, "%s", err);
}

static void wait_cancel(struct fl_task *t, void *data)
{
	(void)t;
	struct pool *p = data;
	p->waiter = NULL;
	pool_close(p); /* the workers are cancelled and joined */
}

/* The results, in the waiting task once every worker has finished. */
static int collect(lua_State *L, struct pool *p)
{
	pool_join(p);
	lua_createtable(L, p->n, 0);
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		char err[200] = "";
		lua_createtable(L, 1, 1);
		int ok = w->nres >= 0;
		int rc = 0;
		if (w->nres != 0)
			rc = copy_value(w->L, w->nres > 0 ? -w->nres : -1, L, 0, err, sizeof(err));
		else
			lua_pushnil(L);
		if (rc < 0) {
			const char *msg = NULL;
			if (!ok && lua_istable(w->L, -1)) { /* an error record: keep its message */
				lua_pushliteral(w->L, "message");
				lua_rawget(w->L, -2);
				msg = lua_tostring(w->L, -1);
			}
			if (msg)
				lua_pushfstring(L, "%s (the rest cannot be copied back: %s)", msg,
						err);
			else
				lua_pushfstring(L, "its %s cannot be copied back: %s",
						ok ? "result" : "error", err);
			ok = 0;
		}
		lua_rawseti(L, -2, 1);
		lua_pushboolean(L, ok);
		lua_setfield(L, -2, "ok");
		lua_rawseti(L, -2, i + 1);
	}
	pool_close(p);
	return 1;
}

static int wait_after(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	return collect(L, check_pool(L, 1));
}

/* pool:wait() -> {{ok = bool, [1] = result or error} per worker}; the pool
 * is closed afterwards */
static int l_wait(lua_State *L)
{
	struct pool *p = check_pool(L, 1);
	lua_settop(L, 1);
	if (p->done >= p->n)
		return collect(L, p);
	if (p->waiter)
		return luaL_error(L, "workers: another task already waits for them");
	p->waiter = fl_sched_current(L);
	if (!p->waiter)
		return luaL_error(L, "workers: cannot wait here (not a task)");
	return fl_sched_wait_k(L, p, wait_cancel, wait_after);
}

/* pool:stop(): ask the workers to finish (workers_c.stopping() turns true) */
static int l_stop(lua_State *L)
{
	struct pool *p = check_pool(L, 1);
	__atomic_store_n(&p->soft_stop, 1, __ATOMIC_RELEASE);
	return 0;
}

/* pool:done() -> number of workers finished */
static int l_done(lua_State *L)
{
	lua_pushinteger(L, check_pool(L, 1)->done);
	return 1;
}

static int l_gc(lua_State *L)
{
	struct pool *p = luaL_checkudata(L, 1, POOL_MT);
	pool_close(p);
	return 0;
}

static struct worker *this_worker(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, worker_key);
	struct worker *w = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return w;
}

/* stopping() -> true once the pool was asked to stop (false outside workers) */
static int l_stopping(lua_State *L)
{
	struct worker *w = this_worker(L);
	lua_pushboolean(L, w && __atomic_load_n(&w->p->soft_stop, __ATOMIC_ACQUIRE));
	return 1;
}

/* count(ops [, errors]) in a worker: adds to the pool's counters (for a
 * progress display in the main thread); a no-op elsewhere */
static int l_count(lua_State *L)
{
	lua_Integer ops = luaL_checkinteger(L, 1), errors = luaL_optinteger(L, 2, 0);
	struct worker *w = this_worker(L);
	if (w) {
		__atomic_add_fetch(&w->p->counters[0], (int64_t)ops, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->p->counters[1], (int64_t)errors, __ATOMIC_RELAXED);
	}
	return 0;
}

/* pool:counts() -> ops, errors: the sums of the workers' count() so far */
static int l_counts(lua_State *L)
{
	struct pool *p = check_pool(L, 1);
	lua_pushinteger(L, (lua_Integer)__atomic_load_n(&p->counters[0], __ATOMIC_RELAXED));
	lua_pushinteger(L, (lua_Integer)__atomic_load_n(&p->counters[1], __ATOMIC_RELAXED));
	return 2;
}

/* cpus() -> the number of CPUs online (at least 1) */
static int l_cpus(lua_State *L)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	lua_pushinteger(L, n > 0 ? n : 1);
	return 1;
}

/* index() -> i, n in a worker; nil in the main thread */
static int l_index(lua_State *L)
{
	struct worker *w = this_worker(L);
	if (!w)
		return 0;
	lua_pushinteger(L, w->index);
	lua_pushinteger(L, w->p->n);
	return 2;
}

int luaopen_faultline_workers_c(lua_State *L);
int luaopen_faultline_workers_c(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "wait", l_wait },	{ "stop", l_stop }, { "done", l_done },
		{ "counts", l_counts }, { NULL, NULL },
	};
	static const luaL_Reg fns[] = {
		{ "start", l_start }, { "stopping", l_stopping }, { "index", l_index },
		{ "count", l_count }, { "cpus", l_cpus },	  { NULL, NULL },
	};
	if (luaL_newmetatable(L, POOL_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, l_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_gc);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	luaL_newlib(L, fns);
	return 1;
}
