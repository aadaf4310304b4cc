/* core/http_server: routing, JSON errors, body cap, asynchronous replies,
 * clients that leave early, graceful stop, IPv6. Real sockets on loopback;
 * requests come from core/http_client and from raw sockets. */
#include "tests/unit/test_http_fixture.h"

/* --- handlers --------------------------------------------------------- */

static void h_echo(struct fl_http_req *r, void *arg)
{
	const char *tag = arg;
	json_t *o = json_object();
	const char *names[] = { "id", "tx", "*" };
	for (size_t i = 0; i < 3; i++) {
		const char *v = fl_http_req_param(r, names[i]);
		if (v)
			json_object_set_new(o, names[i], json_string(v));
	}
	const char *q = fl_http_req_query(r, "q");
	if (q)
		json_object_set_new(o, "q", json_string(q));
	json_object_set_new(o, "route", json_string(tag));
	json_object_set_new(o, "method", json_string(fl_http_req_method(r)));
	json_object_set_new(o, "path", json_string(fl_http_req_path(r)));
	json_object_set_new(o, "uri", json_string(fl_http_req_uri(r)));
	size_t len;
	const char *body = fl_http_req_body(r, &len);
	json_object_set_new(o, "body_len", json_integer((json_int_t)len));
	json_object_set_new(o, "body", json_stringn(body, len));
	const char *h = fl_http_req_header(r, "x-test");
	if (h)
		json_object_set_new(o, "x_test", json_string(h));
	fl_http_reply_header(r, "X-First", "1");
	fl_http_reply_header(r, "X-Second", "2");
	fl_http_reply_json(r, 200, o);
}

static void h_json(struct fl_http_req *r, void *arg)
{
	(void)arg;
	char err[200];
	json_t *v = fl_http_req_json(r, err, sizeof(err));
	if (!v) {
		fl_http_reply_error(r, 400, "bad JSON body: %s", err);
		return;
	}
	/* a second call returns the cached value */
	assert_ptr_equal(fl_http_req_json(r, NULL, 0), v);
	fl_http_reply_json(r, 201, json_pack("{s:O}", "got", v));
}

/* --- routing ---------------------------------------------------------- */

