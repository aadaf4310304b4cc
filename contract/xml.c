/* A small non-validating XML reader (see xml.h). */
#include "contract/xml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/text.h"

#define XML_MAX_DEPTH 256

struct nsdecl {
	char *prefix; /* "" for the default namespace */
	char *uri;    /* "" undeclares */
};

struct parser {
	const char *s, *p, *end;
	char *err;
	size_t errlen;
	struct nsdecl *ns;
	size_t nns, capns;
	int failed;
};

static void perr(struct parser *ps, const char *what)
{
	if (ps->failed)
		return;
	int line = 1, col = 1;
	for (const char *q = ps->s; q < ps->p && q < ps->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(ps->err, ps->errlen, "line %d column %d: %s", line, col, what);
	ps->failed = 1;
}

static int at(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, lit, n);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && isspace((unsigned char)*ps->p))
		ps->p++;
}

static int skip_until(struct parser *ps, const char *lit)
{
	const char *q = ps->p;
	size_t n = strlen(lit);
	while (q + n <= ps->end) {
		if (!memcmp(q, lit, n)) {
			ps->p = q + n;
			return 0;
		}
		q++;
	}
	perr(ps, "unterminated construct");
	return -1;
}

/* Skip comments, PIs, DOCTYPE and whitespace. */
static int skip_misc(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (at(ps, "<?")) {
			if (skip_until(ps, "?>"))
				return -1;
		} else if (at(ps, "<!--")) {
			if (skip_until(ps, "-->"))
				return -1;
		} else if (at(ps, "<!DOCTYPE") || at(ps, "<!doctype")) {
			int depth = 0;
			while (ps->p < ps->end) {
				char c = *ps->p++;
				if (c == '[')
					depth++;
				else if (c == ']')
					depth--;
				else if (c == '>' && depth <= 0)
					break;
			}
		} else {
			return 0;
		}
	}
}

static int is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80;
}

static char *read_name(struct parser *ps)
{
	const char *b = ps->p;
	while (ps->p < ps->end && is_name_char((unsigned char)*ps->p))
		ps->p++;
	if (ps->p == b) {
		perr(ps, "expected a name");
		return NULL;
	}
	return strndup(b, (size_t)(ps->p - b));
}

static void append_trimmed(struct fl_buf *text, const char *b, const char *e, int entities)
{
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (b == e)
		return;
	if (entities)
		fl_text_xml_unescape(text, b, (size_t)(e - b));
	else
		fl_buf_append(text, b, (size_t)(e - b));
}

static const char *lookup_ns(struct parser *ps, const char *prefix, size_t plen)
{
	for (size_t i = ps->nns; i-- > 0;) {
		if (strlen(ps->ns[i].prefix) == plen && !memcmp(ps->ns[i].prefix, prefix, plen))
			return ps->ns[i].uri[0] ? ps->ns[i].uri : NULL;
	}
	if (plen == 3 && !memcmp(prefix, "xml", 3))
		return "http://www.w3.org/XML/1998/namespace";
	return NULL;
}

static int push_ns(struct parser *ps, const char *prefix, const char *uri)
{
	if (ps->nns == ps->capns) {
		size_t cap = ps->capns ? ps->capns * 2 : 8;
		struct nsdecl *v = realloc(ps->ns, cap * sizeof(*v));
		if (!v)
			return -1;
		ps->ns = v;
		ps->capns = cap;
	}
	ps->ns[ps->nns].prefix = strdup(prefix);
	ps->ns[ps->nns].uri = strdup(uri);
	ps->nns++;
	return 0;
}

static void pop_ns(struct parser *ps, size_t to)
{
	while (ps->nns > to) {
		ps->nns--;
		free(ps->ns[ps->nns].prefix);
		free(ps->ns[ps->nns].uri);
	}
}

void fl_xml_free(struct fl_xml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nattrs; i++) {
		free(n->attrs[i].name);
		free(n->attrs[i].local);
		free(n->attrs[i].ns);
		free(n->attrs[i].value);
	}
	for (size_t i = 0; i < n->nchildren; i++)
		fl_xml_free(n->children[i]);
	free(n->attrs);
	free(n->children);
	free(n->name);
	free(n->local);
	free(n->ns);
	free(n->text);
	free(n);
}

static void split_qname(const char *name, const char **prefix, size_t *plen, const char **local)
{
	const char *c = strchr(name, ':');
	if (c) {
		*prefix = name;
		*plen = (size_t)(c - name);
		*local = c + 1;
	} else {
		*prefix = "";
		*plen = 0;
		*local = name;
	}
}

