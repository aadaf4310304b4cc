/* HTTP client: libcurl's multi interface driven by a libevent loop (the
 * "multi-socket" pattern). libcurl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); the
 * loop calls curl_multi_socket_action back. Finished transfers are turned into
 * struct fl_http_response and handed to their callbacks from the loop. */
#include "core/http_client.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"

#define FL_HTTP_DEFAULT_CONNECT_MS 5000L
#define FL_HTTP_DEFAULT_TIMEOUT_MS 30000L
#define FL_HTTP_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define FL_HTTP_EASY_POOL 256

#ifndef FL_VERSION
#define FL_VERSION "dev"
#endif

struct fl_http_xfer {
	struct fl_http_client *c;
	CURL *easy;
	uint64_t id;
	struct fl_http_xfer *hnext;	/* hash chain */
	struct fl_http_xfer *prev, *next;	/* in-flight list */
	struct curl_slist *hdrs;
	struct fl_http_response *resp;
	fl_http_done_fn done;
	void *arg;
	size_t hcap;			/* allocated response header slots */
	bool too_big;
	long connect_ms, timeout_ms;
	char hostport[300];		/* "127.0.0.1:9" for messages */
	char errbuf[CURL_ERROR_SIZE];
};

struct fl_http_sock {
	struct fl_http_client *c;
	struct event *ev;
	curl_socket_t fd;
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
	struct fl_http_xfer *xfers;	/* in-flight list */
	struct fl_http_sock *socks;	/* watched sockets */
	CURL *pool[FL_HTTP_EASY_POOL];
	size_t npool;
	int depth;			/* > 0 while user callbacks run */
	bool dying;			/* freed from inside a callback */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_global_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- id hash --------------------------------------------------------- */

static size_t id_slot(const struct fl_http_client *c, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 17) & (c->nbuckets - 1);
}

static int hash_grow(struct fl_http_client *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : 64;
	struct fl_http_xfer **b = calloc(n, sizeof(*b));
	if (!b)
		return FL_ENOMEM;
	struct fl_http_xfer **old = c->buckets;
	size_t oldn = c->nbuckets;
	c->buckets = b;
	c->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct fl_http_xfer *x = old[i], *nx;
		for (; x; x = nx) {
			nx = x->hnext;
			size_t s = id_slot(c, x->id);
			x->hnext = b[s];
			b[s] = x;
		}
	}
	free(old);
	return 0;
}

static struct fl_http_xfer *hash_find(const struct fl_http_client *c, uint64_t id)
{
	if (!c->nbuckets)
		return NULL;
	for (struct fl_http_xfer *x = c->buckets[id_slot(c, id)]; x; x = x->hnext)
		if (x->id == id)
			return x;
	return NULL;
}

static void hash_remove(struct fl_http_client *c, struct fl_http_xfer *x)
{
	struct fl_http_xfer **pp = &c->buckets[id_slot(c, x->id)];
	while (*pp && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = x->hnext;
}

/* --- responses ------------------------------------------------------- */

void fl_http_response_free(struct fl_http_response *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	free(r->req_body);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	fl_buf_free(&r->body);
	json_decref(r->json);
	free(r);
}

const char *fl_http_response_header(const struct fl_http_response *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void resp_clear_headers(struct fl_http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
}

static char *strndup_trim(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return strndup(s, n);
}

/* One header line from libcurl (status lines, "Name: value", the blank line). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct fl_http_xfer *x = ud;
	struct fl_http_response *r = x->resp;
	size_t len = size * n;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a followed redirect) */
		resp_clear_headers(r);
		return len;
	}
	if (len && (p[0] == ' ' || p[0] == '\t') && r->nheaders) {
		/* obsolete line folding: continue the previous value */
		struct fl_http_header *h = &r->headers[r->nheaders - 1];
		char *more = strndup_trim(p, len);
		if (!more)
			return 0;
		size_t a = strlen(h->value), b = strlen(more);
		char *v = realloc(h->value, a + b + 2);
		if (!v) {
			free(more);
			return 0;
		}
		v[a] = ' ';
		memcpy(v + a + 1, more, b + 1);
		h->value = v;
		free(more);
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (!colon)
		return len; /* blank line ending the block */
	if (r->nheaders == x->hcap) {
		size_t cap = x->hcap ? x->hcap * 2 : 16;
		struct fl_http_header *h = realloc(r->headers, cap * sizeof(*h));
		if (!h)
			return 0;
		r->headers = h;
		x->hcap = cap;
	}
	char *name = strndup_trim(p, (size_t)(colon - p));
	char *value = strndup_trim(colon + 1, len - (size_t)(colon - p) - 1);
	if (!name || !value) {
		free(name);
		free(value);
		return 0;
	}
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = value;
	r->nheaders++;
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct fl_http_xfer *x = ud;
	size_t len = size * n;
	int rc = fl_buf_append(&x->resp->body, p, len);
	if (rc == FL_E2BIG) {
		x->too_big = true;
		return 0;
	}
	return rc == 0 ? len : 0;
}

/* --- libcurl <-> libevent glue ---------------------------------------- */

static void check_done(struct fl_http_client *c);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct fl_http_client *c = arg;
	int flags = 0, running;
	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_http_client *c = arg;
	int running;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static void sock_free(struct fl_http_client *c, struct fl_http_sock *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	event_free(s->ev);
	free(s);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	struct fl_http_client *c = userp;
	struct fl_http_sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(c->multi, fd, NULL);
			sock_free(c, s);
		}
		return 0;
	}
	short kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->c = c;
		s->fd = fd;
		s->ev = event_new(c->base, fd, kind, on_socket_event, c);
		if (!s->ev) {
			free(s);
			return -1;
		}
		s->next = c->socks;
		if (c->socks)
			c->socks->prev = s;
		c->socks = s;
		curl_multi_assign(c->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, c->base, fd, kind, on_socket_event, c);
	}
	event_add(s->ev, NULL);
	return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct fl_http_client *c = userp;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(c->timer, &tv);
	return 0;
}

