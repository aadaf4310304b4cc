/* Reporters: a run with passing, failing, skipped tests and a file error
 * across two interleaved files, written in every format to real files and
 * checked with the tools that consume them (xmllint, perl's TAP::Parser and
 * prove, jansson), plus the console on a pipe and on a pseudo-terminal. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"
#include "core/clock.h"
#include "core/errors.h"

#define FILE_A "scenarios/a.lua"
#define FILE_B "scenarios/b.lua"

/* Failure detail with everything XML, YAML and JSON must escape. */
static const char NASTY[] =
	"expected: {\"status\": 200} <ok> & done\n"
	"actual:   503 ]]> \x01 bell\x07 'single'\n"
	"\n"
	"HTTP exchange:\n"
	"  > GET /x?a=1&b=2\n"
	"  < 503 Service Unavailable\n"
	"stack traceback:\n"
	"\t[C]: in function 'error'\n"
	"\tscenarios/b.lua:7: in main chunk";

/* A detail that fits a YAML block, with a tab-indented traceback. */
static const char BLOCKY[] = "expected: 400\nactual:   200\n\nstack traceback:\n\t[C]: in ?\n";
/* ... and how TAP's YAML gives it back: tabs of the indentation as spaces. */
static const char BLOCKY_YAML[] = "expected: 400\nactual:   200\n\nstack traceback:\n    [C]: in ?\n";

static const char FILE_ERR[] = "scenarios/b.lua:9: attempt to index a nil value (local 'sys')\n"
			       "stack traceback:\n\tscenarios/b.lua:9: in main chunk";

/* --- helpers --------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void send_test(struct fl_report_set *set, const char *file, const char *suite,
		      const char *name, enum fl_test_status st, int64_t ms, const char *message,
		      const char *detail, int line, int index)
{
	struct fl_test_result r = {
		.file = xstrdup(file), .suite = xstrdup(suite), .name = xstrdup(name),
		.status = st, .duration_ns = ms * 1000000, .start_wall_ns = fl_wall_ns(),
		.message = xstrdup(message), .detail = xstrdup(detail),
		.fail_file = line ? xstrdup(file) : NULL, .fail_line = line, .index = index,
	};
	if (index == 1) {
		r.tags = json_pack("[ss]", "e2e", "saga");
		r.extra = json_pack("{s:i}", "requests", 3);
	}
	fl_report_test_done(set, &r);
	fl_test_result_free(&r);
	assert_null(r.name);
}

/* The standard run: a and b interleave; 2 passed, 2 failed, 1 skipped, 1
 * file error. Stops before run_end when `finish` is false. */
