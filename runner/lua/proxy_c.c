/* Module faultline.proxy_c: the in-process fault injector for fl.proxy.
 * start() runs one engine on its own thread with its control API on
 * 127.0.0.1:0 and returns the API URL; faultline.proxy then talks HTTP to
 * it exactly as to a remote agent. The engine lives until the process ends
 * (or stop()). Failures return nil, message. */
#include <lauxlib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "fault-injector/proxy.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct fl_proxy_engine *engine;

/* At exit the engine thread is stopped and joined before the process tears
 * down the libraries it runs on. */
static void stop_at_exit(void)
{
	pthread_mutex_lock(&mu);
	struct fl_proxy_engine *e = engine;
	engine = NULL;
	pthread_mutex_unlock(&mu);
	fl_proxy_engine_free(e);
}

/* start([seed]) -> url | nil, message */
static int l_start(lua_State *L)
{
	struct fl_proxy_opts o = { 0 };
	if (!lua_isnoneornil(L, 1)) {
		o.seeded = 1;
		o.seed = (uint64_t)luaL_checkinteger(L, 1);
	}
	char err[512] = "";
	pthread_mutex_lock(&mu);
	if (!engine) {
		struct fl_proxy_engine *e = fl_proxy_engine_new(&o, err, sizeof(err));
		if (e && (fl_proxy_api_start(e, "127.0.0.1:0", NULL, err, sizeof(err)) ||
			  fl_proxy_engine_start_thread(e, err, sizeof(err)))) {
			fl_proxy_engine_free(e);
			e = NULL;
		}
		engine = e;
		static int registered;
		if (e && !registered) {
			registered = 1;
			atexit(stop_at_exit);
		}
	}
	struct fl_proxy_engine *e = engine;
	pthread_mutex_unlock(&mu);
	if (!e) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot start the in-process proxy: %s", err);
		return 2;
	}
	lua_pushstring(L, fl_proxy_api_url(e));
	return 1;
}

/* stop(): stop and free the in-process engine (every link closes). */
static int l_stop(lua_State *L)
{
	(void)L;
	pthread_mutex_lock(&mu);
	struct fl_proxy_engine *e = engine;
	engine = NULL;
	pthread_mutex_unlock(&mu);
	fl_proxy_engine_free(e);
	return 0;
}

/* url() -> the in-process API URL, or nil when none runs */
static int l_url(lua_State *L)
{
	pthread_mutex_lock(&mu);
	if (engine)
		lua_pushstring(L, fl_proxy_api_url(engine));
	else
		lua_pushnil(L);
	pthread_mutex_unlock(&mu);
	return 1;
}

int luaopen_faultline_proxy_c(lua_State *L);

int luaopen_faultline_proxy_c(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "start", l_start },
		{ "stop", l_stop },
		{ "url", l_url },
		{ NULL, NULL },
	};
	luaL_newlib(L, fns);
	return 1;
}