/* --- client ---------------------------------------------------------- */

struct fl_http_client *fl_http_client_new(struct event_base *base, char *err, size_t errlen)
{
	struct fl_http_client *c = NULL;
	pthread_once(&curl_once, curl_global_once);
	if (curl_init_rc != CURLE_OK) {
		fl_err_set(err, errlen, FL_EHTTP, "curl_global_init: %s",
			   curl_easy_strerror(curl_init_rc));
		return NULL;
	}
	if (!base) {
		fl_err_set(err, errlen, FL_EINVAL, "no event base");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->base = base;
	c->next_id = 1;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->multi || !c->timer || hash_grow(c) < 0)
		goto nomem;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
nomem:
	fl_err_set(err, errlen, FL_ENOMEM, "out of memory creating HTTP client");
	if (c) {
		if (c->multi)
			curl_multi_cleanup(c->multi);
		if (c->timer)
			event_free(c->timer);
		free(c->buckets);
		free(c);
	}
	return NULL;
}

static void xfer_unlink(struct fl_http_client *c, struct fl_http_xfer *x)
{
	hash_remove(c, x);
	if (x->prev)
		x->prev->next = x->next;
	else
		c->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	c->inflight--;
}

/* Remove the easy handle from the multi, recycle it and free the transfer;
 * the response (if still attached) is freed too. */
static void xfer_release(struct fl_http_client *c, struct fl_http_xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(c->multi, x->easy);
		if (c->npool < FL_HTTP_EASY_POOL && !c->dying) {
			curl_easy_reset(x->easy);
			c->pool[c->npool++] = x->easy;
		} else {
			curl_easy_cleanup(x->easy);
		}
	}
	curl_slist_free_all(x->hdrs);
	fl_http_response_free(x->resp);
	free(x);
}

