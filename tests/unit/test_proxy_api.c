/* Fault injector control API over real HTTP: every endpoint, status code,
 * JSON shape and error string (Toxiproxy's), bad input of every kind, the
 * lease, metrics, events, populate with toxics, seeded repeatability. */
#include <netdb.h>

#include "core/prng.h"
#include "fault-injector/internal.h"

#include "tests/unit/test_proxy_fixture.h"

static struct fx *F;

static int setup(void **state)
{
	(void)state;
	F = fx_start(11);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(F);
	return 0;
}

static void expect_error(const char *method, const char *path, const char *body, long status,
			 const char *msg)
{
	long st;
	json_t *j = api_call(F, method, path, body, &st);
	if (st != status)
		fail_msg("%s %s %s: status %ld, want %ld", method, path, body ? body : "", st, status);
	assert_non_null(j);
	const char *e = json_string_value(json_object_get(j, "error"));
	assert_non_null(e);
	if (msg && strncmp(e, msg, strlen(msg)) != 0)
		fail_msg("%s %s: error '%s', want '%s...'", method, path, e, msg);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
	json_decref(j);
}

static void test_proxies_crud(void **state)
{
	(void)state;
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"name\":\"a\",\"listen\":\"localhost:0\",\"upstream\":\"127.0.0.1:%d\"}",
		 F->echo->port);
	json_t *j = api(F, "POST", "/proxies", 201, "%s", body);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "a");
	char listen[64];
	snprintf(listen, sizeof(listen), "%s", json_string_value(json_object_get(j, "listen")));
	assert_true(strncmp(listen, "127.0.0.1:", 10) == 0 && atoi(listen + 10) > 0);
	assert_true(json_is_true(json_object_get(j, "enabled")));
	assert_true(json_is_array(json_object_get(j, "toxics")));
	json_decref(j);
	expect_error("POST", "/proxies", body, 409, "proxy already exists");
	expect_error("POST", "/proxies", "{\"upstream\":\"x:1\"}", 400, "missing required field: name");
	/* bind failure: the API's own port is taken */
	char taken[256];
	snprintf(taken, sizeof(taken), "{\"name\":\"busy\",\"upstream\":\"x:1\",\"listen\":\"%s\"}",
		 F->api + strlen("http://"));
	expect_error("POST", "/proxies", taken, 500, "listen tcp");
	expect_error("GET", "/proxies/busy", NULL, 404, "proxy not found");
	expect_error("POST", "/proxies", "{\"name\":\"b\"}", 400, "missing required field: upstream");
	/* unresolvable upstream is accepted; connections to it just close */
	j = api(F, "POST", "/proxies", 201,
		"{\"name\":\"nx\",\"upstream\":\"no-such-host.invalid:80\",\"listen\":\"127.0.0.1:0\"}");
	json_decref(j);
	/* get, list */
	j = api(F, "GET", "/proxies/a", 200, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "listen")), listen);
	json_decref(j);
	j = api(F, "GET", "/proxies", 200, NULL);
	assert_non_null(json_object_get(j, "a"));
	assert_non_null(json_object_get(j, "nx"));
	json_decref(j);
	expect_error("GET", "/proxies/zzz", NULL, 404, "proxy not found");
	/* update merges */
	j = api(F, "POST", "/proxies/a", 200, "{\"upstream\":\"127.0.0.1:1\"}");
	assert_string_equal(json_string_value(json_object_get(j, "upstream")), "127.0.0.1:1");
	assert_true(json_is_true(json_object_get(j, "enabled")));
	json_decref(j);
	/* the Go client's Save sends the whole proxy, toxics included */
	j = api(F, "POST", "/proxies/a", 200,
		"{\"name\":\"a\",\"listen\":\"%s\",\"upstream\":\"127.0.0.1:1\","
		"\"enabled\":true,\"toxics\":[]}", listen);
	json_decref(j);
	j = api(F, "PATCH", "/proxies/a", 200, "{\"enabled\":false}");
	assert_true(json_is_false(json_object_get(j, "enabled")));
	json_decref(j);
	expect_error("POST", "/proxies/zzz", "{}", 404, "proxy not found");
	json_decref(api(F, "DELETE", "/proxies/a", 204, NULL));
	expect_error("DELETE", "/proxies/a", NULL, 404, "proxy not found");
	json_decref(api(F, "DELETE", "/proxies/nx", 204, NULL));
}

