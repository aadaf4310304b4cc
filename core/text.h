/* Text encodings, one of each: UTF-8, hex digits, a string hash,
 * percent-encoding (RFC 3986), XML/HTML character escapes, JSON string
 * escapes, Prometheus label values and base64. Every writer appends to a struct fl_buf and returns 0
 * or a negative FL_E* (FL_ENOMEM, FL_E2BIG past the buffer's cap); strings
 * passed in are borrowed. Bytes that are not valid UTF-8 are written as
 * U+FFFD wherever the output format needs text. */
#ifndef FL_CORE_TEXT_H
#define FL_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fl_buf;

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define FL_TEXT_REPLACEMENT "\xEF\xBF\xBD"

/* --- UTF-8 ------------------------------------------------------------------ */

/* Encode code point cp into out (1 to 4 bytes, not NUL-terminated) and
 * return the length. Surrogates and values past U+10FFFF give U+FFFD. */
size_t fl_text_utf8_encode(uint32_t cp, char out[4]);

/* Append code point cp as UTF-8 (as fl_text_utf8_encode). */
int fl_text_utf8_put(struct fl_buf *b, uint32_t cp);

/* Decode one UTF-8 sequence from s (n > 0 bytes available): returns its
 * length and sets *cp, or returns 0 when the bytes at s do not start valid
 * UTF-8 (overlong, surrogate, beyond U+10FFFF, truncated, stray byte). */
size_t fl_text_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Whether the n bytes at s are valid UTF-8 (NUL bytes are valid). */
bool fl_text_utf8_valid(const char *s, size_t n);

/* A malloc'd copy of s (NUL-terminated; NULL gives NULL) where every byte
 * that does not start valid UTF-8 is replaced by U+FFFD. Caller frees. */
char *fl_text_utf8_clean(const char *s);

/* --- hex digits ------------------------------------------------------------- */

/* The value of hex digit c (either case), or -1. */
int fl_text_hexval(int c);

/* --- hashing ----------------------------------------------------------------- */

/* A 32-bit hash of the NUL-terminated string s (FNV-1a), for hash tables. */
uint32_t fl_text_hash(const char *s);

/* --- percent-encoding --------------------------------------------------------- */

/* Which bytes percent-encoding leaves as they are; every other byte is
 * written %XX (upper-case hex). */
enum fl_text_pct {
	FL_PCT_UNRESERVED, /* RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~ (query
				 * parameters, one path segment) */
	FL_PCT_PATH,	   /* a whole path: printable ASCII but space and
				 * % ? # " < > \ ^ ` { | } */
	FL_PCT_PRINTABLE,  /* printable ASCII but %: makes any bytes readable
				 * text that decodes back to them */
};

/* Append the n bytes at s percent-encoded as `keep` says. */
int fl_text_pct_encode(struct fl_buf *b, const char *s, size_t n, enum fl_text_pct keep);

/* Decode %XX sequences (and '+' as a space when plus_space) of the n bytes
 * at s into a malloc'd NUL-terminated string (caller frees), its length in
 * *outlen when not NULL. A '%' not followed by two hex digits stays as it
 * is. NULL when out of memory. */
char *fl_text_pct_decode(const char *s, size_t n, bool plus_space, size_t *outlen);

/* --- XML and HTML ------------------------------------------------------------- */

/* Flags for fl_text_xml_escape. */
#define FL_TEXT_XML_ATTR                                                                           \
	1u /* an attribute value: also " as &quot;, and line
				 * breaks and tabs as references, which parsers
				 * would otherwise turn into spaces */

/* Append the n bytes at s as XML 1.0 character data (also good for HTML
 * text and attributes): & < > as entities, \r as &#13;, invalid UTF-8 and
 * U+FFFE/U+FFFF as U+FFFD, and the control characters XML cannot hold as
 * the visible text "\xHH", so nothing is lost and the document parses. */
int fl_text_xml_escape(struct fl_buf *b, const char *s, size_t n, unsigned flags);

/* Append the n bytes at s with XML entity and character references
 * resolved (&lt; &gt; &amp; &quot; &apos; &#N; &#xH;); other text, and an
 * unknown or unterminated reference, is copied as it is. */
int fl_text_xml_unescape(struct fl_buf *b, const char *s, size_t n);

/* --- JSON strings ------------------------------------------------------------- */

/* Append the n bytes at s as the inside of a JSON string (no quotes):
 * " and \ escaped, control characters as \n \t \r \b \f or \u00XX,
 * invalid UTF-8 as U+FFFD. */
int fl_text_json_escape(struct fl_buf *b, const char *s, size_t n);

/* Resolve the escapes of the n bytes at s, the inside of a JSON string,
 * into out (outsz >= 8 bytes), NUL-terminated. Surrogate pairs join; a
 * lone surrogate or a bad \u escape gives U+FFFD. Stops early, at a whole
 * character, when fewer than five bytes of out are left. Returns the
 * length written. */
size_t fl_text_json_unescape(const char *s, size_t n, char *out, size_t outsz);

/* --- Prometheus text format --------------------------------------------------- */

/* Append s (NUL-terminated) as a label value: \ " and line feed escaped. */
int fl_text_prom_escape(struct fl_buf *b, const char *s);

/* --- base64 ----------------------------------------------------------------- */

/* Append the n bytes at data as padded base64 (RFC 4648 alphabet). */
int fl_text_b64_encode(struct fl_buf *b, const void *data, size_t n);

/* Decode base64 text s (NUL-terminated), standard or URL-safe alphabet;
 * padding, white space and other characters are skipped. Returns malloc'd
 * bytes with a NUL after them (caller frees) and their count in *outlen,
 * or NULL when out of memory. */
char *fl_text_b64_decode(const char *s, size_t *outlen);

#endif
