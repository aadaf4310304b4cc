/* The console reporter: a line per finished test under a header naming its
 * file, failure messages and details indented below, file errors, and a
 * summary with the list of failures. On a terminal it also keeps a live
 * progress line at the bottom (cleared before each result line) and uses
 * colours unless NO_COLOR is set; on a pipe or file it writes plain lines
 * only, so logs never hold carriage returns or escape codes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "report/report_int.h"
#include "core/clock.h"
#include "core/errors.h"

#define GREEN "\033[32m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* A failure (or flaky test) remembered for the closing lists. */
struct failure {
	char *where; /* "file:line" or "file" */
	char *what;  /* "suite > name" or "error: first line" */
};

struct failures {
	struct failure *v;
	size_t n, cap;
};

/* What fl_report_progress last said, and the rate over the last second. */
struct live {
	bool on;
	char what[96]; /* printable ASCII (others as '?') */
	double elapsed, total;
	int64_t ops, errors;
	int faults;
	double rate; /* ops/s over the last whole second, < 0: not yet */
	int64_t rate_ops, rate_ns, drawn_ns;
};

struct console {
	struct fl_report_out out; /* first: see report_int.h */
	bool tty, color;
	char *header; /* file whose header was printed last */
	int nplanned, nended;
	int passed, failed, skipped, errors;
	int64_t begin_mono_ns;
	size_t progress_len; /* columns of the progress line on screen, 0: none */
	char progress[256];  /* the text on screen */
	struct live live;    /* a workload's or experiment's state (fl_report_progress) */
	struct failures fails, flaky;
};

static const char *col(const struct console *c, const char *code)
{
	return c->color ? code : "";
}

/* Erase the progress line so the next output starts on a clean line. */
static void clear_progress(struct console *c)
{
	if (!c->progress_len)
		return;
	fprintf(c->out.f, "\r%*s\r", (int)c->progress_len, "");
	c->progress_len = 0;
}

