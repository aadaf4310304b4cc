/* The HTML page: one self-contained file per run (inline CSS and SVG, no
 * script, nothing fetched), written when the run ends or afterwards by
 * `faultline report` from the JSON journal. In order: a header (what ran,
 * where, seed, duration, verdict, the command that reproduces it), each
 * experiment (html_parts.c), the timeline of the run's histories
 * (timeline.c, html_charts.c) with checker violations and experiment steps
 * marked on it, the checkers' verdicts, and the tests by file with their
 * failures expanded (source line, expected and actual, the HTTP exchange). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/html_int.h"
#include "core/buf.h"
#include "core/text.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

#define MAX_BUCKETS 150 /* points per chart */

void fl_html_esc(FILE *f, const char *s)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	if (s && fl_text_xml_escape(&b, s, strlen(s), FL_TEXT_XML_ATTR) == 0) {
		/* the page quotes attributes with ': that one is ours to escape */
		for (size_t i = 0; i < b.len; i++)
			b.data[i] == '\'' ? fputs("&#39;", f) : fputc(b.data[i], f);
	}
	fl_buf_free(&b);
}

const char fl_html_css[] =
	":root{--ok:#1f7a3a;--bad:#b42318;--muted:#667085;--line:#e4e7ec}"
	"*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"margin:0;color:#1d2939;background:#f6f7f9}main{max-width:1110px;margin:0 "
	"auto;padding:22px 24px 40px}"
	"header.run{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px "
	"20px;"
	"margin-bottom:18px}h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:0 0 8px}"
	"h3{font-size:14px;margin:14px 0 6px}section{background:#fff;border:1px solid var(--line);"
	"border-radius:10px;padding:14px 20px;margin:0 0 18px}"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0 0}"
	"dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}code{font:12.5px "
	"ui-monospace,monospace;"
	"background:#f2f4f7;padding:1px 5px;border-radius:4px;word-break:break-all}"
	".meta{color:var(--muted);margin:.2em 0 .8em}.chip{display:inline-block;padding:1px 9px;"
	"border-radius:10px;font-size:12px;font-weight:600;vertical-align:1px}"
	".pass{background:#dcfae6;color:var(--ok)}.fail{background:#fee4e2;color:var(--bad)}"
	".skip{background:#eaecf0;color:#475467}.chip.big{font-size:14px;padding:3px 12px}"
	"table{border-collapse:collapse;width:100%;margin:4px 0 "
	"8px}th{text-align:left;font-weight:600;"
	"color:var(--muted);font-size:12px;border-bottom:1px solid var(--line);padding:4px 8px}"
	"td{padding:4px 8px;border-top:1px solid #f0f1f3;vertical-align:top}td.n,table.num td+td{"
	"text-align:right;font-variant-numeric:tabular-nums}td.id{font-weight:600;white-space:"
	"nowrap}"
	"td.d{text-align:right;color:var(--muted);white-space:nowrap}.o-fail "
	"td,td.o-fail{color:var(--bad)}"
	".s-pass{color:var(--ok)}.s-fail{color:var(--bad);font-weight:600}.s-skip{color:#98a2b3}"
	"pre{background:#f8f9fb;border:1px solid "
	"#eef0f3;padding:8px;overflow-x:auto;font-size:12px;"
	"margin:4px 0;max-height:360px}.tag{font-size:11px;background:#eef4ff;color:#3538cd;"
	"border-radius:8px;padding:0 6px;margin-left:4px}.alert{background:#fef3f2;border:1px "
	"solid "
	"#fecdca;border-radius:8px;padding:8px 12px;color:#912018}"
	"figure{margin:10px 0 14px}figcaption{font-weight:600;font-size:13px;margin:0 0 3px}"
	"svg{display:block;max-width:100%;height:auto;background:#fff}"
	"svg text{font:10px system-ui,sans-serif;fill:#475467}.tick{fill:#667085}"
	".grid{stroke:#eef0f3}.series{fill:none;stroke-width:1.8;stroke-linejoin:round}"
	".shade{fill:#f04438;fill-opacity:.09}.fault{fill:#fda29b;stroke:#f04438;stroke-width:.6}"
	".fl{fill:#7a271a;font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px;"
	"stroke-linejoin:round}.mk{fill:#475467}.violation .mk{fill:#d92d20}"
	".step "
	".mk{fill:#2e90fa}.ml{font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px}."
	"vproc{stroke:#475467;stroke-dasharray:2 3;stroke-width:.8}"
	".vviol{stroke:#d92d20;stroke-width:1.2}.bar.pass{fill:#32d583}.bar.fail{fill:#f97066}"
	".bar.skip{fill:#d0d5dd}.legend{font-size:12px;color:#475467}.legend "
	"span{margin-right:14px}"
	".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;"
	"vertical-align:-1px}.shade-sw{background:#f04438;opacity:.25}.ex{margin:4px 0}"
	"details summary{cursor:pointer;color:#475467}.src{color:#344054}";

