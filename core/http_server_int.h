/* Private to core/http_server.c, core/http_route.c and core/http_req.c:
 * the server, route and request structures and the request lifetime calls
 * they share. Not part of the core API. */
#ifndef FL_CORE_HTTP_SERVER_INT_H
#define FL_CORE_HTTP_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/http_server.h"

struct fl_http_route {
	struct fl_http_route *next;
	char *method; /* "GET", ... or "*" */
	char **segs;  /* pattern segments; "{name}" captures */
	size_t nsegs;
	bool rest; /* the pattern ends with "*" */
	fl_http_handler_fn fn;
	void *arg;
};

struct fl_http_param {
	char *name;
	char *value;
};

struct fl_http_conn;

struct fl_http_req {
	struct fl_http_server *s;
	struct fl_http_conn *conn; /* its tracked connection, or NULL */
	struct evhttp_request *ev; /* NULL once the connection is gone */
	struct evhttp_connection *evcon;
	struct fl_http_req *prev, *next; /* the server's pending list */
	const char *method;
	char xmethod[33]; /* the method token as sent (http_conn.c) */
	char *uri;
	char *path;
	char *body;
	size_t body_len;
	struct fl_http_param *params;
	size_t nparams;
	struct fl_http_param *query; /* decoded, parsed on first use */
	size_t nquery;
	bool query_parsed;
	char **hnames, **hvalues; /* header copies once ev is gone */
	size_t nhdrs;
	json_t *json;
	char *json_err;
	bool json_tried;
	char peer[80];
	bool closed;
	bool close_notified;
	bool *done_flag;      /* set to true when released */
	struct event *watch;  /* client-close watcher while pending */
	struct event *notify; /* deferred on_close call */
	void (*on_close)(struct fl_http_req *r, void *arg);
	void *on_close_arg;
	void *data;
};

struct fl_http_server {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct fl_http_route *routes, **routes_tail;
	fl_http_filter_fn filter;
	void *filter_arg;
	struct fl_http_req *pending;
	size_t inflight;
	size_t max_body, max_headers;
	bool stopping;
	int port;
	char addr[96];
	/* connections (http_conn.c) */
	struct evconnlistener *lev;
	struct event *resume_ev; /* re-enables accepting after EMFILE */
	int resume_ms;
	struct fl_http_conn *conns, *conns_tail; /* in accept order */
	size_t nconns, max_conns;
	int head_timeout_s, idle_timeout_s;
	unsigned long evicted, refused, accept_pauses;
	struct ssl_ctx_st *tls; /* set by fl_http_server_use_tls; owned */
};

/* --- connections (http_conn.c) --- */

/* The listener: an evconnlistener on fd (taken) whose accept errors pause
 * accepting instead of spinning; handed to evhttp. 0 or FL_E*. */
int fl_httpd_listen(struct fl_http_server *s, int fd, char *err, size_t errlen);
/* Stop accepting for good (listener freed). */
void fl_httpd_unlisten(struct fl_http_server *s);
/* A new server-side bufferevent, plain or TLS as the server serves
 * (http_server.c); evhttp attaches the socket later. */
struct bufferevent *fl_httpd_new_bev(struct fl_http_server *s, struct event_base *base);
/* evhttp's bufferevent factory: one tracked connection per accepted socket. */
struct bufferevent *fl_httpd_conn_bev(struct event_base *base, void *arg);
/* The tracked connection of an evhttp connection, or NULL. */
struct fl_http_conn *fl_httpd_conn_find(struct fl_http_server *s, struct evhttp_connection *evcon);
/* A request of conn was received in full (its method token as sent goes
 * to r->xmethod; what follows it in the input is the next request) / was
 * answered or dropped. */
void fl_httpd_conn_busy(struct fl_http_conn *c, struct fl_http_req *r);
void fl_httpd_conn_done(struct fl_http_conn *c);
/* Called by http_server.c when evhttp tears down a connection with a
 * pending request (the request part of the close). */
void fl_httpd_req_conn_closed(struct fl_http_req *r);
/* Forget every tracked connection (the server is being freed). */
void fl_httpd_conns_forget(struct fl_http_server *s);

/* Forget the evhttp request and its connection: no close callback, no watcher. */
void fl_httpd_req_detach(struct fl_http_req *r);
/* Unlink the request from its server and free it (the end of every request). */
void fl_httpd_req_free(struct fl_http_req *r);
/* The reason phrase of a status (static), or NULL for one not listed. */
const char *fl_httpd_reason(int status);
/* Call the request's on_close callback from the loop, if it has one pending. */
void fl_httpd_req_schedule_notify(struct fl_http_req *r);

/* Route a request: run the matching handler or reply 404/405. */
void fl_httpd_route_request(struct fl_http_req *r);
void fl_httpd_route_free(struct fl_http_route *rt);
/* Percent-decode s into a new string (free()), or NULL. */
char *fl_httpd_decode(const char *s);

#endif
