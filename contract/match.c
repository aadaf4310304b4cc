/* Matching requests, responses and messages: method, path, query, headers,
 * status, metadata, and the choice of body comparer by content type. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/match_int.h"
#include "core/buf.h"
#include "core/json.h"

/* --- mismatch lists ----------------------------------------------------- */

void fl_pact_mismatch_add(struct fl_pact_mismatches *m, const char *kind, const char *path,
			  const char *expected, const char *actual, const char *fmt, ...)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct fl_pact_mismatch *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return;
		m->v = v;
		m->cap = cap;
	}
	struct fl_pact_mismatch *x = &m->v[m->n++];
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->kind = strdup(kind ? kind : "body");
	x->path = path ? strdup(path) : NULL;
	x->expected = expected ? strdup(expected) : NULL;
	x->actual = actual ? strdup(actual) : NULL;
	x->message = strdup(msg);
}

void fl_mctx_vmismatch(struct fl_mctx *c, const struct fl_mpath *p, const char *e, const char *a,
		       const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	char *path = fl_mpath_render(p, c->prefix);
	fl_pact_mismatch_add(c->out, c->kind, path, e, a, "%s", msg);
	free(path);
}

void fl_pact_mismatches_clear(struct fl_pact_mismatches *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].kind);
		free(m->v[i].path);
		free(m->v[i].expected);
		free(m->v[i].actual);
		free(m->v[i].message);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

char *fl_pact_mismatches_text(const struct fl_pact_mismatches *m)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	for (size_t i = 0; i < m->n; i++)
		fl_buf_printf(&b, "  - %s: %s\n", m->v[i].path ? m->v[i].path : m->v[i].kind,
			      m->v[i].message);
	return fl_buf_take(&b, NULL);
}

json_t *fl_pact_mismatches_json(const struct fl_pact_mismatches *m)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < m->n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(m->v[i].kind));
		if (m->v[i].path)
			json_object_set_new(o, "path", json_string(m->v[i].path));
		if (m->v[i].expected)
			json_object_set_new(o, "expected", json_string(m->v[i].expected));
		if (m->v[i].actual)
			json_object_set_new(o, "actual", json_string(m->v[i].actual));
		json_object_set_new(o, "message", json_string(m->v[i].message));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* --- helpers ------------------------------------------------------------- */

static void base_type(const char *ct, char *out, size_t n)
{
	size_t k = strcspn(ct, ";");
	while (k && isspace((unsigned char)ct[k - 1]))
		k--;
	while (k && isspace((unsigned char)*ct)) {
		ct++;
		k--;
	}
	if (k >= n)
		k = n - 1;
	for (size_t i = 0; i < k; i++)
		out[i] = (char)tolower((unsigned char)ct[i]);
	out[k] = '\0';
}

/* Values of a multimap entry joined with ", " (malloc'd), or NULL when absent. */
static char *joined(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!json_is_array(v))
		return v ? fl_json_dumps(v) : NULL;
	struct fl_buf b;
	fl_buf_init(&b, 0);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		if (i)
			fl_buf_puts(&b, ", ");
		if (json_is_string(x))
			fl_buf_puts(&b, json_string_value(x));
		else
			fl_json_append(&b, x);
	}
	return fl_buf_take(&b, NULL);
}

static const json_t *header_lookup(const json_t *headers, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)headers, k, v)
		if (!strcasecmp(k, name))
			return v;
	return NULL;
}

static void strip_ws_after_commas(const char *s, struct fl_buf *out)
{
	for (; *s; s++) {
		fl_buf_append(out, s, 1);
		if (*s == ',')
			while (isspace((unsigned char)s[1]))
				s++;
	}
	if (!out->data)
		fl_buf_puts(out, "");
}

/* "type/sub; a=1; b=2": the base compared case-insensitively, every expected
 * parameter present in the actual with a value equal ignoring case. */
