/* The page's experiment and checker sections. An experiment shows its
 * steady-state probes (tolerance, value before and after), every method
 * step with its start, duration and outcome on a small chart, the rollbacks
 * and the safeguard that tripped; a checker shows each invariant's verdict
 * with its first and worst violations and their evidence. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/html_int.h"
#include "core/json.h"

#define EVIDENCE_MAX 6000 /* bytes of evidence shown per example */

static void esc_json(FILE *f, const json_t *v, size_t flags)
{
	char *s = v ? json_dumps(v, JSON_ENCODE_ANY | flags) : NULL;
	if (!s) {
		fputs("–", f);
		return;
	}
	size_t n = strlen(s);
	if (n > EVIDENCE_MAX) {
		s[EVIDENCE_MAX] = '\0';
		fl_html_esc(f, s);
		fprintf(f, "… (%zu bytes)", n);
	} else {
		fl_html_esc(f, s);
	}
	free(s);
}

/* A value as a person reads it: strings bare, numbers short, the rest JSON. */
static void put_value(FILE *f, const json_t *v)
{
	if (!v)
		fputs("<span class='meta'>–</span>", f);
	else if (json_is_string(v))
		fl_html_esc(f, json_string_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.4g", json_real_value(v));
	else
		esc_json(f, v, JSON_COMPACT);
}

static const char *outcome_class(const char *status)
{
	return !strcmp(status, "ok") || !strcmp(status, "completed")	  ? "pass"
	       : !strcmp(status, "dry-run") || !strcmp(status, "running") ? "skip"
									  : "fail";
}

/* --- experiments ------------------------------------------------------------- */

static const json_t *find_probe(const json_t *list, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p)
		if (strcmp(fl_json_str(p, "name", ""), name) == 0)
			return p;
	return NULL;
}

static void probe_cell(FILE *f, const json_t *p)
{
	if (!p) {
		fputs("<td class='meta'>not run</td>", f);
		return;
	}
	const char *status = fl_json_str(p, "status", "?");
	fprintf(f, "<td class='o-%s'>", outcome_class(status));
	if (json_object_get(p, "error"))
		fl_html_esc(f, fl_json_str(p, "error", ""));
	else
		put_value(f, json_object_get(p, "value"));
	fprintf(f, " <span class='chip %s'>%s</span></td>", outcome_class(status), status);
}

static void steady_state(FILE *f, const json_t *j)
{
	const json_t *before = json_object_get(j, "steady_state_before");
	const json_t *after = json_object_get(j, "steady_state_after");
	if (!json_array_size(before) && !json_array_size(after))
		return;
	fputs("<h3>Steady-state hypothesis</h3><table class='probes'><tr><th>probe</th>"
	      "<th>tolerance</th><th>before the method</th><th>after the method</th></tr>",
	      f);
	const json_t *list = json_array_size(before) ? before : after;
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p) {
		const char *name = fl_json_str(p, "name", "?");
		fputs("<tr class='probe'><td class='pname'>", f);
		fl_html_esc(f, name);
		fputs("</td><td>", f);
		fl_html_esc(f, fl_json_str(p, "tolerance", "–"));
		fputs("</td>", f);
		probe_cell(f, find_probe(before, name));
		probe_cell(f, find_probe(after, name));
		fputs("</tr>", f);
	}
	fputs("</table>", f);
}

/* One row per step: name, kind, start after the experiment began, duration,
 * outcome with value or error. */
static void step_rows(FILE *f, const json_t *list, double t0, const char *kind)
{
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s) {
		const char *status = fl_json_str(s, "status", "?");
		char a[32], b[32];
		fprintf(f, "<tr class='step o-%s'><td>", outcome_class(status));
		fl_html_esc(f, fl_json_str(s, "name", "?"));
		fprintf(f, "</td><td>%s</td><td>+%s</td><td>%s</td><td><span class='chip %s'>",
			kind ? kind : fl_json_str(s, "type", "step"),
			fl_report_fmt_s(fl_json_num(s, "started", t0) - t0, a, sizeof(a)),
			fl_report_fmt_s(fl_json_num(s, "duration", 0), b, sizeof(b)),
			outcome_class(status));
		fl_html_esc(f, status);
		fputs("</span> ", f);
		if (json_object_get(s, "error"))
			fl_html_esc(f, fl_json_str(s, "error", ""));
		else if (json_object_get(s, "value"))
			put_value(f, json_object_get(s, "value"));
		fputs("</td></tr>", f);
	}
}