static void test_toxics_crud(void **state)
{
	(void)state;
	proxy_new(F, "t", 0);
	json_t *j = api(F, "POST", "/proxies/t/toxics", 200,
			"{\"type\":\"latency\",\"attributes\":{\"latency\":10}}");
	assert_string_equal(json_string_value(json_object_get(j, "name")), "latency_downstream");
	assert_string_equal(json_string_value(json_object_get(j, "stream")), "downstream");
	assert_true(json_number_value(json_object_get(j, "toxicity")) == 1.0);
	json_t *a = json_object_get(j, "attributes");
	assert_int_equal(json_integer_value(json_object_get(a, "latency")), 10);
	assert_int_equal(json_integer_value(json_object_get(a, "jitter")), 0);
	json_decref(j);
	expect_error("POST", "/proxies/t/toxics", "{\"type\":\"latency\"}", 409,
		     "toxic already exists");
	/* names are unique across streams */
	expect_error("POST", "/proxies/t/toxics",
		     "{\"name\":\"latency_downstream\",\"type\":\"bandwidth\",\"stream\":\"upstream\"}",
		     409, "toxic already exists");
	expect_error("POST", "/proxies/t/toxics", "{\"type\":\"nope\"}", 400, "invalid toxic type");
	expect_error("POST", "/proxies/t/toxics", "{}", 400, "invalid toxic type");
	expect_error("POST", "/proxies/t/toxics", "{\"type\":\"latency\",\"stream\":\"sideways\"}",
		     400, "stream was invalid, can be either upstream or downstream");
	expect_error("POST", "/proxies/zzz/toxics", "{\"type\":\"latency\"}", 404,
		     "proxy not found");
	/* every type with its attributes */
	static const char *const all[] = {
		"{\"type\":\"bandwidth\",\"stream\":\"upstream\",\"attributes\":{\"rate\":100}}",
		"{\"type\":\"slow_close\",\"name\":\"sc\",\"attributes\":{\"delay\":10}}",
		"{\"type\":\"timeout\",\"name\":\"to\",\"toxicity\":0,\"attributes\":{\"timeout\":10}}",
		"{\"type\":\"reset_peer\",\"name\":\"rp\",\"toxicity\":0,\"attributes\":{\"timeout\":10}}",
		"{\"type\":\"slicer\",\"name\":\"sl\",\"attributes\":{\"average_size\":10,\"size_variation\":2,\"delay\":5}}",
		"{\"type\":\"limit_data\",\"name\":\"ld\",\"toxicity\":0,\"attributes\":{\"bytes\":10}}",
		"{\"type\":\"corrupt\",\"name\":\"co\",\"toxicity\":0,\"attributes\":{\"probability\":0.5}}",
		"{\"type\":\"http_abort\",\"name\":\"ha\",\"attributes\":{\"status\":500,\"path\":\"/x\"}}",
		"{\"type\":\"http_delay\",\"name\":\"hd\",\"attributes\":{\"delay\":10,\"method\":\"GET\"}}",
		"{\"type\":\"http_drop_response\",\"name\":\"hr\",\"attributes\":{\"path_regex\":\"^/a+$\"}}",
		"{\"type\":\"accept_reset\",\"name\":\"ar\",\"toxicity\":0}",
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		json_decref(api(F, "POST", "/proxies/t/toxics", 200, "%s", all[i]));
	j = api(F, "GET", "/proxies/t/toxics", 200, NULL);
	assert_int_equal(json_array_size(j), 12);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "name")),
			    "bandwidth_upstream");
	json_decref(j);
	j = api(F, "GET", "/proxies/t/toxics/sl", 200, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "attributes"),
							    "size_variation")), 2);
	json_decref(j);
	expect_error("GET", "/proxies/t/toxics/none", NULL, 404, "toxic not found");
	/* update merges attributes and toxicity */
	j = api(F, "POST", "/proxies/t/toxics/latency_downstream", 200,
		"{\"attributes\":{\"jitter\":3},\"toxicity\":0.5}");
	a = json_object_get(j, "attributes");
	assert_int_equal(json_integer_value(json_object_get(a, "latency")), 10);
	assert_int_equal(json_integer_value(json_object_get(a, "jitter")), 3);
	assert_true(json_number_value(json_object_get(j, "toxicity")) == 0.5);
	json_decref(j);
	json_decref(api(F, "PATCH", "/proxies/t/toxics/latency_downstream", 200,
			"{\"attributes\":{\"latency\":20}}"));
	expect_error("POST", "/proxies/t/toxics/none", "{}", 404, "toxic not found");
	expect_error("POST", "/proxies/t/toxics/latency_downstream",
		     "{\"attributes\":{\"latency\":\"slow\"}}", 400, "bad request body");
	/* a failed update changes nothing */
	j = api(F, "GET", "/proxies/t/toxics/latency_downstream", 200, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "attributes"),
							    "latency")), 20);
	json_decref(j);
	expect_error("POST", "/proxies/t/toxics/hr", "{\"attributes\":{\"path_regex\":\"(\"}}", 400,
		     "bad request body: path_regex");
	/* the regexes that crashed or froze glibc's regcomp: refused, naming the limit */
	expect_error("POST", "/proxies/t/toxics",
		     "{\"type\":\"http_abort\",\"attributes\":{\"path_regex\":\"(.*){1,32767}\"}}",
		     400, "bad request body: path_regex: regular expression '(.*){1,32767}': "
			  "pattern over the compiled size limit");
	expect_error("POST", "/proxies/t/toxics",
		     "{\"type\":\"http_abort\",\"attributes\":{\"path_regex\":\"((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))\"}}",
		     400, "bad request body: path_regex: regular expression '((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))': "
			  "pattern over the nesting limit");
	toxic_del(F, "t", "sc");
	expect_error("DELETE", "/proxies/t/toxics/sc", NULL, 404, "toxic not found");
	json_decref(api(F, "DELETE", "/proxies/t", 204, NULL));
}

