/* core/text: UTF-8, hex, percent-encoding, XML, JSON strings, Prometheus
 * label values, base64. Round trips over every byte value, and the exact
 * output for the inputs each encoder was written for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/text.h"

/* The text an encoder appends for the n bytes at s. */
static char *enc(int (*fn)(struct fl_buf *, const char *, size_t, unsigned), const char *s,
		 size_t n, unsigned flags)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	assert_int_equal(fn(&b, s, n, flags), 0);
	return fl_buf_take(&b, NULL);
}

static int pct(struct fl_buf *b, const char *s, size_t n, unsigned keep)
{
	return fl_text_pct_encode(b, s, n, (enum fl_text_pct)keep);
}

static int json(struct fl_buf *b, const char *s, size_t n, unsigned flags)
{
	(void)flags;
	return fl_text_json_escape(b, s, n);
}

static int unxml(struct fl_buf *b, const char *s, size_t n, unsigned flags)
{
	(void)flags;
	return fl_text_xml_unescape(b, s, n);
}

#define assert_enc(fn, in, flags, want)                                                          \
	do {                                                                                     \
		char *got_ = enc(fn, in, sizeof(in) - 1, flags);                                 \
		assert_string_equal(got_, want);                                                 \
		free(got_);                                                                      \
	} while (0)

static void test_utf8(void **state)
{
	(void)state;
	static const struct { uint32_t cp; const char *utf8; } cases[] = {
		{ 0x41, "A" },
		{ 0xe9, "\xC3\xA9" },
		{ 0x20ac, "\xE2\x82\xAC" },
		{ 0x1f600, "\xF0\x9F\x98\x80" },
		{ 0x10ffff, "\xF4\x8F\xBF\xBF" },
		{ 0xd800, FL_TEXT_REPLACEMENT },	/* a surrogate is not a character */
		{ 0x110000, FL_TEXT_REPLACEMENT },	/* past Unicode */
		{ 0x7fffffff, FL_TEXT_REPLACEMENT },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[4];
		size_t n = fl_text_utf8_encode(cases[i].cp, out);
		assert_int_equal(n, strlen(cases[i].utf8));
		assert_memory_equal(out, cases[i].utf8, n);
		uint32_t back;
		assert_int_equal(fl_text_utf8_decode(out, n, &back), n);
		if (strcmp(cases[i].utf8, FL_TEXT_REPLACEMENT) != 0)
			assert_int_equal(back, cases[i].cp);
	}
	/* every code point encodes to valid UTF-8 that decodes to itself */
	for (uint32_t cp = 0; cp <= 0x10ffff; cp += 7) {
		char out[4];
		size_t n = fl_text_utf8_encode(cp, out);
		uint32_t back;
		assert_int_equal(fl_text_utf8_decode(out, n, &back), n);
		if (cp < 0xd800 || cp > 0xdfff)
			assert_int_equal(back, cp);
	}
	uint32_t cp;
	assert_int_equal(fl_text_utf8_decode("\xC0\xAF", 2, &cp), 0);	/* overlong */
	assert_int_equal(fl_text_utf8_decode("\xED\xA0\x80", 3, &cp), 0);	/* surrogate */
	assert_int_equal(fl_text_utf8_decode("\xE2\x82", 2, &cp), 0);	/* truncated */
	assert_int_equal(fl_text_utf8_decode("\x80", 1, &cp), 0);	/* stray continuation */
	assert_true(fl_text_utf8_valid("a\0\xC3\xA9", 4));
	assert_false(fl_text_utf8_valid("a\xFF", 2));

	char *c = fl_text_utf8_clean("ok \xFF\xC3 \xC3\xA9");
	assert_string_equal(c, "ok " FL_TEXT_REPLACEMENT FL_TEXT_REPLACEMENT " \xC3\xA9");
	free(c);
	assert_null(fl_text_utf8_clean(NULL));
}

static void test_hex(void **state)
{
	(void)state;
	const char *digits = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		assert_int_equal(fl_text_hexval(digits[i]), i);
		assert_int_equal(fl_text_hexval(digits[i] >= 'a' ? digits[i] - 'a' + 'A' : digits[i]), i);
	}
	assert_int_equal(fl_text_hexval('g'), -1);
	assert_int_equal(fl_text_hexval('/'), -1);
	assert_int_equal(fl_text_hexval(0), -1);
}

static void test_pct(void **state)
{
	(void)state;
	assert_enc(pct, "a b/c?d=e&f~g.h_i-j%", FL_PCT_UNRESERVED,
		   "a%20b%2Fc%3Fd%3De%26f~g.h_i-j%25");
	assert_enc(pct, "/users/a b/{id}?x#y%\"", FL_PCT_PATH, "/users/a%20b/%7Bid%7D%3Fx%23y%25%22");
	assert_enc(pct, "GET /\x01\xFF 100%", FL_PCT_PRINTABLE, "GET /%01%FF 100%25");
	assert_enc(pct, "\xC3\xA9", FL_PCT_UNRESERVED, "%C3%A9");

	/* every byte value survives encode + decode, whatever the set */
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	for (unsigned keep = FL_PCT_UNRESERVED; keep <= FL_PCT_PRINTABLE; keep++) {
		struct fl_buf b;
		fl_buf_init(&b, 0);
		assert_int_equal(fl_text_pct_encode(&b, all, sizeof(all), keep), 0);
		size_t n;
		char *back = fl_text_pct_decode(b.data, b.len, false, &n);
		assert_int_equal(n, sizeof(all));
		assert_memory_equal(back, all, n);
		free(back);
		fl_buf_free(&b);
	}

	size_t n;
	char *d = fl_text_pct_decode("a+b%41%4g%%2", 12, true, &n);
	assert_string_equal(d, "a bA%4g%%2");
	assert_int_equal(n, strlen(d));
	free(d);
	d = fl_text_pct_decode("a+b", 3, false, NULL);
	assert_string_equal(d, "a+b");
	free(d);

	/* a buffer's cap is honoured */
	struct fl_buf b;
	fl_buf_init(&b, 8);
	assert_int_equal(fl_text_pct_encode(&b, "\x01\x02\x03\x04", 4, FL_PCT_UNRESERVED),
			 FL_E2BIG);
	fl_buf_free(&b);
}

