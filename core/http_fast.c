/* The plain-HTTP fast path of the HTTP client: http:// requests to a
 * numeric address with ordinary headers, sent by a small HTTP/1.1 client on
 * the client's libevent loop (nonblocking sockets, http-parser for the
 * response) with a pool of keep-alive connections per client. libcurl's
 * per-transfer set-up (option resets, header lists, its connection cache
 * and multi-socket bookkeeping) cost more than the request itself against a
 * fast server; this path sends what libcurl sends (request line, Host,
 * User-Agent, Accept, the caller's headers, Content-Length and the same
 * default Content-Type) and reports failures with the same FL_E* codes and
 * messages. Anything else goes to libcurl (http_client.c). */
#include "core/http_client_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"

#ifndef FL_VERSION
#define FL_VERSION "dev"
#endif

#define FL_FAST_MAX_IDLE 4096
#define FL_FAST_RX 16384
/* Connects under way at once per client; more wait for one of them (or an
 * idle connection). A burst of thousands of requests then opens
 * connections at the pace the server accepts them, as libcurl's does,
 * instead of thousands at once (which servers answer with 503 or drop). */
#define FL_FAST_MAX_CONNECTING 64

enum fconn_state { FC_CONNECTING, FC_SENDING, FC_RECEIVING, FC_IDLE };

/* One connection; owned by its transfer while busy, by the idle list when idle. */
struct fl_http_fconn {
	int fd;
	struct event *ev;
	enum fconn_state st;
	short watching; /* EV_READ or EV_WRITE currently added */
	struct sockaddr_storage addr;
	socklen_t alen;
	struct fl_http_client *c;
	struct fl_http_xfer *x;	    /* the transfer using it, NULL when idle */
	struct fl_http_fconn *next; /* idle list */
	http_parser p;
	struct fl_buf field, value; /* the header being parsed */
	bool in_value;
	bool complete; /* the response ended */
	bool headers_done;
	bool got_bytes; /* any response byte arrived */
	bool reused;
	bool counted; /* in c->nconnecting */
};

/* A fast transfer's own state (x->fast), allocated with its timer event
 * behind it (one allocation a request). */
struct fl_http_fast {
	struct fl_http_client *c;
	struct fl_http_fconn *fc;
	struct event *tmo; /* total / connect timeout, or a deferred error: in tmo_mem */
	struct fl_buf req; /* the request bytes */
	size_t sent;
	struct sockaddr_storage addr;
	socklen_t alen;
	char msghp[80]; /* host:port for messages */
	char ip[64];	/* the address as text, for the response's primary_ip */
	unsigned port;
	int64_t deadline; /* of the whole transfer (mono ns) */
	int64_t t0, t_conn, t_first;
	int pending_err; /* deferred: an errno of connect or send (from the timer) */
	char pending_msg[200];
	bool head;
	bool retried;
	bool waiting; /* on c's wait list */
	struct fl_http_xfer *wnext;
	_Alignas(max_align_t) unsigned char tmo_mem[]; /* event_get_struct_event_size() bytes */
};

static void on_conn_event(evutil_socket_t fd, short what, void *arg);
static void kick_waiters(struct fl_http_client *c);

/* --- eligibility -------------------------------------------------------- */

/* The parsed target of an eligible URL: its address, the Host: value and
 * the text of the address for messages and the response. */
struct target {
	char url[256]; /* the URL parsed (when it fits), for the memo */
	size_t urllen; /* (size_t)-1: nothing memoised */
	bool ok;       /* eligible */
	struct sockaddr_storage addr;
	socklen_t alen;
	char hostport[80]; /* for Host: */
	char msghp[80];	   /* host:port for messages */
	char ip[64];
	unsigned port;
	ptrdiff_t path_off; /* of the request target in the URL; -1: "/" */
	size_t pathlen;	    /* 0: path_off is a query ("?q"), sent as "/?q" */
};

