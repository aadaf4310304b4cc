/* The Pact matchers applied to one value: equality, regex, type (with
 * min/max), include, integer, decimal, number, null, boolean, date, time,
 * timestamp, contentType, values, arrayContains, eachKey, eachValue,
 * statusCode, notEmpty, semver; groups combine them with AND or OR. The
 * structural part of values/arrayContains/eachKey/eachValue (walking the
 * children) lives in match_json.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/match_int.h"
#include "core/json.h"

char *fl_match_show(const json_t *v)
{
	if (!v)
		return strdup("(missing)");
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s && strlen(s) > 200)
		strcpy(s + 196, "...");
	return s ? s : strdup("?");
}

static const char *jtype(const json_t *v)
{
	if (!v)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "decimal";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

/* The value as text for regex/include; NULL for collections. malloc'd. */
static char *as_text(const json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_object(v) || json_is_array(v))
		return NULL;
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static bool is_collection(const json_t *v)
{
	return json_is_object(v) || json_is_array(v);
}

static bool same_type(const json_t *e, const json_t *a)
{
	if (!e || json_is_null(e))
		return !a || json_is_null(a);
	if (!a)
		return false;
	if (json_is_number(e))
		return json_is_number(a);
	if (json_is_boolean(e))
		return json_is_boolean(a);
	return json_typeof(e) == json_typeof(a);
}

static bool values_equal(const json_t *e, const json_t *a)
{
	if ((!e || json_is_null(e)) && (!a || json_is_null(a)))
		return true;
	if (!e || !a)
		return false;
	return fl_json_equal_num(e, a);
}

static bool text_matches(const json_t *a, const char *re)
{
	char err[8];
	return json_is_string(a) &&
	       fl_regex_full_match(re, json_string_value(a), err, sizeof(err)) == 1;
}

static int fail(char *msg, size_t msglen, const char *fmt, const json_t *a, const char *extra)
{
	char *sa = fl_match_show(a);
	snprintf(msg, msglen, fmt, sa ? sa : "?", extra ? extra : "");
	free(sa);
	return 1;
}

static const char *base_type(const char *ct, char *buf, size_t n)
{
	size_t k = strcspn(ct, ";");
	while (k && isspace((unsigned char)ct[k - 1]))
		k--;
	if (k >= n)
		k = n - 1;
	memcpy(buf, ct, k);
	buf[k] = '\0';
	return buf;
}

static const char *detect_ct(const json_t *a)
{
	if (is_collection(a))
		return "application/json";
	if (!json_is_string(a))
		return "text/plain";
	const char *s = json_string_value(a);
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '<')
		return strncasecmp(s, "<!doctype html", 14) && strncasecmp(s, "<html", 5)
			       ? "application/xml"
			       : "text/html";
	if (*s == '{' || *s == '[') {
		json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
		if (j) {
			json_decref(j);
			return "application/json";
		}
	}
	if (!strncmp(s, "%PDF", 4))
		return "application/pdf";
	return "text/plain";
}

static bool status_in_class(long st, const char *cls)
{
	if (!strcmp(cls, "info") || !strcmp(cls, "information"))
		return st >= 100 && st < 200;
	if (!strcmp(cls, "success"))
		return st >= 200 && st < 300;
	if (!strcmp(cls, "redirect"))
		return st >= 300 && st < 400;
	if (!strcmp(cls, "clientError"))
		return st >= 400 && st < 500;
	if (!strcmp(cls, "serverError"))
		return st >= 500 && st < 600;
	if (!strcmp(cls, "nonError"))
		return st < 400;
	if (!strcmp(cls, "error"))
		return st >= 400;
	return false;
}

