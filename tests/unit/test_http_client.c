/* core/http_client against core/http_server on loopback: responses (status,
 * headers in order, body, JSON, timing), thousands of requests in flight in
 * one thread, error mapping (refused, timeouts, body cap, reset), cancel,
 * keep-alive reuse, redirects, the blocking fl_http_fetch. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/http_server.h"
#include "core/json.h"

/* --- harness ---------------------------------------------------------- */

struct env {
	struct event_base *base;
	struct fl_http_server *srv;
	struct fl_http_client *cli;
	char url[128];
	/* server-side observations */
	char peers[64][80];
	size_t npeers;
	int hits;
	struct fl_http_req *held[8];
	size_t nheld;
};

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static bool run_until(struct event_base *base, const bool *flag, int ms)
{
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 5000 };
	event_add(t, &tv);
	int64_t end = fl_mono_ns() + (int64_t)ms * 1000000;
	while (!*flag && fl_mono_ns() < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *flag;
}

static void run_for(struct event_base *base, int ms)
{
	bool never = false;
	run_until(base, &never, ms);
}

static void note_peer(struct env *e, struct fl_http_req *r)
{
	e->hits++;
	const char *p = fl_http_req_peer(r);
	for (size_t i = 0; i < e->npeers; i++)
		if (strcmp(e->peers[i], p) == 0)
			return;
	if (e->npeers < 64)
		snprintf(e->peers[e->npeers++], sizeof(e->peers[0]), "%s", p);
}

static void h_hello(struct fl_http_req *r, void *arg)
{
	note_peer(arg, r);
	fl_http_reply_header(r, "X-One", "1");
	fl_http_reply_header(r, "Set-Cookie", "a=1");
	fl_http_reply_header(r, "Set-Cookie", "b=2");
	fl_http_reply(r, 200, "text/plain", "hello\n", 6);
}

static void h_echo(struct fl_http_req *r, void *arg)
{
	note_peer(arg, r);
	size_t len;
	const char *body = fl_http_req_body(r, &len);
	const char *ct = fl_http_req_header(r, "Content-Type");
	const char *expect = fl_http_req_header(r, "Expect");
	const char *custom = fl_http_req_header(r, "X-Custom");
	fl_http_reply_json(r, 200,
			   json_pack("{s:s, s:s%, s:s*, s:s*, s:s*}", "method", fl_http_req_method(r),
				     "body", body, len, "content_type", ct, "expect", expect,
				     "custom", custom));
}

static void h_big(struct fl_http_req *r, void *arg)
{
	note_peer(arg, r);
	char buf[1000];
	memset(buf, 'b', sizeof(buf));
	fl_http_reply(r, 200, "application/octet-stream", buf, sizeof(buf));
}

static void h_hold(struct fl_http_req *r, void *arg)
{
	struct env *e = arg;
	note_peer(e, r);
	if (e->nheld < 8)
		e->held[e->nheld++] = r;
	else
		fl_http_reply_error(r, 503, "too many held");
}

static void h_redirect(struct fl_http_req *r, void *arg)
{
	note_peer(arg, r);
	fl_http_reply_header(r, "Location", "/hello");
	fl_http_reply(r, 302, NULL, NULL, 0);
}

static void h_abandon(struct fl_http_req *r, void *arg)
{
	note_peer(arg, r);
	fl_http_req_abandon(r);
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[256] = "";
	assert_non_null(e);
	e->base = event_base_new();
	/* room for test_many_in_flight's 2000 connections (the default cap is 1024) */
	struct fl_http_server_opts o = { .addr = "127.0.0.1:0", .max_body = 4 << 20, .max_conns = 4096 };
	e->srv = fl_http_server_new(e->base, &o, err, sizeof(err));
	if (!e->srv)
		fail_msg("server: %s", err);
	fl_http_server_route(e->srv, "GET", "/hello", h_hello, e);
	fl_http_server_route(e->srv, "*", "/echo", h_echo, e);
	fl_http_server_route(e->srv, "GET", "/big", h_big, e);
	fl_http_server_route(e->srv, "GET", "/hold", h_hold, e);
	fl_http_server_route(e->srv, "GET", "/redirect", h_redirect, e);
	fl_http_server_route(e->srv, "GET", "/abandon", h_abandon, e);
	e->cli = fl_http_client_new(e->base, err, sizeof(err));
	assert_non_null(e->cli);
	snprintf(e->url, sizeof(e->url), "http://%s", fl_http_server_addr(e->srv));
	return e;
}

