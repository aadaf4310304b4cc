/* Service runtime: outbound calls to peers on the service's loop, through
 * an optional circuit breaker, with W3C traceparent and Idempotency-Key. */
#include "transfer-system/rt_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

struct call_ctx {
	struct rt_svc *s;
	rt_call_fn cb;
	void *arg;
	void (*cancel)(void *arg);
	struct call_ctx *prev, *next;
	struct breaker *br;
	uint64_t epoch;
	int64_t start_ns;
	char what[160];
};

const char *rt_peer_url(struct rt_svc *s, const char *name)
{
	for (int i = 0; i < s->o.npeers; i++)
		if (strcmp(s->o.peers[i].name, name) == 0)
			return s->o.peers[i].url;
	return NULL;
}

struct breaker *rt_breaker(struct rt_svc *s, const char *peer)
{
	char name[96];
	snprintf(name, sizeof(name), "%s->%s", s->o.service, peer);
	for (int i = 0; i < s->nbreakers; i++)
		if (strcmp(breaker_name(s->breakers[i]), name) == 0)
			return s->breakers[i];
	if (s->nbreakers >= RT_MAX_BREAKERS)
		return NULL;
	struct breaker *b = breaker_new(name, &s->o.breaker, rt_breaker_event, s);
	if (b)
		s->breakers[s->nbreakers++] = b;
	return b;
}

static void call_link(struct rt_svc *s, struct call_ctx *c)
{
	c->next = s->in->calls;
	if (c->next)
		c->next->prev = c;
	s->in->calls = c;
}

static void call_unlink(struct rt_svc *s, struct call_ctx *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->in->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

void rt_calls_free(struct rt_svc *s)
{
	while (s->in->calls) {
		struct call_ctx *c = s->in->calls;
		call_unlink(s, c);
		if (c->cancel)
			c->cancel(c->arg);
		free(c);
	}
}

static void done_cb(struct fl_http_response *resp, void *arg)
{
	struct call_ctx *c = arg;
	struct rt_svc *s = c->s;
	call_unlink(s, c);
	struct rt_call_result res = { 0 };
	int64_t dur = fl_mono_ns() - c->start_ns;
	res.seconds = (double)dur / 1e9;
	bool failure;
	if (resp->err) {
		res.kind = resp->err == FL_ECONNREFUSED ? RT_CALL_REFUSED : RT_CALL_UNKNOWN;
		res.errmsg = resp->errmsg;
		failure = true;
	} else {
		res.kind = RT_CALL_REPLY;
		res.status = resp->status;
		res.json = resp->json;
		res.body = resp->body.data;
		res.body_len = resp->body.len;
		failure = resp->status >= 500;
	}
	s->in->calls_total++;
	if (failure)
		s->in->calls_failed++;
	if (c->br) {
		char detail[64];
		if (resp->err)
			snprintf(detail, sizeof(detail), "%s", fl_err_name(resp->err));
		else
			snprintf(detail, sizeof(detail), "%ld", resp->status);
		breaker_record(c->br, c->epoch, fl_mono_ns(), dur, failure, detail);
	}
	c->cb(s, &res, c->arg);
	fl_http_response_free(resp);
	free(c);
}

static void rejected_cb(struct rt_svc *s, void *arg)
{
	struct call_ctx *c = arg;
	call_unlink(s, c);
	struct rt_call_result res = { .kind = RT_CALL_REJECTED, .errmsg = "circuit breaker open" };
	c->cb(s, &res, c->arg);
	free(c);
}

int rt_call(struct rt_svc *s, const struct rt_call *rc, rt_call_fn cb, void *arg)
{
	const char *base = rt_peer_url(s, rc->peer);
	if (!base) {
		fl_log(FL_LOG_ERROR, s->o.service, "no --peer %s configured", rc->peer);
		return FL_ENOENT;
	}
	struct call_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return FL_ENOMEM;
	c->s = s;
	c->cb = cb;
	c->arg = arg;
	c->cancel = rc->cancel;
	c->br = rc->breaker;
	snprintf(c->what, sizeof(c->what), "%s %s%s", rc->method ? rc->method : "GET", rc->peer,
		 rc->path);
	if (c->br && !breaker_acquire(c->br, fl_mono_ns(), &c->epoch)) {
		if (rt_after(s, 0, rejected_cb, c) != 0) {
			free(c);
			return FL_ENOMEM;
		}
		call_link(s, c);
		return 0;
	}
	char url[1024], tp[80], idem[300];
	snprintf(url, sizeof(url), "%s%s", base, rc->path);
	char trace[33];
	if (rc->trace_id && strlen(rc->trace_id) == 32)
		snprintf(trace, sizeof(trace), "%s", rc->trace_id);
	else
		rt_new_trace_id(s, trace);
	snprintf(tp, sizeof(tp), "traceparent: 00-%s-%016llx-01", trace,
		 (unsigned long long)(fl_prng_u64(&s->rng) | 1));
	const char *hdrs[12];
	size_t nh = 0;
	hdrs[nh++] = tp;
	if (rc->idem_key) {
		snprintf(idem, sizeof(idem), "Idempotency-Key: %s", rc->idem_key);
		hdrs[nh++] = idem;
	}
	for (size_t i = 0; i < rc->nheaders && nh < 12; i++)
		hdrs[nh++] = rc->headers[i];
	struct fl_http_request req = {
		.method = rc->method ? rc->method : "GET",
		.url = url,
		.headers = hdrs,
		.nheaders = nh,
		.json = rc->json,
		.body = rc->json ? NULL : rc->body,
		.body_len = rc->json ? 0 : rc->body_len,
		.connect_timeout_ms = 1000,
		.timeout_ms = rc->timeout_ms ? rc->timeout_ms : s->o.call_timeout_ms,
	};
	c->start_ns = fl_mono_ns();
	int err = fl_http_client_start(s->client, &req, done_cb, c, NULL);
	if (!err)
		call_link(s, c);
	if (err) {
		if (c->br)
			breaker_record(c->br, c->epoch, fl_mono_ns(), 0, true, "start failed");
		free(c);
		return err;
	}
	return 0;
}
