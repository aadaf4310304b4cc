/* Fault injector HTTP faults on real HTTP/1.1 traffic: http_abort,
 * http_delay, http_drop_response with matchers and probability,
 * header-controlled faults, pipelining order, recorded exchanges (ring and
 * JSONL sink). */
#include <sys/stat.h>

#include "core/prng.h"
#include "tests/unit/test_proxy_fixture.h"

static struct fx *F;
static int P;	/* the HTTP link's port */

static int setup(void **state)
{
	(void)state;
	F = fx_start(5);
	P = proxy_new(F, "web", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(F);
	return 0;
}

/* Read one response (headers + Content-Length body) from fd into buf;
 * returns its status, 0 on EOF before a full response. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t r = 0;
	buf[0] = 0;
	for (;;) {
		char *end = strstr(buf, "\r\n\r\n");
		if (end) {
			char *cl = strcasestr(buf, "content-length:");
			size_t want = (size_t)(end - buf) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
			if (r >= want)
				return atoi(buf + 9);
		}
		ssize_t k = read(fd, buf + r, cap - 1 - r);
		if (k <= 0)
			return 0;
		r += (size_t)k;
		buf[r] = 0;
	}
}

static int request(const char *method, const char *path, const char *extra, char *buf,
		   size_t cap, double *ms)
{
	int fd = tcp_connect(P);
	assert_true(fd >= 0);
	char req[1024];
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n%sContent-Length: 0\r\n\r\n", method,
		 path, extra ? extra : "");
	int64_t t0 = fl_mono_ns();
	write_all(fd, req, strlen(req));
	int st = read_response(fd, buf, cap);
	if (ms)
		*ms = (double)(fl_mono_ns() - t0) / 1e6;
	close(fd);
	return st;
}

static void test_abort_matchers(void **state)
{
	(void)state;
	char buf[4096];
	toxic_add(F, "web",
		  "{\"type\":\"http_abort\",\"name\":\"ab\",\"attributes\":{\"status\":502,"
		  "\"body\":\"injected\",\"method\":\"GET\",\"path\":\"/api/\"}}");
	long before = F->http->requests;
	assert_int_equal(request("GET", "/api/users", NULL, buf, sizeof(buf), NULL), 502);
	assert_non_null(strstr(buf, "\r\n\r\ninjected"));
	assert_non_null(strstr(buf, "x-faultline-fault: http_abort"));
	assert_int_equal(F->http->requests, before);	/* never reached the upstream */
	assert_int_equal(request("POST", "/api/users", NULL, buf, sizeof(buf), NULL), 200);
	assert_int_equal(request("GET", "/other", NULL, buf, sizeof(buf), NULL), 200);
	assert_non_null(strstr(buf, "path=/other"));
	toxic_del(F, "web", "ab");
	/* regex and header matchers */
	toxic_add(F, "web",
		  "{\"type\":\"http_abort\",\"name\":\"re\",\"attributes\":{\"status\":503,"
		  "\"path_regex\":\"^/v[0-9]+/pay$\"}}");
	assert_int_equal(request("GET", "/v2/pay", NULL, buf, sizeof(buf), NULL), 503);
	assert_int_equal(request("GET", "/v2/pay?x=1", NULL, buf, sizeof(buf), NULL), 503);
	assert_int_equal(request("GET", "/v2/payx", NULL, buf, sizeof(buf), NULL), 200);
	toxic_del(F, "web", "re");
	toxic_add(F, "web",
		  "{\"type\":\"http_abort\",\"name\":\"hd\",\"attributes\":{\"status\":401,"
		  "\"header\":\"X-Tenant\",\"header_value\":\"blue\"}}");
	assert_int_equal(request("GET", "/", "X-Tenant: blue\r\n", buf, sizeof(buf), NULL), 401);
	assert_int_equal(request("GET", "/", "X-Tenant: red\r\n", buf, sizeof(buf), NULL), 200);
	assert_int_equal(request("GET", "/", NULL, buf, sizeof(buf), NULL), 200);
	toxic_del(F, "web", "hd");
}

