/* A flat view of one JSON object (a history line) without building a tree:
 * its top-level keys with the raw text of their values. The checkers read
 * millions of lines; this avoids an allocation per value. Private to
 * checkers/. Values that need a tree (snapshot accounts, counters) are
 * parsed with jansson from their span when asked.
 *
 * A view borrows the text it was parsed from. */
#ifndef FL_CHECKERS_FLATJSON_H
#define FL_CHECKERS_FLATJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FV_MAX 64

struct fv_field {
	const char *k, *v; /* key (without quotes), value text (strings without quotes) */
	uint32_t klen, vlen;
	char type; /* 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' object, 'a' array */
	bool esc;  /* string value contains escapes */
};

struct fv {
	struct fv_field f[FV_MAX];
	int n;
};

/* Parse the object in text[0..len). Returns 0, or -1 when the text is not
 * a JSON object this parser takes (malformed, escaped keys, more than
 * FV_MAX keys): the caller falls back to jansson. */
int fv_parse(const char *text, size_t len, struct fv *out);

/* The field named k, or NULL. */
const struct fv_field *fv_get(const struct fv *o, const char *k);

/* True when k is present with a value of type `type` ('s', 'n', ...). */
bool fv_is(const struct fv *o, const char *k, char type);

/* Numbers: 1 and *out set when k is a number (reals truncated; a real past
 * int64 is not one), else 0. */
int fv_i64(const struct fv *o, const char *k, int64_t *out);
double fv_num(const struct fv *o, const char *k, double def);
bool fv_true(const struct fv *o, const char *k);

/* The string value of k unescaped into buf (NUL-terminated, truncated to
 * n - 1 bytes), or NULL when absent or not a string. */
const char *fv_str(const struct fv *o, const char *k, char *buf, size_t n);

/* The text to intern for k: a string (unescaped) or an integer's digits,
 * in buf; NULL otherwise. */
const char *fv_text(const struct fv *o, const char *k, char *buf, size_t n);

/* Parse the object value of k as a view. 0, or -1 when absent / not an
 * object / not flat-parseable (out is then empty). */
int fv_sub(const struct fv *o, const char *k, struct fv *out);

/* The value of k as a jansson tree (new reference), or NULL. */
json_t *fv_json(const struct fv *o, const char *k);

#endif
