/* Test results and the reporters that write them: console, TAP 14 (and
 * 13), JUnit XML, the JSON journal and the HTML page. The runner (and
 * `check`, `contract verify`) fills struct fl_test_result values and hands
 * them to a fl_report_set; reporters may be called from several runner
 * threads (--jobs), the set serialises them.
 *
 * Contents: results (result.c), the parts of a test — checker verdicts and
 * experiment steps as tests (parts.c), reporters and the format factory
 * (formats.c; streaming formats console.c, tap.c; end-of-run formats
 * junit.c, json.c, html.c written by collect.c from the run log, log.c),
 * the set (set.c), output files (out.c). */
#ifndef FL_REPORT_REPORT_H
#define FL_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

enum fl_test_status { FL_TEST_PASS, FL_TEST_FAIL, FL_TEST_SKIP };

/* An earlier failed try of a test the runner retried (strings owned). */
struct fl_test_attempt {
	char *message;
	char *detail;
	int64_t duration_ns;
};

/* One finished test. Every string is owned by the result (freed by
 * fl_test_result_free); any of them may be NULL except file and name. */
struct fl_test_result {
	char *file;  /* scenario path as given */
	char *suite; /* enclosing describe blocks joined with " > " ("" at top level) */
	char *name;  /* the it() description */
	enum fl_test_status status;
	int64_t duration_ns;
	int64_t start_wall_ns;
	char *message;	  /* failure: one line ("expected 200, got 503"); skip: the reason */
	char *detail;	  /* failure: expected/actual, HTTP exchange, traceback (multi-line) */
	char *error_type; /* failure that is an error, not a failed assertion
				 * (JUnit <error type=...>): "unknown" for a checker
				 * that could not decide; NULL for a plain failure */
	char *fail_file;  /* where it failed: scenario file and line */
	int fail_line;
	json_t *tags;  /* array of strings (owned reference) or NULL */
	json_t *extra; /* JSON details for the journal (owned) or NULL:
				 * "checks" (checker results) and "experiment" (an
				 * experiment journal) become the test's parts */
	int index;     /* 1-based position within its file */
	/* Retries: the failed tries before this final one, oldest first (owned
	 * array of nretries, NULL/0 when the test ran once). A PASS with
	 * retries is flaky: JUnit gets <flakyFailure>s, a FAIL <rerunFailure>s. */
	struct fl_test_attempt *retries;
	int nretries;
};

/* Free what r owns (every string, tags, extra, retries) and zero it; r itself is not
 * freed, so it may live on the stack or inside another object. NULL is a
 * no-op. */
void fl_test_result_free(struct fl_test_result *r);

/* Deep copy of r into out (strings and retries duplicated, tags and extra
 * deep-copied).
 * Returns 0 or FL_ENOMEM (out then holds nothing). Free with
 * fl_test_result_free. */
int fl_test_result_copy(struct fl_test_result *out, const struct fl_test_result *r);

/* --- the parts of a test (report/parts.c) --- */

/* A growable list of results (owned; free with fl_test_list_free). */
struct fl_test_list {
	struct fl_test_result *v;
	size_t n, cap;
};
void fl_test_list_free(struct fl_test_list *l);

/* Append one test per invariant of a checker's result, given as JSON in
 * the form of fl_check_result_json (checkers/result.h), optionally with a
 * "label": passed, failed (message "N violations: first", detail the first,
 * worst and last examples with their evidence), unknown (a failure with
 * error_type "unknown") or skipped (not checked). Each carries its invariant
 * as extra {"invariant": {...,"id","checker","label"}}. file and suite are
 * copied. Returns 0 or FL_ENOMEM. */
int fl_report_check_tests(const json_t *check, const char *file, const char *suite,
			  struct fl_test_list *out);