static void test_bad_input(void **state)
{
	(void)state;
	proxy_new(F, "bad", 0);
	expect_error("POST", "/proxies", "{\"name\":", 400, "bad request body");
	expect_error("POST", "/proxies", "", 400, "bad request body");
	expect_error("POST", "/proxies", "[1,2]", 400, "bad request body");
	expect_error("POST", "/proxies", "{\"name\":5,\"upstream\":\"a:1\"}", 400, "bad request body");
	expect_error("POST", "/proxies", "{\"name\":\"q\",\"upstream\":\"a:1\",\"enabled\":\"yes\"}",
		     400, "bad request body");
	expect_error("POST", "/proxies", "{\"name\":\"q\",\"upstream\":\"a:1\",\"colour\":1}", 400,
		     "bad request body: unknown field: colour");
	expect_error("POST", "/proxies", "{\"name\":\"q\",\"upstream\":\"nocolon\"}", 400,
		     "invalid upstream address");
	expect_error("POST", "/proxies/bad/toxics", "{\"type\":\"latency\",\"toxicity\":\"x\"}",
		     400, "bad request body");
	expect_error("POST", "/proxies/bad/toxics", "{\"type\":\"latency\",\"toxicity\":2}", 400,
		     "bad request body");
	expect_error("POST", "/proxies/bad/toxics",
		     "{\"type\":\"latency\",\"attributes\":{\"latency\":-5}}", 400, "bad request body");
	expect_error("POST", "/proxies/bad/toxics",
		     "{\"type\":\"latency\",\"attributes\":{\"latency\":1.5}}", 400, "bad request body");
	expect_error("POST", "/proxies/bad/toxics",
		     "{\"type\":\"latency\",\"attributes\":{\"lag\":5}}", 400,
		     "bad request body: unknown attribute");
	expect_error("POST", "/proxies", "{\"name\":\"a/b\",\"upstream\":\"a:1\"}", 400,
		     "bad request body: name");
	expect_error("POST", "/proxies/bad/toxics", "{\"type\":\"latency\",\"name\":\"x/y\"}", 400,
		     "bad request body: name");
	expect_error("POST", "/proxies/bad/toxics", "{\"type\":\"latency\",\"extra\":1}", 400,
		     "bad request body: unknown field: extra");
	expect_error("POST", "/proxies/bad/toxics", "{\"type\":\"latency\",\"attributes\":[]}",
		     400, "bad request body");
	expect_error("GET", "/nowhere", NULL, 404, NULL);
	expect_error("GET", "/proxies/bad/toxics/a/b", NULL, 404, NULL);
	expect_error("PUT", "/proxies", "{}", 405, NULL);
	expect_error("DELETE", "/reset", NULL, 405, NULL);
	/* a huge body: 413 JSON, and the server keeps serving */
	size_t n = 3 << 20;
	char *huge = malloc(n + 1);
	memset(huge, ' ', n);
	huge[0] = '{';
	huge[n - 1] = '}';
	huge[n] = 0;
	long st;
	json_t *j = api_call(F, "POST", "/proxies", huge, &st);
	assert_int_equal(st, 413);
	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
	free(huge);
	json_decref(api(F, "GET", "/version", 200, NULL));
	json_decref(api(F, "DELETE", "/proxies/bad", 204, NULL));
}

