/* The HTML report: one self-contained file (inline CSS and SVG, no script
 * from anywhere) written when the run ends. It shows the summary, a
 * timeline of the tests, each file's tests with their failures, and — when
 * the run recorded a history (--history) — the clients' latency, throughput
 * and errors over time with fault windows shaded behind them. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report_int.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/history.h"
#include "core/json.h"

/* Escape text for HTML element content and attribute values. */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

static void esc_clean(FILE *f, const char *s)
{
	char *c = fl_report_utf8_clean(s);
	esc(f, c ? c : "");
	free(c);
}

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
	"h1{font-size:1.5em;margin:0}h2{font-size:1.15em;margin:1.6em 0 .4em}"
	".meta{color:#666;margin:.2em 0 1em}.chip{display:inline-block;padding:.15em .7em;"
	"border-radius:1em;margin-right:.4em;font-weight:600}.pass{background:#dff3e3;color:#17692c}"
	".fail{background:#fbe1e1;color:#a11}.skip{background:#eee;color:#555}"
	"table{border-collapse:collapse;width:100%}td{padding:.25em .5em;border-top:1px solid #eee;"
	"vertical-align:top}td.d{text-align:right;color:#666;white-space:nowrap}"
	".s-pass{color:#17692c}.s-fail{color:#a11;font-weight:600}.s-skip{color:#777}"
	"pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:12.5px;margin:.3em 0}"
	".tag{font-size:11px;background:#eef;color:#336;border-radius:.6em;padding:0 .5em;"
	"margin-left:.3em}svg{background:#fcfcfc;border:1px solid #eee}"
	".legend span{margin-right:1.2em}.sw{display:inline-block;width:.8em;height:.8em;"
	"margin-right:.3em;vertical-align:-1px}";

/* --- history charts ------------------------------------------------------ */

struct op {
	double t;		/* seconds since the first event */
	double latency;		/* seconds */
	char type;		/* 'o' ok, 'f' fail, 'i' info */
};

struct fault {
	double from, to;	/* seconds; to < 0: still open at the end */
	char what[64];		/* label: "what target" */
	char id[32];		/* pairs added with removed when given, else the label does */
};

struct hist {
	int64_t t0;
	double end;
	struct op *ops;
	size_t nops, capops;
	struct fault *faults;
	size_t nfaults, capfaults;
	/* pending invokes by process */
	int64_t *inv;
	size_t ninv;
};

static int hist_event(json_t *ev, long line, void *arg)
{
	(void)line;
	struct hist *h = arg;
	int64_t t = fl_json_int(ev, "t", 0);
	if (!h->t0)
		h->t0 = t;
	double ts = (double)(t - h->t0) / 1e9;
	if (ts > h->end)
		h->end = ts;
	const char *type = fl_json_str(ev, "type", NULL);
	int64_t proc = fl_json_int(ev, "process", -1);
	if (type && proc >= 0 && proc < 1000000) {
		if ((size_t)proc >= h->ninv) {
			size_t n = (size_t)proc + 64;
			int64_t *v = realloc(h->inv, n * sizeof(*v));
			if (!v)
				return FL_ENOMEM;
			memset(v + h->ninv, 0, (n - h->ninv) * sizeof(*v));
			h->inv = v;
			h->ninv = n;
		}
		if (strcmp(type, "invoke") == 0) {
			h->inv[proc] = t;
		} else if (h->inv[proc]) {
			if (h->nops == h->capops) {
				size_t n = h->capops ? h->capops * 2 : 256;
				struct op *v = realloc(h->ops, n * sizeof(*v));
				if (!v)
					return FL_ENOMEM;
				h->ops = v;
				h->capops = n;
			}
			h->ops[h->nops++] = (struct op){
				.t = (double)(h->inv[proc] - h->t0) / 1e9,
				.latency = (double)(t - h->inv[proc]) / 1e9,
				.type = type[0] == 'o' ? 'o' : type[0] == 'f' ? 'f' : 'i',
			};
			h->inv[proc] = 0;
		}
		return 0;
	}
	const char *event = fl_json_str(ev, "event", "");
	if (strcmp(event, "fault") != 0)
		return 0;
	const char *action = fl_json_str(ev, "action", "");
	json_t *w = json_object_get(ev, "what");
	char what[64], id[32];
	char *dumped = (w && !json_is_string(w)) ? fl_json_dumps(w) : NULL;
	const char *target = fl_json_str(ev, "target", NULL);
	snprintf(what, sizeof(what), "%s%s%s", json_is_string(w) ? json_string_value(w) : (dumped ? dumped : "fault"),
		 target ? " " : "", target ? target : "");
	free(dumped);
	snprintf(id, sizeof(id), "%s", fl_json_str(ev, "id", ""));
	if (strcmp(action, "added") == 0 || strcmp(action, "start") == 0) {
		if (h->nfaults == h->capfaults) {
			size_t n = h->capfaults ? h->capfaults * 2 : 16;
			struct fault *v = realloc(h->faults, n * sizeof(*v));
			if (!v)
				return FL_ENOMEM;
			h->faults = v;
			h->capfaults = n;
		}
		struct fault *f = &h->faults[h->nfaults++];
		f->from = ts;
		f->to = -1;
		snprintf(f->what, sizeof(f->what), "%s", what);
		snprintf(f->id, sizeof(f->id), "%s", id);
	} else {
		for (size_t i = h->nfaults; i-- > 0;) {
			struct fault *f = &h->faults[i];
			if (f->to < 0 && (id[0] ? strcmp(f->id, id) == 0 : strcmp(f->what, what) == 0)) {
				f->to = ts;
				break;
			}
		}
	}
	return 0;
}

