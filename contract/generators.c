/* Pact generators (see generators.h). */
#include "contract/generators.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/buf.h"
#include "core/clock.h"

static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* --- strings from regular expressions ---------------------------------------------- */

/* The ']' closing the bracket class whose body starts at p (after '['), or e. */
static const char *class_end(const char *p, const char *e)
{
	if (p < e && *p == '^')
		p++;
	if (p < e && *p == ']')
		p++;
	while (p < e && *p != ']') {
		if (*p == '\\')
			p++;
		p++;
	}
	return p;
}

/* End of the group starting at p (which points after '('): the ')' position. */
static const char *group_end(const char *p, const char *e)
{
	int depth = 1;
	while (p < e) {
		if (*p == '\\' && p + 1 < e) {
			p += 2;
			continue;
		}
		if (*p == '[') {
			p = class_end(p + 1, e);
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth == 0)
				return p;
		}
		p++;
	}
	return NULL;
}

static int gen_alt(const char *b, const char *e, struct fl_buf *out, struct fl_prng *r, int depth);

static char class_pick(const char *b, const char *e, struct fl_prng *r)
{
	bool neg = false;
	char set[256] = { 0 };
	int n = 0;
	if (b < e && *b == '^') {
		neg = true;
		b++;
	}
	while (b < e) {
		unsigned char c = (unsigned char)*b++;
		if (c == '\\' && b < e) {
			char d = *b++;
			const char *add = NULL;
			if (d == 'd')
				add = "0123456789";
			else if (d == 'w')
				add = alnum;
			else if (d == 's')
				add = " ";
			if (add) {
				for (; *add; add++)
					set[(unsigned char)*add] = 1;
				continue;
			}
			c = (unsigned char)(d == 't' ? '\t' : d == 'n' ? '\n' : d);
		}
		if (b + 1 < e && *b == '-' && b[1] != ']') {
			unsigned char hi = (unsigned char)b[1];
			b += 2;
			for (unsigned x = c; x <= hi; x++)
				set[x] = 1;
			continue;
		}
		set[c] = 1;
	}
	for (int i = 32; i < 127; i++)
		if (set[i] != neg)
			n++;
	if (!n)
		return 'x';
	int k = (int)fl_prng_range(r, 0, n - 1);
	for (int i = 32; i < 127; i++)
		if (set[i] != neg && k-- == 0)
			return (char)i;
	return 'x';
}

static int gen_seq(const char *b, const char *e, struct fl_buf *out, struct fl_prng *r, int depth)
{
	const char *p = b;
	while (p < e) {
		const char *as = p, *ae;
		/* atom extent */
		if (*p == '(') {
			const char *ge = group_end(p + 1, e);
			if (!ge)
				return -1;
			ae = ge + 1;
		} else if (*p == '[') {
			const char *q = p + 1;
			if (q < e && *q == '^')
				q++;
			if (q < e && *q == ']')
				q++;
			while (q < e && *q != ']') {
				if (*q == '\\')
					q++;
				q++;
			}
			if (q >= e)
				return -1;
			ae = q + 1;
		} else if (*p == '\\' && p + 1 < e) {
			ae = p + 2;
		} else {
			ae = p + 1;
		}
		/* quantifier */
		long lo = 1, hi = 1;
		const char *q = ae;
		if (q < e && (*q == '?' || *q == '*' || *q == '+')) {
			lo = *q == '+' ? 1 : 0;
			hi = *q == '?' ? 1 : lo + 4;
			q++;
		} else if (q < e && *q == '{' && isdigit((unsigned char)q[1])) {
			char *end;
			lo = strtol(q + 1, &end, 10);
			hi = lo;
			if (*end == ',') {
				hi = isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10)
								    : lo + 4;
				if (*end != '}')
					return -1;
			}
			if (*end != '}')
				return -1;
			q = end + 1;
		}
		if (q < e && (*q == '?' || *q == '+'))
			q++; /* lazy / possessive */
		if (hi > lo + 50)
			hi = lo + 50;
		long count = fl_prng_range(r, lo, hi);
		for (long i = 0; i < count; i++) {
			if (*as == '(') {
				const char *in = as + 1;
				if (in[0] == '?' && in[1] == ':')
					in += 2;
				if (gen_alt(in, ae - 1, out, r, depth + 1))
					return -1;
			} else if (*as == '[') {
				char c = class_pick(as + 1, ae - 1, r);
				fl_buf_append(out, &c, 1);
			} else if (*as == '\\') {
				char d = as[1], c;
				switch (d) {
				case 'd': c = (char)('0' + fl_prng_range(r, 0, 9)); break;
				case 'w': c = alnum[fl_prng_range(r, 0, 61)]; break;
				case 's': c = ' '; break;
				case 'D':
				case 'W': c = '-'; break;
				case 'S': c = alnum[fl_prng_range(r, 0, 61)]; break;
				case 't': c = '\t'; break;
				case 'n': c = '\n'; break;
				case 'b':
				case 'B': c = 0; break;
				default: c = d; break;
				}
				if (c)
					fl_buf_append(out, &c, 1);
			} else if (*as == '.') {
				fl_buf_append(out, &alnum[fl_prng_range(r, 0, 61)], 1);
			} else if (*as != '^' && *as != '$') {
				fl_buf_append(out, as, 1);
			}
		}
		p = q;
	}
	return 0;
}