/* The experiment's steps as bars on its own time axis. */
static void gantt(FILE *f, const json_t *j, double t0, double t1)
{
	static const char *const keys[] = { "steady_state_before", "method", "steady_state_after",
					    "rollbacks" };
	size_t rows = 0;
	for (size_t k = 0; k < 4; k++)
		rows += json_array_size(json_object_get(j, keys[k]));
	if (!rows || t1 <= t0)
		return;
	int rh = 15, h = (int)rows * rh + 28, w = 1060, left = 300;
	fprintf(f,
		"<figure><figcaption>The steps over time</figcaption><svg class='gantt' width='%d' "
		"height='%d' viewBox='0 0 %d %d' role='img'>",
		w, h, w, h);
	size_t r = 0;
	char buf[32];
	for (size_t k = 0; k < 4; k++) {
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(j, keys[k]), i, s) {
			double st = fl_json_num(s, "started", t0) - t0,
			       d = fl_json_num(s, "duration", 0);
			double x = left + st / (t1 - t0) * (w - left - 10),
			       bw = d / (t1 - t0) * (w - left - 10);
			int y = 4 + (int)r * rh;
			fprintf(f, "<text x='%d' y='%d' class='ml' text-anchor='end'>", left - 6,
				y + 10);
			fl_html_esc(f, fl_json_str(s, "name", "?"));
			fprintf(f,
				"</text><rect class='bar %s' x='%.1f' y='%d' width='%.1f' "
				"height='%d'><title>",
				outcome_class(fl_json_str(s, "status", "?")), x, y, bw < 2 ? 2 : bw,
				rh - 4);
			fl_html_esc(f, fl_json_str(s, "name", "?"));
			fprintf(f, ": %s</title></rect>", fl_report_fmt_s(d, buf, sizeof(buf)));
			r++;
		}
	}
	for (int i = 0; i <= 5; i++)
		fprintf(f, "<text x='%.1f' y='%d' class='tick' text-anchor='%s'>+%s</text>",
			left + i * (w - left - 10) / 5.0, h - 6, i == 5 ? "end" : "middle",
			fl_report_fmt_s((t1 - t0) * i / 5, buf, sizeof(buf)));
	fputs("</svg></figure>", f);
}

