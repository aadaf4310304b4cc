/* Checker results as console text and JSON, and through report/ in every
 * report format (one test per invariant). */
#include "checkers/result.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "report/report.h"
#include "core/json.h"

static void print_example(FILE *out, const char *label, const char *msg, const json_t *ev,
			  size_t max)
{
	fprintf(out, "      %-6s %s\n", label, msg ? msg : "");
	if (!ev)
		return;
	char *s = fl_json_dumps(ev);
	if (!s)
		return;
	size_t n = strlen(s);
	if (max && n > max)
		fprintf(out, "             evidence: %.*s... (%zu bytes)\n", (int)max, s, n);
	else
		fprintf(out, "             evidence: %s\n", s);
	free(s);
}

void fl_check_result_print(const struct fl_check_result *r, FILE *out, size_t evidence_max)
{
	fprintf(out, "check %s: valid %s\n", r->checker, fl_check_valid_str(r->valid));
	if (r->note)
		fprintf(out, "  note: %s\n", r->note);
	for (size_t i = 0; i < r->ninv; i++) {
		const struct fl_check_invariant *v = &r->inv[i];
		const char *mark = v->state == FL_INV_PASSED	? "ok  "
				   : v->state == FL_INV_FAILED	? "FAIL"
				   : v->state == FL_INV_UNKNOWN ? "??  "
								: "--  ";
		fprintf(out, "  %s %-4s %-44s", mark, v->id, v->name);
		if (v->state == FL_INV_FAILED)
			fprintf(out, " %ld violation%s (of %ld checked)\n", v->count,
				v->count == 1 ? "" : "s", v->checked);
		else if (v->state == FL_INV_UNKNOWN)
			fprintf(out, " unknown: %s\n", v->unknown_reason);
		else if (v->state == FL_INV_PASSED)
			fprintf(out, " %ld checked\n", v->checked);
		else
			fprintf(out, " not checked (no data)\n");
		if (v->state != FL_INV_FAILED)
			continue;
		print_example(out, "first:", v->first_msg, v->first, evidence_max);
		if (v->count > 1)
			print_example(out, "worst:", v->worst_msg, v->worst, evidence_max);
		if (v->count > 2)
			print_example(out, "last:", v->last_msg, v->last, evidence_max);
	}
	if (json_object_size(r->stats)) {
		fprintf(out, "  looked at:");
		const char *k;
		json_t *val;
		int first = 1;
		json_object_foreach(r->stats, k, val) {
			if (json_is_real(val))
				fprintf(out, "%s %s %.3g", first ? "" : ",", k,
					json_real_value(val));
			else
				fprintf(out, "%s %s %" JSON_INTEGER_FORMAT, first ? "" : ",", k,
					json_integer_value(val));
			first = 0;
		}
		fprintf(out, "\n");
	}
}

static json_t *example_json(const char *msg, json_t *ev)
{
	return json_pack("{s:s, s:O}", "message", msg ? msg : "", "evidence",
			 ev ? ev : json_null());
}

json_t *fl_check_result_json(const struct fl_check_result *r)
{
	json_t *invs = json_object();
	for (size_t i = 0; i < r->ninv; i++) {
		const struct fl_check_invariant *v = &r->inv[i];
		json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "name", v->name, "state",
				      fl_check_inv_state_str(v->state), "checked",
				      (json_int_t)v->checked, "count", (json_int_t)v->count);
		if (v->count > 0) {
			json_object_set_new(o, "first", example_json(v->first_msg, v->first));
			json_object_set_new(o, "worst", example_json(v->worst_msg, v->worst));
			json_object_set_new(o, "last", example_json(v->last_msg, v->last));
		}
		if (v->unknown_reason)
			json_object_set_new(o, "unknown_reason", json_string(v->unknown_reason));
		json_object_set_new(invs, v->id, o);
	}
	json_t *valid = r->valid == FL_CHECK_UNKNOWN ? json_string("unknown")
						     : json_boolean(r->valid == FL_CHECK_VALID);
	json_t *o = json_pack("{s:s, s:o, s:o, s:O, s:f}", "checker", r->checker, "valid", valid,
			      "invariants", invs, "stats", r->stats, "duration_ms",
			      (double)r->duration_ns / 1e6);
	if (o && r->note)
		json_object_set_new(o, "note", json_string(r->note));
	return o;
}

int fl_check_result_report(const struct fl_check_result *r, struct fl_report_set *set,
			   struct fl_run_summary *sum)
{
	char file[96];
	snprintf(file, sizeof(file), "check.%s", r->checker);
	json_t *j = fl_check_result_json(r);
	struct fl_test_list tests = { 0 };
	int rc = j ? fl_report_check_tests(j, file, "", &tests) : FL_ENOMEM;
	json_decref(j);
	if (rc)
		goto out;
	fl_report_file_begin(set, file);
	for (size_t i = 0; i < tests.n; i++) {
		const struct fl_test_result *t = &tests.v[i];
		fl_report_test_done(set, t);
		if (t->status == FL_TEST_PASS)
			sum->passed++;
		else if (t->status == FL_TEST_FAIL)
			sum->failed++;
		else
			sum->skipped++;
	}
	fl_report_file_end(set, file);
	sum->files++;
out:
	fl_test_list_free(&tests);
	return rc;
}
