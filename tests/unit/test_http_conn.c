/* core/http_conn: connections hold up whoever sends them: an absolute
 * deadline for the request head, a connection cap a flood of slow clients
 * cannot use to lock a fresh one out, every protocol error answered as
 * JSON, and any method token the HTTP grammar allows. Real sockets on
 * loopback. */
#include "tests/unit/test_http_fixture.h"

/* One raw exchange: send req on a new connection, read until close. */
static void raw_exchange(struct env *e, const char *req, size_t len, char *out, size_t outlen)
{
	int fd = raw_connect(e);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	raw_read(e, fd, out, outlen, 3000);
	close(fd);
}

static void expect_json_error(const char *out, const char *status_line, const char *msg)
{
	if (strncmp(out, status_line, strlen(status_line)) != 0)
		fail_msg("want %s, got: %.200s", status_line, out);
	assert_non_null(strstr(out, "Content-Type: application/json"));
	if (!strstr(out, msg))
		fail_msg("want %s in: %.300s", msg, out);
	assert_null(strstr(out, "<HTML>"));
}

static void h_method(struct fl_http_req *r, void *arg)
{
	(void)arg;
	size_t n = 0;
	fl_http_req_body(r, &n);
	fl_http_reply_json(r, 200,
			   json_pack("{s:s,s:i}", "method", fl_http_req_method(r), "body", (int)n));
}

/* Any method token reaches the routes: a known one in another case as the
 * method, an extension method by its name. */
static void test_method_tokens(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 1024);
	fl_http_server_route(e->srv, "*", "/m", h_method, NULL);
	fl_http_server_route(e->srv, "GET", "/g", h_method, NULL);
	char out[4096];
	static const char low[] =
		"post /m HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab";
	raw_exchange(e, low, sizeof(low) - 1, out, sizeof(out));
	if (!strstr(out, "\"method\":\"POST\"") || !strstr(out, "\"body\":2"))
		fail_msg("post: %s", out);
	static const char ext[] = "PROPFIND /m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	raw_exchange(e, ext, sizeof(ext) - 1, out, sizeof(out));
	if (!strstr(out, "HTTP/1.1 200") || !strstr(out, "\"method\":\"PROPFIND\""))
		fail_msg("PROPFIND: %s", out);
	static const char ext405[] = "M-SEARCH /g HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	raw_exchange(e, ext405, sizeof(ext405) - 1, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 405", "\"status\":405");
	env_free(e);
}

/* The n-th "method" field of the replies in out, or "". */
static const char *nth_method(const char *out, int n, char *buf, size_t len)
{
	const char *p = out;
	buf[0] = '\0';
	for (int i = 0; i <= n; i++) {
		p = strstr(p, "\"method\":\"");
		if (!p)
			return buf;
		p += strlen("\"method\":\"");
	}
	size_t k = strcspn(p, "\"");
	snprintf(buf, len, "%.*s", (int)(k < len ? k : len - 1), p);
	return buf;
}

/* Pipelined requests each get their own method token: an extension method
 * or a lowercase one behind a first request, whether it came in the same
 * segment or split across several while the first was being answered. */
static void test_pipelined_methods(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 1024);
	fl_http_server_route(e->srv, "*", "/m", h_method, NULL);
	char out[8192], m[40];
	static const char three[] = "GET /m HTTP/1.1\r\nHost: x\r\n\r\n"
				    "post /m HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
				    "PURGE /m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	raw_exchange(e, three, sizeof(three) - 1, out, sizeof(out));
	assert_string_equal(nth_method(out, 0, m, sizeof(m)), "GET");
	assert_string_equal(nth_method(out, 1, m, sizeof(m)), "POST");
	assert_non_null(strstr(out, "\"body\":3"));
	assert_string_equal(nth_method(out, 2, m, sizeof(m)), "PURGE");

	/* the second request's token arrives in pieces, after the first */
	int fd = raw_connect(e);
	static const char first[] = "PROPFIND /m HTTP/1.1\r\nHost: x\r\n\r\npa";
	assert_int_equal(send(fd, first, sizeof(first) - 1, MSG_NOSIGNAL),
			 (ssize_t)sizeof(first) - 1);
	raw_read(e, fd, out, sizeof(out), 300);
	assert_string_equal(nth_method(out, 0, m, sizeof(m)), "PROPFIND");
	static const char rest[] = "tch /m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	assert_int_equal(send(fd, rest, sizeof(rest) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(rest) - 1);
	raw_read(e, fd, out, sizeof(out), 3000);
	close(fd);
	assert_string_equal(nth_method(out, 0, m, sizeof(m)), "PATCH");
	env_free(e);
}

