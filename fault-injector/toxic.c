/* Toxics: the type table, attribute parsing and validation, JSON shapes
 * (Toxiproxy's: {"name","type","stream","toxicity","attributes"}). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/errors.h"
#include "core/regex.h"
#include "core/json.h"
#include "fault-injector/internal.h"

static const struct fl_toxic_type *const types[] = {
	&fl_toxic_latency,
	&fl_toxic_bandwidth,
	&fl_toxic_slow_close,
	&fl_toxic_timeout,
	&fl_toxic_reset_peer,
	&fl_toxic_slicer,
	&fl_toxic_limit_data,
	&fl_toxic_corrupt,
	&fl_toxic_refuse,
	&fl_toxic_accept_reset,
	&fl_toxic_http_abort,
	&fl_toxic_http_delay,
	&fl_toxic_http_drop_response,
};

const struct fl_toxic_type *fl_toxic_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

int fl_toxic_attr_index(const struct fl_toxic_type *t, const char *name)
{
	for (size_t i = 0; i < t->nattrs; i++)
		if (strcmp(t->attrs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int64_t fl_toxic_int(const struct fl_toxic *t, const char *name)
{
	int i = fl_toxic_attr_index(t->type, name);
	if (i < 0)
		return 0;
	return t->type->attrs[i].type == FL_AT_NUM ? (int64_t)t->a[i].n : t->a[i].i;
}

double fl_toxic_num(const struct fl_toxic *t, const char *name)
{
	int i = fl_toxic_attr_index(t->type, name);
	if (i < 0)
		return 0;
	return t->type->attrs[i].type == FL_AT_INT ? (double)t->a[i].i : t->a[i].n;
}

const char *fl_toxic_str(const struct fl_toxic *t, const char *name)
{
	int i = fl_toxic_attr_index(t->type, name);
	if (i < 0 || t->type->attrs[i].type != FL_AT_STR)
		return "";
	return t->a[i].s ? t->a[i].s : "";
}

static void set_defaults(struct fl_toxic *t)
{
	for (size_t i = 0; i < t->type->nattrs; i++) {
		const struct fl_attr_spec *s = &t->type->attrs[i];
		if (s->type == FL_AT_INT)
			t->a[i].i = (int64_t)s->def;
		else if (s->type == FL_AT_NUM)
			t->a[i].n = s->def;
		else
			t->a[i].s = strdup(s->def_str ? s->def_str : "");
	}
}

/* Parse attributes into a scratch copy first so a failed update changes nothing. */
static int parse_attrs(const struct fl_toxic_type *type, union fl_attr_val *a, const json_t *attrs,
		       char *err, size_t errlen)
{
	if (!json_is_object(attrs))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: field attributes: expected object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)attrs, k, v) {
		int i = fl_toxic_attr_index(type, k);
		if (i < 0)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "bad request body: unknown attribute for %s: %s",
					  type->name, k);
		const struct fl_attr_spec *s = &type->attrs[i];
		if (s->type == FL_AT_STR) {
			if (!json_is_string(v))
				return fl_err_set(err, errlen, FL_EINVAL,
						  "bad request body: attribute %s: expected string",
						  k);
			char *d = strdup(json_string_value(v));
			if (!d)
				return FL_ENOMEM;
			free(a[i].s);
			a[i].s = d;
			continue;
		}
		if (!json_is_number(v))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "bad request body: attribute %s: expected %s", k,
					  s->type == FL_AT_INT ? "integer" : "number");
		double d = json_number_value(v);
		if (s->type == FL_AT_INT && (json_is_real(v) && d != floor(d)))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "bad request body: attribute %s: expected integer", k);
		if (!isfinite(d) || d < s->min || d > s->max)
			return fl_err_set(
				err, errlen, FL_EINVAL,
				"bad request body: attribute %s: must be between %g and %g", k,
				s->min, s->max);
		if (s->type == FL_AT_INT)
			a[i].i = json_is_integer(v) ? json_integer_value(v) : (int64_t)d;
		else
			a[i].n = d;
	}
	return 0;
}

static void free_vals(const struct fl_toxic_type *type, union fl_attr_val *a)
{
	for (size_t i = 0; i < type->nattrs; i++)
		if (type->attrs[i].type == FL_AT_STR) {
			free(a[i].s);
			a[i].s = NULL;
		}
}

static int copy_vals(const struct fl_toxic_type *type, union fl_attr_val *dst,
		     const union fl_attr_val *src)
{
	for (size_t i = 0; i < type->nattrs; i++) {
		dst[i] = src[i];
		if (type->attrs[i].type == FL_AT_STR) {
			dst[i].s = strdup(src[i].s ? src[i].s : "");
			if (!dst[i].s)
				return FL_ENOMEM;
		}
	}
	return 0;
}

static int parse_toxicity(const json_t *j, double *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, "toxicity");
	if (!v)
		return 0;
	if (!json_is_number(v))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: field toxicity: expected number");
	double d = json_number_value(v);
	if (!(d >= 0 && d <= 1))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: toxicity must be between 0 and 1");
	*out = d;
	return 0;
}

static int parse_ttl(const json_t *j, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, "ttl_ms");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fl_err_set(
			err, errlen, FL_EINVAL,
			"bad request body: field ttl_ms: expected a non-negative integer");
	*out = json_integer_value(v);
	return 0;
}