static const char *status_class(enum fl_test_status s)
{
	return s == FL_TEST_PASS ? "pass" : s == FL_TEST_FAIL ? "fail" : "skip";
}

/* --- header ------------------------------------------------------------------ */

/* What ran: the experiment's title, else the one file, else "N files". */
static void what_ran(FILE *f, const struct fl_report_log *log)
{
	for (size_t k = 0; k < log->nfiles; k++)
		for (size_t t = 0; t < log->files[k]->ntests; t++) {
			json_t *e = json_object_get(log->files[k]->tests[t].extra, "experiment");
			if (e) {
				fputs("experiment: ", f);
				fl_html_esc(f, fl_json_str(e, "title", log->files[k]->file));
				return;
			}
		}
	if (log->nfiles == 1)
		fl_html_esc(f, log->files[0]->file);
	else
		fprintf(f, "%zu files", log->nfiles);
}

static void write_header(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	char when[40], host[128] = "", cwd[512] = "", d[32];
	fl_wall_iso(log->begin_wall_ns, when, sizeof(when));
	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "?");
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	bool ok = !s->failed && !s->errors && !s->interrupted;
	fputs("<header class='run'><h1>", f);
	what_ran(f, log);
	fprintf(f, " <span class='chip big %s verdict'>%s</span></h1>", ok ? "pass" : "fail",
		s->interrupted ? "interrupted"
		: ok	       ? "passed"
			       : "failed");
	fprintf(f,
		"<span class='chip pass'>%d passed</span> <span class='chip fail'>%d failed</span> "
		"<span class='chip skip'>%d skipped</span>",
		s->passed, s->failed, s->skipped);
	if (s->errors)
		fprintf(f, " <span class='chip fail'>%d file error%s</span>", s->errors,
			s->errors == 1 ? "" : "s");
	fprintf(f, "<dl class='facts'><dt>started</dt><dd>%s</dd><dt>where</dt><dd>", when);
	fl_html_esc(f, host);
	if (cwd[0]) {
		fputs(", in <code>", f);
		fl_html_esc(f, cwd);
		fputs("</code>", f);
	}
	fprintf(f, "</dd><dt>seed</dt><dd>%" PRIu64 "</dd><dt>duration</dt><dd>%s</dd>", s->seed,
		fl_report_fmt_ns((double)s->duration_ns, d, sizeof(d)));
	if (s->command) {
		fputs("<dt>reproduce</dt><dd><code>", f);
		fl_html_esc(f, s->command);
		fputs("</code></dd>", f);
	}
	fputs("</dl></header>", f);
}

/* --- timeline ---------------------------------------------------------------- */

/* The first "t" (ns) in an example's evidence: its own, or one level down. */
static int64_t evidence_t(const json_t *ev)
{
	int64_t t = fl_json_int(ev, "t", 0);
	const char *k;
	json_t *v;
	size_t i;
	if (t > 0 || !ev)
		return t;
	if (json_is_array(ev)) {
		json_array_foreach(ev, i, v)
			if ((t = fl_json_int(v, "t", 0)) > 0)
				return t;
	}
	json_object_foreach((json_t *)ev, k, v) {
		if (json_is_object(v) && (t = fl_json_int(v, "t", 0)) > 0)
			return t;
		if (json_is_array(v) && (t = evidence_t(v)) > 0)
			return t;
	}
	return 0;
}

