/* The timeline as inline SVG on one shared time axis: a lane of fault
 * windows (labelled with the fault, its target and its parameters) and
 * marks (process events, checker violations, experiment steps), then
 * throughput and error rate per operation type and latency p50/p95/p99 per
 * bucket from the histograms. Every chart shades the fault windows. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/html_int.h"

#define W 1060
#define LEFT 70
#define RIGHT 14
#define CH 150 /* chart height */
#define TOP 10
#define BOTTOM 22

static const char *const palette[] = { "#2b6cb0", "#dd6b20", "#2f855a", "#805ad5",
				       "#d53f8c", "#319795", "#b7791f", "#4a5568" };
#define NPAL (sizeof(palette) / sizeof(palette[0]))

double fl_html_x(const struct fl_html_axis *ax, int64_t t)
{
	double span = (double)(ax->t1 - ax->t0);
	return ax->x0 + (span > 0 ? (double)(t - ax->t0) / span : 0) * (ax->x1 - ax->x0);
}

static int64_t fault_end(const struct fl_timeline *tl, const struct fl_tl_fault *x)
{
	return x->to < 0 ? tl->t1 : x->to;
}

static void fault_label(const struct fl_tl_fault *x, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", x->what, x->target[0] ? " " : "", x->target,
		 x->params[0] ? " " : "", x->params);
}

/* --- the lane ---------------------------------------------------------------- */

#define ROW 17
#define MAXROWS 24

/* Rows of the lane. An item goes to a row whose last item carries the
 * same label and ended before it (drawn there without its label again: a
 * fault repeated every 20 s takes one row), else to the first row free for
 * its bar and its label. */
struct lane {
	int n;
	double ends[MAXROWS]; /* where the row's last bar or label ends */
	double bar_end[MAXROWS];
	char label[MAXROWS][120];
};

/* About how wide a label is drawn (10 px sans-serif). */
static double text_width(const char *label)
{
	return 5.8 * (double)strlen(label);
}

/* The row of an item spanning [x0, x1] labelled `label`; *labeled says
 * whether its label is drawn; *left whether it ends at the right edge. */
static int place(struct lane *ln, const char *label, double x0, double x1, bool *labeled,
		 bool *left)
{
	for (int r = 0; r < ln->n; r++) {
		if (ln->bar_end[r] < x0 - 2 &&
		    strncmp(ln->label[r], label, sizeof(ln->label[r]) - 1) == 0) {
			ln->bar_end[r] = x1;
			ln->ends[r] = fmax(ln->ends[r], x1 + 2);
			*labeled = *left = false;
			return r;
		}
	}
	double lw = text_width(label) + 8;
	*labeled = true;
	*left = x0 + lw > W - RIGHT;
	double from = *left ? fmin(x0, W - RIGHT - lw) : x0,
	       to = *left ? W - RIGHT : fmax(x1, x0 + lw);
	int r = 0;
	while (r < ln->n && ln->ends[r] >= from)
		r++;
	if (r == ln->n) {
		if (ln->n == MAXROWS)
			r = MAXROWS - 1; /* crowded: overlap in the last row */
		else
			ln->n++;
	}
	ln->ends[r] = to + 4;
	ln->bar_end[r] = x1;
	snprintf(ln->label[r], sizeof(ln->label[r]), "%s", label);
	return r;
}

static void time_ticks(FILE *f, const struct fl_html_axis *ax, int y)
{
	char buf[32];
	double span = (double)(ax->t1 - ax->t0);
	for (int i = 0; i <= 6; i++) {
		double t = span * i / 6;
		fprintf(f, "<text x='%.1f' y='%d' class='tick' text-anchor='%s'>%s</text>",
			fl_html_x(ax, ax->t0 + (int64_t)t), y,
			i == 6 ? "end"
			: i    ? "middle"
			       : "start",
			fl_report_fmt_ns(t, buf, sizeof(buf)));
	}
}