static void test_routing(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	assert_int_equal(fl_http_server_route(e->srv, "GET", "/accounts/{id}/tx/{tx}", h_echo,
					      "tx"),
			 0);
	assert_int_equal(fl_http_server_route(e->srv, "GET", "/accounts/{id}", h_echo, "acct"), 0);
	assert_int_equal(fl_http_server_route(e->srv, "GET", "/accounts/special", h_echo,
					      "special"),
			 0);
	assert_int_equal(fl_http_server_route(e->srv, "*", "/files/*", h_echo, "files"), 0);
	assert_int_equal(fl_http_server_route(e->srv, "GET", "/", h_echo, "root"), 0);
	assert_int_equal(fl_http_server_route(e->srv, "POST", "/items", h_echo, "post"), 0);
	assert_int_equal(fl_http_server_route(e->srv, "DELETE", "/items", h_echo, "del"), 0);
	/* bad patterns */
	assert_int_equal(fl_http_server_route(e->srv, "GET", "nope", h_echo, NULL), FL_EINVAL);
	assert_int_equal(fl_http_server_route(e->srv, "GET", "/a/*/b", h_echo, NULL), FL_EINVAL);
	assert_int_equal(fl_http_server_route(e->srv, "GET", "/a/{}", h_echo, NULL), FL_EINVAL);
	assert_int_equal(fl_http_server_route(e->srv, "", "/a", h_echo, NULL), FL_EINVAL);

	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%d", fl_http_server_port(e->srv));
	assert_string_equal(fl_http_server_addr(e->srv), want);
	assert_true(fl_http_server_port(e->srv) > 0);

	struct fl_http_response *r = call(e, "GET", "/accounts/a%2Fb/tx/42?q=x%20y&z=1", NULL);
	assert_int_equal(r->status, 200);
	assert_string_equal(fl_json_str(r->json, "route", ""), "tx");
	assert_string_equal(fl_json_str(r->json, "id", ""), "a/b");
	assert_string_equal(fl_json_str(r->json, "tx", ""), "42");
	assert_string_equal(fl_json_str(r->json, "q", ""), "x y");
	assert_string_equal(fl_json_str(r->json, "path", ""), "/accounts/a/b/tx/42");
	assert_string_equal(fl_json_str(r->json, "uri", ""), "/accounts/a%2Fb/tx/42?q=x%20y&z=1");
	fl_http_response_free(r);

	/* first matching route wins: {id} was added before "special" */
	r = call(e, "GET", "/accounts/special", NULL);
	assert_string_equal(fl_json_str(r->json, "route", ""), "acct");
	assert_string_equal(fl_json_str(r->json, "id", ""), "special");
	fl_http_response_free(r);

	r = call(e, "PUT", "/files/a/b%20c/d.txt", "data");
	assert_int_equal(r->status, 200);
	assert_string_equal(fl_json_str(r->json, "route", ""), "files");
	assert_string_equal(fl_json_str(r->json, "*", ""), "a/b c/d.txt");
	assert_string_equal(fl_json_str(r->json, "method", ""), "PUT");
	assert_string_equal(fl_json_str(r->json, "body", ""), "data");
	fl_http_response_free(r);

	r = call(e, "GET", "/files", NULL);
	assert_string_equal(fl_json_str(r->json, "*", "absent"), "");
	fl_http_response_free(r);

	r = call(e, "GET", "/", NULL);
	assert_string_equal(fl_json_str(r->json, "route", ""), "root");
	assert_null(json_object_get(r->json, "q"));
	fl_http_response_free(r);

	r = call(e, "POST", "/items", "hello");
	assert_string_equal(fl_json_str(r->json, "route", ""), "post");
	assert_int_equal(fl_json_int(r->json, "body_len", -1), 5);
	fl_http_response_free(r);

	/* 404 and 405 as JSON */
	r = call(e, "GET", "/nope/deeper", NULL);
	assert_int_equal(r->status, 404);
	assert_non_null(strstr(json_error(r), "/nope/deeper"));
	assert_string_equal(fl_http_response_header(r, "content-type"), "application/json");
	fl_http_response_free(r);

	r = call(e, "GET", "/accounts/1/tx", NULL);
	assert_int_equal(r->status, 404);
	fl_http_response_free(r);

	r = call(e, "PATCH", "/items", NULL);
	assert_int_equal(r->status, 405);
	assert_non_null(strstr(json_error(r), "PATCH"));
	assert_string_equal(fl_http_response_header(r, "Allow"), "POST, DELETE");
	fl_http_response_free(r);

	assert_int_equal(fl_http_server_inflight(e->srv), 0);
	env_free(e);
}

static void test_json_and_headers(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	fl_http_server_route(e->srv, "POST", "/json", h_json, NULL);
	fl_http_server_route(e->srv, "GET", "/echo", h_echo, "echo");

	struct fl_http_response *r = call(e, "POST", "/json", "{\"a\": [1, 2]}");
	assert_int_equal(r->status, 201);
	assert_int_equal(json_integer_value(
				 json_array_get(json_object_get(json_object_get(r->json, "got"),
								"a"),
						1)),
			 2);
	fl_http_response_free(r);

	r = call(e, "POST", "/json", "{\"a\": ");
	assert_int_equal(r->status, 400);
	const char *msg = json_error(r);
	assert_non_null(strstr(msg, "bad JSON body: line 1"));
	fl_http_response_free(r);

	r = call(e, "POST", "/json", NULL);
	assert_int_equal(r->status, 400);
	assert_non_null(strstr(json_error(r), "empty body"));
	fl_http_response_free(r);

	/* request headers are readable, reply headers keep their order */
	char url[256];
	snprintf(url, sizeof(url), "%s/echo", e->url);
	const char *hdrs[] = { "X-Test: yes please" };
	struct fl_http_request rq = { .url = url, .headers = hdrs, .nheaders = 1 };
	struct result res = { 0 };
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &res, NULL), 0);
	assert_true(run_until(e->base, &res.done, 5000));
	r = res.resp;
	assert_string_equal(fl_json_str(r->json, "x_test", ""), "yes please");
	int first = -1, second = -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (strcmp(r->headers[i].name, "X-First") == 0)
			first = (int)i;
		if (strcmp(r->headers[i].name, "X-Second") == 0)
			second = (int)i;
	}
	assert_true(first >= 0 && second == first + 1);
	fl_http_response_free(r);
	env_free(e);
}

