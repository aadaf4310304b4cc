/* The control API over HTTP (core/http_server.h) on the engine's loop:
 * every request goes to fl_proxy_api_handle, except GET /metrics (text).
 * With a token, every request needs "Authorization: Bearer TOKEN". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/errors.h"
#include "core/http_server.h"
#include "fault-injector/internal.h"

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
	const char *uri = fl_http_req_uri(r);
	const char *q = uri ? strchr(uri, '?') : NULL;
	size_t len = 0;
	const char *body = fl_http_req_body(r, &len);
	int status;
	json_t *reply = NULL;
	fl_proxy_api_handle(e, method, path, q ? q + 1 : NULL, body, len, &status, &reply);
	fl_http_reply_json(r, status, reply);
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
