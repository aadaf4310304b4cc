/* Connections of the HTTP server: the listener (accept errors pause it
 * instead of spinning), the connection cap with eviction of the oldest
 * connection that has no request being handled, the absolute deadline for a
 * request, the keep-alive idle timeout, and JSON in place of evhttp's HTML
 * error pages. Limits and defaults: core/http_server.h.
 *
 * evhttp (libevent 2.1) has no hook for a new connection, so each one is
 * tracked from the bufferevent evhttp asks us for (fl_httpd_conn_bev); a
 * timer made active at once finishes the setup from the loop, when evhttp
 * has attached the socket and its evhttp_connection (the bufferevent's
 * callback argument), and installs the connection's close callback. The
 * request code (http_server.c) reports a request received in full
 * (fl_httpd_conn_busy) and answered (fl_httpd_conn_done). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "core/errors.h"
#include "core/http_server_int.h"
#include "core/log.h"

#define RESUME_FIRST_MS 100
#define RESUME_MAX_MS 1000

enum conn_state {
	CONN_NEW,  /* accepted, setup pending */
	CONN_HEAD, /* waiting for a request (its deadline runs) */
	CONN_BUSY, /* a request is with its handler */
	CONN_IDLE, /* keep-alive, between requests */
};

struct fl_http_conn {
	struct fl_http_server *s;
	struct fl_http_conn *prev, *next;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *in_cb, *out_cb;
	struct event *timer;	 /* setup, then the head deadline / idle timeout */
	struct fl_http_req *req; /* the request with its handler, if any */
	enum conn_state state;
	size_t rx;	  /* bytes of the next request received so far */
	char method[33];  /* the request's method token as sent */
	bool want_method; /* its token is not complete yet (conn_method) */
	/* the request head as it streams in (head_scan): where its first line
	 * and the head end, and whether the body is chunked, to tell evhttp's
	 * 400s and 413s apart */
	bool scanning, line1_done, head_done, chunked;
	uint32_t last4;
	size_t head_len, line1_len;
	char line[64];
	size_t ll;
};

/* --- listener ---------------------------------------------------------- */

/* evhttp makes itself the listener's callback argument, so the accept-error
 * callback finds its server here. */
struct lev_entry {
	struct evconnlistener *lev;
	struct fl_http_server *s;
	struct lev_entry *next;
};
static struct lev_entry *levs;
static pthread_mutex_t levs_mu = PTHREAD_MUTEX_INITIALIZER;

static struct fl_http_server *lev_server(struct evconnlistener *lev)
{
	struct fl_http_server *s = NULL;
	pthread_mutex_lock(&levs_mu);
	for (struct lev_entry *e = levs; e; e = e->next)
		if (e->lev == lev) {
			s = e->s;
			break;
		}
	pthread_mutex_unlock(&levs_mu);
	return s;
}

static void lev_forget(struct evconnlistener *lev)
{
	pthread_mutex_lock(&levs_mu);
	for (struct lev_entry **p = &levs; *p; p = &(*p)->next)
		if ((*p)->lev == lev) {
			struct lev_entry *e = *p;
			*p = e->next;
			free(e);
			break;
		}
	pthread_mutex_unlock(&levs_mu);
}

static bool conn_evict_one(struct fl_http_server *s, const struct fl_http_conn *except);

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_http_server *s = arg;
	if (s->lev)
		evconnlistener_enable(s->lev);
}

