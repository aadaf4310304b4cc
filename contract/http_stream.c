/* HTTP/1.x on reassembled TCP streams (see capture_int.h): one http-parser
 * per direction, requests queued in order so pipelined requests pair with
 * their responses, HEAD responses without bodies, 1xx interim responses
 * skipped, keep-alive, chunked and content-length bodies handled by the
 * parser, bodies past a cap truncated. */
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/capture_int.h"
#include "core/buf.h"

#define BODY_CAP (4u << 20)
#define MAX_HEADERS 128
#define MAX_QUEUE 1024

struct msg {
	char *method;
	struct fl_buf url;
	struct fl_http_pair hdr[MAX_HEADERS];
	size_t nhdr;
	struct fl_buf field, value; /* header being read */
	int in_value;
	struct fl_buf body;
	int status;
	struct msg *next;
};

struct side {
	struct fl_http_conn *c;
	int from_client;
	http_parser p;
	struct msg *cur;
	int broken;
	int done;
	int discard; /* the request in progress was already answered (early response) */
};

struct fl_http_conn {
	struct fl_generator *g;
	char *client, *server;
	struct side side[2];	   /* [1]: from the client (requests), [0]: from the server */
	struct msg *qhead, *qtail; /* complete requests awaiting their response */
	size_t qlen;
	size_t exchanges;
	int upgraded;
};

static void msg_free(struct msg *m)
{
	if (!m)
		return;
	free(m->method);
	fl_buf_free(&m->url);
	for (size_t i = 0; i < m->nhdr; i++) {
		free((char *)m->hdr[i].name);
		free((char *)m->hdr[i].value);
	}
	fl_buf_free(&m->field);
	fl_buf_free(&m->value);
	fl_buf_free(&m->body);
	free(m);
}

static struct msg *cur(struct side *s)
{
	if (!s->cur) {
		s->cur = calloc(1, sizeof(*s->cur));
		if (s->cur)
			fl_buf_init(&s->cur->body, BODY_CAP);
	}
	return s->cur;
}

static void end_header(struct msg *m)
{
	if (!m->field.len)
		return;
	if (m->nhdr < MAX_HEADERS) {
		m->hdr[m->nhdr].name = fl_buf_take(&m->field, NULL);
		m->hdr[m->nhdr].value = fl_buf_take(&m->value, NULL);
		m->nhdr++;
	}
	fl_buf_reset(&m->field);
	fl_buf_reset(&m->value);
	m->in_value = 0;
}

static int on_begin(http_parser *p)
{
	struct side *s = p->data;
	msg_free(s->cur);
	s->cur = NULL;
	return cur(s) ? 0 : -1;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct msg *m = cur(p->data);
	return m && fl_buf_append(&m->url, at, len) == 0 ? 0 : -1;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct msg *m = cur(p->data);
	if (!m)
		return -1;
	if (m->in_value)
		end_header(m);
	return fl_buf_append(&m->field, at, len) ? -1 : 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct msg *m = cur(p->data);
	if (!m)
		return -1;
	m->in_value = 1;
	if (!m->value.data)
		fl_buf_puts(&m->value, "");
	return fl_buf_append(&m->value, at, len) ? -1 : 0;
}

static int on_headers_complete(http_parser *p)
{
	struct side *s = p->data;
	struct msg *m = cur(s);
	if (!m)
		return -1;
	end_header(m);
	if (s->from_client) {
		m->method = strdup(http_method_str((enum http_method)p->method));
		return 0;
	}
	m->status = (int)p->status_code;
	/* a response to HEAD has no body whatever its headers say */
	struct fl_http_conn *c = s->c;
	if (c->qhead && c->qhead->method && !strcmp(c->qhead->method, "HEAD"))
		return 1;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct msg *m = cur(p->data);
	if (!m)
		return -1;
	if (m->body.len + len > BODY_CAP)
		len = BODY_CAP - m->body.len; /* truncated: kept up to the cap */
	if (len)
		fl_buf_append(&m->body, at, len);
	return 0;
}

static void emit(struct fl_http_conn *c, struct msg *rq, struct msg *rs)
{
	struct fl_exchange x = {
		.consumer = c->client,
		.provider = c->server,
		.method = rq->method ? rq->method : "GET",
		.target = rq->url.data ? rq->url.data : "/",
		.req_headers = rq->hdr,
		.nreq_headers = rq->nhdr,
		.req_body = rq->body.data,
		.req_body_len = rq->body.len,
		.status = rs->status,
		.resp_headers = rs->hdr,
		.nresp_headers = rs->nhdr,
		.resp_body = rs->body.data,
		.resp_body_len = rs->body.len,
	};
	fl_generator_add_exchange(c->g, &x);
	c->exchanges++;
}

