/* Reading Pact files V2, V3 and V4, leniently: unknown attributes are kept
 * as warnings, header values may be strings or lists, V2's flat matching
 * rules ("$.body.x", "$.headers.Accept") are converted to the V3 shape.
 * Hard errors (wrong types, unknown matcher types, unparsable rule paths)
 * name the file and the place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/match_int.h"
#include "core/errors.h"
#include "core/json.h"

static int rerr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return FL_EINVAL;
}

static void warn_unknown(const json_t *obj, const char *const *known, const char *where,
			 json_t *warnings)
{
	const char *k;
	json_t *v;
	if (!warnings)
		return;
	json_object_foreach((json_t *)obj, k, v) {
		bool ok = false;
		for (size_t i = 0; known[i] && !ok; i++)
			ok = !strcmp(k, known[i]);
		if (!ok) {
			char w[400];
			snprintf(w, sizeof(w), "%s: unknown attribute '%s' ignored", where, k);
			json_array_append_new(warnings, json_string(w));
		}
	}
	(void)v;
}

/* --- matching rules ------------------------------------------------------ */

static int check_matcher(const json_t *m, const char *where, const char *key, char *err,
			 size_t errlen)
{
	if (!json_is_object(m))
		return rerr(err, errlen, "%s['%s']: a matcher must be an object", where, key);
	const char *t = fl_json_str(m, "match", NULL);
	if (t && !fl_matcher_known(t))
		return rerr(err, errlen, "%s['%s']: unknown matcher type '%s'", where, key, t);
	if (json_object_get(m, "match") && !t)
		return rerr(err, errlen, "%s['%s']: \"match\" must be a string", where, key);
	const char *type = fl_matcher_type(m);
	if (!strcmp(type, "regex") && !json_is_string(json_object_get(m, "regex")))
		return rerr(err, errlen, "%s['%s']: regex matcher without a \"regex\" string",
			    where, key);
	return 0;
}

/* A group in any accepted shape -> {"combine": .., "matchers": [..]}. */
static json_t *norm_group(const json_t *g, const char *where, const char *key, char *err,
			  size_t errlen)
{
	json_t *matchers;
	const char *combine = "AND";
	if (json_is_array(g)) {
		matchers = json_deep_copy(g);
	} else if (json_is_object(g) && json_is_array(json_object_get(g, "matchers"))) {
		matchers = json_deep_copy(json_object_get(g, "matchers"));
		combine = fl_json_str(g, "combine", "AND");
		if (strcasecmp(combine, "AND") && strcasecmp(combine, "OR")) {
			rerr(err, errlen, "%s['%s']: combine must be AND or OR, not '%s'", where,
			     key, combine);
			json_decref(matchers);
			return NULL;
		}
	} else if (json_is_object(g)) {
		matchers = json_pack("[O]", g);
	} else {
		rerr(err, errlen, "%s['%s']: a rule must be an object", where, key);
		return NULL;
	}
	size_t i;
	json_t *m;
	json_array_foreach(matchers, i, m) {
		if (check_matcher(m, where, key, err, errlen)) {
			json_decref(matchers);
			return NULL;
		}
	}
	return json_pack("{s:s,s:o}", "combine", strcasecmp(combine, "OR") ? "AND" : "OR",
			 "matchers", matchers);
}

static int add_keyed(json_t *out, const char *cat, const char *key, const json_t *g,
		     const char *where, char *err, size_t errlen)
{
	json_t *c = json_object_get(out, cat);
	if (!c) {
		c = json_object();
		json_object_set_new(out, cat, c);
	}
	if (!strcmp(cat, "body")) {
		char perr[200];
		if (fl_path_check(key, perr, sizeof(perr)))
			return rerr(err, errlen, "%s: %s", where, perr);
	}
	json_t *ng = norm_group(g, where, key, err, errlen);
	if (!ng)
		return FL_EINVAL;
	json_object_set_new(c, key, ng);
	return 0;
}