static void env_release_held(struct env *e)
{
	for (size_t i = 0; i < e->nheld; i++)
		fl_http_reply(e->held[i], 200, NULL, "late", 4);
	e->nheld = 0;
}

static void env_free(struct env *e)
{
	env_release_held(e);
	fl_http_client_free(e->cli);
	fl_http_server_free(e->srv);
	event_base_free(e->base);
	free(e);
}

struct result {
	bool done;
	int calls;
	bool in_start;
	struct fl_http_response *resp;
};

static bool g_in_start;

static void on_done(struct fl_http_response *resp, void *arg)
{
	struct result *r = arg;
	r->in_start = g_in_start;
	r->calls++;
	fl_http_response_free(r->resp);
	r->resp = resp;
	r->done = true;
}

static struct fl_http_response *send_req(struct env *e, struct fl_http_request *rq)
{
	struct result r = { 0 };
	g_in_start = true;
	int rc = fl_http_client_start(e->cli, rq, on_done, &r, NULL);
	g_in_start = false;
	assert_int_equal(rc, 0);
	assert_true(run_until(e->base, &r.done, 10000));
	assert_false(r.in_start);
	assert_int_equal(r.calls, 1);
	return r.resp;
}

static struct fl_http_response *get(struct env *e, const char *path)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", e->url, path);
	struct fl_http_request rq = { .url = url };
	return send_req(e, &rq);
}

/* A port on which nothing listens. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

/* --- tests ------------------------------------------------------------ */

