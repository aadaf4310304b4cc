/* XML bodies, compared the way the Pact implementations do: elements by
 * namespace-qualified name, attributes by qualified name (values as text),
 * children grouped by name (order kept within a name, free between names),
 * the text inside an element as "#text". Paths: "$.animals.alligator['@name']",
 * "$.myDates.date['#text']". A type rule written for exactly a child's path
 * makes every actual child of that name follow the first expected one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "contract/xml.h"

static void mm(struct fl_mctx *c, const struct fl_mpath *p, const char *e, const char *a,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void mm(struct fl_mctx *c, const struct fl_mpath *p, const char *e, const char *a,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fl_mctx_vmismatch(c, p, e, a, fmt, ap);
	va_end(ap);
}

static bool push(struct fl_mctx *c, struct fl_mpath *p, const char *seg)
{
	if (p->n >= FL_MPATH_MAX) {
		mm(c, p, NULL, NULL, "document nested too deeply to compare");
		return false;
	}
	p->is_index[p->n] = false;
	p->seg[p->n++] = seg;
	return true;
}

static bool same_qname(const char *ns1, const char *l1, const char *ns2, const char *l2)
{
	if ((ns1 == NULL) != (ns2 == NULL))
		return false;
	if (ns1 && strcmp(ns1, ns2))
		return false;
	return !strcmp(l1, l2);
}

static bool same_node(const struct fl_xml_node *a, const struct fl_xml_node *b)
{
	return same_qname(a->ns, a->local, b->ns, b->local);
}

static bool any_type_rule(const json_t *cat, const struct fl_mpath *p)
{
	const char *k;
	json_t *g;
	if (!json_is_object(cat))
		return false;
	json_object_foreach((json_t *)cat, k, g) {
		if (fl_path_weight(k, p, NULL) <= 0)
			continue;
		const json_t *ms = fl_rules_matchers(g);
		size_t i;
		json_t *m;
		json_array_foreach(ms, i, m)
			if (!strcmp(fl_matcher_type(m), "type"))
				return true;
	}
	return false;
}

static size_t nelem(const struct fl_xml_node *n)
{
	return n->nchildren;
}

/* The group's verdict on an element: names for type/equality, child counts
 * for min/max, the text for the value matchers. */
static int element_rule(const json_t *g, bool casc, const struct fl_xml_node *e,
			const struct fl_xml_node *a, char *msg, size_t msglen)
{
	const json_t *ms = fl_rules_matchers(g);
	bool is_or = fl_rules_is_or(g);
	int failed = 0, passed = 0;
	size_t i;
	json_t *m;
	char one[512];
	msg[0] = '\0';
	json_array_foreach(ms, i, m) {
		const char *t = fl_matcher_type(m);
		int r = 0;
		if (!strcmp(t, "type") || !strcmp(t, "equality")) {
			if (!same_node(e, a)) {
				snprintf(one, sizeof(one),
					 "Expected <%s> to be the same type as <%s>", a->name,
					 e->name);
				r = 1;
			} else if (!casc) {
				json_t *jmin = json_object_get(m, "min"),
				       *jmax = json_object_get(m, "max");
				if (json_is_integer(jmin) &&
				    (long long)nelem(a) < json_integer_value(jmin)) {
					snprintf(one, sizeof(one),
						 "Expected <%s> to have at least %lld children",
						 a->name, (long long)json_integer_value(jmin));
					r = 1;
				} else if (json_is_integer(jmax) &&
					   (long long)nelem(a) > json_integer_value(jmax)) {
					snprintf(one, sizeof(one),
						 "Expected <%s> to have at most %lld children",
						 a->name, (long long)json_integer_value(jmax));
					r = 1;
				}
			}
		} else {
			json_t *et = json_string(e->text), *at = json_string(a->text);
			r = fl_match_one(m, casc, et, at, true, one, sizeof(one));
			json_decref(et);
			json_decref(at);
		}
		if (r) {
			if (!failed)
				snprintf(msg, msglen, "%s", one);
			failed++;
		} else {
			passed++;
		}
	}
	return (is_or ? passed > 0 || failed == 0 : failed == 0) ? 0 : 1;
}

static void compare_value(struct fl_mctx *c, struct fl_mpath *p, const char *e, const char *a)
{
	bool casc;
	const json_t *g = fl_rules_best(c->rules, p, &casc);
	char msg[512];
	if (g) {
		json_t *je = json_string(e), *ja = json_string(a);
		int r = fl_match_group(g, casc, je, ja, true, msg, sizeof(msg));
		json_decref(je);
		json_decref(ja);
		if (r)
			mm(c, p, e, a, "%s", msg);
		return;
	}
	if (strcmp(e, a))
		mm(c, p, e, a, "Expected '%s' but received '%s'", e, a);
}

static void compare_element(struct fl_mctx *c, struct fl_mpath *p, const struct fl_xml_node *e,
			    const struct fl_xml_node *a);

