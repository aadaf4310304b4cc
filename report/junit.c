/* JUnit XML reporter, written when the run ends: one <testsuite> per
 * scenario file in the order files began, one <testcase> per test, file
 * errors as test cases holding an <error>. The shape follows the Ant/Surefire
 * schema that Jenkins, GitHub test-report actions and GitLab read; text is
 * escaped for XML 1.0 (control characters XML forbids appear as "\xHH",
 * invalid UTF-8 as U+FFFD). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report_int.h"
#include "core/text.h"
#include "core/clock.h"
#include "core/errors.h"

/* s as XML character data, or as an attribute value (then line breaks and
 * tabs are escaped too, since parsers turn them into spaces). */
static void put_xml(FILE *f, const char *s, bool attr)
{
	fl_report_put_xml(f, s, attr ? FL_TEXT_XML_ATTR : 0);
}

/* "scenarios/api/users.lua" -> "scenarios.api.users": the class name tools
 * split on dots to build a package tree. */
static void put_classname(FILE *f, const char *file)
{
	while (file[0] == '.' || file[0] == '/')
		file++;
	size_t n = strlen(file);
	if (n > 4 && strcmp(file + n - 4, ".lua") == 0)
		n -= 4;
	char *c = strndup(file, n);
	if (!c) {
		put_xml(f, file, true);
		return;
	}
	for (char *p = c; *p; p++)
		if (*p == '/')
			*p = '.';
	put_xml(f, c, true);
	free(c);
}