static int gen_alt(const char *b, const char *e, struct fl_buf *out, struct fl_prng *r, int depth)
{
	if (depth > 32)
		return -1;
	const char *starts[64];
	const char *ends[64];
	int n = 0;
	const char *p = b, *s = b;
	while (p < e) {
		if (*p == '\\' && p + 1 < e) {
			p += 2;
			continue;
		}
		if (*p == '(') {
			const char *ge = group_end(p + 1, e);
			if (!ge)
				return -1;
			p = ge + 1;
			continue;
		}
		if (*p == '[') {
			p = class_end(p + 1, e) + 1;
			continue;
		}
		if (*p == '|' && n < 63) {
			starts[n] = s;
			ends[n++] = p;
			s = p + 1;
		}
		p++;
	}
	starts[n] = s;
	ends[n++] = e;
	int k = (int)fl_prng_range(r, 0, n - 1);
	return gen_seq(starts[k], ends[k], out, r, depth);
}

char *fl_gen_regex(const char *re, struct fl_prng *rng)
{
	struct fl_buf out;
	fl_buf_init(&out, 1 << 16);
	for (int attempt = 0; attempt < 20; attempt++) {
		fl_buf_reset(&out);
		if (gen_alt(re, re + strlen(re), &out, rng, 0)) {
			fl_buf_free(&out);
			return NULL;
		}
		if (!out.data)
			fl_buf_puts(&out, "");
		char err[8];
		if (fl_regex_full_match(re, out.data, err, sizeof(err)) != 0)
			break; /* matches, or the checker cannot tell */
	}
	return fl_buf_take(&out, NULL);
}

/* --- values -------------------------------------------------------------------- */

static json_t *provider_state(const json_t *gen, const json_t *state, char *err, size_t errlen)
{
	const char *expr = fl_json_str(gen, "expression", NULL);
	if (!expr) {
		snprintf(err, errlen, "ProviderState generator without an expression");
		return NULL;
	}
	/* a whole "${name}" keeps the value's type */
	size_t n = strlen(expr);
	if (n > 3 && !strncmp(expr, "${", 2) && expr[n - 1] == '}' && !strchr(expr + 2, '$')) {
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 3), expr + 2);
		json_t *v = json_object_get(state, name);
		if (!v) {
			snprintf(err, errlen,
				 "provider state value '%s' was not returned by the state change",
				 name);
			return NULL;
		}
		return json_deep_copy(v);
	}
	struct fl_buf b;
	fl_buf_init(&b, 0);
	const char *p = expr;
	while (*p) {
		const char *d = strstr(p, "${");
		const char *c = d ? strchr(d, '}') : NULL;
		if (!d || !c) {
			fl_buf_puts(&b, p);
			break;
		}
		fl_buf_append(&b, p, (size_t)(d - p));
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(c - d - 2), d + 2);
		json_t *v = json_object_get(state, name);
		if (!v) {
			snprintf(err, errlen,
				 "provider state value '%s' was not returned by the state change",
				 name);
			fl_buf_free(&b);
			return NULL;
		}
		if (json_is_string(v))
			fl_buf_puts(&b, json_string_value(v));
		else
			fl_json_append(&b, v);
		p = c + 1;
	}
	json_t *out = json_string(b.data ? b.data : "");
	fl_buf_free(&b);
	return out;
}

