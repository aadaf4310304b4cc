/* The control API over HTTP (core/http_server.h) on the engine's loop:
 * every request goes to fl_proxy_api_handle, except GET /metrics (text).
 * With a token, every request needs "Authorization: Bearer TOKEN".
 *
 * A request that makes or repoints links at upstream names the allowlist
 * judges by address (policy.c) waits, without blocking the loop, until
 * those names are resolved (evdns): one resolving outside the list, to the
 * agent itself, or not at all is a 403 and nothing is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/dns.h>
#include <event2/util.h>

#include "core/addr.h"
#include "core/errors.h"
#include "core/http_server.h"
#include "core/json.h"
#include "fault-injector/internal.h"

#define MAX_CHECKED_NAMES 64

/* Compare in time that depends only on the lengths (the token's length is
 * not a secret worth hiding; its bytes are). */
static bool token_equal(const char *given, const char *token)
{
	size_t n = strlen(token), m = strlen(given);
	unsigned char diff = n != m;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(token[i] ^ (i < m ? given[i] : 0));
	return diff == 0;
}

static bool auth_filter(struct fl_http_req *r, void *arg)
{
	struct fl_proxy_engine *e = arg;
	if (!e->token)
		return true;
	const char *h = fl_http_req_header(r, "Authorization");
	if (h && strncmp(h, "Bearer ", 7) == 0 && token_equal(h + 7, e->token))
		return true;
	fl_http_reply_header(r, "WWW-Authenticate", "Bearer");
	fl_http_reply_error(r, 401, "unauthorized: missing or wrong bearer token");
	return false;
}

/* Run the request through the API and reply. */
static void dispatch(struct fl_proxy_engine *e, struct fl_http_req *r)
{
	const char *method = fl_http_req_method(r);
	const char *path = fl_http_req_path(r);
	const char *uri = fl_http_req_uri(r);
	const char *q = uri ? strchr(uri, '?') : NULL;
	size_t len = 0;
	const char *body = fl_http_req_body(r, &len);
	int status;
	json_t *reply = NULL;
	fl_proxy_api_handle(e, method, path, q ? q + 1 : NULL, body, len, &status, &reply);
	fl_http_reply_json(r, status, reply);
}

/* --- upstream names resolved before links are made ---------------------- */

struct name_check;
struct name_slot {
	struct name_check *nc;
	struct evdns_getaddrinfo_request *req;
	const char *upstream; /* borrowed from nc->body */
};

struct name_check {
	struct fl_proxy_engine *e;
	struct fl_http_req *r; /* NULL once the client is gone */
	json_t *body;
	struct name_slot slot[MAX_CHECKED_NAMES];
	int n, pending;
	bool starting;
	char err[512];
};

static void check_done(struct name_check *nc)
{
	if (nc->r) {
		fl_http_req_on_close(nc->r, NULL, NULL); /* replying releases it */
		if (nc->err[0])
			fl_http_reply_error(nc->r, 403, "%s", nc->err);
		else
			dispatch(nc->e, nc->r);
	}
	json_decref(nc->body);
	free(nc);
}

/* One name resolved: every address must pass (the connection takes the
 * first, a later one may take another). */
static void check_verdict(struct name_slot *sl, int result, struct evutil_addrinfo *ai)
{
	struct name_check *nc = sl->nc;
	char why[256] = "";
	if (result || !ai) {
		snprintf(why, sizeof(why),
			 "upstream %s: cannot resolve it to check it against --allow-upstream: %s",
			 sl->upstream, evutil_gai_strerror(result));
	}
	for (struct evutil_addrinfo *a = ai; a && !why[0]; a = a->ai_next) {
		if (fl_policy_is_self(nc->e, a->ai_addr))
			snprintf(why, sizeof(why),
				 "upstream %s resolves to this agent's own API or link (a "
				 "self-loop)",
				 sl->upstream);
		else
			fl_policy_upstream_addr(nc->e, sl->upstream, a->ai_addr, why, sizeof(why));
	}
	if (why[0] && !nc->err[0])
		snprintf(nc->err, sizeof(nc->err), "%s", why);
}

