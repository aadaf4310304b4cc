/* HTTP server helper on evhttp: listener, dispatch, and the lifetime of a
 * request (routing is in http_route.c, accessors and replies in http_req.c).
 *
 * Lifetime of a request: evhttp hands us an evhttp_request that it owns and
 * frees with its connection. We wrap it in a struct fl_http_req that the
 * handler owns until it replies or abandons. When the connection goes away
 * before that (the client closed it, or evhttp tore it down), the wrapper
 * drops its pointer to the evhttp request, keeps copies of everything the
 * accessors need, and lives on until the owner replies (the reply is dropped)
 * or abandons. Closing is noticed by a read watcher on the socket while a
 * request is pending (evhttp 2.1 stops reading then) and by the connection's
 * close callback. */
#include "core/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/addr.h"
#include "core/errors.h"
#include "core/http_server_int.h"
#include "core/tls.h"

#define FL_HTTPD_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define FL_HTTPD_DEFAULT_MAX_HEADERS ((size_t)64 << 10)
#define FL_HTTPD_DEFAULT_IDLE_S 60
#define FL_HTTPD_DEFAULT_HEAD_S 10
#define FL_HTTPD_DEFAULT_MAX_CONNS 1024

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return NULL;
}
/* --- request lifetime ------------------------------------------------- */

static void req_stop_watch(struct fl_http_req *r)
{
	if (r->watch) {
		event_free(r->watch);
		r->watch = NULL;
	}
}

/* Copy the request headers so the accessors work once ev is gone. */
static void req_snapshot_headers(struct fl_http_req *r)
{
	if (!r->ev || r->hnames)
		return;
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->ev);
	struct evkeyval *kv;
	size_t n = 0;
	TAILQ_FOREACH(kv, h, next)
	n++;
	r->hnames = calloc(n + 1, sizeof(char *));
	r->hvalues = calloc(n + 1, sizeof(char *));
	if (!r->hnames || !r->hvalues)
		return;
	TAILQ_FOREACH(kv, h, next)
	{
		r->hnames[r->nhdrs] = strdup(kv->key);
		r->hvalues[r->nhdrs] = strdup(kv->value);
		if (!r->hnames[r->nhdrs] || !r->hvalues[r->nhdrs]) {
			free(r->hnames[r->nhdrs]);
			free(r->hvalues[r->nhdrs]);
			break;
		}
		r->nhdrs++;
	}
}

/* Forget the evhttp request and its connection (both about to be freed, or
 * already answered). */
void fl_httpd_req_detach(struct fl_http_req *r)
{
	if (r->conn) {
		fl_httpd_conn_done(r->conn);
		r->conn = NULL;
	} else if (r->evcon) {
		evhttp_connection_set_closecb(r->evcon, NULL, NULL);
	}
	req_stop_watch(r);
	r->ev = NULL;
	r->evcon = NULL;
}

void fl_httpd_req_free(struct fl_http_req *r)
{
	struct fl_http_server *s = r->s;
	if (r->prev)
		r->prev->next = r->next;
	else
		s->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	s->inflight--;
	if (r->done_flag)
		*r->done_flag = true;
	req_stop_watch(r);
	if (r->notify)
		event_free(r->notify);
	free(r->uri);
	free(r->path);
	free(r->body);
	for (size_t i = 0; i < r->nparams; i++) {
		free(r->params[i].name);
		free(r->params[i].value);
	}
	free(r->params);
	for (size_t i = 0; i < r->nquery; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	free(r->query);
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->hnames[i]);
		free(r->hvalues[i]);
	}
	free(r->hnames);
	free(r->hvalues);
	json_decref(r->json);
	free(r->json_err);
	free(r);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_http_req *r = arg;
	if (r->on_close && !r->close_notified) {
		r->close_notified = true;
		r->on_close(r, r->on_close_arg);
	}
}

