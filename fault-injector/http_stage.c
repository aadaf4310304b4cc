/* The HTTP stage: on HTTP/1.x connections, the first stage of both
 * directions. It parses requests and responses (http-parser), pairs them
 * into exchanges, applies HTTP toxics and header-controlled faults, and
 * records each exchange as an event. A request's head is held until its
 * fault is decided; a parse error or a protocol upgrade turns the
 * connection into a plain tunnel. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <http_parser.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/text.h"
#include "fault-injector/internal.h"

enum { EV_NONE, EV_HEADERS, EV_COMPLETE };
enum { M_HOLD, M_FWD, M_DROP, M_DELAY };

struct xchg {
	struct xchg *next;
	char method[16];
	struct fl_buf url;
	json_t *req_headers, *resp_headers;
	struct fl_buf req_body, resp_body;
	int64_t start, end;
	uint64_t req_bytes, resp_bytes;
	int status;
	const char *fault;
	char *fault_toxic;
	int abort_status;
	char *abort_body;
	bool aborted, drop_response, req_done, head_req, headers_done;
	bool emitted;	    /* recorded when its client gave up (fl_http_client_eof) */
	bool upstream_gone; /* the upstream had closed before the request came */
};

struct side {
	http_parser p;
	int event;
	int mode;
	bool tunnel;
	int64_t until;
	struct fl_chunkq held;
	struct fl_buf hfield, hvalue;
	bool in_value;
	json_t **headers; /* where the current message's headers go */
};

struct fl_http_state {
	struct fl_conn *c;
	struct fl_prng rng;
	struct side req, resp;
	struct xchg *head, *tail; /* exchanges in order, awaiting responses */
	size_t nx;		  /* exchanges in that list */
	bool overflow;		  /* too many pending: stop parsing once answered */
	struct xchg *cur_req, *cur_resp;
};

static const char *const methods[] = { "GET ",	   "POST ",  "PUT ",   "DELETE ", "HEAD ",
				       "OPTIONS ", "PATCH ", "TRACE ", "CONNECT " };

bool fl_http_looks_like_request(const char *p, size_t n)
{
	if (n < 3)
		return false;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t m = strlen(methods[i]);
		if (strncmp(p, methods[i], n < m ? n : m) == 0)
			return true;
	}
	return false;
}

/* --- exchanges ------------------------------------------------------------ */

static void xchg_free(struct xchg *x)
{
	if (!x)
		return;
	fl_buf_free(&x->url);
	fl_buf_free(&x->req_body);
	fl_buf_free(&x->resp_body);
	json_decref(x->req_headers);
	json_decref(x->resp_headers);
	free(x->fault_toxic);
	free(x->abort_body);
	free(x);
}

static bool utf8_ok(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	bool ok = j != NULL;
	json_decref(j);
	return ok;
}

static void put_body(json_t *ev, const char *key, struct fl_buf *b)
{
	const char *s = b->data ? b->data : "";
	if (utf8_ok(s, b->len)) {
		json_object_set_new(ev, key, json_stringn(s, b->len));
		return;
	}
	struct fl_buf o;
	fl_buf_init(&o, 0);
	fl_text_b64_encode(&o, s, b->len);
	char k[32];
	snprintf(k, sizeof(k), "%s_b64", key);
	json_object_set_new(ev, k, json_stringn(o.data ? o.data : "", o.len));
	fl_buf_free(&o);
}

/* A JSON string of n bytes; bytes that are not valid UTF-8 text (or are
 * control characters) are percent-encoded, so a mangled request line is
 * still recorded. New reference. */
static json_t *safe_str(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	struct fl_buf b;
	fl_buf_init(&b, 0);
	fl_text_pct_encode(&b, s, n, FL_PCT_PRINTABLE);
	j = json_stringn(b.data ? b.data : "", b.len);
	fl_buf_free(&b);
	return j;
}