static void test_populate_reset_version(void **state)
{
	(void)state;
	char body[1024];
	snprintf(body, sizeof(body),
		 "[{\"name\":\"p1\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\"},"
		 "{\"name\":\"p2\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\","
		 "\"toxics\":[{\"type\":\"latency\",\"attributes\":{\"latency\":100}}]}]",
		 F->echo->port, F->echo->port);
	json_t *j = api(F, "POST", "/populate", 201, "%s", body);
	json_t *ps = json_object_get(j, "proxies");
	assert_int_equal(json_array_size(ps), 2);
	json_t *p2 = json_array_get(ps, 1);
	assert_int_equal(json_array_size(json_object_get(p2, "toxics")), 1);
	int port2 = atoi(strrchr(json_string_value(json_object_get(p2, "listen")), ':') + 1);
	json_decref(j);
	int fd = tcp_connect(port2);
	assert_true(rtt_ms(fd, 8) >= 99);	/* config toxics applied */
	close(fd);
	/* an error reports what was created before it */
	j = api(F, "POST", "/populate", 400,
		"[{\"name\":\"p3\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:1\"},"
		"{\"name\":\"p4\"}]");
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "missing required field: upstream");
	assert_int_equal(json_array_size(json_object_get(j, "proxies")), 1);
	json_decref(j);
	expect_error("POST", "/populate", "{\"a\":1}", 400, "bad request body");
	/* reset: toxics gone, proxies enabled */
	json_decref(api(F, "POST", "/proxies/p1", 200, "{\"enabled\":false}"));
	json_decref(api(F, "POST", "/reset", 204, NULL));
	j = api(F, "GET", "/proxies", 200, NULL);
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		assert_true(json_is_true(json_object_get(v, "enabled")));
		assert_int_equal(json_array_size(json_object_get(v, "toxics")), 0);
	}
	json_decref(j);
	fd = tcp_connect(port2);
	assert_true(rtt_ms(fd, 8) < 50);
	close(fd);
	j = api(F, "GET", "/version", 200, NULL);
	assert_true(json_is_string(json_object_get(j, "version")));
	json_decref(j);
	json_decref(api(F, "DELETE", "/proxies/p1", 204, NULL));
	json_decref(api(F, "DELETE", "/proxies/p2", 204, NULL));
	json_decref(api(F, "DELETE", "/proxies/p3", 204, NULL));
}

static void test_lease(void **state)
{
	(void)state;
	int port = proxy_new(F, "ls", 0);
	expect_error("POST", "/lease", "{}", 400, "missing required field: ttl_ms");
	expect_error("POST", "/lease", "{\"ttl_ms\":0}", 400, NULL);
	json_t *j = api(F, "POST", "/lease", 200, "{\"ttl_ms\":400,\"holder\":\"t\"}");
	assert_string_equal(json_string_value(json_object_get(j, "holder")), "t");
	json_decref(j);
	toxic_add(F, "ls", "{\"type\":\"latency\",\"attributes\":{\"latency\":100}}");
	json_decref(api(F, "POST", "/proxies/ls", 200, "{\"enabled\":false}"));
	for (int i = 0; i < 3; i++) {	/* heartbeats keep it */
		usleep(200000);
		json_decref(api(F, "POST", "/lease", 200, "{\"ttl_ms\":400,\"holder\":\"t\"}"));
	}
	j = api(F, "GET", "/proxies/ls/toxics", 200, NULL);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	usleep(600000);	/* lapse */
	j = api(F, "GET", "/proxies/ls", 200, NULL);
	assert_true(json_is_true(json_object_get(j, "enabled")));
	assert_int_equal(json_array_size(json_object_get(j, "toxics")), 0);
	json_decref(j);
	int fd = tcp_connect(port);
	assert_true(rtt_ms(fd, 8) < 50);
	close(fd);
	j = api(F, "GET", "/lease", 200, NULL);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	json_decref(api(F, "POST", "/lease", 200, "{\"ttl_ms\":10000}"));
	json_decref(api(F, "DELETE", "/lease", 204, NULL));
	expect_error("DELETE", "/lease", NULL, 404, "lease not found");
	json_decref(api(F, "DELETE", "/proxies/ls", 204, NULL));
}