#define CW 1060
#define CH 170
#define PAD 40

static double xpos(double t, double end)
{
	return PAD + (end > 0 ? t / end : 0) * (CW - PAD - 10);
}

static void shade_faults(FILE *f, const struct hist *h)
{
	for (size_t i = 0; i < h->nfaults; i++) {
		const struct fault *x = &h->faults[i];
		double to = x->to < 0 ? h->end : x->to;
		double x0 = xpos(x->from, h->end), x1 = xpos(to, h->end);
		fprintf(f, "<rect x='%.1f' y='5' width='%.1f' height='%d' fill='#f6c7c7' "
			   "fill-opacity='.5'><title>",
			x0, x1 - x0 < 1 ? 1 : x1 - x0, CH - 25);
		esc(f, x->what);
		fprintf(f, " (%.2f s – %.2f s)</title></rect>", x->from, to);
		/* the fault's name, staggered so neighbours do not overlap */
		fprintf(f, "<text x='%.1f' y='%zu' font-size='9' fill='#a33'>", x0 + 2,
			28 + (i % 3) * 11);
		esc(f, x->what);
		fputs("</text>", f);
	}
}

static void axis(FILE *f, double end, const char *ylabel, double ymax, const char *unit)
{
	fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#999'/>", PAD, CH - 20, CW - 10,
		CH - 20);
	for (int i = 0; i <= 5; i++) {
		double t = end * i / 5;
		fprintf(f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle' fill='#666'>%.3g s</text>",
			xpos(t, end), CH - 6, t);
	}
	fprintf(f, "<text x='4' y='14' font-size='10' fill='#666'>%s (max %.3g %s)</text>", ylabel,
		ymax, unit);
}

