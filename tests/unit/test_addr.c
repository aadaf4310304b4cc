/* core/addr: host:port parsing and the loopback test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/errors.h"

static void test_split(void **state)
{
	(void)state;
	static const struct { const char *in, *host; int port; } ok[] = {
		{ "127.0.0.1:8080", "127.0.0.1", 8080 },
		{ "localhost:0", "localhost", 0 },
		{ "[::1]:65535", "::1", 65535 },
		{ "[fe80::1%lo]:1", "fe80::1%lo", 1 },
		{ ":9000", "", 9000 },
		{ "[]:7", "", 7 },
		{ "example.com:00443", "example.com", 443 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char host[64];
		int port = -1;
		assert_int_equal(fl_addr_split(ok[i].in, host, sizeof(host), &port), 0);
		assert_string_equal(host, ok[i].host);
		assert_int_equal(port, ok[i].port);
	}
	static const char *bad[] = {
		"", "host", "host:", "host:65536", "host:-1", "host:+1", "host: 80", "host:80x",
		"[::1]", "[::1]80", "[::1:80", "::1", "host:123456",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char host[64];
		int port = -1;
		assert_int_equal(fl_addr_split(bad[i], host, sizeof(host), &port), FL_EINVAL);
		assert_int_equal(port, -1);
	}
	char small[5];
	int port;
	assert_int_equal(fl_addr_split("abcd:1", small, sizeof(small), &port), 0);
	assert_int_equal(fl_addr_split("abcde:1", small, sizeof(small), &port), FL_EINVAL);
	assert_int_equal(fl_addr_split(NULL, small, sizeof(small), &port), FL_EINVAL);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(fl_host_is_loopback("127.0.0.1"));
	assert_true(fl_host_is_loopback("127.1.2.3"));
	assert_true(fl_host_is_loopback("::1"));
	assert_true(fl_host_is_loopback("localhost"));
	assert_false(fl_host_is_loopback("10.0.0.1"));
	assert_false(fl_host_is_loopback("0.0.0.0"));
	assert_false(fl_host_is_loopback("example.com"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