static int on_complete(http_parser *p)
{
	struct side *s = p->data;
	struct fl_http_conn *c = s->c;
	struct msg *m = s->cur;
	s->cur = NULL;
	if (!m)
		return 0;
	if (s->from_client) {
		if (s->discard) {
			s->discard = 0;
			msg_free(m);
			return 0;
		}
		if (c->qlen >= MAX_QUEUE) {
			msg_free(m);
			return 0;
		}
		if (c->qtail)
			c->qtail->next = m;
		else
			c->qhead = m;
		c->qtail = m;
		c->qlen++;
		return 0;
	}
	if (m->status >= 100 && m->status < 200 && m->status != 101) {
		msg_free(m); /* interim: 100 Continue */
		return 0;
	}
	struct msg *rq = c->qhead;
	struct side *req_side = &c->side[1];
	if (!rq && req_side->cur && req_side->cur->method) {
		/* answered before the request was fully sent (413, 401 on upload...) */
		rq = req_side->cur;
		req_side->cur = NULL;
		req_side->discard = 1;
		emit(c, rq, m);
		msg_free(rq);
		msg_free(m);
		return 0;
	}
	if (!rq) {
		fl_generator_warn(c->g, "%s -> %s: a response (%d) without a request; dropped",
				  c->client, c->server, m->status);
		msg_free(m);
		return 0;
	}
	c->qhead = rq->next;
	if (!c->qhead)
		c->qtail = NULL;
	c->qlen--;
	if (m->status == 101 || (rq->method && !strcmp(rq->method, "CONNECT")))
		c->upgraded = 1;
	else
		emit(c, rq, m);
	msg_free(rq);
	msg_free(m);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_begin,
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

struct fl_http_conn *fl_http_conn_new(struct fl_generator *g, const char *client,
				      const char *server)
{
	struct fl_http_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->g = g;
	c->client = strdup(client);
	c->server = strdup(server);
	for (int i = 0; i < 2; i++) {
		c->side[i].c = c;
		c->side[i].from_client = i;
		http_parser_init(&c->side[i].p, i ? HTTP_REQUEST : HTTP_RESPONSE);
		c->side[i].p.data = &c->side[i];
	}
	return c;
}

void fl_http_conn_data(struct fl_http_conn *c, int from_client, const char *data, size_t len)
{
	struct side *s = &c->side[from_client ? 1 : 0];
	if (s->broken || s->done || c->upgraded || !len)
		return;
	size_t n = http_parser_execute(&s->p, &settings, data, len);
	if (c->upgraded)
		return;
	if (HTTP_PARSER_ERRNO(&s->p) != HPE_OK || n != len) {
		s->broken = 1;
		fl_generator_warn(
			c->g, "%s -> %s: %s stream is not HTTP/1.x (%s); the rest of it is ignored",
			c->client, c->server, from_client ? "request" : "response",
			http_errno_description(HTTP_PARSER_ERRNO(&s->p)));
	}
}

void fl_http_conn_gap(struct fl_http_conn *c, int from_client)
{
	struct side *s = &c->side[from_client ? 1 : 0];
	if (!s->broken && !s->done) {
		fl_generator_warn(c->g,
				  "%s -> %s: bytes missing from the capture in the %s stream; "
				  "the rest of it is ignored",
				  c->client, c->server, from_client ? "request" : "response");
		s->broken = 1;
	}
}

void fl_http_conn_eof(struct fl_http_conn *c, int from_client)
{
	struct side *s = &c->side[from_client ? 1 : 0];
	if (s->broken || s->done)
		return;
	s->done = 1;
	if (!c->upgraded)
		http_parser_execute(&s->p, &settings, NULL, 0); /* ends read-until-close bodies */
}

size_t fl_http_conn_exchanges(const struct fl_http_conn *c)
{
	return c->exchanges;
}

void fl_http_conn_free(struct fl_http_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++)
		msg_free(c->side[i].cur);
	while (c->qhead) {
		struct msg *n = c->qhead->next;
		msg_free(c->qhead);
		c->qhead = n;
	}
	free(c->client);
	free(c->server);
	free(c);
}