static void write_charts(FILE *f, const char *path)
{
	struct hist h = { 0 };
	char err[256] = "";
	if (fl_history_read(path, hist_event, &h, err, sizeof(err)) < 0) {
		fputs("<p class='meta'>History could not be read: ", f);
		esc(f, err);
		fputs("</p>", f);
		goto out;
	}
	if (h.end <= 0)
		h.end = 1;
	fputs("<h2>Workload</h2><p class='meta'>From ", f);
	esc(f, path);
	fprintf(f, ": %zu operations, %zu fault windows (shaded).</p>", h.nops, h.nfaults);
	/* latency scatter */
	double lmax = 0;
	for (size_t i = 0; i < h.nops; i++)
		if (h.ops[i].latency > lmax)
			lmax = h.ops[i].latency;
	if (lmax <= 0)
		lmax = 0.001;
	fprintf(f, "<svg width='%d' height='%d' viewBox='0 0 %d %d'>", CW, CH, CW, CH);
	shade_faults(f, &h);
	axis(f, h.end, "latency", lmax * 1000, "ms");
	size_t step = h.nops > 20000 ? h.nops / 20000 : 1;
	for (size_t i = 0; i < h.nops; i += step) {
		const struct op *o = &h.ops[i];
		const char *col = o->type == 'o' ? "#2a7" : o->type == 'f' ? "#c33" : "#e90";
		fprintf(f, "<circle cx='%.1f' cy='%.1f' r='1.6' fill='%s'/>", xpos(o->t, h.end),
			(CH - 20) - (o->latency / lmax) * (CH - 40), col);
	}
	fputs("</svg><div class='legend'><span><i class='sw' style='background:#2a7'></i>ok</span>"
	      "<span><i class='sw' style='background:#c33'></i>fail</span>"
	      "<span><i class='sw' style='background:#e90'></i>info (unknown)</span>"
	      "<span><i class='sw' style='background:#f6c7c7'></i>fault window</span></div>",
	      f);
	/* throughput and errors per second, in about 60 buckets (1 s at least
	 * for runs over a minute) */
	double bsec = h.end > 60 ? ceil(h.end / 60) : h.end / 60;
	size_t nb = (size_t)ceil(h.end / bsec) + 1;
	int *okb = calloc(nb, sizeof(int)), *errb = calloc(nb, sizeof(int));
	if (okb && errb) {
		int bmax = 1;
		for (size_t i = 0; i < h.nops; i++) {
			size_t b = (size_t)(h.ops[i].t / bsec);
			if (b >= nb)
				b = nb - 1;
			if (h.ops[i].type == 'o')
				okb[b]++;
			else
				errb[b]++;
		}
		for (size_t b = 0; b < nb; b++)
			if (okb[b] + errb[b] > bmax)
				bmax = okb[b] + errb[b];
		double rmax = bmax / bsec;
		fprintf(f, "<svg width='%d' height='%d' viewBox='0 0 %d %d'>", CW, CH, CW, CH);
		shade_faults(f, &h);
		axis(f, h.end, "operations per second (ok green, failed or unknown red)", rmax, "op/s");
		double bw = (CW - PAD - 10) / (double)nb;
		for (size_t b = 0; b < nb; b++) {
			double x = PAD + b * bw;
			double hok = okb[b] * (CH - 40.0) / bmax, herr = errb[b] * (CH - 40.0) / bmax;
			fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#2a7'/>",
				x, CH - 20 - hok, bw * 0.9, hok);
			if (errb[b])
				fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#c33'/>",
					x, CH - 20 - hok - herr, bw * 0.9, herr);
		}
		fputs("</svg>", f);
	}
	free(okb);
	free(errb);
out:
	free(h.ops);
	free(h.faults);
	free(h.inv);
}

/* --- tests ------------------------------------------------------------------ */

static const char *status_class(enum fl_test_status s)
{
	return s == FL_TEST_PASS ? "pass" : s == FL_TEST_FAIL ? "fail" : "skip";
}

static void write_timeline(FILE *f, const struct fl_report_log *log, int64_t end_wall)
{
	double total = (double)(end_wall - log->begin_wall_ns) / 1e9;
	if (total <= 0 || log->nfiles == 0)
		return;
	int rows = (int)log->nfiles;
	int rh = 18, height = rows * rh + 30;
	fputs("<h2>Timeline</h2>", f);
	fprintf(f, "<svg width='%d' height='%d' viewBox='0 0 %d %d'>", CW, height, CW, height);
	for (size_t i = 0; i < log->nfiles; i++) {
		const struct fl_report_file *rf = log->files[i];
		double y = 5 + (double)i * rh;
		for (size_t k = 0; k < rf->ntests; k++) {
			const struct fl_test_result *r = &rf->tests[k];
			if (!r->start_wall_ns)
				continue;
			double t0 = (double)(r->start_wall_ns - log->begin_wall_ns) / 1e9;
			double x0 = PAD + t0 / total * (CW - PAD - 10);
			double w = (double)r->duration_ns / 1e9 / total * (CW - PAD - 10);
			const char *col = r->status == FL_TEST_PASS   ? "#6c9"
					  : r->status == FL_TEST_FAIL ? "#e66"
								      : "#bbb";
			fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%d' fill='%s'><title>",
				x0, y, w < 1.5 ? 1.5 : w, rh - 4, col);
			esc_clean(f, r->name);
			fprintf(f, " (%.1f ms)</title></rect>", (double)r->duration_ns / 1e6);
		}
	}
	for (int i = 0; i <= 5; i++)
		fprintf(f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle' fill='#666'>%.3g s</text>",
			PAD + i * (CW - PAD - 10) / 5.0, height - 6, total * i / 5);
	fputs("</svg>", f);
}

