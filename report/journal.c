/* A finished run read back from its JSON journal (the "json" format, see
 * json.c) — or from an experiment's own journal (faultline chaos --journal),
 * which becomes a run of one test — so any format can be written after the
 * fact (`faultline report`). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_int.h"
#include "core/errors.h"
#include "core/json.h"

struct fl_report_run {
	json_t *root; /* the journal (owned) */
	struct fl_report_log log;
	struct fl_run_summary sum; /* strings point into root */
	const char **histories;	   /* the journal's "histories" (into root) */
	char *path;
};

/* "2026-12-03T08:37:16.222Z" -> ns since the epoch (0 if unreadable). */
static int64_t parse_iso(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return 0;
	int64_t ns = (int64_t)timegm(&tm) * 1000000000LL;
	if (*rest == '.') {
		int64_t scale = 100000000LL;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
			ns += (*rest - '0') * scale;
	}
	return ns;
}

static char *dup_or_null(const json_t *o, const char *key)
{
	const char *s = fl_json_str(o, key, NULL);
	return s ? strdup(s) : NULL;
}

static enum fl_test_status status_of(const char *s)
{
	return !strcmp(s, "passed") || !strcmp(s, "pass")    ? FL_TEST_PASS
	       : !strcmp(s, "skipped") || !strcmp(s, "skip") ? FL_TEST_SKIP
							     : FL_TEST_FAIL;
}

static int load_test(struct fl_test_result *r, const char *file, const json_t *t)
{
	memset(r, 0, sizeof(*r));
	r->file = strdup(file);
	r->suite = dup_or_null(t, "suite");
	r->name = strdup(fl_json_str(t, "name", "(unnamed)"));
	r->status = status_of(fl_json_str(t, "status", "failed"));
	r->duration_ns = fl_json_int(t, "duration_ms", 0) * 1000000;
	r->message = dup_or_null(t, "message");
	r->error_type = dup_or_null(t, "error_type");
	r->detail = dup_or_null(t, "detail");
	json_t *loc = json_object_get(t, "location");
	r->fail_file = dup_or_null(loc, "file");
	r->fail_line = (int)fl_json_int(loc, "line", 0);
	r->index = (int)fl_json_int(t, "index", 0);
	json_t *tags = json_object_get(t, "tags"), *extra = json_object_get(t, "extra");
	if (json_is_array(tags))
		r->tags = json_deep_copy(tags);
	if (json_is_object(extra))
		r->extra = json_deep_copy(extra);
	json_t *tries = json_object_get(t, "retries");
	size_t n = json_array_size(tries);
	if (n) {
		r->retries = calloc(n, sizeof(*r->retries));
		for (size_t i = 0; r->retries && i < n; i++) {
			json_t *a = json_array_get(tries, i);
			r->retries[i].message = dup_or_null(a, "message");
			r->retries[i].detail = dup_or_null(a, "detail");
			r->retries[i].duration_ns = fl_json_int(a, "duration_ms", 0) * 1000000;
			r->nretries++;
		}
	}
	return r->file && r->name ? 0 : FL_ENOMEM;
}

static int load_file(struct fl_report_log *log, const json_t *jf)
{
	struct fl_report_file *f = fl_report_log_file(log, fl_json_str(jf, "file", "?"));
	if (!f)
		return FL_ENOMEM;
	f->begin_wall_ns = parse_iso(fl_json_str(jf, "started", NULL));
	f->begin_mono_ns = 1; /* so fl_report_file_seconds gives the recorded duration */
	f->end_mono_ns = 1 + fl_json_int(jf, "duration_ms", 0) * 1000000;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(jf, "tests"), i, t) {
		struct fl_test_result r;
		int rc = load_test(&r, f->file, t);
		if (rc == 0)
			rc = fl_report_log_test(log, &r);
		fl_test_result_free(&r);
		if (rc)
			return rc;
	}
	json_array_foreach(json_object_get(jf, "errors"), i, t) {
		struct fl_file_error e = { .file = f->file,
					   .message = fl_json_str(t, "message", "error"),
					   .exit_code = (int)fl_json_int(t, "exit_code", 2) };
		if (fl_report_log_error(log, &e))
			return FL_ENOMEM;
	}
	return 0;
}

