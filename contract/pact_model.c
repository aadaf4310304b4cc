/* The pact model: construction, freeing, bodies and header/query helpers. */
#include "contract/pact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/match_int.h"
#include "core/buf.h"
#include "core/text.h"

void fl_pact_body_clear(struct fl_pact_body *b)
{
	free(b->content_type);
	json_decref(b->value);
	memset(b, 0, sizeof(*b));
}

void fl_pact_request_init(struct fl_pact_request *r)
{
	memset(r, 0, sizeof(*r));
	r->query = json_object();
	r->headers = json_object();
	r->rules = json_object();
	r->generators = json_object();
}

void fl_pact_response_init(struct fl_pact_response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->headers = json_object();
	r->rules = json_object();
	r->generators = json_object();
}

void fl_pact_message_init(struct fl_pact_message *m)
{
	memset(m, 0, sizeof(*m));
	m->metadata = json_object();
	m->rules = json_object();
	m->generators = json_object();
}

void fl_pact_request_clear(struct fl_pact_request *r)
{
	free(r->method);
	free(r->path);
	json_decref(r->query);
	json_decref(r->headers);
	fl_pact_body_clear(&r->body);
	json_decref(r->rules);
	json_decref(r->generators);
	memset(r, 0, sizeof(*r));
}

void fl_pact_response_clear(struct fl_pact_response *r)
{
	json_decref(r->headers);
	fl_pact_body_clear(&r->body);
	json_decref(r->rules);
	json_decref(r->generators);
	memset(r, 0, sizeof(*r));
}

void fl_pact_message_clear(struct fl_pact_message *m)
{
	fl_pact_body_clear(&m->contents);
	json_decref(m->metadata);
	json_decref(m->rules);
	json_decref(m->generators);
	memset(m, 0, sizeof(*m));
}

struct fl_pact *fl_pact_new(const char *consumer, const char *provider)
{
	struct fl_pact *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->consumer = strdup(consumer ? consumer : "consumer");
	p->provider = strdup(provider ? provider : "provider");
	p->spec_major = 4;
	p->metadata = json_object();
	p->warnings = json_array();
	if (!p->consumer || !p->provider || !p->metadata || !p->warnings) {
		fl_pact_free(p);
		return NULL;
	}
	return p;
}

struct fl_pact_interaction *fl_pact_add_interaction(struct fl_pact *p)
{
	struct fl_pact_interaction *v =
		realloc(p->interactions, (p->ninteractions + 1) * sizeof(*v));
	if (!v)
		return NULL;
	p->interactions = v;
	struct fl_pact_interaction *it = &v[p->ninteractions++];
	memset(it, 0, sizeof(*it));
	it->kind = FL_PACT_HTTP;
	it->states = json_array();
	fl_pact_request_init(&it->request);
	fl_pact_response_init(&it->response);
	fl_pact_message_init(&it->message);
	return it;
}

void fl_pact_free(struct fl_pact *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ninteractions; i++) {
		struct fl_pact_interaction *it = &p->interactions[i];
		free(it->description);
		free(it->key);
		json_decref(it->states);
		json_decref(it->comments);
		fl_pact_request_clear(&it->request);
		fl_pact_response_clear(&it->response);
		fl_pact_message_clear(&it->message);
	}
	free(p->interactions);
	free(p->consumer);
	free(p->provider);
	free(p->source);
	json_decref(p->metadata);
	json_decref(p->warnings);
	free(p);
}

/* --- bodies -------------------------------------------------------------- */

bool fl_contract_ct_is_json(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && isspace((unsigned char)ct[n - 1]))
		n--;
	if ((n == 16 && !strncasecmp(ct, "application/json", 16)) ||
	    (n >= 5 && !strncasecmp(ct + n - 5, "+json", 5)) ||
	    (n == 9 && !strncasecmp(ct, "text/json", 9)))
		return true;
	return false;
}

bool fl_contract_ct_is_xml(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strcspn(ct, ";");
	while (n && isspace((unsigned char)ct[n - 1]))
		n--;
	return (n == 15 && !strncasecmp(ct, "application/xml", 15)) ||
	       (n == 8 && !strncasecmp(ct, "text/xml", 8)) ||
	       (n >= 4 && !strncasecmp(ct + n - 4, "+xml", 4));
}

static bool ct_is_text(const char *ct)
{
	return ct && (!strncasecmp(ct, "text/", 5) || fl_contract_ct_is_json(ct) ||
		      fl_contract_ct_is_xml(ct) ||
		      !strncasecmp(ct, "application/x-www-form-urlencoded", 33));
}