static void test_response_fields(void **state)
{
	(void)state;
	struct env *e = env_new();
	struct fl_http_response *r = get(e, "/hello");
	assert_int_equal(r->err, 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body.data, "hello\n");
	assert_int_equal(r->body.len, 6);
	assert_null(r->json);
	assert_string_equal(r->method, "GET");
	assert_non_null(strstr(r->url, "/hello"));
	assert_null(r->req_body);
	assert_string_equal(fl_http_response_header(r, "x-one"), "1");
	assert_string_equal(fl_http_response_header(r, "CONTENT-TYPE"), "text/plain");
	assert_null(fl_http_response_header(r, "X-Missing"));
	/* every header, in order, duplicates kept */
	int one = -1, c1 = -1, c2 = -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (strcmp(r->headers[i].name, "X-One") == 0)
			one = (int)i;
		else if (strcmp(r->headers[i].name, "Set-Cookie") == 0 && c1 < 0)
			c1 = (int)i;
		else if (strcmp(r->headers[i].name, "Set-Cookie") == 0)
			c2 = (int)i;
	}
	assert_true(one >= 0 && c1 == one + 1 && c2 == c1 + 1);
	assert_string_equal(r->headers[c2].value, "b=2");
	assert_string_equal(fl_http_response_header(r, "Set-Cookie"), "a=1");
	assert_true(r->t_total > 0 && r->t_total < 5);
	assert_true(r->t_ttfb > 0 && r->t_ttfb <= r->t_total);
	assert_true(r->t_connect > 0 && r->t_connect <= r->t_ttfb);
	assert_string_equal(r->primary_ip, "127.0.0.1");
	assert_int_equal(r->primary_port, fl_http_server_port(e->srv));
	fl_http_response_free(r);

	/* JSON request body: Content-Type set, no Expect: 100-continue, json parsed */
	char url[256];
	snprintf(url, sizeof(url), "%s/echo", e->url);
	json_t *body = json_pack("{s:i, s:s}", "amount", 20000, "to", "KB-001");
	const char *hdrs[] = { "X-Custom: yes" };
	struct fl_http_request rq = { .method = "PUT", .url = url, .json = body,
				      .headers = hdrs, .nheaders = 1 };
	r = send_req(e, &rq);
	json_decref(body);
	assert_int_equal(r->status, 200);
	assert_non_null(r->json);
	assert_string_equal(fl_json_str(r->json, "method", ""), "PUT");
	assert_string_equal(fl_json_str(r->json, "content_type", ""), "application/json");
	assert_string_equal(fl_json_str(r->json, "custom", ""), "yes");
	assert_null(json_object_get(r->json, "expect"));
	json_t *sent = json_loads(fl_json_str(r->json, "body", ""), 0, NULL);
	assert_int_equal(fl_json_int(sent, "amount", 0), 20000);
	json_decref(sent);
	assert_non_null(r->req_body);
	assert_non_null(strstr(r->req_body, "\"amount\":20000"));
	fl_http_response_free(r);

	/* a body over libcurl's Expect threshold (1 MiB) goes without Expect */
	size_t n = 1500000;
	char *big = malloc(n);
	memset(big, 'q', n);
	struct fl_http_request rq2 = { .method = "POST", .url = url, .body = big, .body_len = n };
	r = send_req(e, &rq2);
	assert_int_equal(r->status, 200);
	assert_int_equal(strlen(fl_json_str(r->json, "body", "")), n);
	assert_null(json_object_get(r->json, "expect"));
	fl_http_response_free(r);
	free(big);

	/* POST without a body, HEAD, DELETE */
	const char *methods[] = { "POST", "DELETE", "OPTIONS" };
	for (size_t i = 0; i < 3; i++) {
		struct fl_http_request rq3 = { .method = methods[i], .url = url };
		r = send_req(e, &rq3);
		assert_int_equal(r->status, 200);
		assert_string_equal(fl_json_str(r->json, "method", ""), methods[i]);
		fl_http_response_free(r);
	}
	snprintf(url, sizeof(url), "%s/hello", e->url);
	struct fl_http_request head = { .method = "HEAD", .url = url };
	r = send_req(e, &head);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->body.len, 0);
	fl_http_response_free(r);
	env_free(e);
}

struct many {
	int done, ok;
	bool all;
	int total;
};

static void many_done(struct fl_http_response *resp, void *arg)
{
	struct many *m = arg;
	m->done++;
	if (resp->err == 0 && resp->status == 200 && strcmp(resp->body.data, "hello\n") == 0)
		m->ok++;
	else
		print_message("request failed: %s\n", resp->errmsg);
	if (m->done == m->total)
		m->all = true;
	fl_http_response_free(resp);
}

static void test_many_in_flight(void **state)
{
	(void)state;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int total = 2000;
	if (rl.rlim_cur < 4500) {
		rl.rlim_cur = rl.rlim_max < 4500 ? rl.rlim_max : 4500;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 4500)
			total = (int)(rl.rlim_cur / 2) - 100;
	}
	struct env *e = env_new();
	char url[256];
	snprintf(url, sizeof(url), "%s/hello", e->url);
	struct fl_http_request rq = { .url = url, .timeout_ms = 20000 };
	struct many m = { .total = total };
	int64_t t0 = fl_mono_ns();
	for (int i = 0; i < total; i++)
		assert_int_equal(fl_http_client_start(e->cli, &rq, many_done, &m, NULL), 0);
	assert_int_equal(fl_http_client_inflight(e->cli), (size_t)total);
	assert_true(run_until(e->base, &m.all, 20000));
	assert_int_equal(m.ok, total);
	assert_int_equal(fl_http_client_inflight(e->cli), 0);
	print_message("%d concurrent requests in %.2f s\n", total,
		      (double)(fl_mono_ns() - t0) / 1e9);
	env_free(e);
}