/* --- body cap --------------------------------------------------------- */

static void test_body_too_large(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 1024);
	fl_http_server_route(e->srv, "POST", "/items", h_echo, "post");

	char *big = malloc(1025 + 1);
	memset(big, 'x', 1025);
	big[1025] = '\0';
	struct fl_http_response *r = call(e, "POST", "/items", big);
	assert_int_equal(r->status, 413);
	assert_string_equal(json_error(r), "request body too large");
	assert_string_equal(fl_http_response_header(r, "Content-Type"), "application/json");
	fl_http_response_free(r);
	free(big);

	/* far over the cap: evhttp refuses it from the Content-Length alone */
	size_t n = 4 << 20;
	big = malloc(n + 1);
	memset(big, 'y', n);
	big[n] = '\0';
	r = call(e, "POST", "/items", big);
	assert_int_equal(r->status, 413);
	assert_string_equal(json_error(r), "request body too large");
	fl_http_response_free(r);
	free(big);

	/* exactly at the cap is fine, and the server keeps serving */
	big = malloc(1024 + 1);
	memset(big, 'z', 1024);
	big[1024] = '\0';
	r = call(e, "POST", "/items", big);
	assert_int_equal(r->status, 200);
	assert_int_equal(fl_json_int(r->json, "body_len", -1), 1024);
	fl_http_response_free(r);
	free(big);

	/* chunked upload over the cap, on a raw socket */
	int fd = raw_connect(e);
	char req[4096];
	char chunk[1500];
	memset(chunk, 'c', sizeof(chunk));
	int k = snprintf(req, sizeof(req),
			 "POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "%zx\r\n%.*s\r\n0\r\n\r\n",
			 sizeof(chunk), (int)sizeof(chunk), chunk);
	assert_int_equal(send(fd, req, (size_t)k, 0), k);
	char out[4096];
	raw_read(e, fd, out, sizeof(out), 3000);
	close(fd);
	assert_non_null(strstr(out, "HTTP/1.1 413"));
	assert_non_null(strstr(out, "{\"error\":\"request body too large\",\"status\":413}"));

	r = call(e, "POST", "/items", "small");
	assert_int_equal(r->status, 200);
	fl_http_response_free(r);
	assert_int_equal(fl_http_server_inflight(e->srv), 0);
	env_free(e);
}

static void test_malformed_http(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	fl_http_server_route(e->srv, "GET", "/", h_echo, "root");
	int fd = raw_connect(e);
	const char *junk = "GARBAGE\x01\x02 / NOT-HTTP\r\n\r\n";
	assert_int_equal(send(fd, junk, strlen(junk), 0), (ssize_t)strlen(junk));
	char out[2048];
	raw_read(e, fd, out, sizeof(out), 3000);
	close(fd);
	/* evhttp answers 400 or closes: either way no handler ran and no crash */
	assert_true(out[0] == '\0' || strncmp(out, "HTTP/1.1 400", 12) == 0 ||
		    strncmp(out, "HTTP/1.1 501", 12) == 0);
	struct fl_http_response *r = call(e, "GET", "/", NULL);
	assert_int_equal(r->status, 200);
	fl_http_response_free(r);
	env_free(e);
}

/* --- asynchronous replies --------------------------------------------- */

struct later {
	struct fl_http_req *req;
	struct event *ev;
	int status;
	bool close_seen;
	bool was_closed;
	bool replied;
};