static bool params_match(const char *e, const char *a, bool base_nocase)
{
	char eb[256], ab[256];
	struct fl_buf x, y;
	fl_buf_init(&x, 0);
	fl_buf_init(&y, 0);
	strip_ws_after_commas(e, &x);
	strip_ws_after_commas(a, &y);
	size_t en = strcspn(x.data, ";"), an = strcspn(y.data, ";");
	snprintf(eb, sizeof(eb), "%.*s", (int)en, x.data);
	snprintf(ab, sizeof(ab), "%.*s", (int)an, y.data);
	fl_buf_free(&x);
	fl_buf_free(&y);
	for (char *z = eb + strlen(eb); z > eb && isspace((unsigned char)z[-1]);)
		*--z = '\0';
	for (char *z = ab + strlen(ab); z > ab && isspace((unsigned char)z[-1]);)
		*--z = '\0';
	if (base_nocase ? strcasecmp(eb, ab) : strcmp(eb, ab))
		return false;
	const char *p = strchr(e, ';');
	while (p) {
		p++;
		size_t n = strcspn(p, ";");
		char param[256];
		snprintf(param, sizeof(param), "%.*s", (int)n, p);
		char *eq = strchr(param, '=');
		if (eq) {
			*eq = '\0';
			char *k = param, *v = eq + 1;
			while (isspace((unsigned char)*k))
				k++;
			for (char *z = k + strlen(k); z > k && isspace((unsigned char)z[-1]);)
				*--z = '\0';
			while (isspace((unsigned char)*v))
				v++;
			for (char *z = v + strlen(v); z > v && isspace((unsigned char)z[-1]);)
				*--z = '\0';
			/* find k in the actual */
			bool found = false;
			const char *q = strchr(a, ';');
			while (q && !found) {
				q++;
				size_t m = strcspn(q, ";");
				char ap[256];
				snprintf(ap, sizeof(ap), "%.*s", (int)m, q);
				char *aeq = strchr(ap, '=');
				if (aeq) {
					*aeq = '\0';
					char *ak = ap, *av = aeq + 1;
					while (isspace((unsigned char)*ak))
						ak++;
					for (char *z = ak + strlen(ak);
					     z > ak && isspace((unsigned char)z[-1]);)
						*--z = '\0';
					while (isspace((unsigned char)*av))
						av++;
					for (char *z = av + strlen(av);
					     z > av && isspace((unsigned char)z[-1]);)
						*--z = '\0';
					if (!strcasecmp(ak, k)) {
						if (strcasecmp(av, v))
							return false;
						found = true;
					}
				}
				q = strchr(q, ';');
			}
			if (!found)
				return false;
		}
		p = strchr(p, ';');
	}
	return true;
}

static void match_headers(const json_t *eh, const json_t *ah, const json_t *rules,
			  struct fl_pact_mismatches *out)
{
	const char *k;
	json_t *v;
	const json_t *cat = json_object_get(rules, "header");
	json_object_foreach((json_t *)eh, k, v) {
		char path[300], msg[512];
		snprintf(path, sizeof(path), "$.header.%s", k);
		char *e = joined(v);
		char *a = joined(header_lookup(ah, k));
		if (!e) {
			free(a);
			continue;
		}
		const json_t *g = fl_rules_keyed(cat, k, true);
		if (!a) {
			fl_pact_mismatch_add(out, "header", path, e, NULL,
					     "Expected a header '%s' but was missing", k);
		} else if (g) {
			json_t *je = json_string(e), *ja = json_string(a);
			if (fl_match_group(g, false, je, ja, true, msg, sizeof(msg)))
				fl_pact_mismatch_add(out, "header", path, e, a, "header '%s': %s",
						     k, msg);
			json_decref(je);
			json_decref(ja);
		} else if (!strcasecmp(k, "Content-Type") || !strcasecmp(k, "Accept")) {
			if (!params_match(e, a, !strcasecmp(k, "Content-Type")))
				fl_pact_mismatch_add(
					out, "header", path, e, a,
					"Expected header '%s' to have value '%s' but was '%s'", k,
					e, a);
		} else {
			struct fl_buf x, y;
			fl_buf_init(&x, 0);
			fl_buf_init(&y, 0);
			strip_ws_after_commas(e, &x);
			strip_ws_after_commas(a, &y);
			if (strcmp(x.data, y.data))
				fl_pact_mismatch_add(
					out, "header", path, e, a,
					"Expected header '%s' to have value '%s' but was '%s'", k,
					e, a);
			fl_buf_free(&x);
			fl_buf_free(&y);
		}
		free(e);
		free(a);
	}
}

static void match_query(const json_t *eq, const json_t *aq, const json_t *rules,
			struct fl_pact_mismatches *out)
{
	const char *k;
	json_t *v;
	const json_t *cat = json_object_get(rules, "query");
	json_object_foreach((json_t *)eq, k, v) {
		char path[300], msg[512];
		snprintf(path, sizeof(path), "$.query.%s", k);
		json_t *av = json_object_get(aq, k);
		char *se = joined(v);
		if (!av) {
			fl_pact_mismatch_add(out, "query", path, se, NULL,
					     "Expected query parameter '%s' but was missing", k);
			free(se);
			continue;
		}
		char *sa = joined(av);
		const json_t *g = fl_rules_keyed(cat, k, false);
		size_t ne = json_array_size(v), na = json_array_size(av);
		if (g) {
			for (size_t i = 0; i < na; i++) {
				const json_t *e1 = json_array_get(v, i < ne ? i : 0);
				if (fl_match_group(g, false, e1, json_array_get(av, i), true, msg,
						   sizeof(msg))) {
					fl_pact_mismatch_add(out, "query", path, se, sa,
							     "query parameter '%s': %s", k, msg);
					break;
				}
			}
		} else if (ne != na || !json_equal(v, av)) {
			fl_pact_mismatch_add(
				out, "query", path, se, sa,
				"Expected query parameter '%s' to be [%s] but was [%s]", k, se, sa);
		}
		free(se);
		free(sa);
	}
	json_object_foreach((json_t *)aq, k, v) {
		if (json_object_get(eq, k))
			continue;
		char path[300];
		snprintf(path, sizeof(path), "$.query.%s", k);
		char *sa = joined(v);
		fl_pact_mismatch_add(out, "query", path, NULL, sa,
				     "Unexpected query parameter '%s' received", k);
		free(sa);
	}
}

