/* C8, the breaker's claims against the wire: each success or failure the
 * breaker recorded, against the answer the proxy saw for the same call on
 * the breaker's link, classified as the breaker documents (by default 5xx
 * and transport errors are failures, everything else a success). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/breaker_int.h"
#include "core/json.h"

#define MS 1000000LL

/* An exchange that started while call k was running: a caller's request
 * reaches the proxy after the call started and before the caller gave up
 * (0.2 ms of slack for when the two readings were taken, never the whole
 * tolerance: back-to-back calls of one saga would then share exchanges). */
#define SLACK (MS / 5)
static bool inside(const struct fl_chk_call *k, const struct fl_chk_exchange *x)
{
	return x->start >= k->start - SLACK && x->start <= k->end;
}

bool fl_breaker_exchange_unsent(struct fl_chk_history *h, const struct fl_chk_exchange *x)
{
	return x->error >= 0 &&
	       !strcmp(fl_chk_str(h, x->error), "upstream closed before the request");
}

/* No answer reached the caller: none came, or the proxy dropped it. */
static bool unanswered(struct fl_chk_history *h, const struct fl_chk_exchange *x)
{
	return x->status == 0 || x->error >= 0 ||
	       (x->fault >= 0 && !strcmp(fl_chk_str(h, x->fault), "http_drop_response"));
}

bool fl_breaker_exchange_superseded(struct fl_chk_history *h, size_t i, int64_t tol)
{
	const struct fl_chk_exchange *p = &h->exchanges[i];
	if (!unanswered(h, p) || fl_breaker_exchange_unsent(h, p))
		return false;
	for (size_t j = i + 1; j < h->n_exchanges && j < i + 256; j++) {
		const struct fl_chk_exchange *x = &h->exchanges[j];
		if (x->start > p->end + tol)
			break;
		if (x->link == p->link && x->method == p->method && x->path == p->path &&
		    x->start >= p->end)
			return true;
	}
	return false;
}

static bool is_call(const struct fl_chk_call *k, int32_t bid)
{
	return (bid < 0 || k->breaker == bid) &&
	       (k->outcome == FL_CALL_SUCCESS || k->outcome == FL_CALL_FAILURE ||
		k->outcome == FL_CALL_SLOW);
}

/* What the wire says the caller saw: 1 failure, 0 success, -1 the wire
 * cannot tell. A failure: no answer, the answer dropped by the proxy, or an
 * exchange still running after the caller gave up (a timeout); else the
 * status, when the caller finished right after the answer left the proxy
 * (a latency toxic delays the answer's bytes after the exchange is recorded:
 * then the caller may have timed out on a 200, and the wire cannot tell). */
static int wire_says(struct fl_chk_history *h, const struct fl_breaker_config *c,
		     const struct fl_chk_call *k, const struct fl_chk_exchange *x, int64_t tol)
{
	const char *fault = x->fault >= 0 ? fl_chk_str(h, x->fault) : NULL;
	bool dropped = fault && !strcmp(fault, "http_drop_response");
	if (x->status == 0 || x->error >= 0 || dropped || x->end > k->end + tol)
		return c->transport_error_is_failure;
	if (k->end > x->end + tol)
		return -1;
	return x->status >= c->failure_status_min;
}

/* A fault on the link below HTTP (latency, reset, slicer, ...) acts on the
 * bytes after the proxy recorded the exchange: while one is active between
 * the exchange's start and the call's end, the record is not what the caller
 * saw. The proxy's HTTP faults (http_abort, http_delay, http_drop_response)
 * are in the exchange itself. */
static bool http_fault(const char *what)
{
	return !strcmp(what, "http_abort") || !strcmp(what, "http_delay") ||
	       !strcmp(what, "http_drop_response");
}

static bool same_fault(const struct fl_chk_fault *f, const struct fl_chk_fault *g)
{
	return f->id >= 0 ? g->id == f->id : g->what == f->what;
}