/* accept() failed with something other than EAGAIN/EINTR/ECONNABORTED:
 * out of descriptors or memory. Pause, free a descriptor, resume later. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	(void)arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct fl_http_server *s = lev_server(lev);
	evconnlistener_disable(lev);
	if (!s)
		return;
	if (s->accept_pauses++ % 100 == 0)
		fl_log(FL_LOG_WARN, "http", "%s: accept: %s; pausing accepts (%lu pauses so far)",
		       s->addr, strerror(e), s->accept_pauses);
	conn_evict_one(s, NULL);
	s->resume_ms = s->resume_ms ? s->resume_ms * 2 : RESUME_FIRST_MS;
	if (s->resume_ms > RESUME_MAX_MS)
		s->resume_ms = RESUME_MAX_MS;
	struct timeval tv = { s->resume_ms / 1000, (s->resume_ms % 1000) * 1000 };
	if (s->resume_ev)
		evtimer_add(s->resume_ev, &tv);
}

int fl_httpd_listen(struct fl_http_server *s, int fd, char *err, size_t errlen)
{
	struct lev_entry *e = calloc(1, sizeof(*e));
	s->resume_ev = evtimer_new(s->base, on_resume, s);
	s->lev = evconnlistener_new(s->base, NULL, NULL,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!s->lev)
		close(fd);
	if (!e || !s->resume_ev || !s->lev)
		goto nomem;
	evconnlistener_set_error_cb(s->lev, on_accept_error);
	e->lev = s->lev;
	e->s = s;
	pthread_mutex_lock(&levs_mu);
	e->next = levs;
	levs = e;
	pthread_mutex_unlock(&levs_mu);
	s->bound = evhttp_bind_listener(s->http, s->lev);
	if (!s->bound) {
		fl_httpd_unlisten(s);
		return fl_err_set(err, errlen, FL_ENOMEM, "listen %s: evhttp refused the socket",
				  s->addr);
	}
	return 0;
nomem:
	free(e);
	if (s->lev)
		evconnlistener_free(s->lev);
	s->lev = NULL;
	if (s->resume_ev)
		event_free(s->resume_ev);
	s->resume_ev = NULL;
	return fl_err_set(err, errlen, FL_ENOMEM, "out of memory listening on %s", s->addr);
}

void fl_httpd_unlisten(struct fl_http_server *s)
{
	if (s->lev) {
		lev_forget(s->lev);
		if (s->bound)
			evhttp_del_accept_socket(s->http, s->bound); /* frees the listener */
		else
			evconnlistener_free(s->lev);
	}
	s->lev = NULL;
	s->bound = NULL;
	if (s->resume_ev)
		event_free(s->resume_ev);
	s->resume_ev = NULL;
}

/* --- evhttp's error pages as JSON -------------------------------------- */

static const char *error_message(int status)
{
	switch (status) {
	case 400: return "malformed HTTP request";
	case 408: return "request not received in time";
	case 413: return "request body too large";
	case 414: return "request URI too long";
	case 431: return "request headers too large";
	case 501: return "method not implemented";
	case 503: return "server busy";
	}
	return "request refused";
}

/* evhttp writes its own errors (malformed request line, header block over
 * the limit, TRACE, a body over the limit) as HTML pages. The output buffer
 * of every connection has this callback, which replaces such a page, once
 * evhttp has written all of it, with the JSON error. Responses queued
 * before it are kept. Our own replies never end in evhttp's HTML. */
/* The last n bytes of buf into out; false when buf is shorter or has too
 * many chains to look at cheaply (error pages are small). */
static bool buf_tail(struct evbuffer *buf, char *out, size_t n)
{
	struct evbuffer_iovec v[32];
	int k = evbuffer_peek(buf, -1, NULL, NULL, 0);
	if (k <= 0 || k > 32 || evbuffer_peek(buf, -1, NULL, v, k) != k)
		return false;
	size_t need = n;
	for (int i = k - 1; i >= 0 && need; i--) {
		size_t take = v[i].iov_len < need ? v[i].iov_len : need;
		memcpy(out + need - take, (char *)v[i].iov_base + v[i].iov_len - take, take);
		need -= take;
	}
	return need == 0;
}

/* Was the head of the request being read over the header cap? evhttp
 * answers 400 for a header block (or request line) over its cap as for a
 * malformed one, and 413 for some of them; the head scan tells them apart:
 * a request line over the cap is 414, a header block over it 431. */
static int refine_head(const struct fl_http_conn *c, int status, const char **msg)
{
	if (!c || !c->scanning)
		return status;
	if ((c->line1_done ? c->line1_len : c->head_len) > c->s->max_headers) {
		*msg = error_message(414);
		return 414;
	}
	if (c->line1_done && c->head_len - c->line1_len > c->s->max_headers) {
		*msg = error_message(431);
		return 431;
	}
	return status;
}

