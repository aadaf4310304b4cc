/* Internals of runner/ shared by its files (not part of runner.h). */
#ifndef FL_RUNNER_RUNNER_INT_H
#define FL_RUNNER_RUNNER_INT_H

#include <lua.h>

#include "core/prng.h"
#include "runner/runner.h"

struct event_base;
struct fl_sched;

/* A scenario's Lua state, event loop and scheduler, set up as every file's
 * is: standard libraries, the faultline modules, ctx (borrowed; it must
 * outlive the state) for fl_runner_ctx, the scheduler's PRNG set to *prng
 * (copied), its interrupt flag to ctx->opts->interrupt, and, when beside is
 * not NULL, the directory of the file beside (borrowed) in front of
 * package.path, so a scenario can require helpers that live beside it. On
 * success *L, *base and *sched are new (fl_runner_state_close frees them)
 * and 0 is returned; else FL_ENOMEM or FL_EIO with the reason in err, and
 * nothing is left. */
int fl_runner_state_open(struct fl_runner_ctx *ctx, const struct fl_prng *prng, const char *beside,
			 lua_State **L, struct event_base **base, struct fl_sched **sched,
			 char *err, size_t errlen);

/* Close what fl_runner_state_open made (any may be NULL): the Lua state
 * first, since __gc may still use the scheduler. */
void fl_runner_state_close(lua_State *L, struct event_base *base, struct fl_sched *sched);

/* The PRNG stream of the scenario at path under the run seed. */
void fl_runner_file_prng(uint64_t seed, const char *path, struct fl_prng *out);

#endif
