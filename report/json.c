/* The JSON journal, written when the run ends:
 *   {"version":1,"seed":S,"started":"RFC 3339","duration_ms":N,"interrupted":B,
 *    "summary":{"passed","failed","skipped","errors","files",
 *               "not_run","files_not_run" (only after --bail stopped the run)},
 *    "files":[{"file","started","duration_ms",
 *              "tests":[{"name","suite","status","duration_ms","tags","message",
 *                        "detail","location":{"file","line"},"extra","index",
 *                        "flaky","retries":[{"message","detail","duration_ms"}]}],
 *              "errors":[{"message","exit_code"}]}],
 *    "command","history","histories":[..],"extra":{"checks":[..]}}
 * Files appear in the order they began, tests in completion order. Strings
 * that are not valid UTF-8 get U+FFFD for the bad bytes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/text.h"
#include "core/clock.h"
#include "core/errors.h"

/* A new JSON string for s (null for NULL), made valid UTF-8 first. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	char *clean = fl_text_utf8_clean(s);
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
	return json_pack("{s:o,s:o,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:b,s:o}", "name",
			 jstr(r->name), "suite", jstr(r->suite ? r->suite : ""), "status",
			 status_name(r->status), "duration_ms", ms(r->duration_ns), "tags",
			 r->tags ? json_deep_copy(r->tags) : json_array(), "message",
			 jstr(r->message), "error_type", jstr(r->error_type), "detail",
			 jstr(r->detail), "location", loc ? loc : json_null(), "extra",
			 r->extra ? json_deep_copy(r->extra) : json_null(), "index", r->index,
			 "flaky", r->status == FL_TEST_PASS && r->retries && r->nretries > 0,
			 "retries", retries_json(r));
}

static json_t *file_json(const struct fl_report_file *f)
{
	json_t *tests = json_array(), *errors = json_array();
	for (size_t i = 0; i < f->ntests; i++)
		json_array_append_new(tests, test_json(&f->tests[i]));
	for (size_t i = 0; i < f->nerrors; i++)
		json_array_append_new(errors,
				      json_pack("{s:o,s:i}", "message", jstr(f->errors[i].message),
						"exit_code", f->errors[i].exit_code));
	return json_pack("{s:o,s:o,s:I,s:o,s:o}", "file", jstr(f->file), "started",
			 iso(f->begin_wall_ns), "duration_ms",
			 (json_int_t)(fl_report_file_seconds(f) * 1000 + 0.5), "tests", tests,
			 "errors", errors);
}

/* The whole journal, a new reference (NULL when out of memory). */
static json_t *journal_json(const struct fl_report_log *log, const struct fl_run_summary *s)
{
	json_t *files = json_array();
	for (size_t i = 0; files && i < log->nfiles; i++)
		json_array_append_new(files, file_json(log->files[i]));
	json_t *root =
		json_pack("{s:i,s:o,s:o,s:I,s:b,s:{s:i,s:i,s:i,s:i,s:i},s:o}", "version", 1, "seed",
			  seed_value(s->seed), "started",
			  iso(log->begin_wall_ns ? log->begin_wall_ns : fl_wall_ns()),
			  "duration_ms", ms(s->duration_ns), "interrupted", s->interrupted,
			  "summary", "passed", s->passed, "failed", s->failed, "skipped",
			  s->skipped, "errors", s->errors, "files", s->files, "files", files);
	if (root && (s->not_run || s->files_not_run)) {
		json_t *sum = json_object_get(root, "summary");
		json_object_set_new(sum, "not_run", json_integer(s->not_run));
		json_object_set_new(sum, "files_not_run", json_integer(s->files_not_run));
	}
	if (root && s->extra)
		json_object_set_new(root, "extra", json_deep_copy(s->extra));
	if (root && s->command)
		json_object_set_new(root, "command", jstr(s->command));
	if (root && s->history_path)
		json_object_set_new(root, "history", jstr(s->history_path));
	if (root && s->nhistories > 0) {
		json_t *h = json_array();
		for (int i = 0; h && i < s->nhistories; i++)
			json_array_append_new(h, jstr(s->histories[i]));
		json_object_set_new(root, "histories", h ? h : json_null());
	}
	if (root && log->oom)
		json_object_set_new(root, "incomplete",
				    json_string("out of memory: some results are missing"));
	return root;
}

static int json_write(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	json_t *root = journal_json(log, s);
	int rc = !root ? FL_ENOMEM : json_dumpf(root, f, JSON_INDENT(2)) < 0 ? FL_EIO : 0;
	json_decref(root);
	if (rc == 0 && (fputc('\n', f) == EOF || ferror(f)))
		rc = FL_EIO;
	return rc;
}

const struct fl_report_format fl_report_json = { .name = "json", .write = json_write };
