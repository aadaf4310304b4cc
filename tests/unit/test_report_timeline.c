/* The page's timeline reader (report/timeline.c): operations paired by
 * process, whatever the key order, spacing, nesting or escapes of a line
 * (the fast scan and the full parser must agree), fault windows paired by
 * id with their parameters, process events as marks, and the buckets and
 * histograms built from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/html_int.h"
#include "core/errors.h"

#define S 1000000000LL

static const char history[] =
	/* compact, as the history writer makes it */
	"{\"t\":1000000000,\"process\":1,\"type\":\"invoke\",\"f\":\"transfer\",\"value\":{\"t\":5,\"amount\":3}}\n"
	/* keys in another order, spaces, a nested "t" that is not the time */
	"{ \"value\" : {\"t\": 99, \"list\": [1, {\"t\": 7}]}, \"type\" : \"ok\", \"process\" : 1, \"t\" : 1002000000 }\n"
	/* an escape in the operation's name: the full parser reads it */
	"{\"t\":1000000000,\"process\":2,\"type\":\"invoke\",\"f\":\"to\\u0070up\"}\n"
	"{\"t\":1500000000,\"process\":2,\"type\":\"fail\",\"f\":\"topup\"}\n"
	/* a fault window with parameters, a process event, a completion without invoke */
	"{\"event\":\"fault\",\"action\":\"added\",\"what\":\"latency\",\"target\":\"a->b\",\"id\":\"n1\","
	"\"attributes\":{\"latency\":200,\"jitter\":0.5},\"t\":1100000000}\n"
	"{\"event\":\"process\",\"action\":\"killed\",\"service\":\"money\",\"t\":1200000000}\n"
	"{\"t\":1300000000,\"process\":3,\"type\":\"ok\",\"f\":\"read\"}\n"
	"{\"t\":2000000000,\"process\":1,\"type\":\"invoke\",\"f\":\"transfer\"}\n"
	"{\"t\":2100000000,\"process\":1,\"type\":\"info\",\"f\":\"transfer\"}\n"
	"{\"event\":\"fault\",\"action\":\"removed\",\"id\":\"n1\",\"t\":2500000000}\n"
	/* a string with a quote and braces inside, skipped whole */
	"{\"t\":3000000000,\"process\":4,\"type\":\"invoke\",\"f\":\"read\",\"note\":\"a \\\"}{\\\" b\"}\n"
	"{\"t\":3000500000,\"process\":4,\"type\":\"ok\",\"f\":\"read\"}\n";

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/fl-timeline-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_read(void **state)
{
	(void)state;
	char *path = write_tmp(history);
	struct fl_timeline tl = { 0 };
	char err[256] = "";
	assert_int_equal(fl_timeline_read(&tl, path, err, sizeof(err)), 0);
	assert_int_equal(tl.lines, 12);
	assert_int_equal(tl.nops, 4);
	assert_int_equal(tl.ntypes, 3);	/* transfer, topup, read */
	assert_string_equal(tl.types[0], "transfer");
	assert_string_equal(tl.types[1], "topup");
	assert_int_equal(tl.ops[0].t, 1 * S);
	assert_int_equal(tl.ops[0].latency, 2000000);
	assert_int_equal(tl.ops[0].status, 'o');
	assert_int_equal(tl.ops[1].status, 'f');
	assert_int_equal(tl.ops[1].latency, S / 2);
	assert_int_equal(tl.ops[2].status, 'i');
	assert_int_equal(tl.ops[3].latency, 500000);
	assert_int_equal(tl.nfaults, 1);
	assert_string_equal(tl.faults[0].what, "latency");
	assert_string_equal(tl.faults[0].target, "a->b");
	assert_string_equal(tl.faults[0].params, "latency=200 jitter=0.5");
	assert_int_equal(tl.faults[0].to, 2500000000LL);
	assert_int_equal(tl.nmarks, 1);
	assert_string_equal(tl.marks[0].label, "money killed");
	assert_int_equal(tl.t0, 1 * S);
	assert_int_equal(tl.t1, 3000500000LL);

	assert_int_equal(fl_timeline_finish(&tl, 150), 0);
	assert_int_equal(tl.bucket_ns, S);
	assert_int_equal(tl.nbuckets, 3);
	assert_int_equal(tl.series[0].ok[0], 1);	/* transfer ok in the first second */
	assert_int_equal(tl.series[0].err[1], 1);	/* its info in the second */
	assert_int_equal(tl.series[1].err[0], 1);	/* topup's failure */
	assert_int_equal(tl.lat[0].count, 2);
	assert_int_equal(tl.all->count, 4);
	assert_int_equal(fl_hist_percentile(tl.all, 100), S / 2);
	fl_timeline_free(&tl);
	unlink(path);
	free(path);
}

static void test_long_run_buckets(void **state)
{
	(void)state;
	/* 1000 s: at most 150 buckets of whole seconds */
	char *path = write_tmp("{\"t\":1000000000,\"process\":1,\"type\":\"invoke\",\"f\":\"x\"}\n"
			       "{\"t\":1001000000000,\"process\":1,\"type\":\"ok\",\"f\":\"x\"}\n");
	struct fl_timeline tl = { 0 };
	char err[256] = "";
	assert_int_equal(fl_timeline_read(&tl, path, err, sizeof(err)), 0);
	assert_int_equal(fl_timeline_finish(&tl, 150), 0);
	assert_int_equal(tl.bucket_ns, 7 * S);
	assert_true(tl.nbuckets <= 150);
	fl_timeline_free(&tl);
	unlink(path);
	free(path);
}

static void test_bad_line(void **state)
{
	(void)state;
	char *path = write_tmp("{\"t\":1,\"process\":1,\"type\":\"invoke\"}\n{\"t\":2,\"process\":1,\n");
	struct fl_timeline tl = { 0 };
	char err[256] = "";
	assert_int_equal(fl_timeline_read(&tl, path, err, sizeof(err)), FL_EPARSE);
	assert_non_null(strstr(err, ":2:"));	/* PATH:LINE */
	fl_timeline_free(&tl);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_long_run_buckets),
		cmocka_unit_test(test_bad_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
