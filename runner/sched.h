/* The cooperative scheduler of one scenario file: Lua coroutines ("tasks")
 * driven by one libevent loop. A C function that must wait (an HTTP call, a
 * sleep, a join) registers what it waits for and yields with fl_sched_wait;
 * the event that completes it pushes results onto the task's stack and makes
 * it ready with fl_sched_wake. So thousands of virtual clients run in one
 * thread without callbacks in Lua.
 *
 * Tasks belong to the test that was running when they were spawned; when a
 * test ends, times out or is interrupted, its remaining tasks are cancelled:
 * their pending waits are released (cancel hooks) and each is resumed with an
 * error ("test timed out after 5 s"), so pcall-protected cleanup code runs. */
#ifndef FL_CLI_SCHED_H
#define FL_CLI_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <lua.h>

#include "core/prng.h"

struct event_base;
struct fl_http_client;
struct fl_runner_ctx;
struct fl_sched;
struct fl_task;

/* Called when a waiting task is cancelled, to release what it waits on (cancel
 * an HTTP request, free a timer). `data` is what was given to fl_sched_wait. */
typedef void (*fl_wait_cancel_fn)(struct fl_task *t, void *data);

/* Create a scheduler for state L on base (both borrowed). Stores itself in
 * L's registry so C functions can find it with fl_sched_from(L). */
struct fl_sched *fl_sched_new(lua_State *L, struct event_base *base, char *err, size_t errlen);
void fl_sched_free(struct fl_sched *s);

/* The scheduler owning L (any coroutine of its state). */
struct fl_sched *fl_sched_from(lua_State *L);

/* The runner's context of the scheduler's state (borrowed; set by the
 * runner when it makes the state), or NULL. */
void fl_sched_set_ctx(struct fl_sched *s, struct fl_runner_ctx *ctx);
struct fl_runner_ctx *fl_sched_ctx(const struct fl_sched *s);

struct event_base *fl_sched_base(struct fl_sched *s);
struct fl_http_client *fl_sched_http(struct fl_sched *s);
/* The file's seeded PRNG (forked from the run seed by file name). */
struct fl_prng *fl_sched_prng(struct fl_sched *s);

/* The task running coroutine L, or NULL when L is not a scheduled task
 * (e.g. a user's own coroutine). */
struct fl_task *fl_sched_current(lua_State *L);
lua_State *fl_task_thread(struct fl_task *t);

/* From a C function: suspend the running task until fl_sched_wake. Use as
 * `return fl_sched_wait(L, data, cancel);`. The C function's results are the
 * values the waker pushed. Raises if L is not a task (cannot wait outside the
 * scheduler) or if the task's test has already been cancelled. */
int fl_sched_wait(lua_State *L, void *data, fl_wait_cancel_fn cancel);

/* The same, but when woken `after(L, LUA_YIELD, ctx)` runs in place of
 * returning the pushed values (it may inspect and raise). */
int fl_sched_wait_k(lua_State *L, void *data, fl_wait_cancel_fn cancel, lua_KFunction after);

/* From an event callback: make a waiting task ready, with the values already
 * pushed onto fl_task_thread(t) as the results of its wait. */
void fl_sched_wake(struct fl_task *t);

/* Spawn fn (at index idx of L, with nargs arguments above it, all popped) as
 * a new task in the current test group; returns the task (alive until joined
 * or its group ends). */
struct fl_task *fl_sched_spawn(lua_State *L, int nargs);

/* Run `fn` (on top of the main state's stack, popped) as the root task of a new
 * test group and drive the loop until it finishes. On return the task's
 * results or error are on L's stack: returns the number of results (>= 0), or
 * -1 when the task raised (error object pushed). timeout_s <= 0: no timeout.
 * A protected group (cleanups, rollbacks) is not cancelled by the first
 * interrupt, only by a second one. */
int fl_sched_run_group(struct fl_sched *s, double timeout_s, int protected_group);

/* Ask the running group to stop (Ctrl-C): every waiting task is cancelled
 * with `reason`. Safe to call from the loop thread only. */
void fl_sched_cancel_group(struct fl_sched *s, const char *reason);

/* Set by the runner for cross-thread interruption: polled every 100 ms.
 * *flag counts the interrupts (1: stop tests, 2: abandon cleanups too). */
void fl_sched_set_interrupt_flag(struct fl_sched *s, volatile int *flag);

/* Lua API of the scheduler (module faultline.core): spawn, join, sleep, now. */
void fl_sched_open_lib(lua_State *L);

#endif
