/* HTTP/1.1 server helper on libevent's evhttp: routing by method and path
 * pattern, JSON responses and errors ({"error": "...", "status": N}),
 * request size limits, asynchronous replies, graceful stop. Used by the
 * proxy's control API, the reference services and the contract stub.
 *
 * Patterns: segments separated by '/'; "{name}" captures one segment
 * (read with fl_http_req_param); a final "*" matches any rest (read with
 * fl_http_req_param(req, "*")). Routes are tried in the order added; a path
 * that matches a pattern with another method gets 405, no match at all 404,
 * both as JSON errors (405 with an Allow header). HEAD also matches GET
 * routes (evhttp leaves the body out).
 *
 * Replies: a handler replies with one of the fl_http_reply* calls, either
 * before it returns or later from the event loop (asynchronous handlers,
 * long polls). Until it replies it owns the request; replying releases it.
 * If the client goes away first, the request stays valid until the reply
 * (which is then dropped) or fl_http_req_abandon. While a request waits
 * for an asynchronous reply, a client that closes (or half-closes) its
 * connection counts as gone.
 *
 * Body cap: a body over max_body gets 413 {"error": "request body too
 * large", "status": 413} and the connection is closed, whether the excess
 * is declared by Content-Length or arrives chunked. Every error the server
 * sends is JSON, evhttp's own protocol errors included (a malformed request
 * line or chunk size: 400; a request line over max_headers: 414; a header
 * block over it: 431; TRACE: 501). Any method token the HTTP grammar
 * allows reaches the routes, pipelined requests included (a known method
 * in another case, "post", as that method).
 *
 * Connections (a server reachable by anyone must not be frozen by them):
 *   - at most max_conns at once; past it the oldest connection that has no
 *     request being handled (idle, or still sending its head) is closed to
 *     make room, so a flood of slow connections cannot lock clients out;
 *   - a request must arrive in full within head_timeout_s of the connection
 *     opening or of its first byte after a reply (an absolute deadline that
 *     trickled bytes do not extend): 408 JSON, then close;
 *   - a keep-alive connection idle for idle_timeout_s is closed;
 *   - when accept() fails for want of descriptors (EMFILE, ENFILE) the server
 *     stops accepting, closes its oldest idle connection and resumes after
 *     100 ms (doubling to 1 s while it keeps failing): it never spins. */
#ifndef FL_CORE_HTTP_SERVER_H
#define FL_CORE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct event_base;
struct fl_http_server;
struct fl_http_req;

typedef void (*fl_http_handler_fn)(struct fl_http_req *req, void *arg);

struct fl_http_server_opts {
	const char *addr;   /* "127.0.0.1:0", "[::1]:8474", "0.0.0.0:80"; port 0 picks one */
	size_t max_body;    /* request body cap, 413 JSON error past it; 0: 1 MiB */
	size_t max_headers; /* header block cap; 0: 64 KiB */
	int idle_timeout_s; /* keep-alive idle timeout; 0: 60 */
	int head_timeout_s; /* deadline for a whole request; 0: 10 */
	size_t max_conns;   /* connection cap; 0: 1024 (at most half of RLIMIT_NOFILE) */
};

/* Bind and listen. NULL on failure with the reason in err
 * ("bind 127.0.0.1:8474: Address already in use"). `base` is borrowed. */
struct fl_http_server *fl_http_server_new(struct event_base *base,
					  const struct fl_http_server_opts *opts, char *err,
					  size_t errlen);

/* Serve HTTPS: every connection accepted from now on speaks TLS with the
 * certificate and key of `o` (borrowed; files read now), and with
 * o->client_ca set, only clients presenting a certificate that CA signed
 * are served (mutual TLS). A client that does not speak TLS, or fails the
 * handshake, is disconnected. Call before the loop runs. Returns 0, or
 * FL_EINVAL/FL_ENOENT with the file and the reason in err. */
struct fl_tls_server_opts;
int fl_http_server_use_tls(struct fl_http_server *s, const struct fl_tls_server_opts *o, char *err,
			   size_t errlen);
