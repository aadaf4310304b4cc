/* HTTP server requests: accessors (valid until the reply, also after the
 * client went away) and replies. */
#include "core/http_server_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/text.h"

const char *fl_httpd_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large"; /* not evhttp's: see fix_evhttp_413 (http_server.c) */
	case 414: return "URI Too Long";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return NULL;
}

const char *fl_http_req_method(const struct fl_http_req *r)
{
	return r->method;
}

const char *fl_http_req_path(const struct fl_http_req *r)
{
	return r->path;
}

const char *fl_http_req_uri(const struct fl_http_req *r)
{
	return r->uri;
}

const char *fl_http_req_param(const struct fl_http_req *r, const char *name)
{
	for (size_t i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, name) == 0)
			return r->params[i].value;
	return NULL;
}

/* Parse "a=1&b=x%20y&flag" (lenient: a key without '=' has the value "",
 * '+' is a space) into r->query. */
static void parse_query(struct fl_http_req *r)
{
	r->query_parsed = true;
	const char *q = strchr(r->uri, '?');
	if (!q)
		return;
	q++;
	size_t len = strcspn(q, "#"), max = 1;
	for (size_t i = 0; i < len; i++)
		max += q[i] == '&';
	r->query = calloc(max, sizeof(*r->query));
	if (!r->query)
		return;
	while (len) {
		size_t n = strcspn(q, "&#");
		if (n > len)
			n = len;
		const char *eq = memchr(q, '=', n);
		size_t klen = eq ? (size_t)(eq - q) : n;
		if (klen) {
			char *dk = fl_text_pct_decode(q, klen, true, NULL);
			char *dv = fl_text_pct_decode(eq ? eq + 1 : "", eq ? n - klen - 1 : 0, true,
						      NULL);
			if (dk && dv) {
				r->query[r->nquery].name = dk;
				r->query[r->nquery].value = dv;
				r->nquery++;
			} else {
				free(dk);
				free(dv);
			}
		}
		q += n;
		len -= n;
		if (len) {
			q++;
			len--;
		}
	}
}

const char *fl_http_req_query(const struct fl_http_req *r, const char *name)
{
	struct fl_http_req *w = (struct fl_http_req *)r;
	if (!w->query_parsed)
		parse_query(w);
	for (size_t i = 0; i < w->nquery; i++)
		if (strcmp(w->query[i].name, name) == 0)
			return w->query[i].value;
	return NULL;
}

const char *fl_http_req_header(const struct fl_http_req *r, const char *name)
{
	if (r->ev)
		return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
	for (size_t i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hnames[i], name) == 0)
			return r->hvalues[i];
	return NULL;
}

const char *fl_http_req_body(const struct fl_http_req *r, size_t *len)
{
	if (len)
		*len = r->body_len;
	return r->body ? r->body : "";
}

json_t *fl_http_req_json(struct fl_http_req *r, char *err, size_t errlen)
{
	if (!r->json_tried) {
		char e[200] = "";
		r->json_tried = true;
		if (!r->body_len)
			snprintf(e, sizeof(e), "empty body");
		else
			r->json = fl_json_parse(r->body, r->body_len, e, sizeof(e));
		if (!r->json)
			r->json_err = strdup(e);
	}
	if (!r->json)
		fl_err_set(err, errlen, FL_EPARSE, "%s", r->json_err ? r->json_err : "bad JSON");
	return r->json;
}

const char *fl_http_req_peer(const struct fl_http_req *r)
{
	return r->peer;
}

bool fl_http_req_closed(const struct fl_http_req *r)
{
	return r->closed;
}

void fl_http_req_set_data(struct fl_http_req *r, void *data)
{
	r->data = data;
}

void *fl_http_req_data(const struct fl_http_req *r)
{
	return r->data;
}

void fl_http_req_on_close(struct fl_http_req *r, void (*fn)(struct fl_http_req *r, void *arg),
			  void *arg)
{
	r->on_close = fn;
	r->on_close_arg = arg;
	r->close_notified = false;
	if (r->closed)
		fl_httpd_req_schedule_notify(r);
}

/* --- replies ---------------------------------------------------------- */

void fl_http_reply_header(struct fl_http_req *r, const char *name, const char *value)
{
	if (r && r->ev && name && value)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

void fl_http_reply(struct fl_http_req *r, int status, const char *content_type, const void *body,
		   size_t len)
{
	if (!r)
		return;
	struct evhttp_request *ev = r->ev;
	if (ev) {
		if (status < 100 || status > 999)
			status = 500;
		fl_httpd_req_detach(r);
		struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
		if (content_type && !evhttp_find_header(h, "Content-Type"))
			evhttp_add_header(h, "Content-Type", content_type);
		if (r->s->stopping)
			evhttp_add_header(h, "Connection", "close");
		if (len)
			evbuffer_add(evhttp_request_get_output_buffer(ev), body, len);
		evhttp_send_reply(ev, status, fl_httpd_reason(status), NULL);
	}
	fl_httpd_req_free(r);
}

void fl_http_reply_json(struct fl_http_req *r, int status, json_t *body)
{
	if (!r) {
		json_decref(body);
		return;
	}
	if (!body || !r->ev) {
		fl_http_reply(r, status, body ? "application/json" : NULL, NULL, 0);
		json_decref(body);
		return;
	}
	struct fl_buf b;
	fl_buf_init(&b, 0);
	if (fl_json_append(&b, body) < 0) {
		json_decref(body);
		fl_buf_free(&b);
		fl_http_reply_error(r, 500, "could not serialise the response");
		return;
	}
	json_decref(body);
	fl_http_reply(r, status, "application/json", b.data, b.len);
	fl_buf_free(&b);
}

void fl_http_reply_error(struct fl_http_req *r, int status, const char *fmt, ...)
{
	if (!r)
		return;
	struct fl_buf msg;
	fl_buf_init(&msg, 0);
	va_list ap;
	va_start(ap, fmt);
	int rc = fl_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	json_t *o = json_object();
	if (o) {
		json_t *m = rc == 0 && msg.data ? json_string(msg.data) : NULL;
		json_object_set_new(o, "error", m ? m : json_string("error (message not UTF-8)"));
		json_object_set_new(o, "status", json_integer(status));
	}
	fl_buf_free(&msg);
	fl_http_reply_json(r, status, o);
}

void fl_http_req_abandon(struct fl_http_req *r)
{
	if (!r)
		return;
	struct evhttp_connection *evcon = r->evcon;
	bool alive = r->ev != NULL;
	fl_httpd_req_detach(r);
	fl_httpd_req_free(r);
	if (alive && evcon)
		evhttp_connection_free(evcon);
}