/* Parse url into t (t->ok: eligible). */
static void parse_target(const char *url, size_t n, struct target *t)
{
	struct http_parser_url u;
	t->ok = false;
	if (strncmp(url, "http://", 7) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 127 || url[i] == '\\')
			return;
	/* curl removes dot segments; leave such paths to it */
	if (strstr(url, "/.") || strchr(url, '#') || strchr(url, '@'))
		return;
	http_parser_url_init(&u);
	if (http_parser_parse_url(url, n, 0, &u) != 0 || !(u.field_set & (1 << UF_HOST)))
		return;
	char host[64];
	size_t hl = u.field_data[UF_HOST].len;
	if (hl == 0 || hl >= sizeof(host))
		return;
	memcpy(host, url + u.field_data[UF_HOST].off, hl);
	host[hl] = '\0';
	unsigned port = 80;
	if (u.field_set & (1 << UF_PORT))
		port = u.port;
	if (port == 0)
		return;
	struct sockaddr_storage *ss = &t->addr;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		/* only the dotted-quad form curl would also read as such */
		int dots = 0;
		for (const char *h = host; *h; h++)
			dots += *h == '.';
		if (dots != 3)
			return;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		t->alen = sizeof(*a4);
		inet_ntop(AF_INET, &a4->sin_addr, t->ip, sizeof(t->ip));
		if (port == 80)
			snprintf(t->hostport, sizeof(t->hostport), "%s", host);
		else
			snprintf(t->hostport, sizeof(t->hostport), "%s:%u", host, port);
		snprintf(t->msghp, sizeof(t->msghp), "%s:%u", t->ip, port);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 && !strchr(host, '%')) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		t->alen = sizeof(*a6);
		inet_ntop(AF_INET6, &a6->sin6_addr, t->ip, sizeof(t->ip));
		if (port == 80)
			snprintf(t->hostport, sizeof(t->hostport), "[%s]", host);
		else
			snprintf(t->hostport, sizeof(t->hostport), "[%s]:%u", host, port);
		snprintf(t->msghp, sizeof(t->msghp), "[%s]:%u", t->ip, port);
	} else {
		return;
	}
	t->port = port;
	if (u.field_set & (1 << UF_PATH)) {
		t->path_off = u.field_data[UF_PATH].off;
		t->pathlen = n - u.field_data[UF_PATH].off; /* path and query, no fragment */
	} else if (u.field_set & (1 << UF_QUERY)) {
		t->path_off = u.field_data[UF_QUERY].off - 1; /* "?q": curl sends "/?q" */
		t->pathlen = 0;
	} else {
		t->path_off = -1;
		t->pathlen = 1;
	}
	t->ok = true;
}

/* The target of url, memoised per thread: a load loop sends the same URL
 * again and again, and its parse (URL parser, inet_pton, inet_ntop, the
 * Host: text) cost as much as the rest of building the request. The
 * result is valid until this thread's next call. */
static const struct target *target_of(const char *url)
{
	static _Thread_local struct target memo = { .urllen = (size_t)-1 };
	size_t n = strlen(url);
	if (n == memo.urllen && memcmp(memo.url, url, n) == 0)
		return &memo;
	parse_target(url, n, &memo);
	if (n < sizeof(memo.url)) {
		memcpy(memo.url, url, n);
		memo.urllen = n;
	} else {
		memo.urllen = (size_t)-1;
	}
	return &memo;
}

/* Headers libcurl treats specially (or that would change the framing). */
static bool header_plain(const char *h)
{
	static const char *const special[] = { "content-length:",
					       "transfer-encoding:",
					       "expect:",
					       "connection:",
					       "te:",
					       "upgrade:",
					       "proxy-" };
	const char *colon = strchr(h, ':');
	if (!colon || colon == h || strchr(h, '\r') || strchr(h, '\n'))
		return false;
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return false; /* "Name:" removes a header in libcurl */
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strncasecmp(h, special[i], strlen(special[i])) == 0)
			return false;
	for (const char *p = h; p < colon; p++)
		if (*p <= ' ' || *p == ';')
			return false;
	return true;
}

bool fl_http_fast_eligible(const struct fl_http_client *c, const struct fl_http_request *req,
			   const char *method)
{
	if (c->no_fast || req->follow_redirects)
		return false;
	if (strcmp(method, "CONNECT") == 0 || strcmp(method, "OPTIONS") == 0)
		return false;
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i] && !header_plain(req->headers[i]))
			return false;
	return target_of(req->url)->ok;
}

static bool user_has(const struct fl_http_request *req, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i] && strncasecmp(req->headers[i], name, n) == 0 &&
		    req->headers[i][n] == ':')
			return true;
	return false;
}

#define PUT_LIT(b, s) fl_buf_append((b), (s), sizeof(s) - 1)