json_t *fl_pact_rules_normalise(const json_t *rules, const char *where, char *err, size_t errlen)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	if (!rules || json_is_null(rules))
		return out;
	if (!json_is_object(rules)) {
		rerr(err, errlen, "%s: matchingRules must be an object", where);
		goto bad;
	}
	json_object_foreach((json_t *)rules, k, v) {
		if (k[0] == '$') {
			/* V2: "$.body.x", "$.headers.X", "$.query.x", "$.path", "$.status" */
			const char *rest = k + 1;
			if (!strncmp(rest, ".body", 5) &&
			    (rest[5] == '\0' || rest[5] == '.' || rest[5] == '[')) {
				char key[512];
				snprintf(key, sizeof(key), "$%s", rest + 5);
				if (add_keyed(out, "body", key, v, where, err, errlen))
					goto bad;
			} else if (!strncmp(rest, ".headers.", 9) ||
				   !strncmp(rest, ".header.", 8)) {
				const char *name = strchr(rest + 1, '.') + 1;
				if (!strncmp(name, "['", 2)) {
					char nm[256];
					snprintf(nm, sizeof(nm), "%s", name + 2);
					nm[strcspn(nm, "'")] = '\0';
					if (add_keyed(out, "header", nm, v, where, err, errlen))
						goto bad;
				} else if (add_keyed(out, "header", name, v, where, err, errlen)) {
					goto bad;
				}
			} else if (!strncmp(rest, ".query.", 7)) {
				if (add_keyed(out, "query", rest + 7, v, where, err, errlen))
					goto bad;
			} else if (!strcmp(rest, ".path") || !strcmp(rest, ".status")) {
				json_t *ng = norm_group(v, where, k, err, errlen);
				if (!ng)
					goto bad;
				json_object_set_new(out, rest + 1, ng);
			} else {
				rerr(err, errlen, "%s: unknown matching rule path '%s'", where, k);
				goto bad;
			}
			continue;
		}
		const char *cat = k;
		if (!strcmp(k, "content"))
			cat = "body";
		else if (!strcmp(k, "headers"))
			cat = "header";
		if (!strcmp(cat, "path") || !strcmp(cat, "status")) {
			const json_t *g = v;
			if (json_is_object(v) && !json_object_get(v, "matchers") &&
			    json_object_size(v) == 1)
				g = json_object_iter_value(json_object_iter((json_t *)v));
			json_t *ng = norm_group(g, where, cat, err, errlen);
			if (!ng)
				goto bad;
			json_object_set_new(out, cat, ng);
			continue;
		}
		if (strcmp(cat, "body") && strcmp(cat, "header") && strcmp(cat, "query") &&
		    strcmp(cat, "metadata")) {
			rerr(err, errlen, "%s: unknown matching rule category '%s'", where, k);
			goto bad;
		}
		if (!json_is_object(v)) {
			rerr(err, errlen, "%s.%s: must be an object", where, k);
			goto bad;
		}
		const char *kk;
		json_t *g;
		char w[300];
		snprintf(w, sizeof(w), "%s.%s", where, k);
		json_object_foreach(v, kk, g) {
			if (add_keyed(out, cat, kk, g, w, err, errlen))
				goto bad;
		}
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

/* --- parts ---------------------------------------------------------------- */

static int read_multimap(const json_t *v, json_t *out, const char *where, const char *what,
			 char *err, size_t errlen)
{
	const char *k;
	json_t *x;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return rerr(err, errlen, "%s.%s: must be an object", where, what);
	json_object_foreach((json_t *)v, k, x) {
		if (json_is_string(x)) {
			fl_pact_multimap_add(out, k, json_string_value(x));
		} else if (json_is_array(x)) {
			size_t i;
			json_t *y;
			json_array_foreach(x, i, y) {
				if (json_is_string(y)) {
					fl_pact_multimap_add(out, k, json_string_value(y));
				} else {
					char *s = fl_json_dumps(y);
					fl_pact_multimap_add(out, k, s ? s : "");
					free(s);
				}
			}
		} else if (json_is_number(x) || json_is_boolean(x)) {
			char *s = fl_json_dumps(x);
			fl_pact_multimap_add(out, k, s ? s : "");
			free(s);
		} else {
			return rerr(err, errlen,
				    "%s.%s['%s']: values must be strings or lists of strings",
				    where, what, k);
		}
	}
	return 0;
}

static int read_rules_gens(const json_t *v, const char *where, json_t **rules, json_t **gens,
			   char *err, size_t errlen)
{
	char w[300];
	snprintf(w, sizeof(w), "%s.matchingRules", where);
	json_t *r = fl_pact_rules_normalise(json_object_get(v, "matchingRules"), w, err, errlen);
	if (!r)
		return FL_EINVAL;
	json_decref(*rules);
	*rules = r;
	json_t *g = json_object_get(v, "generators");
	if (g && !json_is_object(g))
		return rerr(err, errlen, "%s.generators: must be an object", where);
	if (g) {
		json_decref(*gens);
		*gens = json_deep_copy(g);
		if (json_object_get(*gens, "content") && !json_object_get(*gens, "body")) {
			json_object_set(*gens, "body", json_object_get(*gens, "content"));
			json_object_del(*gens, "content");
		}
	}
	return 0;
}

int fl_pact_request_read(const json_t *v, int version, const char *where,
			 struct fl_pact_request *out, json_t *warnings, char *err, size_t errlen)
{
	static const char *const known[] = { "method", "path",		"query",      "headers",
					     "body",   "matchingRules", "generators", NULL };
	fl_pact_request_init(out);
	if (!json_is_object(v))
		return rerr(err, errlen, "%s: must be an object", where);
	warn_unknown(v, known, where, warnings);
	json_t *m = json_object_get(v, "method"), *p = json_object_get(v, "path");
	if (m && !json_is_string(m))
		return rerr(err, errlen, "%s.method: must be a string", where);
	if (p && !json_is_string(p))
		return rerr(err, errlen, "%s.path: must be a string", where);
	out->method = strdup(m ? json_string_value(m) : "GET");
	out->path = strdup(p ? json_string_value(p) : "/");
	json_t *q = json_object_get(v, "query");
	if (json_is_string(q)) {
		json_decref(out->query);
		out->query = fl_pact_query_parse(json_string_value(q));
	} else if (read_multimap(q, out->query, where, "query", err, errlen)) {
		return FL_EINVAL;
	}
	if (read_multimap(json_object_get(v, "headers"), out->headers, where, "headers", err,
			  errlen))
		return FL_EINVAL;
	fl_pact_body_read(&out->body, json_object_get(v, "body"),
			  json_object_get(v, "body") != NULL, version);
	return read_rules_gens(v, where, &out->rules, &out->generators, err, errlen);
}

int fl_pact_response_read(const json_t *v, int version, const char *where,
			  struct fl_pact_response *out, json_t *warnings, char *err, size_t errlen)
{
	static const char *const known[] = { "status",	      "headers",    "body",
					     "matchingRules", "generators", NULL };
	fl_pact_response_init(out);
	if (!json_is_object(v))
		return rerr(err, errlen, "%s: must be an object", where);
	warn_unknown(v, known, where, warnings);
	json_t *s = json_object_get(v, "status");
	if (json_is_integer(s))
		out->status = (int)json_integer_value(s);
	else if (json_is_string(s) && atoi(json_string_value(s)) > 0)
		out->status = atoi(json_string_value(s));
	else if (s)
		return rerr(err, errlen, "%s.status: must be an integer", where);
	if (out->status < 100 || out->status > 999)
		return rerr(err, errlen, "%s.status: %d is not an HTTP status", where, out->status);
	if (read_multimap(json_object_get(v, "headers"), out->headers, where, "headers", err,
			  errlen))
		return FL_EINVAL;
	fl_pact_body_read(&out->body, json_object_get(v, "body"),
			  json_object_get(v, "body") != NULL, version);
	return read_rules_gens(v, where, &out->rules, &out->generators, err, errlen);
}

int fl_pact_message_read(const json_t *v, int version, const char *where,
			 struct fl_pact_message *out, json_t *warnings, char *err, size_t errlen)
{
	fl_pact_message_init(out);
	if (!json_is_object(v))
		return rerr(err, errlen, "%s: must be an object", where);
	(void)warnings;
	json_t *meta = json_object_get(v, "metadata");
	if (!meta)
		meta = json_object_get(v, "metaData");
	if (meta && !json_is_null(meta)) {
		if (!json_is_object(meta))
			return rerr(err, errlen, "%s.metadata: must be an object", where);
		json_object_update(out->metadata, meta);
	}
	json_t *c = json_object_get(v, "contents");
	fl_pact_body_read(&out->contents, c, c != NULL, version);
	return read_rules_gens(v, where, &out->rules, &out->generators, err, errlen);
}

/* --- documents ------------------------------------------------------------- */

static int spec_version(const json_t *doc)
{
	json_t *md = json_object_get(doc, "metadata");
	const char *ver = NULL;
	json_t *ps = json_object_get(md, "pactSpecification");
	if (!ps)
		ps = json_object_get(md, "pact-specification");
	if (json_is_object(ps))
		ver = fl_json_str(ps, "version", NULL);
	if (!ver)
		ver = fl_json_str(md, "pactSpecificationVersion", NULL);
	if (ver) {
		int v = atoi(ver[0] == 'v' || ver[0] == 'V' ? ver + 1 : ver);
		if (v >= 1 && v <= 4)
			return v < 2 ? 2 : v;
	}
	return 0;
}

static int read_states(const json_t *it, struct fl_pact_interaction *x, const char *where,
		       char *err, size_t errlen)
{
	json_t *ps = json_object_get(it, "providerStates");
	json_t *one = json_object_get(it, "providerState");
	if (json_is_string(one) && json_string_length(one))
		json_array_append_new(x->states, json_pack("{s:s,s:{}}", "name",
							   json_string_value(one), "params"));
	if (!ps || json_is_null(ps))
		return 0;
	if (!json_is_array(ps))
		return rerr(err, errlen, "%s.providerStates: must be an array", where);
	size_t i;
	json_t *s;
	json_array_foreach(ps, i, s) {
		const char *name = fl_json_str(s, "name", NULL);
		if (!name)
			return rerr(err, errlen, "%s.providerStates[%zu]: needs a \"name\"", where,
				    i);
		json_t *params = json_object_get(s, "params");
		json_array_append_new(x->states,
				      json_pack("{s:s,s:o}", "name", name, "params",
						json_is_object(params) ? json_deep_copy(params)
								       : json_object()));
	}
	return 0;
}

static int read_interaction(struct fl_pact *p, const json_t *it, int version, const char *where,
			    bool message_array, char *err, size_t errlen)
{
	static const char *const known[] = { "description",
					     "providerState",
					     "providerStates",
					     "request",
					     "response",
					     "type",
					     "key",
					     "pending",
					     "comments",
					     "contents",
					     "metaData",
					     "metadata",
					     "matchingRules",
					     "generators",
					     "pluginConfiguration",
					     "interactionMarkup",
					     "transport",
					     "_id",
					     NULL };
	if (!json_is_object(it))
		return rerr(err, errlen, "%s: must be an object", where);
	struct fl_pact_interaction *x = fl_pact_add_interaction(p);
	if (!x)
		return rerr(err, errlen, "%s: out of memory", where);
	warn_unknown(it, known, where, p->warnings);
	const char *desc = fl_json_str(it, "description", NULL);
	if (!desc) {
		char w[300];
		snprintf(w, sizeof(w), "%s: no description", where);
		json_array_append_new(p->warnings, json_string(w));
	}
	x->description = strdup(desc ? desc : "");
	const char *key = fl_json_str(it, "key", NULL);
	x->key = key ? strdup(key) : NULL;
	x->pending = fl_json_bool(it, "pending", false);
	json_t *cm = json_object_get(it, "comments");
	x->comments = json_is_object(cm) ? json_deep_copy(cm) : NULL;
	if (read_states(it, x, where, err, errlen))
		return FL_EINVAL;
	const char *type = fl_json_str(it, "type", NULL);
	bool is_msg = message_array || (type && strstr(type, "Messages")) ||
		      (!type && !json_object_get(it, "request") && json_object_get(it, "contents"));
	char w[300];
	if (is_msg) {
		x->kind = FL_PACT_MESSAGE;
		fl_pact_message_clear(&x->message);
		const json_t *src = it;
		if (type && !strcmp(type, "Synchronous/Messages")) {
			/* the provider's part is the (first) response message */
			json_t *resp = json_object_get(it, "response");
			if (json_is_array(resp))
				resp = json_array_get(resp, 0);
			if (json_is_object(resp))
				src = resp;
			json_array_append_new(
				p->warnings,
				json_sprintf("%s: synchronous message: its first response is "
					     "verified, the request is not sent",
					     where));
		}
		return fl_pact_message_read(src, version, where, &x->message, p->warnings, err,
					    errlen);
	}
	if (type && strcmp(type, "Synchronous/HTTP"))
		return rerr(err, errlen, "%s: unknown interaction type '%s'", where, type);
	snprintf(w, sizeof(w), "%s.request", where);
	fl_pact_request_clear(&x->request);
	if (fl_pact_request_read(json_object_get(it, "request"), version, w, &x->request,
				 p->warnings, err, errlen))
		return FL_EINVAL;
	snprintf(w, sizeof(w), "%s.response", where);
	fl_pact_response_clear(&x->response);
	return fl_pact_response_read(json_object_get(it, "response"), version, w, &x->response,
				     p->warnings, err, errlen);
}

struct fl_pact *fl_pact_from_json(const json_t *doc, const char *source, char *err, size_t errlen)
{
	static const char *const known[] = { "consumer", "provider", "interactions",
					     "messages", "metadata", NULL };
	const char *src = source ? source : "pact";
	if (!json_is_object(doc)) {
		rerr(err, errlen, "%s: a pact must be a JSON object", src);
		return NULL;
	}
	const char *consumer = fl_json_str(json_object_get(doc, "consumer"), "name", NULL);
	const char *provider = fl_json_str(json_object_get(doc, "provider"), "name", NULL);
	struct fl_pact *p =
		fl_pact_new(consumer ? consumer : "consumer", provider ? provider : "provider");
	if (!p) {
		rerr(err, errlen, "%s: out of memory", src);
		return NULL;
	}
	if (source)
		p->source = strdup(source);
	if (!consumer)
		json_array_append_new(p->warnings, json_string("consumer.name missing"));
	if (!provider)
		json_array_append_new(p->warnings, json_string("provider.name missing"));
	warn_unknown(doc, known, "pact", p->warnings);
	json_t *md = json_object_get(doc, "metadata");
	if (json_is_object(md))
		json_object_update(p->metadata, md);
	int version = spec_version(doc);
	json_t *its = json_object_get(doc, "interactions");
	json_t *msgs = json_object_get(doc, "messages");
	if (!version) {
		version = 3;
		size_t i;
		json_t *x;
		json_array_foreach(its, i, x)
			if (json_object_get(x, "type"))
				version = 4;
		json_array_append_new(
			p->warnings,
			json_sprintf("no pactSpecification version in metadata; read as V%d",
				     version));
	}
	p->spec_major = version;
	if (its && !json_is_array(its)) {
		rerr(err, errlen, "%s: \"interactions\" must be an array", src);
		goto bad;
	}
	if (msgs && !json_is_array(msgs)) {
		rerr(err, errlen, "%s: \"messages\" must be an array", src);
		goto bad;
	}
	char inner[512];
	for (int pass = 0; pass < 2; pass++) {
		json_t *arr = pass ? msgs : its;
		size_t i;
		json_t *it;
		json_array_foreach(arr, i, it) {
			char where[64];
			snprintf(where, sizeof(where), "%s[%zu]",
				 pass ? "messages" : "interactions", i);
			if (read_interaction(p, it, version, where, pass == 1, inner,
					     sizeof(inner))) {
				rerr(err, errlen, "%s: %s", src, inner);
				goto bad;
			}
		}
	}
	return p;
bad:
	fl_pact_free(p);
	return NULL;
}

struct fl_pact *fl_pact_load(const char *path, char *err, size_t errlen)
{
	char jerr[512];
	json_t *doc = fl_json_load_file(path, jerr, sizeof(jerr));
	if (!doc) {
		rerr(err, errlen, "%s", jerr);
		return NULL;
	}
	struct fl_pact *p = fl_pact_from_json(doc, path, err, errlen);
	json_decref(doc);
	return p;
}
