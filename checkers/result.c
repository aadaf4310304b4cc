/* Checker results: invariants, violations with first/worst/last evidence, verdict. */
#include "checkers/result.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>


struct fl_check_result *fl_check_result_new(const char *checker)
{
	struct fl_check_result *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->checker = strdup(checker ? checker : "check");
	r->stats = json_object();
	r->valid = FL_CHECK_UNKNOWN;
	if (!r->checker || !r->stats) {
		fl_check_result_free(r);
		return NULL;
	}
	return r;
}

static void inv_clear(struct fl_check_invariant *v)
{
	free(v->name);
	free(v->first_msg);
	free(v->worst_msg);
	free(v->last_msg);
	free(v->unknown_reason);
	json_decref(v->first);
	json_decref(v->worst);
	json_decref(v->last);
}

void fl_check_result_free(struct fl_check_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ninv; i++)
		inv_clear(&r->inv[i]);
	free(r->inv);
	free(r->checker);
	free(r->note);
	json_decref(r->stats);
	free(r);
}

struct fl_check_invariant *fl_check_find(struct fl_check_result *r, const char *id)
{
	for (size_t i = 0; r && i < r->ninv; i++)
		if (strcmp(r->inv[i].id, id) == 0)
			return &r->inv[i];
	return NULL;
}

struct fl_check_invariant *fl_check_declare(struct fl_check_result *r, const char *id,
					    const char *name)
{
	struct fl_check_invariant *v = fl_check_find(r, id);
	if (v)
		return v;
	if (r->ninv == r->capinv) {
		size_t cap = r->capinv ? r->capinv * 2 : 8;
		struct fl_check_invariant *n = realloc(r->inv, cap * sizeof(*n));
		if (!n)
			return NULL;
		r->inv = n;
		r->capinv = cap;
	}
	v = &r->inv[r->ninv];
	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->name = strdup(name ? name : id);
	if (!v->name)
		return NULL;
	r->ninv++;
	return v;
}

void fl_check_pass(struct fl_check_result *r, const char *id)
{
	if (r->mute)
		return;
	struct fl_check_invariant *v = fl_check_find(r, id);
	if (!v)
		v = fl_check_declare(r, id, id);
	if (v)
		v->checked++;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

void fl_check_fail(struct fl_check_result *r, const char *id, double score, json_t *evidence,
		   const char *fmt, ...)
{
	struct fl_check_invariant *v = r->mute ? NULL : fl_check_find(r, id);
	if (!v && !r->mute)
		v = fl_check_declare(r, id, id);
	if (!v) {
		json_decref(evidence);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = vfmt(fmt, ap);
	va_end(ap);
	v->count++;
	if (v->count == 1) {
		v->first_msg = msg ? strdup(msg) : NULL;
		v->first = json_incref(evidence);
	}
	if (v->count == 1 || score > v->worst_score) {
		free(v->worst_msg);
		json_decref(v->worst);
		v->worst_msg = msg ? strdup(msg) : NULL;
		v->worst = json_incref(evidence);
		v->worst_score = score;
	}
	free(v->last_msg);
	json_decref(v->last);
	v->last_msg = msg;
	v->last = evidence;
}

void fl_check_unknown(struct fl_check_result *r, const char *id, const char *fmt, ...)
{
	if (r->mute)
		return;
	struct fl_check_invariant *v = fl_check_find(r, id);
	if (!v)
		v = fl_check_declare(r, id, id);
	if (!v || v->unknown_reason)
		return;
	va_list ap;
	va_start(ap, fmt);
	v->unknown_reason = vfmt(fmt, ap);
	va_end(ap);
}

void fl_check_stat(struct fl_check_result *r, const char *key, json_int_t value)
{
	json_object_set_new(r->stats, key, json_integer(value));
}

enum fl_check_valid fl_check_result_finish(struct fl_check_result *r)
{
	int failed = 0, unknown = 0, checked = 0;
	for (size_t i = 0; i < r->ninv; i++) {
		struct fl_check_invariant *v = &r->inv[i];
		if (v->checked < v->count)
			v->checked = v->count;
		if (v->count > 0)
			v->state = FL_INV_FAILED;
		else if (v->unknown_reason)
			v->state = FL_INV_UNKNOWN;
		else if (v->checked > 0)
			v->state = FL_INV_PASSED;
		else
			v->state = FL_INV_NOT_CHECKED;
		failed += v->state == FL_INV_FAILED;
		unknown += v->state == FL_INV_UNKNOWN;
		checked += v->state != FL_INV_NOT_CHECKED;
	}
	if (failed)
		r->valid = FL_CHECK_INVALID;
	else if (unknown || !checked) {
		r->valid = FL_CHECK_UNKNOWN;
		if (!checked && !r->note)
			r->note = strdup("nothing in the history could be checked");
	} else
		r->valid = FL_CHECK_VALID;
	return r->valid;
}

const char *fl_check_valid_str(enum fl_check_valid v)
{
	return v == FL_CHECK_VALID ? "true" : v == FL_CHECK_INVALID ? "false" : "unknown";
}

const char *fl_check_inv_state_str(enum fl_check_inv_state s)
{
	switch (s) {
	case FL_INV_PASSED: return "passed";
	case FL_INV_FAILED: return "failed";
	case FL_INV_UNKNOWN: return "unknown";
	default: return "not checked";
	}
}

int fl_check_exit_code(enum fl_check_valid v)
{
	return v == FL_CHECK_VALID ? 0 : v == FL_CHECK_INVALID ? 1 : 4;
}