/* Run the on_close callback from the loop (never from inside evhttp). */
void fl_httpd_req_schedule_notify(struct fl_http_req *r)
{
	if (!r->on_close || r->close_notified)
		return;
	if (!r->notify)
		r->notify = evtimer_new(r->s->base, on_notify, r);
	if (r->notify)
		event_active(r->notify, EV_TIMEOUT, 0);
}

/* evhttp is tearing the connection down (and with it the evhttp request). */
void fl_httpd_req_conn_closed(struct fl_http_req *r)
{
	req_snapshot_headers(r);
	fl_httpd_req_detach(r);
	r->closed = true;
	fl_httpd_req_schedule_notify(r);
}

/* The close callback of an untracked connection (no fl_http_conn). */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	fl_httpd_req_conn_closed(arg);
}

/* The socket of a pending request became readable: EOF means the client left. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fl_http_req *r = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		event_add(r->watch, NULL);
		return;
	}
	if (n > 0)
		return; /* a pipelined request: leave it to evhttp */
	struct evhttp_connection *evcon = r->evcon;
	req_snapshot_headers(r);
	fl_httpd_req_detach(r);
	r->closed = true;
	if (evcon)
		evhttp_connection_free(evcon);
	if (r->on_close && !r->close_notified) {
		r->close_notified = true;
		r->on_close(r, r->on_close_arg);
	}
}

static void req_start_watch(struct fl_http_req *r)
{
	if (!r->evcon || r->watch)
		return;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(r->evcon);
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd < 0)
		return;
	r->watch = event_new(r->s->base, fd, EV_READ, on_watch, r);
	if (r->watch)
		event_add(r->watch, NULL);
}

/* --- dispatch --------------------------------------------------------- */

/* Any method token the grammar allows reaches the routes ("*" routes and
 * the contract stub take them). evhttp does not read the body of a method
 * it does not know, so such a request with a body closes its connection
 * after the reply (its body is never taken for the next request). */
#define FL_HTTPD_REQ_EXTENSION (1 << 15) /* evhttp's EVHTTP_REQ_UNKNOWN_ */

static void req_extension_method(struct fl_http_req *r)
{
	if (!r->xmethod[0]) /* an untracked connection: the token is lost */
		snprintf(r->xmethod, sizeof(r->xmethod), "UNKNOWN");
	r->method = r->xmethod;
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->ev);
	if (evhttp_find_header(h, "Content-Length") || evhttp_find_header(h, "Transfer-Encoding"))
		evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Connection", "close");
}

static void on_request(struct evhttp_request *ev, void *arg)
{
	struct fl_http_server *s = arg;
	struct fl_http_req *r = calloc(1, sizeof(*r));
	if (!r) {
		evhttp_send_error(ev, 500, NULL);
		return;
	}
	bool done = false;
	r->s = s;
	r->ev = ev;
	r->evcon = evhttp_request_get_connection(ev);
	r->method = method_name(evhttp_request_get_command(ev));
	r->next = s->pending;
	if (s->pending)
		s->pending->prev = r;
	s->pending = r;
	s->inflight++;
	r->done_flag = &done;
	if (r->evcon) {
		r->conn = fl_httpd_conn_find(s, r->evcon);
		if (r->conn)
			fl_httpd_conn_busy(r->conn, r);
		else
			evhttp_connection_set_closecb(r->evcon, on_conn_close, r);
		char *host = NULL;
		ev_uint16_t port = 0;
		evhttp_connection_get_peer(r->evcon, &host, &port);
		if (host)
			snprintf(r->peer, sizeof(r->peer), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
				 host, (unsigned)port);
	}

	if (!r->method)
		req_extension_method(r);
	const char *uri = evhttp_request_get_uri(ev);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(ev);
	const char *raw = u ? evhttp_uri_get_path(u) : NULL;
	r->uri = strdup(uri ? uri : "/");
	r->path = fl_httpd_decode(raw && *raw ? raw : "/");
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	size_t blen = in ? evbuffer_get_length(in) : 0;
	if (!r->uri || !r->path) {
		fl_http_reply_error(r, 500, "out of memory");
		return;
	}
	if (blen > s->max_body) {
		fl_http_reply_error(r, 413, "request body too large");
		return;
	}
	r->body = malloc(blen + 1);
	if (!r->body) {
		fl_http_reply_error(r, 500, "out of memory");
		return;
	}
	if (blen)
		evbuffer_remove(in, r->body, blen);
	r->body[blen] = '\0';
	r->body_len = blen;

	bool go_on = !s->filter || s->filter(r, s->filter_arg);
	if (go_on && !done)
		fl_httpd_route_request(r);
	if (!done) {
		/* kept for an asynchronous reply: watch for the client leaving */
		r->done_flag = NULL;
		req_start_watch(r);
	}
}