/* The request as libcurl would send it, for the target t of r->url. Built
 * by appends (no printf: this runs once a request). */
static int build_request(struct fl_http_fast *f, const struct fl_http_request *req,
			 const struct fl_http_response *r, const struct target *t, size_t body_len)
{
	struct fl_buf *b = &f->req;
	const char *m = r->method;
	bool post_mode = r->req_body != NULL || strcmp(m, "POST") == 0;
	size_t ml = strlen(m), hpl = strlen(t->hostport);
	const char *path = t->path_off < 0 ? "/" : r->url + t->path_off;
	size_t plen = t->path_off < 0 ? 1 : strlen(path);
	size_t need = ml + plen + hpl + 160 + body_len;
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i])
			need += strlen(req->headers[i]) + 2;
	int rc = fl_buf_reserve(b, need);
	rc |= fl_buf_append(b, m, ml);
	rc |= t->pathlen ? PUT_LIT(b, " ") : PUT_LIT(b, " /"); /* "?q" goes as "/?q" */
	rc |= fl_buf_append(b, path, plen);
	rc |= PUT_LIT(b, " HTTP/1.1\r\n");
	if (!user_has(req, "Host")) {
		rc |= PUT_LIT(b, "Host: ");
		rc |= fl_buf_append(b, t->hostport, hpl);
		rc |= PUT_LIT(b, "\r\n");
	}
	if (!user_has(req, "User-Agent"))
		rc |= PUT_LIT(b, "User-Agent: faultline/" FL_VERSION "\r\n");
	if (!user_has(req, "Accept"))
		rc |= PUT_LIT(b, "Accept: */*\r\n");
	bool has_ct = user_has(req, "Content-Type");
	if (req->json && !has_ct) {
		rc |= PUT_LIT(b, "Content-Type: application/json\r\n");
		has_ct = true;
	}
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i]) {
			rc |= fl_buf_puts(b, req->headers[i]);
			rc |= PUT_LIT(b, "\r\n");
		}
	if (post_mode) {
		char num[24];
		int nl = snprintf(num, sizeof(num), "%zu", body_len);
		rc |= PUT_LIT(b, "Content-Length: ");
		rc |= fl_buf_append(b, num, (size_t)nl);
		rc |= PUT_LIT(b, "\r\n");
		if (!has_ct)
			rc |= PUT_LIT(b, "Content-Type: application/x-www-form-urlencoded\r\n");
	}
	rc |= PUT_LIT(b, "\r\n");
	if (body_len)
		rc |= fl_buf_append(b, r->req_body, body_len);
	return rc ? FL_ENOMEM : 0;
}

/* --- connections -------------------------------------------------------- */

static void conn_watch(struct fl_http_fconn *fc, short what)
{
	if (fc->watching == what)
		return;
	if (fc->watching)
		event_del(fc->ev);
	event_assign(fc->ev, event_get_base(fc->ev), fc->fd, what | EV_PERSIST, on_conn_event, fc);
	event_add(fc->ev, NULL);
	fc->watching = what;
}

static void conn_close(struct fl_http_fconn *fc)
{
	if (!fc)
		return;
	if (fc->counted)
		fc->c->nconnecting--;
	event_free(fc->ev);
	close(fc->fd);
	fl_buf_free(&fc->field);
	fl_buf_free(&fc->value);
	free(fc);
}

static void idle_remove(struct fl_http_client *c, struct fl_http_fconn *fc)
{
	for (struct fl_http_fconn **pp = &c->idle; *pp; pp = &(*pp)->next)
		if (*pp == fc) {
			*pp = fc->next;
			c->nidle--;
			return;
		}
}

void fl_http_fast_close_idle(struct fl_http_client *c)
{
	while (c->idle) {
		struct fl_http_fconn *fc = c->idle;
		c->idle = fc->next;
		conn_close(fc);
	}
	c->nidle = 0;
}

static struct fl_http_fconn *idle_take(struct fl_http_client *c, const struct fl_http_fast *f)
{
	for (struct fl_http_fconn **pp = &c->idle; *pp; pp = &(*pp)->next) {
		struct fl_http_fconn *fc = *pp;
		if (fc->alen == f->alen && memcmp(&fc->addr, &f->addr, f->alen) == 0) {
			*pp = fc->next;
			c->nidle--;
			fc->next = NULL;
			return fc;
		}
	}
	return NULL;
}

