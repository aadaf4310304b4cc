/* Generalising observed exchanges into an interaction (see generate.h):
 * path templates, matchers inferred from what varies across samples,
 * recognisable formats, secrets redacted. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/generate_int.h"
#include "contract/match_int.h"
#include "core/buf.h"

#define RE_UUID "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
#define RE_DATETIME                                                                                \
	"\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?"
#define RE_DATE "\\d{4}-\\d{2}-\\d{2}"

static const char *const secret_words[] = { "authorization", "cookie",	"password",   "passwd",
					    "secret",	     "token",	"api_key",    "apikey",
					    "api-key",	     "session", "credential", "private_key",
					    "x-auth",	     NULL };

int fl_gen_is_secret(const char *name)
{
	for (size_t i = 0; secret_words[i]; i++)
		if (strcasestr(name, secret_words[i]))
			return 1;
	return 0;
}

static const char *const dropped_headers[] = { "host",
					       "content-length",
					       "connection",
					       "keep-alive",
					       "transfer-encoding",
					       "te",
					       "trailer",
					       "upgrade",
					       "proxy-connection",
					       "accept-encoding",
					       "user-agent",
					       "date",
					       "expect",
					       "traceparent",
					       "tracestate",
					       "x-request-id",
					       "x-correlation-id",
					       "x-trace-id",
					       "x-b3-traceid",
					       "x-b3-spanid",
					       "x-b3-parentspanid",
					       "x-b3-sampled",
					       "b3",
					       "via",
					       "forwarded",
					       "x-forwarded-for",
					       "x-forwarded-host",
					       "x-forwarded-proto",
					       "x-real-ip",
					       "cache-control",
					       "pragma",
					       "if-none-match",
					       "if-modified-since",
					       "content-encoding",
					       NULL };

int fl_gen_keep_request_header(const char *name)
{
	if (fl_gen_is_secret(name))
		return 0;
	for (size_t i = 0; dropped_headers[i]; i++)
		if (!strcasecmp(name, dropped_headers[i]))
			return 0;
	return 1;
}

/* Tracing fields are about one call, not the contract. */
static int is_tracing(const char *k)
{
	static const char *const words[] = { "trace_id",       "traceid",	"span_id",
					     "spanid",	       "request_id",	"requestid",
					     "correlation_id", "correlationid", NULL };
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(k, words[i]))
			return 1;
	return 0;
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int is_uuid(const char *s, size_t n)
{
	static const char pat[] = "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh";
	if (n != 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (pat[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* What a path segment is: 0 literal, else the regex for its kind. */
static const char *segment_kind(const char *s, size_t n)
{
	if (all_digits(s, n))
		return "[0-9]+";
	if (is_uuid(s, n))
		return RE_UUID;
	int digits = 0, alpha = 0, hex = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		digits += isdigit(c) != 0;
		alpha += isalpha(c) != 0;
		hex &= isxdigit(c) != 0;
	}
	if (hex && n >= 8 && digits)
		return "[0-9a-fA-F]+";
	if (digits && n >= 4 && (alpha || strchr(s, '-') || strchr(s, '_')) && digits * 4 >= (int)n)
		return "[^/]+";
	return NULL;
}

static void put_re_literal(struct fl_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr(".[]{}()*+?^$|\\", s[i]))
			fl_buf_append(b, "\\", 1);
		fl_buf_append(b, &s[i], 1);
	}
}

void fl_gen_path_template(const char *path, char **templ, char **regex)
{
	struct fl_buf t, r;
	int params = 0;
	fl_buf_init(&t, 0);
	fl_buf_init(&r, 0);
	const char *p = path;
	while (*p) {
		if (*p == '/') {
			fl_buf_puts(&t, "/");
			fl_buf_puts(&r, "/");
			p++;
			continue;
		}
		size_t n = strcspn(p, "/");
		const char *kind = segment_kind(p, n);
		if (kind) {
			params++;
			if (params == 1)
				fl_buf_puts(&t, "{id}");
			else
				fl_buf_printf(&t, "{id%d}", params);
			fl_buf_puts(&r, kind);
		} else {
			fl_buf_append(&t, p, n);
			put_re_literal(&r, p, n);
		}
		p += n;
	}
	if (!t.data)
		fl_buf_puts(&t, "");
	*templ = fl_buf_take(&t, NULL);
	if (params) {
		*regex = fl_buf_take(&r, NULL);
	} else {
		*regex = NULL;
		fl_buf_free(&r);
	}
}

/* --- JSON generalisation ------------------------------------------------------ */

struct infer {
	json_t *rules;	   /* body category being filled */
	int drop_optional; /* responses: keys missing from some samples are left out */
};

static void add_rule(struct infer *in, const char *path, json_t *matcher)
{
	json_object_set_new(in->rules, path,
			    json_pack("{s:s,s:[o]}", "combine", "AND", "matchers", matcher));
}

static int is_ident(const char *k)
{
	if (!*k || isdigit((unsigned char)*k))
		return 0;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return 0;
	return 1;
}

static char *child_path(const char *path, const char *key)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	if (is_ident(key)) {
		fl_buf_printf(&b, "%s.%s", path, key);
	} else {
		fl_buf_printf(&b, "%s['", path);
		for (const char *q = key; *q; q++) {
			if (*q == '\'' || *q == '\\')
				fl_buf_puts(&b, "\\");
			fl_buf_append(&b, q, 1);
		}
		fl_buf_puts(&b, "']");
	}
	return fl_buf_take(&b, NULL);
}

