/* Text encodings: UTF-8, hex, percent-encoding, XML, JSON strings,
 * Prometheus label values, base64. */
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* --- UTF-8 ------------------------------------------------------------------ */

size_t fl_text_utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int fl_text_utf8_put(struct fl_buf *b, uint32_t cp)
{
	char u[4];
	return fl_buf_append(b, u, fl_text_utf8_encode(cp, u));
}

size_t fl_text_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t c, min;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	} else if ((u[0] & 0xe0) == 0xc0) {
		len = 2, c = u[0] & 0x1f, min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		len = 3, c = u[0] & 0x0f, min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		len = 4, c = u[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

bool fl_text_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = fl_text_utf8_decode(s + i, n - i, &cp);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

char *fl_text_utf8_clean(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1); /* each bad byte may become 3 bytes */
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = fl_text_utf8_decode(s + i, n - i, &cp);
		if (len) {
			memcpy(out + o, s + i, len);
			o += len, i += len;
		} else {
			memcpy(out + o, FL_TEXT_REPLACEMENT, 3);
			o += 3, i++;
		}
	}
	out[o] = '\0';
	return out;
}

/* --- hex digits ------------------------------------------------------------- */

int fl_text_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* --- hashing ----------------------------------------------------------------- */

uint32_t fl_text_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a, 32 bits */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* --- percent-encoding --------------------------------------------------------- */

static bool pct_keeps(unsigned char c, enum fl_text_pct keep)
{
	switch (keep) {
	case FL_PCT_UNRESERVED:
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       c == '-' || c == '.' || c == '_' || c == '~';
	case FL_PCT_PATH: return c > 0x20 && c < 0x7f && !strchr("%?#\"<>\\^`{|}", c);
	case FL_PCT_PRINTABLE: return c >= 0x20 && c < 0x7f && c != '%';
	}
	return false;
}

int fl_text_pct_encode(struct fl_buf *b, const char *s, size_t n, enum fl_text_pct keep)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (pct_keeps(c, keep)) {
			rc = fl_buf_append(b, &s[i], 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = fl_buf_append(b, e, 3);
		}
	}
	return rc;
}

char *fl_text_pct_decode(const char *s, size_t n, bool plus_space, size_t *outlen)
{
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+' && plus_space) {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
			   (hi = fl_text_hexval((unsigned char)s[i + 1])) >= 0 &&
			   (lo = fl_text_hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

/* --- XML and HTML ------------------------------------------------------------- */

/* The walk every escaper shares: each character of s is either written as
 * it is or replaced by what `esc` gives for it (NULL: as it is); bytes that
 * are not valid UTF-8 become U+FFFD. */
typedef const char *fl_text_esc_fn(uint32_t cp, unsigned flags, char tmp[8]);

static int escape(struct fl_buf *b, const char *s, size_t n, fl_text_esc_fn *esc, unsigned flags)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		uint32_t cp;
		char tmp[8];
		size_t len = fl_text_utf8_decode(s + i, n - i, &cp);
		const char *r = !len ? FL_TEXT_REPLACEMENT : esc(cp, flags, tmp);
		rc = r ? fl_buf_puts(b, r) : fl_buf_append(b, s + i, len);
		i += len ? len : 1;
	}
	return rc;
}

static const char *xml_char(uint32_t cp, unsigned flags, char tmp[8])
{
	bool attr = flags & FL_TEXT_XML_ATTR;
	switch (cp) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return attr ? "&quot;" : NULL;
	case '\r': return "&#13;";
	case '\n': return attr ? "&#10;" : NULL;
	case '\t': return attr ? "&#9;" : NULL;
	case 0xfffe:
	case 0xffff: return FL_TEXT_REPLACEMENT;
	}
	if (cp >= 0x20)
		return NULL;
	snprintf(tmp, 8, "\\x%02X", (unsigned)cp);
	return tmp;
}

int fl_text_xml_escape(struct fl_buf *b, const char *s, size_t n, unsigned flags)
{
	return escape(b, s, n, xml_char, flags);
}

