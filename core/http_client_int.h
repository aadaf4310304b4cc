/* Private to core/http_client.c and core/http_response.c: receiving a
 * response (headers, capped body) and turning a finished libcurl transfer
 * into a struct fl_http_response. Not part of the core API. */
#ifndef FL_CORE_HTTP_CLIENT_INT_H
#define FL_CORE_HTTP_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "core/http_client.h"

#define FL_HTTP_EASY_POOL 256

struct fl_http_fast;
struct fl_http_fconn;
struct event;
struct event_base;

/* A response being received; resp is owned by whoever holds the rx. */
struct fl_http_rx {
	struct fl_http_response *resp;
	size_t hcap;	 /* allocated header slots */
	bool too_big;	 /* the body went over max_body */
	long connect_ms; /* the timeouts in force, for messages */
	long timeout_ms;
	char errbuf[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER */
};

struct fl_http_xfer {
	CURL *easy;
	uint64_t id;
	struct fl_http_xfer *hnext;	  /* hash chain */
	struct fl_http_xfer *prev, *next; /* in-flight list */
	struct curl_slist *hdrs;
	struct fl_http_rx rx; /* the response being received */
	fl_http_done_fn done;
	void *arg;
	struct fl_http_fast *fast; /* set: a plain-HTTP transfer (http_fast.c), easy is NULL */
};

struct fl_http_sock {
	struct event *ev;
	struct fl_http_sock *prev, *next;
};

struct fl_http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct fl_http_xfer **buckets;
	size_t nbuckets;
	size_t inflight;
	uint64_t next_id;
	struct fl_http_xfer *xfers; /* in-flight list */
	struct fl_http_sock *socks; /* watched sockets */
	CURL *pool[FL_HTTP_EASY_POOL];
	size_t npool;
	int depth;		    /* > 0 while user callbacks run */
	bool dying;		    /* freed from inside a callback */
	bool no_fast;		    /* a proxy is configured in the environment, or
					 * FAULTLINE_HTTP_CURL=1: everything goes to libcurl */
	struct fl_http_fconn *idle; /* idle keep-alive connections of the fast path */
	size_t nidle;
	size_t nconnecting;			    /* fast-path connects under way */
	struct fl_http_xfer *wait_head, *wait_tail; /* fast transfers waiting to connect */
};

/* CURLOPT_HEADERFUNCTION and CURLOPT_WRITEFUNCTION; the user data is a
 * struct fl_http_rx. Headers of an earlier response (100 Continue, a followed
 * redirect) are dropped when the next status line arrives. */
size_t fl_http_rx_header(char *p, size_t size, size_t n, void *rx);
size_t fl_http_rx_body(char *p, size_t size, size_t n, void *rx);

/* Fill timing, status and JSON, or err and errmsg, from the finished
 * transfer `easy` with result cc. */
void fl_http_rx_finish(struct fl_http_rx *rx, CURL *easy, CURLcode cc);

/* True when url is worth handing to libcurl (http:// or https:// and a host). */
bool fl_http_url_plausible(const char *url);

/* --- the plain-HTTP fast path (http_fast.c) ---------------------------
 * http:// to a numeric address, no redirects, no proxy, ordinary headers:
 * a small HTTP/1.1 client on the client's event loop with a pool of
 * keep-alive connections. Everything else (TLS, names to resolve,
 * redirects, unusual headers) goes to libcurl. */

/* True when req (method already defaulted) can take the fast path. */
bool fl_http_fast_eligible(const struct fl_http_client *c, const struct fl_http_request *req,
			   const char *method);

/* Start x (response, method, url and body already set on x->rx.resp) on
 * the fast path. 0, or FL_ENOMEM / FL_EINVAL (then x->fast is NULL). */
int fl_http_fast_start(struct fl_http_client *c, struct fl_http_xfer *x,
		       const struct fl_http_request *req, size_t body_len);

/* Abandon a fast transfer (cancel, free): its connection is closed. */
void fl_http_fast_abort(struct fl_http_client *c, struct fl_http_xfer *x);

/* Close every idle fast-path connection. */
void fl_http_fast_close_idle(struct fl_http_client *c);

/* Called by the fast path when x is finished (x->rx.resp filled): unlinks
 * and frees x, then calls its callback (http_client.c). */
void fl_http_xfer_complete(struct fl_http_client *c, struct fl_http_xfer *x);

#endif