static void feed(struct fl_report_set *set, bool finish)
{
	fl_report_run_begin(set, 2, 42);
	fl_report_file_begin(set, FILE_A);
	fl_report_file_begin(set, FILE_B);
	send_test(set, FILE_A, "remittance", "refunds the sender", FL_TEST_PASS, 12, NULL, NULL, 0, 1);
	send_test(set, FILE_B, "", "rejects <bad> & \"quoted\" input", FL_TEST_FAIL, 3,
		  "expected 200, got 503", NASTY, 7, 1);
	send_test(set, FILE_A, "remittance", "pending", FL_TEST_SKIP, 0, "needs extbank", NULL, 0, 2);
	send_test(set, FILE_A, "remittance > limits", "caps transfers # really", FL_TEST_FAIL, 40,
		  "expected 400, got 200", BLOCKY, 30, 3);
	struct fl_file_error fe = { .file = FILE_B, .message = FILE_ERR, .exit_code = 2 };
	fl_report_file_error(set, &fe);
	send_test(set, FILE_B, "", "caf\xc3\xa9 \xff ok", FL_TEST_PASS, 1, NULL, NULL, 0, 2);
	fl_report_file_end(set, FILE_A);
	fl_report_file_end(set, FILE_B);
	if (!finish)
		return;
	struct fl_run_summary s = { .passed = 2, .failed = 2, .skipped = 1, .errors = 1,
				     .files = 2, .duration_ns = 1500000000, .seed = 42 };
	fl_report_run_end(set, &s);
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	/* mkdtemp's template: the prefix and six 'X' it replaces */
	size_t n = (size_t)snprintf(tmpdir, sizeof(tmpdir), "/tmp/fl-report-");
	memset(tmpdir + n, 'X', 6);
	tmpdir[n + 6] = '\0';
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (getenv("FL_TEST_KEEP")) {	/* keep the reports to look at */
		fprintf(stderr, "reports kept in %s\n", tmpdir);
		return 0;
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_in(const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
	return p;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* Output of a shell command (stdout and stderr), and its exit status. */
static char *run(int *status, const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	char *full = NULL;
	assert_true(asprintf(&full, "%s 2>&1", cmd) > 0);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	free(cmd);
	free(full);
	return buf;
}

static struct fl_report_set *set_with(const char *spec)
{
	struct fl_report_set *set = fl_report_set_new();
	assert_non_null(set);
	struct fl_reporter rep;
	char err[256] = "";
	int rc = fl_reporter_create(spec, &rep, err, sizeof(err));
	if (rc)
		fail_msg("fl_reporter_create(%s): %s", spec, err);
	assert_int_equal(fl_report_set_add(set, rep), 0);
	return set;
}

/* --- JUnit ----------------------------------------------------------------- */

static char *xpath(const char *file, const char *expr)
{
	int st;
	char *out = run(&st, "xmllint --xpath '%s' '%s'", expr, file);
	if (st != 0)
		fail_msg("xmllint --xpath %s: %s", expr, out);
	size_t n = strlen(out);
	if (n && out[n - 1] == '\n')	/* xmllint ends its answer with one */
		out[n - 1] = '\0';
	return out;
}

static void expect_xpath(const char *file, const char *expr, const char *want)
{
	char *got = xpath(file, expr);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got '%s', want '%s'", expr, got, want);
	free(got);
}

static void test_junit(void **state)
{
	(void)state;
	char *out = path_in("reports/junit.xml"), *tmp = path_in("reports/junit.xml.tmp");
	char *spec = NULL;
	assert_true(asprintf(&spec, "junit=%s", out) > 0);
	struct fl_report_set *set = set_with(spec);
	feed(set, false);
	/* nothing published before the run ends */
	assert_false(exists(out));
	assert_true(exists(tmp));
	struct fl_run_summary s = { .passed = 2, .failed = 2, .skipped = 1, .errors = 1,
				     .files = 2, .duration_ns = 1500000000, .seed = 42 };
	fl_report_run_end(set, &s);
	assert_true(exists(out));
	assert_false(exists(tmp));
	fl_report_set_free(set);

	int st;
	char *lint = run(&st, "xmllint --noout '%s'", out);
	if (st != 0)
		fail_msg("xmllint --noout: %s", lint);
	free(lint);

	expect_xpath(out, "string(/testsuites/@tests)", "6");
	expect_xpath(out, "string(/testsuites/@failures)", "2");
	expect_xpath(out, "string(/testsuites/@errors)", "1");
	expect_xpath(out, "string(/testsuites/@skipped)", "1");
	expect_xpath(out, "string(/testsuites/@time)", "1.500");
	expect_xpath(out, "count(/testsuites/testsuite)", "2");
	/* grouped by file in the order files began, whatever the interleaving */
	expect_xpath(out, "string(/testsuites/testsuite[1]/@name)", FILE_A);
	expect_xpath(out, "string(/testsuites/testsuite[1]/@tests)", "3");
	expect_xpath(out, "string(/testsuites/testsuite[1]/@failures)", "1");
	expect_xpath(out, "string(/testsuites/testsuite[1]/@errors)", "0");
	expect_xpath(out, "string(/testsuites/testsuite[1]/@skipped)", "1");
	expect_xpath(out, "count(/testsuites/testsuite[1]/testcase)", "3");
	expect_xpath(out, "string(/testsuites/testsuite[2]/@name)", FILE_B);
	expect_xpath(out, "string(/testsuites/testsuite[2]/@tests)", "3");
	expect_xpath(out, "string(/testsuites/testsuite[2]/@failures)", "1");
	expect_xpath(out, "string(/testsuites/testsuite[2]/@errors)", "1");
	expect_xpath(out, "string(/testsuites/testsuite[2]/@skipped)", "0");
	expect_xpath(out, "count(//testsuite[2]/testcase/error)", "1");
	expect_xpath(out, "string(//testsuite[2]/testcase/error/@type)", "ScriptError");
	expect_xpath(out, "string(//testsuite[1]/testcase[1]/@name)",
		     "remittance > refunds the sender");
	expect_xpath(out, "string(//testsuite[1]/testcase[1]/@classname)", "scenarios.a");
	expect_xpath(out, "string(//testsuite[1]/testcase[1]/@time)", "0.012");
	expect_xpath(out, "string(//testsuite[1]/testcase[2]/skipped/@message)", "needs extbank");
	expect_xpath(out, "string(//testsuite[1]/testcase[3]/@line)", "30");
	expect_xpath(out, "string(//testsuite[2]/testcase[1]/@name)",
		     "rejects <bad> & \"quoted\" input");
	expect_xpath(out, "string(//testsuite[2]/testcase[1]/failure/@message)",
		     "expected 200, got 503");
	expect_xpath(out, "string(//testsuite[2]/testcase[2]/@name)", "caf\xc3\xa9 \xef\xbf\xbd ok");

	/* the failure text keeps the detail, specials intact, controls visible */
	char *body = xpath(out, "string(//testsuite[2]/testcase[1]/failure)");
	assert_non_null(strstr(body, "expected 200, got 503\n"));
	assert_non_null(strstr(body, "expected: {\"status\": 200} <ok> & done\n"));
	assert_non_null(strstr(body, "actual:   503 ]]> \\x01 bell\\x07 'single'\n"));
	assert_non_null(strstr(body, "\n\tscenarios/b.lua:7: in main chunk"));
	free(body);
	char *err = xpath(out, "string(//testsuite[2]/testcase/error)");
	assert_string_equal(err, FILE_ERR);
	free(err);
	free(spec);
	free(out);
	free(tmp);
}

/* --- TAP ------------------------------------------------------------------- */

/* TAP::Parser (what prove runs) over the file: counts, parse errors and the
 * YAML blocks as JSON. Test::Harness before 3.48 does not know "TAP version
 * 14" and reports that as a parse error; only that one is tolerated. */
static const char TAP_SCRIPT[] =
	"use strict; use TAP::Parser; use JSON::PP;"
	"open my $fh, '<', $ARGV[0] or die; my $tap = do { local $/; <$fh> };"
	"my $p = TAP::Parser->new({ tap => $tap }); my @yaml;"
	"while (my $r = $p->next) { push @yaml, $r->data if $r->is_yaml }"
	"my @errors = grep { !/TAP specified version 14 but we don.t know about versions later than 13/ }"
	" $p->parse_errors;"
	"print JSON::PP->new->canonical->encode({ version => $p->version, planned => $p->tests_planned,"
	" run => $p->tests_run, failed => [$p->failed], skipped => [$p->skipped], passed => [$p->passed],"
	" errors => \\@errors, yaml => \\@yaml });";

static void expect_ints(json_t *arr, const int *want, size_t n)
{
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_integer_value(json_array_get(arr, i)), want[i]);
}

static bool have_tap_parser(void)
{
	int st;
	char *probe = run(&st, "perl -MTAP::Parser -MJSON::PP -e 1");
	free(probe);
	return st == 0;
}

/* What TAP::Parser makes of a TAP file, as JSON (new reference). */
static json_t *tap_parse(const char *tap)
{
	char *script = path_in("tap.pl");
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs(TAP_SCRIPT, f);
	fclose(f);
	int st;
	char *js = run(&st, "perl '%s' '%s'", script, tap);
	if (st != 0)
		fail_msg("perl TAP::Parser: %s", js);
	json_error_t jerr;
	json_t *res = json_loads(js, 0, &jerr);
	if (!res)
		fail_msg("TAP::Parser output is not JSON (%s): %s", jerr.text, js);
	if (json_array_size(json_object_get(res, "errors")))
		fail_msg("TAP parse errors: %s", js);
	free(js);
	free(script);
	return res;
}

static void test_tap(void **state)
{
	(void)state;
	int st;
	if (!have_tap_parser())
		skip();
	char *out = path_in("tap/run.tap");
	char *spec = NULL;
	assert_true(asprintf(&spec, "tap=%s", out) > 0);
	struct fl_report_set *set = set_with(spec);
	feed(set, true);
	fl_report_set_free(set);

	char *text = slurp(out);
	assert_memory_equal(text, "TAP version 14\n", 15);
	assert_non_null(strstr(text, "\nok 1 - scenarios/a.lua: remittance > refunds the sender\n"));
	assert_non_null(strstr(text, "\nok 3 - scenarios/a.lua: remittance > pending # SKIP needs extbank\n"));
	assert_non_null(strstr(text, "\nnot ok 4 - scenarios/a.lua: remittance > limits > caps transfers \\# really\n"));
	assert_non_null(strstr(text, "\nnot ok 5 - scenarios/b.lua: file error\n"));
	assert_non_null(strstr(text, "\nok 6 - scenarios/b.lua: caf\xc3\xa9 \xef\xbf\xbd ok\n"));
	assert_non_null(strstr(text, "\n1..6\n"));
	free(text);

	json_t *res = tap_parse(out);
	assert_int_equal(json_integer_value(json_object_get(res, "planned")), 6);
	assert_int_equal(json_integer_value(json_object_get(res, "run")), 6);
	expect_ints(json_object_get(res, "failed"), (int[]){ 2, 4, 5 }, 3);
	expect_ints(json_object_get(res, "skipped"), (int[]){ 3 }, 1);
	expect_ints(json_object_get(res, "passed"), (int[]){ 1, 3, 6 }, 3);

	/* the diagnostics read back as written */
	json_t *yaml = json_object_get(res, "yaml");
	assert_int_equal(json_array_size(yaml), 3);
	json_t *y0 = json_array_get(yaml, 0), *y1 = json_array_get(yaml, 1),
	       *y2 = json_array_get(yaml, 2);
	assert_string_equal(json_string_value(json_object_get(y0, "message")), "expected 200, got 503");
	assert_string_equal(json_string_value(json_object_get(y0, "at")), "scenarios/b.lua:7");
	assert_string_equal(json_string_value(json_object_get(y0, "detail")), NASTY);
	assert_string_equal(json_string_value(json_object_get(y1, "at")), "scenarios/a.lua:30");
	assert_string_equal(json_string_value(json_object_get(y1, "detail")), BLOCKY_YAML);
	assert_string_equal(json_string_value(json_object_get(y2, "message")),
			    "scenarios/b.lua:9: attempt to index a nil value (local 'sys')");
	json_decref(res);

	/* and prove itself counts the same */
	char *prove = run(&st, "prove --exec cat '%s'", out);
	assert_int_not_equal(st, 0);
	if (!strstr(prove, "Failed 3/6 subtests"))
		fail_msg("prove: %s", prove);
	free(prove);
	free(spec);
	free(out);
}

/* --- JSON ------------------------------------------------------------------ */

static json_t *test_at(json_t *root, size_t file, size_t test)
{
	json_t *files = json_object_get(root, "files");
	return json_array_get(json_object_get(json_array_get(files, file), "tests"), test);
}

static void test_json(void **state)
{
	(void)state;
	char *out = path_in("run.json");
	char *spec = NULL;
	assert_true(asprintf(&spec, "json=%s", out) > 0);
	struct fl_report_set *set = set_with(spec);
	feed(set, true);
	fl_report_set_free(set);

	json_error_t jerr;
	json_t *root = json_load_file(out, 0, &jerr);
	if (!root)
		fail_msg("journal does not parse: %s line %d", jerr.text, jerr.line);
	assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
	assert_int_equal(json_integer_value(json_object_get(root, "seed")), 42);
	assert_int_equal(json_integer_value(json_object_get(root, "duration_ms")), 1500);
	assert_true(json_is_string(json_object_get(root, "started")));
	json_t *sum = json_object_get(root, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "passed")), 2);
	assert_int_equal(json_integer_value(json_object_get(sum, "failed")), 2);
	assert_int_equal(json_integer_value(json_object_get(sum, "skipped")), 1);
	assert_int_equal(json_integer_value(json_object_get(sum, "errors")), 1);
	assert_int_equal(json_integer_value(json_object_get(sum, "files")), 2);

	json_t *files = json_object_get(root, "files");
	assert_int_equal(json_array_size(files), 2);
	json_t *fa = json_array_get(files, 0), *fb = json_array_get(files, 1);
	assert_string_equal(json_string_value(json_object_get(fa, "file")), FILE_A);
	assert_string_equal(json_string_value(json_object_get(fb, "file")), FILE_B);
	assert_int_equal(json_array_size(json_object_get(fa, "tests")), 3);
	assert_int_equal(json_array_size(json_object_get(fb, "tests")), 2);
	assert_int_equal(json_array_size(json_object_get(fa, "errors")), 0);
	json_t *e = json_array_get(json_object_get(fb, "errors"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "message")), FILE_ERR);
	assert_int_equal(json_integer_value(json_object_get(e, "exit_code")), 2);

	json_t *t = test_at(root, 0, 0);
	assert_string_equal(json_string_value(json_object_get(t, "name")), "refunds the sender");
	assert_string_equal(json_string_value(json_object_get(t, "suite")), "remittance");
	assert_string_equal(json_string_value(json_object_get(t, "status")), "passed");
	assert_int_equal(json_integer_value(json_object_get(t, "duration_ms")), 12);
	assert_string_equal(json_string_value(json_array_get(json_object_get(t, "tags"), 1)), "saga");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "extra"), "requests")), 3);
	assert_true(json_is_null(json_object_get(t, "location")));
	assert_true(json_is_null(json_object_get(t, "message")));

	t = test_at(root, 0, 1);
	assert_string_equal(json_string_value(json_object_get(t, "status")), "skipped");
	assert_string_equal(json_string_value(json_object_get(t, "message")), "needs extbank");

	t = test_at(root, 1, 0);
	assert_string_equal(json_string_value(json_object_get(t, "status")), "failed");
	assert_string_equal(json_string_value(json_object_get(t, "detail")), NASTY);
	json_t *loc = json_object_get(t, "location");
	assert_string_equal(json_string_value(json_object_get(loc, "file")), FILE_B);
	assert_int_equal(json_integer_value(json_object_get(loc, "line")), 7);
	assert_true(json_is_array(json_object_get(t, "tags")));

	t = test_at(root, 1, 1);	/* invalid UTF-8 replaced, valid kept */
	assert_string_equal(json_string_value(json_object_get(t, "name")), "caf\xc3\xa9 \xef\xbf\xbd ok");
	json_decref(root);
	free(spec);
	free(out);
}

