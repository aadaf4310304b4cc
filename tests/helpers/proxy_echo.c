/* proxy_echo: an upstream for the fault-injector tests and benches.
 *
 *   proxy_echo [--http] [--listen 127.0.0.1:0]
 *
 * Prints the bound port on the first line of stdout, then serves until
 * SIGTERM/SIGINT. TCP mode echoes every byte back. HTTP mode answers every
 * request: "/status/N" -> status N, "/slow/MS" -> answer after MS ms,
 * "/big/N" -> N bytes of body, anything else -> 200 with the request body
 * echoed; each answer carries "x-echo-path" and "x-echo-method". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "core/addr.h"
#include "core/errors.h"
#include "fault-injector/internal.h"

static void echo_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void echo_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void echo_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			int sl, void *arg)
{
	(void)l;
	(void)sa;
	(void)sl;
	struct event_base *b = arg;
	struct bufferevent *bev = bufferevent_socket_new(b, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_setwatermark(bev, EV_READ, 0, 1 << 20);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct slow {
	struct evhttp_request *req;
	struct event *ev;
};

static void reply(struct evhttp_request *req, int status, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "x-echo-path", evhttp_request_get_uri(req));
	const char *m = "OTHER";
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: m = "GET"; break;
	case EVHTTP_REQ_POST: m = "POST"; break;
	case EVHTTP_REQ_PUT: m = "PUT"; break;
	case EVHTTP_REQ_DELETE: m = "DELETE"; break;
	case EVHTTP_REQ_HEAD: m = "HEAD"; break;
	case EVHTTP_REQ_PATCH: m = "PATCH"; break;
	default: break;
	}
	evhttp_add_header(h, "x-echo-method", m);
	evhttp_add_header(h, "Content-Type", "text/plain");
	evhttp_send_reply(req, status, "OK", body);
}

static void slow_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct slow *s = arg;
	reply(s->req, 200, NULL);
	event_free(s->ev);
	free(s);
}

static void http_cb(struct evhttp_request *req, void *arg)
{
	struct event_base *b = arg;
	const char *uri = evhttp_request_get_uri(req);
	if (strncmp(uri, "/status/", 8) == 0) {
		reply(req, atoi(uri + 8), evhttp_request_get_input_buffer(req));
		return;
	}
	if (strncmp(uri, "/slow/", 6) == 0) {
		struct slow *s = calloc(1, sizeof(*s));
		int ms = atoi(uri + 6);
		s->req = req;
		s->ev = evtimer_new(b, slow_cb, s);
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		evtimer_add(s->ev, &tv);
		return;
	}
	if (strncmp(uri, "/big/", 5) == 0) {
		long n = atol(uri + 5);
		struct evbuffer *o = evbuffer_new();
		char blk[4096];
		memset(blk, 'x', sizeof(blk));
		for (long i = 0; i < n; i += (long)sizeof(blk))
			evbuffer_add(o, blk, (size_t)(n - i < (long)sizeof(blk) ? n - i : (long)sizeof(blk)));
		reply(req, 200, o);
		evbuffer_free(o);
		return;
	}
	reply(req, 200, evhttp_request_get_input_buffer(req));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:0";
	int http = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--http") == 0)
			http = 1;
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else {
			fprintf(stderr, "usage: proxy_echo [--http] [--listen ADDR]\n");
			return 2;
		}
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	char host[256];
	int port;
	if (fl_addr_split(listen, host, sizeof(host), &port)) {
		fprintf(stderr, "proxy_echo: bad address %s\n", listen);
		return 2;
	}
	struct event_base *b = event_base_new();
	struct event *s1 = evsignal_new(b, SIGTERM, on_signal, b);
	struct event *s2 = evsignal_new(b, SIGINT, on_signal, b);
	evsignal_add(s1, NULL);
	evsignal_add(s2, NULL);
	struct evhttp *h = NULL;
	struct evconnlistener *l = NULL;
	if (http) {
		h = evhttp_new(b);
		evhttp_set_gencb(h, http_cb, b);
		evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						      EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
						      EVHTTP_REQ_PATCH);
		struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h, host, (ev_uint16_t)port);
		if (!bs) {
			fprintf(stderr, "proxy_echo: cannot bind %s\n", listen);
			return 3;
		}
		struct sockaddr_storage ss;
		ev_socklen_t sl = sizeof(ss);
		getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		evutil_inet_pton(AF_INET, host, &a.sin_addr);
		l = evconnlistener_new_bind(b, echo_accept, b,
					    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
					    (struct sockaddr *)&a, sizeof(a));
		if (!l) {
			fprintf(stderr, "proxy_echo: cannot bind %s\n", listen);
			return 3;
		}
		struct sockaddr_storage ss;
		ev_socklen_t sl = sizeof(ss);
		getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	printf("%d\n", port);
	fflush(stdout);
	event_base_dispatch(b);
	if (h)
		evhttp_free(h);
	if (l)
		evconnlistener_free(l);
	event_free(s1);
	event_free(s2);
	event_base_free(b);
	return 0;
}
