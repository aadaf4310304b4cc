/* Regular expressions as Pact files write them (Java/PCRE syntax), run on
 * POSIX <regex.h> (REG_EXTENDED) after a translation: \d \w \s and their
 * negations, escapes of punctuation, \t \n \uHHHH \xHH, \Q..\E, non-capturing
 * groups and the (?i) flag are rewritten; lazy and possessive quantifiers
 * become greedy, which gives the same answer for a whole-string match.
 * Look-around and back-references are refused with a clear message. Pact
 * regex matchers match the whole value, so the expression is anchored. */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/buf.h"

static void put_utf8(struct fl_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	fl_buf_append(b, u, n);
}

/* A literal character outside brackets, escaped when ERE gives it meaning. */
static void put_lit(struct fl_buf *b, int c)
{
	if (c && strchr(".[]{}()*+?^$|\\", c)) {
		char e[2] = { '\\', (char)c };
		fl_buf_append(b, e, 2);
	} else {
		char ch = (char)c;
		fl_buf_append(b, &ch, 1);
	}
}

static unsigned long hexn(const char **pp, int n)
{
	unsigned long v = 0;
	const char *p = *pp;
	for (int i = 0; i < n && p[i]; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v * 16 + (unsigned long)d;
		(*pp)++;
	}
	return v;
}

/* Translate a bracket expression starting after '['. Returns the position
 * after the closing ']' or NULL when unsupported. */
static const char *bracket(const char *p, struct fl_buf *b)
{
	struct fl_buf body;
	bool neg = false, rbr = false, dash = false, caret = false;
	fl_buf_init(&body, 0);
	if (*p == '^') {
		neg = true;
		p++;
	}
	if (*p == ']') {
		rbr = true;
		p++;
	}
	while (*p && *p != ']') {
		if (*p == '[' && p[1] == ':') {	/* POSIX class written directly */
			const char *e = strstr(p, ":]");
			if (!e)
				goto bad;
			fl_buf_append(&body, p, (size_t)(e + 2 - p));
			p = e + 2;
			continue;
		}
		if (*p == '&' && p[1] == '&')
			goto bad;
		if (*p == '\\' && p[1]) {
			char c = p[1];
			p += 2;
			switch (c) {
			case 'd': fl_buf_puts(&body, "0-9"); break;
			case 'w': fl_buf_puts(&body, "[:alnum:]_"); break;
			case 's': fl_buf_puts(&body, "[:space:]"); break;
			case 't': fl_buf_puts(&body, "\t"); break;
			case 'n': fl_buf_puts(&body, "\n"); break;
			case 'r': fl_buf_puts(&body, "\r"); break;
			case 'f': fl_buf_puts(&body, "\f"); break;
			case 'u': put_utf8(&body, hexn(&p, 4)); break;
			case 'x': put_utf8(&body, hexn(&p, 2)); break;
			case ']': rbr = true; break;
			case '-': dash = true; break;
			case '^': caret = true; break;
			case 'D': case 'W': case 'S': goto bad;
			default: fl_buf_append(&body, &c, 1); break;
			}
			continue;
		}
		if (*p == '-' && (p[1] == ']' || body.len == 0)) {
			dash = true;
			p++;
			continue;
		}
		if (*p == '^') {
			caret = true;
			p++;
			continue;
		}
		fl_buf_append(&body, p, 1);
		p++;
	}
	if (*p != ']')
		goto bad;
	fl_buf_puts(b, "[");
	if (neg)
		fl_buf_puts(b, "^");
	if (rbr)
		fl_buf_puts(b, "]");
	if (body.len)
		fl_buf_append(b, body.data, body.len);
	if (caret)
		fl_buf_puts(b, "^");
	if (dash)
		fl_buf_puts(b, "-");
	fl_buf_puts(b, "]");
	fl_buf_free(&body);
	return p + 1;
bad:
	fl_buf_free(&body);
	return NULL;
}

