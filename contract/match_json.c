/* JSON bodies: objects (strict for requests, lenient for responses),
 * arrays (exact unless a rule says otherwise; with a rule the expected
 * first element is the template for every actual element), and the
 * structural matchers values, eachKey, eachValue and arrayContains. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/buf.h"
#include "core/json.h"

static void mm(struct fl_mctx *c, const struct fl_mpath *p, const json_t *e, const json_t *a,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void mm(struct fl_mctx *c, const struct fl_mpath *p, const json_t *e, const json_t *a,
	       const char *fmt, ...)
{
	char *se = e ? fl_match_show(e) : NULL;
	char *sa = a ? fl_match_show(a) : NULL;
	va_list ap;
	va_start(ap, fmt);
	fl_mctx_vmismatch(c, p, se, sa, fmt, ap);
	va_end(ap);
	free(se);
	free(sa);
}

static const char *jt(const json_t *v)
{
	return fl_json_type_name(v);
}

static bool push(struct fl_mctx *c, struct fl_mpath *p, const char *seg, bool idx)
{
	if (p->n >= FL_MPATH_MAX) {
		mm(c, p, NULL, NULL, "document nested too deeply to compare");
		return false;
	}
	p->seg[p->n] = seg;
	p->is_index[p->n] = idx;
	p->n++;
	return true;
}

static bool group_has(const json_t *group, const char *type, const json_t **out)
{
	const json_t *ms = fl_rules_matchers(group);
	size_t i;
	json_t *m;
	if (!ms)
		return false;
	json_array_foreach(ms, i, m) {
		if (!strcmp(fl_matcher_type(m), type)) {
			if (out)
				*out = m;
			return true;
		}
	}
	return false;
}

static void compare(struct fl_mctx *c, struct fl_mpath *p, const json_t *e, const json_t *a);

static void compare_values(struct fl_mctx *c, struct fl_mpath *p, const json_t *e, const json_t *a)
{
	bool casc;
	const json_t *g = fl_rules_best(c->rules, p, &casc);
	char msg[512];
	if (g) {
		if (fl_match_group(g, casc, e, a, false, msg, sizeof(msg)))
			mm(c, p, e, a, "%s", msg);
		return;
	}
	if (fl_json_equal_num(e, a))
		return;
	char *se = fl_match_show(e), *sa = fl_match_show(a);
	mm(c, p, e, a, "Expected %s (%s) but received %s (%s)", se, jt(e), sa, jt(a));
	free(se);
	free(sa);
}

/* A context whose only rule is `rules` (an array of matchers) at path.* */
static json_t *child_rules(const struct fl_mpath *p, const json_t *matcher)
{
	json_t *rules = json_object_get(matcher, "rules");
	char *expr = fl_mpath_render(p, "$");
	json_t *cat = json_object();
	if (expr && cat && json_is_array(rules)) {
		struct fl_buf b;
		fl_buf_init(&b, 0);
		fl_buf_printf(&b, "%s.*", expr);
		json_object_set_new(cat, b.data,
				    json_pack("{s:s,s:O}", "combine", "AND", "matchers", rules));
		fl_buf_free(&b);
	}
	free(expr);
	return cat;
}

static void match_keys(struct fl_mctx *c, struct fl_mpath *p, const json_t *e, const json_t *a)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)e, k, v) {
		if (!json_object_get(a, k) && push(c, p, k, false)) {
			mm(c, p, v, NULL, "Expected key '%s' but it was missing", k);
			p->n--;
		}
	}
	if (c->allow_unexpected)
		return;
	json_object_foreach((json_t *)a, k, v) {
		if (!json_object_get(e, k) && push(c, p, k, false)) {
			char *sv = fl_match_show(v);
			mm(c, p, NULL, v, "Unexpected key '%s' with value %s", k, sv);
			free(sv);
			p->n--;
		}
	}
}

static const json_t *first_value(const json_t *obj)
{
	void *it = json_object_iter((json_t *)obj);
	return it ? json_object_iter_value(it) : NULL;
}

static void compare_maps(struct fl_mctx *c, struct fl_mpath *p, const json_t *e, const json_t *a)
{
	const char *k;
	json_t *v;
	char msg[512];
	if (json_object_size(e) == 0 && json_object_size(a) && !c->allow_unexpected) {
		char *sa = fl_match_show(a);
		mm(c, p, e, a, "Expected an empty object but received %s", sa);
		free(sa);
		return;
	}
	bool casc;
	const json_t *g = fl_rules_best(c->rules, p, &casc);
	const json_t *each_key = NULL, *each_value = NULL;
	bool values = false;
	if (g) {
		if (!casc && fl_match_group(g, casc, e, a, false, msg, sizeof(msg)))
			mm(c, p, e, a, "%s", msg);
		values = group_has(g, "values", NULL);
		if (!casc) {
			group_has(g, "eachKey", &each_key);
			group_has(g, "eachValue", &each_value);
		}
	}
	if (each_key) {
		json_t *rules = json_object_get(each_key, "rules");
		json_t *grp = json_pack("{s:s,s:o}", "combine", "AND", "matchers",
					json_is_array(rules) ? json_incref(rules) : json_array());
		json_object_foreach((json_t *)a, k, v) {
			json_t *key = json_string(k);
			if (fl_match_group(grp, false, key, key, true, msg, sizeof(msg)) &&
			    push(c, p, k, false)) {
				mm(c, p, NULL, key, "key '%s': %s", k, msg);
				p->n--;
			}
			json_decref(key);
		}
		json_decref(grp);
	}
	if (values || each_value || each_key) {
		struct fl_mctx sub = *c;
		json_t *cat = each_value ? child_rules(p, each_value) : NULL;
		if (cat)
			sub.rules = cat;
		json_object_foreach((json_t *)a, k, v) {
			const json_t *ev = json_object_get(e, k);
			if (!ev)
				ev = first_value(e);
			if (!push(c, p, k, false))
				break;
			if (ev)
				compare(&sub, p, ev, v);
			else if (cat) {
				bool cs;
				const json_t *gg = fl_rules_best(cat, p, &cs);
				if (gg && fl_match_group(gg, cs, v, v, false, msg, sizeof(msg)))
					mm(c, p, NULL, v, "%s", msg);
			}
			p->n--;
		}
		json_decref(cat);
		return;
	}
	match_keys(c, p, e, a);
	json_object_foreach((json_t *)e, k, v) {
		json_t *av = json_object_get(a, k);
		if (!av || !push(c, p, k, false))
			continue;
		compare(c, p, v, av);
		p->n--;
	}
}

