/* HTTP client: libcurl's multi interface driven by a libevent loop (the
 * "multi-socket" pattern). libcurl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); the
 * loop calls curl_multi_socket_action back. Finished transfers are turned into
 * struct fl_http_response and handed to their callbacks from the loop. */
#include "core/http_client.h"
#include "core/http_client_int.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"

#define FL_HTTP_DEFAULT_CONNECT_MS 5000L
#define FL_HTTP_DEFAULT_TIMEOUT_MS 30000L
#define FL_HTTP_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define FL_HTTP_MAX_IDLE_CONNS 4096

#ifndef FL_VERSION
#define FL_VERSION "dev"
#endif

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

/* libcurl sends http:// through a proxy named in the environment; so must
 * we, so such a client leaves everything to libcurl. FAULTLINE_HTTP_CURL=1
 * does the same (to compare the two paths). */
static bool proxy_configured(void)
{
	static const char *const vars[] = { "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
					    "FAULTLINE_HTTP_CURL" };
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v && strcmp(v, "0") != 0)
			return true;
	}
	return false;
}

/* libcurl is set up on the first transfer that needs it (its global init,
 * which initialises OpenSSL, and the multi handle): a run whose requests all
 * take the fast path, or that sends none, never pays for it. 0, FL_EHTTP
 * (curl_global_init failed) or FL_ENOMEM. */
static int curl_ready(struct fl_http_client *c)
{
	if (c->multi)
		return 0;
	pthread_once(&curl_once, curl_global_once);
	if (curl_init_rc != CURLE_OK)
		return FL_EHTTP;
	c->multi = curl_multi_init();
	if (!c->multi)
		return FL_ENOMEM;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	/* libcurl's default cache limit (4 x transfers in progress) shrinks as a
	 * burst of transfers completes and closes connections a later burst
	 * would reuse; keep idle connections like a load generator does */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)FL_HTTP_MAX_IDLE_CONNS);
	return 0;
}

struct fl_http_client *fl_http_client_new(struct event_base *base, char *err, size_t errlen)
{
	struct fl_http_client *c = NULL;
	if (!base) {
		fl_err_set(err, errlen, FL_EINVAL, "no event base");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->base = base;
	c->next_id = 1;
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->timer || hash_grow(c) < 0)
		goto nomem;
	c->no_fast = proxy_configured();
	return c;
nomem:
	fl_err_set(err, errlen, FL_ENOMEM, "out of memory creating HTTP client");
	if (c) {
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
	if (x->fast)
		fl_http_fast_abort(c, x);
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
	fl_http_response_free(x->rx.resp);
	free(x);
}

static void client_destroy(struct fl_http_client *c)
{
	c->dying = true; /* nothing new starts while the transfers go */
	while (c->xfers) {
		struct fl_http_xfer *x = c->xfers;
		xfer_unlink(c, x);
		xfer_release(c, x);
	}
	fl_http_fast_close_idle(c);
	for (size_t i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	c->npool = 0;
	if (c->multi)
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

/* TLS options (libcurl copies the strings). A key without a cert is ignored
 * by libcurl, so it is refused earlier (fl_http_client_start). */
static void tls_setup(CURL *e, const struct fl_http_tls *t)
{
	if (!t)
		return;
	if (t->cacert && *t->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, t->cacert);
	if (t->cert && *t->cert) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (t->key && *t->key) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, t->key);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (t->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static int xfer_setup(struct fl_http_xfer *x, const struct fl_http_request *req, size_t body_len)
{
	struct fl_http_response *r = x->rx.resp;
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
			struct curl_slist *l =
				curl_slist_append(x->hdrs, "Content-Type: application/json");
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
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "faultline/" FL_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->rx.errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fl_http_rx_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x->rx);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fl_http_rx_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x->rx);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, x->rx.connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->rx.timeout_ms);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	tls_setup(e, req->tls);

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

	if (!c || c->dying || !req || !req->url || !done || !fl_http_url_plausible(req->url))
		return FL_EINVAL;
	const char *method = req->method && *req->method ? req->method : "GET";
	for (const char *m = method; *m; m++)
		if (*m <= ' ' || *m >= 127)
			return FL_EINVAL;
	if (req->tls && req->tls->key && *req->tls->key && !(req->tls->cert && *req->tls->cert))
		return FL_EINVAL;

	rc = FL_ENOMEM;
	x = calloc(1, sizeof(*x));
	r = calloc(1, sizeof(*r));
	if (!x || !r)
		goto fail;
	x->rx.resp = r;
	x->done = done;
	x->arg = arg;
	x->rx.connect_ms =
		req->connect_timeout_ms > 0 ? req->connect_timeout_ms : FL_HTTP_DEFAULT_CONNECT_MS;
	x->rx.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : FL_HTTP_DEFAULT_TIMEOUT_MS;
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
	fl_buf_init(&r->body, req->max_body ? req->max_body : FL_HTTP_DEFAULT_MAX_BODY);
	rc = FL_ENOMEM;
	if (c->inflight + 1 > c->nbuckets * 2 && hash_grow(c) < 0)
		goto fail;
	if (fl_http_fast_eligible(c, req, method)) {
		rc = fl_http_fast_start(c, x, req, body_len);
		if (rc < 0)
			goto fail;
	} else {
		rc = curl_ready(c);
		if (rc < 0)
			goto fail;
		rc = FL_ENOMEM;
		x->easy = c->npool ? c->pool[--c->npool] : curl_easy_init();
		if (!x->easy)
			goto fail;
		rc = xfer_setup(x, req, body_len);
		if (rc < 0)
			goto fail;
		if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
			rc = FL_EHTTP;
			goto fail;
		}
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
		if (x->fast)
			fl_http_fast_abort(c, x);
		if (x->easy)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->hdrs);
		free(x);
	}
	fl_http_response_free(r);
	return rc;
}

/* --- completion ------------------------------------------------------ */

static void check_done(struct fl_http_client *c)
{
	CURLMsg *m;
	int left;
	c->depth++;
	while (!c->dying && c->multi && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		char *priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		struct fl_http_xfer *x = (struct fl_http_xfer *)priv;
		CURLcode cc = m->data.result;
		if (!x)
			continue;
		fl_http_rx_finish(&x->rx, x->easy, cc);
		struct fl_http_response *r = x->rx.resp;
		fl_http_done_fn done = x->done;
		void *arg = x->arg;
		x->rx.resp = NULL;
		xfer_unlink(c, x);
		xfer_release(c, x);
		done(r, arg);
	}
	c->depth--;
	if (c->dying && c->depth == 0)
		client_destroy(c);
}

void fl_http_xfer_complete(struct fl_http_client *c, struct fl_http_xfer *x)
{
	struct fl_http_response *r = x->rx.resp;
	fl_http_done_fn done = x->done;
	void *arg = x->arg;
	x->rx.resp = NULL;
	xfer_unlink(c, x);
	xfer_release(c, x);
	c->depth++;
	done(r, arg);
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
