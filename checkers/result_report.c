/* Checker results as console text, JSON and JUnit XML. */
#include "checkers/result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/text.h"

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
		const char *mark = v->state == FL_INV_PASSED ? "ok  "
				   : v->state == FL_INV_FAILED ? "FAIL"
				   : v->state == FL_INV_UNKNOWN ? "??  " : "--  ";
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
				fprintf(out, "%s %s %.3g", first ? "" : ",", k, json_real_value(val));
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

/* s as XML text (attr: an attribute value); NULL writes nothing. */
static int xml_escape(struct fl_buf *b, const char *s, unsigned attr)
{
	return s ? fl_text_xml_escape(b, s, strlen(s), attr) : 0;
}

static void junit_example(struct fl_buf *b, const char *label, const char *msg, const json_t *ev)
{
	fl_buf_printf(b, "%s: ", label);
	xml_escape(b, msg, 0);
	fl_buf_puts(b, "\n");
	if (ev) {
		char *s = json_dumps(ev, JSON_INDENT(2) | JSON_SORT_KEYS);
		xml_escape(b, s, 0);
		free(s);
		fl_buf_puts(b, "\n");
	}
}

int fl_check_result_junit(const struct fl_check_result *r, struct fl_buf *b)
{
	int failures = 0, errors = 0, skipped = 0;
	for (size_t i = 0; i < r->ninv; i++) {
		failures += r->inv[i].state == FL_INV_FAILED;
		errors += r->inv[i].state == FL_INV_UNKNOWN;
		skipped += r->inv[i].state == FL_INV_NOT_CHECKED;
	}
	fl_buf_puts(b, "  <testsuite name=\"check.");
	xml_escape(b, r->checker, FL_TEXT_XML_ATTR);
	fl_buf_printf(b, "\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
			 "time=\"%.3f\">\n", r->ninv, failures, errors, skipped,
		      (double)r->duration_ns / 1e9);
	for (size_t i = 0; i < r->ninv; i++) {
		const struct fl_check_invariant *v = &r->inv[i];
		fl_buf_puts(b, "    <testcase classname=\"check.");
		xml_escape(b, r->checker, FL_TEXT_XML_ATTR);
		fl_buf_puts(b, "\" name=\"");
		xml_escape(b, v->id, FL_TEXT_XML_ATTR);
		fl_buf_puts(b, " ");
		xml_escape(b, v->name, FL_TEXT_XML_ATTR);
		fl_buf_puts(b, "\" time=\"0\"");
		if (v->state == FL_INV_PASSED) {
			fl_buf_puts(b, "/>\n");
			continue;
		}
		fl_buf_puts(b, ">\n");
		if (v->state == FL_INV_FAILED) {
			fl_buf_printf(b, "      <failure type=\"%s\" message=\"%ld violation%s: ",
				      v->id, v->count, v->count == 1 ? "" : "s");
			xml_escape(b, v->first_msg, FL_TEXT_XML_ATTR);
			fl_buf_puts(b, "\">");
			junit_example(b, "first", v->first_msg, v->first);
			if (v->count > 1)
				junit_example(b, "worst", v->worst_msg, v->worst);
			if (v->count > 2)
				junit_example(b, "last", v->last_msg, v->last);
			fl_buf_puts(b, "</failure>\n");
		} else if (v->state == FL_INV_UNKNOWN) {
			fl_buf_puts(b, "      <error type=\"unknown\" message=\"");
			xml_escape(b, v->unknown_reason, FL_TEXT_XML_ATTR);
			fl_buf_puts(b, "\"/>\n");
		} else {
			fl_buf_puts(b, "      <skipped message=\"not checked: no data in the "
				       "history\"/>\n");
		}
		if (fl_buf_puts(b, "    </testcase>\n") < 0)
			return FL_ENOMEM;
	}
	return fl_buf_puts(b, "  </testsuite>\n");
}

int fl_check_results_junit_write(struct fl_check_result *const *rs, size_t n, const char *path,
				 char *err, size_t errlen)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	int rc = fl_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fl_check_result_junit(rs[i], &b);
	if (rc == 0)
		rc = fl_buf_puts(&b, "</testsuites>\n");
	if (rc < 0) {
		fl_buf_free(&b);
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory writing JUnit");
	}
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!f) {
		rc = fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path,
				strerror(errno));
		fl_buf_free(&b);
		return rc;
	}
	if (fwrite(b.data, 1, b.len, f) != b.len)
		rc = fl_err_set(err, errlen, FL_EIO, "%s: write failed", path);
	if (f != stdout && fclose(f) != 0 && rc == 0)
		rc = fl_err_set(err, errlen, FL_EIO, "%s: close failed", path);
	else if (f == stdout)
		fflush(stdout);
	fl_buf_free(&b);
	return rc;
}