/* --- console --------------------------------------------------------------- */

static void test_console_file(void **state)
{
	(void)state;
	char *out = path_in("console.txt");
	char *spec = NULL;
	assert_true(asprintf(&spec, "console=%s", out) > 0);
	struct fl_report_set *set = set_with(spec);
	struct fl_progress p = { .what = "workload", .elapsed_s = 2, .total_s = 10, .ops = 40,
				 .errors = 3, .faults = 2 };
	fl_report_progress(set, &p);	/* a file gets none of it */
	feed(set, true);
	fl_report_set_free(set);

	char *text = slurp(out);
	assert_null(strstr(text, "workload"));
	assert_null(strchr(text, '\r'));
	assert_null(strchr(text, '\033'));
	assert_non_null(strstr(text, "2 passed, 2 failed, 1 skipped, 1 file error (2 files, 1.50 s, seed 42)\n"));
	/* a header when a file begins, again when the other file interrupts it */
	assert_memory_equal(text, "scenarios/a.lua\n  ✓ remittance > refunds the sender (12 ms)\n", 58);
	assert_non_null(strstr(text, "\nscenarios/b.lua\n  ✗ rejects <bad> & \"quoted\" input (3 ms)\n"
				     "      expected 200, got 503\n"
				     "      expected: {\"status\": 200} <ok> & done\n"
				     "      actual:   503 ]]> ? bell? 'single'\n"));
	assert_non_null(strstr(text, "\nscenarios/a.lua\n  - remittance > pending (skipped: needs extbank)\n"));
	assert_non_null(strstr(text, "  ✗ error: scenarios/b.lua:9: attempt to index a nil value (local 'sys')\n"
				     "      stack traceback:\n"));
	assert_non_null(strstr(text, "\nFailed:\n  ✗ scenarios/b.lua:7  rejects <bad> & \"quoted\" input\n"
				     "  ✗ scenarios/a.lua:30  remittance > limits > caps transfers # really\n"
				     "  ✗ scenarios/b.lua:9  error: attempt to index a nil value (local 'sys')\n"));
	free(text);
	free(spec);
	free(out);
}

