/* `faultline report --compare A B`: two runs on one page. Their timelines
 * share the axes (time since each run's start, one bucket width, one y
 * scale per chart, A solid and B dashed), each checker invariant's verdict
 * sits beside the other's, and a table gives the change in latency
 * percentiles, throughput and error rate from A to B. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/html_int.h"
#include "core/errors.h"
#include "core/json.h"

#define MAX_BUCKETS 150

struct side {
	const struct fl_report_run *run;
	const struct fl_report_log *log;
	const struct fl_run_summary *s;
	struct fl_timeline tl;
	char name[8];
};

static bool passed(const struct fl_run_summary *s)
{
	return !s->failed && !s->errors && !s->interrupted;
}

static void header(FILE *f, struct side *sd)
{
	char d[32];
	fputs("<table class='sides'><tr><th></th>", f);
	for (int i = 0; i < 2; i++)
		fprintf(f, "<th>%s</th>", sd[i].name);
	fputs("</tr><tr><td>verdict</td>", f);
	for (int i = 0; i < 2; i++)
		fprintf(f,
			"<td><span class='chip %s verdict'>%s</span> %d passed, %d failed, %d "
			"skipped</td>",
			passed(sd[i].s) ? "pass" : "fail", passed(sd[i].s) ? "passed" : "failed",
			sd[i].s->passed, sd[i].s->failed, sd[i].s->skipped);
	fputs("</tr><tr><td>seed</td>", f);
	for (int i = 0; i < 2; i++)
		fprintf(f, "<td>%llu</td>", (unsigned long long)sd[i].s->seed);
	fputs("</tr><tr><td>duration</td>", f);
	for (int i = 0; i < 2; i++)
		fprintf(f, "<td>%s</td>",
			fl_report_fmt_ns((double)sd[i].s->duration_ns, d, sizeof(d)));
	fputs("</tr><tr><td>command</td>", f);
	for (int i = 0; i < 2; i++) {
		fputs("<td><code>", f);
		fl_html_esc(f, sd[i].s->command ? sd[i].s->command : "?");
		fputs("</code></td>", f);
	}
	fputs("</tr></table>", f);
}

/* --- shared axes --------------------------------------------------------------- */

static double *values(const struct fl_timeline *tl, double p)
{
	double *y = malloc(tl->nbuckets * sizeof(*y));
	for (size_t b = 0; y && b < tl->nbuckets; b++)
		y[b] = tl->lat[b].count ? (double)fl_hist_percentile(&tl->lat[b], p) : NAN;
	return y;
}

static double *rates(const struct fl_timeline *tl)
{
	double *y = calloc(tl->nbuckets, sizeof(*y));
	for (size_t k = 0; y && k < tl->ntypes; k++)
		for (size_t b = 0; b < tl->nbuckets; b++)
			y[b] += (double)tl->series[k].ok[b] / ((double)tl->bucket_ns / 1e9);
	return y;
}

static void shared_charts(FILE *f, struct side *sd)
{
	int64_t span = 0;
	for (int i = 0; i < 2; i++)
		if (sd[i].tl.t1 - sd[i].tl.t0 > span)
			span = sd[i].tl.t1 - sd[i].tl.t0;
	for (int i = 0; i < 2; i++) { /* one axis: both as long as the longer */
		sd[i].tl.t1 = sd[i].tl.t0 + span;
		if (fl_timeline_finish(&sd[i].tl, MAX_BUCKETS))
			return;
	}
	struct fl_html_axis ax = { .t0 = sd[0].tl.t0,
				   .t1 = sd[0].tl.t0 + span,
				   .x0 = 70,
				   .x1 = 1046 };
	struct fl_html_line lat[4] = {
		{ "A p50", "p50 a", "#2b6cb0", values(&sd[0].tl, 50), 0 },
		{ "A p99", "p99 a", "#c53030", values(&sd[0].tl, 99), 0 },
		{ "B p50", "p50 b", "#2b6cb0", values(&sd[1].tl, 50), 1 },
		{ "B p99", "p99 b", "#c53030", values(&sd[1].tl, 99), 1 },
	};
	struct fl_html_line thr[2] = {
		{ "A", "ops a", "#2f855a", rates(&sd[0].tl), 0 },
		{ "B", "ops b", "#2f855a", rates(&sd[1].tl), 1 },
	};
	if (lat[0].y && lat[1].y && lat[2].y && lat[3].y && thr[0].y && thr[1].y) {
		fputs("<section id='timeline'><h2>Timelines on shared axes</h2><p "
		      "class='meta'>Time since "
		      "each run's first event; A solid, B dashed.</p>",
		      f);
		fl_html_chart(f, &sd[0].tl, &ax, false, "Latency p50 and p99 (log scale)", lat, 4,
			      true, fl_html_fmt_lat);
		fl_html_chart(f, &sd[0].tl, &ax, false,
			      "Throughput: successful operations per second", thr, 2, false,
			      fl_html_fmt_rate);
		fputs("</section>", f);
	}
	for (int i = 0; i < 4; i++)
		free(lat[i].y);
	free(thr[0].y);
	free(thr[1].y);
}