static void later_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct later *l = arg;
	l->was_closed = fl_http_req_closed(l->req);
	/* accessors stay valid even when the client is gone */
	assert_string_equal(fl_http_req_path(l->req), "/slow");
	if (l->was_closed)
		assert_string_equal(fl_http_req_header(l->req, "X-Test"), "kept");
	assert_ptr_equal(fl_http_req_data(l->req), l);
	fl_http_reply_json(l->req, l->status, json_pack("{s:b}", "late", 1));
	l->req = NULL;
	l->replied = true;
}

static void later_closed(struct fl_http_req *r, void *arg)
{
	struct later *l = arg;
	assert_ptr_equal(r, l->req);
	l->close_seen = true;
}

static int later_ms = 100;

static void h_slow(struct fl_http_req *r, void *arg)
{
	struct later *l = arg;
	l->req = r;
	fl_http_req_set_data(r, l);
	fl_http_req_on_close(r, later_closed, l);
	struct timeval tv = { later_ms / 1000, (later_ms % 1000) * 1000 };
	evtimer_add(l->ev, &tv);
}

static void test_async_reply(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	struct later l = { .status = 202 };
	l.ev = evtimer_new(e->base, later_fire, &l);
	fl_http_server_route(e->srv, "GET", "/slow", h_slow, &l);
	later_ms = 100;
	char url[256];
	snprintf(url, sizeof(url), "%s/slow", e->url);
	const char *hdrs[] = { "X-Test: kept" };
	struct fl_http_request rq = { .url = url, .headers = hdrs, .nheaders = 1 };
	struct result res = { 0 };
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &res, NULL), 0);
	run_for(e->base, 40);
	assert_int_equal(fl_http_server_inflight(e->srv), 1);
	assert_false(res.done);
	assert_true(run_until(e->base, &res.done, 5000));
	assert_int_equal(res.resp->status, 202);
	assert_true(json_is_true(json_object_get(res.resp->json, "late")));
	assert_true(res.resp->t_total >= 0.09);
	assert_false(l.was_closed);
	assert_false(l.close_seen);
	assert_int_equal(fl_http_server_inflight(e->srv), 0);
	fl_http_response_free(res.resp);
	event_free(l.ev);
	env_free(e);
}

static void test_client_disconnects_first(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	struct later l = { .status = 200 };
	l.ev = evtimer_new(e->base, later_fire, &l);
	fl_http_server_route(e->srv, "GET", "/slow", h_slow, &l);
	later_ms = 300;

	int fd = raw_connect(e);
	const char *req = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Test: kept\r\n\r\n";
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	bool never = false;
	for (int i = 0; i < 200 && fl_http_server_inflight(e->srv) == 0; i++)
		run_until(e->base, &never, 5);
	assert_int_equal(fl_http_server_inflight(e->srv), 1);
	close(fd);
	assert_true(run_until(e->base, &l.close_seen, 2000));
	assert_false(l.replied);
	assert_true(run_until(e->base, &l.replied, 2000));
	assert_true(l.was_closed);
	assert_int_equal(fl_http_server_inflight(e->srv), 0);

	/* the same with a reset connection and an abandon */
	l = (struct later){ .status = 200, .ev = l.ev };
	fd = raw_connect(e);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	for (int i = 0; i < 200 && fl_http_server_inflight(e->srv) == 0; i++)
		run_until(e->base, &never, 5);
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	assert_true(run_until(e->base, &l.close_seen, 2000));
	evtimer_del(l.ev);
	assert_true(fl_http_req_closed(l.req));
	fl_http_req_abandon(l.req);
	assert_int_equal(fl_http_server_inflight(e->srv), 0);

	/* still serving */
	later_ms = 1;
	l = (struct later){ .status = 200, .ev = l.ev };
	struct fl_http_response *r = call(e, "GET", "/slow", NULL);
	assert_int_equal(r->status, 200);
	fl_http_response_free(r);
	event_free(l.ev);
	env_free(e);
}

/* on_close registered after the client already left: called from the loop,
 * and it may reply (dropped) from inside the callback. */
static struct fl_http_req *held_plain;