static void client_destroy(struct fl_http_client *c)
{
	while (c->xfers) {
		struct fl_http_xfer *x = c->xfers;
		xfer_unlink(c, x);
		xfer_release(c, x);
	}
	for (size_t i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	c->npool = 0;
	curl_multi_cleanup(c->multi);
	while (c->socks)
		sock_free(c, c->socks);
	event_free(c->timer);
	free(c->buckets);
	free(c);
}

void fl_http_client_free(struct fl_http_client *c)
{
	if (!c)
		return;
	if (c->depth > 0) {
		/* inside a done callback: cancel everything now (so no further
		 * callback runs), free once the callback returns */
		c->dying = true;
		while (c->xfers) {
			struct fl_http_xfer *x = c->xfers;
			xfer_unlink(c, x);
			xfer_release(c, x);
		}
		return;
	}
	client_destroy(c);
}

size_t fl_http_client_inflight(const struct fl_http_client *c)
{
	return c ? c->inflight : 0;
}

int fl_http_client_cancel(struct fl_http_client *c, uint64_t id)
{
	if (!c)
		return FL_EINVAL;
	struct fl_http_xfer *x = hash_find(c, id);
	if (!x)
		return FL_ENOENT;
	xfer_unlink(c, x);
	xfer_release(c, x);
	return 0;
}

/* "host:port" of the URL for error messages; FL_EINVAL when it is not a URL
 * libcurl accepts. */
static int url_hostport(const char *url, char *out, size_t outlen, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	int rc = FL_ENOMEM;
	if (!u)
		goto out;
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		rc = fl_err_set(err, errlen, FL_EINVAL, "bad URL \"%s\": %s", url,
				curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rc = fl_err_set(err, errlen, FL_EINVAL, "bad URL \"%s\": no host", url);
		goto out;
	}
	snprintf(out, outlen, "%s:%s", host, port);
	rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int xfer_setup(struct fl_http_xfer *x, const struct fl_http_request *req, size_t body_len)
{
	struct fl_http_response *r = x->resp;
	CURL *e = x->easy;
	const char *method = r->method;
	bool has_body = r->req_body != NULL;
	bool json = req->json != NULL;

	x->hdrs = curl_slist_append(NULL, "Expect:");
	if (!x->hdrs)
		return FL_ENOMEM;
	if (json) {
		bool has_ct = false;
		for (size_t i = 0; i < req->nheaders; i++)
			if (strncasecmp(req->headers[i], "content-type:", 13) == 0)
				has_ct = true;
		if (!has_ct) {
			struct curl_slist *l = curl_slist_append(x->hdrs, "Content-Type: application/json");
			if (!l)
				return FL_ENOMEM;
			x->hdrs = l;
		}
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		if (!req->headers[i])
			continue;
		struct curl_slist *l = curl_slist_append(x->hdrs, req->headers[i]);
		if (!l)
			return FL_ENOMEM;
		x->hdrs = l;
	}

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "faultline/" FL_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, x->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->timeout_ms);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);

	if (has_body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->req_body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	return 0;
}

int fl_http_client_start(struct fl_http_client *c, const struct fl_http_request *req,
			 fl_http_done_fn done, void *arg, uint64_t *id)
{
	struct fl_http_xfer *x = NULL;
	struct fl_http_response *r = NULL;
	size_t body_len = 0;
	int rc = FL_EINVAL;

	if (!c || c->dying || !req || !req->url || !done)
		return FL_EINVAL;
	const char *method = req->method && *req->method ? req->method : "GET";
	for (const char *m = method; *m; m++)
		if (*m <= ' ' || *m >= 127)
			return FL_EINVAL;

	rc = FL_ENOMEM;
	x = calloc(1, sizeof(*x));
	r = calloc(1, sizeof(*r));
	if (!x || !r)
		goto fail;
	x->resp = r;
	x->c = c;
	x->done = done;
	x->arg = arg;
	x->connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms
						    : FL_HTTP_DEFAULT_CONNECT_MS;
	x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : FL_HTTP_DEFAULT_TIMEOUT_MS;
	rc = url_hostport(req->url, x->hostport, sizeof(x->hostport), r->errmsg,
			  sizeof(r->errmsg));
	if (rc < 0)
		goto fail;
	rc = FL_ENOMEM;
	r->method = strdup(method);
	r->url = strdup(req->url);
	if (!r->method || !r->url)
		goto fail;
	if (req->json) {
		r->req_body = fl_json_dumps(req->json);
		if (!r->req_body)
			goto fail;
		body_len = strlen(r->req_body);
	} else if (req->body) {
		r->req_body = malloc(req->body_len + 1);
		if (!r->req_body)
			goto fail;
		memcpy(r->req_body, req->body, req->body_len);
		r->req_body[req->body_len] = '\0';
		body_len = req->body_len;
	}
	x->easy = c->npool ? c->pool[--c->npool] : curl_easy_init();
	if (!x->easy)
		goto fail;
	rc = xfer_setup(x, req, body_len);
	if (rc < 0)
		goto fail;
	fl_buf_init(&r->body, req->max_body ? req->max_body : FL_HTTP_DEFAULT_MAX_BODY);

	if (c->inflight + 1 > c->nbuckets * 2 && hash_grow(c) < 0)
		goto fail;
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
		rc = FL_EHTTP;
		goto fail;
	}
	x->id = c->next_id++;
	size_t s = id_slot(c, x->id);
	x->hnext = c->buckets[s];
	c->buckets[s] = x;
	x->next = c->xfers;
	if (c->xfers)
		c->xfers->prev = x;
	c->xfers = x;
	c->inflight++;
	if (id)
		*id = x->id;
	return 0;
fail:
	if (x) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->hdrs);
		free(x);
	}
	fl_http_response_free(r);
	return rc;
}

/* --- completion ------------------------------------------------------ */

