/* HTTP toxics (faultline): http_abort answers instead of forwarding,
 * http_delay holds the request, http_drop_response forwards the request and
 * swallows the answer, closing the connection (applied but unknown). Each
 * applies to requests matching method, path prefix, path regex and header,
 * with a per-request probability. The work happens in http_stage.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/errors.h"
#include "core/regex.h"
#include "fault-injector/internal.h"

#define MATCH_ATTRS                                                                                \
	{ "method", FL_AT_STR, 0, "", 0, 0 }, { "path", FL_AT_STR, 0, "", 0, 0 },                  \
		{ "path_regex", FL_AT_STR, 0, "", 0, 0 }, { "header", FL_AT_STR, 0, "", 0, 0 },    \
		{ "header_value", FL_AT_STR, 0, "", 0, 0 },                                        \
	{                                                                                          \
		"probability", FL_AT_NUM, 1.0, NULL, 0, 1                                          \
	}

static const struct fl_attr_spec abort_attrs[] = {
	MATCH_ATTRS,
	{ "status", FL_AT_INT, 503, NULL, 100, 599 },
	{ "body", FL_AT_STR, 0, "", 0, 0 },
};

static const struct fl_attr_spec delay_attrs[] = {
	MATCH_ATTRS,
	{ "delay", FL_AT_INT, 0, NULL, 0, 3600000 },
};

static const struct fl_attr_spec drop_attrs[] = {
	MATCH_ATTRS,
};

static int compile(struct fl_toxic *t, char *err, size_t errlen)
{
	const char *re = fl_toxic_str(t, "path_regex");
	fl_regex_free(t->re);
	t->re = NULL;
	if (!*re)
		return 0;
	char msg[256];
	int rc = fl_regex_compile(re, 0, &t->re, msg, sizeof(msg));
	if (rc)
		return fl_err_set(err, errlen, FL_EINVAL, "bad request body: path_regex: %s", msg);
	return 0;
}

bool fl_http_toxic_matches(const struct fl_toxic *t, const char *method, const char *path,
			   const json_t *headers, struct fl_prng *rng)
{
	const char *m = fl_toxic_str(t, "method");
	if (*m && strcasecmp(m, method) != 0)
		return false;
	const char *prefix = fl_toxic_str(t, "path");
	if (*prefix && strncmp(path, prefix, strlen(prefix)) != 0)
		return false;
	/* a match over the regex limits counts as no match (the toxic stays off) */
	if (t->re && fl_regex_match(t->re, path, strlen(path), NULL, 0) != 1)
		return false;
	const char *hn = fl_toxic_str(t, "header");
	if (*hn) {
		char low[128];
		size_t i;
		for (i = 0; hn[i] && i + 1 < sizeof(low); i++)
			low[i] = (char)tolower((unsigned char)hn[i]);
		low[i] = 0;
		const char *v = json_string_value(json_object_get(headers, low));
		if (!v)
			return false;
		const char *want = fl_toxic_str(t, "header_value");
		if (*want && strcmp(v, want) != 0)
			return false;
	}
	return fl_prng_chance(rng, t->toxicity) &&
	       fl_prng_chance(rng, fl_toxic_num(t, "probability"));
}

const struct fl_toxic_type fl_toxic_http_abort = {
	.name = "http_abort",
	.kind = FL_TK_HTTP,
	.attrs = abort_attrs,
	.nattrs = sizeof(abort_attrs) / sizeof(abort_attrs[0]),
	.compile = compile,
};

const struct fl_toxic_type fl_toxic_http_delay = {
	.name = "http_delay",
	.kind = FL_TK_HTTP,
	.attrs = delay_attrs,
	.nattrs = sizeof(delay_attrs) / sizeof(delay_attrs[0]),
	.compile = compile,
};

const struct fl_toxic_type fl_toxic_http_drop_response = {
	.name = "http_drop_response",
	.kind = FL_TK_HTTP,
	.attrs = drop_attrs,
	.nattrs = sizeof(drop_attrs) / sizeof(drop_attrs[0]),
	.compile = compile,
};