struct placed {
	int row;
	bool labeled, left;
};

static void draw_marks(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax,
		       const struct placed *pm)
{
	for (size_t i = 0; i < tl->nmarks; i++) {
		const struct fl_tl_mark *m = &tl->marks[i];
		double x = fl_html_x(ax, m->t);
		int y = 4 + pm[i].row * ROW;
		const char *cls = m->kind == 'p' ? "proc" : m->kind == 'v' ? "violation" : "step";
		fprintf(f, "<g class='mark %s'><title>", cls);
		fl_html_esc(f, m->label);
		fprintf(f, "</title><path d='M%.1f %d l-4 -0 l4 7 l4 -7 z' class='mk'/>", x, y + 2);
		if (pm[i].labeled) {
			fprintf(f, "<text x='%.1f' y='%d' class='ml'%s>",
				pm[i].left ? x - 6 : x + 6, y + 9,
				pm[i].left ? " text-anchor='end'" : "");
			fl_html_esc(f, m->label);
			fputs("</text>", f);
		}
		fputs("</g>", f);
	}
}

static void draw_faults(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax,
			const struct placed *pf, size_t nf, int top)
{
	for (size_t i = 0; i < nf; i++) {
		const struct fl_tl_fault *x = &tl->faults[i];
		char label[300], a[32], b[32];
		fault_label(x, label, sizeof(label));
		double x0 = fl_html_x(ax, x->from), x1 = fl_html_x(ax, fault_end(tl, x));
		int y = top + pf[i].row * ROW;
		fprintf(f, "<g><title>");
		fl_html_esc(f, label);
		fprintf(f, " (%s – %s%s)</title>",
			fl_report_fmt_ns((double)(x->from - tl->t0), a, sizeof(a)),
			fl_report_fmt_ns((double)(fault_end(tl, x) - tl->t0), b, sizeof(b)),
			x->to < 0 ? ", still active at the end" : "");
		fprintf(f, "<rect class='fault' data-fault='");
		fl_html_esc(f, x->id[0] ? x->id : label);
		fprintf(f, "' x='%.1f' y='%d' width='%.1f' height='%d' rx='2'/>", x0, y,
			x1 - x0 < 2 ? 2 : x1 - x0, ROW - 3);
		fputs("</g>", f);
	}
	for (size_t i = 0; i < nf; i++) { /* labels over every bar, with a halo */
		if (!pf[i].labeled)
			continue;
		char label[300];
		fault_label(&tl->faults[i], label, sizeof(label));
		int y = top + pf[i].row * ROW;
		if (pf[i].left)
			fprintf(f, "<text x='%d' y='%d' class='fl' text-anchor='end'>",
				W - RIGHT - 2, y + 10);
		else
			fprintf(f, "<text x='%.1f' y='%d' class='fl'>",
				fl_html_x(ax, tl->faults[i].from) + 3, y + 10);
		fl_html_esc(f, label);
		fputs("</text>", f);
	}
}

/* The lane: marks (process events, violations, steps) above the fault
 * windows, each row reused by items of the same label. */