/* evhttp answers 413 for a body over the cap, but also for a header block
 * over its cap and for a malformed chunk size or trailer. */
static int refine_413(const struct fl_http_conn *c, const char **msg)
{
	if (!c || !c->scanning)
		return 413;
	if (!c->head_done) {
		*msg = error_message(431);
		return 431;
	}
	if (c->chunked && c->rx - c->head_len <= c->s->max_body) {
		*msg = "malformed chunked body";
		return 400;
	}
	return 413;
}

static void rewrite_errors(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	static const char title[] = "<HTML><HEAD>\n<TITLE>";
	static const char tail[] = "</BODY></HTML>\n";
	const struct fl_http_conn *c = arg;
	if (!info->n_added)
		return;
	size_t len = evbuffer_get_length(buf);
	char end[sizeof(tail)];
	if (len < sizeof(title) + sizeof(tail) + 16 || len > 65536 ||
	    !buf_tail(buf, end, sizeof(tail) - 1) || memcmp(end, tail, sizeof(tail) - 1) != 0)
		return;
	const char *all = (const char *)evbuffer_pullup(buf, -1);
	if (!all)
		return;
	const char *t = memmem(all, len, title, sizeof(title) - 1);
	if (!t)
		return;
	/* the status line of that response: the last "HTTP/1." before the page */
	const char *start = NULL;
	for (const char *h = all; (h = memmem(h, (size_t)(t - h), "HTTP/1.", 7)); h++)
		start = h;
	int status = atoi(t + sizeof(title) - 1);
	if (!start || status < 400 || status > 599)
		return;
	size_t keep = (size_t)(start - all);
	struct evbuffer *kept = evbuffer_new();
	if (!kept)
		return;
	evbuffer_remove_buffer(buf, kept, keep);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	evbuffer_add_buffer(buf, kept);
	evbuffer_free(kept);
	const char *msg = error_message(status);
	if (status == 413)
		status = refine_413(c, &msg);
	else if (status == 400)
		status = refine_head(c, status, &msg);
	const char *phrase = fl_httpd_reason(status);
	char json[128];
	int n = snprintf(json, sizeof(json), "{\"error\":\"%s\",\"status\":%d}", msg, status);
	evbuffer_add_printf(buf,
			    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			    "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			    status, phrase ? phrase : "Error", n, json);
}

/* --- connections ------------------------------------------------------- */

static void conn_arm(struct fl_http_conn *c, int seconds)
{
	struct timeval tv = { seconds, 0 };
	evtimer_add(c->timer, &tv);
}

static void conn_unlink(struct fl_http_conn *c)
{
	struct fl_http_server *s = c->s;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->conns_tail = c->prev;
	s->nconns--;
	if (c->bev) {
		if (c->in_cb)
			evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
		if (c->out_cb)
			evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	}
	event_free(c->timer);
	free(c);
}

/* evhttp is freeing the connection. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	struct fl_http_conn *c = arg;
	struct fl_http_req *r = c->req;
	if (r) {
		c->req = NULL;
		r->conn = NULL;
		fl_httpd_req_conn_closed(r);
	}
	conn_unlink(c);
}

/* Best effort: a short JSON error straight to the socket before closing. */
static void conn_say(struct fl_http_conn *c, int status, const char *reason)
{
	char msg[256];
	char body[96];
	int bn = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"status\":%d}",
			  error_message(status), status);
	int n = snprintf(msg, sizeof(msg),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
			 "%d\r\n"
			 "Connection: close\r\n\r\n%s",
			 status, reason, bn, body);
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (c->s->tls)
		return; /* plaintext would corrupt the TLS stream: just close */
	if (fd >= 0 && n > 0)
		(void)!send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void conn_close(struct fl_http_conn *c)
{
	evhttp_connection_free(c->evcon); /* conn_closed frees c */
}

/* Close the oldest connection with no request being handled and no reply
 * still being written. False when there is none. */
static bool conn_evict_one(struct fl_http_server *s, const struct fl_http_conn *except)
{
	for (struct fl_http_conn *c = s->conns; c; c = c->next) {
		if (c == except || !c->evcon || (c->state != CONN_HEAD && c->state != CONN_IDLE))
			continue;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)))
			continue;
		s->evicted++;
		if (c->state == CONN_HEAD && c->rx)
			conn_say(c, 503, "Service Unavailable");
		conn_close(c);
		return true;
	}
	return false;
}

