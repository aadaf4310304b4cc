/* Writing pacts as V3 or V4 documents, in a stable key order so that the
 * same pact always produces the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/errors.h"

static json_t *headers_out(const json_t *h, int version)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)h, k, v) {
		if (version >= 4 && json_array_size(v) != 1) {
			json_object_set(o, k, v);
			continue;
		}
		/* V3 and single values: one string ("a, b" for several) */
		size_t i;
		json_t *x;
		char *joined = NULL;
		size_t len = 0;
		json_array_foreach(v, i, x) {
			const char *s = json_string_value(x);
			size_t n = strlen(s ? s : "");
			char *nj = realloc(joined, len + n + 3);
			if (!nj)
				break;
			joined = nj;
			if (i) {
				memcpy(joined + len, ", ", 2);
				len += 2;
			}
			memcpy(joined + len, s ? s : "", n);
			len += n;
			joined[len] = '\0';
		}
		json_object_set_new(o, k, json_string(joined ? joined : ""));
		free(joined);
	}
	return o;
}

static void body_out(json_t *obj, const char *key, const struct fl_pact_body *b,
		     const json_t *headers, int version)
{
	if (b->state == FL_PACT_BODY_MISSING)
		return;
	if (b->state == FL_PACT_BODY_NULL) {
		json_object_set_new(obj, key, json_null());
		return;
	}
	if (version < 4) {
		json_object_set(obj, key, b->value ? b->value : json_string(""));
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "contentType", json_string(fl_pact_body_content_type(b, headers)));
	json_object_set_new(o, "encoded", b->encoded ? json_string("base64") : json_false());
	json_object_set(o, "content", b->value ? b->value : json_string(""));
	json_object_set_new(obj, key, o);
}

/* Rules as written: V3/V4 share the category shape. Empty categories dropped. */
static void rules_out(json_t *obj, const char *key, const json_t *rules, bool message, int version)
{
	if (!json_is_object(rules) || json_object_size(rules) == 0)
		return;
	json_t *o = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)rules, k, v) {
		if (json_is_object(v) && json_object_size(v) == 0)
			continue;
		const char *name = message && version >= 4 && !strcmp(k, "body") ? "content" : k;
		json_object_set(o, name, v);
	}
	if (json_object_size(o))
		json_object_set_new(obj, key, o);
	else
		json_decref(o);
}

/* What a request and a response both have: headers, body, matching rules
 * and generators. */
static void http_parts_out(json_t *o, const json_t *headers, const struct fl_pact_body *body,
			   const json_t *rules, json_t *generators, int version)
{
	if (json_object_size(headers))
		json_object_set_new(o, "headers", headers_out(headers, version));
	body_out(o, "body", body, headers, version);
	rules_out(o, "matchingRules", rules, false, version);
	if (json_object_size(generators))
		json_object_set(o, "generators", generators);
}

static json_t *request_out(const struct fl_pact_request *r, int version)
{
	json_t *o = json_object();
	json_object_set_new(o, "method", json_string(r->method ? r->method : "GET"));
	json_object_set_new(o, "path", json_string(r->path ? r->path : "/"));
	if (json_object_size(r->query))
		json_object_set(o, "query", r->query);
	http_parts_out(o, r->headers, &r->body, r->rules, r->generators, version);
	return o;
}

static json_t *response_out(const struct fl_pact_response *r, int version)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", json_integer(r->status));
	http_parts_out(o, r->headers, &r->body, r->rules, r->generators, version);
	return o;
}

static json_t *states_out(const json_t *states)
{
	json_t *a = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(states, i, s) {
		json_t *o = json_object();
		json_object_set(o, "name", json_object_get(s, "name"));
		json_t *params = json_object_get(s, "params");
		if (json_object_size(params))
			json_object_set(o, "params", params);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *interaction_out(const struct fl_pact_interaction *it, int version)
{
	json_t *o = json_object();
	if (version >= 4) {
		json_object_set_new(o, "type",
				    json_string(it->kind == FL_PACT_HTTP
							? "Synchronous/HTTP"
							: "Asynchronous/Messages"));
		if (it->key)
			json_object_set_new(o, "key", json_string(it->key));
	}
	json_object_set_new(o, "description", json_string(it->description ? it->description : ""));
	if (json_array_size(it->states))
		json_object_set_new(o, "providerStates", states_out(it->states));
	if (version >= 4) {
		json_object_set_new(o, "pending", json_boolean(it->pending));
		if (it->comments)
			json_object_set(o, "comments", it->comments);
	}
	if (it->kind == FL_PACT_HTTP) {
		json_object_set_new(o, "request", request_out(&it->request, version));
		json_object_set_new(o, "response", response_out(&it->response, version));
		return o;
	}
	json_t *ct_headers = json_object();
	const char *ct = fl_json_str(it->message.metadata, "contentType", NULL);
	if (ct)
		fl_pact_multimap_add(ct_headers, "Content-Type", ct);
	body_out(o, "contents", &it->message.contents, ct_headers, version);
	json_decref(ct_headers);
	json_object_set(o, version >= 4 ? "metadata" : "metaData", it->message.metadata);
	rules_out(o, "matchingRules", it->message.rules, true, version);
	if (json_object_size(it->message.generators))
		json_object_set(o, "generators", it->message.generators);
	return o;
}

json_t *fl_pact_to_json(const struct fl_pact *p, int version)
{
	if (version != 3)
		version = 4;
	json_t *doc = json_object();
	json_object_set_new(doc, "consumer", json_pack("{s:s}", "name", p->consumer));
	json_object_set_new(doc, "provider", json_pack("{s:s}", "name", p->provider));
	json_t *its = json_array(), *msgs = json_array();
	for (size_t i = 0; i < p->ninteractions; i++) {
		const struct fl_pact_interaction *it = &p->interactions[i];
		json_array_append_new(version == 3 && it->kind == FL_PACT_MESSAGE ? msgs : its,
				      interaction_out(it, version));
	}
	if (json_array_size(its) || !json_array_size(msgs))
		json_object_set_new(doc, "interactions", its);
	else
		json_decref(its);
	if (json_array_size(msgs))
		json_object_set_new(doc, "messages", msgs);
	else
		json_decref(msgs);
	json_t *md = json_deep_copy(p->metadata);
	json_object_set_new(md, "pactSpecification",
			    json_pack("{s:s}", "version", version == 3 ? "3.0.0" : "4.0"));
	json_t *fl = json_object_get(md, "faultline");
	if (!json_is_object(fl))
		json_object_set_new(md, "faultline", json_pack("{s:s}", "version", FL_VERSION));
	json_object_set_new(doc, "metadata", md);
	return doc;
}

int fl_pact_save(const struct fl_pact *p, const char *path, int version, char *err, size_t errlen)
{
	json_t *doc = fl_pact_to_json(p, version);
	if (!doc)
		return fl_err_set(err, errlen, FL_ENOMEM, "%s: out of memory", path);
	char *s = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (!s)
		return fl_err_set(err, errlen, FL_ENOMEM, "%s: out of memory", path);
	FILE *f = fopen(path, "w");
	if (!f) {
		int e = errno;
		free(s);
		return fl_err_set(err, errlen, fl_err_from_errno(e), "%s: %s", path, strerror(e));
	}
	int ok = fputs(s, f) >= 0 && fputc('\n', f) != EOF;
	ok = (fclose(f) == 0) && ok;
	free(s);
	if (!ok)
		return fl_err_set(err, errlen, FL_EIO, "%s: write failed", path);
	return 0;
}