void fl_html_experiment(FILE *f, const json_t *j, const char *test_name)
{
	const char *status = fl_json_str(j, "status", "?");
	double t0 = fl_json_num(j, "started", 0), t1 = fl_json_num(j, "ended", t0);
	char d[32];
	fputs("<section class='experiment'><h2>Experiment: ", f);
	fl_html_esc(f, fl_json_str(j, "title", test_name ? test_name : "?"));
	fprintf(f, " <span class='chip %s verdict'>%s</span></h2>", outcome_class(status), status);
	fprintf(f, "<p class='meta'>%s", fl_report_fmt_s(t1 - t0, d, sizeof(d)));
	if (json_object_get(j, "reason")) {
		fputs(" · ", f);
		fl_html_esc(f, fl_json_str(j, "reason", ""));
	}
	if (fl_json_bool(j, "rollbacks_abandoned", false))
		fputs(" · <b>rollbacks abandoned</b>", f);
	fputs("</p>", f);
	if (json_object_get(j, "description")) {
		fputs("<p>", f);
		fl_html_esc(f, fl_json_str(j, "description", ""));
		fputs("</p>", f);
	}
	const json_t *guard = json_object_get(j, "safeguard");
	if (json_is_object(guard)) {
		char at[32];
		fputs("<p class='alert'>Safeguard <b>", f);
		fl_html_esc(f, fl_json_str(guard, "name", "?"));
		fprintf(f, "</b> tripped at +%s: ",
			fl_report_fmt_s(fl_json_num(guard, "tripped",
						    fl_json_num(guard, "started", t0)) -
						t0,
					at, sizeof(at)));
		if (json_object_get(guard, "error"))
			fl_html_esc(f, fl_json_str(guard, "error", ""));
		else
			put_value(f, json_object_get(guard, "value"));
		fputs(" (want ", f);
		fl_html_esc(f, fl_json_str(guard, "tolerance", "?"));
		fputs("); the method stopped.</p>", f);
	}
	steady_state(f, j);
	fputs("<h3>Method</h3><table class='steps'><tr><th>step</th><th>kind</th><th>start</th>"
	      "<th>duration</th><th>outcome</th></tr>",
	      f);
	step_rows(f, json_object_get(j, "method"), t0, NULL);
	fputs("</table><h3>Rollbacks</h3>", f);
	if (json_array_size(json_object_get(j, "rollbacks"))) {
		fputs("<table class='steps'><tr><th>rollback</th><th>kind</th><th>start</th>"
		      "<th>duration</th><th>outcome</th></tr>",
		      f);
		step_rows(f, json_object_get(j, "rollbacks"), t0, "rollback");
		fputs("</table>", f);
	} else {
		fputs("<p class='meta'>none ran</p>", f);
	}
	gantt(f, j, t0, t1);
	fputs("</section>", f);
}

/* --- checkers ---------------------------------------------------------------- */

void fl_html_each_check(const struct fl_report_log *log, const struct fl_run_summary *s,
			void (*fn)(const json_t *check, void *arg), void *arg)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(s->extra, "checks"), i, c)
		fn(c, arg);
	for (size_t k = 0; k < log->nfiles; k++)
		for (size_t t = 0; t < log->files[k]->ntests; t++)
			json_array_foreach(json_object_get(log->files[k]->tests[t].extra, "checks"),
					   i, c)
				fn(c, arg);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void example(FILE *f, const char *label, const json_t *ex)
{
	if (!json_is_object(ex))
		return;
	fprintf(f, "<div class='ex'><b>%s</b> ", label);
	fl_html_esc(f, fl_json_str(ex, "message", ""));
	json_t *ev = json_object_get(ex, "evidence");
	if (ev && !json_is_null(ev)) {
		fputs("<pre>", f);
		esc_json(f, ev, JSON_INDENT(1) | JSON_SORT_KEYS);
		fputs("</pre>", f);
	}
	fputs("</div>", f);
}

static void invariant_row(FILE *f, const char *id, const json_t *inv)
{
	const char *state = fl_json_str(inv, "state", "?");
	int64_t count = fl_json_int(inv, "count", 0);
	const char *cls = !strcmp(state, "passed")   ? "pass"
			  : !strcmp(state, "failed") ? "fail"
						     : "skip";
	char a[32], b[32];
	fprintf(f, "<tr class='inv inv-%s' data-inv='", cls);
	fl_html_esc(f, id);
	fputs("'><td class='id'>", f);
	fl_html_esc(f, id);
	fputs("</td><td>", f);
	fl_html_esc(f, fl_json_str(inv, "name", ""));
	fprintf(f,
		"</td><td><span class='chip %s'>%s</span></td><td class='n'>%s</td><td "
		"class='n'>%s</td></tr>",
		cls, state,
		fl_report_fmt_count((double)fl_json_int(inv, "checked", 0), a, sizeof(a)),
		fl_report_fmt_count((double)count, b, sizeof(b)));
	if (count > 0) {
		fputs("<tr class='evidence'><td></td><td colspan='4'><details open><summary>first "
		      "and "
		      "worst violations</summary>",
		      f);
		example(f, "first:", json_object_get(inv, "first"));
		if (count > 1)
			example(f, "worst:", json_object_get(inv, "worst"));
		fputs("</details></td></tr>", f);
	} else if (!strcmp(state, "unknown")) {
		fputs("<tr class='evidence'><td></td><td colspan='4' class='meta'>", f);
		fl_html_esc(f, fl_json_str(inv, "unknown_reason", "could not be decided"));
		fputs("</td></tr>", f);
	}
}