static int term_width(const struct console *c)
{
	struct winsize ws;
	if (ioctl(fileno(c->out.f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* "  what 12.3 s of 1 min 00 s, 412 ops/s, 3 errors, 2 faults active" into
 * out; returns its length. */
static size_t live_text(const struct live *l, char *out, size_t len)
{
	char a[32], b[32], r[32];
	size_t o = 0;
	if (l->elapsed < 60) /* a steady clock: tenths of seconds, not "5.06 µs" */
		snprintf(a, sizeof(a), "%.1f s", l->elapsed);
	else
		fl_report_fmt_s(l->elapsed, a, sizeof(a));
	int n = snprintf(out, len, "  %s %s", l->what, a);
	if (n > 0 && l->total > 0)
		n += snprintf(out + n, len - (size_t)n, " of %s",
			      fl_report_fmt_s(l->total, b, sizeof(b)));
	if (n > 0 && l->ops >= 0 && l->rate >= 0)
		n += snprintf(out + n, len - (size_t)n, ", %s ops/s",
			      fl_report_fmt_count(l->rate, r, sizeof(r)));
	else if (n > 0 && l->ops >= 0)
		n += snprintf(out + n, len - (size_t)n, ", %lld ops", (long long)l->ops);
	if (n > 0 && l->errors >= 0)
		n += snprintf(out + n, len - (size_t)n, ", %lld error%s", (long long)l->errors,
			      l->errors == 1 ? "" : "s");
	if (n > 0 && l->faults >= 0)
		n += snprintf(out + n, len - (size_t)n, ", %d fault%s active", l->faults,
			      l->faults == 1 ? "" : "s");
	if (n > 0)
		o = (size_t)n < len ? (size_t)n : len - 1;
	/* the units hold "µ" (2 bytes, one column): the width cut stays safe
	 * since bytes >= columns */
	return o;
}

/* Called after every event: lines go out at once (CI logs stream them), and
 * on a terminal the progress line is redrawn below them. */
static void draw_progress(struct console *c)
{
	if (!c->tty) {
		fflush(c->out.f);
		return;
	}
	char line[256];
	double secs = (double)(fl_mono_ns() - c->begin_mono_ns) / 1e9;
	int n;
	if (c->live.on) { /* the workload first: a narrow terminal cuts the rest */
		size_t k = live_text(&c->live, line, sizeof(line));
		n = (int)k + snprintf(line + k, sizeof(line) - k, "  [%d/%d files, %d failed]",
				      c->nended, c->nplanned > 0 ? c->nplanned : c->nended,
				      c->failed + c->errors);
	} else if (c->nplanned > 0)
		n = snprintf(line, sizeof(line),
			     "  [%d/%d files] %d passed, %d failed, %d skipped  %.1f s", c->nended,
			     c->nplanned, c->passed, c->failed + c->errors, c->skipped, secs);
	else
		n = snprintf(line, sizeof(line),
			     "  [%d files] %d passed, %d failed, %d skipped  %.1f s", c->nended,
			     c->passed, c->failed + c->errors, c->skipped, secs);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	size_t width = (size_t)term_width(c) - 1; /* never wrap: \r only returns within a line */
	if (len > width)
		len = width;
	line[len] = '\0';
	if (c->progress_len && strcmp(line, c->progress) == 0)
		return; /* already on screen */
	clear_progress(c);
	fprintf(c->out.f, "%s%s%s", col(c, DIM), line, col(c, RESET));
	c->progress_len = len;
	memcpy(c->progress, line, len + 1);
	fflush(c->out.f);
}

/* Text with control bytes other than tab shown as '?', so a name or
 * message cannot move the cursor or change a terminal's colours. */
static void put_clean(struct console *c, const char *s, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		unsigned char ch = (unsigned char)s[k];
		fputc((ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : ch, c->out.f);
	}
}

static void put_str(struct console *c, const char *s)
{
	if (s)
		put_clean(c, s, strlen(s));
}

/* Print the header of `file` unless the last header printed was its. */
static void ensure_header(struct console *c, const char *file)
{
	if (c->header && strcmp(c->header, file) == 0)
		return;
	fprintf(c->out.f, "%s%s", c->header ? "\n" : "", col(c, BOLD));
	put_str(c, file);
	fprintf(c->out.f, "%s\n", col(c, RESET));
	char *copy = strdup(file);
	if (copy) { /* without memory the header may just repeat */
		free(c->header);
		c->header = copy;
	}
}

/* Lines of text, each indented by `indent` spaces (trailing newlines dropped). */
static void put_indented(struct console *c, const char *text, int indent, const char *color)
{
	size_t n = strlen(text);
	while (n > 0 && text[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n;) {
		size_t len = strcspn(text + i, "\n");
		if (len > n - i)
			len = n - i;
		if (len) { /* no trailing blanks on empty lines */
			fprintf(c->out.f, "%*s%s", indent, "", col(c, color));
			put_clean(c, text + i, len);
			fputs(color[0] ? col(c, RESET) : "", c->out.f);
		}
		fputc('\n', c->out.f);
		i += len + 1;
	}
}

static void duration(char *out, size_t outlen, int64_t ns)
{
	if (ns < 1000000)
		snprintf(out, outlen, "<1 ms");
	else if (ns < 10 * 1000000000LL)
		snprintf(out, outlen, "%lld ms", (long long)((ns + 500000) / 1000000));
	else
		snprintf(out, outlen, "%.1f s", (double)ns / 1e9);
}

/* Add to a closing list, taking where and what (freed on failure). */
static void remember(struct failures *l, char *where, char *what)
{
	if (!where || !what)
		goto fail;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct failure *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			goto fail;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].where = where;
	l->v[l->n].what = what;
	l->n++;
	return;
fail:
	free(where);
	free(what);
}

static char *test_title(const struct fl_test_result *r)
{
	bool suite = r->suite && *r->suite;
	char *what = NULL;
	if (asprintf(&what, "%s%s%s", suite ? r->suite : "", suite ? " > " : "",
		     r->name ? r->name : "") < 0)
		return NULL;
	return what;
}

/* After run_end (or a failed open) nothing more is written. */
#define LIVE(c)                                                                                    \
	do {                                                                                       \
		if (!(c)->out.f || (c)->out.committed)                                             \
			return;                                                                    \
	} while (0)

static void con_run_begin(void *self, int nfiles, uint64_t seed)
{
	struct console *c = self;
	LIVE(c);
	(void)seed;
	c->nplanned = nfiles;
	c->begin_mono_ns = fl_mono_ns();
	draw_progress(c);
}

static void con_file_begin(void *self, const char *file)
{
	struct console *c = self;
	LIVE(c);
	(void)file; /* its header waits for its first line */
	draw_progress(c);
}

static void con_test_done(void *self, const struct fl_test_result *r)
{
	struct console *c = self;
	FILE *f = c->out.f;
	const char *file = r->file ? r->file : "";
	LIVE(c);
	clear_progress(c);
	ensure_header(c, file);
	const char *mark = r->status == FL_TEST_PASS ? "✓" : r->status == FL_TEST_FAIL ? "✗" : "-";
	const char *color = r->status == FL_TEST_PASS	? GREEN
			    : r->status == FL_TEST_FAIL ? RED
							: YELLOW;
	bool suite = r->suite && *r->suite;
	fprintf(f, "  %s%s%s ", col(c, color), mark, col(c, RESET));
	if (suite) {
		put_str(c, r->suite);
		fputs(" > ", f);
	}
	put_str(c, r->name);
	if (r->status == FL_TEST_SKIP) {
		c->skipped++;
		if (r->message && *r->message) {
			fprintf(f, " %s(skipped: ", col(c, YELLOW));
			put_str(c, r->message);
			fprintf(f, ")%s\n", col(c, RESET));
		} else
			fprintf(f, " %s(skipped)%s\n", col(c, YELLOW), col(c, RESET));
		draw_progress(c);
		return;
	}
	char d[32];
	duration(d, sizeof(d), r->duration_ns);
	int tries = r->retries && r->nretries > 0 ? r->nretries + 1 : 1;
	if (tries > 1 && r->status == FL_TEST_PASS)
		fprintf(f, " %s(%s, %sflaky: passed on try %d%s%s)%s\n", col(c, DIM), d,
			col(c, YELLOW), tries, col(c, RESET), col(c, DIM), col(c, RESET));
	else if (tries > 1)
		fprintf(f, " %s(%s, failed %d tries)%s\n", col(c, DIM), d, tries, col(c, RESET));
	else
		fprintf(f, " %s(%s)%s\n", col(c, DIM), d, col(c, RESET));
	if (r->status == FL_TEST_PASS) {
		c->passed++;
		if (tries > 1) {
			char *what = test_title(r);
			remember(&c->flaky, strdup(file), what);
		}
		draw_progress(c);
		return;
	}
	c->failed++;
	put_indented(c, r->message && *r->message ? r->message : "failed", 6, RED);
	char *where = NULL;
	if (r->fail_file && r->fail_line > 0) {
		if (asprintf(&where, "%s:%d", r->fail_file, r->fail_line) < 0)
			where = NULL;
	} else if (r->fail_file) {
		where = strdup(r->fail_file);
	} else {
		where = strdup(file);
	}
	/* the runner's detail normally names the place already */
	if (where && r->fail_file && !(r->detail && strstr(r->detail, where)))
		fprintf(f, "      at %s\n", where);
	if (r->detail && *r->detail)
		put_indented(c, r->detail, 6, "");
	remember(&c->fails, where, test_title(r));
	draw_progress(c);
}

static void con_file_error(void *self, const struct fl_file_error *e)
{
	struct console *c = self;
	const char *file = e->file ? e->file : "";
	LIVE(c);
	clear_progress(c);
	ensure_header(c, file);
	c->errors++;
	char *first = fl_report_first_line(e->message);
	const char *kind = e->exit_code == 3 ? "infrastructure error" : "error";
	fprintf(c->out.f, "  %s✗ %s:%s ", col(c, RED), kind, col(c, RESET));
	put_str(c, first);
	fputc('\n', c->out.f);
	const char *rest = e->message ? strchr(e->message, '\n') : NULL;
	if (rest)
		put_indented(c, rest + 1, 6, "");
	/* "FILE:LINE: text" lists as FILE:LINE, "error: text" */
	char *where = NULL, *what = NULL;
	const char *text = first ? first : "";
	size_t flen = strlen(file);
	if (flen && strncmp(text, file, flen) == 0 && text[flen] == ':') {
		const char *p = text + flen + 1;
		size_t digits = strspn(p, "0123456789");
		if (digits && p[digits] == ':') {
			where = strndup(text, flen + 1 + digits);
			text = p + digits + 1 + (p[digits + 1] == ' ');
		}
	}
	if (!where)
		where = strdup(file);
	if (asprintf(&what, "%s: %s", kind, text) < 0)
		what = NULL;
	free(first);
	remember(&c->fails, where, what);
	draw_progress(c);
}

static void con_file_end(void *self, const char *file)
{
	struct console *c = self;
	LIVE(c);
	(void)file; /* a file with nothing to report prints nothing */
	c->nended++;
	draw_progress(c);
}

static void put_list(struct console *c, const struct failures *l, const char *title,
		     const char *mark, const char *color)
{
	if (!l->n)
		return;
	fprintf(c->out.f, "\n%s%s:%s\n", col(c, BOLD), title, col(c, RESET));
	for (size_t i = 0; i < l->n; i++) {
		fprintf(c->out.f, "  %s%s%s ", col(c, color), mark, col(c, RESET));
		put_str(c, l->v[i].where);
		fputs("  ", c->out.f);
		put_str(c, l->v[i].what);
		fputc('\n', c->out.f);
	}
}

static void free_list(struct failures *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].where);
		free(l->v[i].what);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void con_run_end(void *self, const struct fl_run_summary *s)
{
	struct console *c = self;
	FILE *f = c->out.f;
	LIVE(c);
	clear_progress(c);
	fputc('\n', f);
	if (s->interrupted)
		fprintf(f, "%sinterrupted: the results below are partial%s\n", col(c, YELLOW),
			col(c, RESET));
	fprintf(f, "%s%d passed%s, %s%d failed%s, %d skipped", col(c, s->passed ? GREEN : ""),
		s->passed, col(c, s->passed ? RESET : ""), col(c, s->failed ? RED : ""), s->failed,
		col(c, s->failed ? RESET : ""), s->skipped);
	if (s->errors)
		fprintf(f, ", %s%d file error%s%s", col(c, RED), s->errors,
			s->errors == 1 ? "" : "s", col(c, RESET));
	if (s->not_run || s->files_not_run) {
		fprintf(f, ", %s%d not run (--bail", col(c, YELLOW), s->not_run);
		if (s->files_not_run)
			fprintf(f, "; %d file%s not started", s->files_not_run,
				s->files_not_run == 1 ? "" : "s");
		fprintf(f, ")%s", col(c, RESET));
	}
	fprintf(f, " (%d file%s, %.2f s, seed %" PRIu64 ")\n", s->files, s->files == 1 ? "" : "s",
		(double)s->duration_ns / 1e9, s->seed);
	put_list(c, &c->fails, "Failed", "✗", RED);
	put_list(c, &c->flaky, "Flaky (passed after retries)", "~", YELLOW);
	fl_report_out_commit(&c->out);
}

static void con_progress(void *self, const struct fl_progress *p)
{
	struct console *c = self;
	LIVE(c);
	if (!c->tty)
		return; /* nothing of it in files, pipes or CI logs */
	struct live *l = &c->live;
	int64_t now = fl_mono_ns();
	if (!p->what) {
		if (l->on) {
			memset(l, 0, sizeof(*l));
			draw_progress(c);
		}
		return;
	}
	if (!l->on || strncmp(l->what, p->what, sizeof(l->what) - 1)) { /* a new one */
		memset(l, 0, sizeof(*l));
		l->rate = -1;
		l->rate_ns = now;
		l->rate_ops = p->ops;
	}
	l->on = true;
	size_t i = 0;
	for (; p->what[i] && i < sizeof(l->what) - 1; i++)
		l->what[i] = p->what[i] >= 0x20 && p->what[i] < 0x7f ? p->what[i] : '?';
	l->what[i] = '\0';
	l->elapsed = p->elapsed_s;
	l->total = p->total_s;
	l->ops = p->ops;
	l->errors = p->errors;
	l->faults = p->faults;
	if (p->ops >= 0 && now - l->rate_ns >= 1000000000LL) {
		l->rate = (double)(p->ops - l->rate_ops) * 1e9 / (double)(now - l->rate_ns);
		l->rate_ops = p->ops;
		l->rate_ns = now;
	}
	if (now - l->drawn_ns < 100000000LL)
		return; /* ten redraws a second at most */
	l->drawn_ns = now;
	draw_progress(c);
}

static void con_note(void *self, const char *text)
{
	struct console *c = self;
	LIVE(c);
	clear_progress(c);
	put_indented(c, text, 0, "");
	draw_progress(c);
}

static void con_tick(void *self)
{
	struct console *c = self;
	LIVE(c);
	if (c->progress_len)
		draw_progress(c);
}

static void con_free(void *self)
{
	struct console *c = self;
	if (!c)
		return;
	if (c->out.f && !c->out.committed)
		clear_progress(c);
	fl_report_out_commit(&c->out);
	fl_report_out_close(&c->out);
	free(c->header);
	free_list(&c->fails);
	free_list(&c->flaky);
	free(c);
}

const struct fl_reporter_ops fl_report_console_ops = {
	.name = "console",
	.run_begin = con_run_begin,
	.file_begin = con_file_begin,
	.test_done = con_test_done,
	.file_error = con_file_error,
	.file_end = con_file_end,
	.run_end = con_run_end,
	.tick = con_tick,
	.progress = con_progress,
	.note = con_note,
	.free = con_free,
};

static int con_open(struct fl_report_out *out, struct fl_reporter *rep)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c) {
		fl_report_out_close(out);
		return FL_ENOMEM;
	}
	c->out = *out;
	c->tty = isatty(fileno(c->out.f)) == 1;
	const char *nc = getenv("NO_COLOR");
	c->color = c->tty && !(nc && *nc);
	c->begin_mono_ns = fl_mono_ns();
	rep->ops = &fl_report_console_ops;
	rep->self = c;
	return 0;
}

const struct fl_report_format fl_report_console = { .name = "console", .open = con_open };