/* --- numbers ------------------------------------------------------------------- */

static void change_cell(FILE *f, double a, double b, bool lower_is_better)
{
	if (!(a > 0) || isnan(b)) {
		fputs("<td class='n'>–</td>", f);
		return;
	}
	double pct = (b - a) / a * 100;
	bool worse = lower_is_better ? pct > 10 : pct < -10;
	bool better = lower_is_better ? pct < -10 : pct > 10;
	fprintf(f, "<td class='n %s'>%+.1f %%</td>",
		worse	 ? "o-fail"
		: better ? "s-pass"
			 : "",
		pct);
}

static void numbers(FILE *f, struct side *sd)
{
	static const struct {
		const char *name;
		double p;
	} ps[] = { { "p50", 50 }, { "p95", 95 }, { "p99", 99 }, { "p99.9", 99.9 }, { "max", 100 } };
	char a[32], b[32];
	fputs("<section id='numbers'><h2>Change from A to B</h2><table "
	      "class='num'><tr><th>measure</th>"
	      "<th>A</th><th>B</th><th>change</th></tr>",
	      f);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		double va = (double)fl_hist_percentile(sd[0].tl.all, ps[k].p);
		double vb = (double)fl_hist_percentile(sd[1].tl.all, ps[k].p);
		fprintf(f, "<tr class='pct'><td>latency %s</td><td>%s</td><td>%s</td>", ps[k].name,
			fl_report_fmt_ns(va, a, sizeof(a)), fl_report_fmt_ns(vb, b, sizeof(b)));
		change_cell(f, va, vb, true);
		fputs("</tr>", f);
	}
	double ops[2], err[2];
	for (int i = 0; i < 2; i++) {
		uint64_t ok = 0, bad = 0;
		for (size_t k = 0; k < sd[i].tl.ntypes; k++)
			ok += sd[i].tl.series[k].total_ok, bad += sd[i].tl.series[k].total_err;
		double secs = (double)(sd[i].s->duration_ns ? sd[i].s->duration_ns : 1) / 1e9;
		ops[i] = (double)ok / secs;
		err[i] = ok + bad ? 100.0 * (double)bad / (double)(ok + bad) : 0;
	}
	fprintf(f, "<tr><td>successful operations per second</td><td>%s</td><td>%s</td>",
		fl_html_fmt_rate(ops[0], a, sizeof(a)), fl_html_fmt_rate(ops[1], b, sizeof(b)));
	change_cell(f, ops[0], ops[1], false);
	fprintf(f, "</tr><tr><td>error rate</td><td>%.3g %%</td><td>%.3g %%</td>", err[0], err[1]);
	change_cell(f, err[0], err[1], true);
	fputs("</tr></table></section>", f);
}

/* --- verdicts side by side ------------------------------------------------------ */

struct inv_row {
	char key[160]; /* "label\tID" */
	const json_t *inv[2];
};

struct inv_rows {
	struct inv_row *v;
	size_t n, cap;
	int side;
};

static void collect(const json_t *check, void *arg)
{
	struct inv_rows *rows = arg;
	const char *label = fl_json_str(check, "label", fl_json_str(check, "checker", "check"));
	const char *id;
	json_t *inv;
	json_object_foreach(json_object_get(check, "invariants"), id, inv) {
		char key[160];
		snprintf(key, sizeof(key), "%s\t%s", label, id);
		size_t i = 0;
		while (i < rows->n && strcmp(rows->v[i].key, key))
			i++;
		if (i == rows->n) {
			if (fl_report_grow((void **)&rows->v, &rows->cap, rows->n,
					   sizeof(*rows->v)))
				return;
			memset(&rows->v[i], 0, sizeof(rows->v[i]));
			snprintf(rows->v[i].key, sizeof(rows->v[i].key), "%s", key);
			rows->n++;
		}
		rows->v[i].inv[rows->side] = inv;
	}
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct inv_row *)a)->key, ((const struct inv_row *)b)->key);
}