static void one_check(const json_t *c, void *arg)
{
	FILE *f = ((void **)arg)[0];
	size_t *n = ((void **)arg)[1];
	json_t *valid = json_object_get(c, "valid");
	const char *v = json_is_true(valid)    ? "valid"
			: json_is_false(valid) ? "invalid"
					       : "unknown";
	const char *cls = json_is_true(valid) ? "pass" : json_is_false(valid) ? "fail" : "skip";
	const char *label = fl_json_str(c, "label", fl_json_str(c, "checker", "check"));
	fputs("<div class='check' data-check='", f);
	fl_html_esc(f, label);
	fputs("'><h3>", f);
	fl_html_esc(f, label);
	fprintf(f, " <span class='chip %s verdict'>%s</span></h3>", cls, v);
	if (json_object_get(c, "note")) {
		fputs("<p class='meta'>", f);
		fl_html_esc(f, fl_json_str(c, "note", ""));
		fputs("</p>", f);
	}
	json_t *invs = json_object_get(c, "invariants");
	size_t k = 0, ninv = json_object_size(invs);
	const char **ids = calloc(ninv ? ninv : 1, sizeof(*ids));
	const char *id;
	json_t *inv;
	json_object_foreach(invs, id, inv)
		if (ids)
			ids[k++] = id;
	if (ids)
		qsort(ids, k, sizeof(*ids), cmp_key);
	fputs("<table "
	      "class='invs'><tr><th>id</th><th>invariant</th><th>verdict</th><th>checked</th>"
	      "<th>violations</th></tr>",
	      f);
	size_t idle = 0;
	for (size_t i = 0; i < k; i++) {
		json_t *one = json_object_get(invs, ids[i]);
		if (strcmp(fl_json_str(one, "state", ""), "not checked") == 0)
			ids[idle++] = ids[i]; /* listed in one line below */
		else
			invariant_row(f, ids[i], one);
	}
	fputs("</table>", f);
	if (idle) { /* what the history held no data for, in one line */
		fputs("<p class='meta idle'>Not checked (no data in the history): ", f);
		for (size_t i = 0; i < idle; i++) {
			fprintf(f, "%s<span class='inv inv-skip' data-inv='", i ? ", " : "");
			fl_html_esc(f, ids[i]);
			fputs("' title='", f);
			fl_html_esc(f, fl_json_str(json_object_get(invs, ids[i]), "name", ""));
			fputs("'>", f);
			fl_html_esc(f, ids[i]);
			fputs(" ", f);
			fl_html_esc(f, fl_json_str(json_object_get(invs, ids[i]), "name", ""));
			fputs("</span>", f);
		}
		fputs("</p>", f);
	}
	fputs("</div>", f);
	free(ids);
	(*n)++;
}

static void tally(const json_t *c, void *arg)
{
	size_t *n = arg;
	json_t *valid = json_object_get(c, "valid");
	n[json_is_true(valid) ? 0 : json_is_false(valid) ? 1 : 2]++;
}

size_t fl_html_checks(FILE *f, const struct fl_report_log *log, const struct fl_run_summary *s)
{
	size_t n = 0, v[3] = { 0, 0, 0 };
	void *arg[2] = { f, &n };
	fl_html_each_check(log, s, tally, v);
	fprintf(f,
		"<section id='checks'><h2>Checkers <span class='chip pass'>%zu valid</span> "
		"<span class='chip fail'>%zu invalid</span> <span class='chip skip'>%zu "
		"unknown</span></h2>",
		v[0], v[1], v[2]);
	fl_html_each_check(log, s, one_check, arg);
	fputs("</section>", f);
	return n;
}
