/* gateway: the external API. /api/<service>/<path> is routed to the
 * service (method, body, Idempotency-Key and traceparent kept), and
 * POST /money/aggregation/get-money-sum-by-address fans out to membership
 * and money (in batches, so any number of members is summed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "core/text.h"
#include "transfer-system/rt.h"

#define AGG_BATCH 200

static const char *const services[] = { "membership", "money", "banking", "extbank",
					"remittance", "query", NULL };

struct fwd {
	struct fl_http_req *req;
};

static void fwd_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	(void)s;
	struct fwd *f = arg;
	struct fl_http_req *r = f->req;
	free(f);
	if (res->kind == RT_CALL_REJECTED)
		rt_reply_result_error(r, 503, "CIRCUIT_OPEN", "upstream circuit open");
	else if (res->kind == RT_CALL_REFUSED)
		rt_reply_error(r, 502, "upstream unreachable: %s", res->errmsg);
	else if (res->kind == RT_CALL_UNKNOWN)
		rt_reply_error(r, 504, "upstream did not answer: %s", res->errmsg);
	else
		rt_reply_raw(r, (int)res->status, "application/json", res->body ? res->body : "",
			     res->body_len);
}

static void h_route(struct rt_svc *s, struct fl_http_req *r)
{
	const char *svc = fl_http_req_param(r, "svc");
	bool known = false;
	for (int i = 0; services[i]; i++)
		if (strcmp(services[i], svc) == 0)
			known = true;
	if (!known || !rt_peer_url(s, svc)) {
		rt_reply_error(r, 404, "no service '%s' behind this gateway", svc);
		return;
	}
	const char *uri = fl_http_req_uri(r);
	const char *q = strchr(uri, '?');
	/* the rest of the raw URI after /api/<svc> */
	const char *rest = uri + 5 + strlen(svc);
	char path[2048];
	if (strncmp(uri, "/api/", 5) == 0 && strlen(uri) > 5 + strlen(svc))
		snprintf(path, sizeof(path), "%s", rest);
	else
		snprintf(path, sizeof(path), "/%s", q ? q : "");
	size_t blen = 0;
	const char *body = fl_http_req_body(r, &blen);
	const char *hdrs[2];
	size_t nh = 0;
	char ct[256], idem[300];
	const char *v = fl_http_req_header(r, "Content-Type");
	if (v) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", v);
		hdrs[nh++] = ct;
	}
	struct fwd *f = calloc(1, sizeof(*f));
	if (!f) {
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	f->req = r;
	const char *key = fl_http_req_header(r, "Idempotency-Key");
	(void)idem;
	struct rt_call c = { .peer = svc,
			     .method = fl_http_req_method(r),
			     .path = path,
			     .body = blen ? body : NULL,
			     .body_len = blen,
			     .idem_key = key,
			     .trace_id = rt_trace_id(r),
			     .headers = hdrs,
			     .nheaders = nh,
			     .timeout_ms = s->o.reply_timeout_ms + 2000,
			     .cancel = free };
	if (rt_call(s, &c, fwd_done, f) != 0) {
		free(f);
		rt_reply_error(r, 502, "cannot reach %s", svc);
	}
}

struct agg {
	struct fl_http_req *req;
	char address[256];
	int pending;
	long long sum;
	long long members, counted;
	bool failed;
	char err[256];
};

static void agg_cancel(void *arg)
{
	struct agg *a = arg;
	if (--a->pending <= 0)
		free(a);
}

static void agg_finish(struct agg *a)
{
	if (a->failed)
		rt_reply_error(a->req, 502, "aggregation failed: %s", a->err);
	else
		rt_reply_json(a->req, 200,
			      json_pack("{s:s, s:I, s:I, s:I}", "address", a->address, "sum",
					(json_int_t)a->sum, "members", (json_int_t)a->members,
					"counted", (json_int_t)a->counted));
	free(a);
}