static void check_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct name_slot *sl = arg;
	struct name_check *nc = sl->nc;
	sl->req = NULL;
	if (result != EVUTIL_EAI_CANCEL)
		check_verdict(sl, result, ai);
	if (ai)
		evutil_freeaddrinfo(ai);
	if (--nc->pending == 0 && !nc->starting)
		check_done(nc);
}

/* The client went away (or the server is closing): drop the request now,
 * finish when the resolutions come back. */
static void check_client_gone(struct fl_http_req *r, void *arg)
{
	struct name_check *nc = arg;
	nc->r = NULL;
	fl_http_req_abandon(r);
	for (int i = 0; i < nc->n; i++)
		if (nc->slot[i].req)
			evdns_getaddrinfo_cancel(nc->slot[i].req);
}

static void check_add(struct name_check *nc, const json_t *link)
{
	const char *up = fl_json_str(link, "upstream", NULL);
	if (!up || !fl_policy_upstream_needs_resolve(nc->e, up))
		return;
	if (nc->n == MAX_CHECKED_NAMES) {
		snprintf(nc->err, sizeof(nc->err),
			 "more than %d upstream names to check against --allow-upstream in one "
			 "request",
			 MAX_CHECKED_NAMES);
		return;
	}
	nc->slot[nc->n].nc = nc;
	nc->slot[nc->n++].upstream = up;
}

/* The upstream names of a request that makes or repoints links and that
 * need resolving; NULL when there are none (or the body is not JSON: the
 * API answers that). */
static struct name_check *check_collect(struct fl_proxy_engine *e, struct fl_http_req *r)
{
	const char *method = fl_http_req_method(r), *path = fl_http_req_path(r);
	if (!e->allow_upstream || (strcmp(method, "POST") != 0 && strcmp(method, "PATCH") != 0) ||
	    strncmp(path, "/p", 2) != 0)
		return NULL;
	bool populate = strcmp(path, "/populate") == 0;
	if (!populate && strncmp(path, "/proxies", 8) != 0)
		return NULL;
	size_t len = 0;
	const char *text = fl_http_req_body(r, &len);
	char err[128];
	json_t *body = len ? fl_json_parse(text, len, err, sizeof(err)) : NULL;
	struct name_check *nc = body ? calloc(1, sizeof(*nc)) : NULL;
	if (!nc) {
		json_decref(body);
		return NULL;
	}
	nc->e = e;
	nc->r = r;
	nc->body = body;
	json_t *arr = json_is_object(body) && populate ? json_object_get(body, "proxies") : body;
	size_t i;
	json_t *v;
	if (json_is_array(arr) && populate)
		json_array_foreach(arr, i, v)
			check_add(nc, v);
	else if (json_is_object(body) && !populate)
		check_add(nc, body);
	if (!nc->n && !nc->err[0]) {
		json_decref(body);
		free(nc);
		return NULL;
	}
	return nc;
}

static void check_start(struct name_check *nc)
{
	nc->starting = true;
	for (int i = 0; i < nc->n && !nc->err[0]; i++) {
		struct name_slot *sl = &nc->slot[i];
		char host[256], port[16];
		int p = 0;
		if (!nc->e->dns) {
			snprintf(nc->err, sizeof(nc->err),
				 "upstream %s: no resolver to check it against --allow-upstream",
				 sl->upstream);
			break;
		}
		fl_addr_split(sl->upstream, host, sizeof(host), &p);
		snprintf(port, sizeof(port), "%d", p);
		struct evutil_addrinfo hints = { .ai_family = AF_UNSPEC,
						 .ai_socktype = SOCK_STREAM };
		nc->pending++;
		/* the callback may run before this returns (then NULL) */
		struct evdns_getaddrinfo_request *q =
			evdns_getaddrinfo(nc->e->dns, host, port, &hints, check_resolved, sl);
		if (q)
			sl->req = q;
	}
	nc->starting = false;
	if (nc->err[0]) /* the verdict is in: the others come back cancelled */
		for (int i = 0; i < nc->n; i++)
			if (nc->slot[i].req)
				evdns_getaddrinfo_cancel(nc->slot[i].req);
	if (nc->pending == 0) {
		check_done(nc);
		return;
	}
	fl_http_req_on_close(nc->r, check_client_gone, nc);
}