/* Append one test per record of an experiment journal (faultline.chaos):
 * "steady state before: NAME", "method: NAME", "steady state after: NAME",
 * "rollback: NAME" and the tripped "safeguard: NAME", each failing when its
 * record deviated or failed. Returns 0 or FL_ENOMEM. */
int fl_report_experiment_tests(const json_t *journal, const char *file, const char *suite,
			       struct fl_test_list *out);

/* The parts of r: its extra's "experiment" journal and "checks" results
 * (in that order) as tests under suite "r->suite > r->name". Appends to
 * out; returns 0 or FL_ENOMEM. */
int fl_report_test_parts(const struct fl_test_result *r, struct fl_test_list *out);

/* A file-level problem that is not a test (syntax error, error in setup). */
struct fl_file_error {
	const char *file;
	const char *message; /* "scenarios/x.lua:12: unexpected symbol near 'end'" */
	int exit_code;	     /* 2 for script errors, 3 for infrastructure */
};

struct fl_run_summary {
	int passed, failed, skipped, errors; /* errors: file-level errors */
	int files;
	/* tests and files --bail left unrun (not in the counts above) */
	int not_run, files_not_run;
	int64_t duration_ns;
	uint64_t seed;
	bool interrupted;
	const char *history_path;     /* the run's --history file (charts in HTML), or NULL */
	const char *const *histories; /* more history files for the timeline (borrowed) */
	int nhistories;
	const char *command; /* the command line that reproduces the run, or NULL */
	const json_t *extra; /* run-level data for the journal and the page
					 * (borrowed) or NULL: "checks" (checker results,
					 * as `faultline check` gives) */
};

/* The state of a long workload or experiment, for the one-line progress
 * display on a terminal (fl_report_progress). Strings are borrowed. */
struct fl_progress {
	const char *what; /* "workload", "experiment: slow bank"; NULL: clear */
	double elapsed_s; /* since it began */
	double total_s;	  /* planned length; <= 0: unknown */
	int64_t ops;	  /* operations completed so far; < 0: not counted */
	int64_t errors;	  /* of them failed or unknown; < 0: not counted */
	int faults;	  /* faults active now; < 0: not known */
};

/* A reporter writes one format. Each callback may be NULL. */
struct fl_reporter_ops {
	const char *name; /* "console", "tap", "junit", "json" */
	void (*run_begin)(void *self, int nfiles, uint64_t seed);
	void (*file_begin)(void *self, const char *file);
	void (*test_done)(void *self, const struct fl_test_result *r);
	void (*file_error)(void *self, const struct fl_file_error *e);
	void (*file_end)(void *self, const char *file);
	void (*run_end)(void *self, const struct fl_run_summary *s);
	void (*tick)(void *self); /* redraw live progress (fl_report_tick) */
	void (*progress)(void *self, const struct fl_progress *p); /* fl_report_progress */
	void (*note)(void *self, const char *text);		   /* fl_report_note */
	void (*free)(void *self);
};

struct fl_reporter {
	const struct fl_reporter_ops *ops;
	void *self;
};

/* Create a reporter for `spec` ("console", "tap", "junit=out.xml",
 * "json=-"): without "=FILE" (or with "=-") every format writes to stdout.
 * A file is written as FILE.tmp and renamed to FILE when the run ends (or
 * the reporter is freed), so a reader never sees half a report; missing
 * parent directories are created. The console reporter draws its live
 * progress line and colours only when its output is a terminal (colours also
 * not when NO_COLOR is set and non-empty). Fills *out (freed by
 * fl_report_set_free once added, or by out->ops->free(out->self)). Returns 0,
 * FL_EINVAL (unknown format or empty file name, message in err) or the
 * negative errno of opening FILE.tmp (message in err). */
int fl_reporter_create(const char *spec, struct fl_reporter *out, char *err, size_t errlen);

/* Like fl_reporter_create for an already open stream: `format` is a bare
 * format name ("tap"); `stream` is borrowed (flushed, never closed) and must
 * outlive the reporter. */
