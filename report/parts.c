/* The parts of a test as tests of their own: a checker's verdict gives one
 * per invariant, an experiment's journal one per steady-state probe, method
 * step, rollback and tripped safeguard. JUnit lists them as test cases (a CI
 * test view then names the probe that deviated), `faultline check` reports
 * its invariants through them, and the HTML page reads the same records. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/errors.h"
#include "core/json.h"

void fl_test_list_free(struct fl_test_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		fl_test_result_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* A new slot at the end of l, zeroed; NULL when out of memory. */
static struct fl_test_result *add(struct fl_test_list *l, const char *file, const char *suite)
{
	if (fl_report_grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v)))
		return NULL;
	struct fl_test_result *r = &l->v[l->n];
	memset(r, 0, sizeof(*r));
	r->file = strdup(file ? file : "");
	r->suite = strdup(suite ? suite : "");
	if (!r->file || !r->suite) {
		fl_test_result_free(r);
		return NULL;
	}
	l->n++;
	r->index = (int)l->n;
	return r;
}

/* --- checkers -------------------------------------------------------------- */

/* "first: message\n<evidence, indented JSON>\n" appended to *text. */
static void put_example(FILE *f, const char *label, const json_t *ex)
{
	if (!json_is_object(ex))
		return;
	fprintf(f, "%s: %s\n", label, fl_json_str(ex, "message", ""));
	json_t *ev = json_object_get(ex, "evidence");
	if (ev && !json_is_null(ev)) {
		char *s = json_dumps(ev, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			fprintf(f, "%s\n", s);
		free(s);
	}
}

static char *examples_text(const json_t *inv)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	int64_t count = fl_json_int(inv, "count", 0);
	put_example(f, "first", json_object_get(inv, "first"));
	if (count > 1)
		put_example(f, "worst", json_object_get(inv, "worst"));
	if (count > 2)
		put_example(f, "last", json_object_get(inv, "last"));
	fclose(f);
	return text;
}

static int check_test(struct fl_test_list *out, const char *file, const char *suite,
		      const char *checker, const char *label, const char *id, json_t *inv)
{
	struct fl_test_result *r = add(out, file, suite);
	if (!r)
		return FL_ENOMEM;
	const char *state = fl_json_str(inv, "state", "not checked");
	int64_t count = fl_json_int(inv, "count", 0);
	r->name = dupf("%s %s", id, fl_json_str(inv, "name", ""));
	if (strcmp(state, "passed") == 0) {
		r->status = FL_TEST_PASS;
	} else if (strcmp(state, "failed") == 0 || count > 0) {
		r->status = FL_TEST_FAIL;
		json_t *first = json_object_get(inv, "first");
		r->message = dupf("%lld violation%s: %s", (long long)count, count == 1 ? "" : "s",
				  fl_json_str(first, "message", ""));
		r->detail = examples_text(inv);
	} else if (strcmp(state, "unknown") == 0) {
		r->status = FL_TEST_FAIL;
		r->error_type = strdup("unknown");
		r->message = strdup(fl_json_str(inv, "unknown_reason", "could not be decided"));
	} else {
		r->status = FL_TEST_SKIP;
		r->message = strdup("not checked: no data in the history");
	}
	json_t *rec = json_deep_copy(inv);
	if (rec) {
		json_object_set_new(rec, "id", json_string(id));
		json_object_set_new(rec, "checker", json_string(checker));
		if (label)
			json_object_set_new(rec, "label", json_string(label));
		r->extra = json_pack("{s:o}", "invariant", rec);
	}
	return r->name && r->extra && (r->status == FL_TEST_PASS || r->message) ? 0 : FL_ENOMEM;
}

int fl_report_check_tests(const json_t *check, const char *file, const char *suite,
			  struct fl_test_list *out)
{
	const char *checker = fl_json_str(check, "checker", "check");
	const char *label = fl_json_str(check, "label", NULL);
	json_t *invs = json_object_get(check, "invariants");
	const char *id;
	json_t *inv;
	int rc = 0;
	json_object_foreach(invs, id, inv) {
		if ((rc = check_test(out, file, suite, checker, label, id, inv)))
			break;
	}
	return rc;
}

/* --- experiments ----------------------------------------------------------- */

/* A value for a one-line message: strings as they are, the rest as JSON. */
static char *show(const json_t *v)
{
	if (!v)
		return strdup("nothing");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	return s ? s : strdup("?");
}

/* One step record of the journal ({name, status, started, duration, value,
 * tolerance, error, output}) as a test named "PHASE: NAME". */
static int step_test(struct fl_test_list *out, const char *file, const char *suite,
		     const char *phase, const json_t *rec)
{
	struct fl_test_result *r = add(out, file, suite);
	if (!r)
		return FL_ENOMEM;
	const char *status = fl_json_str(rec, "status", "ok");
	r->name = dupf("%s: %s", phase, fl_json_str(rec, "name", "?"));
	r->duration_ns = (int64_t)(fl_json_num(rec, "duration", 0) * 1e9);
	r->start_wall_ns = (int64_t)(fl_json_num(rec, "started", 0) * 1e9);
	const char *err = fl_json_str(rec, "error", NULL);
	if (strcmp(status, "ok") == 0) {
		r->status = FL_TEST_PASS;
	} else if (strcmp(status, "deviated") == 0) {
		r->status = FL_TEST_FAIL;
		char *v = show(json_object_get(rec, "value"));
		r->message = dupf("deviated: %s, want %s", v ? v : "?",
				  fl_json_str(rec, "tolerance", "?"));
		free(v);
	} else {
		r->status = FL_TEST_FAIL;
		r->message = dupf("%s%s%s", status, err ? ": " : "", err ? err : "");
	}
	r->extra = json_pack("{s:s,s:O}", "phase", phase, "step", rec);
	return r->name && r->extra && (r->status == FL_TEST_PASS || r->message) ? 0 : FL_ENOMEM;
}

int fl_report_experiment_tests(const json_t *journal, const char *file, const char *suite,
			       struct fl_test_list *out)
{
	static const struct {
		const char *key, *phase;
	} phases[] = {
		{ "steady_state_before", "steady state before" },
		{ "method", "method" },
		{ "steady_state_after", "steady state after" },
		{ "rollbacks", "rollback" },
	};
	int rc = 0;
	for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]) && rc == 0; p++) {
		json_t *list = json_object_get(journal, phases[p].key);
		size_t i;
		json_t *rec;
		json_array_foreach(list, i, rec) {
			if ((rc = step_test(out, file, suite, phases[p].phase, rec)))
				break;
		}
	}
	json_t *guard = json_object_get(journal, "safeguard");
	if (rc == 0 && json_is_object(guard))
		rc = step_test(out, file, suite, "safeguard", guard);
	return rc;
}

int fl_report_test_parts(const struct fl_test_result *r, struct fl_test_list *out)
{
	if (!r->extra)
		return 0;
	char *suite = dupf("%s%s%s", r->suite && *r->suite ? r->suite : "",
			   r->suite && *r->suite ? " > " : "", r->name ? r->name : "");
	if (!suite)
		return FL_ENOMEM;
	int rc = 0;
	json_t *exp = json_object_get(r->extra, "experiment");
	if (json_is_object(exp))
		rc = fl_report_experiment_tests(exp, r->file, suite, out);
	json_t *checks = json_object_get(r->extra, "checks");
	size_t i;
	json_t *c;
	json_array_foreach(checks, i, c) {
		if (rc)
			break;
		rc = fl_report_check_tests(c, r->file, suite, out);
	}
	free(suite);
	return rc;
}