static int all_match(json_t *vals, const char *re)
{
	size_t i;
	json_t *v;
	char err[8];
	json_array_foreach(vals, i, v) {
		if (!json_is_string(v) ||
		    fl_regex_full_match(re, json_string_value(v), err, sizeof(err)) != 1)
			return 0;
	}
	return json_array_size(vals) > 0;
}

static int all_equal(json_t *vals)
{
	json_t *first = json_array_get(vals, 0);
	size_t i;
	json_t *v;
	json_array_foreach(vals, i, v)
		if (!json_equal(first, v))
			return 0;
	return 1;
}

/* Replace *slot (the example value at `path`) and add rules; `vals` holds
 * the values at the same place in every sample (the example's included). */
static void generalise(struct infer *in, const char *path, const char *key, json_t **slot,
		       json_t *vals)
{
	json_t *ex = *slot;
	if (json_is_null(ex)) {
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v) {
			if (!json_is_null(v)) {
				json_decref(*slot);
				*slot = json_incref(v);
				ex = v;
				break;
			}
		}
		if (json_is_null(ex))
			return;
	}
	if (json_is_object(ex)) {
		const char *k;
		json_t *child;
		void *tmp;
		json_object_foreach_safe(ex, tmp, k, child) {
			json_t *cv = json_array();
			size_t i;
			json_t *v;
			json_array_foreach(vals, i, v) {
				json_t *x = json_object_get(v, k);
				if (x)
					json_array_append(cv, x);
			}
			if (in->drop_optional &&
			    (json_array_size(cv) < json_array_size(vals) || is_tracing(k))) {
				/* not in every sample (optional) or tracing: a lenient response
				 * allows it without the contract naming it */
				json_object_del(ex, k);
				json_decref(cv);
				continue;
			}
			char *cp = child_path(path, k);
			json_t *c = json_incref(child);
			generalise(in, cp, k, &c, cv);
			json_object_set_new(ex, k, c);
			free(cp);
			json_decref(cv);
		}
		return;
	}
	if (json_is_array(ex)) {
		/* every element of every sample is a sample of "[*]" */
		json_t *elems = json_array();
		json_t *first = NULL;
		size_t i, j;
		json_t *v, *e;
		json_array_foreach(vals, i, v) {
			json_array_foreach(v, j, e) {
				if (json_array_size(elems) < 400) /* enough to see what varies */
					json_array_append(elems, e);
				if (!first)
					first = e;
			}
		}
		add_rule(in, path,
			 json_array_size(elems) ? json_pack("{s:s,s:i}", "match", "type", "min", 1)
						: json_pack("{s:s}", "match", "type"));
		if (first) {
			json_t *c = json_deep_copy(first);
			char *cp = NULL;
			struct fl_buf b;
			fl_buf_init(&b, 0);
			fl_buf_printf(&b, "%s[*]", path);
			cp = fl_buf_take(&b, NULL);
			generalise(in, cp, NULL, &c, elems);
			free(cp);
			json_decref(*slot);
			*slot = json_pack("[o]", c);
		}
		json_decref(elems);
		return;
	}
	if (key && fl_gen_is_secret(key)) {
		json_decref(*slot);
		*slot = json_string("redacted");
		add_rule(in, path, json_pack("{s:s}", "match", "type"));
		return;
	}
	size_t n = json_array_size(vals);
	if (json_is_string(ex)) {
		if (all_match(vals, RE_UUID)) {
			add_rule(in, path,
				 json_pack("{s:s,s:s}", "match", "regex", "regex", RE_UUID));
			return;
		}
		if (all_match(vals, RE_DATETIME)) {
			add_rule(in, path,
				 json_pack("{s:s,s:s}", "match", "regex", "regex", RE_DATETIME));
			return;
		}
		if (all_match(vals, RE_DATE)) {
			add_rule(in, path,
				 json_pack("{s:s,s:s}", "match", "date", "format", "yyyy-MM-dd"));
			return;
		}
	}
	if (n >= 3 && all_equal(vals))
		return; /* seen constant: keep the exact value */
	if (json_is_integer(ex)) {
		size_t i;
		json_t *v;
		int ints = 1;
		json_array_foreach(vals, i, v)
			ints &= json_is_integer(v);
		add_rule(in, path, json_pack("{s:s}", "match", ints ? "integer" : "number"));
		return;
	}
	if (json_is_real(ex)) {
		add_rule(in, path, json_pack("{s:s}", "match", "number"));
		return;
	}
	add_rule(in, path, json_pack("{s:s}", "match", "type"));
}

