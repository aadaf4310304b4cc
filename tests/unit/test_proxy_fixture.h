/* Shared fixture of the fault-injector unit tests: an engine on its own
 * thread with its HTTP API on loopback, in-process upstreams (TCP echo and a
 * small HTTP/1.1 responder, one thread per connection), blocking client
 * sockets with timeouts, and API calls over real HTTP (fl_http_fetch). */
#ifndef FL_TEST_PROXY_FIXTURE_H
#define FL_TEST_PROXY_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "fault-injector/proxy.h"

#define UNUSED __attribute__((unused))

/* --- upstreams ------------------------------------------------------------ */

struct upstream {
	int lfd;
	int port;
	int http;
	pthread_t thr;
	volatile int stop;
	volatile long requests;	/* HTTP requests seen */
};

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	close(fd);
	return NULL;
}

struct http_conn_arg {
	int fd;
	struct upstream *u;
};

/* Minimal HTTP/1.1: answers each request 200 with "path=<path>" or, for
 * "/status/N", status N; "/slow/MS" waits MS ms first; after "/close" it
 * closes the connection. */
static void *http_conn(void *arg)
{
	struct http_conn_arg *a = arg;
	int fd = a->fd;
	struct upstream *u = a->u;
	free(a);
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	size_t have = 0;
	for (;;) {
		char *end = memmem(buf, have, "\r\n\r\n", 4);
		if (!end) {
			if (have == cap)
				break;
			ssize_t n = read(fd, buf + have, cap - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			continue;
		}
		size_t hlen = (size_t)(end - buf) + 4;
		size_t clen = 0;
		char *cl = strcasestr(buf, "content-length:");
		if (cl && cl < end)
			clen = strtoul(cl + 15, NULL, 10);
		if (hlen + clen > cap)
			break;
		while (have < hlen + clen) {
			ssize_t n = read(fd, buf + have, cap - have);
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		char method[16] = "", path[1024] = "";
		sscanf(buf, "%15s %1023s", method, path);
		__sync_fetch_and_add(&u->requests, 1);
		int status = 200;
		if (strncmp(path, "/status/", 8) == 0)
			status = atoi(path + 8);
		if (strncmp(path, "/slow/", 6) == 0)
			usleep((useconds_t)atoi(path + 6) * 1000);
		char body[1200], resp[1600];
		int bl = snprintf(body, sizeof(body), "path=%s", path);
		int rl = snprintf(resp, sizeof(resp),
				  "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
				  "x-upstream: yes\r\n\r\n%s",
				  status, bl, strcmp(method, "HEAD") == 0 ? "" : body);
		if (write(fd, resp, (size_t)rl) != rl)
			break;
		if (strcmp(path, "/close") == 0)
			break; /* an idle keep-alive connection the server closes */
		memmove(buf, buf + hlen + clen, have - hlen - clen);
		have -= hlen + clen;
	}
out:
	free(buf);
	close(fd);
	return NULL;
}

static void *upstream_main(void *arg)
{
	struct upstream *u = arg;
	while (!u->stop) {
		struct pollfd p = { u->lfd, POLLIN, 0 };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(u->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_t t;
		if (u->http) {
			struct http_conn_arg *a = malloc(sizeof(*a));
			a->fd = fd;
			a->u = u;
			pthread_create(&t, NULL, http_conn, a);
		} else {
			pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd);
		}
		pthread_detach(t);
	}
	return NULL;
}

static UNUSED struct upstream *upstream_start(int http)
{
	struct upstream *u = calloc(1, sizeof(*u));
	u->http = http;
	u->lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(u->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(u->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(u->lfd, 512), 0);
	socklen_t sl = sizeof(a);
	getsockname(u->lfd, (struct sockaddr *)&a, &sl);
	u->port = ntohs(a.sin_port);
	pthread_create(&u->thr, NULL, upstream_main, u);
	return u;
}

static UNUSED void upstream_stop(struct upstream *u)
{
	u->stop = 1;
	pthread_join(u->thr, NULL);
	close(u->lfd);
	free(u);
}

/* --- engine and API ------------------------------------------------------ */

struct fx {
	struct fl_proxy_engine *e;
	char api[128];
	struct upstream *echo, *http;
};

static UNUSED struct fx *fx_start(uint64_t seed)
{
	signal(SIGPIPE, SIG_IGN);
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	struct fl_proxy_opts o = { .seeded = true, .seed = seed };
	f->e = fl_proxy_engine_new(&o, err, sizeof(err));
	assert_non_null(f->e);
	assert_int_equal(fl_proxy_api_start(f->e, "127.0.0.1:0", NULL, err, sizeof(err)), 0);
	snprintf(f->api, sizeof(f->api), "%s", fl_proxy_api_url(f->e));
	assert_int_equal(fl_proxy_engine_start_thread(f->e, err, sizeof(err)), 0);
	f->echo = upstream_start(0);
	f->http = upstream_start(1);
	return f;
}

static UNUSED void fx_stop(struct fx *f)
{
	fl_proxy_engine_free(f->e);
	upstream_stop(f->echo);
	upstream_stop(f->http);
	free(f);
}

/* Call the API; returns the parsed JSON body (new reference or NULL) and
 * the status in *status. body may be NULL. */
static UNUSED json_t *api_call(struct fx *f, const char *method, const char *path,
			       const char *body, long *status)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", f->api, path);
	const char *hdr[] = { "Content-Type: application/json" };
	struct fl_http_request rq = { .method = method, .url = url, .headers = hdr,
				      .nheaders = 1, .body = body,
				      .body_len = body ? strlen(body) : 0, .timeout_ms = 5000 };
	struct fl_http_response *r = NULL;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	if (r->err)
		fail_msg("%s %s: %s", method, path, r->errmsg);
	*status = r->status;
	json_t *j = r->json ? json_incref(r->json) : NULL;
	fl_http_response_free(r);
	return j;
}

/* api_call with printf-formatted body, asserting the status. */
static UNUSED json_t *api(struct fx *f, const char *method, const char *path, long want,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static UNUSED json_t *api(struct fx *f, const char *method, const char *path, long want,
			  const char *fmt, ...)
{
	char body[8192];
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(body, sizeof(body), fmt, ap);
		va_end(ap);
	}
	long st;
	json_t *j = api_call(f, method, path, fmt ? body : NULL, &st);
	if (st != want) {
		char *d = j ? json_dumps(j, 0) : NULL;
		fail_msg("%s %s: status %ld, want %ld: %s", method, path, st, want, d ? d : "");
	}
	return j;
}

/* Create proxy `name` to the echo (http=0) or HTTP upstream; returns its port. */
static UNUSED int proxy_new(struct fx *f, const char *name, int http)
{
	json_t *j = api(f, "POST", "/proxies", 201,
			"{\"name\":\"%s\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\"}",
			name, http ? f->http->port : f->echo->port);
	const char *listen = json_string_value(json_object_get(j, "listen"));
	assert_non_null(listen);
	int port = atoi(strrchr(listen, ':') + 1);
	json_decref(j);
	return port;
}

static UNUSED void toxic_add(struct fx *f, const char *proxy, const char *json)
{
	char path[256];
	snprintf(path, sizeof(path), "/proxies/%s/toxics", proxy);
	json_decref(api(f, "POST", path, 200, "%s", json));
}

static UNUSED void toxic_del(struct fx *f, const char *proxy, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "/proxies/%s/toxics/%s", proxy, name);
	json_decref(api(f, "DELETE", path, 204, NULL));
}

/* --- clients --------------------------------------------------------------- */

static UNUSED int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static UNUSED void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		assert_true(w > 0);
		c += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes (fails the test on EOF/timeout). */
static UNUSED void read_exact(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r <= 0)
			fail_msg("read_exact: %zd (%s), %zu bytes missing", r, strerror(errno), n);
		c += r;
		n -= (size_t)r;
	}
}