static void h_hold_plain(struct fl_http_req *r, void *arg)
{
	(void)arg;
	held_plain = r;
}

static void reply_on_close(struct fl_http_req *r, void *arg)
{
	bool *called = arg;
	*called = true;
	fl_http_reply_error(r, 504, "client went away");
}

static void test_on_close_after_close(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	fl_http_server_route(e->srv, "GET", "/hold", h_hold_plain, NULL);
	held_plain = NULL;
	int fd = raw_connect(e);
	const char *req = "GET /hold?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: kept\r\n\r\n";
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	bool never = false;
	for (int i = 0; i < 200 && !held_plain; i++)
		run_until(e->base, &never, 5);
	assert_non_null(held_plain);
	run_for(e->base, 20);
	assert_false(fl_http_req_closed(held_plain));
	close(fd);
	for (int i = 0; i < 200 && !fl_http_req_closed(held_plain); i++)
		run_until(e->base, &never, 5);
	assert_true(fl_http_req_closed(held_plain));
	/* everything still readable */
	assert_string_equal(fl_http_req_header(held_plain, "x-test"), "kept");
	assert_string_equal(fl_http_req_query(held_plain, "a"), "1");
	assert_string_equal(fl_http_req_method(held_plain), "GET");
	assert_int_equal(strncmp(fl_http_req_peer(held_plain), "127.0.0.1:", 10), 0);
	bool called = false;
	fl_http_req_on_close(held_plain, reply_on_close, &called);
	assert_false(called); /* not from inside the registration */
	assert_true(run_until(e->base, &called, 2000));
	assert_int_equal(fl_http_server_inflight(e->srv), 0);
	env_free(e);
}

static void test_free_with_pending(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	struct later l = { .status = 200 };
	l.ev = evtimer_new(e->base, later_fire, &l);
	fl_http_server_route(e->srv, "GET", "/slow", h_slow, &l);
	later_ms = 10000;
	char url[256];
	snprintf(url, sizeof(url), "%s/slow", e->url);
	struct fl_http_request rq = { .url = url };
	struct result res = { 0 };
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &res, NULL), 0);
	bool never = false;
	for (int i = 0; i < 200 && fl_http_server_inflight(e->srv) == 0; i++)
		run_until(e->base, &never, 5);
	assert_int_equal(fl_http_server_inflight(e->srv), 1);
	/* freeing the server abandons the request and tells its owner */
	fl_http_server_free(e->srv);
	e->srv = NULL;
	assert_true(l.close_seen);
	evtimer_del(l.ev);
	assert_true(run_until(e->base, &res.done, 5000));
	assert_int_not_equal(res.resp->err, 0);
	fl_http_response_free(res.resp);
	event_free(l.ev);
	env_free(e);
}

/* --- graceful stop ---------------------------------------------------- */

static void test_stop_accepting(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	struct later l = { .status = 200 };
	l.ev = evtimer_new(e->base, later_fire, &l);
	fl_http_server_route(e->srv, "GET", "/slow", h_slow, &l);
	later_ms = 300;
	char url[256];
	snprintf(url, sizeof(url), "%s/slow", e->url);
	struct fl_http_request rq = { .url = url };
	struct result slow = { 0 }, fresh = { 0 };
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &slow, NULL), 0);
	bool never = false;
	for (int i = 0; i < 200 && fl_http_server_inflight(e->srv) == 0; i++)
		run_until(e->base, &never, 5);
	assert_int_equal(fl_http_server_inflight(e->srv), 1);

	fl_http_server_stop_accepting(e->srv);
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &fresh, NULL), 0);
	assert_true(run_until(e->base, &fresh.done, 3000));
	assert_int_equal(fresh.resp->err, FL_ECONNREFUSED);
	assert_false(slow.done);
	assert_true(run_until(e->base, &slow.done, 3000));
	assert_int_equal(slow.resp->err, 0);
	assert_int_equal(slow.resp->status, 200);
	assert_string_equal(fl_http_response_header(slow.resp, "Connection"), "close");
	assert_int_equal(fl_http_server_inflight(e->srv), 0);
	fl_http_response_free(slow.resp);
	fl_http_response_free(fresh.resp);
	event_free(l.ev);
	env_free(e);
}