/* Translate; *icase set by a leading (?i). NULL when unsupported. */
static char *translate(const char *re, int *icase)
{
	struct fl_buf b;
	const char *p = re;
	bool after_quant = false;
	fl_buf_init(&b, 0);
	*icase = 0;
	while (*p) {
		char c = *p;
		if (after_quant && (c == '?' || c == '+')) {	/* lazy / possessive */
			p++;
			after_quant = false;
			continue;
		}
		after_quant = false;
		if (c == '\\') {
			char d = p[1];
			if (!d) {
				fl_buf_puts(&b, "\\\\");
				p++;
				continue;
			}
			p += 2;
			switch (d) {
			case 'd': fl_buf_puts(&b, "[0-9]"); break;
			case 'D': fl_buf_puts(&b, "[^0-9]"); break;
			case 'w': fl_buf_puts(&b, "[[:alnum:]_]"); break;
			case 'W': fl_buf_puts(&b, "[^[:alnum:]_]"); break;
			case 's': fl_buf_puts(&b, "[[:space:]]"); break;
			case 'S': fl_buf_puts(&b, "[^[:space:]]"); break;
			case 'b': fl_buf_puts(&b, "\\b"); break;
			case 'B': fl_buf_puts(&b, "\\B"); break;
			case 'A': fl_buf_puts(&b, "^"); break;
			case 'z': case 'Z': fl_buf_puts(&b, "$"); break;
			case 't': fl_buf_puts(&b, "\t"); break;
			case 'n': fl_buf_puts(&b, "\n"); break;
			case 'r': fl_buf_puts(&b, "\r"); break;
			case 'f': fl_buf_puts(&b, "\f"); break;
			case 'u': put_utf8(&b, hexn(&p, 4)); break;
			case 'x': put_utf8(&b, hexn(&p, 2)); break;
			case 'Q': {
				const char *e = strstr(p, "\\E");
				size_t n = e ? (size_t)(e - p) : strlen(p);
				for (size_t i = 0; i < n; i++)
					put_lit(&b, (unsigned char)p[i]);
				p += n + (e ? 2 : 0);
				break;
			}
			default:
				if (d >= '1' && d <= '9')
					goto bad;	/* back-references */
				put_lit(&b, (unsigned char)d);
				break;
			}
			continue;
		}
		if (c == '[') {
			p = bracket(p + 1, &b);
			if (!p)
				goto bad;
			continue;
		}
		if (c == '(' && p[1] == '?') {
			if (p[2] == ':') {
				fl_buf_puts(&b, "(");
				p += 3;
				continue;
			}
			if (p[2] == 'i' && p[3] == ')') {
				*icase = 1;
				p += 4;
				continue;
			}
			goto bad;	/* look-around, named groups, other flags */
		}
		if (c == '*' || c == '+' || c == '?' || c == '}')
			after_quant = true;
		fl_buf_append(&b, &c, 1);
		p++;
	}
	return fl_buf_take(&b, NULL);
bad:
	fl_buf_free(&b);
	return NULL;
}

char *fl_regex_to_posix(const char *re)
{
	int icase;
	return translate(re, &icase);
}

/* Compiled expressions are kept (a small table, replaced round-robin): the
 * generator and the matchers apply the same few patterns to many values.
 * glibc's regexec locks the compiled pattern itself, so lookups take the
 * table lock only. */
#define CACHE_SIZE 64

struct cached {
	char *re;
	regex_t rx;
	int ok;
	char msg[160];
};

static struct cached cache[CACHE_SIZE];
static size_t cache_next;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int compile(const char *re, regex_t *rx, char *err, size_t errlen);

static struct cached *lookup(const char *re)
{
	for (size_t i = 0; i < CACHE_SIZE; i++)
		if (cache[i].re && !strcmp(cache[i].re, re))
			return &cache[i];
	struct cached *c = &cache[cache_next];
	cache_next = (cache_next + 1) % CACHE_SIZE;
	if (c->re) {
		if (c->ok)
			regfree(&c->rx);
		free(c->re);
		c->re = NULL;
	}
	c->ok = compile(re, &c->rx, c->msg, sizeof(c->msg)) == 0;
	c->re = strdup(re);
	if (!c->re && c->ok) {
		regfree(&c->rx);
		c->ok = 0;
	}
	return c;
}

int fl_regex_full_match(const char *re, const char *subject, char *err, size_t errlen)
{
	pthread_mutex_lock(&cache_mu);
	struct cached *c = lookup(re);
	int rc;
	if (!c->re) {
		snprintf(err, errlen, "out of memory compiling '%s'", re);
		rc = -1;
	} else if (!c->ok) {
		snprintf(err, errlen, "%s", c->msg);
		rc = -1;
	} else {
		rc = regexec(&c->rx, subject, 0, NULL, 0) == 0 ? 1 : 0;
	}
	pthread_mutex_unlock(&cache_mu);
	return rc;
}

static int compile(const char *re, regex_t *rx, char *err, size_t errlen)
{
	int icase;
	char *t = translate(re, &icase);
	if (!t) {
		snprintf(err, errlen, "regular expression '%s' uses a feature faultline does not support "
			 "(look-around, back-references or class intersection)", re);
		return -1;
	}
	size_t n = strlen(t);
	char *anch = malloc(n + 5);
	if (!anch) {
		free(t);
		return -1;
	}
	snprintf(anch, n + 5, "^(%s)$", t);
	free(t);
	int rc = regcomp(rx, anch, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
	free(anch);
	if (rc) {
		char m[128];
		regerror(rc, rx, m, sizeof(m));
		snprintf(err, errlen, "invalid regular expression '%s': %s", re, m);
		regfree(rx);
		return -1;
	}
	return 0;
}