static struct fl_http_fconn *conn_open(struct fl_http_client *c, struct fl_http_fast *f, int *err)
{
	struct fl_http_fconn *fc = calloc(1, sizeof(*fc));
	if (!fc) {
		*err = ENOMEM;
		return NULL;
	}
	fc->c = c;
	fc->fd = socket(f->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fc->fd < 0) {
		*err = errno;
		free(fc);
		return NULL;
	}
	int one = 1;
	setsockopt(fc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fc->addr = f->addr;
	fc->alen = f->alen;
	fc->ev = event_new(c->base, fc->fd, EV_READ | EV_PERSIST, on_conn_event, fc);
	if (!fc->ev) {
		close(fc->fd);
		free(fc);
		*err = ENOMEM;
		return NULL;
	}
	if (connect(fc->fd, (struct sockaddr *)&f->addr, f->alen) == 0) {
		fc->st = FC_SENDING;
	} else if (errno == EINPROGRESS) {
		fc->st = FC_CONNECTING;
		fc->counted = true;
		c->nconnecting++;
	} else {
		*err = errno;
		conn_close(fc);
		return NULL;
	}
	return fc;
}

/* --- finishing ------------------------------------------------------------ */

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

/* Whether a body could be JSON at all: its first byte after blanks starts
 * a JSON value. A body that cannot be (HTML, plain text) is not handed to
 * the JSON parser, which would allocate to find that out on every request. */
static bool json_may_start(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i < n && strchr("{[\"-0123456789tfn", p[i]) != NULL;
}

/* Hand x back: connection to the idle list (keep) or closed, timer gone,
 * callback called. Nothing of x, f or fc may be touched afterwards. */
static void finish(struct fl_http_client *c, struct fl_http_xfer *x, bool keep)
{
	struct fl_http_fast *f = x->fast;
	struct fl_http_fconn *fc = f->fc;
	struct fl_http_response *r = x->rx.resp;
	int64_t now = fl_mono_ns();
	r->t_total = secs(now - f->t0);
	r->t_connect = f->t_conn ? secs(f->t_conn - f->t0) : 0;
	r->t_ttfb = f->t_first ? secs(f->t_first - f->t0) : 0;
	if (fc || f->alen) {
		memcpy(r->primary_ip, f->ip, sizeof(r->primary_ip));
		r->primary_port = f->port;
	}
	if (!r->err && r->body.len && json_may_start(r->body.data, r->body.len))
		r->json = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, NULL);
	if (fc) {
		f->fc = NULL;
		fc->x = NULL;
		if (keep && !c->dying && c->nidle < FL_FAST_MAX_IDLE) {
			fc->st = FC_IDLE;
			fc->reused = true;
			conn_watch(fc, EV_READ);
			fc->next = c->idle;
			c->idle = fc;
			c->nidle++;
		} else {
			conn_close(fc);
		}
		kick_waiters(c);
	}
	fl_http_xfer_complete(c, x);
}

static void fail(struct fl_http_client *c, struct fl_http_xfer *x, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct fl_http_client *c, struct fl_http_xfer *x, int err, const char *fmt, ...)
{
	struct fl_http_response *r = x->rx.resp;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	r->err = err;
	r->status = 0;
	finish(c, x, false);
}

/* --- sending and receiving -------------------------------------------------- */

static int on_header_field(http_parser *p, const char *at, size_t n);
static int on_header_value(http_parser *p, const char *at, size_t n);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t n);
static int on_message_complete(http_parser *p);