/* --- TLS --------------------------------------------------------------- */

/* A server-side OpenSSL bufferevent; evhttp sets its socket after accept.
 * Clients that close without a TLS close_notify are not an error. */
static struct bufferevent *tls_bev(struct event_base *base, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	struct bufferevent *bev =
		bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					       BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int fl_http_server_use_tls(struct fl_http_server *s, const struct fl_tls_server_opts *o, char *err,
			   size_t errlen)
{
	if (!s || !o)
		return fl_err_set(err, errlen, FL_EINVAL, "TLS needs a server and its options");
	SSL_CTX *ctx = fl_tls_server_ctx(o, err, errlen);
	if (!ctx)
		return FL_EINVAL;
	fl_tls_ctx_free(s->tls);
	s->tls = ctx;
	return 0;
}

bool fl_http_server_is_tls(const struct fl_http_server *s)
{
	return s && s->tls;
}

struct bufferevent *fl_httpd_new_bev(struct fl_http_server *s, struct event_base *base)
{
	return s->tls ? tls_bev(base, s->tls) : bufferevent_socket_new(base, -1, 0);
}

/* --- server ----------------------------------------------------------- */

static int listen_on(const char *addr, int *out_fd, char *err, size_t errlen)
{
	char host[256], port[16];
	struct addrinfo hints = { 0 }, *ai = NULL;
	int fd = -1, rc, one = 1, portnum;
	if (fl_addr_split(addr, host, sizeof(host), &portnum) < 0)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad listen address \"%s\" (want HOST:PORT or [V6]:PORT)", addr);
	if (!*host)
		snprintf(host, sizeof(host), "0.0.0.0");
	snprintf(port, sizeof(port), "%d", portnum);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai != 0)
		return fl_err_set(err, errlen, FL_ERESOLVE, "resolve %s: %s", addr,
				  gai_strerror(gai));
	/* a name with both families ("localhost") binds IPv4 */
	struct addrinfo *use = ai;
	for (struct addrinfo *p = ai; p; p = p->ai_next)
		if (p->ai_family == AF_INET) {
			use = p;
			break;
		}
	fd = socket(use->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = fl_err_set(err, errlen, fl_err_from_errno(errno), "socket for %s: %s", addr,
				strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, use->ai_addr, use->ai_addrlen) < 0) {
		rc = fl_err_set(err, errlen, fl_err_from_errno(errno), "bind %s: %s", addr,
				strerror(errno));
		goto out;
	}
	if (listen(fd, 4096) < 0) {
		rc = fl_err_set(err, errlen, fl_err_from_errno(errno), "listen %s: %s", addr,
				strerror(errno));
		goto out;
	}
	*out_fd = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static void fill_addr(struct fl_http_server *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		s->port = ntohs(a->sin6_port);
		snprintf(s->addr, sizeof(s->addr), "[%s]:%d", ip, s->port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		s->port = ntohs(a->sin_port);
		snprintf(s->addr, sizeof(s->addr), "%s:%d", ip, s->port);
	}
}

/* Connection limits: the options, else the defaults, with the connection
 * cap kept under half the descriptor limit (links and upstreams need the rest). */
