/* JSON helpers over jansson. Reference conventions: a function returning
 * json_t * says whether the reference is "new" (caller decrefs) or
 * "borrowed" (valid while its container lives). */
#ifndef FL_CORE_JSON_H
#define FL_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/buf.h"

/* Parse len bytes. New reference, or NULL with "line L column C: text" in err. */
json_t *fl_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Load a JSON file. New reference, or NULL with "FILE:L:C: text" in err. */
json_t *fl_json_load_file(const char *path, char *err, size_t errlen);

/* Serialise compactly into a malloc'd string (caller frees); NULL on failure. */
char *fl_json_dumps(const json_t *v);

/* Append the compact serialisation of v to b. */
int fl_json_append(struct fl_buf *b, const json_t *v);

/* Lenient getters on an object; return def when the key is absent, null or of
 * another type. Strings are borrowed. */
const char *fl_json_str(const json_t *obj, const char *key, const char *def);
int64_t fl_json_int(const json_t *obj, const char *key, int64_t def);
double fl_json_num(const json_t *obj, const char *key, double def);
bool fl_json_bool(const json_t *obj, const char *key, bool def);

/* Strict getters for validating API input: when the key is absent, *out is
 * untouched and 0 returned unless `required` (then FL_ENOENT, with
 * "missing required field: KEY" in err). A present value of the wrong type
 * gives FL_EINVAL with "field KEY: expected TYPE" in err. */
int fl_json_take_str(const json_t *obj, const char *key, bool required, const char **out, char *err,
		     size_t errlen);
int fl_json_take_int(const json_t *obj, const char *key, bool required, int64_t *out, char *err,
		     size_t errlen);
int fl_json_take_num(const json_t *obj, const char *key, bool required, double *out, char *err,
		     size_t errlen);
int fl_json_take_bool(const json_t *obj, const char *key, bool required, bool *out, char *err,
		      size_t errlen);

/* Check that obj has no keys outside the NULL-terminated list `allowed`;
 * FL_EINVAL with "unknown field: KEY" otherwise. */
int fl_json_only_keys(const json_t *obj, const char *const *allowed, char *err, size_t errlen);

/* Deep equality where 1 and 1.0 are equal (jansson's json_equal says no). */
bool fl_json_equal_num(const json_t *a, const json_t *b);

/* Printable type name: "object", "array", "string", "integer", "real", "boolean", "null". */
const char *fl_json_type_name(const json_t *v);

#endif