/* --- bodies -------------------------------------------------------------- */

static char *body_text(const struct fl_pact_body *b)
{
	if (!b->value)
		return strdup("");
	if (json_is_string(b->value))
		return strdup(json_string_value(b->value));
	return fl_json_dumps(b->value);
}

void fl_match_body(const struct fl_pact_body *e, const json_t *e_headers,
		   const struct fl_pact_body *a, const json_t *a_headers, const json_t *rules,
		   bool allow_unexpected, const char *prefix, struct fl_pact_mismatches *out)
{
	char ebase[128], abase[128];
	if (e->state == FL_PACT_BODY_MISSING)
		return;
	base_type(fl_pact_body_content_type(e, e_headers), ebase, sizeof(ebase));
	base_type(fl_pact_body_content_type(a, a_headers), abase, sizeof(abase));
	struct fl_mctx c = { .rules = rules,
			     .allow_unexpected = allow_unexpected,
			     .prefix = prefix,
			     .kind = "body",
			     .out = out };
	struct fl_mpath root = { .n = 1 };
	root.seg[0] = "$";
	if (strcmp(ebase, abase)) {
		if (e->state == FL_PACT_BODY_NULL || e->state == FL_PACT_BODY_EMPTY)
			return;
		fl_pact_mismatch_add(out, "body-type", prefix, ebase, abase,
				     "Expected a body of type '%s' but received '%s'", ebase,
				     abase);
		return;
	}
	if (e->state == FL_PACT_BODY_NULL) {
		if (a->state == FL_PACT_BODY_PRESENT) {
			char *sa = body_text(a);
			fl_pact_mismatch_add(out, "body", prefix, NULL, sa,
					     "Expected an empty body but received '%.200s'", sa);
			free(sa);
		}
		return;
	}
	if (e->state == FL_PACT_BODY_EMPTY) {
		if (a->state == FL_PACT_BODY_PRESENT) {
			char *sa = body_text(a);
			fl_pact_mismatch_add(out, "body", prefix, "", sa,
					     "Expected an empty body but received '%.200s'", sa);
			free(sa);
		}
		return;
	}
	if (a->state != FL_PACT_BODY_PRESENT) {
		char *se = body_text(e);
		fl_pact_mismatch_add(out, "body", prefix, se, NULL,
				     "Expected body '%.200s' but it was %s", se,
				     a->state == FL_PACT_BODY_EMPTY ? "empty" : "missing");
		free(se);
		return;
	}
	if (fl_contract_ct_is_json(ebase) && !e->encoded) {
		fl_match_json(&c, &root, e->value, a->value);
		return;
	}
	char *se = body_text(e), *sa = body_text(a);
	if (fl_contract_ct_is_xml(ebase) && !e->encoded) {
		fl_match_xml(&c, se, sa);
	} else {
		bool casc;
		const json_t *g = fl_rules_best(rules, &root, &casc);
		char msg[512];
		if (g && !e->encoded) {
			if (fl_match_group(g, casc, e->value, a->value, true, msg, sizeof(msg)))
				fl_pact_mismatch_add(out, "body", prefix, se, sa, "%s", msg);
		} else if (strcmp(se, sa)) {
			fl_pact_mismatch_add(
				out, "body", prefix, se, sa,
				"Actual body '%.200s' is not equal to the expected body '%.200s'",
				sa, se);
		}
	}
	free(se);
	free(sa);
}

/* --- requests, responses, messages ----------------------------------------------- */