static void compare_attributes(struct fl_mctx *c, struct fl_mpath *p, const struct fl_xml_node *e,
			       const struct fl_xml_node *a)
{
	if (e->nattrs == 0 && a->nattrs && !c->allow_unexpected) {
		mm(c, p, NULL, NULL, "Did not expect any attributes but received %zu", a->nattrs);
		return;
	}
	if (!c->allow_unexpected && e->nattrs != a->nattrs)
		mm(c, p, NULL, NULL, "Expected %zu attribute(s) but received %zu", e->nattrs,
		   a->nattrs);
	for (size_t i = 0; i < e->nattrs; i++) {
		const struct fl_xml_attr *ea = &e->attrs[i], *aa = NULL;
		for (size_t j = 0; j < a->nattrs && !aa; j++)
			if (same_qname(ea->ns, ea->local, a->attrs[j].ns, a->attrs[j].local))
				aa = &a->attrs[j];
		char seg[256];
		snprintf(seg, sizeof(seg), "@%s", ea->name);
		if (!push(c, p, seg))
			return;
		if (aa)
			compare_value(c, p, ea->value, aa->value);
		else
			mm(c, p, ea->value, NULL, "Expected attribute %s='%s' but it was missing",
			   ea->name, ea->value);
		p->n--;
	}
}

static void compare_children(struct fl_mctx *c, struct fl_mpath *p, const struct fl_xml_node *e,
			     const struct fl_xml_node *a)
{
	if (e->nchildren == 0 && a->nchildren && !c->allow_unexpected) {
		mm(c, p, NULL, NULL, "Expected no child elements but received %zu", a->nchildren);
		return;
	}
	size_t ne = e->nchildren, na = a->nchildren;
	bool *edone = calloc(ne + 1, 1), *adone = calloc(na + 1, 1);
	if (!edone || !adone)
		goto out;
	for (size_t i = 0; i < na; i++) {
		if (adone[i])
			continue;
		const struct fl_xml_node *first = a->children[i];
		/* the expected children of this name */
		size_t ei = 0;
		while (ei < ne && !same_node(e->children[ei], first))
			ei++;
		const char *seg = ei < ne ? e->children[ei]->name : first->name;
		if (!push(c, p, seg))
			goto out;
		if (ei == ne) {
			for (size_t j = i; j < na; j++)
				if (same_node(a->children[j], first))
					adone[j] = true;
			if (!c->allow_unexpected || any_type_rule(c->rules, p))
				mm(c, p, NULL, first->name, "Unexpected child <%s/>", first->name);
			p->n--;
			continue;
		}
		bool all_like_first = fl_rules_direct_type(c->rules, p);
		size_t k = ei; /* walks the expected children of the name */
		for (size_t j = i; j < na; j++) {
			if (!same_node(a->children[j], first))
				continue;
			adone[j] = true;
			if (all_like_first) {
				compare_element(c, p, e->children[ei], a->children[j]);
				continue;
			}
			while (k < ne && !same_node(e->children[k], first))
				k++;
			if (k < ne) {
				edone[k] = true;
				compare_element(c, p, e->children[k], a->children[j]);
				k++;
			} else if (!c->allow_unexpected) {
				mm(c, p, NULL, a->children[j]->name, "Unexpected child <%s/>",
				   a->children[j]->name);
			}
		}
		for (size_t q = ei; q < ne; q++) {
			if (!same_node(e->children[q], first))
				continue;
			if (!all_like_first && !edone[q])
				mm(c, p, e->children[q]->name, NULL,
				   "Expected child <%s/> but it was missing", e->children[q]->name);
			edone[q] = true;
		}
		p->n--;
	}
	for (size_t q = 0; q < ne; q++) {
		if (edone[q])
			continue;
		const struct fl_xml_node *x = e->children[q];
		for (size_t r = q; r < ne; r++)
			if (same_node(e->children[r], x))
				edone[r] = true;
		mm(c, p, x->name, NULL, "Expected child <%s/> but it was missing", x->name);
	}
out:
	free(edone);
	free(adone);
}

static void compare_text(struct fl_mctx *c, struct fl_mpath *p, const struct fl_xml_node *e,
			 const struct fl_xml_node *a)
{
	if (!push(c, p, "#text"))
		return;
	compare_value(c, p, e->text, a->text);
	p->n--;
}

static void compare_element(struct fl_mctx *c, struct fl_mpath *p, const struct fl_xml_node *e,
			    const struct fl_xml_node *a)
{
	bool casc;
	const json_t *g = fl_rules_best(c->rules, p, &casc);
	char msg[512];
	if (g) {
		if (element_rule(g, casc, e, a, msg, sizeof(msg))) {
			mm(c, p, e->name, a->name, "%s", msg);
			return;
		}
	} else if (!same_node(e, a)) {
		char en[300], an[300];
		snprintf(en, sizeof(en), "%s%s%s", e->ns ? e->ns : "", e->ns ? ":" : "", e->local);
		snprintf(an, sizeof(an), "%s%s%s", a->ns ? a->ns : "", a->ns ? ":" : "", a->local);
		mm(c, p, en, an, "Expected element <%s> but received <%s>", en, an);
		return;
	}
	compare_attributes(c, p, e, a);
	compare_children(c, p, e, a);
	compare_text(c, p, e, a);
}

void fl_match_xml(struct fl_mctx *c, const char *expected, const char *actual)
{
	char err[256];
	struct fl_mpath p = { .n = 1 };
	p.seg[0] = "$";
	struct fl_xml_node *e = fl_xml_parse(expected, strlen(expected), err, sizeof(err));
	if (!e) {
		mm(c, &p, NULL, NULL, "the expected XML body does not parse: %s", err);
		return;
	}
	struct fl_xml_node *a = fl_xml_parse(actual, strlen(actual), err, sizeof(err));
	if (!a) {
		mm(c, &p, NULL, NULL, "the actual XML body does not parse: %s", err);
		fl_xml_free(e);
		return;
	}
	p.seg[1] = e->name;
	p.is_index[1] = false;
	p.n = 2;
	compare_element(c, &p, e, a);
	fl_xml_free(e);
	fl_xml_free(a);
}
