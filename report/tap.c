/* TAP version 14 reporter ("tap"), and the same stream declared as TAP
 * version 13 ("tap13") for harnesses that predate TAP 14, such as Debian 12's
 * prove (Test::Harness 3.44), which rejects a version 14 line as a parse
 * error. One test point per finished test, numbered in completion order; failures and file errors carry a YAML diagnostic block
 * that stays inside the YAMLish subset TAP::Parser reads; the plan comes
 * last. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/text.h"
#include "core/errors.h"

struct tap {
	struct fl_report_out out; /* first: see report_int.h */
	int n;			  /* test points written */
	int version;		  /* 14, or 13 for older harnesses */
	bool header;
};

static void header(struct tap *t)
{
	if (!t->header) {
		fprintf(t->out.f, "TAP version %d\n", t->version);
		t->header = true;
	}
}

/* A description on one line: '#' and '\' escaped as TAP 14 asks, line
 * breaks and other control characters as spaces, invalid UTF-8 as U+FFFD. */
static void put_desc(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len = fl_text_utf8_decode(s + i, n - i, &cp);
		if (!len)
			fputs(FL_TEXT_REPLACEMENT, f), len = 1;
		else if (c == '#' || c == '\\')
			fputc('\\', f), fputc(c, f);
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', f);
		else
			fwrite(s + i, 1, len, f);
		i += len;
	}
}

static void put_name(FILE *f, const struct fl_test_result *r)
{
	put_desc(f, r->file);
	fputs(": ", f);
	if (r->suite && *r->suite) {
		put_desc(f, r->suite);
		fputs(" > ", f);
	}
	put_desc(f, r->name);
}

/* A YAML double-quoted scalar using only escapes that both YAML 1.2 and
 * TAP::Parser's YAMLish reader understand (\" \\ \n \t \r \xHH); invalid
 * UTF-8 becomes U+FFFD. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	size_t n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len = fl_text_utf8_decode(s + i, n - i, &cp);
		if (!len) {
			fputs(FL_TEXT_REPLACEMENT, f);
			i++;
			continue;
		}
		if (c == '"' || c == '\\')
			fputc('\\', f), fputc(c, f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02X", c);
		else
			fwrite(s + i, 1, len, f);
		i += len;
	}
	fputc('"', f);
}

/* Whether text can go in a literal block scalar: valid UTF-8, no control
 * characters but tab and newline, and a first line that does not start with
 * white space (the block's indentation is taken from it). */
