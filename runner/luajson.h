/* Lua values <-> JSON (jansson). Tables whose keys are 1..n become arrays,
 * other tables objects; an empty table becomes {} unless it carries the
 * array marker metatable (fl.json.array()); JSON null is the light userdata
 * fl.json.null. Arrays decoded from JSON carry the array marker, so they
 * encode back as arrays even when empty. */
#ifndef FL_CLI_LUAJSON_H
#define FL_CLI_LUAJSON_H

#include <jansson.h>
#include <lua.h>

/* Convert the value at idx. New reference, or NULL with a message in err
 * (cycles, functions, non-string keys, depth over 64). */
json_t *fl_lua_to_json(lua_State *L, int idx, char *err, size_t errlen);

/* Push v (borrowed) as a Lua value. */
void fl_lua_push_json(lua_State *L, const json_t *v);

/* Push the null sentinel / set the array marker on the table at idx. */
void fl_lua_push_null(lua_State *L);
void fl_lua_mark_array(lua_State *L, int idx);

#endif
