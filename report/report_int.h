/* Internals shared by the reporters (report/ sources); users of the component
 * read report/report.h only. Four pieces: where a report goes (out.c: a
 * stream, or a file written as FILE.tmp and renamed when done), UTF-8
 * checking for formats that need valid text (text.c), the run log that the
 * end-of-run formats are written from (log.c), and the format interface
 * (formats.c registers every format; collect.c runs the end-of-run ones). */
#ifndef FL_REPORT_REPORT_INT_H
#define FL_REPORT_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/report.h"

/* --- output ------------------------------------------------------------- */

struct fl_report_out {
	FILE *f;	/* where to write; NULL once closed */
	char *path;	/* file name (owned), NULL for a stream */
	char *tmp;	/* path + ".tmp" while being written (owned), NULL
				 * when path is written directly */
	bool owned;	/* f is ours to close */
	bool is_stdout; /* f is stdout (from "-" or no file) */
	bool committed;
};

/* Open the destination for a reporter. path NULL, "-" or "/dev/stdout"
 * means stdout and "/dev/stderr" stderr (streams, never closed); an
 * existing path that is not a regular file (a terminal, a FIFO, /dev/fd/N)
 * is opened and written directly; any other path is written as path.tmp
 * (parent directories created) and renamed on commit. Returns 0 or a
 * negative errno with "cannot write report PATH: reason" in err. */
int fl_report_out_open(struct fl_report_out *o, const char *path, char *err, size_t errlen);

/* Use a caller's stream (borrowed: flushed, never closed). */
void fl_report_out_stream(struct fl_report_out *o, FILE *stream);

/* Finish the output: flush; for a file also fsync, close and rename
 * path.tmp to path. Idempotent. Returns 0 or a negative errno (the error is
 * also printed to stderr, since reporters have no caller to tell). */
int fl_report_out_commit(struct fl_report_out *o);

/* Release the output without publishing it: an uncommitted path.tmp is
 * removed. Safe after commit (then only frees memory). */
void fl_report_out_close(struct fl_report_out *o);

/* --- text ---------------------------------------------------------------- */

/* Write s (NULL: nothing) to f as XML 1.0 text (fl_text_xml_escape; flags
 * FL_TEXT_XML_ATTR for an attribute value). UTF-8 checking and cleaning are
 * core/text's (fl_text_utf8_decode, fl_text_utf8_clean). */
void fl_report_put_xml(FILE *f, const char *s, unsigned flags);

/* The first line of s (up to the first newline) as a malloc'd string, ""
 * for NULL. Caller frees. */
char *fl_report_first_line(const char *s);

/* --- units (units.c) ---------------------------------------------------------- */

/* Format a quantity in the unit a person reads, into buf (returned):
 * durations from ns or s ("812 ns", "4.2 µs", "12.3 ms", "4.06 s",
 * "2 min 03 s"), counts ("950", "1.23k", "4.5M"), bytes ("1.5 MiB"). Three
 * significant digits. */
const char *fl_report_fmt_ns(double ns, char *buf, size_t len);
const char *fl_report_fmt_s(double s, char *buf, size_t len);
const char *fl_report_fmt_count(double v, char *buf, size_t len);
const char *fl_report_fmt_bytes(double v, char *buf, size_t len);

/* --- run log ------------------------------------------------------------- */

struct fl_report_error {
	char *message;
	int exit_code;
};

struct fl_report_file {
	char *file;
	int64_t begin_wall_ns, begin_mono_ns, end_mono_ns; /* 0: not seen */
	struct fl_test_result *tests;			   /* copies, in completion order */
	size_t ntests, captests;
	struct fl_report_error *errors;
	size_t nerrors, caperrors;
	int passed, failed, skipped;
	int errored; /* failures that are errors (error_type set) */
};

/* Files in the order they began (or first appeared in a result). */
struct fl_report_log {
	struct fl_report_file **files;
	size_t nfiles, capfiles;
	int64_t begin_wall_ns, begin_mono_ns;
	int64_t end_wall_ns; /* when the run ended (0: not yet) */
	uint64_t seed;
	bool oom; /* a result could not be recorded */
};

/* The entry for `file`, created at the end of the list if new (then its
 * begin times are now). NULL only when out of memory. Borrowed. */
struct fl_report_file *fl_report_log_file(struct fl_report_log *log, const char *file);

/* Record a copy of r / e under its file. Returns 0 or FL_ENOMEM. */
int fl_report_log_test(struct fl_report_log *log, const struct fl_test_result *r);
int fl_report_log_error(struct fl_report_log *log, const struct fl_file_error *e);

/* Seconds a file took: file_begin to file_end when both were seen, else the
 * sum of its tests' durations. */
double fl_report_file_seconds(const struct fl_report_file *f);

/* Free everything the log holds; it is left empty. */
void fl_report_log_free(struct fl_report_log *log);

/* Grow the array *v of *cap elements of `size` bytes so it holds n + 1.
 * Returns 0 or FL_ENOMEM (then *v is unchanged). */
int fl_report_grow(void **v, size_t *cap, size_t n, size_t size);

/* --- formats ----------------------------------------------------------------- */

/* One report format. There are two kinds, and a format fills exactly one of
 * `open` and `write`:
 *  - streaming (console, TAP): `open` makes a reporter that writes as results
 *    arrive. It takes *out (also on failure, when it is closed), fills *rep,
 *    and its state begins with its struct fl_report_out (fl_report_set_add
 *    reads it to refuse two reporters on one destination). 0 or FL_ENOMEM.
 *  - end-of-run (JUnit, JSON, HTML): `write` writes the whole run once, from
 *    the run log that report/collect.c keeps for it; the format sees no
 *    callbacks and holds no state. Returns 0 or a negative FL_E* (then the
 *    file is not published). The same writer serves `faultline report`,
 *    which rebuilds the log from a JSON journal. */
struct fl_report_format {
	const char *name;
	int (*open)(struct fl_report_out *out, struct fl_reporter *rep);
	int (*write)(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s);
};

extern const struct fl_report_format fl_report_console, fl_report_tap, fl_report_tap13,
	fl_report_junit, fl_report_json, fl_report_html;

/* The registered format called `name` (len bytes), or NULL. */
const struct fl_report_format *fl_report_format_find(const char *name, size_t len);

/* Whether ops belongs to a reporter made here (so its state begins with a
 * struct fl_report_out). */
bool fl_report_ops_builtin(const struct fl_reporter_ops *ops);

/* The reporter for an end-of-run format: keeps the run log, writes `fmt`
 * at run_end. Takes *out; fills *rep. 0 or FL_ENOMEM. */
int fl_report_collect_new(const struct fl_report_format *fmt, struct fl_report_out *out,
			  struct fl_reporter *rep);
extern const struct fl_reporter_ops fl_report_collect_ops;

/* The log and summary of a loaded run (journal.c; borrowed). */
const struct fl_report_log *fl_report_run_log(const struct fl_report_run *run);
const struct fl_run_summary *fl_report_run_summary(const struct fl_report_run *run);

/* The streaming reporters' operations (fl_report_ops_builtin). */
extern const struct fl_reporter_ops fl_report_console_ops, fl_report_tap_ops, fl_report_tap13_ops;

#endif