static void conn_setup(struct fl_http_conn *c)
{
	struct fl_http_server *s = c->s;
	void *cbarg = NULL;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	c->evcon = cbarg;
	if (!c->evcon) {
		c->bev = NULL; /* not ours to touch */
		conn_unlink(c);
		return;
	}
	evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	c->state = CONN_HEAD;
	conn_arm(c, s->head_timeout_s < s->idle_timeout_s ? s->head_timeout_s : s->idle_timeout_s);
	s->resume_ms = 0;
	if (s->nconns > s->max_conns && !conn_evict_one(s, c)) {
		s->refused++;
		conn_say(c, 503, "Service Unavailable");
		conn_close(c);
	}
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_http_conn *c = arg;
	if (c->state == CONN_NEW) {
		conn_setup(c);
		return;
	}
	if (c->state == CONN_BUSY)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev))) {
		conn_arm(c, c->s->idle_timeout_s); /* a reply is still being written */
		return;
	}
	if (c->state == CONN_HEAD && c->rx)
		conn_say(c, 408, "Request Timeout");
	conn_close(c);
}

static bool is_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The first bytes of a request, at the start of the input buffer: keep
 * its method token (evhttp 2.1 keeps only an enum, UNKNOWN for extension
 * methods), and write a known method sent in another case ("post") in
 * upper case so that evhttp parses it: methods are case-sensitive tokens,
 * but Pact compares them ignoring case. Runs until the token is complete
 * (evhttp cannot have read a request line that is not). */
static void conn_method(struct fl_http_conn *c, struct evbuffer *buf)
{
	static const char *const known[] = { "GET",    "POST",	  "HEAD", "PUT",
					     "DELETE", "OPTIONS", "PATCH" };
	size_t len = evbuffer_get_length(buf);
	unsigned char *p = evbuffer_pullup(buf, len < 33 ? (ev_ssize_t)len : 33);
	size_t n = 0;
	c->method[0] = '\0';
	if (!p)
		return;
	while (n < len && n < 32 && is_tchar(p[n]))
		n++;
	if (n == len && n < 32)
		return; /* more to come */
	c->want_method = false;
	if (n == 0 || n >= len || p[n] != ' ')
		return;
	memcpy(c->method, p, n);
	c->method[n] = '\0';
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && !strncasecmp(known[i], (char *)p, n)) {
			memcpy(p, known[i], n);
			break;
		}
}

/* One header line seen (lower-cased prefix): a chunked body? */
static void head_line(struct fl_http_conn *c)
{
	static const char te[] = "transfer-encoding:";
	c->line[c->ll] = '\0';
	if (!strncmp(c->line, te, sizeof(te) - 1) && strstr(c->line, "chunked"))
		c->chunked = true;
	c->ll = 0;
}

static void head_byte(struct fl_http_conn *c, unsigned char ch)
{
	c->head_len++;
	c->last4 = (c->last4 << 8) | ch;
	if (c->last4 == 0x0d0a0d0aU) {
		c->head_done = true;
		return;
	}
	if (ch == '\n' && !c->line1_done) {
		c->line1_done = true;
		c->line1_len = c->head_len;
		c->ll = 0;
	} else if (ch == '\n') {
		head_line(c);
	} else if (ch != '\r' && c->ll + 1 < sizeof(c->line)) {
		c->line[c->ll++] = (char)tolower(ch);
	}
}