static int ct_json(const char *ct)
{
	return ct && fl_contract_ct_is_json(ct);
}

/* Fill body + rules["body"] from the samples' bodies. */
static void build_body(struct fl_pact_body *body, json_t *rules, const struct gen_shape *s,
		       int resp)
{
	const struct gen_sample *s0 = &s->samples[0];
	const char *ct = resp ? s0->resp_ct : s0->req_ct;
	const char *data = resp ? s0->resp_body : s0->req_body;
	size_t len = resp ? s0->resp_len : s0->req_len;
	fl_pact_body_clear(body);
	if (!data || !len) {
		body->state = FL_PACT_BODY_MISSING;
		return;
	}
	fl_pact_body_from_bytes(body, data, len, ct);
	if (!ct_json(ct) || !body->value || json_is_string(body->value))
		return;
	json_t *vals = json_array();
	for (size_t i = 0; i < s->nsamples; i++) {
		const struct gen_sample *x = &s->samples[i];
		const char *d = resp ? x->resp_body : x->req_body;
		size_t l = resp ? x->resp_len : x->req_len;
		json_t *v = d && l ? json_loadb(d, l, JSON_DECODE_ANY, NULL) : NULL;
		if (v)
			json_array_append_new(vals, v);
	}
	json_t *cat = json_object();
	struct infer in = { cat, resp };
	generalise(&in, "$", NULL, &body->value, vals);
	json_decref(vals);
	if (json_object_size(cat))
		json_object_set(rules, "body", cat);
	json_decref(cat);
}