/* Everything readable on the master side of a pty right now. */
static char *drain(int master)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	for (int tries = 0; tries < 50; tries++) {
		ssize_t n = read(master, chunk, sizeof(chunk));
		if (n > 0) {
			fwrite(chunk, 1, (size_t)n, m);
			tries = 0;
			continue;
		}
		usleep(2000);	/* bounded: 50 empty reads in a row end it */
	}
	fclose(m);
	return buf;
}

static char *console_on_tty(bool no_color)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	struct termios tio;
	assert_int_equal(tcgetattr(slave, &tio), 0);
	cfmakeraw(&tio);	/* no \n -> \r\n translation: every \r seen is ours */
	assert_int_equal(tcsetattr(slave, TCSANOW, &tio), 0);
	struct winsize ws = { .ws_row = 40, .ws_col = 160 };	/* room for a workload's progress */
	assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	FILE *tty = fdopen(slave, "w");
	assert_non_null(tty);

	if (no_color)
		setenv("NO_COLOR", "1", 1);
	else
		unsetenv("NO_COLOR");
	struct fl_report_set *set = fl_report_set_new();
	struct fl_reporter rep;
	char err[256];
	assert_int_equal(fl_reporter_open("console", tty, &rep, err, sizeof(err)), 0);
	assert_false(fl_reporter_to_stdout(&rep));
	assert_int_equal(fl_report_set_add(set, rep), 0);
	feed(set, false);
	struct fl_progress p = { .what = "workload\033[2J", .elapsed_s = 2, .total_s = 10, .ops = 40,
				 .errors = 3, .faults = 2 };
	fl_report_progress(set, &p);
	fl_report_progress(set, NULL);	/* taken down (also within the 100 ms) */
	fl_report_tick(set);
	struct fl_run_summary s = { .passed = 2, .failed = 2, .skipped = 1, .errors = 1,
				     .files = 2, .duration_ns = 1500000000, .seed = 42 };
	fl_report_run_end(set, &s);
	fl_report_set_free(set);
	unsetenv("NO_COLOR");
	fclose(tty);
	char *text = drain(master);
	close(master);
	return text;
}

