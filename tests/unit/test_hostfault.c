/* Host-fault specs and the /host API's answers that need no kernel: every
 * malformed or out-of-bounds spec is a 4xx JSON error naming the field, and
 * nothing is held afterwards. (The kernel side runs as root in
 * tests/selftest/agent_netns.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/errors.h"
#include "hostfault/hostfault.h"

static struct fl_hostfault *H;

static int setup(void **state)
{
	(void)state;
	struct fl_hostfault_opts o = { .table = "fltest", .state_dir = "", .max_ttl_ms = 60000 };
	char err[256];
	H = fl_hostfault_new(&o, err, sizeof(err));
	return H ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fl_hostfault_free(H);
	return 0;
}

/* POST body -> status, and the error names `want` */
static void post(const char *body, int status, const char *want)
{
	int st = 0;
	json_t *reply = NULL;
	fl_hostfault_api_handle(H, "POST", "/host/faults", body, body ? strlen(body) : 0, &st,
				&reply);
	const char *msg = json_string_value(json_object_get(reply, "error"));
	if (st != status || !msg || !strstr(msg, want))
		fail_msg("%s -> %d %s (want %d, '%s')", body ? body : "(null)", st,
			 msg ? msg : "(no error)", status, want);
	assert_int_equal(json_integer_value(json_object_get(reply, "status")), status);
	json_decref(reply);
}

static void test_bad_specs(void **state)
{
	(void)state;
	post(NULL, 400, "empty body");
	post("{nope", 400, "malformed JSON");
	post("[1]", 400, "JSON object");
	post("{}", 400, "type");
	post("{\"type\":\"flood\"}", 400, "unknown 'flood'");
	post("{\"type\":\"partition\",\"peer\":\"10.0.0.1\"}", 400, "ttl_ms");
	post("{\"type\":\"partition\",\"ttl_ms\":0}", 400, "ttl_ms");
	post("{\"type\":\"partition\",\"ttl_ms\":60001}", 400, "ttl_ms: must be 1..60000");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"peer\":\"db.internal\"}", 400, "field peer");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"peer\":\"10.0.0.0/33\"}", 400, "prefix length");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"peer\":\"::1/129\"}", 400, "prefix length");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"port\":0}", 400, "port: must be 1..65535");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"direction\":\"up\"}", 400, "direction");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"protocol\":\"sctp\"}", 400, "protocol");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"probability\":0.5}", 400, "only for type");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"bogus\":1}", 400, "unknown field: bogus");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"dev\":\"lo\"}", 400, "loopback");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"dev\":\"no-such-if0\"}", 404, "no interface");
	post("{\"type\":\"loss\",\"ttl_ms\":10}", 400, "probability");
	post("{\"type\":\"loss\",\"ttl_ms\":10,\"probability\":1.5}", 400, "probability");
	post("{\"type\":\"bandwidth\",\"ttl_ms\":10}", 400, "dev");
	post("{\"type\":\"bandwidth\",\"ttl_ms\":10,\"dev\":\"lo\",\"rate_bps\":1}", 400, "loopback");
	post("{\"type\":\"delay\",\"ttl_ms\":10,\"dev\":\"../x\"}", 400, "interface name");
	post("{\"type\":\"process\",\"action\":\"kill\"}", 400, "exactly one of pid, name, cgroup");
	post("{\"type\":\"process\",\"action\":\"nuke\",\"pid\":5}", 400, "action");
	post("{\"type\":\"process\",\"action\":\"kill\",\"pid\":1}", 403, "pid 1");
	post("{\"type\":\"process\",\"action\":\"pause\",\"pid\":5}", 400, "ttl_ms");
	post("{\"type\":\"process\",\"action\":\"term\",\"cgroup\":\"/etc\"}", 400, "cgroup");
	post("{\"type\":\"process\",\"action\":\"term\",\"cgroup\":\"/sys/fs/cgroup/../../etc\"}",
	     400, "cgroup");
	post("{\"type\":\"process\",\"action\":\"term\",\"name\":\"no-such-comm-x\"}", 404,
	     "no process named");
	json_t *list = fl_hostfault_list(H);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