/* Read until EOF or error; returns bytes read, *err = errno of the error or 0. */
static UNUSED size_t read_to_end(int fd, char *p, size_t cap, int *err, int *reads)
{
	size_t got = 0;
	*err = 0;
	if (reads)
		*reads = 0;
	for (;;) {
		ssize_t r = read(fd, p + got, cap - got);
		if (r < 0) {
			*err = errno;
			return got;
		}
		if (r == 0)
			return got;
		got += (size_t)r;
		if (reads)
			(*reads)++;
		if (got == cap)
			return got;
	}
}

/* One round trip of n bytes through an echo link; returns milliseconds. */
static UNUSED double rtt_ms(int fd, size_t n)
{
	char out[4096], in[4096];
	assert_true(n <= sizeof(out));
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('a' + i % 26);
	int64_t t0 = fl_mono_ns();
	write_all(fd, out, n);
	read_exact(fd, in, n);
	assert_memory_equal(in, out, n);
	return (double)(fl_mono_ns() - t0) / 1e6;
}

/* A raw HTTP request; returns the response text (malloc'd) and its length. */
static UNUSED char *http_raw(int port, const char *req, size_t *len, int *err)
{
	int fd = tcp_connect(port);
	assert_true(fd >= 0);
	write_all(fd, req, strlen(req));
	shutdown(fd, SHUT_WR);
	char *buf = malloc(1 << 20);
	*len = read_to_end(fd, buf, (1 << 20) - 1, err, NULL);
	buf[*len] = 0;
	close(fd);
	return buf;
}

#endif