static void test_console_tty(void **state)
{
	(void)state;
	char *text = console_on_tty(false);
	/* a workload's progress joins the line (control bytes shown as '?') */
	assert_non_null(strstr(text, "  workload?[2J 2.0 s of 10 s, 40 ops, 3 errors, 2 faults active  [2/2 files, 3 failed]"));
	/* the progress line is drawn, then erased before the next result line */
	assert_non_null(strstr(text, "[0/2 files] 0 passed, 0 failed, 0 skipped"));
	assert_non_null(strstr(text, "[2/2 files] 2 passed, 3 failed, 1 skipped"));
	assert_non_null(strchr(text, '\r'));
	assert_non_null(strstr(text, "\033[32m✓\033[0m remittance > refunds the sender"));
	/* the summary starts on a clean line: the last progress line was erased */
	const char *sum = strstr(text, "2 passed\033[0m, \033[31m2 failed");
	assert_non_null(sum);
	assert_null(strchr(sum, '\r'));
	free(text);

	text = console_on_tty(true);
	assert_null(strchr(text, '\033'));
	assert_non_null(strchr(text, '\r'));
	assert_non_null(strstr(text, "2 passed, 2 failed, 1 skipped, 1 file error (2 files, 1.50 s, seed 42)"));
	free(text);
}