static void test_metrics_events(void **state)
{
	(void)state;
	int port = proxy_new(F, "m", 0);
	int fd = tcp_connect(port);
	char buf[1000];
	memset(buf, 'm', sizeof(buf));
	write_all(fd, buf, sizeof(buf));
	read_exact(fd, buf, sizeof(buf));
	/* live: the connection is still open */
	char url[256];
	snprintf(url, sizeof(url), "%s/metrics", F->api);
	struct fl_http_request rq = { .url = url };
	struct fl_http_response *r = NULL;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_int_equal(r->status, 200);
	const char *t = r->body.data;
	assert_non_null(strstr(t, "faultline_proxy_connections_open{proxy=\"m\"} 1"));
	assert_non_null(strstr(t, "faultline_proxy_bytes_total{proxy=\"m\",direction=\"upstream\"} 1000"));
	assert_non_null(strstr(t, "faultline_proxy_bytes_total{proxy=\"m\",direction=\"downstream\"} 1000"));
	assert_non_null(strstr(t, "# TYPE faultline_proxy_connections_total counter"));
	fl_http_response_free(r);
	close(fd);
	usleep(50000);
	json_t *j = api(F, "GET", "/proxies/m/events", 200, NULL);
	assert_true(json_array_size(j) >= 2);
	json_t *e0 = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(e0, "event")), "connection_open");
	assert_string_equal(json_string_value(json_object_get(e0, "link")), "m");
	json_t *e1 = json_array_get(j, json_array_size(j) - 1);
	assert_string_equal(json_string_value(json_object_get(e1, "event")), "connection_close");
	assert_int_equal(json_integer_value(json_object_get(e1, "bytes_up")), 1000);
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(e0, "seq"));
	json_decref(j);
	char path[128];
	snprintf(path, sizeof(path), "/proxies/m/events?since=%llu", (unsigned long long)seq);
	j = api(F, "GET", path, 200, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "event")),
			    "connection_close");
	json_decref(j);
	json_decref(api(F, "DELETE", "/proxies/m", 204, NULL));
}

/* The same seed and the same traffic give the same faults. */
static void abort_pattern(uint64_t seed, char *out, int n)
{
	struct fx *f = fx_start(seed);
	int port = proxy_new(f, "s", 1);
	toxic_add(f, "s", "{\"type\":\"http_abort\",\"attributes\":{\"status\":503,\"probability\":0.5}}");
	int fd = tcp_connect(port);
	for (int i = 0; i < n; i++) {
		const char *req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
		write_all(fd, req, strlen(req));
		char buf[512];
		size_t r = 0;
		char *end = NULL;
		while (!end || r < (size_t)(end - buf) + 4 + strtoul(strcasestr(buf, "content-length:") + 15, NULL, 10)) {
			ssize_t k = read(fd, buf + r, sizeof(buf) - 1 - r);
			if (k <= 0)
				fail_msg("request %d: read %zd (%s)", i, k, k < 0 ? strerror(errno) : "EOF");
			r += (size_t)k;
			buf[r] = 0;
			end = strstr(buf, "\r\n\r\n");
		}
		out[i] = strncmp(buf, "HTTP/1.1 503", 12) == 0 ? 'A' : '.';
	}
	out[n] = 0;
	close(fd);
	fx_stop(f);
}

static void test_seed_repeatable(void **state)
{
	(void)state;
	char a[41], b[41], c[41];
	abort_pattern(42, a, 40);
	abort_pattern(42, b, 40);
	abort_pattern(43, c, 40);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_non_null(strchr(a, 'A'));
	assert_non_null(strchr(a, '.'));
}

static void test_token(void **state)
{
	(void)state;
	char err[256];
	struct fl_proxy_engine *e = fl_proxy_engine_new(NULL, err, sizeof(err));
	assert_int_equal(fl_proxy_api_start(e, "0.0.0.0:0", NULL, err, sizeof(err)), FL_EPERM);
	assert_non_null(strstr(err, "bound to 0.0.0.0:"));
	assert_int_equal(fl_proxy_api_start(e, "127.0.0.1:0", "s3cret", err, sizeof(err)), 0);
	assert_int_equal(fl_proxy_engine_start_thread(e, err, sizeof(err)), 0);
	char url[256];
	snprintf(url, sizeof(url), "%s/proxies", fl_proxy_api_url(e));
	struct fl_http_request rq = { .url = url };
	struct fl_http_response *r = NULL;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_int_equal(r->status, 401);
	assert_non_null(json_object_get(r->json, "error"));
	fl_http_response_free(r);
	const char *h[] = { "Authorization: Bearer s3cret" };
	rq.headers = h;
	rq.nheaders = 1;
	assert_int_equal(fl_http_fetch(&rq, &r), 0);
	assert_int_equal(r->status, 200);
	fl_http_response_free(r);
	fl_proxy_engine_free(e);
}