static bool byte_fault_during(struct fl_chk_history *h, int32_t link, int64_t a, int64_t b)
{
	for (size_t i = 0; i < h->n_faults; i++) {
		const struct fl_chk_fault *f = &h->faults[i];
		const char *what = f->what >= 0 ? fl_chk_str(h, f->what) : "";
		if (f->target != link || http_fault(what))
			continue;
		if (!f->added) {
			/* removed with no earlier add in the history: it was on
			 * from the beginning */
			bool had_add = false;
			for (size_t j = 0; j < i && !had_add; j++)
				had_add = h->faults[j].added && h->faults[j].target == link &&
					  same_fault(f, &h->faults[j]);
			if (!had_add && f->t >= a)
				return true;
			continue;
		}
		if (f->t > b)
			continue;
		int64_t until = INT64_MAX;
		for (size_t j = 0; j < h->n_faults; j++) {
			const struct fl_chk_fault *g = &h->faults[j];
			if (!g->added && g->target == link && g->t >= f->t && same_fault(f, g) &&
			    g->t < until)
				until = g->t;
		}
		if (until >= a)
			return true;
	}
	return false;
}

void fl_breaker_check_wire(struct fl_chk_history *h, const struct fl_breaker_config *c, int32_t bid,
			   int32_t link, struct fl_check_result *r)
{
	int64_t tol = c->tolerance_ms * MS;
	if (link < 0)
		return;
	for (size_t i = 0; i < h->n_calls; i++) {
		const struct fl_chk_call *k = &h->calls[i];
		if (!is_call(k, bid) || k->start < c->since)
			continue;
		/* exactly one exchange inside this call, and inside no other call:
		 * then it is this call's own (anything else is ambiguous) */
		const struct fl_chk_exchange *x = NULL;
		size_t nx = 0;
		for (size_t j = 0; j < h->n_exchanges && nx < 2; j++)
			if (h->exchanges[j].link == link && inside(k, &h->exchanges[j]) &&
			    !fl_breaker_exchange_unsent(h, &h->exchanges[j]) &&
			    !fl_breaker_exchange_superseded(h, j, tol)) {
				x = &h->exchanges[j];
				nx++;
			}
		if (nx != 1)
			continue;
		size_t owners = 0;
		for (size_t j = 0; j < h->n_calls && owners < 2; j++)
			if (is_call(&h->calls[j], bid) && inside(&h->calls[j], x))
				owners++;
		if (owners != 1)
			continue;
		if (byte_fault_during(h, link, x->start - tol, k->end + tol))
			continue;
		int says = wire_says(h, c, k, x, tol);
		if (says < 0)
			continue;
		bool wire_fail = says == 1;
		bool said_fail = k->outcome == FL_CALL_FAILURE;
		fl_check_pass(r, "C8");
		if (wire_fail == said_fail)
			continue;
		const char *err = x->error >= 0 ? fl_chk_str(h, x->error) : NULL;
		char wire[96];
		if (x->fault >= 0 && !strcmp(fl_chk_str(h, x->fault), "http_drop_response"))
			snprintf(wire, sizeof(wire), "the answer dropped by the proxy");
		else if (x->status && x->end <= k->end + tol)
			snprintf(wire, sizeof(wire), "HTTP %d", x->status);
		else if (x->status)
			snprintf(wire, sizeof(wire), "HTTP %d after the caller gave up", x->status);
		else
			snprintf(wire, sizeof(wire), "%s", err ? err : "no answer");
		fl_check_fail(r, "C8", 1,
			      json_pack("{s:I, s:s, s:I, s:I, s:I, s:i, s:s?, s:I, s:s, s:i, s:b}",
					"call_line", (json_int_t)k->line, "recorded",
					said_fail ? "failure" : "success", "call_start",
					(json_int_t)k->start, "call_end", (json_int_t)k->end,
					"exchange_line", (json_int_t)x->line, "status", x->status,
					"error", err, "exchange_end", (json_int_t)x->end, "wire",
					wire, "failure_status_min", c->failure_status_min,
					"transport_error_is_failure",
					c->transport_error_is_failure),
			      "breaker recorded a %s (line %ld) but the wire shows %s (line %ld): "
			      "a %s by its classification",
			      said_fail ? "failure" : "success", k->line, wire, x->line,
			      wire_fail ? "failure" : "success");
	}
}