json_t *fl_gen_value(const json_t *gen, const json_t *state, struct fl_prng *rng, char *err,
		     size_t errlen)
{
	const char *t = fl_json_str(gen, "type", NULL);
	char buf[128];
	if (!t) {
		snprintf(err, errlen, "generator without a type");
		return NULL;
	}
	if (!strcmp(t, "RandomInt")) {
		int64_t lo = fl_json_int(gen, "min", 0), hi = fl_json_int(gen, "max", 2147483647);
		return json_integer(fl_prng_range(rng, lo, hi));
	}
	if (!strcmp(t, "RandomDecimal")) {
		int digits = (int)fl_json_int(gen, "digits", 6);
		if (digits < 2 || digits > 15)
			digits = 6;
		int whole = (int)fl_prng_range(rng, 1, digits - 1);
		double v = (double)fl_prng_range(rng, 1, 9);
		for (int i = 1; i < digits; i++)
			v = v * 10 + (double)fl_prng_range(rng, 0, 9);
		return json_real(v / pow(10, digits - whole));
	}
	if (!strcmp(t, "RandomHexadecimal") || !strcmp(t, "RandomString")) {
		bool hex = t[6] == 'H';
		int n = (int)fl_json_int(gen, hex ? "digits" : "size", hex ? 8 : 20);
		if (n < 0 || n > 4096)
			n = 20;
		char *s = malloc((size_t)n + 1);
		if (!s)
			return NULL;
		for (int i = 0; i < n; i++)
			s[i] = hex ? "0123456789abcdef"[fl_prng_range(rng, 0, 15)]
				   : alnum[fl_prng_range(rng, 0, 61)];
		s[n] = '\0';
		json_t *v = json_string(s);
		free(s);
		return v;
	}
	if (!strcmp(t, "Regex")) {
		const char *re = fl_json_str(gen, "regex", NULL);
		char *s = re ? fl_gen_regex(re, rng) : NULL;
		if (!s) {
			snprintf(err, errlen, "cannot generate a value for regex '%s'",
				 re ? re : "");
			return NULL;
		}
		json_t *v = json_string(s);
		free(s);
		return v;
	}
	if (!strcmp(t, "Uuid")) {
		unsigned char u[16];
		for (int i = 0; i < 16; i++)
			u[i] = (unsigned char)fl_prng_range(rng, 0, 255);
		u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
		u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
		const char *fmt = fl_json_str(gen, "format", "lower-case-hyphenated");
		bool upper = !strcmp(fmt, "upper-case-hyphenated");
		bool simple = !strcmp(fmt, "simple");
		size_t o = 0;
		if (!strcmp(fmt, "URN"))
			o = (size_t)snprintf(buf, sizeof(buf), "urn:uuid:");
		for (int i = 0; i < 16; i++) {
			if (!simple && (i == 4 || i == 6 || i == 8 || i == 10))
				buf[o++] = '-';
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, upper ? "%02X" : "%02x",
					      u[i]);
		}
		return json_string(buf);
	}
	if (!strcmp(t, "Date") || !strcmp(t, "Time") || !strcmp(t, "DateTime") ||
	    !strcmp(t, "Timestamp")) {
		char kind = t[0] == 'T' && t[1] == 'i' ? 't' : !strcmp(t, "Date") ? 'd' : 'T';
		if (fl_datefmt_format(fl_json_str(gen, "format", NULL), kind, fl_wall_ns(), buf,
				      sizeof(buf))) {
			snprintf(err, errlen, "%s generator: format too long", t);
			return NULL;
		}
		return json_string(buf);
	}
	if (!strcmp(t, "RandomBoolean"))
		return json_boolean(fl_prng_range(rng, 0, 1));
	if (!strcmp(t, "ProviderState"))
		return provider_state(gen, state, err, errlen);
	snprintf(err, errlen, "unknown generator type '%s'", t);
	return NULL;
}

/* --- applying ----------------------------------------------------------------- */

struct apply {
	const json_t *gens; /* body category: path -> generator */
	const json_t *state;
	struct fl_prng *rng;
	char *err;
	size_t errlen;
	int failed;
};

/* The generator whose expression names exactly this path, or NULL. */
static const json_t *gen_for(const json_t *gens, const struct fl_mpath *p)
{
	const char *k;
	json_t *g;
	json_object_foreach((json_t *)gens, k, g) {
		size_t nt;
		if (fl_path_weight(k, p, &nt) > 0 && nt == p->n)
			return g;
	}
	return NULL;
}