/* evhttp's own protocol errors come back as JSON, like ours. */
static void test_protocol_errors_json(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 1024);
	fl_http_server_route(e->srv, "GET", "/q", h_query, NULL);
	char out[8192];
	static const char garbage[] = "\x01\x02 garbage\r\n\r\n";
	raw_exchange(e, garbage, sizeof(garbage) - 1, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 400", "\"status\":400");
	static const char trace[] = "TRACE /q HTTP/1.1\r\nHost: x\r\n\r\n";
	raw_exchange(e, trace, sizeof(trace) - 1, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 501", "method not implemented");
	static const char neg[] = "POST /q HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n";
	raw_exchange(e, neg, sizeof(neg) - 1, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 400", "\"status\":400");
	char *big = malloc(70 << 10);
	int k = snprintf(big, 70 << 10, "GET /q HTTP/1.1\r\nHost: x\r\nX-Big: %066000d\r\n\r\n", 1);
	raw_exchange(e, big, (size_t)k, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 431", "\"status\":431");
	/* many header lines over the cap, and a request line over it */
	k = snprintf(big, 70 << 10, "GET /q HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < 70; i++)
		k += snprintf(big + k, (70 << 10) - (size_t)k, "X-H%d: %0990d\r\n", i, i);
	raw_exchange(e, big, (size_t)k, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 431", "request headers too large");
	k = snprintf(big, 70 << 10, "GET /%066000d HTTP/1.1\r\nHost: x\r\n\r\n", 1);
	raw_exchange(e, big, (size_t)k, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 414", "\"status\":414");
	free(big);
	/* a malformed header line under the cap stays a bad request */
	static const char badhdr[] = "GET /q HTTP/1.1\r\nno colon here\r\n\r\n";
	raw_exchange(e, badhdr, sizeof(badhdr) - 1, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 400", "\"status\":400");
	/* a malformed chunk size is a bad request, not a body too large */
	static const char badchunk[] =
		"POST /q HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		"\r\nzz\r\nab\r\n0\r\n\r\n";
	raw_exchange(e, badchunk, sizeof(badchunk) - 1, out, sizeof(out));
	expect_json_error(out, "HTTP/1.1 400", "malformed chunked body");
	/* a reply queued before an error page is kept (pipelined) */
	static const char two[] = "GET /q?x=1 HTTP/1.1\r\nHost: x\r\n\r\nTRACE / HTTP/1.1\r\n\r\n";
	raw_exchange(e, two, sizeof(two) - 1, out, sizeof(out));
	assert_true(strncmp(out, "HTTP/1.1 200", 12) == 0);
	if (!strstr(out, "method not implemented"))
		fail_msg("pipelined: %s", out);
	struct fl_http_response *r = call(e, "GET", "/q?x=ok", NULL);
	assert_string_equal(fl_json_str(r->json, "x", ""), "ok");
	fl_http_response_free(r);
	env_free(e);
}

/* A request trickled a byte at a time gets 408 at the head deadline
 * (trickling does not extend it), and a flood of slow connections past the
 * cap cannot lock a fresh client out. */
static void test_head_deadline_and_cap(void **state)
{
	(void)state;
	struct fl_http_server_opts o = { .addr = "127.0.0.1:0",
					 .head_timeout_s = 1,
					 .max_conns = 8 };
	struct env *e = env_new_opts(&o);
	fl_http_server_route(e->srv, "GET", "/q", h_query, NULL);

	int fd = raw_connect(e);
	static const char head[] =
		"GET /q HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	int64_t t0 = fl_mono_ns();
	char out[4096] = "";
	for (size_t i = 0; i < sizeof(head) - 1; i++) {
		if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1)
			break;
		raw_read(e, fd, out, sizeof(out), 100);
		if (out[0])
			break;
	}
	if (!out[0])
		raw_read(e, fd, out, sizeof(out), 3000);
	double took = (double)(fl_mono_ns() - t0) / 1e9;
	close(fd);
	expect_json_error(out, "HTTP/1.1 408", "request not received in time");
	assert_true(took > 0.8 && took < 3.0);

	int slow[20];
	for (int i = 0; i < 20; i++) {
		slow[i] = raw_connect(e);
		assert_int_equal(send(slow[i], "G", 1, MSG_NOSIGNAL), 1);
		run_for(e->base, 2);
	}
	struct fl_http_response *r = call(e, "GET", "/q?x=fresh", NULL);
	assert_int_equal(r->status, 200);
	assert_string_equal(fl_json_str(r->json, "x", ""), "fresh");
	fl_http_response_free(r);
	for (int i = 0; i < 20; i++)
		close(slow[i]);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_errors_json),
		cmocka_unit_test(test_method_tokens),
		cmocka_unit_test(test_pipelined_methods),
		cmocka_unit_test(test_head_deadline_and_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