static void write_lane(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax)
{
	size_t nf = tl->nfaults;
	struct placed *pm = calloc(tl->nmarks + 1, sizeof(*pm)), *pf = calloc(nf + 1, sizeof(*pf));
	struct lane *lm = calloc(1, sizeof(*lm)), *lf = calloc(1, sizeof(*lf));
	if (!pm || !pf || !lm || !lf)
		goto out;
	for (size_t i = 0; i < tl->nmarks; i++) {
		double x = fl_html_x(ax, tl->marks[i].t);
		pm[i].row =
			place(lm, tl->marks[i].label, x - 4, x + 4, &pm[i].labeled, &pm[i].left);
	}
	for (size_t i = 0; i < nf; i++) {
		char label[300];
		fault_label(&tl->faults[i], label, sizeof(label));
		pf[i].row = place(lf, label, fl_html_x(ax, tl->faults[i].from),
				  fl_html_x(ax, fault_end(tl, &tl->faults[i])), &pf[i].labeled,
				  &pf[i].left);
	}
	int top = lm->n * ROW + (lm->n ? 6 : 0);
	int h = top + lf->n * ROW + BOTTOM + 6;
	fprintf(f,
		"<svg class='lane' width='%d' height='%d' viewBox='0 0 %d %d' role='img' "
		"aria-label='fault windows and events'>",
		W, h, W, h);
	draw_marks(f, tl, ax, pm);
	draw_faults(f, tl, ax, pf, nf, top);
	time_ticks(f, ax, h - 6);
	fputs("</svg>", f);
out:
	free(pm);
	free(pf);
	free(lm);
	free(lf);
}

/* --- charts ------------------------------------------------------------------ */

#define line fl_html_line