static void test_header_controlled(void **state)
{
	(void)state;
	char buf[4096];
	double ms;
	/* off by default: the headers are forwarded, nothing is injected */
	assert_int_equal(request("GET", "/", "x-faultline-abort: 429\r\n", buf, sizeof(buf), NULL),
			 200);
	json_decref(api(F, "POST", "/proxies/web", 200, "{\"header_faults\":true}"));
	assert_int_equal(request("GET", "/", "x-faultline-abort: 429\r\n", buf, sizeof(buf), NULL),
			 429);
	assert_int_equal(request("GET", "/", "x-faultline-delay: 150\r\n", buf, sizeof(buf), &ms),
			 200);
	if (ms < 149 || ms > 600)
		fail_msg("x-faultline-delay 150: %.1f ms", ms);
	json_decref(api(F, "POST", "/proxies/web", 200, "{\"header_faults\":false}"));
}

/* "http": false turns parsing off: header faults do nothing, nothing is recorded. */
static void test_http_off(void **state)
{
	(void)state;
	json_t *j = api(F, "POST", "/proxies", 201,
			"{\"name\":\"raw\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\","
			"\"http\":false,\"header_faults\":true}", F->http->port);
	assert_true(json_is_false(json_object_get(j, "http")));
	int port = atoi(strrchr(json_string_value(json_object_get(j, "listen")), ':') + 1);
	json_decref(j);
	int fd = tcp_connect(port);
	const char *req = "GET / HTTP/1.1\r\nHost: t\r\nx-faultline-abort: 500\r\n\r\n";
	write_all(fd, req, strlen(req));
	char buf[4096];
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	close(fd);
	usleep(50000);
	j = api(F, "GET", "/proxies/raw/events", 200, NULL);
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
		assert_string_not_equal(json_string_value(json_object_get(e, "event")), "http_exchange");
	json_decref(j);
	/* switched on: the same request is aborted */
	json_decref(api(F, "PATCH", "/proxies/raw", 200, "{\"http\":true}"));
	fd = tcp_connect(port);
	write_all(fd, req, strlen(req));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 500);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/raw", 204, NULL));
}

static void test_delay(void **state)
{
	(void)state;
	char buf[4096];
	double ms;
	toxic_add(F, "web", "{\"type\":\"http_delay\",\"attributes\":{\"delay\":200,\"path\":\"/slow\"}}");
	long before = F->http->requests;
	int fd = tcp_connect(P);
	const char *req = "GET /slowpath HTTP/1.1\r\nHost: t\r\n\r\n";
	int64_t t0 = fl_mono_ns();
	write_all(fd, req, strlen(req));
	usleep(100000);
	assert_int_equal(F->http->requests, before);	/* held, not yet forwarded */
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	ms = (double)(fl_mono_ns() - t0) / 1e6;
	if (ms < 199 || ms > 700)
		fail_msg("http_delay 200: %.1f ms", ms);
	close(fd);
	assert_int_equal(request("GET", "/fast", NULL, buf, sizeof(buf), &ms), 200);
	assert_true(ms < 200);
	toxic_del(F, "web", "http_delay_downstream");
}

static void test_drop_response(void **state)
{
	(void)state;
	char buf[4096];
	toxic_add(F, "web", "{\"type\":\"http_drop_response\",\"attributes\":{\"method\":\"POST\"}}");
	long before = F->http->requests;
	int fd = tcp_connect(P);
	const char *req = "POST /transfer HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
	write_all(fd, req, strlen(req));
	int err;
	size_t n = read_to_end(fd, buf, sizeof(buf), &err, NULL);
	assert_int_equal(n, 0);	/* closed without a byte of the answer */
	close(fd);
	assert_int_equal(F->http->requests, before + 1);	/* but it was applied */
	usleep(50000);
	json_t *ev = api(F, "GET", "/proxies/web/events", 200, NULL);
	json_t *x = NULL, *e;
	size_t i;
	json_array_foreach(ev, i, e)
		if (strcmp(json_string_value(json_object_get(e, "event")), "http_exchange") == 0)
			x = e;
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "fault")), "http_drop_response");
	assert_string_equal(json_string_value(json_object_get(x, "path")), "/transfer");
	assert_int_equal(json_integer_value(json_object_get(x, "status")), 200);
	assert_string_equal(json_string_value(json_object_get(x, "req_body")), "hello");
	json_decref(ev);
	toxic_del(F, "web", "http_drop_response_downstream");
}