size_t fl_pact_match_request(const struct fl_pact_request *e, const struct fl_pact_request *a,
			     struct fl_pact_mismatches *out)
{
	size_t before = out->n;
	char msg[512];
	const char *em = e->method ? e->method : "GET", *am = a->method ? a->method : "GET";
	if (strcasecmp(em, am))
		fl_pact_mismatch_add(out, "method", "$.method", em, am,
				     "Expected method %s but received %s", em, am);
	const char *ep = e->path ? e->path : "/", *ap = a->path ? a->path : "";
	const json_t *pg = json_object_get(e->rules, "path");
	if (pg && fl_rules_matchers(pg)) {
		json_t *je = json_string(ep), *ja = json_string(ap);
		if (fl_match_group(pg, false, je, ja, true, msg, sizeof(msg)))
			fl_pact_mismatch_add(out, "path", "$.path", ep, ap, "path: %s", msg);
		json_decref(je);
		json_decref(ja);
	} else if (strcmp(ep, ap)) {
		fl_pact_mismatch_add(out, "path", "$.path", ep, ap,
				     "Expected path '%s' but received '%s'", ep, ap);
	}
	match_query(e->query, a->query, e->rules, out);
	match_headers(e->headers, a->headers, e->rules, out);
	fl_match_body(&e->body, e->headers, &a->body, a->headers, json_object_get(e->rules, "body"),
		      false, "$.body", out);
	return out->n - before;
}

size_t fl_pact_match_response(const struct fl_pact_response *e, const struct fl_pact_response *a,
			      struct fl_pact_mismatches *out)
{
	size_t before = out->n;
	char msg[512], es[16], as[16];
	snprintf(es, sizeof(es), "%d", e->status);
	snprintf(as, sizeof(as), "%d", a->status);
	const json_t *sg = json_object_get(e->rules, "status");
	if (sg && fl_rules_matchers(sg)) {
		json_t *je = json_integer(e->status), *ja = json_integer(a->status);
		if (fl_match_group(sg, false, je, ja, false, msg, sizeof(msg)))
			fl_pact_mismatch_add(out, "status", "$.status", es, as, "status: %s", msg);
		json_decref(je);
		json_decref(ja);
	} else if (e->status != a->status) {
		fl_pact_mismatch_add(out, "status", "$.status", es, as,
				     "Expected status %d but received %d", e->status, a->status);
	}
	match_headers(e->headers, a->headers, e->rules, out);
	fl_match_body(&e->body, e->headers, &a->body, a->headers, json_object_get(e->rules, "body"),
		      true, "$.body", out);
	return out->n - before;
}

static json_t *meta_headers(const json_t *meta)
{
	json_t *h = json_object();
	const char *ct = fl_json_str(meta, "contentType", NULL);
	if (!ct)
		ct = fl_json_str(meta, "content-type", NULL);
	if (!ct)
		ct = fl_json_str(meta, "Content-Type", NULL);
	if (ct)
		fl_pact_multimap_add(h, "Content-Type", ct);
	return h;
}

static bool is_ct_key(const char *k)
{
	return !strcasecmp(k, "contentType") || !strcasecmp(k, "content-type");
}

size_t fl_pact_match_message(const struct fl_pact_message *e, const struct fl_pact_message *a,
			     struct fl_pact_mismatches *out)
{
	size_t before = out->n;
	json_t *eh = meta_headers(e->metadata), *ah = meta_headers(a->metadata);
	fl_match_body(&e->contents, eh, &a->contents, ah, json_object_get(e->rules, "body"), true,
		      "$.contents", out);
	json_decref(eh);
	json_decref(ah);
	const json_t *cat = json_object_get(e->rules, "metadata");
	const char *k;
	json_t *v;
	json_object_foreach(e->metadata, k, v) {
		char path[300], msg[512];
		snprintf(path, sizeof(path), "$.metadata.%s", k);
		json_t *av = json_object_get(a->metadata, k);
		char *se = fl_match_show(v);
		if (!av) {
			if (!is_ct_key(k))
				fl_pact_mismatch_add(out, "metadata", path, se, NULL,
						     "Expected metadata '%s' but was missing", k);
		} else {
			const json_t *g = fl_rules_keyed(cat, k, false);
			char *sa = fl_match_show(av);
			if (g) {
				if (fl_match_group(g, false, v, av, false, msg, sizeof(msg)))
					fl_pact_mismatch_add(out, "metadata", path, se, sa,
							     "metadata '%s': %s", k, msg);
			} else if (is_ct_key(k) && json_is_string(v) && json_is_string(av)) {
				if (!params_match(json_string_value(v), json_string_value(av),
						  true))
					fl_pact_mismatch_add(
						out, "metadata", path, se, sa,
						"Expected metadata '%s' to be %s but was %s", k, se,
						sa);
			} else if (!fl_json_equal_num(v, av)) {
				fl_pact_mismatch_add(out, "metadata", path, se, sa,
						     "Expected metadata '%s' to be %s but was %s",
						     k, se, sa);
			}
			free(sa);
		}
		free(se);
	}
	return out->n - before;
}