struct fl_toxic *fl_toxic_from_json(const json_t *j, int *status, char *err, size_t errlen)
{
	static const char *const keys[] = { "name",	  "type",   "stream", "toxicity",
					    "attributes", "ttl_ms", NULL };
	struct fl_toxic *t = NULL;
	*status = 400;
	if (!json_is_object(j)) {
		fl_err_set(err, errlen, FL_EINVAL, "bad request body: expected a JSON object");
		return NULL;
	}
	char kerr[200];
	if (fl_json_only_keys(j, keys, kerr, sizeof(kerr)) != 0) {
		fl_err_set(err, errlen, FL_EINVAL, "bad request body: %s", kerr);
		return NULL;
	}
	json_t *jt = json_object_get(j, "type");
	const struct fl_toxic_type *type = fl_toxic_type_find(json_string_value(jt));
	if (!type) {
		fl_err_set(err, errlen, FL_EINVAL, "invalid toxic type");
		return NULL;
	}
	json_t *js = json_object_get(j, "stream");
	int stream = FL_DIR_DOWN;
	if (js && !json_is_null(js)) {
		const char *s = json_string_value(js);
		if (s && strcmp(s, "upstream") == 0)
			stream = FL_DIR_UP;
		else if (s && (strcmp(s, "downstream") == 0 || !*s))
			stream = FL_DIR_DOWN;
		else {
			fl_err_set(err, errlen, FL_EINVAL,
				   "stream was invalid, can be either upstream or downstream");
			return NULL;
		}
	}
	json_t *jn = json_object_get(j, "name");
	if (jn && !json_is_null(jn) && !json_is_string(jn)) {
		fl_err_set(err, errlen, FL_EINVAL, "bad request body: field name: expected string");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->type = type;
	t->stream = stream;
	t->toxicity = 1.0;
	set_defaults(t);
	const char *name = json_string_value(jn);
	if (name && (strchr(name, '/') || strlen(name) > 200)) {
		fl_err_set(err, errlen, FL_EINVAL,
			   "bad request body: name must have at most 200 bytes and no '/'");
		goto fail;
	}
	if (name && *name)
		t->name = strdup(name);
	else if (asprintf(&t->name, "%s_%s", type->name,
			  stream == FL_DIR_UP ? "upstream" : "downstream") < 0)
		t->name = NULL;
	if (!t->name)
		goto nomem;
	if (parse_toxicity(j, &t->toxicity, err, errlen) || parse_ttl(j, &t->ttl_ms, err, errlen))
		goto fail;
	json_t *ja = json_object_get(j, "attributes");
	if (ja && !json_is_null(ja) && parse_attrs(type, t->a, ja, err, errlen))
		goto fail;
	if (type->compile && type->compile(t, err, errlen))
		goto fail;
	return t;
nomem:
	fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	*status = 500;
fail:
	fl_toxic_free(t);
	return NULL;
}

int fl_toxic_update_json(struct fl_toxic *t, const json_t *j, int *status, char *err, size_t errlen)
{
	static const char *const keys[] = { "name",	  "type",   "stream", "toxicity",
					    "attributes", "ttl_ms", NULL };
	union fl_attr_val a[FL_TOXIC_MAX_ATTRS] = { { 0 } };
	int rc;
	*status = 400;
	if (!json_is_object(j))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: expected a JSON object");
	char kerr[200];
	if (fl_json_only_keys(j, keys, kerr, sizeof(kerr)) != 0)
		return fl_err_set(err, errlen, FL_EINVAL, "bad request body: %s", kerr);
	double tox = t->toxicity;
	int64_t ttl = t->ttl_ms;
	if ((rc = parse_toxicity(j, &tox, err, errlen)) || (rc = parse_ttl(j, &ttl, err, errlen)))
		return rc;
	if ((rc = copy_vals(t->type, a, t->a)))
		goto out;
	json_t *ja = json_object_get(j, "attributes");
	if (ja && !json_is_null(ja) && (rc = parse_attrs(t->type, a, ja, err, errlen)))
		goto out;
	/* Swap in the new values; compile against them, roll back on failure. */
	union fl_attr_val old[FL_TOXIC_MAX_ATTRS];
	memcpy(old, t->a, sizeof(old));
	memcpy(t->a, a, sizeof(a));
	struct fl_regex *old_re = t->re;
	t->re = NULL;
	if (t->type->compile && (rc = t->type->compile(t, err, errlen))) {
		memcpy(a, t->a, sizeof(a));
		memcpy(t->a, old, sizeof(old));
		t->re = old_re;
		goto out;
	}
	fl_regex_free(old_re);
	memcpy(a, old, sizeof(old));
	t->toxicity = tox;
	t->ttl_ms = ttl;
	t->gen++;
	rc = 0;
out:
	free_vals(t->type, a);
	return rc;
}

json_t *fl_toxic_to_json(const struct fl_toxic *t)
{
	json_t *attrs = json_object();
	for (size_t i = 0; i < t->type->nattrs; i++) {
		const struct fl_attr_spec *s = &t->type->attrs[i];
		json_t *v = s->type == FL_AT_INT   ? json_integer(t->a[i].i)
			    : s->type == FL_AT_NUM ? json_real(t->a[i].n)
						   : json_string(t->a[i].s ? t->a[i].s : "");
		json_object_set_new(attrs, s->name, v);
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:f, s:o}", "name", t->name, "type", t->type->name,
			      "stream", t->stream == FL_DIR_UP ? "upstream" : "downstream",
			      "toxicity", t->toxicity, "attributes", attrs);
	if (j && t->ttl_ms > 0)
		json_object_set_new(j, "ttl_ms", json_integer(t->ttl_ms));
	return j;
}

void fl_toxic_free(struct fl_toxic *t)
{
	if (!t)
		return;
	if (t->ttl_ev)
		event_free(t->ttl_ev);
	fl_regex_free(t->re);
	free_vals(t->type, t->a);
	free(t->name);
	free(t);
}