int fl_match_one(const json_t *m, bool cascaded, const json_t *e, const json_t *a, bool text,
		 char *msg, size_t msglen)
{
	const char *t = fl_matcher_type(m);
	char tmp[160];

	if (!strcmp(t, "equality")) {
		if (values_equal(e, a))
			return 0;
		char *se = fl_match_show(e);
		int r = fail(msg, msglen, "Expected %s to equal %s", a, se);
		free(se);
		return r;
	}
	if (!strcmp(t, "regex")) {
		const char *re = fl_json_str(m, "regex", NULL);
		if (!re) {
			snprintf(msg, msglen, "regex matcher without a 'regex'");
			return 1;
		}
		if (is_collection(a) && is_collection(e))
			return 0;
		char *s = as_text(a);
		if (!s)
			return fail(msg, msglen, "Expected %s to match '%s'", a, re);
		char err[200];
		int r = fl_regex_full_match(re, s, err, sizeof(err));
		free(s);
		if (r == 1)
			return 0;
		if (r < 0) {
			snprintf(msg, msglen, "%s", err);
			return 1;
		}
		return fail(msg, msglen, "Expected %s to match '%s'", a, re);
	}
	if (!strcmp(t, "type") || !strcmp(t, "ignore-order") || !strcmp(t, "equalsIgnoreOrder")) {
		json_t *jmin = json_object_get(m, "min"), *jmax = json_object_get(m, "max");
		if (json_is_array(a) && (jmin || jmax)) {
			if (cascaded)
				return 0;
			long n = (long)json_array_size(a);
			if (json_is_integer(jmin) && n < json_integer_value(jmin)) {
				snprintf(tmp, sizeof(tmp), "%lld",
					 (long long)json_integer_value(jmin));
				return fail(msg, msglen, "Expected %s to have at least %s elements",
					    a, tmp);
			}
			if (json_is_integer(jmax) && n > json_integer_value(jmax)) {
				snprintf(tmp, sizeof(tmp), "%lld",
					 (long long)json_integer_value(jmax));
				return fail(msg, msglen, "Expected %s to have at most %s elements",
					    a, tmp);
			}
			return 0;
		}
		if (text && json_is_string(a) && e && !is_collection(e))
			return 0; /* text is text: headers, query, XML */
		if (same_type(e, a))
			return 0;
		char *se = fl_match_show(e);
		snprintf(tmp, sizeof(tmp), "%s (%s)", se ? se : "?", jtype(e));
		free(se);
		char *sa = fl_match_show(a);
		snprintf(msg, msglen, "Expected %s (%s) to be the same type as %s", sa ? sa : "?",
			 jtype(a), tmp);
		free(sa);
		return 1;
	}
	if (!strcmp(t, "include")) {
		const char *v = fl_json_str(m, "value", "");
		char *s = as_text(a);
		bool ok = s && strstr(s, v);
		free(s);
		return ok ? 0 : fail(msg, msglen, "Expected %s to include '%s'", a, v);
	}
	if (!strcmp(t, "integer")) {
		if (json_is_integer(a) || (text && text_matches(a, "-?\\d+")))
			return 0;
		return fail(msg, msglen, "Expected %s to be an integer%s", a, NULL);
	}
	if (!strcmp(t, "decimal")) {
		if (json_is_real(a) || (json_is_integer(a) && json_integer_value(a) == 0) ||
		    (text && text_matches(a, "-?\\d+\\.\\d+|0")))
			return 0;
		return fail(msg, msglen, "Expected %s to be a decimal number%s", a, NULL);
	}
	if (!strcmp(t, "number")) {
		if (json_is_number(a) ||
		    (text && text_matches(a, "-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?")))
			return 0;
		return fail(msg, msglen, "Expected %s to be a number%s", a, NULL);
	}
	if (!strcmp(t, "null")) {
		if (!a || json_is_null(a))
			return 0;
		return fail(msg, msglen, "Expected %s to be null%s", a, NULL);
	}
	if (!strcmp(t, "boolean")) {
		if (json_is_boolean(a) || (text && text_matches(a, "true|false")))
			return 0;
		return fail(msg, msglen, "Expected %s to be a boolean%s", a, NULL);
	}
	if (!strcmp(t, "date") || !strcmp(t, "time") || !strcmp(t, "timestamp")) {
		char kind = t[0] == 'd' ? 'd' : t[1] == 'i' && t[4] == '\0' ? 't' : 'T';
		const char *fmt = fl_json_str(m, "format", NULL);
		if (!fmt)
			fmt = fl_json_str(m, t, NULL);
		if (!fmt && !strcmp(t, "timestamp"))
			fmt = fl_json_str(m, "datetime", NULL);
		if (is_collection(a))
			return 0;
		if (json_is_string(a) && fl_datefmt_match(fmt, kind, json_string_value(a)))
			return 0;
		snprintf(tmp, sizeof(tmp), "%s%s%s",
			 kind == 'd'   ? "a date"
			 : kind == 't' ? "a time"
				       : "a date-time",
			 fmt ? " of " : "", fmt ? fmt : " (ISO 8601)");
		return fail(msg, msglen, "Expected %s to match %s", a, tmp);
	}
	if (!strcmp(t, "contentType")) {
		const char *want = fl_json_str(m, "value", "");
		char b1[128], b2[128];
		if (!strcasecmp(base_type(want, b1, sizeof(b1)),
				base_type(detect_ct(a), b2, sizeof(b2))))
			return 0;
		return fail(msg, msglen, "Expected %s to be of content type '%s'", a, want);
	}
	if (!strcmp(t, "values") || !strcmp(t, "eachKey") || !strcmp(t, "eachValue")) {
		if (is_collection(a))
			return 0;
		if (!strcmp(t, "values") && values_equal(e, a))
			return 0;
		return fail(msg, msglen, "Expected %s to be a collection (%s)", a, t);
	}
	if (!strcmp(t, "arrayContains")) {
		if (json_is_array(a))
			return 0;
		return fail(msg, msglen, "Expected %s to be an array%s", a, NULL);
	}
	if (!strcmp(t, "statusCode")) {
		json_t *want = json_object_get(m, "status");
		long st = -1;
		if (json_is_integer(a))
			st = (long)json_integer_value(a);
		else if (json_is_string(a))
			st = strtol(json_string_value(a), NULL, 10);
		if (json_is_string(want) && status_in_class(st, json_string_value(want)))
			return 0;
		if (json_is_array(want)) {
			size_t i;
			json_t *x;
			json_array_foreach(want, i, x)
				if (json_is_integer(x) && json_integer_value(x) == st)
					return 0;
		}
		char *sw = fl_match_show(want);
		int r = fail(msg, msglen, "Expected status %s to be %s", a, sw);
		free(sw);
		return r;
	}
	if (!strcmp(t, "notEmpty")) {
		bool ok = a && !json_is_null(a) &&
			  !(json_is_string(a) && json_string_length(a) == 0) &&
			  !(json_is_array(a) && json_array_size(a) == 0) &&
			  !(json_is_object(a) && json_object_size(a) == 0);
		return ok ? 0 : fail(msg, msglen, "Expected %s to not be empty%s", a, NULL);
	}
	if (!strcmp(t, "semver")) {
		if (text_matches(a, "(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)"
				    "(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?"))
			return 0;
		return fail(msg, msglen, "Expected %s to be a semantic version%s", a, NULL);
	}
	snprintf(msg, msglen, "unknown matcher type '%s'", t);
	return 1;
}

int fl_match_group(const json_t *group, bool cascaded, const json_t *e, const json_t *a, bool text,
		   char *msg, size_t msglen)
{
	const json_t *ms = fl_rules_matchers(group);
	bool any_or = fl_rules_is_or(group);
	size_t i;
	json_t *m;
	int failed = 0, passed = 0;
	char first[512] = "";
	if (!ms && json_is_object(group) && !json_object_get(group, "matchers"))
		return fl_match_one(group, cascaded, e, a, text, msg, msglen);
	if (!ms || json_array_size(ms) == 0)
		return 0;
	json_array_foreach(ms, i, m) {
		char one[512];
		if (fl_match_one(m, cascaded, e, a, text, one, sizeof(one))) {
			if (!failed)
				snprintf(first, sizeof(first), "%s", one);
			failed++;
		} else {
			passed++;
		}
	}
	if (any_or ? passed > 0 : failed == 0)
		return 0;
	snprintf(msg, msglen, "%s", first);
	return 1;
}
