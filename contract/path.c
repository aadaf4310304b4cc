/* Matching-rule path expressions ("$.animals[*].name", "$['2'].str",
 * "$.people.*['@id']") and their weight against a concrete path. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/buf.h"

enum tok_kind { TOK_ROOT, TOK_FIELD, TOK_INDEX, TOK_STAR, TOK_STAR_INDEX };

struct tok {
	enum tok_kind kind;
	const char *name; /* FIELD: points into the expression (not terminated) */
	size_t namelen;
	char unescaped[128]; /* FIELD names from quoted brackets with escapes */
	long index;
};

/* Read the next token at *pp. Returns 1 token, 0 end, -1 syntax error. */
static int next_tok(const char **pp, struct tok *t)
{
	const char *p = *pp;
	t->unescaped[0] = '\0';
	if (!*p)
		return 0;
	if (*p == '.') {
		p++;
		if (*p == '*') {
			t->kind = TOK_STAR;
			*pp = p + 1;
			return 1;
		}
		size_t n = strcspn(p, ".[");
		if (!n)
			return -1;
		t->kind = TOK_FIELD;
		t->name = p;
		t->namelen = n;
		*pp = p + n;
		return 1;
	}
	if (*p == '[') {
		p++;
		if (*p == '*' && p[1] == ']') {
			t->kind = TOK_STAR_INDEX;
			*pp = p + 2;
			return 1;
		}
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			size_t o = 0;
			while (*p && *p != q) {
				if (*p == '\\' && p[1])
					p++;
				if (o + 1 >= sizeof(t->unescaped))
					return -1;
				t->unescaped[o++] = *p++;
			}
			if (*p != q || p[1] != ']')
				return -1;
			t->unescaped[o] = '\0';
			t->kind = TOK_FIELD;
			t->name = t->unescaped;
			t->namelen = o;
			*pp = p + 2;
			return 1;
		}
		if (isdigit((unsigned char)*p)) {
			char *end;
			t->index = strtol(p, &end, 10);
			if (*end != ']')
				return -1;
			t->kind = TOK_INDEX;
			*pp = end + 1;
			return 1;
		}
		return -1;
	}
	/* a bare name: "$" missing or a name after "$*" */
	if (*p == '*') {
		t->kind = TOK_STAR;
		*pp = p + 1;
		return 1;
	}
	size_t n = strcspn(p, ".[");
	t->kind = TOK_FIELD;
	t->name = p;
	t->namelen = n;
	*pp = p + n;
	return 1;
}

static int is_integer(const char *s, long *out)
{
	if (!*s)
		return 0;
	for (const char *q = s; *q; q++)
		if (!isdigit((unsigned char)*q))
			return 0;
	*out = strtol(s, NULL, 10);
	return 1;
}

static long tok_weight(const struct tok *t, const char *frag)
{
	long i;
	switch (t->kind) {
	case TOK_ROOT: return strcmp(frag, "$") == 0 ? 2 : 0;
	case TOK_FIELD:
		return strlen(frag) == t->namelen && !memcmp(frag, t->name, t->namelen) ? 2 : 0;
	case TOK_INDEX: return is_integer(frag, &i) && i == t->index ? 2 : 0;
	case TOK_STAR: return 1;
	case TOK_STAR_INDEX: return is_integer(frag, &i) ? 1 : 0;
	}
	return 0;
}

long fl_path_weight(const char *expr, const struct fl_mpath *path, size_t *ntokens)
{
	const char *p = expr;
	struct tok t;
	long w = 1;
	size_t k = 0;
	int r;
	if (*p == '$') {
		t.kind = TOK_ROOT;
		p++;
	} else {
		/* header/query style keys or a missing root: treat as "$." + expr */
		t.kind = TOK_ROOT;
	}
	for (;;) {
		if (k >= path->n)
			w = 0;
		else if (w)
			w *= tok_weight(&t, path->seg[k]);
		k++;
		r = next_tok(&p, &t);
		if (r < 0) {
			if (ntokens)
				*ntokens = k;
			return -1;
		}
		if (r == 0)
			break;
	}
	if (ntokens)
		*ntokens = k;
	return w;
}

int fl_path_check(const char *expr, char *err, size_t errlen)
{
	struct fl_mpath p = { .n = 1 };
	p.seg[0] = "$";
	if (fl_path_weight(expr, &p, NULL) < 0) {
		snprintf(err, errlen, "invalid path expression '%s'", expr);
		return -1;
	}
	return 0;
}

static int is_ident(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '@' &&
		    *s != '#' && *s != ':')
			return 0;
	return 1;
}

char *fl_mpath_render(const struct fl_mpath *p, const char *prefix)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	fl_buf_puts(&b, prefix ? prefix : "$");
	for (size_t i = 1; i < p->n; i++) {
		if (p->is_index[i])
			fl_buf_printf(&b, "[%s]", p->seg[i]);
		else if (is_ident(p->seg[i]))
			fl_buf_printf(&b, ".%s", p->seg[i]);
		else
			fl_buf_printf(&b, "['%s']", p->seg[i]);
	}
	return fl_buf_take(&b, NULL);
}