static void test_probability(void **state)
{
	(void)state;
	char buf[4096];
	toxic_add(F, "web",
		  "{\"type\":\"http_abort\",\"attributes\":{\"status\":500,\"probability\":0.3}}");
	int fd = tcp_connect(P);
	int aborted = 0;
	for (int i = 0; i < 60; i++) {
		const char *req = "GET /p HTTP/1.1\r\nHost: t\r\n\r\n";
		write_all(fd, req, strlen(req));
		int st = read_response(fd, buf, sizeof(buf));
		assert_true(st == 500 || st == 200);
		aborted += st == 500;
	}
	close(fd);
	if (aborted < 6 || aborted > 32)
		fail_msg("probability 0.3: %d of 60 aborted", aborted);
	toxic_del(F, "web", "http_abort_downstream");
}

static void test_pipelined_order(void **state)
{
	(void)state;
	char buf[8192];
	toxic_add(F, "web",
		  "{\"type\":\"http_abort\",\"attributes\":{\"status\":418,\"path\":\"/two\"}}");
	int fd = tcp_connect(P);
	const char *reqs = "GET /one HTTP/1.1\r\nHost: t\r\n\r\n"
			   "GET /two HTTP/1.1\r\nHost: t\r\n\r\n"
			   "GET /three HTTP/1.1\r\nHost: t\r\n\r\n";
	write_all(fd, reqs, strlen(reqs));
	shutdown(fd, SHUT_WR);
	int err;
	size_t n = read_to_end(fd, buf, sizeof(buf) - 1, &err, NULL);
	buf[n] = 0;
	char *a = strstr(buf, "path=/one"), *b = strstr(buf, "HTTP/1.1 418"),
	     *c = strstr(buf, "path=/three");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a < b && b < c);
	close(fd);
	toxic_del(F, "web", "http_abort_downstream");
}

struct bulk {
	int lfd, n;
};

/* An upstream that answers only once it has all n requests. */
static void *late_upstream(void *arg)
{
	struct bulk *b = arg;
	int fd = accept(b->lfd, NULL, NULL);
	static char buf[1 << 16];
	int seen = 0;
	size_t carry = 0;
	while (seen < b->n) {
		ssize_t r = read(fd, buf + carry, sizeof(buf) - 1 - carry);
		if (r <= 0)
			break;
		size_t len = carry + (size_t)r;
		for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), "\r\n\r\n", 4)); p += 4)
			seen++;
		carry = len < 3 ? len : 3;
		memmove(buf, buf + len - carry, carry);
	}
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	for (int i = 0; i < seen; i++)
		write_all(fd, resp, strlen(resp));
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return NULL;
}

/* Endless pipelining stays bounded: with 6000 requests pending at once the
 * proxy records the first 4096, tunnels the rest, and every request is
 * still answered. */
static void test_pipelining_bounded(void **state)
{
	(void)state;
	struct bulk b = { socket(AF_INET, SOCK_STREAM, 0), 6000 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(b.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(b.lfd, 4), 0);
	socklen_t sl = sizeof(a);
	getsockname(b.lfd, (struct sockaddr *)&a, &sl);
	json_t *j = api(F, "POST", "/proxies", 201,
			"{\"name\":\"bulk\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\"}",
			ntohs(a.sin_port));
	int port = atoi(strrchr(json_string_value(json_object_get(j, "listen")), ':') + 1);
	json_decref(j);
	pthread_t t;
	pthread_create(&t, NULL, late_upstream, &b);
	int fd = tcp_connect(port);
	const char *req = "GET /b HTTP/1.1\r\nHost: t\r\n\r\n";
	size_t rl = strlen(req);
	char *all = malloc(rl * (size_t)b.n);
	for (int i = 0; i < b.n; i++)
		memcpy(all + rl * (size_t)i, req, rl);
	write_all(fd, all, rl * (size_t)b.n);
	free(all);
	shutdown(fd, SHUT_WR);
	static char buf[1 << 16];
	int answered = 0, err;
	size_t carry = 0;
	for (;;) {
		ssize_t r = read(fd, buf + carry, sizeof(buf) - 1 - carry);
		if (r <= 0) {
			err = r < 0 ? errno : 0;
			break;
		}
		size_t len = carry + (size_t)r;
		for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), "HTTP/1.1 200", 12)); p += 12)
			answered++;
		carry = len < 11 ? len : 11;
		memmove(buf, buf + len - carry, carry);
	}
	assert_int_equal(err, 0);
	pthread_join(t, NULL);
	close(fd);
	close(b.lfd);
	assert_int_equal(answered, b.n);
	usleep(50000);
	json_t *ev = api(F, "GET", "/proxies/bulk/events", 200, NULL);
	size_t i, x = 0;
	json_t *e;
	json_array_foreach(ev, i, e)
		x += strcmp(json_string_value(json_object_get(e, "event")), "http_exchange") == 0;
	assert_int_equal(x, 4096);
	json_decref(ev);
	json_decref(api(F, "DELETE", "/proxies/bulk", 204, NULL));
}