static size_t try_variant(struct fl_mctx *c, const json_t *rules, const json_t *ev,
			  const json_t *item)
{
	struct fl_pact_mismatches tmp = { 0 };
	struct fl_mctx sub = *c;
	struct fl_mpath root = { .n = 1 };
	root.seg[0] = "$";
	sub.rules = rules;
	sub.out = &tmp;
	compare(&sub, &root, ev, item);
	size_t n = tmp.n;
	fl_pact_mismatches_clear(&tmp);
	return n;
}

static void array_contains(struct fl_mctx *c, struct fl_mpath *p, const json_t *m, const json_t *e,
			   const json_t *a)
{
	json_t *variants = json_object_get(m, "variants");
	size_t nv = json_is_array(variants) ? json_array_size(variants) : json_array_size(e);
	json_t *empty = json_object();
	for (size_t i = 0; i < nv; i++) {
		json_t *var = json_is_array(variants) ? json_array_get(variants, i) : NULL;
		size_t idx = var ? (size_t)fl_json_int(var, "index", (int64_t)i) : i;
		const json_t *rules = var && json_is_object(json_object_get(var, "rules"))
					      ? json_object_get(var, "rules")
					      : empty;
		const json_t *ev = json_array_get(e, idx);
		if (!ev) {
			mm(c, p, e, a, "arrayContains: variant %zu has no example at index %zu", i,
			   idx);
			continue;
		}
		bool found = false;
		size_t j;
		json_t *item;
		json_array_foreach(a, j, item) {
			if (try_variant(c, rules, ev, item) == 0) {
				found = true;
				break;
			}
		}
		if (!found) {
			char *se = fl_match_show(ev);
			mm(c, p, ev, a,
			   "Variant at index %zu (%s) was not found in the actual list", i, se);
			free(se);
		}
	}
	json_decref(empty);
}

static void compare_lists(struct fl_mctx *c, struct fl_mpath *p, const json_t *e, const json_t *a)
{
	size_t ne = json_array_size(e), na = json_array_size(a);
	char msg[512], idx[24];
	bool casc;
	const json_t *g = fl_rules_best(c->rules, p, &casc);
	if (g) {
		const json_t *contains = NULL, *each_value = NULL;
		if (fl_match_group(g, casc, e, a, false, msg, sizeof(msg)))
			mm(c, p, e, a, "%s", msg);
		if (!casc && group_has(g, "arrayContains", &contains)) {
			array_contains(c, p, contains, e, a);
			return;
		}
		if (ne == 0)
			return;
		struct fl_mctx sub = *c;
		json_t *cat = NULL;
		if (!casc && group_has(g, "eachValue", &each_value)) {
			cat = child_rules(p, each_value);
			sub.rules = cat;
		}
		for (size_t i = 0; i < na; i++) {
			snprintf(idx, sizeof(idx), "%zu", i);
			if (!push(c, p, idx, true))
				break;
			compare(&sub, p, json_array_get(e, i < ne ? i : 0), json_array_get(a, i));
			p->n--;
		}
		json_decref(cat);
		return;
	}
	if (ne == 0 && na) {
		char *sa = fl_match_show(a);
		mm(c, p, e, a, "Expected an empty array but received %s", sa);
		free(sa);
		return;
	}
	for (size_t i = 0; i < ne; i++) {
		snprintf(idx, sizeof(idx), "%zu", i);
		if (!push(c, p, idx, true))
			break;
		if (i < na) {
			compare(c, p, json_array_get(e, i), json_array_get(a, i));
		} else {
			char *se = fl_match_show(json_array_get(e, i));
			mm(c, p, json_array_get(e, i), NULL, "Expected %s but it was missing", se);
			free(se);
		}
		p->n--;
	}
	if (ne != na)
		mm(c, p, e, a, "Expected an array with %zu element%s but received %zu", ne,
		   ne == 1 ? "" : "s", na);
}

static void compare(struct fl_mctx *c, struct fl_mpath *p, const json_t *e, const json_t *a)
{
	if (json_is_object(e) && json_is_object(a)) {
		compare_maps(c, p, e, a);
	} else if (json_is_array(e) && json_is_array(a)) {
		compare_lists(c, p, e, a);
	} else if (json_is_object(e) || json_is_array(e)) {
		char *se = fl_match_show(e), *sa = fl_match_show(a);
		mm(c, p, e, a, "Type mismatch: expected %s %s but received %s %s", jt(e), se,
		   a ? jt(a) : "nothing", sa);
		free(se);
		free(sa);
	} else {
		compare_values(c, p, e, a);
	}
}

void fl_match_json(struct fl_mctx *c, struct fl_mpath *path, const json_t *e, const json_t *a)
{
	compare(c, path, e, a);
}