int fl_reporter_open(const char *format, FILE *stream, struct fl_reporter *out, char *err,
		     size_t errlen);

/* True if rep is one of the reporters above writing standard output (so the
 * runner can leave out the default console when `--report tap` takes it). */
bool fl_reporter_to_stdout(const struct fl_reporter *rep);

/* A set of reporters fed together under one lock (the calls below may come
 * from several threads; a NULL set makes them no-ops). Every call borrows
 * its arguments: reporters copy what they keep. fl_report_set_new returns
 * NULL when out of memory. */
struct fl_report_set;
struct fl_report_set *fl_report_set_new(void);
/* Add rep to the set, taking it (on failure it is freed at once). Returns 0,
 * FL_ENOMEM, FL_EINVAL (no set or no ops), or FL_EEXIST when rep would write
 * standard output (or stderr, or a file) that a reporter already in the set
 * writes. */
int fl_report_set_add(struct fl_report_set *set, struct fl_reporter rep);
void fl_report_run_begin(struct fl_report_set *set, int nfiles, uint64_t seed);
void fl_report_file_begin(struct fl_report_set *set, const char *file);
void fl_report_test_done(struct fl_report_set *set, const struct fl_test_result *r);
void fl_report_file_error(struct fl_report_set *set, const struct fl_file_error *e);
void fl_report_file_end(struct fl_report_set *set, const char *file);
void fl_report_run_end(struct fl_report_set *set, const struct fl_run_summary *s);
/* Redraw the console's live progress line (its elapsed time); nothing for
 * the other reporters or off a terminal. For a runner timer (~every 250 ms). */
void fl_report_tick(struct fl_report_set *set);
/* Show p on the console's progress line (elapsed/total, ops/s, errors,
 * active faults) when the console is a terminal; nothing otherwise, and
 * nothing ever reaches a file or a pipe. p->what NULL (or p NULL) takes the
 * display down. Cheap to call often: the line is redrawn at most ten times
 * a second. */
void fl_report_progress(struct fl_report_set *set, const struct fl_progress *p);

/* Lines a test prints for a person (an experiment's steps as they
 * happen), written by the console reporter where its results go, below its
 * header and above its progress line. Returns false when the set has no
 * console (the caller then prints them itself). */
bool fl_report_note(struct fl_report_set *set, const char *text);

/* Free the set and its reporters, closing their files. Console and TAP
 * files keep what was written; a JUnit or JSON file whose run never reached
 * fl_report_run_end is not published (its FILE.tmp is removed). */
void fl_report_set_free(struct fl_report_set *set);

/* --- after the fact (report/journal.c, report/compare.c) --- */

/* A finished run read back from its JSON journal (--report json=FILE), or
 * from an experiment's journal (faultline chaos --journal), as a run of one
 * test. */
struct fl_report_run;

/* Load the journal at path into *out (free with fl_report_run_free).
 * Returns 0, FL_EINVAL (not JSON, not a journal; message in err) or
 * FL_ENOMEM. */
int fl_report_run_load(const char *path, struct fl_report_run **out, char *err, size_t errlen);
void fl_report_run_free(struct fl_report_run *run);

/* Write run as `spec` (as for fl_reporter_create: "html=FILE", "junit=-",
 * "tap"). History files given (borrowed) replace the journal's recorded
 * one for the page's timeline. Returns 0 or a negative FL_E* (message in
 * err). */
int fl_report_run_write(const struct fl_report_run *run, const char *spec,
			const char *const *histories, int nhistories, char *err, size_t errlen);

/* The comparison page of two runs (HTML, at path; "-" for stdout): their
 * timelines on shared axes, each invariant's verdict side by side, the
 * change in latency percentiles, throughput and error rate. Returns 0 or a
 * negative FL_E* (message in err). */
int fl_report_compare(const struct fl_report_run *a, const struct fl_report_run *b,
		      const char *path, char *err, size_t errlen);

#endif
