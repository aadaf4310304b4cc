/* HTTP client on libcurl's multi interface, driven by a libevent loop.
 * Many requests in flight at once in one thread; connections reused;
 * connect and total timeouts; redirects off unless asked.
 *
 * Ownership: a request description is borrowed for the duration of the
 * fl_http_client_start call only (everything is copied). The response handed
 * to the done callback belongs to the callback, which frees it with
 * fl_http_response_free. A start that returns an error never calls its
 * callback; the callback is never called from inside fl_http_client_start. */
#ifndef FL_CORE_HTTP_CLIENT_H
#define FL_CORE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/buf.h"

struct event_base;
struct fl_http_client;

struct fl_http_header {
	char *name;
	char *value;
};

/* TLS options of a request to an https:// URL (ignored for http://). With
 * none, the peer is verified against the system's CA store. */
struct fl_http_tls {
	const char *cacert; /* CA bundle (PEM) to trust instead of the system's, or NULL */
	const char *cert;   /* client certificate (PEM) for mutual TLS, or NULL */
	const char *key;    /* its private key (PEM); NULL: in the cert file */
	int insecure;	    /* skip verifying the peer's certificate and host name */
};

struct fl_http_request {
	const char *method;	    /* "GET" when NULL */
	const char *url;	    /* required: "http://127.0.0.1:8080/path?x=1" */
	const char *const *headers; /* "Name: value" strings */
	size_t nheaders;
	const void *body; /* raw body, or NULL */
	size_t body_len;
	const json_t *json; /* if set: serialised as the body, Content-Type: application/json */
	long connect_timeout_ms;       /* 0: 5000 */
	long timeout_ms;	       /* total; 0: 30000 */
	int follow_redirects;	       /* 0: off */
	size_t max_body;	       /* response body cap; 0: 64 MiB */
	const struct fl_http_tls *tls; /* NULL: verify against the system's CAs */
};

struct fl_http_response {
	int err;	  /* 0, or FL_ECONNREFUSED (refused or unreachable), FL_ETIMEDOUT
				 * (connect or total), FL_ERESOLVE, FL_ECONNRESET (connection lost,
				 * or closed with no response), FL_E2BIG (body over max_body),
				 * FL_EHTTP (other), FL_ECANCELED */
	char errmsg[256]; /* "connect to 127.0.0.1:9 failed: Connection refused" */
	char *method;	  /* copies of what was sent, for messages */
	char *url;
	char *req_body; /* request body as sent (NUL-terminated), may be NULL */
	long status;	/* 0 when err */
	struct fl_http_header *headers;
	size_t nheaders;
	struct fl_buf body; /* always NUL-terminated when non-empty */
	json_t *json;	/* parsed body when it is valid JSON (any Content-Type), else NULL; owned */
	double t_total; /* seconds, from start to last byte */
	double t_connect;
	double t_ttfb;
	char primary_ip[64];
	long primary_port;
};

/* Create a client on `base` (borrowed; must outlive the client). NULL on
 * failure with the reason in err. */
struct fl_http_client *fl_http_client_new(struct event_base *base, char *err, size_t errlen);

/* Free the client. In-flight requests are cancelled; their callbacks are not
 * called. May be called from inside a done callback (the client then goes
 * away when that callback returns). NULL is a no-op. */
void fl_http_client_free(struct fl_http_client *c);

typedef void (*fl_http_done_fn)(struct fl_http_response *resp, void *arg);

/* Start a request. On success returns 0 and sets *id (if id is not NULL) to a
 * handle for fl_http_client_cancel; `done` is later called exactly once from
 * the event loop, with err set when the transfer failed. Returns FL_EINVAL
 * (and never calls `done`) for a missing argument, a URL that is not
 * http:// or https:// with a host, a method with spaces or controls, or a
 * TLS key without its certificate. */
int fl_http_client_start(struct fl_http_client *c, const struct fl_http_request *req,
			 fl_http_done_fn done, void *arg, uint64_t *id);

/* Cancel an in-flight request; its callback is not called. Returns 0, or
 * FL_ENOENT when the id is not in flight. */
int fl_http_client_cancel(struct fl_http_client *c, uint64_t id);

/* Requests in flight. */
size_t fl_http_client_inflight(const struct fl_http_client *c);

/* Blocking convenience: runs one request on a private event loop. *out is
 * set to a response the caller frees, also when the transfer failed (see
 * (*out)->err). Returns 0, or a negative FL_E* only when no response could be
 * made at all (bad arguments, out of memory). */
int fl_http_fetch(const struct fl_http_request *req, struct fl_http_response **out);

/* First header named `name` (case-insensitive), borrowed, or NULL. */
const char *fl_http_response_header(const struct fl_http_response *r, const char *name);

/* Free a response; NULL is a no-op. */
void fl_http_response_free(struct fl_http_response *r);

#endif