static const http_parser_settings settings = {
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static int commit_header(struct fl_http_fconn *fc)
{
	struct fl_http_xfer *x = fc->x;
	struct fl_http_response *r = x->rx.resp;
	if (!fc->field.len)
		return 0;
	if (r->nheaders == x->rx.hcap) {
		size_t cap = x->rx.hcap ? x->rx.hcap * 2 : 16;
		struct fl_http_header *h = realloc(r->headers, cap * sizeof(*h));
		if (!h)
			return -1;
		r->headers = h;
		x->rx.hcap = cap;
	}
	/* trailing blanks of the value (http-parser strips the leading ones) */
	size_t vl = fc->value.len;
	while (vl && (fc->value.data[vl - 1] == ' ' || fc->value.data[vl - 1] == '\t'))
		vl--;
	char *name = strndup(fc->field.data, fc->field.len);
	char *value = strndup(fc->value.len ? fc->value.data : "", vl);
	if (!name || !value) {
		free(name);
		free(value);
		return -1;
	}
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = value;
	r->nheaders++;
	fl_buf_reset(&fc->field);
	fl_buf_reset(&fc->value);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct fl_http_fconn *fc = p->data;
	if (fc->in_value) {
		if (commit_header(fc) < 0)
			return -1;
		fc->in_value = false;
	}
	return fl_buf_append(&fc->field, at, n) == 0 ? 0 : -1;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct fl_http_fconn *fc = p->data;
	fc->in_value = true;
	return fl_buf_append(&fc->value, at, n) == 0 ? 0 : -1;
}

static int on_headers_complete(http_parser *p)
{
	struct fl_http_fconn *fc = p->data;
	if (fc->in_value && commit_header(fc) < 0)
		return -1;
	fc->in_value = false;
	fc->headers_done = true;
	fc->x->rx.resp->status = p->status_code;
	return fc->x->fast->head ? 1 : 0; /* HEAD: no body follows */
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct fl_http_fconn *fc = p->data;
	int rc = fl_buf_append(&fc->x->rx.resp->body, at, n);
	if (rc == FL_E2BIG)
		fc->x->rx.too_big = true;
	return rc == 0 ? 0 : -1;
}

static int on_message_complete(http_parser *p)
{
	struct fl_http_fconn *fc = p->data;
	fc->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

/* --- the transfer's course ------------------------------------------------ */

static void arm_timer(struct fl_http_fast *f, int64_t at)
{
	int64_t d = at - fl_mono_ns();
	if (d < 0)
		d = 0;
	struct timeval tv = { (time_t)(d / 1000000000), (suseconds_t)((d % 1000000000) / 1000) };
	evtimer_add(f->tmo, &tv);
}

static void fail_connect(struct fl_http_xfer *x, int err)
{
	struct fl_http_fast *f = x->fast;
	fail(f->c, x, err == ETIMEDOUT ? FL_ETIMEDOUT : FL_ECONNREFUSED, "connect to %s failed: %s",
	     f->msghp, strerror(err));
}

static void fail_lost(struct fl_http_xfer *x, const char *detail)
{
	struct fl_http_response *r = x->rx.resp;
	fail(x->fast->c, x, FL_ECONNRESET, "%s %s: connection to %s lost: %s", r->method, r->url,
	     x->fast->msghp, detail);
}

/* Take an idle connection or open one; on an immediate failure the error is
 * deferred to the timer (no callback from inside start). */
static void attach(struct fl_http_xfer *x, bool fresh)
{
	struct fl_http_fast *f = x->fast;
	struct fl_http_client *c = f->c;
	struct fl_http_fconn *fc = fresh ? NULL : idle_take(c, f);
	int err = 0;
	if (!fc && c->nconnecting >= FL_FAST_MAX_CONNECTING) {
		f->waiting = true;
		f->wnext = NULL;
		if (c->wait_tail)
			c->wait_tail->fast->wnext = x;
		else
			c->wait_head = x;
		c->wait_tail = x;
		int64_t cdl = f->t0 + (int64_t)x->rx.connect_ms * 1000000;
		arm_timer(f, cdl < f->deadline ? cdl : f->deadline);
		return;
	}
	if (!fc) {
		fc = conn_open(f->c, f, &err);
		if (!fc) {
			f->pending_err = err;
			arm_timer(f, 0);
			return;
		}
	}
	fc->x = x;
	fc->p.data = fc;
	f->fc = fc;
	f->sent = 0;
	if (fc->st == FC_CONNECTING) {
		int64_t cdl = f->t0 + (int64_t)x->rx.connect_ms * 1000000;
		arm_timer(f, cdl < f->deadline ? cdl : f->deadline);
		conn_watch(fc, EV_WRITE);
		return;
	}
	if (!f->t_conn && !fc->reused)
		f->t_conn = fl_mono_ns();
	arm_timer(f, f->deadline);
	fc->st = FC_SENDING;
}

static void wait_remove(struct fl_http_client *c, struct fl_http_xfer *x)
{
	struct fl_http_xfer *prev = NULL;
	for (struct fl_http_xfer *w = c->wait_head; w; prev = w, w = w->fast->wnext)
		if (w == x) {
			if (prev)
				prev->fast->wnext = x->fast->wnext;
			else
				c->wait_head = x->fast->wnext;
			if (c->wait_tail == x)
				c->wait_tail = prev;
			break;
		}
	x->fast->waiting = false;
	x->fast->wnext = NULL;
}

static int push(struct fl_http_fconn *fc);

/* Start waiting transfers while connects are free or connections idle. */
static void kick_waiters(struct fl_http_client *c)
{
	while (c->wait_head && !c->dying && (c->nconnecting < FL_FAST_MAX_CONNECTING || c->idle)) {
		struct fl_http_xfer *x = c->wait_head;
		struct fl_http_fast *f = x->fast;
		wait_remove(c, x);
		attach(x, false);
		if (f->waiting)
			break; /* no idle connection for its address, connects all busy */
		if (f->fc && f->fc->st == FC_SENDING) {
			int rc = push(f->fc);
			if (rc > 1) {
				f->pending_err = rc;
				arm_timer(f, 0);
			}
		}
	}
}

/* Write what the socket takes. 0 when all is sent (now receiving), 1 when
 * waiting for room, or an errno. */
static int push(struct fl_http_fconn *fc)
{
	struct fl_http_fast *f = fc->x->fast;
	while (f->sent < f->req.len) {
		ssize_t n = send(fc->fd, f->req.data + f->sent, f->req.len - f->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_watch(fc, EV_WRITE);
				return 1;
			}
			return errno;
		}
		f->sent += (size_t)n;
	}
	http_parser_init(&fc->p, HTTP_RESPONSE);
	fc->p.data = fc;
	fc->complete = fc->headers_done = fc->got_bytes = fc->in_value = false;
	fl_buf_reset(&fc->field);
	fl_buf_reset(&fc->value);
	fc->st = FC_RECEIVING;
	conn_watch(fc, EV_READ);
	return 0;
}

/* A reused connection that failed before any answer: the server closed it
 * while idle; send again on a new one, once (as libcurl does). */
static bool retry(struct fl_http_xfer *x)
{
	struct fl_http_fast *f = x->fast;
	struct fl_http_fconn *fc = f->fc;
	if (!fc || !fc->reused || fc->got_bytes || f->retried)
		return false;
	f->retried = true;
	f->fc = NULL;
	conn_close(fc);
	attach(x, true);
	if (f->fc && f->fc->st == FC_SENDING) {
		int rc = push(f->fc);
		if (rc > 1) {
			f->pending_err = rc;
			arm_timer(f, 0);
		}
	}
	return true;
}

static void on_send_error(struct fl_http_xfer *x, int err)
{
	if (retry(x))
		return;
	char d[120];
	snprintf(d, sizeof(d), "Send failure: %s", strerror(err));
	fail_lost(x, d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_http_xfer *x = arg;
	struct fl_http_fast *f = x->fast;
	struct fl_http_response *r = x->rx.resp;
	if (f->pending_err) {
		int err = f->pending_err;
		f->pending_err = 0;
		if (!f->fc)
			fail_connect(x, err);
		else
			on_send_error(x, err);
		return;
	}
	if (!f->fc || f->fc->st == FC_CONNECTING) {
		fail(f->c, x, FL_ETIMEDOUT, "connect to %s failed: timed out after %ld ms",
		     f->msghp,
		     x->rx.connect_ms < x->rx.timeout_ms ? x->rx.connect_ms : x->rx.timeout_ms);
		return;
	}
	fail(f->c, x, FL_ETIMEDOUT,
	     "%s %s: timed out after %ld ms (Operation timed out after %ld milliseconds with %zu "
	     "bytes received)",
	     r->method, r->url, x->rx.timeout_ms, (long)((fl_mono_ns() - f->t0) / 1000000),
	     r->body.len);
}

static void on_readable(struct fl_http_fconn *fc)
{
	struct fl_http_xfer *x = fc->x;
	struct fl_http_fast *f = x->fast;
	struct fl_http_response *r = x->rx.resp;
	char buf[FL_FAST_RX];
	ssize_t n = recv(fc->fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		int err = n < 0 ? errno : 0;
		if (!fc->got_bytes) {
			if (retry(x))
				return;
			if (err) {
				char d[120];
				snprintf(d, sizeof(d), "Recv failure: %s", strerror(err));
				fail_lost(x, d);
			} else {
				fail_lost(x, "Empty reply from server");
			}
			return;
		}
		if (!err)
			http_parser_execute(&fc->p, &settings, NULL,
					    0); /* EOF ends a body read to close */
		if (fc->complete)
			finish(f->c, x, false);
		else
			fail_lost(x, "transfer closed with outstanding read data remaining");
		return;
	}
	if (!fc->got_bytes) {
		fc->got_bytes = true;
		f->t_first = fl_mono_ns();
	}
	size_t used = http_parser_execute(&fc->p, &settings, buf, (size_t)n);
	if (fc->complete) {
		bool keep = used == (size_t)n && http_should_keep_alive(&fc->p);
		finish(f->c, x, keep);
		return;
	}
	if (HTTP_PARSER_ERRNO(&fc->p) != HPE_OK) {
		if (x->rx.too_big)
			fail(f->c, x, FL_E2BIG,
			     "%s %s: response body larger than the %zu-byte limit", r->method,
			     r->url, r->body.max);
		else
			fail(f->c, x, FL_EHTTP, "%s %s: malformed response: %s", r->method, r->url,
			     http_errno_description(HTTP_PARSER_ERRNO(&fc->p)));
	}
}

static void on_conn_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct fl_http_fconn *fc = arg;
	if (fc->st == FC_IDLE) {
		/* the server closed an idle connection (or spoke out of turn) */
		idle_remove(fc->c, fc);
		conn_close(fc);
		return;
	}
	struct fl_http_xfer *x = fc->x;
	struct fl_http_fast *f = x->fast;
	if (fc->st == FC_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		fc->counted = false;
		fc->c->nconnecting--;
		kick_waiters(fc->c);
		if (err) {
			fail_connect(x, err);
			return;
		}
		f->t_conn = fl_mono_ns();
		fc->st = FC_SENDING;
		arm_timer(f, f->deadline);
	}
	if (fc->st == FC_SENDING) {
		int rc = push(fc);
		if (rc > 1)
			on_send_error(x, rc);
		return;
	}
	if (fc->st == FC_RECEIVING && (what & EV_READ))
		on_readable(fc);
}

/* --- entry points ------------------------------------------------------------- */

int fl_http_fast_start(struct fl_http_client *c, struct fl_http_xfer *x,
		       const struct fl_http_request *req, size_t body_len)
{
	struct fl_http_response *r = x->rx.resp;
	struct fl_http_fast *f = calloc(1, sizeof(*f) + event_get_struct_event_size());
	if (!f)
		return FL_ENOMEM;
	x->fast = f;
	f->c = c;
	const struct target *t = target_of(r->url); /* memoised by fl_http_fast_eligible */
	if (!t->ok)
		return FL_EINVAL;
	f->addr = t->addr;
	f->alen = t->alen;
	memcpy(f->msghp, t->msghp, sizeof(f->msghp));
	memcpy(f->ip, t->ip, sizeof(f->ip));
	f->port = t->port;
	f->head = strcmp(r->method, "HEAD") == 0;
	if (build_request(f, req, r, t, body_len) < 0)
		return FL_ENOMEM;
	f->tmo = (struct event *)f->tmo_mem;
	if (evtimer_assign(f->tmo, c->base, on_timer, x) < 0) {
		f->tmo = NULL;
		return FL_ENOMEM;
	}
	f->t0 = fl_mono_ns();
	f->deadline = f->t0 + (int64_t)x->rx.timeout_ms * 1000000;
	attach(x, false);
	if (f->fc && f->fc->st == FC_SENDING) {
		int rc = push(f->fc);
		if (rc > 1) {
			f->pending_err = rc;
			arm_timer(f, 0);
		}
	}
	return 0;
}

void fl_http_fast_abort(struct fl_http_client *c, struct fl_http_xfer *x)
{
	struct fl_http_fast *f = x->fast;
	if (!f)
		return;
	if (f->waiting)
		wait_remove(c, x);
	if (f->fc) {
		bool counted = f->fc->counted;
		f->fc->x = NULL;
		conn_close(f->fc);
		if (counted)
			kick_waiters(c);
	}
	if (f->tmo)
		event_del(f->tmo);
	fl_buf_free(&f->req);
	free(f);
	x->fast = NULL;
}