/* A "nice" upper bound for a linear axis: 1, 2 or 5 times a power of ten. */
static double nice(double v)
{
	if (!(v > 0))
		return 1;
	double p = pow(10, floor(log10(v)));
	double m = v / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void shade(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax)
{
	for (size_t i = 0; i < tl->nfaults; i++) {
		double x0 = fl_html_x(ax, tl->faults[i].from);
		double x1 = fl_html_x(ax, fault_end(tl, &tl->faults[i]));
		fprintf(f, "<rect class='shade' x='%.1f' y='%d' width='%.1f' height='%d'/>", x0,
			TOP, x1 - x0 < 1 ? 1 : x1 - x0, CH - TOP - BOTTOM);
	}
	for (size_t i = 0; i < tl->nmarks; i++) {
		if (tl->marks[i].kind == 's')
			continue;
		double x = fl_html_x(ax, tl->marks[i].t);
		fprintf(f, "<line class='%s' x1='%.1f' x2='%.1f' y1='%d' y2='%d'/>",
			tl->marks[i].kind == 'p' ? "vproc" : "vviol", x, x, TOP, CH - BOTTOM);
	}
}

/* y in pixels for value v on [lo, hi] (log: both > 0). */
static double ypos(double v, double lo, double hi, bool logy)
{
	double h = CH - TOP - BOTTOM, r;
	if (logy)
		r = (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
	else
		r = (v - lo) / (hi - lo);
	if (r < 0)
		r = 0;
	if (r > 1)
		r = 1;
	return CH - BOTTOM - r * h;
}

void fl_html_chart(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax,
		   bool shaded, const char *title, const struct fl_html_line *ls, size_t n,
		   bool logy, const char *(*fmt)(double, char *, size_t))
{
	double hi = 0, lo = INFINITY;
	for (size_t k = 0; k < n; k++)
		for (size_t b = 0; b < tl->nbuckets; b++)
			if (!isnan(ls[k].y[b])) {
				hi = fmax(hi, ls[k].y[b]);
				if (ls[k].y[b] > 0)
					lo = fmin(lo, ls[k].y[b]);
			}
	if (logy) {
		lo = isinf(lo) ? 1 : pow(10, floor(log10(lo)));
		hi = hi > lo ? pow(10, ceil(log10(hi))) : lo * 10;
	} else {
		lo = 0;
		hi = nice(hi);
	}
	fprintf(f,
		"<figure><figcaption>%s</figcaption><svg class='chart' width='%d' height='%d' "
		"viewBox='0 0 %d %d' role='img'>",
		title, W, CH, W, CH);
	if (shaded)
		shade(f, tl, ax);
	char buf[32];
	/* y grid: decades (log) or 0, half, max */
	for (double v = logy ? lo : 0; v <= hi * 1.0001; v = logy ? v * 10 : v + hi / 2) {
		double y = ypos(v, lo, hi, logy);
		fprintf(f,
			"<line class='grid' x1='%d' x2='%d' y1='%.1f' y2='%.1f'/><text x='%d' "
			"y='%.1f' "
			"class='tick' text-anchor='end'>%s</text>",
			LEFT, W - RIGHT, y, y, LEFT - 4, y + 3, fmt(v, buf, sizeof(buf)));
	}
	for (size_t k = 0; k < n; k++) {
		fprintf(f, "<polyline class='series %s' data-series='", ls[k].cls);
		fl_html_esc(f, ls[k].name);
		fprintf(f, "' stroke='%s'%s points='", ls[k].color,
			ls[k].dashed ? " stroke-dasharray='5 3'" : "");
		for (size_t b = 0; b < tl->nbuckets; b++) {
			if (isnan(ls[k].y[b]) || (logy && ls[k].y[b] <= 0))
				continue;
			int64_t t = tl->t0 + (int64_t)b * tl->bucket_ns + tl->bucket_ns / 2;
			if (t > tl->t1)
				t = tl->t1;
			fprintf(f, "%.1f,%.1f ", fl_html_x(ax, t), ypos(ls[k].y[b], lo, hi, logy));
		}
		fputs("'><title>", f);
		fl_html_esc(f, ls[k].name);
		fputs("</title></polyline>", f);
	}
	time_ticks(f, ax, CH - 6);
	fputs("</svg><div class='legend'>", f);
	for (size_t k = 0; k < n; k++) {
		fprintf(f, "<span><i class='sw' style='background:%s'></i>", ls[k].color);
		fl_html_esc(f, ls[k].name);
		fputs("</span>", f);
	}
	if (shaded)
		fputs("<span><i class='sw shade-sw'></i>fault window</span>", f);
	fputs("</div></figure>", f);
}

const char *fl_html_fmt_rate(double v, char *buf, size_t len)
{
	fl_report_fmt_count(v, buf, len);
	strncat(buf, "/s", len - strlen(buf) - 1);
	return buf;
}

static const char *fmt_pct(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.3g %%", v);
	return buf;
}

static void rate_charts(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax)
{
	size_t n = tl->ntypes;
	struct line *ok = calloc(n, sizeof(*ok)), *er = calloc(n, sizeof(*er));
	double secs = (double)tl->bucket_ns / 1e9;
	bool any_err = false;
	for (size_t k = 0; ok && er && k < n; k++) {
		const struct fl_tl_series *s = &tl->series[k];
		ok[k] = (struct line){ s->name, "ops", palette[k % NPAL],
				       calloc(tl->nbuckets, sizeof(double)), 0 };
		er[k] = (struct line){ s->name, "errors", palette[k % NPAL],
				       calloc(tl->nbuckets, sizeof(double)), 0 };
		if (!ok[k].y || !er[k].y)
			goto out;
		for (size_t b = 0; b < tl->nbuckets; b++) {
			uint64_t all = s->ok[b] + s->err[b];
			ok[k].y[b] = (double)s->ok[b] / secs;
			er[k].y[b] = all ? 100.0 * (double)s->err[b] / (double)all : NAN;
			any_err |= s->err[b] > 0;
		}
	}
	if (ok && er) {
		fl_html_chart(f, tl, ax, true,
			      "Throughput: successful operations per second, by type", ok, n, false,
			      fl_html_fmt_rate);
		fl_html_chart(f, tl, ax, true,
			      any_err ? "Error rate: failed or unknown outcome, % of the "
					"operations, by type"
				      : "Error rate: no operation failed",
			      er, n, false, fmt_pct);
	}
out:
	for (size_t k = 0; k < n; k++) {
		free(ok ? ok[k].y : NULL);
		free(er ? er[k].y : NULL);
	}
	free(ok);
	free(er);
}

const char *fl_html_fmt_lat(double v, char *buf, size_t len)
{
	return fl_report_fmt_ns(v, buf, len);
}

static void latency_chart(FILE *f, const struct fl_timeline *tl, const struct fl_html_axis *ax)
{
	static const struct {
		double p;
		const char *name, *cls, *color;
	} ps[] = { { 50, "p50", "p50", "#2b6cb0" },
		   { 95, "p95", "p95", "#dd6b20" },
		   { 99, "p99", "p99", "#c53030" } };
	struct line ls[3];
	size_t n = 0;
	for (; n < 3; n++) {
		ls[n] = (struct line){ ps[n].name, ps[n].cls, ps[n].color,
				       malloc(tl->nbuckets * sizeof(double)), 0 };
		if (!ls[n].y)
			goto out;
		for (size_t b = 0; b < tl->nbuckets; b++)
			ls[n].y[b] = tl->lat[b].count
					     ? (double)fl_hist_percentile(&tl->lat[b], ps[n].p)
					     : NAN;
	}
	char title[200], b1[32], b2[32], b3[32], bw[32];
	snprintf(title, sizeof(title),
		 "Latency per %s: p50 %s, p95 %s, p99 %s over the run (log scale)",
		 fl_report_fmt_ns((double)tl->bucket_ns, bw, sizeof(bw)),
		 fl_report_fmt_ns((double)fl_hist_percentile(tl->all, 50), b1, sizeof(b1)),
		 fl_report_fmt_ns((double)fl_hist_percentile(tl->all, 95), b2, sizeof(b2)),
		 fl_report_fmt_ns((double)fl_hist_percentile(tl->all, 99), b3, sizeof(b3)));
	fl_html_chart(f, tl, ax, true, title, ls, 3, true, fl_html_fmt_lat);
out:
	for (size_t k = 0; k < n; k++)
		free(ls[k].y);
}

/* Totals per operation type. */
static void type_table(FILE *f, const struct fl_timeline *tl)
{
	fputs("<table class='num'><tr><th>operation</th><th>ok</th><th>failed or unknown</th>"
	      "<th>error rate</th></tr>",
	      f);
	for (size_t k = 0; k < tl->ntypes; k++) {
		const struct fl_tl_series *s = &tl->series[k];
		uint64_t all = s->total_ok + s->total_err;
		char a[32], b[32];
		fprintf(f, "<tr><td><i class='sw' style='background:%s'></i>", palette[k % NPAL]);
		fl_html_esc(f, s->name);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%.3g %%</td></tr>",
			fl_report_fmt_count((double)s->total_ok, a, sizeof(a)),
			fl_report_fmt_count((double)s->total_err, b, sizeof(b)),
			all ? 100.0 * (double)s->total_err / (double)all : 0.0);
	}
	fputs("</table>", f);
}

void fl_html_timeline(FILE *f, const struct fl_timeline *tl)
{
	struct fl_html_axis ax = { .t0 = tl->t0,
				   .t1 = tl->t1 > tl->t0 ? tl->t1 : tl->t0 + 1,
				   .x0 = LEFT,
				   .x1 = W - RIGHT };
	char d[32], n[32];
	fprintf(f,
		"<section id='timeline'><h2>Timeline</h2><p class='meta'>%s operations over %s, "
		"%zu fault window%s, %zu event%s (%zu history line%s from %zu file%s).</p>",
		fl_report_fmt_count((double)tl->nops, n, sizeof(n)),
		fl_report_fmt_ns((double)(ax.t1 - ax.t0), d, sizeof(d)), tl->nfaults,
		tl->nfaults == 1 ? "" : "s", tl->nmarks, tl->nmarks == 1 ? "" : "s", tl->lines,
		tl->lines == 1 ? "" : "s", tl->files, tl->files == 1 ? "" : "s");
	if (tl->nfaults || tl->nmarks)
		write_lane(f, tl, &ax);
	if (tl->nops) {
		rate_charts(f, tl, &ax);
		latency_chart(f, tl, &ax);
		type_table(f, tl);
	}
	fputs("</section>", f);
}