/* Walk v; returns a replacement (new reference) for v itself or NULL to keep it. */
static json_t *walk(struct apply *a, struct fl_mpath *p, json_t *v)
{
	const json_t *g = gen_for(a->gens, p);
	if (g) {
		char err[256];
		json_t *nv = fl_gen_value(g, a->state, a->rng, err, sizeof(err));
		if (nv)
			return nv;
		if (!a->failed)
			snprintf(a->err, a->errlen, "%s", err);
		a->failed = 1;
	}
	if (p->n >= FL_MPATH_MAX)
		return NULL;
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, x) {
			p->seg[p->n] = k;
			p->is_index[p->n++] = false;
			json_t *nv = walk(a, p, x);
			p->n--;
			if (nv)
				json_object_set_new(v, k, nv);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			p->seg[p->n] = idx;
			p->is_index[p->n++] = true;
			json_t *nv = walk(a, p, json_array_get(v, i));
			p->n--;
			if (nv)
				json_array_set_new(v, i, nv);
		}
	}
	return NULL;
}

static void apply_body(struct fl_pact_body *b, const json_t *gens, const json_t *state,
		       struct fl_prng *rng, char *err, size_t errlen, int *failed)
{
	if (!json_is_object(gens) || !b->value || b->encoded)
		return;
	struct apply a = { gens, state, rng, err, errlen, 0 };
	struct fl_mpath p = { .n = 1 };
	p.seg[0] = "$";
	json_t *nv = walk(&a, &p, b->value);
	if (nv) {
		json_decref(b->value);
		b->value = nv;
		b->state = FL_PACT_BODY_PRESENT;
	}
	if (a.failed)
		*failed = 1;
}

static json_t *to_text(json_t *v)
{
	if (json_is_string(v))
		return v;
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	json_t *out = json_string(s ? s : "");
	free(s);
	return out;
}

static void apply_keyed(json_t *multimap, const json_t *gens, const json_t *state,
			struct fl_prng *rng, char *err, size_t errlen, int *failed)
{
	const char *k;
	json_t *g;
	json_object_foreach((json_t *)gens, k, g) {
		char e[256];
		json_t *v = fl_gen_value(g, state, rng, e, sizeof(e));
		if (!v) {
			if (!*failed)
				snprintf(err, errlen, "%s", e);
			*failed = 1;
			continue;
		}
		json_object_set_new(multimap, k, json_pack("[o]", to_text(v)));
	}
}

int fl_gen_apply_request(struct fl_pact_request *r, const json_t *state, struct fl_prng *rng,
			 char *err, size_t errlen)
{
	int failed = 0;
	const json_t *g = json_object_get(r->generators, "path");
	if (json_is_object(g) && fl_json_str(g, "type", NULL)) {
		char e[256];
		json_t *v = fl_gen_value(g, state, rng, e, sizeof(e));
		if (v) {
			v = to_text(v);
			free(r->path);
			r->path = strdup(json_string_value(v));
			json_decref(v);
		} else {
			snprintf(err, errlen, "%s", e);
			failed = 1;
		}
	}
	apply_keyed(r->query, json_object_get(r->generators, "query"), state, rng, err, errlen,
		    &failed);
	apply_keyed(r->headers, json_object_get(r->generators, "header"), state, rng, err, errlen,
		    &failed);
	apply_body(&r->body, json_object_get(r->generators, "body"), state, rng, err, errlen,
		   &failed);
	return failed ? -1 : 0;
}

int fl_gen_apply_response(struct fl_pact_response *r, const json_t *state, struct fl_prng *rng,
			  char *err, size_t errlen)
{
	int failed = 0;
	const json_t *g = json_object_get(r->generators, "status");
	if (json_is_object(g) && fl_json_str(g, "type", NULL)) {
		char e[256];
		json_t *v = fl_gen_value(g, state, rng, e, sizeof(e));
		if (json_is_integer(v))
			r->status = (int)json_integer_value(v);
		json_decref(v);
	}
	apply_keyed(r->headers, json_object_get(r->generators, "header"), state, rng, err, errlen,
		    &failed);
	apply_body(&r->body, json_object_get(r->generators, "body"), state, rng, err, errlen,
		   &failed);
	return failed ? -1 : 0;
}