static void xchg_emit(struct fl_http_state *h, struct xchg *x, const char *error)
{
	struct fl_link *l = h->c->link;
	const char *url = x->url.data ? x->url.data : "";
	struct http_parser_url u;
	char path[2048] = "/";
	const char *query = NULL;
	size_t qlen = 0;
	http_parser_url_init(&u);
	if (http_parser_parse_url(url, x->url.len, 0, &u) == 0) {
		if (u.field_set & (1 << UF_PATH))
			snprintf(path, sizeof(path), "%.*s", (int)u.field_data[UF_PATH].len,
				 url + u.field_data[UF_PATH].off);
		if (u.field_set & (1 << UF_QUERY)) {
			query = url + u.field_data[UF_QUERY].off;
			qlen = u.field_data[UF_QUERY].len;
		}
	} else {
		snprintf(path, sizeof(path), "%s", url);
	}
	json_t *ev = json_pack("{s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:I}", "event", "http_exchange",
			       "conn", (json_int_t)h->c->id, "method",
			       safe_str(x->method, strlen(x->method)), "path",
			       safe_str(path, strlen(path)), "start", (json_int_t)x->start, "end",
			       (json_int_t)(x->end ? x->end : fl_mono_ns()), "req_bytes",
			       (json_int_t)x->req_bytes, "resp_bytes", (json_int_t)x->resp_bytes);
	if (!ev)
		return;
	json_object_set_new(ev, "status", x->status ? json_integer(x->status) : json_null());
	json_object_set_new(ev, "fault", x->fault ? json_string(x->fault) : json_null());
	if (x->fault_toxic)
		json_object_set_new(ev, "toxic", json_string(x->fault_toxic));
	if (query)
		json_object_set_new(ev, "query", safe_str(query, qlen));
	if (error)
		json_object_set_new(ev, "error", json_string(error));
	json_object_set_new(ev, "req_headers",
			    x->req_headers ? json_incref(x->req_headers) : json_object());
	put_body(ev, "req_body", &x->req_body);
	json_object_set_new(ev, "resp_headers",
			    x->resp_headers ? json_incref(x->resp_headers) : json_object());
	put_body(ev, "resp_body", &x->resp_body);
	l->m.http_exchanges++;
	fl_events_emit(l, ev);
}

static struct xchg *xchg_pop(struct fl_http_state *h)
{
	struct xchg *x = h->head;
	if (x) {
		h->nx--;
		h->head = x->next;
		if (!h->head)
			h->tail = NULL;
		if (h->cur_req == x)
			h->cur_req = NULL;
		if (h->cur_resp == x)
			h->cur_resp = NULL;
	}
	return x;
}

/* --- parser callbacks ------------------------------------------------------ */

static struct fl_http_state *H(http_parser *p)
{
	return p->data;
}

static struct side *S(http_parser *p)
{
	struct fl_http_state *h = p->data;
	return p == &h->req.p ? &h->req : &h->resp;
}

static void header_commit(struct side *s)
{
	if (!s->hfield.len)
		return;
	for (size_t i = 0; i < s->hfield.len; i++)
		s->hfield.data[i] = (char)tolower((unsigned char)s->hfield.data[i]);
	if (*s->headers == NULL)
		*s->headers = json_object();
	const char *v = s->hvalue.data ? s->hvalue.data : "";
	json_t *old = json_object_get(*s->headers, s->hfield.data);
	if (old && json_is_string(old)) {
		struct fl_buf j;
		fl_buf_init(&j, 0);
		fl_buf_printf(&j, "%s, %s", json_string_value(old), v);
		json_object_set_new(*s->headers, s->hfield.data, safe_str(j.data, j.len));
		fl_buf_free(&j);
	} else {
		json_t *js = safe_str(v, s->hvalue.len);
		if (js)
			json_object_set_new(*s->headers, s->hfield.data, js);
	}
	fl_buf_reset(&s->hfield);
	fl_buf_reset(&s->hvalue);
	s->in_value = false;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct side *s = S(p);
	if (s->in_value)
		header_commit(s);
	fl_buf_append(&s->hfield, at, n);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct side *s = S(p);
	s->in_value = true;
	fl_buf_append(&s->hvalue, at, n);
	return 0;
}

/* Exchanges awaiting answers before the connection stops being parsed (a
 * client pipelining without reading would otherwise grow the list). */
#define MAX_PENDING 4096