/* Devices, FIFOs and /dev/stderr are written directly: no FILE.tmp beside
 * them, nothing renamed over them. */
static void test_special_files(void **state)
{
	(void)state;
	struct fl_reporter rep;
	char err[256];
	struct fl_report_set *set = fl_report_set_new();
	assert_int_equal(fl_reporter_create("console=/dev/stderr", &rep, err, sizeof(err)), 0);
	assert_false(fl_reporter_to_stdout(&rep));
	assert_int_equal(fl_report_set_add(set, rep), 0);
	assert_int_equal(fl_reporter_create("tap=/dev/stderr", &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), FL_EEXIST);
	assert_int_equal(fl_reporter_create("json=/dev/null", &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), 0);
	assert_int_equal(fl_reporter_create("tap=/dev/stdout", &rep, err, sizeof(err)), 0);
	assert_true(fl_reporter_to_stdout(&rep));
	rep.ops->free(rep.self);
	fl_report_set_free(set);	/* (no run: nothing was written to stderr) */
	assert_false(exists("/dev/null.tmp"));
	assert_false(exists("/dev/stderr.tmp"));

	char *fifo = path_in("report.fifo"), *tmp = NULL, *spec = NULL;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int rd = open(fifo, O_RDONLY | O_NONBLOCK);	/* so the writer's open does not block */
	assert_true(rd >= 0);
	assert_true(asprintf(&spec, "tap=%s", fifo) > 0);
	set = set_with(spec);
	feed(set, true);
	fl_report_set_free(set);
	char *text = drain(rd);
	close(rd);
	assert_memory_equal(text, "TAP version 14\n", 15);
	assert_non_null(strstr(text, "\n1..6\n"));
	assert_true(asprintf(&tmp, "%s.tmp", fifo) > 0);
	assert_false(exists(tmp));
	free(text);
	free(tmp);
	free(spec);
	free(fifo);
}

/* --- the factory and the set ------------------------------------------------- */

static void test_specs(void **state)
{
	(void)state;
	struct fl_reporter rep;
	char err[256] = "";
	assert_int_equal(fl_reporter_create("xml", &rep, err, sizeof(err)), FL_EINVAL);
	assert_non_null(strstr(err, "unknown report format 'xml'"));
	assert_int_equal(fl_reporter_create("junit=", &rep, err, sizeof(err)), FL_EINVAL);
	assert_non_null(strstr(err, "missing file name"));

	/* a path below a regular file cannot be created */
	char *plain = path_in("plain"), *spec = NULL;
	FILE *f = fopen(plain, "w");
	assert_non_null(f);
	fclose(f);
	assert_true(asprintf(&spec, "junit=%s/out.xml", plain) > 0);
	int rc = fl_reporter_create(spec, &rep, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, "cannot write report"));
	free(spec);

	/* two reporters on stdout, or on one file, are refused */
	struct fl_report_set *set = fl_report_set_new();
	assert_int_equal(fl_reporter_create("console", &rep, err, sizeof(err)), 0);
	assert_true(fl_reporter_to_stdout(&rep));
	assert_int_equal(fl_report_set_add(set, rep), 0);
	assert_int_equal(fl_reporter_create("tap=-", &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), FL_EEXIST);
	char *same = path_in("same.out");
	assert_true(asprintf(&spec, "junit=%s", same) > 0);
	assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
	assert_false(fl_reporter_to_stdout(&rep));
	assert_int_equal(fl_report_set_add(set, rep), 0);
	free(spec);
	assert_true(asprintf(&spec, "json=%s", same) > 0);
	assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), FL_EEXIST);
	/* freed without run_end: nothing published, no temporary left */
	fl_report_set_free(set);
	char *tmp = NULL;
	assert_true(asprintf(&tmp, "%s.tmp", same) > 0);
	assert_false(exists(same));
	assert_false(exists(tmp));
	fflush(stdout);
	fl_test_result_free(NULL);
	free(tmp);
	free(spec);
	free(same);
	free(plain);
}

/* --- retried tests ------------------------------------------------------------- */

static void send_retried(struct fl_report_set *set, const char *name, enum fl_test_status st,
			 int tries, int index)
{
	struct fl_test_result r = {
		.file = strdup(FILE_A), .suite = strdup("retry"), .name = strdup(name),
		.status = st, .duration_ns = 5000000, .index = index,
		.nretries = tries - 1,
	};
	r.retries = calloc((size_t)r.nretries, sizeof(*r.retries));
	assert_non_null(r.retries);
	for (int i = 0; i < r.nretries; i++) {
		assert_true(asprintf(&r.retries[i].message, "try %d: timed out <%d>", i + 1, i) > 0);
		r.retries[i].detail = strdup("waited 2 s for /health & gave up");
		r.retries[i].duration_ns = 2000000000;
	}
	if (st == FL_TEST_FAIL) {
		r.message = strdup("still timing out");
		r.fail_file = strdup(FILE_A);
		r.fail_line = 12;
	}
	fl_report_test_done(set, &r);
	fl_test_result_free(&r);
}