/* Where faults may point: no empty host, no self-loops, no NUL in names,
 * numeric listen addresses on loopback, and the upstream allowlist. */
static void test_where_faults_point(void **state)
{
	(void)state;
	char body[512];
	expect_error("POST", "/proxies", "{\"name\":\"e\",\"upstream\":\":80\"}", 400,
		     "invalid upstream address: :80 has no host");
	snprintf(body, sizeof(body), "{\"name\":\"self\",\"upstream\":\"%s\"}",
		 fl_proxy_api_url(F->e) + strlen("http://"));
	expect_error("POST", "/proxies", body, 403, "upstream");
	expect_error("POST", "/proxies", "{\"name\":\"a\\u0000b\",\"upstream\":\"127.0.0.1:1\"}", 400,
		     "bad request body: strings may not contain");
	expect_error("POST", "/proxies",
		     "{\"name\":\"any\",\"listen\":\"0.0.0.0:0\",\"upstream\":\"127.0.0.1:1\"}", 403,
		     "listen address 0.0.0.0:0 is beyond loopback");
	expect_error("POST", "/proxies",
		     "{\"name\":\"nm\",\"listen\":\"no-such-host.invalid:0\",\"upstream\":\"127.0.0.1:1\"}",
		     400, "listen address no-such-host.invalid:0: the host must be an IP literal");
	/* a link pointed at another link of the same agent */
	json_t *j = api(F, "POST", "/proxies", 201,
			"{\"name\":\"first\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:1\"}");
	snprintf(body, sizeof(body), "{\"name\":\"loop\",\"upstream\":\"%s\"}",
		 json_string_value(json_object_get(j, "listen")));
	json_decref(j);
	expect_error("POST", "/proxies", body, 403, "upstream");
	expect_error("POST", "/proxies/first", body, 403, "upstream");
	json_decref(api(F, "DELETE", "/proxies/first", 204, NULL));

	/* an allowlist */
	char err[256];
	struct fl_proxy_opts o = { .allow_upstream = "10.0.0.0/8, db.internal" };
	struct fl_proxy_engine *e = fl_proxy_engine_new(&o, err, sizeof(err));
	assert_non_null(e);
	int st = 0;
	json_t *reply = NULL;
	static const struct { const char *body; int status; } cases[] = {
		{ "{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\"}", 403 },
		{ "{\"name\":\"b\",\"upstream\":\"10.1.2.3:80\"}", 201 },
		{ "{\"name\":\"c\",\"upstream\":\"db.internal:5432\"}", 201 },
		{ "{\"name\":\"d\",\"upstream\":\"11.0.0.1:80\"}", 403 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fl_proxy_api_handle(e, "POST", "/proxies", NULL, cases[i].body, strlen(cases[i].body),
				    &st, &reply);
		if (st != cases[i].status)
			fail_msg("%s: %d, want %d", cases[i].body, st, cases[i].status);
		json_decref(reply);
	}
	fl_proxy_engine_free(e);
	o.allow_upstream = "10.0.0.0/33";
	assert_null(fl_proxy_engine_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "10.0.0.0"));
}

/* Upstream names resolve when a connection is made (the resolver reads
 * /etc/hosts); listen addresses may be IPv6. */