static void write_file(FILE *f, const struct fl_report_file *rf)
{
	fputs("<h2>", f);
	esc_clean(f, rf->file);
	fprintf(f, "</h2><p class='meta'>%d passed, %d failed, %d skipped, %.2f s</p><table>",
		rf->passed, rf->failed, rf->skipped, fl_report_file_seconds(rf));
	for (size_t i = 0; i < rf->nerrors; i++) {
		fputs("<tr><td class='s-fail'>✗</td><td>file error<pre>", f);
		esc_clean(f, rf->errors[i].message);
		fputs("</pre></td><td></td></tr>", f);
	}
	for (size_t k = 0; k < rf->ntests; k++) {
		const struct fl_test_result *r = &rf->tests[k];
		const char *mark = r->status == FL_TEST_PASS ? "✓" : r->status == FL_TEST_FAIL ? "✗" : "–";
		fprintf(f, "<tr><td class='s-%s'>%s</td><td>", status_class(r->status), mark);
		if (r->suite && r->suite[0]) {
			esc_clean(f, r->suite);
			fputs(" › ", f);
		}
		esc_clean(f, r->name);
		for (size_t t = 0; r->tags && t < json_array_size(r->tags); t++) {
			fputs("<span class='tag'>", f);
			esc_clean(f, json_string_value(json_array_get(r->tags, t)));
			fputs("</span>", f);
		}
		if (r->nretries && r->status == FL_TEST_PASS)
			fprintf(f, " <span class='chip skip'>flaky: passed on try %d</span>", r->nretries + 1);
		if (r->status == FL_TEST_SKIP && r->message) {
			fputs(" <span class='meta'>(", f);
			esc_clean(f, r->message);
			fputs(")</span>", f);
		}
		if (r->status == FL_TEST_FAIL) {
			fputs("<details open><summary>", f);
			esc_clean(f, r->message);
			fputs("</summary><pre>", f);
			esc_clean(f, r->detail);
			fputs("</pre></details>", f);
		}
		fprintf(f, "</td><td class='d'>%.1f ms</td></tr>", (double)r->duration_ns / 1e6);
	}
	fputs("</table>", f);
}

static int html_write(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	char when[40], host[128] = "";
	fl_wall_iso(log->begin_wall_ns, when, sizeof(when));
	gethostname(host, sizeof(host) - 1);
	fprintf(f, "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
		   "<title>faultline report %s</title><style>%s</style></head><body>",
		when, css);
	fprintf(f, "<h1>faultline report</h1><p class='meta'>%s on ", when);
	esc(f, host);
	fprintf(f, " · seed %" PRIu64 " · %.2f s · %d files%s</p>", s->seed,
		(double)s->duration_ns / 1e9, s->files, s->interrupted ? " · interrupted" : "");
	fprintf(f, "<span class='chip pass'>%d passed</span><span class='chip fail'>%d failed</span>"
		   "<span class='chip skip'>%d skipped</span>",
		s->passed, s->failed, s->skipped);
	if (s->errors)
		fprintf(f, "<span class='chip fail'>%d file errors</span>", s->errors);
	if (s->history_path && access(s->history_path, R_OK) == 0)
		write_charts(f, s->history_path);
	write_timeline(f, log, log->end_wall_ns ? log->end_wall_ns : fl_wall_ns());
	for (size_t i = 0; i < log->nfiles; i++)
		write_file(f, log->files[i]);
	fputs("</body></html>\n", f);
	return ferror(f) ? FL_EIO : 0;
}

const struct fl_report_format fl_report_html = { .name = "html", .write = html_write };