static void verdict_cell(FILE *f, const json_t *inv)
{
	if (!inv) {
		fputs("<td class='meta'>not run</td>", f);
		return;
	}
	const char *state = fl_json_str(inv, "state", "?");
	const char *cls = !strcmp(state, "passed")   ? "pass"
			  : !strcmp(state, "failed") ? "fail"
						     : "skip";
	fprintf(f, "<td><span class='chip %s'>%s</span>", cls, state);
	if (fl_json_int(inv, "count", 0) > 0)
		fprintf(f, " %lld violation%s", (long long)fl_json_int(inv, "count", 0),
			fl_json_int(inv, "count", 0) == 1 ? "" : "s");
	fputs("</td>", f);
}

static void verdicts(FILE *f, struct side *sd)
{
	struct inv_rows rows = { 0 };
	for (int i = 0; i < 2; i++) {
		rows.side = i;
		fl_html_each_check(sd[i].log, sd[i].s, collect, &rows);
	}
	if (!rows.n)
		return;
	qsort(rows.v, rows.n, sizeof(*rows.v), cmp_row);
	fputs("<section id='checks'><h2>Checkers side by side</h2><table class='invs'><tr>"
	      "<th>checker</th><th>id</th><th>invariant</th><th>A</th><th>B</th></tr>",
	      f);
	for (size_t i = 0; i < rows.n; i++) {
		const json_t *any = rows.v[i].inv[0] ? rows.v[i].inv[0] : rows.v[i].inv[1];
		const char *sa = fl_json_str(rows.v[i].inv[0], "state", ""),
			   *sb = fl_json_str(rows.v[i].inv[1], "state", "");
		char *tab = strchr(rows.v[i].key, '\t');
		*tab = '\0';
		fprintf(f, "<tr class='inv%s'><td>", strcmp(sa, sb) ? " changed" : "");
		fl_html_esc(f, rows.v[i].key);
		fputs("</td><td class='id'>", f);
		fl_html_esc(f, tab + 1);
		fputs("</td><td>", f);
		fl_html_esc(f, fl_json_str(any, "name", ""));
		fputs("</td>", f);
		verdict_cell(f, rows.v[i].inv[0]);
		verdict_cell(f, rows.v[i].inv[1]);
		fputs("</tr>", f);
	}
	fputs("</table></section>", f);
	free(rows.v);
}

int fl_report_compare(const struct fl_report_run *a, const struct fl_report_run *b,
		      const char *path, char *err, size_t errlen)
{
	struct side sd[2] = { { .run = a, .name = "A" }, { .run = b, .name = "B" } };
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		sd[i].log = fl_report_run_log(sd[i].run);
		sd[i].s = fl_report_run_summary(sd[i].run);
		rc = fl_html_load_timeline(&sd[i].tl, sd[i].s, err, errlen);
	}
	struct fl_report_out o = { 0 };
	if (rc || (rc = fl_report_out_open(&o, path, err, errlen)))
		goto out;
	FILE *f = o.f;
	fl_html_head(f, "faultline: A compared with B");
	fputs("<header class='run'><h1>Two runs compared</h1>", f);
	header(f, sd);
	fputs("</header>", f);
	if (sd[0].tl.t1 > 0 && sd[1].tl.t1 > 0) {
		shared_charts(f, sd);
		if (sd[0].tl.all && sd[1].tl.all)
			numbers(f, sd);
	} else {
		fputs("<section><p class='meta'>No history for both runs: no timelines to "
		      "compare.</p></section>",
		      f);
	}
	verdicts(f, sd);
	fputs("</main></body></html>\n", f);
	rc = ferror(f) ? fl_err_set(err, errlen, FL_EIO, "%s: write failed", path)
		       : fl_report_out_commit(&o);
out:
	fl_report_out_close(&o);
	fl_timeline_free(&sd[0].tl);
	fl_timeline_free(&sd[1].tl);
	return rc;
}