static void test_resolve_ipv6(void **state)
{
	(void)state;
	char host[256] = "";
	gethostname(host, sizeof(host));
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (*host && strcmp(host, "localhost") != 0 && getaddrinfo(host, NULL, &hints, &ai) == 0 &&
	    ((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
		json_decref(api(F, "POST", "/proxies", 201,
				"{\"name\":\"byname\",\"listen\":\"127.0.0.1:0\","
				"\"upstream\":\"%s:%d\"}", host, F->echo->port));
		json_t *j = api(F, "GET", "/proxies/byname", 200, NULL);
		int port = atoi(strrchr(json_string_value(json_object_get(j, "listen")), ':') + 1);
		json_decref(j);
		int fd = tcp_connect(port);
		assert_true(rtt_ms(fd, 8) < 100);
		close(fd);
		json_decref(api(F, "DELETE", "/proxies/byname", 204, NULL));
	}
	if (ai)
		freeaddrinfo(ai);
	int s6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool v6 = s6 >= 0 && bind(s6, (struct sockaddr *)&a6, sizeof(a6)) == 0;
	if (s6 >= 0)
		close(s6);
	if (!v6)
		return;	/* no IPv6 loopback here */
	json_t *j = api(F, "POST", "/proxies", 201,
			"{\"name\":\"six\",\"listen\":\"[::1]:0\",\"upstream\":\"127.0.0.1:%d\"}",
			F->echo->port);
	const char *listen = json_string_value(json_object_get(j, "listen"));
	assert_true(strncmp(listen, "[::1]:", 6) == 0);
	a6.sin6_port = htons((uint16_t)atoi(listen + 6));
	json_decref(j);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a6, sizeof(a6)), 0);
	assert_true(rtt_ms(fd, 8) < 100);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/six", 204, NULL));
}

struct handle_call {
	struct fl_proxy_engine *e;
	const char *method, *path, *body;
	int status;
	json_t *reply;
};

static void do_handle(void *arg)
{
	struct handle_call *h = arg;
	fl_proxy_api_handle(h->e, h->method, h->path, NULL, h->body, h->body ? strlen(h->body) : 0,
			    &h->status, &h->reply);
}

/* The API without HTTP, run on the loop thread through fl_proxy_engine_exec. */
static void test_handle_exec(void **state)
{
	(void)state;
	struct handle_call h = { F->e, "GET", "/version", NULL, 0, NULL };
	assert_int_equal(fl_proxy_engine_exec(F->e, do_handle, &h), 0);
	assert_int_equal(h.status, 200);
	assert_true(json_is_string(json_object_get(h.reply, "version")));
	json_decref(h.reply);
	struct handle_call c = { F->e, "POST", "/proxies",
				 "{\"name\":\"viaexec\",\"upstream\":\"127.0.0.1:1\"}", 0, NULL };
	assert_int_equal(fl_proxy_engine_exec(F->e, do_handle, &c), 0);
	assert_int_equal(c.status, 201);
	json_decref(c.reply);
	json_decref(api(F, "DELETE", "/proxies/viaexec", 204, NULL));	/* visible over HTTP */
	struct handle_call d = { F->e, "GET", "/proxies/viaexec", NULL, 0, NULL };
	assert_int_equal(fl_proxy_engine_exec(F->e, do_handle, &d), 0);
	assert_int_equal(d.status, 404);
	json_decref(d.reply);
}

/* Mangled bodies on every write endpoint: always a 4xx JSON error (or a
 * success when the mangling happens to leave valid input), never a crash. */
static void test_mangled_bodies(void **state)
{
	(void)state;
	proxy_new(F, "mg", 0);
	json_decref(api(F, "POST", "/proxies/mg/toxics", 200, "{\"type\":\"latency\",\"name\":\"l\"}"));
	static const char *const paths[] = { "/proxies", "/populate", "/proxies/mg", "/proxies/mg/toxics",
					     "/proxies/mg/toxics/l", "/lease" };
	static const char *const seeds[] = {
		"{\"name\":\"z\",\"upstream\":\"127.0.0.1:1\",\"listen\":\"127.0.0.1:0\"}",
		"[{\"name\":\"z\",\"upstream\":\"127.0.0.1:1\"}]",
		"{\"type\":\"bandwidth\",\"name\":\"b\",\"attributes\":{\"rate\":5}}",
		"{\"attributes\":{\"latency\":5},\"toxicity\":0.5}",
		"{\"ttl_ms\":100000}",
	};
	struct fl_prng r;
	fl_prng_seed(&r, 99);
	for (int i = 0; i < 300; i++) {
		char body[512];
		snprintf(body, sizeof(body), "%s", seeds[fl_prng_range(&r, 0, 4)]);
		size_t n = strlen(body);
		for (int k = (int)fl_prng_range(&r, 1, 4); k > 0; k--) {
			size_t at = (size_t)fl_prng_range(&r, 0, (int64_t)n - 1);
			static const char alphabet[] = "{}[]\":,0-9.e\\x nulltrue";
			body[at] = alphabet[fl_prng_range(&r, 0, (int64_t)sizeof(alphabet) - 2)];
		}
		const char *path = paths[fl_prng_range(&r, 0, 5)];
		long st;
		json_t *j = api_call(F, fl_prng_chance(&r, 0.5) ? "POST" : "PATCH", path, body, &st);
		if (st >= 400) {
			if (st >= 500 || !json_is_string(json_object_get(j, "error")))
				fail_msg("%s %s -> %ld", path, body, st);
		}
		json_decref(j);
		/* undo accidental successes so the next round starts alike */
		json_decref(api_call(F, "DELETE", "/proxies/z", NULL, &st));
		json_decref(api_call(F, "DELETE", "/proxies/mg/toxics/b", NULL, &st));
		json_decref(api_call(F, "DELETE", "/lease", NULL, &st));
	}
	json_decref(api(F, "GET", "/version", 200, NULL));
	json_decref(api(F, "DELETE", "/proxies/mg", 204, NULL));
}