static bool block_safe(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
		return false;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t len = fl_text_utf8_decode(s + i, n - i, &cp);
		if (!len || (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
		i += len;
	}
	return true;
}

/* One line of a block: tabs in its leading white space become four spaces
 * (TAP::Parser counts a tab as one column of indentation and would turn it
 * into a space) and trailing white space is dropped. */
static void put_block_line(FILE *f, const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	fputs("    ", f);
	size_t i = 0;
	for (; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		fputs(p[i] == '\t' ? "    " : " ", f);
	fwrite(p + i, 1, len - i, f);
	fputc('\n', f);
}

/* "  KEY: |" and the text indented by four, which YAML 1.2 and TAP::Parser's
 * YAMLish reader both read back (up to the white space changes above); empty
 * lines get the indentation too, since TAP::Parser ends the YAML block at a
 * line that lacks it. Text that cannot go in a block is written quoted. */
static void put_block(FILE *f, const char *key, const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		n--;
	char *copy = strndup(s, n);
	if (!copy || !block_safe(copy)) {
		fprintf(f, "  %s: ", key);
		put_quoted(f, copy ? copy : s);
		fputc('\n', f);
		free(copy);
		return;
	}
	fprintf(f, "  %s: |\n", key);
	for (const char *p = copy; p;) {
		const char *nl = strchr(p, '\n');
		put_block_line(f, p, nl ? (size_t)(nl - p) : strlen(p));
		p = nl ? nl + 1 : NULL;
	}
	free(copy);
}

/* The tries before the final one, for a retried test's YAML block. */
static void put_retries(FILE *f, const struct fl_test_result *r)
{
	fprintf(f, "  tries: %d\n  retries:\n", r->nretries + 1);
	for (int i = 0; i < r->nretries; i++) {
		fputs("    - message: ", f);
		put_quoted(f, r->retries[i].message ? r->retries[i].message : "failed");
		fprintf(f, "\n      duration_ms: %.3f\n", (double)r->retries[i].duration_ns / 1e6);
	}
}

/* After run_end (or a failed open) nothing more is written. */
#define LIVE(t)                                                                                    \
	do {                                                                                       \
		if (!(t)->out.f || (t)->out.committed)                                             \
			return;                                                                    \
	} while (0)

static void tap_run_begin(void *self, int nfiles, uint64_t seed)
{
	struct tap *t = self;
	LIVE(t);
	header(t);
	fprintf(t->out.f, "# faultline run: %d file%s, seed %" PRIu64 "\n", nfiles,
		nfiles == 1 ? "" : "s", seed);
	fflush(t->out.f);
}

static void tap_test_done(void *self, const struct fl_test_result *r)
{
	struct tap *t = self;
	FILE *f = t->out.f;
	LIVE(t);
	header(t);
	t->n++;
	fprintf(f, "%s %d - ", r->status == FL_TEST_FAIL ? "not ok" : "ok", t->n);
	put_name(f, r);
	if (r->status == FL_TEST_SKIP) {
		fputs(" # SKIP", f);
		if (r->message && *r->message) {
			fputc(' ', f);
			put_desc(f, r->message);
		}
	}
	fputc('\n', f);
	bool retried = r->retries && r->nretries > 0;
	if (r->status == FL_TEST_PASS && retried) {
		fputs("  ---\n  flaky: true\n", f);
		put_retries(f, r);
		fputs("  ...\n", f);
	}
	if (r->status == FL_TEST_FAIL) {
		fputs("  ---\n  message: ", f);
		put_quoted(f, r->message ? r->message : "failed");
		fputs("\n  severity: fail\n", f);
		if (r->fail_file) {
			char *at = NULL;
			int n = r->fail_line > 0
					? asprintf(&at, "%s:%d", r->fail_file, r->fail_line)
					: asprintf(&at, "%s", r->fail_file);
			if (n >= 0) {
				fputs("  at: ", f);
				put_quoted(f, at);
				fputc('\n', f);
				free(at);
			}
		}
		fprintf(f, "  duration_ms: %.3f\n", (double)r->duration_ns / 1e6);
		if (retried)
			put_retries(f, r);
		if (r->detail && *r->detail)
			put_block(f, "detail", r->detail);
		fputs("  ...\n", f);
	}
	fflush(f);
}

static void tap_file_error(void *self, const struct fl_file_error *e)
{
	struct tap *t = self;
	FILE *f = t->out.f;
	LIVE(t);
	header(t);
	t->n++;
	fprintf(f, "not ok %d - ", t->n);
	put_desc(f, e->file);
	fputs(": file error\n  ---\n  message: ", f);
	char *first = fl_report_first_line(e->message);
	put_quoted(f, first ? first : "error");
	free(first);
	fprintf(f, "\n  severity: %s\n  exit_code: %d\n",
		e->exit_code == 3 ? "infrastructure" : "error", e->exit_code);
	if (e->message && strchr(e->message, '\n'))
		put_block(f, "detail", e->message);
	fputs("  ...\n", f);
	fflush(f);
}

static void tap_run_end(void *self, const struct fl_run_summary *s)
{
	struct tap *t = self;
	FILE *f = t->out.f;
	LIVE(t);
	header(t);
	fprintf(f,
		"# %d passed, %d failed, %d skipped, %d file error%s (%d file%s, %.2f s, seed "
		"%" PRIu64 ")\n",
		s->passed, s->failed, s->skipped, s->errors, s->errors == 1 ? "" : "s", s->files,
		s->files == 1 ? "" : "s", (double)s->duration_ns / 1e9, s->seed);
	if (s->not_run || s->files_not_run)
		fprintf(f, "# %d not run (--bail; %d file%s not started)\n", s->not_run,
			s->files_not_run, s->files_not_run == 1 ? "" : "s");
	if (s->interrupted)
		fputs("Bail out! run interrupted\n", f);
	else
		fprintf(f, "1..%d\n", t->n);
	fl_report_out_commit(&t->out);
}

static void tap_free(void *self)
{
	struct tap *t = self;
	if (!t)
		return;
	fl_report_out_commit(&t->out); /* what was written stays readable */
	fl_report_out_close(&t->out);
	free(t);
}

const struct fl_reporter_ops fl_report_tap_ops = {
	.name = "tap",
	.run_begin = tap_run_begin,
	.test_done = tap_test_done,
	.file_error = tap_file_error,
	.run_end = tap_run_end,
	.free = tap_free,
};

const struct fl_reporter_ops fl_report_tap13_ops = {
	.name = "tap13",
	.run_begin = tap_run_begin,
	.test_done = tap_test_done,
	.file_error = tap_file_error,
	.run_end = tap_run_end,
	.free = tap_free,
};

static int tap_new(struct fl_report_out *out, struct fl_reporter *rep, int version)
{
	struct tap *t = calloc(1, sizeof(*t));
	if (!t) {
		fl_report_out_close(out);
		return FL_ENOMEM;
	}
	t->out = *out;
	t->version = version;
	rep->ops = version == 13 ? &fl_report_tap13_ops : &fl_report_tap_ops;
	rep->self = t;
	return 0;
}

static int tap14_open(struct fl_report_out *out, struct fl_reporter *rep)
{
	return tap_new(out, rep, 14);
}

static int tap13_open(struct fl_report_out *out, struct fl_reporter *rep)
{
	return tap_new(out, rep, 13);
}

const struct fl_report_format fl_report_tap = { .name = "tap", .open = tap14_open };
const struct fl_report_format fl_report_tap13 = { .name = "tap13", .open = tap13_open };
