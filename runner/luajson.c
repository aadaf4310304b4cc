/* Lua values <-> jansson. */
#include "runner/luajson.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"

static const char array_mt_key[] = "faultline.json.array";

void fl_lua_push_null(lua_State *L)
{
	lua_pushlightuserdata(L, NULL);
}

void fl_lua_mark_array(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	if (luaL_newmetatable(L, array_mt_key)) {
		lua_pushstring(L, "array");
		lua_setfield(L, -2, "__jsontype");
	}
	lua_setmetatable(L, idx);
}

static int is_marked_array(lua_State *L, int idx)
{
	if (!lua_getmetatable(L, idx))
		return 0;
	luaL_getmetatable(L, array_mt_key);
	int same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return same;
}

/* Returns n when the table at idx is a sequence 1..n (n may be 0), else -1. */
static lua_Integer seq_len(lua_State *L, int idx)
{
	lua_Integer n = 0, max = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1)) {
			lua_pop(L, 1);
			return -1;
		}
		lua_Integer k = lua_tointeger(L, -1);
		if (k < 1) {
			lua_pop(L, 1);
			return -1;
		}
		if (k > max)
			max = k;
		n++;
	}
	return n == max ? n : -1;
}

static json_t *to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
	idx = lua_absindex(L, idx);
	if (depth > 64) {
		fl_err_set(err, errlen, FL_EINVAL, "nesting deeper than 64 (a cycle?)");
		return NULL;
	}
	if (!lua_checkstack(L, 4)) {
		fl_err_set(err, errlen, FL_ENOMEM, "Lua stack exhausted");
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TNIL: return json_null();
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL)
			return json_null();
		break;
	case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		{
			double d = lua_tonumber(L, idx);
			if (!isfinite(d)) {
				fl_err_set(err, errlen, FL_EINVAL, "cannot encode %g as JSON", d);
				return NULL;
			}
			if (d == floor(d) && fabs(d) < 9007199254740992.0)
				return json_integer((json_int_t)d);
			return json_real(d);
		}
	case LUA_TSTRING: {
		size_t len;
		const char *s = lua_tolstring(L, idx, &len);
		json_t *v = json_stringn_nocheck(s, len);
		return v;
	}
	case LUA_TTABLE: {
		lua_Integer n = seq_len(L, idx);
		if (n > 0 || (n == 0 && is_marked_array(L, idx))) {
			json_t *a = json_array();
			for (lua_Integer i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, i);
				json_t *v = to_json(L, -1, depth + 1, err, errlen);
				lua_pop(L, 1);
				if (!v) {
					json_decref(a);
					return NULL;
				}
				json_array_append_new(a, v);
			}
			return a;
		}
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			char kbuf[32];
			const char *k;
			if (lua_type(L, -2) == LUA_TSTRING) {
				k = lua_tostring(L, -2);
			} else if (lua_type(L, -2) == LUA_TNUMBER) {
				if (lua_isinteger(L, -2))
					snprintf(kbuf, sizeof(kbuf), "%lld",
						 (long long)lua_tointeger(L, -2));
				else
					snprintf(kbuf, sizeof(kbuf), "%.14g", lua_tonumber(L, -2));
				k = kbuf;
			} else {
				fl_err_set(err, errlen, FL_EINVAL, "cannot encode a %s key as JSON",
					   luaL_typename(L, -2));
				lua_pop(L, 2);
				json_decref(o);
				return NULL;
			}
			json_t *v = to_json(L, -1, depth + 1, err, errlen);
			lua_pop(L, 1);
			if (!v) {
				lua_pop(L, 1);
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, k, v);
		}
		return o;
	}
	default: break;
	}
	fl_err_set(err, errlen, FL_EINVAL, "cannot encode a %s as JSON", luaL_typename(L, idx));
	return NULL;
}

json_t *fl_lua_to_json(lua_State *L, int idx, char *err, size_t errlen)
{
	return to_json(L, idx, 0, err, errlen);
}

void fl_lua_push_json(lua_State *L, const json_t *v)
{
	if (!lua_checkstack(L, 4)) { /* deeper than Lua can hold: cut off */
		lua_pushnil(L);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		lua_createtable(L, 0, (int)json_object_size(v));
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x) {
			fl_lua_push_json(L, x);
			lua_setfield(L, -2, k);
		}
		break;
	}
	case JSON_ARRAY: {
		lua_createtable(L, (int)json_array_size(v), 0);
		for (size_t i = 0; i < json_array_size(v); i++) {
			fl_lua_push_json(L, json_array_get(v, i));
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		fl_lua_mark_array(L, -1);
		break;
	}
	case JSON_STRING: lua_pushlstring(L, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); break;
	case JSON_REAL: lua_pushnumber(L, json_real_value(v)); break;
	case JSON_TRUE: lua_pushboolean(L, 1); break;
	case JSON_FALSE: lua_pushboolean(L, 0); break;
	case JSON_NULL: fl_lua_push_null(L); break;
	}
}