/* A message that is invalid from its first byte, after a valid one: the
 * connection becomes a tunnel (it used to leave an empty chunk that the
 * writer spun on). The proxy stays responsive. */
static void test_invalid_second_message(void **state)
{
	(void)state;
	int fd = tcp_connect(P);
	const char *req = "GET /first HTTP/1.1\r\nHost: t\r\n\r\n\x01\x02garbage\r\n\r\n";
	write_all(fd, req, strlen(req));
	shutdown(fd, SHUT_WR);
	char buf[4096];
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	int err;
	read_to_end(fd, buf, sizeof(buf), &err, NULL);
	close(fd);
	int64_t t0 = fl_mono_ns();
	json_decref(api(F, "GET", "/version", 200, NULL));
	assert_true(fl_mono_ns() - t0 < 500000000);
	assert_int_equal(request("GET", "/after", NULL, buf, sizeof(buf), NULL), 200);
}

/* Mangled HTTP through an HTTP link: every connection ends (answered,
 * tunnelled or closed) and the proxy keeps serving. */
static void test_mangled_http(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"GET /a?b=c HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
		"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nx-faultline-abort: 503\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	};
	toxic_add(F, "web", "{\"type\":\"http_delay\",\"name\":\"md\",\"attributes\":{\"delay\":1,\"probability\":0.5}}");
	struct fl_prng r;
	fl_prng_seed(&r, 3);
	for (int i = 0; i < 600; i++) {
		char req[512];
		snprintf(req, sizeof(req), "%s", seeds[fl_prng_range(&r, 0, 3)]);
		size_t n = strlen(req);
		for (int k = (int)fl_prng_range(&r, 0, 6); k > 0; k--)
			req[fl_prng_range(&r, 0, (int64_t)n - 1)] = (char)fl_prng_range(&r, 0, 255);
		int fd = tcp_connect(P);
		assert_true(fd >= 0);
		struct timeval tv = { 2, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		write_all(fd, req, n);
		shutdown(fd, SHUT_WR);
		char buf[8192];
		int err;
		read_to_end(fd, buf, sizeof(buf), &err, NULL);
		assert_true(err == 0 || err == ECONNRESET);
		close(fd);
	}
	toxic_del(F, "web", "md");
	char buf[4096];
	assert_int_equal(request("GET", "/still", NULL, buf, sizeof(buf), NULL), 200);
}

static void test_exchange_events(void **state)
{
	(void)state;
	char buf[4096];
	json_t *ev = api(F, "GET", "/proxies/web/events", 200, NULL);
	uint64_t since = (uint64_t)json_integer_value(
		json_object_get(json_array_get(ev, json_array_size(ev) - 1), "seq"));
	json_decref(ev);
	/* a body over the cap is kept to 64 KiB */
	size_t blen = 100000;
	char *body = malloc(blen);
	memset(body, 'b', blen);
	int fd = tcp_connect(P);
	char head[256];
	snprintf(head, sizeof(head), "PUT /items/7?q=1 HTTP/1.1\r\nHost: t\r\nX-Req: r1\r\n"
				     "Content-Length: %zu\r\n\r\n", blen);
	int64_t t0 = fl_mono_ns();
	write_all(fd, head, strlen(head));
	write_all(fd, body, blen);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	int64_t t1 = fl_mono_ns();
	close(fd);
	free(body);
	usleep(50000);
	char path[128];
	snprintf(path, sizeof(path), "/proxies/web/events?since=%llu&event=http_exchange",
		 (unsigned long long)since);
	ev = api(F, "GET", path, 200, NULL);
	json_t *x = NULL, *e;
	size_t i;
	json_array_foreach(ev, i, e)
		if (strcmp(json_string_value(json_object_get(e, "event")), "http_exchange") == 0)
			x = e;
	assert_non_null(x);
	assert_int_equal(json_array_size(ev), 1);	/* the kind filter */
	assert_string_equal(json_string_value(json_object_get(x, "link")), "web");
	assert_string_equal(json_string_value(json_object_get(x, "method")), "PUT");
	assert_string_equal(json_string_value(json_object_get(x, "path")), "/items/7");
	assert_string_equal(json_string_value(json_object_get(x, "query")), "q=1");
	assert_int_equal(json_integer_value(json_object_get(x, "status")), 200);
	assert_true(json_is_null(json_object_get(x, "fault")));
	int64_t s = json_integer_value(json_object_get(x, "start"));
	int64_t en = json_integer_value(json_object_get(x, "end"));
	assert_true(s >= t0 && s <= en && en <= t1);
	assert_int_equal(json_integer_value(json_object_get(x, "req_bytes")),
			 (json_int_t)(strlen(head) + blen));
	assert_true(json_integer_value(json_object_get(x, "resp_bytes")) > 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(x, "req_headers"),
								"x-req")), "r1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(x, "resp_headers"),
								"x-upstream")), "yes");
	assert_int_equal(strlen(json_string_value(json_object_get(x, "req_body"))), 65536);
	assert_string_equal(json_string_value(json_object_get(x, "resp_body")), "path=/items/7?q=1");
	assert_non_null(json_object_get(x, "ts"));
	json_decref(ev);
}