static void handle(struct fl_http_req *r, void *arg)
{
	struct fl_proxy_engine *e = arg;
	if (e->api_hook && e->api_hook(r, e->api_hook_arg))
		return;
	const char *method = fl_http_req_method(r);
	const char *path = fl_http_req_path(r);
	if (strcmp(path, "/metrics") == 0) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			fl_http_reply_error(r, 405, "method not allowed: %s %s", method, path);
			return;
		}
		size_t len;
		char *text = fl_metrics_text(e, &len);
		if (!text) {
			fl_http_reply_error(r, 500, "out of memory");
			return;
		}
		fl_http_reply(r, 200, "text/plain; version=0.0.4", text, len);
		free(text);
		return;
	}
	struct name_check *nc = check_collect(e, r);
	if (nc)
		check_start(nc);
	else
		dispatch(e, r);
}

/* The rule is applied to the address actually bound ("127.0.0.1:8474" as
 * getsockname reports it), never to its spelling: a name such as
 * 127.attacker.test may resolve anywhere. */
static bool addr_is_loopback(const char *addr)
{
	char host[256];
	int port;
	if (!addr || fl_addr_split(addr, host, sizeof(host), &port))
		return false;
	return strcmp(host, "localhost") != 0 && fl_host_is_loopback(host);
}

int fl_proxy_api_start(struct fl_proxy_engine *e, const char *addr, const char *token, char *err,
		       size_t errlen)
{
	if (e->api)
		return fl_err_set(err, errlen, FL_ESTATE, "the control API is already running");
	struct fl_http_server_opts o = { .addr = addr, .max_body = 1 << 20 };
	e->api = fl_http_server_new(e->base, &o, err, errlen);
	if (!e->api)
		return FL_EADDRINUSE;
	e->api_loopback = addr_is_loopback(fl_http_server_addr(e->api));
	if (!e->api_loopback && (!token || !*token)) {
		int rc = fl_err_set(err, errlen, FL_EPERM,
				    "refusing to serve the control API on %s (bound to %s) without "
				    "a token (--token-file F or FAULTLINE_TOKEN); only loopback "
				    "addresses may go without one",
				    addr, fl_http_server_addr(e->api));
		fl_http_server_free(e->api);
		e->api = NULL;
		return rc;
	}
	if (token && *token && !(e->token = strdup(token))) {
		fl_http_server_free(e->api);
		e->api = NULL;
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	}
	fl_http_server_set_filter(e->api, auth_filter, e);
	if (fl_http_server_route(e->api, "*", "/*", handle, e)) {
		fl_http_server_free(e->api);
		e->api = NULL;
		return fl_err_set(err, errlen, FL_ENOMEM, "cannot add the API route");
	}
	snprintf(e->api_url, sizeof(e->api_url), "http://%s", fl_http_server_addr(e->api));
	return 0;
}

void fl_proxy_api_set_hook(struct fl_proxy_engine *e, fl_proxy_api_hook_fn fn, void *arg)
{
	e->api_hook = fn;
	e->api_hook_arg = arg;
}

char *fl_proxy_metrics_text(struct fl_proxy_engine *e, size_t *len)
{
	return fl_metrics_text(e, len);
}

int fl_proxy_api_use_tls(struct fl_proxy_engine *e, const struct fl_tls_server_opts *o, char *err,
			 size_t errlen)
{
	if (!e->api)
		return fl_err_set(err, errlen, FL_ESTATE, "the control API is not running");
	int rc = fl_http_server_use_tls(e->api, o, err, errlen);
	if (rc)
		return rc;
	snprintf(e->api_url, sizeof(e->api_url), "https://%s", fl_http_server_addr(e->api));
	return 0;
}

/* Close the API server (engine teardown). */
void fl_proxy_api_stop(struct fl_proxy_engine *e)
{
	fl_http_server_free(e->api);
	e->api = NULL;
	e->api_url[0] = 0;
}