static struct fl_xml_node *element(struct parser *ps, int depth)
{
	if (depth > XML_MAX_DEPTH) {
		perr(ps, "elements nested too deeply");
		return NULL;
	}
	if (!at(ps, "<")) {
		perr(ps, "expected '<'");
		return NULL;
	}
	ps->p++;
	size_t ns_mark = ps->nns;
	struct fl_xml_node *n = calloc(1, sizeof(*n));
	struct fl_buf text;
	fl_buf_init(&text, 0);
	if (!n)
		return NULL;
	n->name = read_name(ps);
	if (!n->name)
		goto bad;
	/* attributes */
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end) {
			perr(ps, "unexpected end inside a tag");
			goto bad;
		}
		if (*ps->p == '>' || at(ps, "/>"))
			break;
		char *an = read_name(ps);
		if (!an)
			goto bad;
		skip_ws(ps);
		if (!at(ps, "=")) {
			free(an);
			perr(ps, "expected '=' after an attribute name");
			goto bad;
		}
		ps->p++;
		skip_ws(ps);
		char q = ps->p < ps->end ? *ps->p : 0;
		if (q != '"' && q != '\'') {
			free(an);
			perr(ps, "expected a quoted attribute value");
			goto bad;
		}
		const char *vb = ++ps->p;
		while (ps->p < ps->end && *ps->p != q)
			ps->p++;
		if (ps->p >= ps->end) {
			free(an);
			perr(ps, "unterminated attribute value");
			goto bad;
		}
		struct fl_buf val;
		fl_buf_init(&val, 0);
		fl_text_xml_unescape(&val, vb, (size_t)(ps->p - vb));
		ps->p++;
		char *v = fl_buf_take(&val, NULL);
		if (!strcmp(an, "xmlns") || !strncmp(an, "xmlns:", 6)) {
			push_ns(ps, an[5] ? an + 6 : "", v ? v : "");
			free(an);
			free(v);
			continue;
		}
		struct fl_xml_attr *na = realloc(n->attrs, (n->nattrs + 1) * sizeof(*na));
		if (!na) {
			free(an);
			free(v);
			goto bad;
		}
		n->attrs = na;
		na[n->nattrs].name = an;
		na[n->nattrs].value = v;
		na[n->nattrs].local = NULL;
		na[n->nattrs].ns = NULL;
		n->nattrs++;
	}
	/* resolve names now that this element's declarations are known */
	{
		const char *pre, *loc;
		size_t pl;
		split_qname(n->name, &pre, &pl, &loc);
		const char *uri = lookup_ns(ps, pre, pl);
		if (pl && !uri) {
			perr(ps, "undeclared namespace prefix");
			goto bad;
		}
		n->local = strdup(loc);
		n->ns = uri ? strdup(uri) : NULL;
		for (size_t i = 0; i < n->nattrs; i++) {
			split_qname(n->attrs[i].name, &pre, &pl, &loc);
			uri = pl ? lookup_ns(ps, pre, pl) : NULL;
			n->attrs[i].local = strdup(loc);
			n->attrs[i].ns = uri ? strdup(uri) : NULL;
		}
	}
	if (at(ps, "/>")) {
		ps->p += 2;
		goto done;
	}
	ps->p++; /* '>' */
	/* content */
	for (;;) {
		const char *tb = ps->p;
		while (ps->p < ps->end && *ps->p != '<')
			ps->p++;
		append_trimmed(&text, tb, ps->p, 1);
		if (ps->p >= ps->end) {
			perr(ps, "unexpected end of document: missing closing tag");
			goto bad;
		}
		if (at(ps, "</")) {
			ps->p += 2;
			char *close = read_name(ps);
			if (!close)
				goto bad;
			int same = !strcmp(close, n->name);
			free(close);
			if (!same) {
				perr(ps, "closing tag does not match the opening tag");
				goto bad;
			}
			skip_ws(ps);
			if (!at(ps, ">")) {
				perr(ps, "expected '>'");
				goto bad;
			}
			ps->p++;
			break;
		}
		if (at(ps, "<!--")) {
			if (skip_until(ps, "-->"))
				goto bad;
			continue;
		}
		if (at(ps, "<![CDATA[")) {
			ps->p += 9;
			const char *cb = ps->p;
			if (skip_until(ps, "]]>"))
				goto bad;
			append_trimmed(&text, cb, ps->p - 3, 0);
			continue;
		}
		if (at(ps, "<?")) {
			if (skip_until(ps, "?>"))
				goto bad;
			continue;
		}
		struct fl_xml_node *child = element(ps, depth + 1);
		if (!child)
			goto bad;
		struct fl_xml_node **nc = realloc(n->children, (n->nchildren + 1) * sizeof(*nc));
		if (!nc) {
			fl_xml_free(child);
			goto bad;
		}
		n->children = nc;
		nc[n->nchildren++] = child;
	}
done:
	n->text = fl_buf_take(&text, NULL);
	pop_ns(ps, ns_mark);
	return n;
bad:
	if (!ps->failed)
		perr(ps, "out of memory");
	fl_buf_free(&text);
	pop_ns(ps, ns_mark);
	fl_xml_free(n);
	return NULL;
}

struct fl_xml_node *fl_xml_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = { .s = text,
			     .p = text,
			     .end = text + len,
			     .err = err,
			     .errlen = errlen };
	/* a UTF-8 byte order mark */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		ps.p += 3;
	if (skip_misc(&ps))
		return NULL;
	if (ps.p >= ps.end) {
		perr(&ps, "no root element");
		return NULL;
	}
	struct fl_xml_node *root = element(&ps, 0);
	if (root && (skip_misc(&ps) || ps.p < ps.end)) {
		perr(&ps, "content after the root element");
		fl_xml_free(root);
		root = NULL;
	}
	pop_ns(&ps, 0);
	free(ps.ns);
	return root;
}