static void test_retries(void **state)
{
	(void)state;
	const char *fmt[] = { "junit", "tap", "json", "console" };
	char *files[4];
	struct fl_report_set *set = fl_report_set_new();
	for (int i = 0; i < 4; i++) {
		char *name = NULL, *spec = NULL;
		assert_true(asprintf(&name, "retries.%s", fmt[i]) > 0);
		files[i] = path_in(name);
		assert_true(asprintf(&spec, "%s=%s", fmt[i], files[i]) > 0);
		struct fl_reporter rep;
		char err[256];
		assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
		assert_int_equal(fl_report_set_add(set, rep), 0);
		free(name);
		free(spec);
	}
	fl_report_run_begin(set, 1, 9);
	fl_report_file_begin(set, FILE_A);
	send_retried(set, "flaky", FL_TEST_PASS, 3, 1);
	send_retried(set, "broken", FL_TEST_FAIL, 2, 2);
	fl_report_file_end(set, FILE_A);
	struct fl_run_summary s = { .passed = 1, .failed = 1, .files = 1, .seed = 9 };
	fl_report_run_end(set, &s);
	fl_report_set_free(set);

	int st;
	char *lint = run(&st, "xmllint --noout '%s'", files[0]);
	if (st != 0)
		fail_msg("xmllint --noout: %s", lint);
	free(lint);
	expect_xpath(files[0], "string(/testsuites/@tests)", "2");
	expect_xpath(files[0], "string(/testsuites/@failures)", "1");
	expect_xpath(files[0], "count(//testcase[1]/flakyFailure)", "2");
	expect_xpath(files[0], "count(//testcase[1]/failure)", "0");
	expect_xpath(files[0], "string(//testcase[1]/flakyFailure[2]/@message)", "try 2: timed out <1>");
	expect_xpath(files[0], "count(//testcase[2]/failure)", "1");
	expect_xpath(files[0], "count(//testcase[2]/rerunFailure)", "1");

	if (have_tap_parser()) {
		json_t *res = tap_parse(files[1]);
		expect_ints(json_object_get(res, "failed"), (int[]){ 2 }, 1);
		json_t *y = json_object_get(res, "yaml");
		assert_int_equal(json_array_size(y), 2);
		json_t *flaky = json_array_get(y, 0);
		assert_string_equal(json_string_value(json_object_get(flaky, "flaky")), "true");
		assert_string_equal(json_string_value(json_object_get(flaky, "tries")), "3");
		json_t *tries = json_object_get(flaky, "retries");
		assert_int_equal(json_array_size(tries), 2);
		assert_string_equal(json_string_value(json_object_get(json_array_get(tries, 1), "message")),
				    "try 2: timed out <1>");
		assert_int_equal(json_array_size(json_object_get(json_array_get(y, 1), "retries")), 1);
		json_decref(res);
	}

	json_error_t jerr;
	json_t *root = json_load_file(files[2], 0, &jerr);
	assert_non_null(root);
	json_t *t0 = test_at(root, 0, 0), *t1 = test_at(root, 0, 1);
	assert_true(json_is_true(json_object_get(t0, "flaky")));
	assert_int_equal(json_array_size(json_object_get(t0, "retries")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(t0, "retries"), 0), "detail")),
			    "waited 2 s for /health & gave up");
	assert_true(json_is_false(json_object_get(t1, "flaky")));
	assert_int_equal(json_array_size(json_object_get(t1, "retries")), 1);
	json_decref(root);

	char *text = slurp(files[3]);
	assert_non_null(strstr(text, "  ✓ retry > flaky (5 ms, flaky: passed on try 3)\n"));
	assert_non_null(strstr(text, "  ✗ retry > broken (5 ms, failed 2 tries)\n"));
	assert_non_null(strstr(text, "\nFlaky (passed after retries):\n  ~ scenarios/a.lua  retry > flaky\n"));
	free(text);
	for (int i = 0; i < 4; i++)
		free(files[i]);
}

