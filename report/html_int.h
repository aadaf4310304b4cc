/* Internals of the HTML page (report/html*.c, report/timeline.c): the
 * timeline model read from history files, and the pieces of the page.
 *
 *   html.c           the page: head, header, sections, the tests by file
 *   timeline.c       history files -> struct fl_timeline (ops, faults, marks)
 *   html_charts.c    the timeline as inline SVG: fault lane, throughput,
 *                    error rate and latency percentiles per operation type
 *   html_parts.c     experiments (probes, steps, rollbacks, safeguards) and
 *                    checker verdicts (first and worst evidence) */
#ifndef FL_REPORT_HTML_INT_H
#define FL_REPORT_HTML_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "core/hist.h"
#include "report/report_int.h"

/* --- the timeline model ---------------------------------------------------- */

/* One completed client operation. */
struct fl_tl_op {
	int64_t t;	 /* invoke time, ns (the history's clock) */
	int64_t latency; /* ns from invoke to completion */
	uint16_t type;	 /* index into fl_timeline.types */
	char status;	 /* 'o' ok, 'f' fail, 'i' info (outcome unknown) */
};

/* A fault window: added .. removed (to < 0: still active at the end). */
struct fl_tl_fault {
	int64_t from, to;
	char what[48], target[80], params[160], id[40];
};

/* A point on the timeline: a process event, a checker's violation, an
 * experiment's step. */
struct fl_tl_mark {
	int64_t t;
	char kind; /* 'p' process, 'v' violation, 's' experiment step */
	char label[120];
};

/* Per operation type, per bucket of the time axis. */
struct fl_tl_series {
	char name[40];
	uint64_t *ok, *err; /* nbuckets counts each (err: fail + info) */
	uint64_t total_ok, total_err;
};

struct fl_timeline {
	int64_t t0, t1; /* first and last time seen, ns */
	struct fl_tl_op *ops;
	size_t nops, capops;
	struct fl_tl_fault *faults;
	size_t nfaults, capfaults;
	struct fl_tl_mark *marks;
	size_t nmarks, capmarks;
	char (*types)[40]; /* operation names ("f"), in order of appearance */
	size_t ntypes, captypes;
	/* after fl_timeline_finish: buckets of bucket_ns over [t0, t1] */
	int64_t bucket_ns;
	size_t nbuckets;
	struct fl_tl_series *series; /* ntypes */
	struct fl_hist *lat;	     /* nbuckets latency histograms, every type */
	struct fl_hist *all;	     /* the whole run */
	size_t lines, files;	     /* what was read */
	/* pending invokes of the file being read, by process */
	struct pend {
		int64_t t;
		int type;
	} * pend;
	size_t npend;
};

/* Read one history file (JSONL) into tl. Returns 0, or a negative FL_E*
 * with "FILE:LINE: reason" in err. */
int fl_timeline_read(struct fl_timeline *tl, const char *path, char *err, size_t errlen);

/* Add a mark (label copied). 0 or FL_ENOMEM. */
int fl_timeline_mark(struct fl_timeline *tl, int64_t t, char kind, const char *label);

/* Bucket the operations: at most `max_buckets` buckets of a whole number of
 * seconds (1 s when the run is short enough), histograms per bucket. 0 or
 * FL_ENOMEM. */
int fl_timeline_finish(struct fl_timeline *tl, size_t max_buckets);

void fl_timeline_free(struct fl_timeline *tl);

/* --- the page ---------------------------------------------------------------- */

/* Escape text for HTML content and attributes (invalid UTF-8 as U+FFFD). */
void fl_html_esc(FILE *f, const char *s);

/* The time axis shared by every chart of a page. */
struct fl_html_axis {
	int64_t t0, t1; /* ns */
	double x0, x1;	/* pixels */
};
double fl_html_x(const struct fl_html_axis *ax, int64_t t);

/* A line of a chart: one value per bucket of a finished timeline (NAN: no
 * point). */
struct fl_html_line {
	const char *name, *cls, *color;
	double *y;
	int dashed;
};

/* A line chart over tl's buckets (shaded with its fault windows and marks
 * when `shaded`), linear from 0 or log-scaled, y labels by fmt. */
void fl_html_chart(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax,
		   bool shaded, const char *title, const struct fl_html_line *ls, size_t n,
		   bool logy, const char *(*fmt)(double, char *, size_t));
const char *fl_html_fmt_rate(double v, char *buf, size_t len); /* "1.2k/s" */
const char *fl_html_fmt_lat(double ns, char *buf, size_t len); /* "12.3 ms" */

/* The page's style sheet and its head up to <main> (title borrowed). */
extern const char fl_html_css[];
void fl_html_head(FILE *f, const char *title);

/* Read a run's history files into tl (not finished); err as
 * fl_timeline_read. A run without history leaves tl empty (t1 == 0). */
int fl_html_load_timeline(struct fl_timeline *tl, const struct fl_run_summary *s, char *err,
			  size_t errlen);

/* The timeline section (fault lane and charts) for tl (finished). */
void fl_html_timeline(FILE *f, const struct fl_timeline *tl);

/* An experiment's section from its journal (faultline.chaos). */
void fl_html_experiment(FILE *f, const json_t *journal, const char *test_name);

/* A test's coverage section from its extra.coverage ({faults: {target:
 * {kind: n}}, paths: {path: n}, missing: [path]}; borrowed). */
void fl_html_coverage(FILE *f, const json_t *coverage, const char *test_name);

/* The checkers section: every check result of the run (the summary's
 * extra.checks and each test's extra.checks). Returns how many results it
 * showed. */
size_t fl_html_checks(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s);

/* For each check result of the run, call fn (JSON borrowed). */
void fl_html_each_check(const struct fl_report_log *log, const struct fl_run_summary *s,
			void (*fn)(const json_t *check, void *arg), void *arg);

#endif