static void timestamp(int64_t wall_ns, char *out, size_t outlen)
{
	time_t t = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Surefire's record of earlier tries: <flakyFailure> in a test that passed
 * in the end, <rerunFailure> in one that kept failing. */
static void put_tries(FILE *f, const struct fl_test_result *r, const char *elem)
{
	for (int i = 0; i < r->nretries; i++) {
		const struct fl_test_attempt *a = &r->retries[i];
		char *first = fl_report_first_line(a->message ? a->message : "failed");
		fprintf(f, "      <%s message=\"", elem);
		put_xml(f, first ? first : "failed", true);
		fputs("\" type=\"failure\">\n        <stackTrace>", f);
		put_xml(f, a->message ? a->message : "failed", false);
		if (a->detail && *a->detail) {
			fputs("\n\n", f);
			put_xml(f, a->detail, false);
		}
		fprintf(f, "</stackTrace>\n      </%s>\n", elem);
		free(first);
	}
}

static void put_testcase(FILE *f, const struct fl_test_result *r)
{
	fputs("    <testcase classname=\"", f);
	put_classname(f, r->file);
	fputs("\" name=\"", f);
	if (r->suite && *r->suite) {
		put_xml(f, r->suite, true);
		fputs(" &gt; ", f);
	}
	put_xml(f, r->name, true);
	fputs("\" file=\"", f);
	put_xml(f, r->file, true);
	fputc('"', f);
	if (r->fail_file && r->fail_line > 0 && strcmp(r->fail_file, r->file) == 0)
		fprintf(f, " line=\"%d\"", r->fail_line);
	fprintf(f, " time=\"%.3f\"", (double)r->duration_ns / 1e9);
	bool retried = r->retries && r->nretries > 0;
	if (r->status == FL_TEST_PASS && !retried) {
		fputs("/>\n", f);
		return;
	}
	if (r->status == FL_TEST_PASS) { /* flaky: passed after failed tries */
		fputs(">\n", f);
		put_tries(f, r, "flakyFailure");
		fputs("    </testcase>\n", f);
		return;
	}
	if (r->status == FL_TEST_SKIP) {
		fputs(">\n      <skipped message=\"", f);
		put_xml(f, r->message, true);
		fputs("\"/>\n    </testcase>\n", f);
		return;
	}
	char *first = fl_report_first_line(r->message ? r->message : "failed");
	const char *elem = r->error_type ? "error" : "failure";
	fprintf(f, ">\n      <%s message=\"", elem);
	put_xml(f, first ? first : "failed", true);
	fputs("\" type=\"", f);
	put_xml(f, r->error_type ? r->error_type : "failure", true);
	fputs("\">", f);
	put_xml(f, r->message ? r->message : "failed", false);
	fputc('\n', f);
	if (r->fail_file && !(r->detail && strstr(r->detail, r->fail_file))) {
		fputs("at ", f);
		put_xml(f, r->fail_file, false);
		if (r->fail_line > 0)
			fprintf(f, ":%d", r->fail_line);
		fputc('\n', f);
	}
	if (r->detail && *r->detail) {
		fputc('\n', f);
		put_xml(f, r->detail, false);
	}
	fprintf(f, "</%s>\n", elem);
	if (retried)
		put_tries(f, r, "rerunFailure");
	fputs("    </testcase>\n", f);
	free(first);
}

static void put_error(FILE *f, const char *file, const struct fl_report_error *e, size_t k)
{
	fputs("    <testcase classname=\"", f);
	put_classname(f, file);
	fprintf(f, "\" name=\"(file error%s", k ? " " : "");
	if (k)
		fprintf(f, "%zu", k + 1);
	fputs(")\" file=\"", f);
	put_xml(f, file, true);
	fputs("\" time=\"0.000\">\n      <error message=\"", f);
	char *first = fl_report_first_line(e->message);
	put_xml(f, first ? first : "error", true);
	free(first);
	fprintf(f, "\" type=\"%s\">",
		e->exit_code == 3   ? "InfrastructureError"
		: e->exit_code == 2 ? "ScriptError"
				    : "Error");
	put_xml(f, e->message, false);
	fputs("</error>\n    </testcase>\n", f);
}

struct counts {
	int tests, failures, errors, skipped;
};

static void tally(struct counts *c, const struct fl_test_result *r)
{
	c->tests++;
	if (r->status == FL_TEST_FAIL && r->error_type)
		c->errors++;
	else if (r->status == FL_TEST_FAIL)
		c->failures++;
	else if (r->status == FL_TEST_SKIP)
		c->skipped++;
}

/* A file's test cases: its tests, each followed by its parts, and its
 * errors. */
static struct counts file_counts(const struct fl_report_file *rf)
{
	struct counts c = { .tests = (int)rf->nerrors, .errors = (int)rf->nerrors };
	for (size_t k = 0; k < rf->ntests; k++) {
		tally(&c, &rf->tests[k]);
		struct fl_test_list parts = { 0 };
		fl_report_test_parts(&rf->tests[k], &parts);
		for (size_t p = 0; p < parts.n; p++)
			tally(&c, &parts.v[p]);
		fl_test_list_free(&parts);
	}
	return c;
}

static void write_report(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	int tests = 0, failures = 0, errors = 0, skipped = 0;
	for (size_t i = 0; i < log->nfiles; i++) {
		struct counts c = file_counts(log->files[i]);
		tests += c.tests;
		failures += c.failures;
		errors += c.errors;
		skipped += c.skipped;
	}
	char host[256] = "localhost", ts[32];
	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	timestamp(log->begin_wall_ns ? log->begin_wall_ns : fl_wall_ns(), ts, sizeof(ts));
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<testsuites name=\"faultline\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
		"skipped=\"%d\" time=\"%.3f\" timestamp=\"%s\">\n",
		tests, failures, errors, skipped, (double)s->duration_ns / 1e9, ts);
	for (size_t i = 0; i < log->nfiles; i++) {
		const struct fl_report_file *rf = log->files[i];
		struct counts c = file_counts(rf);
		timestamp(rf->begin_wall_ns, ts, sizeof(ts));
		fprintf(f, "  <testsuite name=\"");
		put_xml(f, rf->file, true);
		fprintf(f,
			"\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
			"time=\"%.3f\" timestamp=\"%s\" hostname=\"",
			c.tests, c.failures, c.errors, c.skipped, fl_report_file_seconds(rf), ts);
		put_xml(f, host, true);
		fprintf(f,
			"\" id=\"%zu\">\n    <properties>\n      <property name=\"seed\" "
			"value=\"%" PRIu64 "\"/>\n    </properties>\n",
			i, s->seed);
		for (size_t k = 0; k < rf->ntests; k++) {
			put_testcase(f, &rf->tests[k]);
			struct fl_test_list parts = { 0 };
			fl_report_test_parts(&rf->tests[k], &parts);
			for (size_t p = 0; p < parts.n; p++)
				put_testcase(f, &parts.v[p]);
			fl_test_list_free(&parts);
		}
		for (size_t k = 0; k < rf->nerrors; k++)
			put_error(f, rf->file, &rf->errors[k], k);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	if (s->interrupted)
		fputs("<!-- run interrupted: results are partial -->\n", f);
	if (log->oom)
		fputs("<!-- out of memory: some results are missing -->\n", f);
}

static int junit_write(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	write_report(f, log, s);
	return ferror(f) ? FL_EIO : 0;
}

const struct fl_report_format fl_report_junit = { .name = "junit", .write = junit_write };