/* An interrupted run says so in every format. */
static void test_interrupted(void **state)
{
	(void)state;
	const char *fmt[] = { "tap", "json", "console", "junit" };
	char *files[4];
	struct fl_report_set *set = fl_report_set_new();
	for (int i = 0; i < 4; i++) {
		char *name = NULL, *spec = NULL;
		assert_true(asprintf(&name, "int.%s", fmt[i]) > 0);
		files[i] = path_in(name);
		assert_true(asprintf(&spec, "%s=%s", fmt[i], files[i]) > 0);
		struct fl_reporter rep;
		char err[256];
		assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
		assert_int_equal(fl_report_set_add(set, rep), 0);
		free(name);
		free(spec);
	}
	fl_report_run_begin(set, 3, 5);
	fl_report_file_begin(set, FILE_A);
	send_test(set, FILE_A, "", "done before ^C", FL_TEST_PASS, 2, NULL, NULL, 0, 1);
	struct fl_run_summary s = { .passed = 1, .files = 3, .seed = 5, .interrupted = true };
	fl_report_run_end(set, &s);
	/* a straggler after the end is ignored, not written to a closed file */
	send_test(set, FILE_A, "", "late", FL_TEST_FAIL, 1, "late", "late", 3, 2);
	struct fl_file_error late = { .file = FILE_A, .message = "late", .exit_code = 3 };
	fl_report_file_error(set, &late);
	fl_report_file_end(set, FILE_A);
	fl_report_tick(set);
	fl_report_run_end(set, &s);
	fl_report_set_free(set);

	char *tap = slurp(files[0]);
	assert_non_null(strstr(tap, "\nok 1 - scenarios/a.lua: done before ^C\n"));
	assert_non_null(strstr(tap, "\nBail out! run interrupted\n"));
	assert_null(strstr(tap, "\n1.."));
	assert_null(strstr(tap, "late"));
	free(tap);
	json_error_t jerr;
	json_t *root = json_load_file(files[1], 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(root, "interrupted")));
	json_decref(root);
	char *con = slurp(files[2]);
	assert_non_null(strstr(con, "\ninterrupted: the results below are partial\n"
				    "1 passed, 0 failed, 0 skipped (3 files, 0.00 s, seed 5)\n"));
	free(con);
	int st;
	char *lint = run(&st, "xmllint --noout '%s'", files[3]);
	assert_int_equal(st, 0);
	free(lint);
	for (int i = 0; i < 4; i++)
		free(files[i]);
}

/* --- several runner threads --------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 50

struct worker {
	struct fl_report_set *set;
	char file[32];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	fl_report_file_begin(w->set, w->file);
	for (int i = 1; i <= PER_THREAD; i++) {
		char name[32];
		snprintf(name, sizeof(name), "test %d", i);
		send_test(w->set, w->file, "s", name, i % 10 == 0 ? FL_TEST_FAIL : FL_TEST_PASS, 1,
			  i % 10 == 0 ? "boom" : NULL, NULL, i % 10 == 0 ? i : 0, i);
	}
	fl_report_file_end(w->set, w->file);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	char *tap = path_in("threads.tap"), *js = path_in("threads.json"), *spec = NULL;
	struct fl_report_set *set = fl_report_set_new();
	struct fl_reporter rep;
	char err[256];
	assert_true(asprintf(&spec, "tap=%s", tap) > 0);
	assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), 0);
	free(spec);
	assert_true(asprintf(&spec, "json=%s", js) > 0);
	assert_int_equal(fl_reporter_create(spec, &rep, err, sizeof(err)), 0);
	assert_int_equal(fl_report_set_add(set, rep), 0);
	free(spec);

	fl_report_run_begin(set, THREADS, 7);
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i].set = set;
		snprintf(w[i].file, sizeof(w[i].file), "t%d.lua", i);
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	struct fl_run_summary s = { .passed = THREADS * 45, .failed = THREADS * 5,
				     .files = THREADS, .seed = 7 };
	fl_report_run_end(set, &s);
	fl_report_set_free(set);

	/* TAP: numbers 1..N in completion order, each exactly once */
	FILE *f = fopen(tap, "r");
	assert_non_null(f);
	char line[512];
	int next = 1, notok = 0;
	while (fgets(line, sizeof(line), f)) {
		int n;
		if (sscanf(line, "ok %d - ", &n) == 1 || (sscanf(line, "not ok %d - ", &n) == 1 && ++notok)) {
			assert_int_equal(n, next);
			next++;
		}
	}
	fclose(f);
	assert_int_equal(next - 1, THREADS * PER_THREAD);
	assert_int_equal(notok, THREADS * 5);

	/* JSON: every file's tests together and in their own order */
	json_error_t jerr;
	json_t *root = json_load_file(js, 0, &jerr);
	assert_non_null(root);
	json_t *files = json_object_get(root, "files");
	assert_int_equal(json_array_size(files), THREADS);
	for (size_t i = 0; i < THREADS; i++) {
		json_t *tests = json_object_get(json_array_get(files, i), "tests");
		assert_int_equal(json_array_size(tests), PER_THREAD);
		for (size_t k = 0; k < PER_THREAD; k++)
			assert_int_equal(json_integer_value(json_object_get(json_array_get(tests, k), "index")),
					 (json_int_t)k + 1);
	}
	json_decref(root);
	free(tap);
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_tap),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_console_file),
		cmocka_unit_test(test_console_tty),
		cmocka_unit_test(test_specs),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