/* The event ring keeps the latest N, in order. */
static void test_events_ring(void **state)
{
	(void)state;
	char err[256];
	struct fl_proxy_opts o = { .events_keep = 5 };
	struct fx f2 = { 0 };
	f2.e = fl_proxy_engine_new(&o, err, sizeof(err));
	assert_non_null(f2.e);
	assert_int_equal(fl_proxy_api_start(f2.e, "127.0.0.1:0", NULL, err, sizeof(err)), 0);
	assert_int_equal(fl_proxy_engine_start_thread(f2.e, err, sizeof(err)), 0);
	snprintf(f2.api, sizeof(f2.api), "%s", fl_proxy_api_url(f2.e));
	f2.echo = F->echo;
	int port = proxy_new(&f2, "r", 0);
	for (int i = 0; i < 6; i++) {	/* 12 events: open + close each */
		int fd = tcp_connect(port);
		assert_true(rtt_ms(fd, 4) < 50);
		close(fd);
		usleep(20000);
	}
	json_t *j = api(&f2, "GET", "/proxies/r/events", 200, NULL);
	assert_int_equal(json_array_size(j), 5);
	json_int_t prev = 0;
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e) {
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));
		assert_true(seq > prev);
		prev = seq;
	}
	assert_int_equal(prev, 12);
	json_decref(j);
	j = api(&f2, "GET", "/proxies/r/events?since=10&limit=1", 200, NULL);
	assert_int_equal(json_array_size(j), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "seq")), 11);
	json_decref(j);
	/* idle for FL_IDLE_MS: the ring becomes text, the same events read back;
	 * new ones come after it and the oldest text ones make room */
	usleep((FL_IDLE_MS + 400) * 1000);
	j = api(&f2, "GET", "/proxies/r/events?since=9", 200, NULL);
	assert_int_equal(json_array_size(j), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "seq")), 10);
	assert_string_equal(fl_json_str(json_array_get(j, 2), "event", ""), "connection_close");
	assert_string_equal(fl_json_str(json_array_get(j, 2), "link", ""), "r");
	json_decref(j);
	for (int k = 0; k < 2; k++) {
		int fd = tcp_connect(port);
		assert_true(rtt_ms(fd, 4) < 50);
		close(fd);
		usleep(20000);
	}
	for (int k = 0; k < 200; k++) { /* until the proxy saw the last close (bounded) */
		j = api(&f2, "GET", "/proxies/r/events?since=15", 200, NULL);
		size_t got = json_array_size(j);
		json_decref(j);
		if (got)
			break;
		usleep(10000);
	}
	j = api(&f2, "GET", "/proxies/r/events", 200, NULL);
	assert_int_equal(json_array_size(j), 5);
	json_array_foreach(j, i, e)
		assert_int_equal(json_integer_value(json_object_get(e, "seq")), 12 + (json_int_t)i);
	json_decref(j);
	j = api(&f2, "GET", "/proxies/r/events?event=connection_open", 200, NULL);
	assert_int_equal(json_array_size(j), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "seq")), 13);
	json_decref(j);
	fl_proxy_engine_free(f2.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxies_crud),
		cmocka_unit_test(test_toxics_crud),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_populate_reset_version),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_metrics_events),
		cmocka_unit_test(test_seed_repeatable),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_where_faults_point),
		cmocka_unit_test(test_events_ring),
		cmocka_unit_test(test_mangled_bodies),
		cmocka_unit_test(test_handle_exec),
		cmocka_unit_test(test_resolve_ipv6),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