static int req_begin(http_parser *p)
{
	struct fl_http_state *h = H(p);
	if (h->nx >= MAX_PENDING) {
		/* The request side becomes a tunnel now; the response side once
		 * the pending exchanges are answered (resp_begin). */
		h->overflow = true;
		return -1;
	}
	struct xchg *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	fl_buf_init(&x->url, 8192);
	fl_buf_init(&x->req_body, FL_BODY_CAP);
	fl_buf_init(&x->resp_body, FL_BODY_CAP);
	x->start = fl_mono_ns();
	/* A request on a kept-alive connection the upstream already closed
	 * never reaches it (the client resends it on a new connection). */
	x->upstream_gone = h->c->d[FL_DIR_DOWN].eof_in;
	if (h->tail)
		h->tail->next = x;
	else
		h->head = x;
	h->tail = x;
	h->nx++;
	h->cur_req = x;
	h->req.headers = &x->req_headers;
	return 0;
}

static int req_url(http_parser *p, const char *at, size_t n)
{
	struct fl_http_state *h = H(p);
	if (h->cur_req)
		fl_buf_append(&h->cur_req->url, at, n);
	return 0;
}

static int req_headers_done(http_parser *p)
{
	struct fl_http_state *h = H(p);
	header_commit(&h->req);
	if (h->cur_req) {
		snprintf(h->cur_req->method, sizeof(h->cur_req->method), "%s",
			 http_method_str((enum http_method)p->method));
		h->cur_req->head_req = p->method == HTTP_HEAD;
		h->cur_req->headers_done = true;
	}
	h->req.event = EV_HEADERS;
	http_parser_pause(p, 1);
	return 0;
}

static int req_body(http_parser *p, const char *at, size_t n)
{
	struct fl_http_state *h = H(p);
	if (h->cur_req && h->cur_req->req_body.len < FL_BODY_CAP) {
		size_t room = FL_BODY_CAP - h->cur_req->req_body.len;
		fl_buf_append(&h->cur_req->req_body, at, n < room ? n : room);
	}
	return 0;
}

static int req_complete(http_parser *p)
{
	struct fl_http_state *h = H(p);
	if (h->cur_req)
		h->cur_req->req_done = true;
	h->req.event = EV_COMPLETE;
	http_parser_pause(p, 1);
	return 0;
}

static int resp_begin(http_parser *p)
{
	struct fl_http_state *h = H(p);
	struct xchg *x = h->head;
	if (!x && h->overflow)
		return -1; /* past the pending cap: tunnel from here on */
	if (!x) {	   /* unsolicited: record it alone */
		if (req_begin(&h->req.p))
			return -1;
		x = h->head;
		h->cur_req = NULL;
		snprintf(x->method, sizeof(x->method), "-");
	}
	h->cur_resp = x;
	json_decref(x->resp_headers);
	x->resp_headers = NULL;
	h->resp.headers = &x->resp_headers;
	return 0;
}

static int resp_headers_done(http_parser *p)
{
	struct fl_http_state *h = H(p);
	header_commit(&h->resp);
	struct xchg *x = h->cur_resp;
	if (x)
		x->status = p->status_code;
	h->resp.event = EV_HEADERS;
	http_parser_pause(p, 1);
	return x && x->head_req ? 1 : 0;
}

static int resp_body(http_parser *p, const char *at, size_t n)
{
	struct fl_http_state *h = H(p);
	struct xchg *x = h->cur_resp;
	if (x && x->resp_body.len < FL_BODY_CAP) {
		size_t room = FL_BODY_CAP - x->resp_body.len;
		fl_buf_append(&x->resp_body, at, n < room ? n : room);
	}
	return 0;
}

