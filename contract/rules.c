/* Matching rules: which group applies to a path, and what a matcher is. */
#include <string.h>
#include <strings.h>

#include "contract/match_int.h"

static const char *const known_types[] = {
	"equality",	     "regex",	    "type",	    "include",
	"integer",	     "decimal",	    "number",	    "null",
	"boolean",	     "date",	    "time",	    "timestamp",
	"datetime",	     "contentType", "content-type", "values",
	"arrayContains",     "eachKey",	    "eachValue",    "statusCode",
	"notEmpty",	     "semver",	    "min",	    "max",
	"minType",	     "maxType",	    "minmax",	    "ignore-order",
	"equalsIgnoreOrder", NULL,
};

bool fl_matcher_known(const char *type)
{
	for (size_t i = 0; known_types[i]; i++)
		if (!strcmp(type, known_types[i]))
			return true;
	return false;
}

const char *fl_matcher_type(const json_t *m)
{
	if (!json_is_object(m))
		return "equality";
	const char *t = fl_json_str(m, "match", NULL);
	if (t) {
		if (!strcmp(t, "datetime"))
			return "timestamp";
		if (!strcmp(t, "content-type"))
			return "contentType";
		if (!strcmp(t, "min") || !strcmp(t, "max") || !strcmp(t, "minType") ||
		    !strcmp(t, "maxType") || !strcmp(t, "minmax"))
			return "type";
		return t;
	}
	/* V2 / shorthand forms */
	if (json_object_get(m, "regex"))
		return "regex";
	if (json_object_get(m, "min") || json_object_get(m, "max"))
		return "type";
	if (json_object_get(m, "timestamp"))
		return "timestamp";
	if (json_object_get(m, "date"))
		return "date";
	if (json_object_get(m, "time"))
		return "time";
	return "equality";
}

const json_t *fl_rules_matchers(const json_t *group)
{
	if (json_is_array(group))
		return group;
	if (json_is_object(group)) {
		json_t *m = json_object_get(group, "matchers");
		if (json_is_array(m))
			return m;
	}
	return NULL;
}

bool fl_rules_is_or(const json_t *group)
{
	const char *c = json_is_object(group) ? fl_json_str(group, "combine", NULL) : NULL;
	return c && !strcasecmp(c, "OR");
}

static bool group_has(const json_t *group, const char *type)
{
	const json_t *ms = fl_rules_matchers(group);
	size_t i;
	json_t *m;
	if (!ms)
		return false;
	json_array_foreach(ms, i, m)
		if (!strcmp(fl_matcher_type(m), type))
			return true;
	return false;
}

const json_t *fl_rules_best(const json_t *cat, const struct fl_mpath *path, bool *cascaded)
{
	const char *k;
	json_t *g;
	const json_t *best = NULL;
	long bw = 0;
	size_t bt = 0, blen = 0;
	if (!json_is_object(cat))
		return NULL;
	json_object_foreach((json_t *)cat, k, g) {
		size_t nt;
		long w = fl_path_weight(k, path, &nt);
		if (w <= 0)
			continue;
		if (nt != path->n && group_has(g, "values"))
			continue;
		size_t len = strlen(k);
		if (!best || w > bw || (w == bw && (nt > bt || (nt == bt && len > blen)))) {
			best = g;
			bw = w;
			bt = nt;
			blen = len;
		}
	}
	if (cascaded)
		*cascaded = best && bt < path->n;
	return best;
}

bool fl_rules_direct_type(const json_t *cat, const struct fl_mpath *path)
{
	const char *k;
	json_t *g;
	if (!json_is_object(cat))
		return false;
	json_object_foreach((json_t *)cat, k, g) {
		size_t nt;
		if (fl_path_weight(k, path, &nt) > 0 && nt == path->n && group_has(g, "type"))
			return true;
	}
	return false;
}

const json_t *fl_rules_keyed(const json_t *cat, const char *name, bool nocase)
{
	const char *k;
	json_t *g;
	if (!json_is_object(cat))
		return NULL;
	json_object_foreach((json_t *)cat, k, g) {
		if (nocase ? !strcasecmp(k, name) : !strcmp(k, name))
			return g;
	}
	return NULL;
}