static void test_connection_refused(void **state)
{
	(void)state;
	struct env *e = env_new();
	int port = closed_port();
	char url[128], want[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	struct fl_http_request rq = { .url = url };
	struct fl_http_response *r = send_req(e, &rq);
	assert_int_equal(r->err, FL_ECONNREFUSED);
	assert_int_equal(r->status, 0);
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%d failed: Connection refused", port);
	assert_string_equal(r->errmsg, want);
	fl_http_response_free(r);
	env_free(e);
}

static void test_timeouts(void **state)
{
	(void)state;
	struct env *e = env_new();
	char url[256];
	snprintf(url, sizeof(url), "%s/hold", e->url);
	struct fl_http_request rq = { .url = url, .timeout_ms = 200 };
	int64_t t0 = fl_mono_ns();
	struct fl_http_response *r = send_req(e, &rq);
	double took = (double)(fl_mono_ns() - t0) / 1e9;
	assert_int_equal(r->err, FL_ETIMEDOUT);
	assert_true(took >= 0.19 && took < 2);
	assert_non_null(strstr(r->errmsg, "timed out after 200 ms"));
	assert_non_null(strstr(r->errmsg, url));
	fl_http_response_free(r);

	/* connect timeout: a listener whose accept queue is full drops SYNs */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	getsockname(lfd, (struct sockaddr *)&a, &len);
	int fill[4];
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	run_for(e->base, 50);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	struct fl_http_request rq2 = { .url = url, .connect_timeout_ms = 200 };
	t0 = fl_mono_ns();
	r = send_req(e, &rq2);
	took = (double)(fl_mono_ns() - t0) / 1e9;
	assert_int_equal(r->err, FL_ETIMEDOUT);
	assert_true(took < 2);
	char want[128];
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%d failed", ntohs(a.sin_port));
	assert_non_null(strstr(r->errmsg, want));
	fl_http_response_free(r);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	env_free(e);
}

static void test_body_cap_and_reset(void **state)
{
	(void)state;
	struct env *e = env_new();
	char url[256];
	snprintf(url, sizeof(url), "%s/big", e->url);
	struct fl_http_request rq = { .url = url, .max_body = 999 };
	struct fl_http_response *r = send_req(e, &rq);
	assert_int_equal(r->err, FL_E2BIG);
	assert_non_null(strstr(r->errmsg, "999"));
	assert_true(r->body.len <= 999);
	fl_http_response_free(r);
	rq.max_body = 1000;
	r = send_req(e, &rq);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->body.len, 1000);
	assert_null(r->json);
	fl_http_response_free(r);

	/* the server closes without answering */
	r = get(e, "/abandon");
	assert_int_equal(r->err, FL_ECONNRESET);
	assert_non_null(strstr(r->errmsg, "/abandon"));
	fl_http_response_free(r);

	/* nobody resolves .invalid */
	struct fl_http_request rq2 = { .url = "http://no-such-host.invalid/", .timeout_ms = 6000 };
	r = send_req(e, &rq2);
	if (r->err == FL_ETIMEDOUT) {
		print_message("the resolver did not answer within 6 s; resolve check skipped\n");
	} else {
		assert_int_equal(r->err, FL_ERESOLVE);
		assert_non_null(strstr(r->errmsg, "no-such-host.invalid"));
	}
	fl_http_response_free(r);
	env_free(e);
}