static void test_xml(void **state)
{
	(void)state;
	assert_enc(fl_text_xml_escape, "<a href=\"x\">&'\n\t\r", 0,
		   "&lt;a href=\"x\"&gt;&amp;'\n\t&#13;");
	assert_enc(fl_text_xml_escape, "<a href=\"x\">&'\n\t\r", FL_TEXT_XML_ATTR,
		   "&lt;a href=&quot;x&quot;&gt;&amp;'&#10;&#9;&#13;");
	/* what XML 1.0 cannot hold stays visible; invalid UTF-8 becomes U+FFFD */
	assert_enc(fl_text_xml_escape, "bell\x07 \xFF \xEF\xBF\xBE \xC3\xA9", 0,
		   "bell\\x07 " FL_TEXT_REPLACEMENT " " FL_TEXT_REPLACEMENT " \xC3\xA9");

	assert_enc(unxml, "&lt;b&gt; &amp;&quot;&apos; &#65;&#x42;&#x1F600; &#0; &nope; & x", 0,
		   "<b> &\"' AB\xF0\x9F\x98\x80 " FL_TEXT_REPLACEMENT " &nope; & x");
	assert_enc(unxml, "&#x110000;&#xD800;", 0, FL_TEXT_REPLACEMENT FL_TEXT_REPLACEMENT);

	/* escape then unescape gives the text back */
	const char *text = "if (a < b && c > d) say(\"hi\") \xE2\x82\xAC";
	char *e = enc(fl_text_xml_escape, text, strlen(text), FL_TEXT_XML_ATTR);
	char *u = enc(unxml, e, strlen(e), 0);
	assert_string_equal(u, text);
	free(e);
	free(u);
}

static void test_json(void **state)
{
	(void)state;
	assert_enc(json, "q\" b\\ \n\t\r\b\f\x01 \xC3\xA9 \xFF", 0,
		   "q\\\" b\\\\ \\n\\t\\r\\b\\f\\u0001 \xC3\xA9 " FL_TEXT_REPLACEMENT);

	char out[64];
	const char *in = "a\\n\\\"\\/\\u00e9\\ud83d\\ude00\\ud800x\\uzzzz";
	size_t n = fl_text_json_unescape(in, strlen(in), out, sizeof(out));
	assert_string_equal(out, "a\n\"/\xC3\xA9\xF0\x9F\x98\x80" FL_TEXT_REPLACEMENT "x"
				 FL_TEXT_REPLACEMENT);
	assert_int_equal(n, strlen(out));
	/* a small buffer stops at a whole character */
	n = fl_text_json_unescape("abcdefghij", 10, out, 8);
	assert_string_equal(out, "abcd");
	assert_int_equal(n, 4);

	/* escape then unescape gives valid text back */
	const char *text = "tab\there \"quoted\" back\\slash \x01 \xE2\x82\xAC";
	char *e = enc(json, text, strlen(text), 0);
	fl_text_json_unescape(e, strlen(e), out, sizeof(out));
	assert_string_equal(out, text);
	free(e);
}

static void test_prom(void **state)
{
	(void)state;
	struct fl_buf b;
	fl_buf_init(&b, 0);
	assert_int_equal(fl_text_prom_escape(&b, "a\"b\\c\nd"), 0);
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	fl_buf_free(&b);
}

static void test_b64(void **state)
{
	(void)state;
	static const struct { const char *raw, *b64; } rfc4648[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		struct fl_buf b;
		fl_buf_init(&b, 0);
		assert_int_equal(fl_text_b64_encode(&b, rfc4648[i].raw, strlen(rfc4648[i].raw)), 0);
		assert_string_equal(b.data, rfc4648[i].b64);
		size_t n;
		char *back = fl_text_b64_decode(rfc4648[i].b64, &n);
		assert_int_equal(n, strlen(rfc4648[i].raw));
		assert_string_equal(back, rfc4648[i].raw);
		free(back);
		fl_buf_free(&b);
	}
	/* URL-safe alphabet, white space and missing padding are accepted */
	size_t n;
	char *d = fl_text_b64_decode("-_-_\n Zm8", &n);
	assert_int_equal(n, 5);
	assert_memory_equal(d, "\xFB\xFF\xBF" "fo", 5);
	free(d);

	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	struct fl_buf b;
	fl_buf_init(&b, 0);
	assert_int_equal(fl_text_b64_encode(&b, all, sizeof(all)), 0);
	d = fl_text_b64_decode(b.data, &n);
	assert_int_equal(n, sizeof(all));
	assert_memory_equal(d, all, n);
	free(d);
	fl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8), cmocka_unit_test(test_hex),
		cmocka_unit_test(test_pct),  cmocka_unit_test(test_xml),
		cmocka_unit_test(test_json), cmocka_unit_test(test_prom),
		cmocka_unit_test(test_b64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
