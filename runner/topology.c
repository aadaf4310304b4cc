/* Topology files: a Lua file returning a table, evaluated in a state of its
 * own into the JSON model the launcher starts (docs/topology.md). */
#include "runner/runner.h"

#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "runner/lua_embed.h"
#include "runner/luajson.h"

/* Evaluate the topology source (file `path`, or `src` when given, named
 * `path`) with params as its `...`; real is the file's real path (its
 * directory is the model's "dir"). */
static int eval(const char *path, const char *real, const char *src, size_t len,
		const json_t *params, json_t **model, char *err, size_t errlen)
{
	*model = NULL;
	lua_State *L = luaL_newstate();
	if (!L)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	luaL_openlibs(L);
	int rc = 0;
	int loaded = src ? luaL_loadbufferx(L, src, len, path, "t") : luaL_loadfilex(L, path, "t");
	if (loaded == LUA_OK) {
		if (params)
			fl_lua_push_json(L, params);
		else
			lua_pushnil(L);
	}
	if (loaded != LUA_OK || lua_pcall(L, 1, 1, 0) != LUA_OK) {
		rc = fl_err_set(err, errlen, FL_EINVAL, "%s",
				lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
		goto out;
	}
	if (!lua_istable(L, -1)) {
		rc = fl_err_set(err, errlen, FL_EINVAL,
				"%s: a topology file returns a table ({ name = ..., services = { "
				"... } }), not %s",
				path, luaL_typename(L, -1));
		goto out;
	}
	char e2[256];
	json_t *m = fl_lua_to_json(L, -1, e2, sizeof(e2));
	if (!m || !json_is_object(m)) {
		json_decref(m);
		rc = fl_err_set(err, errlen, FL_EINVAL, "%s: %s", path,
				m ? "the table must have keys" : e2);
		goto out;
	}
	static const char *const keys[] = { "name", "services", NULL };
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v) {
		bool ok = false;
		for (int i = 0; keys[i]; i++)
			ok |= strcmp(keys[i], k) == 0;
		if (!ok) {
			json_decref(m);
			rc = fl_err_set(err, errlen, FL_EINVAL,
					"%s: unknown key '%s' (known: name, services)", path, k);
			goto out;
		}
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", real);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	if (!json_is_string(json_object_get(m, "name"))) {
		const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
		size_t n = strlen(base);
		if (n > 4 && strcmp(base + n - 4, ".lua") == 0)
			n -= 4;
		json_object_set_new(m, "name", json_stringn(base, n));
	}
	json_object_set_new(m, "file", json_string(path));
	json_object_set_new(m, "dir", json_string(dir));
	*model = m;
out:
	lua_close(L);
	return rc;
}

int fl_runner_topology_load(const char *path, const json_t *params, json_t **model, char *err,
			    size_t errlen)
{
	char real[PATH_MAX];
	*model = NULL;
	if (!realpath(path, real))
		return fl_err_set(err, errlen, FL_ENOENT, "%s: no such topology file", path);
	return eval(path, real, NULL, 0, params, model, err, errlen);
}

int fl_runner_topology_builtin(const char *module, const char *dir, const json_t *params,
			       json_t **model, char *err, size_t errlen)
{
	*model = NULL;
	for (const struct fl_lua_embed *e = fl_lua_embedded; e->module; e++) {
		if (strcmp(e->module, module) != 0)
			continue;
		char real[PATH_MAX];
		snprintf(real, sizeof(real), "%s/%s", dir, e->path);
		int rc = eval(e->path, real, e->src, e->len, params, model, err, errlen);
		if (rc == 0) {
			json_object_set_new(*model, "dir", json_string(dir));
			json_object_set_new(*model, "builtin", json_string(module));
		}
		return rc;
	}
	return fl_err_set(err, errlen, FL_ENOENT, "no built-in topology '%s'", module);
}