static void test_cancel(void **state)
{
	(void)state;
	struct env *e = env_new();
	char url[256];
	snprintf(url, sizeof(url), "%s/hold", e->url);
	struct fl_http_request rq = { .url = url };
	struct result r1 = { 0 }, r2 = { 0 };
	uint64_t id1 = 0, id2 = 0;
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &r1, &id1), 0);
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &r2, &id2), 0);
	assert_true(id1 != id2);
	bool never = false;
	for (int i = 0; i < 400 && e->nheld < 2; i++)
		run_until(e->base, &never, 5);
	assert_int_equal(e->nheld, 2);
	assert_int_equal(fl_http_client_cancel(e->cli, id1), 0);
	assert_int_equal(fl_http_client_cancel(e->cli, id1), FL_ENOENT);
	assert_int_equal(fl_http_client_inflight(e->cli), 1);
	env_release_held(e);
	assert_true(run_until(e->base, &r2.done, 3000));
	run_for(e->base, 100);
	assert_int_equal(r1.calls, 0);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.resp->status, 200);
	fl_http_response_free(r2.resp);
	assert_int_equal(fl_http_client_cancel(e->cli, id2), FL_ENOENT);
	assert_int_equal(fl_http_client_cancel(e->cli, 987654), FL_ENOENT);
	env_free(e);
}

static void test_free_inflight(void **state)
{
	(void)state;
	struct env *e = env_new();
	char err[128];
	struct fl_http_client *c = fl_http_client_new(e->base, err, sizeof(err));
	char url[256];
	snprintf(url, sizeof(url), "%s/hold", e->url);
	struct fl_http_request rq = { .url = url };
	struct result r[3] = { 0 };
	for (int i = 0; i < 3; i++)
		assert_int_equal(fl_http_client_start(c, &rq, on_done, &r[i], NULL), 0);
	bool never = false;
	for (int i = 0; i < 400 && e->nheld < 3; i++)
		run_until(e->base, &never, 5);
	fl_http_client_free(c);
	env_release_held(e);
	run_for(e->base, 100);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r[i].calls, 0);
	env_free(e);
}

/* Freeing the client from inside a done callback: no further callback. */
struct selfkill {
	struct fl_http_client *c;
	int calls;
};

static void kill_done(struct fl_http_response *resp, void *arg)
{
	struct selfkill *k = arg;
	k->calls++;
	fl_http_response_free(resp);
	if (k->c) {
		fl_http_client_free(k->c);
		k->c = NULL;
	}
}

static void test_free_from_callback(void **state)
{
	(void)state;
	struct env *e = env_new();
	char err[128];
	struct selfkill k = { .c = fl_http_client_new(e->base, err, sizeof(err)) };
	char url[256];
	snprintf(url, sizeof(url), "%s/hello", e->url);
	struct fl_http_request rq = { .url = url };
	for (int i = 0; i < 20; i++)
		assert_int_equal(fl_http_client_start(k.c, &rq, kill_done, &k, NULL), 0);
	bool never = false;
	for (int i = 0; i < 200 && k.c; i++)
		run_until(e->base, &never, 5);
	run_for(e->base, 100);
	assert_null(k.c);
	assert_int_equal(k.calls, 1);
	env_free(e);
}

static void test_keepalive_reuse(void **state)
{
	(void)state;
	struct env *e = env_new();
	for (int i = 0; i < 20; i++) {
		struct fl_http_response *r = get(e, "/hello");
		assert_int_equal(r->status, 200);
		if (i > 0)
			assert_true(r->t_connect == 0);
		fl_http_response_free(r);
	}
	assert_int_equal(e->hits, 20);
	assert_true(e->npeers < 20);
	assert_int_equal(e->npeers, 1);

	/* rounds of 20 concurrent requests reuse the first round's connections */
	char url[256];
	snprintf(url, sizeof(url), "%s/hello", e->url);
	struct fl_http_request rq = { .url = url };
	for (int round = 0; round < 10; round++) {
		struct many m = { .total = 20 };
		for (int i = 0; i < 20; i++)
			assert_int_equal(fl_http_client_start(e->cli, &rq, many_done, &m, NULL), 0);
		assert_true(run_until(e->base, &m.all, 5000));
		assert_int_equal(m.ok, 20);
	}
	assert_int_equal(e->hits, 220);
	assert_true(e->npeers <= 21);
	env_free(e);
}