/* Once the link is idle its events are kept as text: an exchange reads back
 * the same, a body with a NUL byte in it included (raw text here: the
 * test's JSON reader refuses "\u0000"). */
static char *events_raw(const char *link)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/proxies/%s/events?event=http_exchange", F->api, link);
	struct fl_http_request rq = { .method = "GET", .url = url, .timeout_ms = 5000 };
	struct fl_http_response *r = NULL;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_int_equal(r->status, 200);
	char *text = strndup(r->body.data ? r->body.data : "", r->body.len);
	fl_http_response_free(r);
	return text;
}

static void test_events_after_idle(void **state)
{
	(void)state;
	char buf[4096];
	int port = proxy_new(F, "idle", 1);
	int fd = tcp_connect(port);
	static const char req[] =
		"POST /nul HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\na\0b\"\n";
	write_all(fd, req, sizeof(req) - 1);
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	close(fd);
	char *before = NULL;
	for (int i = 0; i < 200 && (!before || !strstr(before, "http_exchange")); i++) {
		free(before); /* until the exchange is recorded (bounded) */
		usleep(10000);
		before = events_raw("idle");
	}
	assert_non_null(strstr(before, "\"req_body\":\"a\\u0000b\\\"\\n\""));
	usleep(1500 * 1000); /* idle: no connection, no event for 1 s */
	char *after = events_raw("idle");
	assert_string_equal(after, before);
	free(before);
	free(after);
	json_decref(api(F, "DELETE", "/proxies/idle", 204, NULL));
}

/* A caller that gives up (closes while its request is held by http_delay)
 * leaves a record at once: no status, the error saying the client left. */
static void test_client_gave_up(void **state)
{
	(void)state;
	toxic_add(F, "web", "{\"type\":\"http_delay\",\"attributes\":{\"delay\":600,\"path\":\"/held\"}}");
	json_t *ev = api(F, "GET", "/proxies/web/events", 200, NULL);
	uint64_t since = (uint64_t)json_integer_value(
		json_object_get(json_array_get(ev, json_array_size(ev) - 1), "seq"));
	json_decref(ev);
	int fd = tcp_connect(P);
	const char *req = "GET /held HTTP/1.1\r\nHost: t\r\n\r\n";
	int64_t t0 = fl_mono_ns();
	write_all(fd, req, strlen(req));
	usleep(100000);
	int64_t t1 = fl_mono_ns();
	close(fd);
	usleep(100000); /* well before the delay is over */
	char path[128];
	snprintf(path, sizeof(path), "/proxies/web/events?since=%llu&event=http_exchange",
		 (unsigned long long)since);
	ev = api(F, "GET", path, 200, NULL);
	assert_int_equal(json_array_size(ev), 1);
	json_t *x = json_array_get(ev, 0);
	assert_string_equal(json_string_value(json_object_get(x, "path")), "/held");
	assert_true(json_is_null(json_object_get(x, "status")));
	assert_string_equal(json_string_value(json_object_get(x, "error")),
			    "client closed before the response");
	int64_t s = json_integer_value(json_object_get(x, "start"));
	int64_t en = json_integer_value(json_object_get(x, "end"));
	assert_true(s >= t0 && s <= t1 && en >= t1 && en < t1 + 100000000);
	json_decref(ev);
	/* the held request still goes on, but is not recorded twice */
	usleep(700000);
	ev = api(F, "GET", path, 200, NULL);
	assert_int_equal(json_array_size(ev), 1);
	json_decref(ev);
	toxic_del(F, "web", "http_delay_downstream");
}