/* True once fl_http_server_use_tls succeeded (the server's URLs are https://). */
bool fl_http_server_is_tls(const struct fl_http_server *s);

/* Add a route. method is "GET", "POST", ... or "*" for any. Returns 0 or FL_EINVAL. */
int fl_http_server_route(struct fl_http_server *s, const char *method, const char *pattern,
			 fl_http_handler_fn fn, void *arg);

/* Called before routing for every request (auth, metrics, logging); returns
 * true to continue, false when it has replied itself. */
typedef bool (*fl_http_filter_fn)(struct fl_http_req *req, void *arg);
void fl_http_server_set_filter(struct fl_http_server *s, fl_http_filter_fn fn, void *arg);

/* The bound port and "host:port" address with the real port ("127.0.0.1:41234",
 * "[::1]:41234"); borrowed, valid for the server's life. */
int fl_http_server_port(const struct fl_http_server *s);
const char *fl_http_server_addr(const struct fl_http_server *s);

/* Graceful stop, step 1: close the listener (new connections are refused);
 * requests already received are still answered, with "Connection: close". */
void fl_http_server_stop_accepting(struct fl_http_server *s);

/* Requests received and not yet replied to. */
size_t fl_http_server_inflight(const struct fl_http_server *s);

/* Free the server, closing every connection. Pending requests are abandoned:
 * each one's on_close callback runs, then it is freed, so its owner must not
 * use it afterwards. Not from inside a handler. NULL is a no-op. */
void fl_http_server_free(struct fl_http_server *s);

/* --- requests (borrowed from the server until replied) --- */
const char *fl_http_req_method(const struct fl_http_req *r);
/* Decoded path without the query string. */
const char *fl_http_req_path(const struct fl_http_req *r);
/* The raw URI as received (path and query). */
const char *fl_http_req_uri(const struct fl_http_req *r);
/* A captured path parameter ("{name}" or "*"), or NULL. */
const char *fl_http_req_param(const struct fl_http_req *r, const char *name);
/* A decoded query parameter, or NULL when absent. */
const char *fl_http_req_query(const struct fl_http_req *r, const char *name);
/* A request header (case-insensitive), or NULL. */
const char *fl_http_req_header(const struct fl_http_req *r, const char *name);
/* The request body (NUL-terminated copy) and its length. */
const char *fl_http_req_body(const struct fl_http_req *r, size_t *len);
/* The body parsed as JSON (borrowed, cached). On a malformed body returns
 * NULL with the parser's message in err; an empty body also returns NULL
 * with "empty body". */
json_t *fl_http_req_json(struct fl_http_req *r, char *err, size_t errlen);
/* The peer's "ip:port". */
const char *fl_http_req_peer(const struct fl_http_req *r);
/* True once the client connection has closed. */
bool fl_http_req_closed(const struct fl_http_req *r);
/* Attach caller data (borrowed) and read it back. */
void fl_http_req_set_data(struct fl_http_req *r, void *data);
void *fl_http_req_data(const struct fl_http_req *r);
/* Be told when the client goes away before the reply (for long polls). */
void fl_http_req_on_close(struct fl_http_req *r, void (*fn)(struct fl_http_req *r, void *arg),
			  void *arg);

/* Add a response header before replying. */
void fl_http_reply_header(struct fl_http_req *r, const char *name, const char *value);
/* Reply with a raw body (copied). content_type may be NULL. Releases r. */
void fl_http_reply(struct fl_http_req *r, int status, const char *content_type, const void *body,
		   size_t len);
/* Reply with JSON; takes the reference to body (NULL: no body). Releases r. */
void fl_http_reply_json(struct fl_http_req *r, int status, json_t *body);
/* Reply {"error": message, "status": status}. Releases r. */
void fl_http_reply_error(struct fl_http_req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Give up a request without replying (its connection is closed). Releases r. */
void fl_http_req_abandon(struct fl_http_req *r);

#endif