/* --- filter, IPv6, bind errors ---------------------------------------- */

static bool deny_filter(struct fl_http_req *r, void *arg)
{
	int *seen = arg;
	(*seen)++;
	if (fl_http_req_header(r, "Authorization"))
		return true;
	fl_http_reply_error(r, 401, "missing token");
	return false;
}

static void test_filter(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	int seen = 0;
	fl_http_server_route(e->srv, "GET", "/", h_echo, "root");
	fl_http_server_set_filter(e->srv, deny_filter, &seen);
	struct fl_http_response *r = call(e, "GET", "/", NULL);
	assert_int_equal(r->status, 401);
	assert_string_equal(json_error(r), "missing token");
	fl_http_response_free(r);
	r = call(e, "GET", "/nowhere", NULL);
	assert_int_equal(r->status, 401);
	fl_http_response_free(r);
	assert_int_equal(seen, 2);
	env_free(e);
}

static void test_ipv6_and_bind_errors(void **state)
{
	(void)state;
	char err[256] = "";
	struct event_base *base = event_base_new();
	struct fl_http_server_opts o = { .addr = "[::1]:0" };
	struct fl_http_server *s = fl_http_server_new(base, &o, err, sizeof(err));
	if (s) {
		assert_int_equal(strncmp(fl_http_server_addr(s), "[::1]:", 6), 0);
		fl_http_server_route(s, "GET", "/", h_echo, "v6");
		struct fl_http_client *c = fl_http_client_new(base, err, sizeof(err));
		char url[128];
		snprintf(url, sizeof(url), "http://%s/", fl_http_server_addr(s));
		struct fl_http_request rq = { .url = url };
		struct result res = { 0 };
		assert_int_equal(fl_http_client_start(c, &rq, on_done, &res, NULL), 0);
		assert_true(run_until(base, &res.done, 5000));
		assert_int_equal(res.resp->status, 200);
		assert_string_equal(fl_json_str(res.resp->json, "route", ""), "v6");
		assert_string_equal(res.resp->primary_ip, "::1");
		fl_http_response_free(res.resp);
		fl_http_client_free(c);
	} else {
		print_message("IPv6 loopback unavailable (%s); skipped that part\n", err);
	}

	/* address in use */
	struct fl_http_server_opts o4 = { .addr = "127.0.0.1:0" };
	struct fl_http_server *a = fl_http_server_new(base, &o4, err, sizeof(err));
	assert_non_null(a);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", fl_http_server_port(a));
	struct fl_http_server_opts o5 = { .addr = addr };
	assert_null(fl_http_server_new(base, &o5, err, sizeof(err)));
	char want[128];
	snprintf(want, sizeof(want), "bind %s: Address already in use", addr);
	assert_string_equal(err, want);
	struct fl_http_server_opts lh = { .addr = "localhost:0" };
	struct fl_http_server *l = fl_http_server_new(base, &lh, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(strncmp(fl_http_server_addr(l), "127.0.0.1:", 10), 0);
	fl_http_server_free(l);
	struct fl_http_server_opts bad = { .addr = "no-port-here" };
	assert_null(fl_http_server_new(base, &bad, err, sizeof(err)));
	assert_non_null(strstr(err, "no-port-here"));
	fl_http_server_free(a);
	fl_http_server_free(s);
	event_base_free(base);
}

/* --- queries, HEAD, pipelining, idle timeout, big headers -------------- */

static void test_query_and_head(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	fl_http_server_route(e->srv, "GET", "/q", h_query, NULL);
	struct fl_http_response *r = call(e, "GET", "/q?flag&x=1+2&y=%26%3D&&=z&x=dup#frag", NULL);
	assert_int_equal(r->status, 200);
	assert_string_equal(fl_json_str(r->json, "flag", "absent"), "");
	assert_string_equal(fl_json_str(r->json, "x", ""), "1 2");
	assert_string_equal(fl_json_str(r->json, "y", ""), "&=");
	assert_true(json_is_null(json_object_get(r->json, "z")));
	assert_true(json_is_null(json_object_get(r->json, "")));
	fl_http_response_free(r);
	r = call(e, "GET", "/q", NULL);
	assert_true(json_is_null(json_object_get(r->json, "x")));
	fl_http_response_free(r);
	r = call(e, "HEAD", "/q?x=1", NULL);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->body.len, 0);
	fl_http_response_free(r);
	env_free(e);
}