static void mark_violations(const json_t *check, void *arg)
{
	struct fl_timeline *tl = arg;
	const char *label = fl_json_str(check, "label", fl_json_str(check, "checker", "check"));
	const char *id;
	json_t *inv;
	json_object_foreach(json_object_get(check, "invariants"), id, inv) {
		if (fl_json_int(inv, "count", 0) <= 0)
			continue;
		static const char *const which[] = { "first", "worst" };
		for (size_t w = 0; w < 2; w++) {
			json_t *ex = json_object_get(inv, which[w]);
			int64_t t = evidence_t(json_object_get(ex, "evidence"));
			char text[120];
			if (t <= 0 || (w == 1 && fl_json_int(inv, "count", 0) < 2))
				continue;
			snprintf(text, sizeof(text), "%s %s %s: %s", label, id, which[w],
				 fl_json_str(ex, "message", ""));
			fl_timeline_mark(tl, t, 'v', text);
		}
	}
}

/* Experiment steps with a monotonic start ("mono", s) share the history's clock. */
static void mark_steps(struct fl_timeline *tl, const struct fl_report_log *log)
{
	for (size_t k = 0; k < log->nfiles; k++)
		for (size_t t = 0; t < log->files[k]->ntests; t++) {
			json_t *e = json_object_get(log->files[k]->tests[t].extra, "experiment");
			size_t i;
			json_t *s;
			json_array_foreach(json_object_get(e, "method"), i, s) {
				double mono = fl_json_num(s, "mono", 0);
				if (mono > 0 && (int64_t)(mono * 1e9) >= tl->t0 &&
				    (int64_t)(mono * 1e9) <= tl->t1)
					fl_timeline_mark(tl, (int64_t)(mono * 1e9), 's',
							 fl_json_str(s, "name", "step"));
			}
		}
}

int fl_html_load_timeline(struct fl_timeline *tl, const struct fl_run_summary *s, char *err,
			  size_t errlen)
{
	int rc = 0;
	if (s->history_path && access(s->history_path, R_OK) == 0)
		rc = fl_timeline_read(tl, s->history_path, err, errlen);
	for (int i = 0; i < s->nhistories && rc == 0; i++)
		if (!s->history_path || strcmp(s->histories[i], s->history_path))
			rc = fl_timeline_read(tl, s->histories[i], err, errlen);
	return rc;
}

static void write_timeline(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	struct fl_timeline tl = { 0 };
	char err[512] = "";
	int rc = fl_html_load_timeline(&tl, s, err, sizeof(err));
	if (rc == 0 && tl.t1 > 0) {
		fl_html_each_check(log, s, mark_violations, &tl);
		mark_steps(&tl, log);
		rc = fl_timeline_finish(&tl, MAX_BUCKETS);
	}
	if (rc) {
		fputs("<section id='timeline'><h2>Timeline</h2><p class='alert'>The history could "
		      "not be read: ",
		      f);
		fl_html_esc(f, err[0] ? err : fl_strerror(rc));
		fputs("</p></section>", f);
	} else if (tl.t1 > 0) {
		fl_html_timeline(f, &tl);
	}
	fl_timeline_free(&tl);
}

/* --- tests ------------------------------------------------------------------- */

/* The scenario's line `line` of `file` (a source line of a failure). */
static void source_line(FILE *f, const char *file, int line)
{
	FILE *src = line > 0 ? fopen(file, "r") : NULL;
	char buf[512];
	for (int i = 1; src && fgets(buf, sizeof(buf), src); i++) {
		if (i < line)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(f, "<pre class='src'>%d│ ", line);
		fl_html_esc(f, buf);
		fputs("</pre>", f);
		break;
	}
	if (src)
		fclose(src);
}

static void write_failure(FILE *f, const struct fl_test_result *r)
{
	fputs("<details open><summary>", f);
	fl_html_esc(f, r->message ? r->message : "failed");
	fputs("</summary>", f);
	if (r->fail_file) {
		fputs("<div class='meta'>at <code>", f);
		fl_html_esc(f, r->fail_file);
		if (r->fail_line > 0)
			fprintf(f, ":%d", r->fail_line);
		fputs("</code></div>", f);
		source_line(f, r->fail_file, r->fail_line);
	}
	if (r->detail && *r->detail) {
		fputs("<pre>", f);
		fl_html_esc(f, r->detail);
		fputs("</pre>", f);
	}
	fputs("</details>", f);
}