static void set_msg(struct fl_http_response *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_msg(struct fl_http_response *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
}

static void fill_error(struct fl_http_xfer *x, CURLcode cc)
{
	struct fl_http_response *r = x->resp;
	long oserr = 0;
	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		if (oserr == ETIMEDOUT) {
			r->err = FL_ETIMEDOUT;
			set_msg(r, "connect to %s failed: %s",
				 x->hostport, strerror((int)oserr));
		} else {
			/* refused, unreachable: the peer could not be reached */
			r->err = FL_ECONNREFUSED;
			set_msg(r, "connect to %s failed: %s",
				 x->hostport, oserr ? strerror((int)oserr) : detail);
		}
		break;
	case CURLE_OPERATION_TIMEDOUT: {
		r->err = FL_ETIMEDOUT;
		curl_off_t t_conn = 0;
		curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t_conn);
		long primary = 0;
		curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &primary);
		if (primary == 0 && t_conn == 0)
			set_msg(r, "connect to %s failed: timed out after %ld ms", x->hostport,
				 x->connect_ms < x->timeout_ms ? x->connect_ms : x->timeout_ms);
		else
			set_msg(r, "%s %s: timed out after %ld ms (%s)",
				 r->method, r->url, x->timeout_ms, detail);
		break;
	}
	case CURLE_COULDNT_RESOLVE_HOST:
		r->err = FL_ERESOLVE;
		set_msg(r, "%s %s: %s", r->method, r->url, detail);
		break;
	case CURLE_WRITE_ERROR:
		if (x->too_big) {
			r->err = FL_E2BIG;
			set_msg(r, "%s %s: response body larger than the %zu-byte limit", r->method,
				 r->url, r->body.max);
			break;
		}
		r->err = FL_EHTTP;
		set_msg(r, "%s %s: %s", r->method, r->url, detail);
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		r->err = FL_ECONNRESET;
		set_msg(r, "%s %s: connection to %s lost: %s",
			 r->method, r->url, x->hostport, detail);
		break;
	default:
		r->err = FL_EHTTP;
		set_msg(r, "%s %s: %s", r->method, r->url, detail);
		break;
	}
}

static void fill_response(struct fl_http_xfer *x, CURLcode cc)
{
	struct fl_http_response *r = x->resp;
	curl_off_t t;
	char *ip = NULL;

	if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK)
		r->t_total = (double)t / 1e6;
	if (curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK)
		r->t_connect = (double)t / 1e6;
	if (curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &t) == CURLE_OK)
		r->t_ttfb = (double)t / 1e6;
	if (curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
		snprintf(r->primary_ip, sizeof(r->primary_ip), "%s", ip);
	curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &r->primary_port);

	if (cc != CURLE_OK) {
		fill_error(x, cc);
		r->status = 0;
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body.len)
		r->json = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, NULL);
}

static void check_done(struct fl_http_client *c)
{
	CURLMsg *m;
	int left;
	c->depth++;
	while (!c->dying && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct fl_http_xfer *x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		CURLcode cc = m->data.result;
		if (!x)
			continue;
		fill_response(x, cc);
		struct fl_http_response *r = x->resp;
		fl_http_done_fn done = x->done;
		void *arg = x->arg;
		x->resp = NULL;
		xfer_unlink(c, x);
		xfer_release(c, x);
		done(r, arg);
	}
	c->depth--;
	if (c->dying && c->depth == 0)
		client_destroy(c);
}

/* --- blocking fetch --------------------------------------------------- */

struct fetch_state {
	struct event_base *base;
	struct fl_http_response *resp;
};

static void fetch_done(struct fl_http_response *resp, void *arg)
{
	struct fetch_state *st = arg;
	st->resp = resp;
	event_base_loopbreak(st->base);
}

int fl_http_fetch(const struct fl_http_request *req, struct fl_http_response **out)
{
	struct fetch_state st = { 0 };
	struct fl_http_client *c = NULL;
	char err[256] = "";
	int rc = FL_EINVAL;

	if (!out)
		return FL_EINVAL;
	*out = NULL;
	if (!req || !req->url)
		return FL_EINVAL;
	rc = FL_ENOMEM;
	st.base = event_base_new();
	if (!st.base)
		goto out;
	c = fl_http_client_new(st.base, err, sizeof(err));
	if (!c)
		goto out;
	rc = fl_http_client_start(c, req, fetch_done, &st, NULL);
	if (rc < 0)
		goto out;
	while (!st.resp && event_base_dispatch(st.base) == 0)
		;
	rc = st.resp ? 0 : FL_EHTTP;
	*out = st.resp;
out:
	fl_http_client_free(c);
	if (st.base)
		event_base_free(st.base);
	return rc;
}
