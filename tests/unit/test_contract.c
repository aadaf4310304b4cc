/* contract/: reading V2-V4, writing V3/V4, matchers one by one, mismatch
 * paths, regex translation, date formats, generators, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "contract/generate_int.h"
#include "contract/generators.h"
#include "contract/match_int.h"
#include "contract/pact.h"
#include "contract/scaffold.h"
#include "core/json.h"

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);
	if (!v)
		fail_msg("bad JSON in test: %s: %s", e.text, s);
	return v;
}

static struct fl_pact *pact_of(const char *text, char *err, size_t errlen)
{
	json_t *doc = J(text);
	struct fl_pact *p = fl_pact_from_json(doc, "t.json", err, errlen);
	json_decref(doc);
	return p;
}

/* --- reading and writing ---------------------------------------------------- */

static const char v2_pact[] =
	"{\"consumer\":{\"name\":\"web\"},\"provider\":{\"name\":\"money\"},"
	"\"interactions\":[{\"description\":\"a member\",\"providerState\":\"member 7 exists\","
	"\"request\":{\"method\":\"get\",\"path\":\"/members/7\",\"query\":\"a=1&b=x%20y&a=2\","
	"\"headers\":{\"Accept\":\"application/json\"}},"
	"\"response\":{\"status\":200,\"headers\":{\"Content-Type\":\"application/json\"},"
	"\"body\":{\"id\":7,\"name\":\"Ann\",\"tags\":[\"a\",\"b\"]},"
	"\"matchingRules\":{\"$.body.id\":{\"match\":\"type\"},\"$.body.tags\":{\"min\":1},"
	"\"$.headers.Content-Type\":{\"regex\":\"application/json.*\"}}},"
	"\"fancy\":true}],"
	"\"metadata\":{\"pactSpecification\":{\"version\":\"2.0.0\"}}}";

static void test_read_v2(void **state)
{
	(void)state;
	char err[512];
	struct fl_pact *p = pact_of(v2_pact, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->spec_major, 2);
	assert_string_equal(p->consumer, "web");
	assert_int_equal(p->ninteractions, 1);
	struct fl_pact_interaction *it = &p->interactions[0];
	assert_string_equal(fl_json_str(json_array_get(it->states, 0), "name", ""), "member 7 exists");
	assert_int_equal(json_array_size(json_object_get(it->request.query, "a")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(it->request.query, "b"), 0)),
			    "x y");
	json_t *body = json_object_get(it->response.rules, "body");
	assert_non_null(json_object_get(body, "$.id"));
	assert_non_null(json_object_get(body, "$.tags"));
	assert_non_null(json_object_get(json_object_get(it->response.rules, "header"), "Content-Type"));
	/* the unknown attribute became a warning naming its place */
	char *w = fl_json_dumps(p->warnings);
	assert_non_null(strstr(w, "interactions[0]: unknown attribute 'fancy'"));
	free(w);
	/* the rules work: another member with the same shape matches */
	struct fl_pact_response a;
	fl_pact_response_init(&a);
	a.status = 200;
	fl_pact_multimap_add(a.headers, "content-type", "application/json; charset=utf-8");
	json_t *ab = J("{\"id\":8,\"name\":\"Ann\",\"tags\":[\"a\",\"b\",\"c\"]}");
	fl_pact_body_read(&a.body, ab, true, 3);
	json_decref(ab);
	struct fl_pact_mismatches mm = { 0 };
	assert_int_equal(fl_pact_match_response(&it->response, &a, &mm), 0);
	fl_pact_response_clear(&a);
	fl_pact_free(p);
}

