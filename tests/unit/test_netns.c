/* launcher/netns.c: hosts in network namespaces (root only; each test is
 * skipped otherwise): the record of what was made, each host's eth0 and
 * address inside its namespace, removal of everything recorded, and the
 * refusals (too many hosts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/json.h"
#include "launcher/launcher_int.h"

static bool can_run(void)
{
	if (geteuid() != 0)
		return false;
	/* a namespace can be made here at all */
	pid_t c = fork();
	if (c == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	int st = 0;
	return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool ns_exists(const char *ns)
{
	char p[300];
	snprintf(p, sizeof(p), "/run/netns/%s", ns);
	return access(p, F_OK) == 0;
}

/* In a child inside ns: exit 0 when eth0 is up with address addr. */
static bool host_has(const char *ns, const char *addr)
{
	pid_t c = fork();
	if (c == 0) {
		if (fl_netns_enter(ns) != 0)
			_exit(2);
		struct ifaddrs *ifa = NULL, *i;
		int ok = 1;
		if (getifaddrs(&ifa) == 0)
			for (i = ifa; i; i = i->ifa_next) {
				char b[64];
				if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
				    strcmp(i->ifa_name, "eth0") == 0 && (i->ifa_flags & IFF_UP) &&
				    inet_ntop(AF_INET,
					      &((struct sockaddr_in *)i->ifa_addr)->sin_addr, b,
					      sizeof(b)) &&
				    strcmp(b, addr) == 0)
					ok = 0;
			}
		freeifaddrs(ifa);
		_exit(ok);
	}
	int st = 0;
	return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_create_destroy(void **state)
{
	(void)state;
	if (!can_run())
		skip();
	json_t *names = json_pack("[s, s]", "alpha", "beta"), *net = NULL;
	char err[512] = "";
	int rc = fl_netns_create(names, &net, err, sizeof(err));
	json_decref(names);
	if (rc)
		fail_msg("fl_netns_create: %s", err);
	const char *bridge = fl_json_str(net, "bridge", ""), *gw = fl_json_str(net, "gateway", "");
	int ix = (int)fl_json_int(net, "index", -1);
	char want[64];
	snprintf(want, sizeof(want), "faultline%d", ix);
	assert_string_equal(bridge, want);
	assert_true(if_nametoindex(bridge) > 0);
	assert_true(strncmp(gw, "198.1", 5) == 0 && strcmp(gw + strlen(gw) - 2, ".1") == 0);
	assert_true(fl_json_int(net, "launcher_netns", 0) > 0);
	json_t *a = json_object_get(json_object_get(net, "hosts"), "alpha");
	json_t *b = json_object_get(json_object_get(net, "hosts"), "beta");
	snprintf(want, sizeof(want), "faultline%d-alpha", ix);
	assert_string_equal(fl_json_str(a, "ns", ""), want);
	assert_true(ns_exists(want));
	assert_true(if_nametoindex(fl_json_str(a, "veth", "")) > 0);
	/* .2 and .3 of the gateway's /24, each on its own host's eth0 */
	char a2[32], b3[32];
	snprintf(a2, sizeof(a2), "%.*s2", (int)strlen(gw) - 1, gw);
	snprintf(b3, sizeof(b3), "%.*s3", (int)strlen(gw) - 1, gw);
	assert_string_equal(fl_json_str(a, "addr", ""), a2);
	assert_string_equal(fl_json_str(b, "addr", ""), b3);
	assert_true(host_has(fl_json_str(a, "ns", ""), a2));
	assert_true(host_has(fl_json_str(b, "ns", ""), b3));
	assert_false(host_has(fl_json_str(a, "ns", ""), b3));

	char veth[32];
	snprintf(veth, sizeof(veth), "%s", fl_json_str(b, "veth", ""));
	fl_netns_destroy(net);
	assert_false(ns_exists(fl_json_str(a, "ns", "")));
	assert_false(ns_exists(fl_json_str(b, "ns", "")));
	assert_int_equal(if_nametoindex(bridge), 0);
	assert_int_equal(if_nametoindex(veth), 0);
	fl_netns_destroy(net); /* again: nothing left to do, nothing breaks */
	fl_netns_destroy(NULL);
	json_decref(net);
}

static void test_too_many_hosts(void **state)
{
	(void)state;
	if (!can_run())
		skip();
	json_t *names = json_array(), *net = NULL;
	for (int i = 0; i < 254; i++) {
		char n[16];
		snprintf(n, sizeof(n), "h%d", i);
		json_array_append_new(names, json_string(n));
	}
	char err[256] = "";
	assert_int_equal(fl_netns_create(names, &net, err, sizeof(err)), FL_EINVAL);
	assert_null(net);
	assert_non_null(strstr(err, "at most 253 hosts"));
	json_decref(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy),
		cmocka_unit_test(test_too_many_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