static void test_redirects(void **state)
{
	(void)state;
	struct env *e = env_new();
	struct fl_http_response *r = get(e, "/redirect");
	assert_int_equal(r->status, 302);
	assert_string_equal(fl_http_response_header(r, "Location"), "/hello");
	fl_http_response_free(r);
	char url[256];
	snprintf(url, sizeof(url), "%s/redirect", e->url);
	struct fl_http_request rq = { .url = url, .follow_redirects = 1 };
	r = send_req(e, &rq);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body.data, "hello\n");
	/* only the final response's headers */
	assert_null(fl_http_response_header(r, "Location"));
	fl_http_response_free(r);
	env_free(e);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct env *e = env_new();
	struct result r = { 0 };
	struct fl_http_request none = { 0 };
	struct fl_http_request bad = { .url = "not a url at all" };
	struct fl_http_request badm = { .method = "GE T", .url = e->url };
	assert_int_equal(fl_http_client_start(e->cli, &none, on_done, &r, NULL), FL_EINVAL);
	assert_int_equal(fl_http_client_start(e->cli, &bad, on_done, &r, NULL), FL_EINVAL);
	assert_int_equal(fl_http_client_start(e->cli, &badm, on_done, &r, NULL), FL_EINVAL);
	assert_int_equal(fl_http_client_start(NULL, &bad, on_done, &r, NULL), FL_EINVAL);
	run_for(e->base, 50);
	assert_int_equal(r.calls, 0);
	assert_int_equal(fl_http_client_inflight(e->cli), 0);
	struct fl_http_response *out = (void *)1;
	assert_int_equal(fl_http_fetch(&none, &out), FL_EINVAL);
	assert_null(out);
	char err[64];
	assert_null(fl_http_client_new(NULL, err, sizeof(err)));
	fl_http_client_free(NULL);
	fl_http_response_free(NULL);
	env_free(e);
}

/* --- fl_http_fetch, with the server on its own thread ------------------ */

struct bg {
	struct event_base *base;
	struct fl_http_server *srv;
	atomic_bool stop;
	struct env dummy;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;
	while (!atomic_load(&b->stop)) {
		bool never = false;
		run_until(b->base, &never, 20);
	}
	return NULL;
}

static void test_fetch(void **state)
{
	(void)state;
	struct bg b = { 0 };
	char err[256];
	b.base = event_base_new();
	struct fl_http_server_opts o = { .addr = "127.0.0.1:0" };
	b.srv = fl_http_server_new(b.base, &o, err, sizeof(err));
	assert_non_null(b.srv);
	fl_http_server_route(b.srv, "*", "/echo", h_echo, &b.dummy);
	pthread_t th;
	atomic_store(&b.stop, false);
	assert_int_equal(pthread_create(&th, NULL, bg_main, &b), 0);

	char url[256];
	snprintf(url, sizeof(url), "http://%s/echo", fl_http_server_addr(b.srv));
	struct fl_http_request rq = { .method = "POST", .url = url, .body = "abc", .body_len = 3 };
	struct fl_http_response *r = NULL;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_non_null(r);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(fl_json_str(r->json, "body", ""), "abc");
	fl_http_response_free(r);

	int port = closed_port();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	struct fl_http_request rq2 = { .url = url };
	assert_int_equal(fl_http_fetch(&rq2, &r), 0);
	assert_int_equal(r->err, FL_ECONNREFUSED);
	assert_non_null(strstr(r->errmsg, "Connection refused"));
	fl_http_response_free(r);

	atomic_store(&b.stop, true);
	pthread_join(th, NULL);
	fl_http_server_free(b.srv);
	event_base_free(b.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_fields),
		cmocka_unit_test(test_many_in_flight),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_body_cap_and_reset),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_free_inflight),
		cmocka_unit_test(test_free_from_callback),
		cmocka_unit_test(test_keepalive_reuse),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_fetch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
