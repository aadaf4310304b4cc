/* JSON helpers over jansson. */
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

json_t *fl_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!v)
		fl_err_set(err, errlen, FL_EPARSE, "line %d column %d: %s", je.line, je.column,
			   je.text);
	return v;
}

json_t *fl_json_load_file(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v = json_load_file(path, JSON_DECODE_ANY, &je);
	if (!v)
		fl_err_set(err, errlen, FL_EPARSE, "%s:%d:%d: %s", path, je.line, je.column,
			   je.text);
	return v;
}

char *fl_json_dumps(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int buf_dump_cb(const char *s, size_t n, void *data)
{
	return fl_buf_append(data, s, n) == 0 ? 0 : -1;
}

int fl_json_append(struct fl_buf *b, const json_t *v)
{
	return json_dump_callback(v, buf_dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) == 0
		       ? 0
		       : FL_E2BIG;
}

const char *fl_json_str(const json_t *obj, const char *key, const char *def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : def;
}

int64_t fl_json_int(const json_t *obj, const char *key, int64_t def)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	/* a real is truncated; one past int64's range is no integer: def */
	if (json_is_real(v) && fabs(json_real_value(v)) < 9.2e18)
		return (int64_t)json_real_value(v);
	return def;
}

double fl_json_num(const json_t *obj, const char *key, double def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

bool fl_json_bool(const json_t *obj, const char *key, bool def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

static int take_check(const json_t *obj, const char *key, bool required, json_t **v, char *err,
		      size_t errlen)
{
	*v = json_object_get(obj, key);
	if (!*v || json_is_null(*v)) {
		*v = NULL;
		return required ? fl_err_set(err, errlen, FL_ENOENT, "missing required field: %s",
					     key)
				: 0;
	}
	return 0;
}

int fl_json_take_str(const json_t *obj, const char *key, bool required, const char **out, char *err,
		     size_t errlen)
{
	json_t *v;
	int rc = take_check(obj, key, required, &v, err, errlen);
	if (rc < 0 || !v)
		return rc;
	if (!json_is_string(v))
		return fl_err_set(err, errlen, FL_EINVAL, "field %s: expected string, got %s", key,
				  fl_json_type_name(v));
	*out = json_string_value(v);
	return 0;
}

int fl_json_take_int(const json_t *obj, const char *key, bool required, int64_t *out, char *err,
		     size_t errlen)
{
	json_t *v;
	int rc = take_check(obj, key, required, &v, err, errlen);
	if (rc < 0 || !v)
		return rc;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d == floor(d) && fabs(d) < 9e15) {
			*out = (int64_t)d;
			return 0;
		}
	}
	return fl_err_set(err, errlen, FL_EINVAL, "field %s: expected integer, got %s", key,
			  fl_json_type_name(v));
}

int fl_json_take_num(const json_t *obj, const char *key, bool required, double *out, char *err,
		     size_t errlen)
{
	json_t *v;
	int rc = take_check(obj, key, required, &v, err, errlen);
	if (rc < 0 || !v)
		return rc;
	if (!json_is_number(v))
		return fl_err_set(err, errlen, FL_EINVAL, "field %s: expected number, got %s", key,
				  fl_json_type_name(v));
	*out = json_number_value(v);
	return 0;
}

int fl_json_take_bool(const json_t *obj, const char *key, bool required, bool *out, char *err,
		      size_t errlen)
{
	json_t *v;
	int rc = take_check(obj, key, required, &v, err, errlen);
	if (rc < 0 || !v)
		return rc;
	if (!json_is_boolean(v))
		return fl_err_set(err, errlen, FL_EINVAL, "field %s: expected boolean, got %s", key,
				  fl_json_type_name(v));
	*out = json_is_true(v);
	return 0;
}

int fl_json_only_keys(const json_t *obj, const char *const *allowed, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, k) == 0) {
				ok = true;
				break;
			}
		if (!ok)
			return fl_err_set(err, errlen, FL_EINVAL, "unknown field: %s", k);
	}
	return 0;
}

bool fl_json_equal_num(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!fl_json_equal_num(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)a, k, v) {
			json_t *w = json_object_get(b, k);
			if (!w || !fl_json_equal_num(v, w))
				return false;
		}
		return true;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

const char *fl_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}