static void test_write_roundtrip(void **state)
{
	(void)state;
	char err[512];
	struct fl_pact *p = pact_of(v2_pact, err, sizeof(err));
	assert_non_null(p);
	for (int version = 3; version <= 4; version++) {
		char path[] = "/tmp/fl_pact_rtXXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(fl_pact_save(p, path, version, err, sizeof(err)), 0);
		struct fl_pact *q = fl_pact_load(path, err, sizeof(err));
		assert_non_null(q);
		assert_int_equal(q->spec_major, version);
		assert_int_equal(q->ninteractions, 1);
		assert_string_equal(q->interactions[0].request.path, "/members/7");
		assert_int_equal(q->interactions[0].response.status, 200);
		assert_true(json_equal(q->interactions[0].response.body.value,
				       p->interactions[0].response.body.value));
		assert_true(json_equal(q->interactions[0].response.rules, p->interactions[0].response.rules));
		assert_true(json_equal(q->interactions[0].request.query, p->interactions[0].request.query));
		assert_int_equal(json_array_size(q->warnings), 0);
		/* writing is deterministic */
		char path2[] = "/tmp/fl_pact_rtXXXXXX";
		fd = mkstemp(path2);
		close(fd);
		assert_int_equal(fl_pact_save(q, path2, version, err, sizeof(err)), 0);
		json_t *a = json_load_file(path, 0, NULL), *b = json_load_file(path2, 0, NULL);
		assert_true(json_equal(a, b));
		json_decref(a);
		json_decref(b);
		unlink(path);
		unlink(path2);
		fl_pact_free(q);
	}
	fl_pact_free(p);
}