static void test_pipelined_behind_async(void **state)
{
	(void)state;
	struct env *e = env_new("127.0.0.1:0", 0);
	struct later l = { .status = 200 };
	l.ev = evtimer_new(e->base, later_fire, &l);
	fl_http_server_route(e->srv, "GET", "/slow", h_slow, &l);
	fl_http_server_route(e->srv, "GET", "/q", h_query, NULL);
	later_ms = 100;
	int fd = raw_connect(e);
	const char *two = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /q?x=second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	assert_int_equal(send(fd, two, strlen(two), 0), (ssize_t)strlen(two));
	char out[8192];
	raw_read(e, fd, out, sizeof(out), 3000);
	close(fd);
	char *first = strstr(out, "{\"late\":true}");
	char *second = strstr(out, "\"x\":\"second\"");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	assert_false(l.was_closed);
	assert_int_equal(fl_http_server_inflight(e->srv), 0);
	event_free(l.ev);
	env_free(e);
}

static void test_idle_timeout_and_big_headers(void **state)
{
	(void)state;
	struct fl_http_server_opts o = { .addr = "127.0.0.1:0",
					 .idle_timeout_s = 1,
					 .max_headers = 2048 };
	struct env *e = env_new_opts(&o);
	fl_http_server_route(e->srv, "GET", "/q", h_query, NULL);

	/* an idle connection is closed after about a second */
	int fd = raw_connect(e);
	int64_t t0 = fl_mono_ns();
	char out[4096];
	raw_read(e, fd, out, sizeof(out), 4000);
	double took = (double)(fl_mono_ns() - t0) / 1e9;
	close(fd);
	assert_string_equal(out, "");
	assert_true(took > 0.8 && took < 3.5);

	/* a header block over max_headers is refused; the server goes on */
	fd = raw_connect(e);
	char big[4096];
	int k = snprintf(big, sizeof(big), "GET /q HTTP/1.1\r\nHost: x\r\nX-Big: %03000d\r\n\r\n",
			 1);
	assert_int_equal(send(fd, big, (size_t)k, 0), k);
	raw_read(e, fd, out, sizeof(out), 3000);
	close(fd);
	if (strncmp(out, "HTTP/1.1 431", 12) != 0 || !strstr(out, "\"status\":431"))
		fail_msg("want 431 JSON, got: %.200s", out);
	struct fl_http_response *r = call(e, "GET", "/q?x=ok", NULL);
	assert_string_equal(fl_json_str(r->json, "x", ""), "ok");
	fl_http_response_free(r);

	/* a request held longer than the idle timeout is still answered */
	struct later l = { .status = 200 };
	l.ev = evtimer_new(e->base, later_fire, &l);
	fl_http_server_route(e->srv, "GET", "/slow", h_slow, &l);
	later_ms = 1500;
	r = call(e, "GET", "/slow", NULL);
	assert_int_equal(r->status, 200);
	assert_true(r->t_total >= 1.4);
	fl_http_response_free(r);
	event_free(l.ev);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_json_and_headers),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_malformed_http),
		cmocka_unit_test(test_async_reply),
		cmocka_unit_test(test_client_disconnects_first),
		cmocka_unit_test(test_on_close_after_close),
		cmocka_unit_test(test_free_with_pending),
		cmocka_unit_test(test_stop_accepting),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_ipv6_and_bind_errors),
		cmocka_unit_test(test_query_and_head),
		cmocka_unit_test(test_pipelined_behind_async),
		cmocka_unit_test(test_idle_timeout_and_big_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