static void server_limits(struct fl_http_server *s, const struct fl_http_server_opts *o)
{
	struct rlimit rl;
	s->max_conns = o->max_conns ? o->max_conns : FL_HTTPD_DEFAULT_MAX_CONNS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    s->max_conns > rl.rlim_cur / 2)
		s->max_conns = rl.rlim_cur / 2 > 8 ? rl.rlim_cur / 2 : 8;
	s->head_timeout_s = o->head_timeout_s > 0 ? o->head_timeout_s : FL_HTTPD_DEFAULT_HEAD_S;
	s->idle_timeout_s = o->idle_timeout_s > 0 ? o->idle_timeout_s : FL_HTTPD_DEFAULT_IDLE_S;
}

/* A peer that closes early must not kill a server with SIGPIPE. Only the
 * default disposition is replaced; a program's own handler is kept. */
static void ignore_sigpipe(void)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

struct fl_http_server *fl_http_server_new(struct event_base *base,
					  const struct fl_http_server_opts *opts, char *err,
					  size_t errlen)
{
	struct fl_http_server *s = NULL;
	int fd = -1;
	if (!base || !opts || !opts->addr) {
		fl_err_set(err, errlen, FL_EINVAL, "server needs an event base and an address");
		return NULL;
	}
	if (listen_on(opts->addr, &fd, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->base = base;
	s->routes_tail = &s->routes;
	s->max_body = opts->max_body ? opts->max_body : FL_HTTPD_DEFAULT_MAX_BODY;
	server_limits(s, opts);
	s->http = evhttp_new(base);
	if (!s->http)
		goto nomem;
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->max_body);
	s->max_headers = opts->max_headers ? opts->max_headers : FL_HTTPD_DEFAULT_MAX_HEADERS;
	evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->max_headers);
	evhttp_set_timeout(s->http, s->idle_timeout_s);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
						    FL_HTTPD_REQ_EXTENSION);
	evhttp_set_default_content_type(s->http, NULL);
	evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_bevcb(s->http, fl_httpd_conn_bev, s);
	evhttp_set_gencb(s->http, on_request, s);
	fill_addr(s, fd);
	int lfd = fd;
	fd = -1;
	if (fl_httpd_listen(s, lfd, err, errlen) < 0)
		goto fail;
	ignore_sigpipe();
	return s;
nomem:
	fl_err_set(err, errlen, FL_ENOMEM, "out of memory creating HTTP server");
fail:
	if (fd >= 0)
		close(fd);
	if (s && s->http)
		evhttp_free(s->http);
	free(s);
	return NULL;
}

void fl_http_server_set_filter(struct fl_http_server *s, fl_http_filter_fn fn, void *arg)
{
	if (!s)
		return;
	s->filter = fn;
	s->filter_arg = arg;
}

int fl_http_server_port(const struct fl_http_server *s)
{
	return s ? s->port : 0;
}

const char *fl_http_server_addr(const struct fl_http_server *s)
{
	return s ? s->addr : NULL;
}

void fl_http_server_stop_accepting(struct fl_http_server *s)
{
	if (!s || s->stopping)
		return;
	s->stopping = true;
	fl_httpd_unlisten(s);
}

size_t fl_http_server_inflight(const struct fl_http_server *s)
{
	return s ? s->inflight : 0;
}

void fl_http_server_free(struct fl_http_server *s)
{
	if (!s)
		return;
	struct fl_http_req *r;
	while ((r = s->pending)) {
		bool gone = false;
		req_snapshot_headers(r);
		fl_httpd_req_detach(r);
		r->closed = true;
		if (r->on_close && !r->close_notified) {
			r->close_notified = true;
			r->done_flag = &gone;
			r->on_close(r, r->on_close_arg);
			if (gone)
				continue;
			r->done_flag = NULL;
		}
		fl_httpd_req_free(r);
	}
	fl_httpd_unlisten(s);
	evhttp_free(s->http);
	fl_httpd_conns_forget(s);
	fl_tls_ctx_free(s->tls);
	while (s->routes) {
		struct fl_http_route *rt = s->routes;
		s->routes = rt->next;
		fl_httpd_route_free(rt);
	}
	free(s);
}
