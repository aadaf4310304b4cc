/* The JSON journal, written when the run ends:
 *   {"version":1,"seed":S,"started":"RFC 3339","duration_ms":N,"interrupted":B,
 *    "summary":{"passed","failed","skipped","errors","files"},
 *    "files":[{"file","started","duration_ms",
 *              "tests":[{"name","suite","status","duration_ms","tags","message",
 *                        "detail","location":{"file","line"},"extra","index",
 *                        "flaky","retries":[{"message","detail","duration_ms"}]}],
 *              "errors":[{"message","exit_code"}]}]}
 * Files appear in the order they began, tests in completion order. Strings
 * that are not valid UTF-8 get U+FFFD for the bad bytes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_impl.h"
#include "core/clock.h"
#include "core/errors.h"

struct journal {
	struct fl_report_out out;	/* first: see report_impl.h */
	struct fl_report_log log;
	bool oom;
};

/* A new JSON string for s (null for NULL), made valid UTF-8 first. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	char *clean = fl_report_utf8_clean(s);
	v = clean ? json_string(clean) : NULL;
	free(clean);
	return v ? v : json_null();
}

static json_int_t ms(int64_t ns)
{
	return (json_int_t)((ns + 500000) / 1000000);
}

static json_t *iso(int64_t wall_ns)
{
	char buf[40];
	return json_string(fl_wall_iso(wall_ns, buf, sizeof(buf)));
}

static const char *status_name(enum fl_test_status s)
{
	return s == FL_TEST_PASS ? "passed" : s == FL_TEST_FAIL ? "failed" : "skipped";
}

/* Seeds are unsigned 64-bit; JSON integers here are signed, so the few
 * seeds above INT64_MAX are written as decimal strings. */
static json_t *seed_value(uint64_t seed)
{
	if (seed <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)seed);
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, seed);
	return json_string(buf);
}

static json_t *retries_json(const struct fl_test_result *r)
{
	json_t *a = json_array();
	for (int i = 0; a && r->retries && i < r->nretries; i++)
		json_array_append_new(a, json_pack("{s:o,s:o,s:I}", "message",
						   jstr(r->retries[i].message), "detail",
						   jstr(r->retries[i].detail), "duration_ms",
						   ms(r->retries[i].duration_ns)));
	return a ? a : json_null();
}

static json_t *test_json(const struct fl_test_result *r)
{
	json_t *loc = json_null();
	if (r->fail_file)
		loc = json_pack("{s:o,s:o}", "file", jstr(r->fail_file), "line",
				r->fail_line > 0 ? json_integer(r->fail_line) : json_null());
	return json_pack("{s:o,s:o,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:i,s:b,s:o}",
			 "name", jstr(r->name),
			 "suite", jstr(r->suite ? r->suite : ""),
			 "status", status_name(r->status),
			 "duration_ms", ms(r->duration_ns),
			 "tags", r->tags ? json_deep_copy(r->tags) : json_array(),
			 "message", jstr(r->message),
			 "detail", jstr(r->detail),
			 "location", loc ? loc : json_null(),
			 "extra", r->extra ? json_deep_copy(r->extra) : json_null(),
			 "index", r->index,
			 "flaky", r->status == FL_TEST_PASS && r->retries && r->nretries > 0,
			 "retries", retries_json(r));
}

static json_t *file_json(const struct fl_report_file *f)
{
	json_t *tests = json_array(), *errors = json_array();
	for (size_t i = 0; i < f->ntests; i++)
		json_array_append_new(tests, test_json(&f->tests[i]));
	for (size_t i = 0; i < f->nerrors; i++)
		json_array_append_new(errors, json_pack("{s:o,s:i}", "message",
							jstr(f->errors[i].message), "exit_code",
							f->errors[i].exit_code));
	return json_pack("{s:o,s:o,s:I,s:o,s:o}", "file", jstr(f->file),
			 "started", iso(f->begin_wall_ns),
			 "duration_ms", (json_int_t)(fl_report_file_seconds(f) * 1000 + 0.5),
			 "tests", tests, "errors", errors);
}

/* The whole journal, a new reference (NULL when out of memory). */
static json_t *journal_json(const struct journal *j, const struct fl_run_summary *s)
{
	json_t *files = json_array();
	for (size_t i = 0; files && i < j->log.nfiles; i++)
		json_array_append_new(files, file_json(j->log.files[i]));
	json_t *root = json_pack(
		"{s:i,s:o,s:o,s:I,s:b,s:{s:i,s:i,s:i,s:i,s:i},s:o}", "version", 1,
		"seed", seed_value(s->seed),
		"started", iso(j->log.begin_wall_ns ? j->log.begin_wall_ns : fl_wall_ns()),
		"duration_ms", ms(s->duration_ns), "interrupted", s->interrupted,
		"summary", "passed", s->passed, "failed", s->failed, "skipped", s->skipped,
		"errors", s->errors, "files", s->files, "files", files);
	if (root && j->oom)
		json_object_set_new(root, "incomplete", json_string("out of memory: some results are missing"));
	return root;
}

static void json_run_begin(void *self, int nfiles, uint64_t seed)
{
	struct journal *j = self;
	(void)nfiles;
	j->log.begin_wall_ns = fl_wall_ns();
	j->log.begin_mono_ns = fl_mono_ns();
	j->log.seed = seed;
}

static void json_file_begin(void *self, const char *file)
{
	struct journal *j = self;
	if (!fl_report_log_file(&j->log, file))
		j->oom = true;
}

static void json_test_done(void *self, const struct fl_test_result *r)
{
	struct journal *j = self;
	if (fl_report_log_test(&j->log, r))
		j->oom = true;
}

static void json_file_error(void *self, const struct fl_file_error *e)
{
	struct journal *j = self;
	if (fl_report_log_error(&j->log, e))
		j->oom = true;
}

static void json_file_end(void *self, const char *file)
{
	struct journal *j = self;
	struct fl_report_file *rf = fl_report_log_file(&j->log, file);
	if (rf)
		rf->end_mono_ns = fl_mono_ns();
}

static void json_run_end(void *self, const struct fl_run_summary *s)
{
	struct journal *j = self;
	if (j->out.committed)
		return;
	json_t *root = journal_json(j, s);
	if (!root || json_dumpf(root, j->out.f, JSON_INDENT(2)) < 0) {
		fprintf(stderr, "faultline: cannot write the JSON report: out of memory\n");
		json_decref(root);
		return;	/* left unpublished: freed without commit */
	}
	fputc('\n', j->out.f);
	json_decref(root);
	fl_report_out_commit(&j->out);
}

static void json_free(void *self)
{
	struct journal *j = self;
	if (!j)
		return;
	fl_report_out_close(&j->out);
	fl_report_log_free(&j->log);
	free(j);
}

const struct fl_reporter_ops fl_report_json_ops = {
	.name = "json",
	.run_begin = json_run_begin,
	.file_begin = json_file_begin,
	.test_done = json_test_done,
	.file_error = json_file_error,
	.file_end = json_file_end,
	.run_end = json_run_end,
	.free = json_free,
};

int fl_reporter_json_new(struct fl_report_out *out, struct fl_reporter *rep)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j) {
		fl_report_out_close(out);
		return FL_ENOMEM;
	}
	j->out = *out;
	rep->ops = &fl_report_json_ops;
	rep->self = j;
	return 0;
}