/* An experiment's own journal as a run journal of one test. */
static json_t *wrap_experiment(json_t *exp, const char *path)
{
	const char *status = fl_json_str(exp, "status", "?");
	bool ok = !strcmp(status, "completed") || !strcmp(status, "dry-run");
	double started = fl_json_num(exp, "started", 0), ended = fl_json_num(exp, "ended", started);
	char title[512], iso[40];
	snprintf(title, sizeof(title), "experiment: %s", fl_json_str(exp, "title", "?"));
	time_t secs = (time_t)started;
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_int_t ms = (json_int_t)((ended - started) * 1000);
	return json_pack("{s:i,s:O,s:s,s:I,s:b,s:{s:i,s:i,s:i,s:i,s:i},s:[{s:s,s:s,s:I,s:[{s:s,s:s,"
			 "s:s,"
			 "s:I,s:s?,s:{s:O}}],s:[]}]}",
			 "version", 1, "seed",
			 json_object_get(exp, "seed") ? json_object_get(exp, "seed")
						      : json_integer(0),
			 "started", iso, "duration_ms", ms, "interrupted",
			 !strcmp(status, "interrupted"), "summary", "passed", ok, "failed", !ok,
			 "skipped", 0, "errors", 0, "files", 1, "files", "file", path, "started",
			 iso, "duration_ms", ms, "tests", "name", title, "suite", "", "status",
			 ok ? "passed" : "failed", "duration_ms", ms, "message",
			 ok ? NULL : fl_json_str(exp, "reason", status), "extra", "experiment", exp,
			 "errors");
}

static int load(struct fl_report_run *run, char *err, size_t errlen)
{
	json_t *root = run->root;
	if (!json_object_get(root, "files") && json_object_get(root, "method")) {
		json_t *w = wrap_experiment(root, run->path);
		if (!w)
			return fl_err_set(err, errlen, FL_ENOMEM, "%s: out of memory", run->path);
		json_decref(run->root);
		run->root = root = w;
	}
	if (!json_is_array(json_object_get(root, "files")))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "%s: not a faultline journal (no \"files\": write one with "
				  "--report json=FILE)",
				  run->path);
	struct fl_run_summary *s = &run->sum;
	json_t *sum = json_object_get(root, "summary");
	s->passed = (int)fl_json_int(sum, "passed", 0);
	s->failed = (int)fl_json_int(sum, "failed", 0);
	s->skipped = (int)fl_json_int(sum, "skipped", 0);
	s->errors = (int)fl_json_int(sum, "errors", 0);
	s->files = (int)fl_json_int(sum, "files", 0);
	s->duration_ns = fl_json_int(root, "duration_ms", 0) * 1000000;
	json_t *seed = json_object_get(root, "seed");
	s->seed = json_is_string(seed) ? strtoull(json_string_value(seed), NULL, 10)
				       : (uint64_t)json_integer_value(seed);
	s->interrupted = fl_json_bool(root, "interrupted", false);
	s->history_path = fl_json_str(root, "history", NULL);
	s->command = fl_json_str(root, "command", NULL);
	json_t *hs = json_object_get(root, "histories");
	size_t nh = json_array_size(hs);
	if (nh && (run->histories = calloc(nh, sizeof(*run->histories)))) {
		for (size_t k = 0; k < nh; k++)
			if (json_is_string(json_array_get(hs, k)))
				run->histories[s->nhistories++] =
					json_string_value(json_array_get(hs, k));
		s->histories = run->histories;
	}
	s->extra = json_object_get(root, "extra");
	run->log.seed = s->seed;
	run->log.begin_wall_ns = parse_iso(fl_json_str(root, "started", NULL));
	run->log.end_wall_ns = run->log.begin_wall_ns + s->duration_ns;
	size_t i;
	json_t *jf;
	json_array_foreach(json_object_get(root, "files"), i, jf)
		if (load_file(&run->log, jf))
			return fl_err_set(err, errlen, FL_ENOMEM, "%s: out of memory", run->path);
	return 0;
}

