/* Flat JSON object views (see flatjson.h). */
#include "checkers/flatjson.h"

#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static const char *ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns the closing quote or NULL. */
static const char *str_end(const char *p, const char *e, bool *esc)
{
	for (p++; p < e; p++) {
		if (*p == '\\') {
			*esc = true;
			p++;
		} else if (*p == '"') {
			return p;
		} else if ((unsigned char)*p < 0x20) {
			return NULL;
		}
	}
	return NULL;
}

/* Skip a nested object or array starting at p; returns one past its end. */
static const char *skip_nested(const char *p, const char *e)
{
	int depth = 0;
	bool esc;
	for (; p < e; p++) {
		if (*p == '"') {
			p = str_end(p, e, &esc);
			if (!p)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

int fv_parse(const char *text, size_t len, struct fv *o)
{
	const char *p = text, *e = text + len;
	o->n = 0;
	p = ws(p, e);
	if (p == e || *p != '{')
		return -1;
	p = ws(p + 1, e);
	if (p < e && *p == '}')
		return ws(p + 1, e) == e ? 0 : -1;
	for (;;) {
		if (o->n == FV_MAX || p == e || *p != '"')
			return -1;
		bool kesc = false;
		const char *kend = str_end(p, e, &kesc);
		if (!kend || kesc)
			return -1;
		struct fv_field *f = &o->f[o->n++];
		f->k = p + 1;
		f->klen = (uint32_t)(kend - p - 1);
		p = ws(kend + 1, e);
		if (p == e || *p != ':')
			return -1;
		p = ws(p + 1, e);
		if (p == e)
			return -1;
		f->esc = false;
		const char *vend;
		switch (*p) {
		case '"':
			vend = str_end(p, e, &f->esc);
			if (!vend)
				return -1;
			f->type = 's';
			f->v = p + 1;
			f->vlen = (uint32_t)(vend - p - 1);
			p = vend + 1;
			break;
		case '{':
		case '[':
			vend = skip_nested(p, e);
			if (!vend)
				return -1;
			f->type = *p == '{' ? 'o' : 'a';
			f->v = p;
			f->vlen = (uint32_t)(vend - p);
			p = vend;
			break;
		case 't':
		case 'f':
		case 'n': {
			const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
			size_t wl = strlen(word);
			if ((size_t)(e - p) < wl || memcmp(p, word, wl))
				return -1;
			f->type = *p == 'n' ? 'z' : *p;
			f->v = p;
			f->vlen = (uint32_t)wl;
			p += wl;
			break;
		}
		default:
			if (*p != '-' && (*p < '0' || *p > '9'))
				return -1;
			f->type = 'n';
			f->v = p;
			while (p < e && (strchr("0123456789+-.eE", *p) && *p))
				p++;
			f->vlen = (uint32_t)(p - f->v);
			break;
		}
		p = ws(p, e);
		if (p == e)
			return -1;
		if (*p == '}')
			return ws(p + 1, e) == e ? 0 : -1;
		if (*p != ',')
			return -1;
		p = ws(p + 1, e);
	}
}

const struct fv_field *fv_get(const struct fv *o, const char *k)
{
	size_t kl = strlen(k);
	for (int i = 0; i < o->n; i++)
		if (o->f[i].klen == kl && !memcmp(o->f[i].k, k, kl))
			return &o->f[i];
	return NULL;
}

bool fv_is(const struct fv *o, const char *k, char type)
{
	const struct fv_field *f = fv_get(o, k);
	return f && f->type == type;
}

static bool is_integer(const struct fv_field *f)
{
	for (uint32_t i = 0; i < f->vlen; i++)
		if (f->v[i] == '.' || f->v[i] == 'e' || f->v[i] == 'E')
			return false;
	return true;
}

int fv_i64(const struct fv *o, const char *k, int64_t *out)
{
	const struct fv_field *f = fv_get(o, k);
	if (!f || f->type != 'n' || f->vlen >= 64)
		return 0;
	char b[64];
	memcpy(b, f->v, f->vlen);
	b[f->vlen] = '\0';
	if (is_integer(f)) {
		*out = strtoll(b, NULL, 10);
		return 1;
	}
	/* a real is truncated; one past int64's range (1e200) is no integer at all */
	double d = strtod(b, NULL);
	if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
		return 0;
	*out = (int64_t)d;
	return 1;
}

double fv_num(const struct fv *o, const char *k, double def)
{
	const struct fv_field *f = fv_get(o, k);
	if (!f || f->type != 'n' || f->vlen >= 64)
		return def;
	char b[64];
	memcpy(b, f->v, f->vlen);
	b[f->vlen] = '\0';
	return strtod(b, NULL);
}

bool fv_true(const struct fv *o, const char *k)
{
	const struct fv_field *f = fv_get(o, k);
	return f && f->type == 't';
}

const char *fv_str(const struct fv *o, const char *k, char *buf, size_t n)
{
	const struct fv_field *f = fv_get(o, k);
	if (!f || f->type != 's' || n < 8)
		return NULL;
	if (!f->esc) {
		size_t l = f->vlen < n - 1 ? f->vlen : n - 1;
		memcpy(buf, f->v, l);
		buf[l] = '\0';
		return buf;
	}
	fl_text_json_unescape(f->v, f->vlen, buf, n);
	return buf;
}

const char *fv_text(const struct fv *o, const char *k, char *buf, size_t n)
{
	const struct fv_field *f = fv_get(o, k);
	if (!f)
		return NULL;
	if (f->type == 's')
		return fv_str(o, k, buf, n);
	if (f->type == 'n' && is_integer(f) && f->vlen < n) {
		memcpy(buf, f->v, f->vlen);
		buf[f->vlen] = '\0';
		return buf;
	}
	return NULL;
}

int fv_sub(const struct fv *o, const char *k, struct fv *out)
{
	const struct fv_field *f = fv_get(o, k);
	out->n = 0;
	if (!f || f->type != 'o')
		return -1;
	if (fv_parse(f->v, f->vlen, out) < 0) {
		out->n = 0;
		return -1;
	}
	return 0;
}

json_t *fv_json(const struct fv *o, const char *k)
{
	const struct fv_field *f = fv_get(o, k);
	if (!f)
		return NULL;
	if (f->type == 's')
		return json_loadb(f->v - 1, f->vlen + 2, JSON_DECODE_ANY, NULL);
	return json_loadb(f->v, f->vlen, JSON_DECODE_ANY, NULL);
}