/* The character an entity or character reference names, or -1. */
static long xml_ref(const char *nm, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {
		{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' },
	};
	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (strlen(ents[i].name) == n && !memcmp(nm, ents[i].name, n))
			return ents[i].c;
	if (n < 2 || nm[0] != '#')
		return -1;
	bool hex = nm[1] == 'x' || nm[1] == 'X';
	unsigned long cp = 0;
	for (size_t i = hex ? 2 : 1; i < n; i++) {
		int d = hex ? fl_text_hexval((unsigned char)nm[i])
			    : (nm[i] >= '0' && nm[i] <= '9' ? nm[i] - '0' : -1);
		if (d < 0)
			break;
		cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		if (cp > 0x10ffff)
			break;
	}
	return cp == 0 || cp > 0x10ffff ? 0xfffd : (long)cp;
}

int fl_text_xml_unescape(struct fl_buf *b, const char *s, size_t n)
{
	const char *e = s + n;
	int rc = 0;
	while (s < e && rc == 0) {
		const char *semi = *s == '&' ? memchr(s, ';', (size_t)(e - s)) : NULL;
		long c = semi ? xml_ref(s + 1, (size_t)(semi - s - 1)) : -1;
		if (c >= 0) {
			rc = fl_text_utf8_put(b, (uint32_t)c);
			s = semi + 1;
		} else if (semi) {
			rc = fl_buf_append(b, s, (size_t)(semi + 1 - s));
			s = semi + 1;
		} else {
			rc = fl_buf_append(b, s++, 1);
		}
	}
	return rc;
}

/* --- JSON strings ------------------------------------------------------------- */

static const char *json_char(uint32_t cp, unsigned flags, char tmp[8])
{
	(void)flags;
	switch (cp) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	case '\b': return "\\b";
	case '\f': return "\\f";
	}
	if (cp >= 0x20)
		return NULL;
	snprintf(tmp, 8, "\\u%04x", (unsigned)cp);
	return tmp;
}

int fl_text_json_escape(struct fl_buf *b, const char *s, size_t n)
{
	return escape(b, s, n, json_char, 0);
}

/* Four hex digits as a code unit; U+FFFD when they are not hex. */
static uint32_t hex4(const char *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = fl_text_hexval((unsigned char)p[i]);
		if (h < 0)
			return 0xfffd;
		v = v * 16 + (uint32_t)h;
	}
	return v;
}

size_t fl_text_json_unescape(const char *s, size_t n, char *out, size_t outsz)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 4 < outsz; i++) {
		char c = s[i];
		if (c != '\\' || i + 1 >= n) {
			out[j++] = c;
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'n': out[j++] = '\n'; break;
		case 't': out[j++] = '\t'; break;
		case 'r': out[j++] = '\r'; break;
		case 'b': out[j++] = '\b'; break;
		case 'f': out[j++] = '\f'; break;
		case 'u': {
			uint32_t cp = i + 4 < n ? hex4(s + i + 1) : 0xfffd;
			i += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
			    s[i + 2] == 'u') {
				uint32_t lo = hex4(s + i + 3);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			j += fl_text_utf8_encode(cp, out + j);
			break;
		}
		default: out[j++] = c; break; /* \" \\ \/ */
		}
	}
	out[j] = '\0';
	return j;
}

/* --- Prometheus text format --------------------------------------------------- */

int fl_text_prom_escape(struct fl_buf *b, const char *s)
{
	int rc = 0;
	for (; *s && rc == 0; s++) {
		if (*s == '\\' || *s == '"')
			rc = fl_buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			rc = fl_buf_puts(b, "\\n");
		else
			rc = fl_buf_append(b, s, 1);
	}
	return rc;
}

/* --- base64 ----------------------------------------------------------------- */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int fl_text_b64_encode(struct fl_buf *b, const void *data, size_t n)
{
	const unsigned char *d = data;
	int rc = fl_buf_reserve(b, (n + 2) / 3 * 4);
	for (size_t i = 0; i < n && rc == 0; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		char q[4] = { b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
			      i + 1 < n ? b64chars[(v >> 6) & 63] : '=',
			      i + 2 < n ? b64chars[v & 63] : '=' };
		rc = fl_buf_append(b, q, 4);
	}
	return rc;
}

static int b64val(int c)
{
	const char *p = c ? strchr(b64chars, c) : NULL;
	if (p)
		return (int)(p - b64chars);
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

char *fl_text_b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s);
	char *out = malloc(n / 4 * 3 + 4);
	if (!out)
		return NULL;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			continue; /* padding, white space */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}