int fl_report_run_load(const char *path, struct fl_report_run **out, char *err, size_t errlen)
{
	*out = NULL;
	struct fl_report_run *run = calloc(1, sizeof(*run));
	if (!run || !(run->path = strdup(path))) {
		free(run);
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	}
	char jerr[256] = "";
	run->root = fl_json_load_file(path, jerr, sizeof(jerr));
	int rc =
		run->root ? load(run, err, errlen) : fl_err_set(err, errlen, FL_EINVAL, "%s", jerr);
	if (rc) {
		fl_report_run_free(run);
		return rc;
	}
	*out = run;
	return 0;
}

void fl_report_run_free(struct fl_report_run *run)
{
	if (!run)
		return;
	fl_report_log_free(&run->log);
	free(run->histories);
	json_decref(run->root);
	free(run->path);
	free(run);
}

const struct fl_report_log *fl_report_run_log(const struct fl_report_run *run)
{
	return &run->log;
}

const struct fl_run_summary *fl_report_run_summary(const struct fl_report_run *run)
{
	return &run->sum;
}

/* Feed a streaming reporter the run as it happened. */
static void replay(const struct fl_report_run *run, struct fl_reporter *rep,
		   const struct fl_run_summary *s)
{
	const struct fl_reporter_ops *o = rep->ops;
	if (o->run_begin)
		o->run_begin(rep->self, (int)run->log.nfiles, s->seed);
	for (size_t i = 0; i < run->log.nfiles; i++) {
		const struct fl_report_file *f = run->log.files[i];
		if (o->file_begin)
			o->file_begin(rep->self, f->file);
		for (size_t k = 0; k < f->ntests && o->test_done; k++)
			o->test_done(rep->self, &f->tests[k]);
		for (size_t k = 0; k < f->nerrors && o->file_error; k++) {
			struct fl_file_error e = { f->file, f->errors[k].message,
						   f->errors[k].exit_code };
			o->file_error(rep->self, &e);
		}
		if (o->file_end)
			o->file_end(rep->self, f->file);
	}
	if (o->run_end)
		o->run_end(rep->self, s);
}

int fl_report_run_write(const struct fl_report_run *run, const char *spec,
			const char *const *histories, int nhistories, char *err, size_t errlen)
{
	struct fl_run_summary s = run->sum;
	if (nhistories > 0) {
		s.histories = histories;
		s.nhistories = nhistories;
		s.history_path = NULL; /* the files given replace the recorded one */
	}
	const char *eq = strchr(spec, '=');
	const struct fl_report_format *fmt =
		fl_report_format_find(spec, eq ? (size_t)(eq - spec) : strlen(spec));
	if (fmt && fmt->write) { /* from the log as loaded: its times are the run's */
		struct fl_report_out o;
		if (eq && !eq[1])
			return fl_err_set(err, errlen, FL_EINVAL, "report '%s': missing file name",
					  spec);
		int rc = fl_report_out_open(&o, eq ? eq + 1 : NULL, err, errlen);
		if (rc)
			return rc;
		rc = fmt->write(o.f, &run->log, &s);
		if (rc == 0)
			rc = fl_report_out_commit(&o);
		else
			fl_err_set(err, errlen, rc, "report %s: %s", spec, fl_strerror(rc));
		fl_report_out_close(&o);
		return rc;
	}
	struct fl_reporter rep;
	int rc = fl_reporter_create(spec, &rep, err, errlen);
	if (rc)
		return rc;
	replay(run, &rep, &s);
	rep.ops->free(rep.self);
	return 0;
}
