/* Lua sources compiled into the binary (runner/lua/, see tools/embed-lua.sh). */
#ifndef FL_CLI_LUA_EMBED_H
#define FL_CLI_LUA_EMBED_H

#include <stddef.h>

struct fl_lua_embed {
	const char *module; /* "faultline", "faultline.expect" */
	const char *path;   /* "runner/lua/faultline.expect.lua", for tracebacks */
	const char *src;
	size_t len;
};

/* Terminated by an entry whose module is NULL. */
extern const struct fl_lua_embed fl_lua_embedded[];

#endif