/* A request sent on a kept-alive connection the upstream had already
 * closed never reaches it (the client resends it elsewhere): its record
 * says so, so that one call is not counted as two that reached the
 * service. */
static void test_upstream_gone(void **state)
{
	(void)state;
	char buf[4096];
	json_t *ev = api(F, "GET", "/proxies/web/events", 200, NULL);
	uint64_t since = (uint64_t)json_integer_value(
		json_object_get(json_array_get(ev, json_array_size(ev) - 1), "seq"));
	json_decref(ev);
	long before = F->http->requests;
	int fd = tcp_connect(P);
	const char *r1 = "GET /close HTTP/1.1\r\nHost: t\r\n\r\n";
	write_all(fd, r1, strlen(r1));
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	usleep(100000); /* the upstream's close reaches the proxy */
	const char *r2 = "GET /again HTTP/1.1\r\nHost: t\r\n\r\n";
	write_all(fd, r2, strlen(r2));
	int err;
	assert_int_equal(read_to_end(fd, buf, sizeof(buf), &err, NULL), 0);
	close(fd);
	usleep(100000);
	assert_int_equal(F->http->requests, before + 1);
	char path[128];
	snprintf(path, sizeof(path), "/proxies/web/events?since=%llu&event=http_exchange",
		 (unsigned long long)since);
	ev = api(F, "GET", path, 200, NULL);
	assert_int_equal(json_array_size(ev), 2);
	json_t *x = json_array_get(ev, 1);
	assert_string_equal(json_string_value(json_object_get(x, "path")), "/again");
	assert_true(json_is_null(json_object_get(x, "status")));
	assert_string_equal(json_string_value(json_object_get(x, "error")),
			    "upstream closed before the request");
	json_decref(ev);
}

static void test_events_sink(void **state)
{
	(void)state;
	char dir[64];
	snprintf(dir, sizeof(dir), "/tmp/fl-proxy-sink-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	char file[128];
	snprintf(file, sizeof(file), "%s/events.jsonl", dir);
	char err[256];
	struct fl_proxy_opts o = { .events_path = file };
	struct fl_proxy_engine *e = fl_proxy_engine_new(&o, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(fl_proxy_api_start(e, "127.0.0.1:0", NULL, err, sizeof(err)), 0);
	assert_int_equal(fl_proxy_engine_start_thread(e, err, sizeof(err)), 0);
	struct fx f2 = { .e = e, .echo = F->echo, .http = F->http };
	snprintf(f2.api, sizeof(f2.api), "%s", fl_proxy_api_url(e));
	int port = proxy_new(&f2, "sink", 1);
	int fd = tcp_connect(port);
	const char *req = "GET /s HTTP/1.1\r\nHost: t\r\n\r\n";
	write_all(fd, req, strlen(req));
	char buf[4096];
	assert_int_equal(read_response(fd, buf, sizeof(buf)), 200);
	close(fd);
	usleep(50000);
	fl_proxy_engine_free(e);
	FILE *fp = fopen(file, "r");
	assert_non_null(fp);
	char line[8192];
	int opens = 0, xchg = 0, closes = 0;
	while (fgets(line, sizeof(line), fp)) {
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		const char *k = json_string_value(json_object_get(j, "event"));
		opens += strcmp(k, "connection_open") == 0;
		closes += strcmp(k, "connection_close") == 0;
		xchg += strcmp(k, "http_exchange") == 0;
		assert_string_equal(json_string_value(json_object_get(j, "link")), "sink");
		json_decref(j);
	}
	fclose(fp);
	assert_int_equal(opens, 1);
	assert_int_equal(xchg, 1);
	assert_int_equal(closes, 1);
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abort_matchers),
		cmocka_unit_test(test_header_controlled),
		cmocka_unit_test(test_http_off),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_drop_response),
		cmocka_unit_test(test_probability),
		cmocka_unit_test(test_pipelined_order),
		cmocka_unit_test(test_pipelining_bounded),
		cmocka_unit_test(test_invalid_second_message),
		cmocka_unit_test(test_mangled_http),
		cmocka_unit_test(test_exchange_events),
		cmocka_unit_test(test_events_after_idle),
		cmocka_unit_test(test_client_gave_up),
		cmocka_unit_test(test_upstream_gone),
		cmocka_unit_test(test_events_sink),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