static void money_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	(void)s;
	struct agg *a = arg;
	json_t *m = res->kind == RT_CALL_REPLY && res->status == 200 && res->json
			    ? json_object_get(res->json, "members")
			    : NULL;
	if (!json_is_array(m)) {
		a->failed = true;
		snprintf(a->err, sizeof(a->err), "money: %s",
			 res->errmsg ? res->errmsg : "bad answer");
	} else {
		size_t i;
		json_t *x;
		json_array_foreach(m, i, x) {
			json_t *b = json_object_get(x, "balance");
			if (json_is_integer(b)) {
				a->sum += json_integer_value(b);
				a->counted++;
			}
		}
	}
	if (--a->pending == 0)
		agg_finish(a);
}

static void members_done(struct rt_svc *s, const struct rt_call_result *res, void *arg)
{
	struct agg *a = arg;
	a->pending--; /* this call */
	json_t *ids = res->kind == RT_CALL_REPLY && res->status == 200 && res->json
			      ? json_object_get(res->json, "membershipIds")
			      : NULL;
	if (!json_is_array(ids)) {
		a->failed = true;
		snprintf(a->err, sizeof(a->err), "membership: %s",
			 res->errmsg ? res->errmsg : "bad answer");
		agg_finish(a);
		return;
	}
	size_t n = json_array_size(ids);
	a->members = (long long)n;
	if (n == 0) {
		agg_finish(a);
		return;
	}
	a->pending = 1; /* held while batches start */
	for (size_t off = 0; off < n; off += AGG_BATCH) {
		json_t *batch = json_array();
		for (size_t i = off; i < n && i < off + AGG_BATCH; i++)
			json_array_append(batch, json_array_get(ids, i));
		json_t *body = json_pack("{s:o}", "membershipIds", batch);
		struct rt_call c = { .peer = "money",
				     .method = "POST",
				     .path = "/money/member-money",
				     .json = body,
				     .trace_id = rt_trace_id(a->req),
				     .cancel = agg_cancel };
		a->pending++;
		if (rt_call(s, &c, money_done, a) != 0) {
			a->pending--;
			a->failed = true;
			snprintf(a->err, sizeof(a->err), "cannot call money");
		}
		json_decref(body);
	}
	if (--a->pending == 0)
		agg_finish(a);
}

static void h_aggregate(struct rt_svc *s, struct fl_http_req *r)
{
	json_t *b = rt_body(r);
	if (!b)
		return;
	const char *addr = NULL;
	char err[256];
	if (fl_json_take_str(b, "address", true, &addr, err, sizeof(err))) {
		rt_reply_error(r, 400, "%s", err);
		return;
	}
	struct agg *a = calloc(1, sizeof(*a));
	if (!a) {
		rt_reply_error(r, 500, "out of memory");
		return;
	}
	a->req = r;
	snprintf(a->address, sizeof(a->address), "%s", addr);
	struct fl_buf path;
	fl_buf_init(&path, 1024);
	if (fl_buf_puts(&path, "/membership/address/") ||
	    fl_text_pct_encode(&path, addr, strlen(addr), FL_PCT_UNRESERVED)) {
		fl_buf_free(&path);
		free(a);
		rt_reply_error(r, 400, "address too long");
		return;
	}
	struct rt_call c = { .peer = "membership",
			     .method = "GET",
			     .path = path.data,
			     .trace_id = rt_trace_id(r),
			     .cancel = agg_cancel };
	a->pending = 1;
	if (rt_call(s, &c, members_done, a) != 0) {
		free(a);
		rt_reply_error(r, 502, "cannot call membership");
	}
	fl_buf_free(&path);
}

static int init(struct rt_svc *s, char *err, size_t errlen)
{
	if (!rt_peer_url(s, "membership") || !rt_peer_url(s, "money"))
		return fl_err_set(
			err, errlen, FL_EINVAL,
			"gateway needs at least --peer membership=URL and --peer money=URL");
	rt_route(s, "POST", "/money/aggregation/get-money-sum-by-address", h_aggregate, 0);
	rt_route(s, "*", "/api/{svc}/*", h_route, 0);
	return 0;
}

const struct rt_service_def svc_gateway = {
	.name = "gateway",
	.init = init,
};