/* Follow the head in the n newest bytes of buf until its blank line. */
static void head_scan(struct fl_http_conn *c, struct evbuffer *buf, size_t n)
{
	struct evbuffer_iovec v[32];
	struct evbuffer_ptr at;
	size_t len = evbuffer_get_length(buf);
	if (n > len)
		n = len;
	int k = -1;
	if (evbuffer_ptr_set(buf, &at, len - n, EVBUFFER_PTR_SET) == 0)
		k = evbuffer_peek(buf, (ev_ssize_t)n, &at, NULL, 0);
	if (k <= 0 || k > 32 || evbuffer_peek(buf, (ev_ssize_t)n, &at, v, k) != k) {
		c->scanning = false; /* give up: evhttp's answer stays as it is */
		return;
	}
	for (int i = 0; i < k && !c->head_done && n; i++) {
		const unsigned char *p = v[i].iov_base;
		size_t m = v[i].iov_len < n ? v[i].iov_len : n;
		for (size_t j = 0; j < m && !c->head_done; j++)
			head_byte(c, p[j]);
		n -= m;
	}
}

/* A new request starts at the beginning of the input buffer (the
 * connection is new, or evhttp has taken the whole previous request). */
static void conn_next_request(struct fl_http_conn *c)
{
	c->scanning = true;
	c->line1_done = c->head_done = c->chunked = false;
	c->last4 = 0;
	c->head_len = c->line1_len = c->ll = 0;
	c->rx = 0;
	c->method[0] = '\0';
	c->want_method = true;
}

/* n new bytes at the end of buf, all of them part of the next request. */
static void conn_feed(struct fl_http_conn *c, struct evbuffer *buf, size_t n)
{
	if (c->want_method)
		conn_method(c, buf);
	if (c->scanning && !c->head_done)
		head_scan(c, buf, n);
	c->rx += n;
}

/* Bytes arrived: the first byte after a reply starts the next deadline. */
static void conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct fl_http_conn *c = arg;
	if (!info->n_added)
		return;
	conn_feed(c, buf, info->n_added);
	if (c->state == CONN_IDLE) {
		c->state = CONN_HEAD;
		conn_arm(c, c->s->head_timeout_s);
	}
}

struct bufferevent *fl_httpd_conn_bev(struct event_base *base, void *arg)
{
	struct fl_http_server *s = arg;
	struct bufferevent *bev = fl_httpd_new_bev(s, base);
	if (!bev)
		return NULL;
	struct fl_http_conn *c = calloc(1, sizeof(*c));
	if (c)
		c->timer = evtimer_new(base, conn_timer, c);
	if (!c || !c->timer) {
		free(c);
		evbuffer_add_cb(bufferevent_get_output(bev), rewrite_errors, NULL);
		return bev; /* untracked, but served */
	}
	c->s = s;
	c->bev = bev;
	c->state = CONN_NEW;
	conn_next_request(c);
	c->prev = s->conns_tail;
	if (s->conns_tail)
		s->conns_tail->next = c;
	else
		s->conns = c;
	s->conns_tail = c;
	s->nconns++;
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), rewrite_errors, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input, c);
	event_active(c->timer, EV_TIMEOUT, 0);
	return bev;
}

struct fl_http_conn *fl_httpd_conn_find(struct fl_http_server *s, struct evhttp_connection *evcon)
{
	for (struct fl_http_conn *c = s->conns_tail; c; c = c->prev)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

/* The request is with its handler: evhttp has taken all of it from the
 * input, so what is there now (pipelined) is the start of the next one.
 * evhttp reads no more until the reply has gone, and parses that next
 * request line only then, so its method can still be recovered here. */
void fl_httpd_conn_busy(struct fl_http_conn *c, struct fl_http_req *r)
{
	snprintf(r->xmethod, sizeof(r->xmethod), "%s", c->method);
	c->req = r;
	c->state = CONN_BUSY;
	evtimer_del(c->timer);
	conn_next_request(c);
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t n = evbuffer_get_length(in);
	if (n)
		conn_feed(c, in, n);
}

void fl_httpd_conn_done(struct fl_http_conn *c)
{
	c->req = NULL;
	/* a pipelined request already under way keeps its head deadline */
	c->state = c->rx ? CONN_HEAD : CONN_IDLE;
	conn_arm(c, c->rx ? c->s->head_timeout_s : c->s->idle_timeout_s);
}

void fl_httpd_conns_forget(struct fl_http_server *s)
{
	while (s->conns) {
		s->conns->bev = NULL;
		conn_unlink(s->conns);
	}
}