/* Targets in other network namespaces: refused unless allowed, checked
 * before anything is opened. */
static void test_targets(void **state)
{
	(void)state;
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"pid\":2}}", 403,
	     "--allow-netns pid");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"netns\":\"x\"}}", 403,
	     "--allow-netns is not set");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":7}", 400, "field target");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{}}", 400, "exactly one");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"pid\":0}}", 400, "not a pid");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"netns\":\"../etc\"}}", 400,
	     "target.netns");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"pod\":\"a\"}}", 400,
	     "unknown field: pod");
	post("{\"type\":\"process\",\"action\":\"kill\",\"pid\":5,\"target\":{\"pid\":5}}", 400,
	     "only for network faults");

	struct fl_hostfault_opts o = { .table = "fltest", .state_dir = "",
				       .allow_netns = "pid,name:fl-*" };
	char err[256];
	struct fl_hostfault *h = fl_hostfault_new(&o, err, sizeof(err));
	assert_non_null(h);
	struct fl_hostfault *keep = H;
	H = h;
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"netns\":\"prod\"}}", 403,
	     "'prod' is not allowed");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"netns\":\"fl-no-such-ns-x\"}}",
	     404, "no network namespace 'fl-no-such-ns-x'");
	post("{\"type\":\"partition\",\"ttl_ms\":10,\"target\":{\"pid\":1073741823}}", 404,
	     "no process 1073741823");
	H = keep;
	fl_hostfault_free(h);

	o.allow_netns = "pid,everything";
	assert_null(fl_hostfault_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "--allow-netns: 'everything'"));
	o.allow_netns = "name:a/b";
	assert_null(fl_hostfault_new(&o, err, sizeof(err)));
}

static void test_routes(void **state)
{
	(void)state;
	int st = 0;
	json_t *r = NULL;
	fl_hostfault_api_handle(H, "GET", "/host/faults/hf-9", NULL, 0, &st, &r);
	assert_int_equal(st, 404);
	json_decref(r);
	fl_hostfault_api_handle(H, "PATCH", "/host/faults", NULL, 0, &st, &r);
	assert_int_equal(st, 405);
	json_decref(r);
	fl_hostfault_api_handle(H, "GET", "/host/nothing", NULL, 0, &st, &r);
	assert_int_equal(st, 404);
	json_decref(r);
	fl_hostfault_api_handle(H, "GET", "/host", NULL, 0, &st, &r);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(r, "table")), "fltest");
	assert_string_equal(json_string_value(json_object_get(r, "qdisc_handle")), "fa17:");
	json_decref(r);
}

static void lease(const char *method, const char *query, const char *body)
{
	fl_hostfault_api_observe_lease(H, method, query, body, body ? strlen(body) : 0);
}

static void test_leases(void **state)
{
	(void)state;
	lease("POST", NULL, "{\"ttl_ms\":5000,\"holder\":\"c1\"}");
	lease("POST", NULL, "{\"ttl_ms\":0,\"holder\":\"bad\"}");
	lease("POST", NULL, "{nope");
	lease("POST", NULL, "{\"ttl_ms\":5000,\"holder\":\"c2\",\"bogus\":1}");
	lease("POST", NULL, "{\"ttl_ms\":5000,\"holder\":7}");
	json_t *l = fl_hostfault_leases(H);
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "holder")),
			    "c1");
	json_decref(l);
	lease("DELETE", "holder=c1", NULL);
	l = fl_hostfault_leases(H);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

static void test_bad_table(void **state)
{
	(void)state;
	char err[256];
	struct fl_hostfault_opts o = { .table = "bad name;" };
	assert_null(fl_hostfault_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "table name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_leases),
		cmocka_unit_test(test_bad_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
