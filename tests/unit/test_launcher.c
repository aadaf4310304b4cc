/* launcher: the topology model (checks, start layers) and placeholders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/errors.h"
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

static json_t *model(const char *services)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "{\"file\": \"t.lua\", \"services\": %s}", services);
	json_t *m = json_loads(buf, 0, NULL);
	assert_non_null(m);
	return m;
}

static void test_check(void **state)
{
	(void)state;
	static const struct {
		const char *services, *err;
	} cases[] = {
		{ "[{\"name\": \"a\", \"command\": \"x\"}]", NULL },
		{ "[{\"name\": \"a\", \"command\": \"x\", \"calls\": {}}]", NULL }, /* Lua's {} */
		{ "[]", "services must be a non-empty list" },
		{ "[{\"name\": \"a\", \"command\": \"x\", \"cmd\": 1}]", "service 'a': " },
		{ "[{\"name\": \"a\"}]", "needs command (or attach = URL)" },
		{ "[{\"name\": \"a\", \"command\": \"x\", \"calls\": [\"b\"]}]",
		  "calls names 'b', which is not a service" },
		{ "[{\"name\": \"a\", \"command\": \"x\"}, {\"name\": \"a\", \"command\": \"y\"}]",
		  "declared twice" },
		{ "[{\"name\": \"a b\", \"command\": \"x\"}]", "must be 1-48 letters" },
		{ "[{\"name\": \"a\", \"attach\": \"ftp://x\"}]", "attach must be an http:// URL" },
		{ "[{\"name\": \"a\", \"command\": \"x\", \"ready\": {\"http\": \"/r\", \"tcp\": "
		  "true}}]",
		  "ready must be one of" },
		{ "[{\"name\": \"a\", \"command\": \"x\", \"timeout\": 0}]",
		  "timeout must be seconds" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *m = model(cases[i].services);
		char err[512] = "";
		int rc = fl_launcher_model_check(m, err, sizeof(err));
		if (!cases[i].err)
			assert_int_equal(rc, 0);
		else {
			assert_int_equal(rc, FL_EINVAL);
			if (!strstr(err, cases[i].err))
				fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].err);
			assert_non_null(strstr(err, "t.lua"));
		}
		json_decref(m);
	}
}

static void test_layers(void **state)
{
	(void)state;
	json_t *m = model("[{\"name\": \"front\", \"command\": \"x\", \"calls\": [\"mid\"]},"
			  " {\"name\": \"mid\", \"command\": \"x\", \"calls\": [\"db\"], "
			  "\"after\": [\"log\"]},"
			  " {\"name\": \"db\", \"command\": \"x\"}, {\"name\": \"log\", "
			  "\"command\": \"x\"}]");
	char err[256];
	json_t *l = fl_launcher_model_layers(m, err, sizeof(err));
	assert_non_null(l);
	char *s = json_dumps(l, JSON_COMPACT);
	assert_string_equal(s, "[[\"db\",\"log\"],[\"mid\"],[\"front\"]]");
	free(s);
	json_decref(l);
	json_decref(m);
	m = model("[{\"name\": \"a\", \"command\": \"x\", \"calls\": [\"b\"]},"
		  " {\"name\": \"b\", \"command\": \"x\", \"after\": [\"a\"]}]");
	assert_null(fl_launcher_model_layers(m, err, sizeof(err)));
	assert_non_null(strstr(err, "a cycle"));
	json_decref(m);
}

static void test_expand(void **state)
{
	(void)state;
	json_t *m = model("[{\"name\": \"a\", \"command\": \"x\", \"calls\": [\"b\"]}, {\"name\": "
			  "\"b\", \"command\": \"x\"}]");
	json_t *services = json_object_get(m, "services");
	json_t *st = json_pack("{s:s, s:i, s:s}", "host", "127.0.0.1", "port", 4242, "url",
			       "http://127.0.0.1:4242");
	json_t *states = json_pack("{s:O, s:{s:s}}", "a", st, "b", "url", "http://127.0.0.1:5000");
	json_t *links = json_pack("{s:{s:s}}", "a->b", "listen", "127.0.0.1:6000");
	struct fl_expand_ctx c = { .file = "t.lua",
				   .data = "/d",
				   .dir = "/top",
				   .services = services,
				   .service = json_array_get(services, 0),
				   .state = st,
				   .states = states,
				   .links = links,
				   .seed = "9" };
	static const struct {
		const char *in, *out, *err;
	} cases[] = {
		{ "--port={port}", "--port=4242", NULL },
		{ "{data}/a {dir} {host} {seed}", "/d/a /top 127.0.0.1 9", NULL },
		{ "{link:b}/x", "http://127.0.0.1:6000/x", NULL },
		{ "{url:b}", "http://127.0.0.1:5000", NULL },
		{ "{{port}}", "{port}", NULL },
		{ "{link:a}", NULL, "'a' is not in its calls" },
		{ "{link:zz}", NULL, "names no service" },
		{ "{nope}", NULL, "unknown placeholder {nope}" },
		{ "{port", NULL, "unclosed" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256], err[512] = "";
		int rc = fl_launcher_expand(cases[i].in, &c, "args[1]", out, sizeof(out), err,
					    sizeof(err));
		if (cases[i].out) {
			assert_int_equal(rc, 0);
			assert_string_equal(out, cases[i].out);
		} else {
			assert_int_equal(rc, FL_EINVAL);
			if (!strstr(err, cases[i].err) || !strstr(err, "service 'a': args[1]"))
				fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].err);
		}
	}
	char name[32];
	fl_launcher_env_name("payments-v2.eu", name, sizeof(name));
	assert_string_equal(name, "PAYMENTS_V2_EU");
	json_decref(st);
	json_decref(states);
	json_decref(links);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_expand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