static void build_query(struct fl_pact_request *rq, const struct gen_shape *s)
{
	const char *k;
	json_t *v;
	json_t *qcat = json_object();
	json_decref(rq->query);
	rq->query = json_deep_copy(s->samples[0].query);
	json_object_foreach(rq->query, k, v) {
		json_t *vals = json_array();
		for (size_t i = 0; i < s->nsamples; i++) {
			json_t *x = json_object_get(s->samples[i].query, k);
			size_t j;
			json_t *e;
			json_array_foreach(x, j, e)
				json_array_append(vals, e);
		}
		json_t *m = NULL;
		if (fl_gen_is_secret(k)) {
			json_object_set_new(rq->query, k, json_pack("[s]", "redacted"));
			m = json_pack("{s:s}", "match", "type");
		} else if (json_array_size(vals) >= 3 && all_equal(vals)) {
			m = NULL;
		} else if (all_match(vals, "-?\\d+")) {
			m = json_pack("{s:s,s:s}", "match", "regex", "regex", "-?\\d+");
		} else if (all_match(vals, RE_UUID)) {
			m = json_pack("{s:s,s:s}", "match", "regex", "regex", RE_UUID);
		} else if (!all_equal(vals) || json_array_size(vals) < 3) {
			m = json_pack("{s:s}", "match", "type");
		}
		if (m)
			json_object_set_new(qcat, k,
					    json_pack("{s:s,s:[o]}", "combine", "AND", "matchers",
						      m));
		json_decref(vals);
	}
	if (json_object_size(qcat))
		json_object_set(rq->rules, "query", qcat);
	json_decref(qcat);
}

/* Request headers seen in every sample; a matcher when the value varies. */
static void build_headers(struct fl_pact_request *rq, const struct gen_shape *s)
{
	const char *k;
	json_t *v;
	json_t *hcat = json_object();
	json_object_foreach(s->samples[0].req_headers, k, v) {
		json_t *vals = json_array();
		for (size_t i = 0; i < s->nsamples; i++) {
			json_t *x = json_object_get(s->samples[i].req_headers, k);
			if (x)
				json_array_append(vals, json_array_get(x, 0));
		}
		const char *v0 = json_string_value(json_array_get(v, 0));
		if (!strcasecmp(k, "Accept") && v0 && !strcmp(v0, "*/*"))
			json_array_clear(vals); /* the HTTP client's default says nothing */
		if (json_array_size(vals) == s->nsamples) {
			json_object_set(rq->headers, k, v);
			if (!all_equal(vals) || s->nsamples < 3)
				json_object_set_new(hcat, k,
						    json_pack("{s:s,s:[{s:s}]}", "combine", "AND",
							      "matchers", "match", "type"));
		}
		json_decref(vals);
	}
	if (json_object_size(hcat))
		json_object_set(rq->rules, "header", hcat);
	json_decref(hcat);
}

void fl_gen_build_interaction(const struct gen_shape *s, struct fl_pact_interaction *it)
{
	struct fl_buf d;
	fl_buf_init(&d, 0);
	fl_buf_printf(&d, "%s %s", s->method, s->templ);
	const char *k;
	json_t *v;
	int first = 1;
	json_object_foreach(s->samples[0].query, k, v) {
		fl_buf_printf(&d, "%s%s", first ? "?" : "&", k);
		first = 0;
	}
	fl_buf_printf(&d, " -> %d", s->status);
	free(it->description);
	it->description = fl_buf_take(&d, NULL);
	it->comments = json_pack("{s:[s]}", "text", "generated by faultline from recorded traffic");
	char seen[64];
	snprintf(seen, sizeof(seen), "seen %llu time%s", (unsigned long long)s->count,
		 s->count == 1 ? "" : "s");
	json_array_append_new(json_object_get(it->comments, "text"), json_string(seen));

	struct fl_pact_request *rq = &it->request;
	free(rq->method);
	free(rq->path);
	rq->method = strdup(s->method);
	rq->path = strdup(s->samples[0].path);
	if (s->path_regex)
		json_object_set_new(rq->rules, "path",
				    json_pack("{s:s,s:[{s:s,s:s}]}", "combine", "AND", "matchers",
					      "match", "regex", "regex", s->path_regex));
	build_query(rq, s);
	if (s->samples[0].req_ct && s->samples[0].req_len)
		fl_pact_multimap_add(rq->headers, "Content-Type", s->samples[0].req_ct);
	build_headers(rq, s);
	build_body(&rq->body, rq->rules, s, 0);

	struct fl_pact_response *rs = &it->response;
	rs->status = s->status;
	if (s->samples[0].resp_ct && s->samples[0].resp_len)
		fl_pact_multimap_add(rs->headers, "Content-Type", s->samples[0].resp_ct);
	build_body(&rs->body, rs->rules, s, 1);
}