void fl_pact_body_read(struct fl_pact_body *out, const json_t *v, bool present, int version)
{
	memset(out, 0, sizeof(*out));
	if (!present) {
		out->state = FL_PACT_BODY_MISSING;
		return;
	}
	if (!v || json_is_null(v)) {
		out->state = FL_PACT_BODY_NULL;
		return;
	}
	/* V4 shape: {"contentType": .., "encoded": .., "content": ..} */
	if (version >= 4 && json_is_object(v) &&
	    (json_object_get(v, "content") || json_object_get(v, "contentType")) &&
	    json_object_size(v) <= 3) {
		const char *ct = fl_json_str(v, "contentType", NULL);
		if (ct)
			out->content_type = strdup(ct);
		json_t *content = json_object_get(v, "content");
		json_t *enc = json_object_get(v, "encoded");
		if (!content) {
			out->state = FL_PACT_BODY_MISSING;
			return;
		}
		if (json_is_null(content)) {
			out->state = FL_PACT_BODY_NULL;
			return;
		}
		bool b64 = json_is_true(enc) ||
			   (json_is_string(enc) && !strcasecmp(json_string_value(enc), "base64"));
		bool jsontext = json_is_string(enc) && !strcasecmp(json_string_value(enc), "json");
		if (b64 && json_is_string(content)) {
			size_t n;
			char *raw = fl_text_b64_decode(json_string_value(content), &n);
			if (raw && ct_is_text(ct) && memchr(raw, 0, n) == NULL) {
				if (fl_contract_ct_is_json(ct)) {
					out->value = json_loadb(raw, n, JSON_DECODE_ANY, NULL);
				}
				if (!out->value)
					out->value = json_stringn(raw, n);
			} else {
				out->value = json_deep_copy(content);
				out->encoded = true;
			}
			free(raw);
		} else if (jsontext && json_is_string(content)) {
			out->value = json_loads(json_string_value(content), JSON_DECODE_ANY, NULL);
			if (!out->value)
				out->value = json_deep_copy(content);
		} else {
			out->value = json_deep_copy(content);
		}
		out->state = json_is_string(out->value) && json_string_length(out->value) == 0
				     ? FL_PACT_BODY_EMPTY
				     : FL_PACT_BODY_PRESENT;
		return;
	}
	out->value = json_deep_copy(v);
	out->state = json_is_string(v) && json_string_length(v) == 0 ? FL_PACT_BODY_EMPTY
								     : FL_PACT_BODY_PRESENT;
}

const char *fl_pact_header_get(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)headers, k, v) {
		if (strcasecmp(k, name))
			continue;
		if (json_is_string(v))
			return json_string_value(v);
		if (json_is_array(v) && json_array_size(v))
			return json_string_value(json_array_get(v, 0));
	}
	return NULL;
}

const char *fl_pact_body_content_type(const struct fl_pact_body *b, const json_t *headers)
{
	if (b->content_type)
		return b->content_type;
	const char *h = headers ? fl_pact_header_get(headers, "Content-Type") : NULL;
	if (h)
		return h;
	if (!b->value)
		return "text/plain";
	if (!json_is_string(b->value))
		return "application/json";
	const char *s = json_string_value(b->value);
	while (*s && isspace((unsigned char)*s))
		s++;
	if (*s == '<')
		return "application/xml";
	if (*s == '{' || *s == '[') {
		json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
		if (j) {
			json_decref(j);
			return "application/json";
		}
	}
	return "text/plain";
}

char *fl_pact_body_bytes(const struct fl_pact_body *b, size_t *len)
{
	*len = 0;
	if (b->state == FL_PACT_BODY_MISSING || b->state == FL_PACT_BODY_NULL || !b->value)
		return NULL;
	if (json_is_string(b->value)) {
		if (b->encoded)
			return fl_text_b64_decode(json_string_value(b->value), len);
		*len = json_string_length(b->value);
		char *out = malloc(*len + 1);
		if (out) {
			memcpy(out, json_string_value(b->value), *len);
			out[*len] = '\0';
		}
		return out;
	}
	char *s = json_dumps(b->value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s)
		*len = strlen(s);
	return s;
}

void fl_pact_body_from_bytes(struct fl_pact_body *out, const char *data, size_t len,
			     const char *content_type)
{
	memset(out, 0, sizeof(*out));
	if (content_type)
		out->content_type = strdup(content_type);
	if (!data || !len) {
		out->state = FL_PACT_BODY_EMPTY;
		out->value = json_string("");
		return;
	}
	out->state = FL_PACT_BODY_PRESENT;
	if (fl_contract_ct_is_json(content_type) ||
	    (!content_type && (data[0] == '{' || data[0] == '[')))
		out->value = json_loadb(data, len, JSON_DECODE_ANY, NULL);
	if (!out->value && !memchr(data, 0, len))
		out->value = json_stringn(data, len);
	if (!out->value) { /* NUL bytes or not UTF-8: keep it as binary */
		struct fl_buf b;
		fl_buf_init(&b, 0);
		fl_text_b64_encode(&b, data, len);
		out->value = json_string(b.data ? b.data : "");
		out->encoded = true;
		fl_buf_free(&b);
	}
}

int fl_pact_multimap_add(json_t *obj, const char *name, const char *value)
{
	json_t *arr = json_object_get(obj, name);
	if (!json_is_array(arr)) {
		arr = json_array();
		if (!arr || json_object_set_new(obj, name, arr))
			return -1;
	}
	return json_array_append_new(arr, json_string(value ? value : ""));
}

json_t *fl_pact_query_parse(const char *qs)
{
	json_t *obj = json_object();
	if (!obj || !qs)
		return obj;
	if (*qs == '?')
		qs++;
	while (*qs) {
		size_t n = strcspn(qs, "&");
		if (n) {
			const char *eq = memchr(qs, '=', n);
			size_t kn = eq ? (size_t)(eq - qs) : n;
			char *k = fl_text_pct_decode(qs, kn, true, NULL);
			char *v = eq ? fl_text_pct_decode(eq + 1, n - kn - 1, true, NULL)
				     : strdup("");
			if (k && v)
				fl_pact_multimap_add(obj, k, v);
			free(k);
			free(v);
		}
		qs += n;
		if (*qs == '&')
			qs++;
	}
	return obj;
}