static void write_test(FILE *f, const struct fl_test_result *r)
{
	const char *mark = r->status == FL_TEST_PASS ? "✓" : r->status == FL_TEST_FAIL ? "✗" : "–";
	char d[32];
	fprintf(f, "<tr class='test t-%s'><td class='s-%s'>%s</td><td>", status_class(r->status),
		status_class(r->status), mark);
	if (r->suite && r->suite[0]) {
		fl_html_esc(f, r->suite);
		fputs(" › ", f);
	}
	fl_html_esc(f, r->name);
	for (size_t t = 0; r->tags && t < json_array_size(r->tags); t++) {
		fputs("<span class='tag'>", f);
		fl_html_esc(f, json_string_value(json_array_get(r->tags, t)));
		fputs("</span>", f);
	}
	if (r->nretries && r->status == FL_TEST_PASS)
		fprintf(f, " <span class='chip skip'>flaky: passed on try %d</span>",
			r->nretries + 1);
	if (r->status == FL_TEST_SKIP && r->message) {
		fputs(" <span class='meta'>(", f);
		fl_html_esc(f, r->message);
		fputs(")</span>", f);
	}
	if (r->status == FL_TEST_FAIL)
		write_failure(f, r);
	fprintf(f, "</td><td class='d'>%s</td></tr>",
		fl_report_fmt_ns((double)r->duration_ns, d, sizeof(d)));
}

/* A checker's invariant as a test (faultline check): the checkers section
 * shows it already. */
static bool is_invariant(const struct fl_test_result *r)
{
	return json_object_get(r->extra, "invariant") != NULL;
}

static void write_file(FILE *f, const struct fl_report_file *rf)
{
	size_t shown = rf->nerrors;
	for (size_t k = 0; k < rf->ntests; k++)
		shown += !is_invariant(&rf->tests[k]);
	if (!shown)
		return;
	char d[32];
	fputs("<section class='file'><h2>", f);
	fl_html_esc(f, rf->file);
	fprintf(f, "</h2><p class='meta'>%d passed, %d failed, %d skipped, %s</p><table>",
		rf->passed, rf->failed + rf->errored, rf->skipped,
		fl_report_fmt_s(fl_report_file_seconds(rf), d, sizeof(d)));
	for (size_t i = 0; i < rf->nerrors; i++) {
		fputs("<tr><td class='s-fail'>✗</td><td>file error<pre>", f);
		fl_html_esc(f, rf->errors[i].message);
		fputs("</pre></td><td></td></tr>", f);
	}
	for (size_t k = 0; k < rf->ntests; k++)
		if (!is_invariant(&rf->tests[k]))
			write_test(f, &rf->tests[k]);
	fputs("</table></section>", f);
}

static void count_check(const json_t *c, void *arg)
{
	(void)c;
	++*(size_t *)arg;
}

void fl_html_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
	      "<meta name='viewport' content='width=device-width, initial-scale=1'><title>",
	      f);
	fl_html_esc(f, title);
	fprintf(f, "</title><style>%s</style></head><body><main>", fl_html_css);
}

static int html_write(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	char when[40], title[80];
	fl_wall_iso(log->begin_wall_ns, when, sizeof(when));
	snprintf(title, sizeof(title), "faultline report %s", when);
	fl_html_head(f, title);
	write_header(f, log, s);
	for (size_t k = 0; k < log->nfiles; k++)
		for (size_t t = 0; t < log->files[k]->ntests; t++) {
			const struct fl_test_result *r = &log->files[k]->tests[t];
			json_t *e = json_object_get(r->extra, "experiment");
			if (json_is_object(e))
				fl_html_experiment(f, e, r->name);
			json_t *c = json_object_get(r->extra, "coverage");
			if (json_is_object(c))
				fl_html_coverage(f, c, r->name);
		}
	write_timeline(f, log, s);
	size_t nchecks = 0;
	fl_html_each_check(log, s, count_check, &nchecks);
	if (nchecks)
		fl_html_checks(f, log, s);
	for (size_t i = 0; i < log->nfiles; i++)
		write_file(f, log->files[i]);
	if (log->oom)
		fputs("<p class='alert'>Out of memory: some results are missing.</p>", f);
	fputs("</main></body></html>\n", f);
	return ferror(f) ? FL_EIO : 0;
}

const struct fl_report_format fl_report_html = { .name = "html", .write = html_write };