static int resp_complete(http_parser *p)
{
	struct fl_http_state *h = H(p);
	h->resp.event = EV_COMPLETE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings req_settings = {
	.on_message_begin = req_begin,
	.on_url = req_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = req_headers_done,
	.on_body = req_body,
	.on_message_complete = req_complete,
};

static const http_parser_settings resp_settings = {
	.on_message_begin = resp_begin,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = resp_headers_done,
	.on_body = resp_body,
	.on_message_complete = resp_complete,
};

struct fl_http_state *fl_http_state_new(struct fl_conn *c)
{
	struct fl_http_state *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->c = c;
	struct fl_prng crng;
	fl_prng_fork(&c->link->e->rng, c->id, &crng);
	fl_prng_fork(&crng, 2, &h->rng);
	http_parser_init(&h->req.p, HTTP_REQUEST);
	http_parser_init(&h->resp.p, HTTP_RESPONSE);
	h->req.p.data = h->resp.p.data = h;
	h->req.mode = M_HOLD;
	h->resp.mode = M_HOLD;
	fl_buf_init(&h->req.hfield, 8192);
	fl_buf_init(&h->req.hvalue, 65536);
	fl_buf_init(&h->resp.hfield, 8192);
	fl_buf_init(&h->resp.hvalue, 65536);
	return h;
}

void fl_http_state_close(struct fl_http_state *h)
{
	if (!h)
		return;
	struct xchg *x;
	while ((x = xchg_pop(h))) {
		if ((x->req_done || x->headers_done) && !x->emitted)
			xchg_emit(h, x,
				  x->drop_response   ? NULL
				  : x->upstream_gone ? "upstream closed before the request"
						     : "connection closed before the response");
		xchg_free(x);
	}
}

/* The client closed its side (EOF) with requests unanswered: the caller
 * gave up on them (a client-side timeout). Each is recorded now, with no
 * status and the error saying so, rather than whenever the upstream
 * answers (a held request may only be forwarded later, and nobody reads
 * that answer): the wire record of a call its caller abandoned. */
void fl_http_client_eof(struct fl_http_state *h, int64_t now)
{
	if (!h)
		return;
	for (struct xchg *x = h->head; x; x = x->next) {
		if (x->emitted || x->status || !(x->req_done || x->headers_done))
			continue;
		x->end = now;
		x->emitted = true;
		xchg_emit(h, x,
			  x->upstream_gone ? "upstream closed before the request"
					   : "client closed before the response");
	}
}

void fl_http_state_free(struct fl_http_state *h)
{
	if (!h)
		return;
	struct xchg *x;
	while ((x = xchg_pop(h)))
		xchg_free(x);
	fl_chunkq_clear(&h->req.held);
	fl_chunkq_clear(&h->resp.held);
	fl_buf_free(&h->req.hfield);
	fl_buf_free(&h->req.hvalue);
	fl_buf_free(&h->resp.hfield);
	fl_buf_free(&h->resp.hvalue);
	free(h);
}

/* --- decisions -------------------------------------------------------------- */

static void wake_dir(struct fl_dir *d)
{
	if (d->timer)
		event_active(d->timer, EV_TIMEOUT, 0);
}

/* Decide the fault of the request whose head just ended. */
static void decide(struct fl_http_state *h, int64_t now)
{
	struct xchg *x = h->cur_req;
	struct fl_link *l = h->c->link;
	int64_t delay = 0;
	if (!x) {
		h->req.mode = M_FWD;
		return;
	}
	const char *path = x->url.data ? x->url.data : "/";
	char pbuf[2048];
	const char *q = strchr(path, '?');
	if (q) {
		snprintf(pbuf, sizeof(pbuf), "%.*s", (int)(q - path), path);
		path = pbuf;
	}
	bool hf = fl_policy_header_faults(l);
	const char *ha =
		hf ? json_string_value(json_object_get(x->req_headers, "x-faultline-abort")) : NULL;
	const char *hd =
		hf ? json_string_value(json_object_get(x->req_headers, "x-faultline-delay")) : NULL;
	if (ha && atoi(ha) >= 100 && atoi(ha) <= 599) {
		x->aborted = true;
		x->abort_status = atoi(ha);
		x->fault = "http_abort";
	}
	if (hd && atoi(hd) > 0) {
		delay += atoi(hd);
		if (!x->fault)
			x->fault = "http_delay";
	}
	for (struct fl_toxic *t = l->toxics; t && !x->aborted; t = t->next) {
		if (t->type->kind != FL_TK_HTTP ||
		    !fl_http_toxic_matches(t, x->method, path, x->req_headers, &h->rng))
			continue;
		t->activations++;
		free(x->fault_toxic);
		x->fault_toxic = strdup(t->name);
		if (t->type == &fl_toxic_http_abort) {
			x->aborted = true;
			x->abort_status = (int)fl_toxic_int(t, "status");
			x->abort_body = strdup(fl_toxic_str(t, "body"));
			x->fault = "http_abort";
		} else if (t->type == &fl_toxic_http_delay) {
			delay += fl_toxic_int(t, "delay");
			if (!x->fault)
				x->fault = "http_delay";
		} else if (t->type == &fl_toxic_http_drop_response) {
			x->drop_response = true;
			x->fault = "http_drop_response";
		}
	}
	if (x->fault)
		l->m.http_faults++;
	if (x->aborted) {
		h->req.mode = M_DROP;
		fl_chunkq_clear(&h->req.held);
		wake_dir(&h->c->d[FL_DIR_DOWN]);
		return;
	}
	if (delay > 0) {
		h->req.mode = M_DELAY;
		h->req.until = now + delay * 1000000;
		return;
	}
	h->req.mode = M_FWD;
}

static void release_held(struct side *sd, struct fl_chunkq *out, int64_t now)
{
	fl_chunkq_move_all(out, &sd->held, now);
}

/* Move np bytes from in according to mode. */
static int route(struct side *sd, struct fl_chunkq *in, struct fl_chunkq *out, size_t np,
		 int64_t now)
{
	switch (sd->mode) {
	case M_FWD: return fl_chunkq_split_to(out, in, np, now);
	case M_DROP: fl_chunkq_consume(in, np); return 0;
	default: return fl_chunkq_split_to(&sd->held, in, np, now);
	}
}

static void to_tunnel(struct side *sd, struct fl_chunkq *in, struct fl_chunkq *out, int64_t now)
{
	sd->tunnel = true;
	if (sd->mode != M_DROP)
		fl_chunkq_move_all(out, &sd->held, now);
	else
		fl_chunkq_clear(&sd->held);
	fl_chunkq_move_all(out, in, now);
}

static int process_req(struct fl_http_state *h, struct fl_stage *s, struct fl_chunkq *out,
		       int64_t now, int64_t *wake)
{
	struct side *sd = &h->req;
	if (sd->tunnel) {
		fl_chunkq_move_all(out, &s->in, now);
		return FL_ACT_NONE;
	}
	if (sd->mode == M_DELAY) {
		if (now < sd->until) {
			if (sd->until < *wake)
				*wake = sd->until;
			return FL_ACT_NONE;
		}
		release_held(sd, out, now);
		sd->mode = M_FWD;
	}
	while (s->in.head) {
		struct fl_chunk *k = s->in.head;
		if (k->eof) {
			if (sd->mode != M_DROP)
				release_held(sd, out, now);
			fl_chunkq_split_to(out, &s->in, 0, now);
			continue;
		}
		size_t n = k->len - k->off;
		size_t np = http_parser_execute(&sd->p, &req_settings, k->data + k->off, n);
		if (h->cur_req)
			h->cur_req->req_bytes += np;
		if (route(sd, &s->in, out, np, now))
			return FL_ACT_CLOSE;
		enum http_errno e = HTTP_PARSER_ERRNO(&sd->p);
		if (e == HPE_PAUSED) {
			http_parser_pause(&sd->p, 0);
			int ev = sd->event;
			sd->event = EV_NONE;
			if (ev == EV_HEADERS) {
				decide(h, now);
				if (sd->mode == M_FWD)
					release_held(sd, out, now);
				if (sd->mode == M_DELAY) {
					if (sd->until < *wake)
						*wake = sd->until;
					return FL_ACT_NONE;
				}
			} else if (ev == EV_COMPLETE) {
				if (sd->mode != M_DROP)
					release_held(sd, out, now);
				sd->mode = M_HOLD;
				h->cur_req = NULL;
				if (sd->p.upgrade) {
					to_tunnel(sd, &s->in, out, now);
					h->resp.tunnel =
						h->resp.tunnel || sd->p.method == HTTP_CONNECT;
				}
			}
			continue;
		}
		if (e != HPE_OK || sd->p.upgrade) {
			to_tunnel(sd, &s->in, out, now);
			return FL_ACT_NONE;
		}
		if (np == 0)
			break;
	}
	return FL_ACT_NONE;
}

static void emit_aborts(struct fl_http_state *h, struct fl_chunkq *out, int64_t now)
{
	while (h->head && h->head->aborted && h->head != h->cur_resp) {
		struct xchg *x = h->head;
		const char *body = x->abort_body ? x->abort_body : "";
		char head[512];
		const char *reason = http_status_str((enum http_status)x->abort_status);
		if (!reason || *reason == '<')
			reason = "Fault Injected";
		int n = snprintf(
			head, sizeof(head),
			"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			"x-faultline-fault: http_abort\r\n\r\n",
			x->abort_status, reason, strlen(body));
		struct fl_chunk *k = fl_chunk_new(head, (size_t)n, now);
		if (k)
			fl_chunkq_push(out, k);
		if (*body && (k = fl_chunk_new(body, strlen(body), now)))
			fl_chunkq_push(out, k);
		x->status = x->abort_status;
		x->resp_bytes = (uint64_t)n + strlen(body);
		fl_buf_append(&x->resp_body, body, strlen(body));
		x->end = now;
		xchg_pop(h);
		xchg_emit(h, x, NULL);
		xchg_free(x);
	}
}

static int resp_finish(struct fl_http_state *h, int64_t now)
{
	struct xchg *x = h->cur_resp;
	h->cur_resp = NULL;
	h->resp.mode = M_HOLD;
	if (!x)
		return FL_ACT_NONE;
	if (x->status >= 100 && x->status < 200 && x->status != 101)
		return FL_ACT_NONE; /* interim answer; the final one follows */
	x->end = now;
	bool drop = x->drop_response;
	if (x == h->head)
		xchg_pop(h);
	if (!x->emitted)
		xchg_emit(h, x, NULL);
	xchg_free(x);
	return drop ? FL_ACT_CLOSE : FL_ACT_NONE;
}

static int process_resp(struct fl_http_state *h, struct fl_stage *s, struct fl_chunkq *out,
			int64_t now)
{
	struct side *sd = &h->resp;
	if (sd->tunnel) {
		fl_chunkq_move_all(out, &s->in, now);
		return FL_ACT_NONE;
	}
	emit_aborts(h, out, now);
	while (s->in.head) {
		struct fl_chunk *k = s->in.head;
		if (k->eof) {
			/* End of a body delimited by the close. */
			http_parser_execute(&sd->p, &resp_settings, NULL, 0);
			if (HTTP_PARSER_ERRNO(&sd->p) == HPE_PAUSED) {
				http_parser_pause(&sd->p, 0);
				if (sd->event == EV_COMPLETE && resp_finish(h, now))
					return FL_ACT_CLOSE;
				sd->event = EV_NONE;
			}
			if (sd->mode != M_DROP)
				release_held(sd, out, now);
			fl_chunkq_split_to(out, &s->in, 0, now);
			continue;
		}
		size_t n = k->len - k->off;
		size_t np = http_parser_execute(&sd->p, &resp_settings, k->data + k->off, n);
		if (h->cur_resp)
			h->cur_resp->resp_bytes += np;
		if (route(sd, &s->in, out, np, now))
			return FL_ACT_CLOSE;
		enum http_errno e = HTTP_PARSER_ERRNO(&sd->p);
		if (e == HPE_PAUSED) {
			http_parser_pause(&sd->p, 0);
			int ev = sd->event;
			sd->event = EV_NONE;
			if (ev == EV_HEADERS) {
				if (h->cur_resp && h->cur_resp->drop_response) {
					sd->mode = M_DROP;
					fl_chunkq_clear(&sd->held);
				} else {
					sd->mode = M_FWD;
					release_held(sd, out, now);
				}
			} else if (ev == EV_COMPLETE) {
				bool upgrade = h->cur_resp && h->cur_resp->status == 101;
				if (resp_finish(h, now))
					return FL_ACT_CLOSE;
				if (upgrade) {
					to_tunnel(sd, &s->in, out, now);
					h->req.tunnel = true;
					return FL_ACT_NONE;
				}
				emit_aborts(h, out, now);
			}
			continue;
		}
		if (e != HPE_OK) {
			to_tunnel(sd, &s->in, out, now);
			return FL_ACT_NONE;
		}
		if (np == 0)
			break;
	}
	return FL_ACT_NONE;
}

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	struct fl_http_state *h = s->dir->c->http;
	if (!h) {
		fl_chunkq_move_all(out, &s->in, now);
		return FL_ACT_NONE;
	}
	if (s->dir->idx == FL_DIR_UP)
		return process_req(h, s, out, now, wake);
	return process_resp(h, s, out, now);
}

const struct fl_toxic_type fl_http_stage_type = {
	.name = "http",
	.kind = FL_TK_STREAM,
	.process = process,
};