static void test_malformed(void **state)
{
	(void)state;
	char err[512];
	struct {
		const char *doc, *want;
	} cases[] = {
		{ "[]", "a pact must be a JSON object" },
		{ "{\"interactions\":{}}", "\"interactions\" must be an array" },
		{ "{\"interactions\":[{\"request\":{\"method\":1},\"response\":{}}]}",
		  "interactions[0].request.method: must be a string" },
		{ "{\"interactions\":[{\"request\":{},\"response\":{\"status\":\"x\"}}]}",
		  "interactions[0].response.status" },
		{ "{\"interactions\":[{\"request\":{},\"response\":{\"matchingRules\":{\"body\":"
		  "{\"$.a\":{\"matchers\":[{\"match\":\"telepathy\"}]}}}}}]}",
		  "interactions[0].response.matchingRules.body['$.a']: unknown matcher type 'telepathy'" },
		{ "{\"interactions\":[{\"request\":{},\"response\":{\"matchingRules\":{\"body\":"
		  "{\"$.a[\":{\"matchers\":[{\"match\":\"type\"}]}}}}}]}",
		  "invalid path expression '$.a['" },
		{ "{\"interactions\":[{\"request\":{},\"response\":{\"matchingRules\":{\"body\":"
		  "{\"$.a\":{\"matchers\":[{\"match\":\"regex\"}]}}}}}]}",
		  "regex matcher without a \"regex\" string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		struct fl_pact *p = pact_of(cases[i].doc, err, sizeof(err));
		if (p || !strstr(err, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
		assert_non_null(strstr(err, "t.json"));
	}
	/* not JSON at all: file, line and column */
	char path[] = "/tmp/fl_pact_badXXXXXX";
	int fd = mkstemp(path);
	assert_int_equal(write(fd, "{\n  \"consumer\": ,\n}", 19), 19);
	close(fd);
	assert_null(fl_pact_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
}

/* --- matchers ---------------------------------------------------------------------------- */

/* Match body `actual` against `expected` with `rules` (body category) as a response. */
static size_t body_match(const char *expected, const char *rules, const char *actual,
			 struct fl_pact_mismatches *mm)
{
	struct fl_pact_response e, a;
	fl_pact_response_init(&e);
	fl_pact_response_init(&a);
	json_t *ej = J(expected), *aj = J(actual);
	fl_pact_body_read(&e.body, ej, true, 3);
	fl_pact_body_read(&a.body, aj, true, 3);
	json_decref(ej);
	json_decref(aj);
	char err[256];
	json_t *rv = J(rules);
	json_t *norm = fl_pact_rules_normalise(rv, "rules", err, sizeof(err));
	json_decref(rv);
	if (!norm)
		fail_msg("rules: %s", err);
	json_decref(e.rules);
	e.rules = norm;
	size_t n = fl_pact_match_response(&e, &a, mm);
	fl_pact_response_clear(&e);
	fl_pact_response_clear(&a);
	return n;
}

static void test_matchers(void **state)
{
	(void)state;
	struct {
		const char *matcher, *example, *actual;
		int ok;
	} cases[] = {
		{ "{\"match\":\"equality\"}", "\"a\"", "\"a\"", 1 },
		{ "{\"match\":\"equality\"}", "\"a\"", "\"b\"", 0 },
		{ "{\"match\":\"regex\",\"regex\":\"\\\\d{3}-[A-Z]+\"}", "\"1\"", "\"123-AB\"", 1 },
		{ "{\"match\":\"regex\",\"regex\":\"\\\\d{3}-[A-Z]+\"}", "\"1\"", "\"123-AB!\"", 0 },
		{ "{\"match\":\"regex\",\"regex\":\"(?i)abc\"}", "\"1\"", "\"ABC\"", 1 },
		{ "{\"match\":\"regex\",\"regex\":\"[\\\\w.-]+@[\\\\w.]+\"}", "\"x\"", "\"a.b-c@d.org\"", 1 },
		{ "{\"match\":\"type\"}", "1", "2.5", 1 },
		{ "{\"match\":\"type\"}", "1", "\"2\"", 0 },
		{ "{\"match\":\"type\",\"min\":2}", "[1]", "[1,2]", 1 },
		{ "{\"match\":\"type\",\"min\":2}", "[1]", "[1]", 0 },
		{ "{\"match\":\"type\",\"max\":2}", "[1]", "[1,2,3]", 0 },
		{ "{\"match\":\"include\",\"value\":\"lli\"}", "\"x\"", "\"alligator\"", 1 },
		{ "{\"match\":\"include\",\"value\":\"lli\"}", "\"x\"", "\"crocodile\"", 0 },
		{ "{\"match\":\"integer\"}", "1", "42", 1 },
		{ "{\"match\":\"integer\"}", "1", "4.2", 0 },
		{ "{\"match\":\"integer\"}", "1", "\"42\"", 0 },
		{ "{\"match\":\"decimal\"}", "1.5", "2.25", 1 },
		{ "{\"match\":\"decimal\"}", "1.5", "2", 0 },
		{ "{\"match\":\"number\"}", "1", "2.5", 1 },
		{ "{\"match\":\"number\"}", "1", "true", 0 },
		{ "{\"match\":\"null\"}", "null", "null", 1 },
		{ "{\"match\":\"null\"}", "null", "0", 0 },
		{ "{\"match\":\"boolean\"}", "true", "false", 1 },
		{ "{\"match\":\"boolean\"}", "true", "\"false\"", 0 },
		{ "{\"match\":\"date\",\"format\":\"yyyy-MM-dd\"}", "\"x\"", "\"2026-02-28\"", 1 },
		{ "{\"match\":\"date\",\"format\":\"yyyy-MM-dd\"}", "\"x\"", "\"2026-13-01\"", 0 },
		{ "{\"match\":\"date\",\"format\":\"dd/MM/yyyy\"}", "\"x\"", "\"31/12/1999\"", 1 },
		{ "{\"match\":\"time\",\"format\":\"HH:mm:ss\"}", "\"x\"", "\"23:59:01\"", 1 },
		{ "{\"match\":\"time\",\"format\":\"HH:mm:ss\"}", "\"x\"", "\"24:00:00\"", 0 },
		{ "{\"match\":\"timestamp\",\"format\":\"yyyy-MM-dd'T'HH:mm:ss.SSSXXX\"}", "\"x\"",
		  "\"2026-11-21T23:07:51.123+01:00\"", 1 },
		{ "{\"match\":\"datetime\",\"format\":\"EEE, dd MMM yyyy HH:mm:ss z\"}", "\"x\"",
		  "\"Sat, 21 Nov 2026 23:07:51 GMT\"", 1 },
		{ "{\"match\":\"timestamp\"}", "\"x\"", "\"2026-11-21T23:07:51Z\"", 1 },
		{ "{\"match\":\"timestamp\"}", "\"x\"", "\"yesterday\"", 0 },
		{ "{\"match\":\"notEmpty\"}", "\"x\"", "\"y\"", 1 },
		{ "{\"match\":\"notEmpty\"}", "\"x\"", "\"\"", 0 },
		{ "{\"match\":\"notEmpty\"}", "[1]", "[]", 0 },
		{ "{\"match\":\"semver\"}", "\"1.0.0\"", "\"10.2.3-rc.1+build.5\"", 1 },
		{ "{\"match\":\"semver\"}", "\"1.0.0\"", "\"1.2\"", 0 },
		{ "{\"match\":\"contentType\",\"value\":\"application/json\"}", "\"x\"", "\"{\\\"a\\\":1}\"", 1 },
		{ "{\"match\":\"contentType\",\"value\":\"application/xml\"}", "\"x\"", "\"{\\\"a\\\":1}\"", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char exp[512], rules[512], act[512];
		snprintf(exp, sizeof(exp), "{\"v\":%s}", cases[i].example);
		snprintf(act, sizeof(act), "{\"v\":%s}", cases[i].actual);
		snprintf(rules, sizeof(rules), "{\"body\":{\"$.v\":{\"matchers\":[%s]}}}", cases[i].matcher);
		struct fl_pact_mismatches mm = { 0 };
		size_t n = body_match(exp, rules, act, &mm);
		if ((n == 0) != cases[i].ok) {
			char *t = fl_pact_mismatches_text(&mm);
			fail_msg("case %zu (%s on %s): expected %s\n%s", i, cases[i].matcher, cases[i].actual,
				 cases[i].ok ? "match" : "mismatch", t);
		}
		fl_pact_mismatches_clear(&mm);
	}
}

static void test_structural_matchers(void **state)
{
	(void)state;
	struct fl_pact_mismatches mm = { 0 };
	/* values: keys free, every value like the example */
	assert_int_equal(body_match("{\"m\":{\"a\":1}}",
				    "{\"body\":{\"$.m\":{\"matchers\":[{\"match\":\"values\"}]},"
				    "\"$.m.*\":{\"matchers\":[{\"match\":\"type\"}]}}}",
				    "{\"m\":{\"x\":2,\"y\":3}}", &mm), 0);
	/* eachKey + eachValue */
	const char *each = "{\"body\":{\"$.m\":{\"matchers\":[{\"match\":\"eachKey\",\"rules\":"
			   "[{\"match\":\"regex\",\"regex\":\"[a-z]+\"}]},{\"match\":\"eachValue\","
			   "\"rules\":[{\"match\":\"integer\"}]}]}}}";
	assert_int_equal(body_match("{\"m\":{\"a\":1}}", each, "{\"m\":{\"b\":2,\"c\":3}}", &mm), 0);
	assert_true(body_match("{\"m\":{\"a\":1}}", each, "{\"m\":{\"B9\":2}}", &mm) > 0);
	fl_pact_mismatches_clear(&mm);
	assert_true(body_match("{\"m\":{\"a\":1}}", each, "{\"m\":{\"b\":\"2\"}}", &mm) > 0);
	assert_string_equal(mm.v[0].path, "$.body.m.b");
	fl_pact_mismatches_clear(&mm);
	/* arrayContains with variants, in any order */
	const char *contains = "{\"body\":{\"$.l\":{\"matchers\":[{\"match\":\"arrayContains\",\"variants\":["
			       "{\"index\":0,\"rules\":{\"$.id\":{\"matchers\":[{\"match\":\"integer\"}]}}},"
			       "{\"index\":1,\"rules\":{}}]}]}}}";
	assert_int_equal(body_match("{\"l\":[{\"id\":1,\"k\":\"a\"},{\"id\":2,\"k\":\"b\"}]}", contains,
				    "{\"l\":[{\"id\":2,\"k\":\"b\"},{\"id\":9,\"k\":\"a\"},{\"z\":1}]}", &mm), 0);
	assert_true(body_match("{\"l\":[{\"id\":1,\"k\":\"a\"},{\"id\":2,\"k\":\"b\"}]}", contains,
			       "{\"l\":[{\"id\":9,\"k\":\"a\"}]}", &mm) > 0);
	assert_non_null(strstr(mm.v[0].message, "Variant at index 1"));
	fl_pact_mismatches_clear(&mm);
	/* combine OR */
	const char *either = "{\"body\":{\"$.v\":{\"combine\":\"OR\",\"matchers\":[{\"match\":\"null\"},"
			     "{\"match\":\"integer\"}]}}}";
	assert_int_equal(body_match("{\"v\":1}", either, "{\"v\":null}", &mm), 0);
	assert_int_equal(body_match("{\"v\":1}", either, "{\"v\":5}", &mm), 0);
	assert_true(body_match("{\"v\":1}", either, "{\"v\":\"5\"}", &mm) > 0);
	fl_pact_mismatches_clear(&mm);
}

static void test_mismatch_paths(void **state)
{
	(void)state;
	struct fl_pact_mismatches mm = { 0 };
	assert_true(body_match("{\"transfer\":{\"amount\":100,\"lines\":[{\"n\":1},{\"n\":2}]}}", "{}",
			       "{\"transfer\":{\"amount\":\"100\",\"lines\":[{\"n\":1},{\"n\":3}]}}", &mm) == 2);
	assert_string_equal(mm.v[0].path, "$.body.transfer.amount");
	assert_string_equal(mm.v[0].expected, "100");
	assert_string_equal(mm.v[0].actual, "\"100\"");
	assert_non_null(strstr(mm.v[0].message, "100"));
	assert_string_equal(mm.v[1].path, "$.body.transfer.lines[1].n");
	fl_pact_mismatches_clear(&mm);
	/* the most specific rule wins: [*] beats the parent's type rule */
	assert_int_equal(body_match("{\"a\":[{\"id\":\"x\"}]}",
				    "{\"body\":{\"$.a\":{\"matchers\":[{\"match\":\"type\"}]},"
				    "\"$.a[*].id\":{\"matchers\":[{\"match\":\"regex\",\"regex\":\"[a-z]\"}]}}}",
				    "{\"a\":[{\"id\":\"q\"},{\"id\":\"r\"}]}", &mm), 0);
	assert_true(body_match("{\"a\":[{\"id\":\"x\"}]}",
			       "{\"body\":{\"$.a\":{\"matchers\":[{\"match\":\"type\"}]},"
			       "\"$.a[*].id\":{\"matchers\":[{\"match\":\"regex\",\"regex\":\"[a-z]\"}]}}}",
			       "{\"a\":[{\"id\":\"q\"},{\"id\":\"RR\"}]}", &mm) > 0);
	assert_string_equal(mm.v[0].path, "$.body.a[1].id");
	fl_pact_mismatches_clear(&mm);
}

static void test_regex_translation(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(fl_regex_full_match("\\d+\\.\\d{2}", "12.50", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("\\d+", "12a", err, sizeof(err)), 0);
	assert_int_equal(fl_regex_full_match("[\\d-]+", "1-2-3", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("\\/path\\/(?:a|b)", "/path/b", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("a.*?b", "axxb", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("\\Qa.b\\E", "a.b", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("\\Qa.b\\E", "axb", err, sizeof(err)), 0);
	assert_int_equal(fl_regex_full_match("\\u00e9t\\u00e9", "\xc3\xa9t\xc3\xa9", err, sizeof(err)), 1);
	/* Java features PCRE2 shares: look-around, back-references, possessive */
	assert_int_equal(fl_regex_full_match("a(?=b)b", "ab", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("(?!x)\\w+", "xy", err, sizeof(err)), 0);
	assert_int_equal(fl_regex_full_match("a(?<=a)(b)\\1", "abb", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("(ab)\\1", "abab", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("(ab)\\1", "abac", err, sizeof(err)), 0);
	assert_int_equal(fl_regex_full_match("a++b", "aab", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("(?i)abc", "ABC", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("\\x41", "A", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("a(", "a", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing closing parenthesis"));
	/* bounded: over the compiled size, nesting and step limits */
	assert_int_equal(fl_regex_full_match("(.*){1,32767}", "a", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(fl_regex_full_match("(a{1,1000}){1,1000}", "a", err, sizeof(err)), 1);
	assert_int_equal(fl_regex_full_match("(a{1,1000}){1,1000}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
					     err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(fl_regex_full_match("((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
					     "a", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nesting limit"));
	assert_int_equal(fl_regex_full_match("(\\w|\\w\\w)*[^\\w]", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					     err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
}

static void test_generators(void **state)
{
	(void)state;
	struct fl_prng r;
	fl_prng_seed(&r, 42);
	char err[256];
	json_t *g = J("{\"type\":\"RandomInt\",\"min\":5,\"max\":7}");
	for (int i = 0; i < 50; i++) {
		json_t *v = fl_gen_value(g, NULL, &r, err, sizeof(err));
		assert_true(json_is_integer(v) && json_integer_value(v) >= 5 && json_integer_value(v) <= 7);
		json_decref(v);
	}
	json_decref(g);
	const char *res[] = { "\\d{3}-[A-Z]{2}", "(red|green|blue)-\\w+", "[a-f0-9]{8}\\.x?", "ab+c*" };
	for (size_t i = 0; i < 4; i++) {
		char *s = fl_gen_regex(res[i], &r);
		assert_non_null(s);
		assert_int_equal(fl_regex_full_match(res[i], s, err, sizeof(err)), 1);
		free(s);
	}
	g = J("{\"type\":\"Uuid\"}");
	json_t *v = fl_gen_value(g, NULL, &r, err, sizeof(err));
	assert_int_equal(fl_regex_full_match("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
					     json_string_value(v), err, sizeof(err)), 1);
	json_decref(v);
	json_decref(g);
	g = J("{\"type\":\"DateTime\",\"format\":\"yyyy-MM-dd'T'HH:mm:ss\"}");
	v = fl_gen_value(g, NULL, &r, err, sizeof(err));
	assert_int_equal(fl_datefmt_match("yyyy-MM-dd'T'HH:mm:ss", 'T', json_string_value(v)), 1);
	json_decref(v);
	json_decref(g);
	/* ProviderState: whole expressions keep the type, embedded ones become text */
	json_t *st = J("{\"id\":42,\"name\":\"ann\"}");
	g = J("{\"type\":\"ProviderState\",\"expression\":\"${id}\"}");
	v = fl_gen_value(g, st, &r, err, sizeof(err));
	assert_true(json_is_integer(v) && json_integer_value(v) == 42);
	json_decref(v);
	json_decref(g);
	g = J("{\"type\":\"ProviderState\",\"expression\":\"/members/${id}/${name}\"}");
	v = fl_gen_value(g, st, &r, err, sizeof(err));
	assert_string_equal(json_string_value(v), "/members/42/ann");
	json_decref(v);
	json_decref(g);
	g = J("{\"type\":\"ProviderState\",\"expression\":\"${missing}\"}");
	assert_null(fl_gen_value(g, st, &r, err, sizeof(err)));
	assert_non_null(strstr(err, "missing"));
	json_decref(g);
	/* applied to a request body by path */
	struct fl_pact_request rq;
	fl_pact_request_init(&rq);
	rq.path = strdup("/x");
	json_t *b = J("{\"a\":{\"id\":1},\"l\":[{\"n\":0},{\"n\":0}]}");
	fl_pact_body_read(&rq.body, b, true, 3);
	json_decref(b);
	json_decref(rq.generators);
	rq.generators = J("{\"body\":{\"$.a.id\":{\"type\":\"ProviderState\",\"expression\":\"${id}\"},"
			  "\"$.l[*].n\":{\"type\":\"RandomInt\",\"min\":1,\"max\":1}},"
			  "\"path\":{\"type\":\"ProviderState\",\"expression\":\"/members/${id}\"}}");
	assert_int_equal(fl_gen_apply_request(&rq, st, &r, err, sizeof(err)), 0);
	assert_string_equal(rq.path, "/members/42");
	char *out = fl_json_dumps(rq.body.value);
	assert_string_equal(out, "{\"a\":{\"id\":42},\"l\":[{\"n\":1},{\"n\":1}]}");
	free(out);
	fl_pact_request_clear(&rq);
	json_decref(st);
}

static void test_xml_errors(void **state)
{
	(void)state;
	struct fl_pact_response e, a;
	fl_pact_response_init(&e);
	fl_pact_response_init(&a);
	fl_pact_multimap_add(e.headers, "Content-Type", "application/xml");
	fl_pact_multimap_add(a.headers, "Content-Type", "application/xml");
	json_t *ej = json_string("<a><b>1</b></a>"), *aj = json_string("<a><b>1</c></a>");
	fl_pact_body_read(&e.body, ej, true, 3);
	fl_pact_body_read(&a.body, aj, true, 3);
	struct fl_pact_mismatches mm = { 0 };
	assert_int_equal(fl_pact_match_response(&e, &a, &mm), 1);
	assert_non_null(strstr(mm.v[0].message, "does not parse"));
	assert_non_null(strstr(mm.v[0].message, "line 1 column"));
	fl_pact_mismatches_clear(&mm);
	json_decref(ej);
	json_decref(aj);
	fl_pact_response_clear(&e);
	fl_pact_response_clear(&a);
}

static void test_scaffold(void **state)
{
	(void)state;
	char err[512];
	struct fl_pact *p = pact_of(v2_pact, err, sizeof(err));
	struct fl_buf b;
	fl_buf_init(&b, 0);
	assert_int_equal(fl_scaffold_render(p, "web-money.json", NULL, &b), 0);
	assert_non_null(strstr(b.data, "describe(\"contract web -> money\""));
	assert_non_null(strstr(b.data, "it(\"a member\""));
	assert_non_null(strstr(b.data, "-- given: member 7 exists"));
	assert_non_null(strstr(b.data, "fl.http.request(\"get\", provider() .. \"/members/7?a=1&a=2&b=x%20y\""));
	assert_non_null(strstr(b.data, "contract.check(r,"));
	assert_non_null(strstr(b.data, "\"matchingRules\""));
	fl_buf_free(&b);
	fl_pact_free(p);
}

static void test_path_templates(void **state)
{
	(void)state;
	struct {
		const char *path, *templ, *regex;
	} cases[] = {
		{ "/members/42", "/members/{id}", "/members/[0-9]+" },
		{ "/v1/items", "/v1/items", NULL },
		{ "/orders/3f2b8c1e-1d2a-4c3b-9a8e-0f1e2d3c4b5a/lines/7", "/orders/{id}/lines/{id2}",
		  "/orders/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/lines/[0-9]+" },
		{ "/tx/TX-2024-0001", "/tx/{id}", "/tx/[^/]+" },
		{ "/blobs/deadbeef01", "/blobs/{id}", "/blobs/[0-9a-fA-F]+" },
		{ "/a.b/c", "/a.b/c", NULL },
		{ "/", "/", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t, *r;
		fl_gen_path_template(cases[i].path, &t, &r);
		assert_string_equal(t, cases[i].templ);
		if (cases[i].regex) {
			assert_non_null(r);
			assert_string_equal(r, cases[i].regex);
			char err[64];
			assert_int_equal(fl_regex_full_match(r, cases[i].path, err, sizeof(err)), 1);
		} else {
			assert_null(r);
		}
		free(t);
		free(r);
	}
	assert_true(fl_gen_is_secret("Authorization"));
	assert_true(fl_gen_is_secret("X-Api-Key"));
	assert_true(fl_gen_is_secret("access_token"));
	assert_false(fl_gen_is_secret("amount"));
	assert_false(fl_gen_keep_request_header("Host"));
	assert_false(fl_gen_keep_request_header("traceparent"));
	assert_false(fl_gen_keep_request_header("Cookie"));
	assert_true(fl_gen_keep_request_header("Idempotency-Key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_v2),		 cmocka_unit_test(test_write_roundtrip),
		cmocka_unit_test(test_malformed),	 cmocka_unit_test(test_matchers),
		cmocka_unit_test(test_structural_matchers), cmocka_unit_test(test_mismatch_paths),
		cmocka_unit_test(test_regex_translation), cmocka_unit_test(test_generators),
		cmocka_unit_test(test_xml_errors),	 cmocka_unit_test(test_scaffold),
		cmocka_unit_test(test_path_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
