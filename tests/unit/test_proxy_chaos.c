/* Fault injector under churn: for a few seconds one thread adds, updates
 * and removes random toxics of every type, disables and resets the link,
 * while six clients stream data through it. Afterwards the engine must
 * answer at once, hold no connection, and pass bytes exactly again. Under
 * SANITIZE this is the engine's memory-safety soak. */
#include "core/prng.h"
#include "tests/unit/test_proxy_fixture.h"

static struct fx *F;
static int P;
static volatile int stop_flag;

static const char *const types[] = {
	"{\"type\":\"latency\",\"attributes\":{\"latency\":3,\"jitter\":2}",
	"{\"type\":\"bandwidth\",\"attributes\":{\"rate\":5000}",
	"{\"type\":\"slow_close\",\"attributes\":{\"delay\":5}",
	"{\"type\":\"timeout\",\"attributes\":{\"timeout\":20}",
	"{\"type\":\"reset_peer\",\"attributes\":{\"timeout\":5}",
	"{\"type\":\"slicer\",\"attributes\":{\"average_size\":50,\"size_variation\":20,\"delay\":10}",
	"{\"type\":\"limit_data\",\"attributes\":{\"bytes\":3000}",
	"{\"type\":\"corrupt\",\"attributes\":{\"probability\":0.001}",
	"{\"type\":\"refuse\"",
	"{\"type\":\"accept_reset\"",
	"{\"type\":\"http_abort\",\"attributes\":{\"status\":500}",
	"{\"type\":\"http_delay\",\"attributes\":{\"delay\":3}",
};

static void *client(void *arg)
{
	struct fl_prng r;
	fl_prng_seed(&r, (uint64_t)(intptr_t)arg);
	static __thread char out[20000], in[65536];
	while (!stop_flag) {
		int fd = tcp_connect(P);
		if (fd < 0) {
			usleep(1000);
			continue;
		}
		struct timeval tv = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		size_t n = (size_t)fl_prng_range(&r, 1, sizeof(out));
		for (size_t i = 0; i < n; i++)
			out[i] = (char)fl_prng_u64(&r);
		if (send(fd, out, n, MSG_NOSIGNAL) > 0) {
			shutdown(fd, SHUT_WR);
			while (read(fd, in, sizeof(in)) > 0)
				;
		}
		close(fd);
	}
	return NULL;
}

static void mutate(struct fl_prng *r)
{
	char path[128], body[512];
	long st;
	int name = (int)fl_prng_range(r, 0, 6);
	double op = fl_prng_double(r);
	json_t *j = NULL;
	if (op < 0.4) {
		static const char *const streams[] = { "upstream", "downstream" };
		static const char *const tox[] = { "0", "0.5", "1" };
		snprintf(body, sizeof(body), "%s,\"name\":\"t%d\",\"stream\":\"%s\",\"toxicity\":%s}",
			 types[fl_prng_range(r, 0, 11)], name, streams[fl_prng_range(r, 0, 1)],
			 tox[fl_prng_range(r, 0, 2)]);
		j = api_call(F, "POST", "/proxies/c/toxics", body, &st);
		assert_true(st == 200 || st == 409);
	} else if (op < 0.6) {
		snprintf(path, sizeof(path), "/proxies/c/toxics/t%d", name);
		snprintf(body, sizeof(body), "{\"toxicity\":%.2f}", fl_prng_double(r));
		j = api_call(F, "POST", path, body, &st);
		assert_true(st == 200 || st == 404);
	} else if (op < 0.85) {
		snprintf(path, sizeof(path), "/proxies/c/toxics/t%d", name);
		j = api_call(F, "DELETE", path, NULL, &st);
		assert_true(st == 204 || st == 404);
	} else if (op < 0.93) {
		j = api_call(F, "POST", "/proxies/c",
			     fl_prng_chance(r, 0.7) ? "{\"enabled\":true}" : "{\"enabled\":false}", &st);
		assert_int_equal(st, 200);
	} else {
		j = api_call(F, "POST", "/reset", NULL, &st);
		assert_int_equal(st, 204);
	}
	json_decref(j);
}

static void test_churn(void **state)
{
	(void)state;
	F = fx_start(21);
	json_decref(api(F, "POST", "/proxies", 201,
			"{\"name\":\"c\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\"}",
			F->echo->port));
	json_t *j = api(F, "GET", "/proxies/c", 200, NULL);
	P = atoi(strrchr(json_string_value(json_object_get(j, "listen")), ':') + 1);
	json_decref(j);
	pthread_t t[6];
	for (intptr_t i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, client, (void *)(i + 1));
	struct fl_prng r;
	fl_prng_seed(&r, 77);
	const char *q = getenv("QUICK");
	int64_t until = fl_mono_ns() + (q && strcmp(q, "0") == 0 ? 30 : 4) * 1000000000LL;
	int n = 0;
	while (fl_mono_ns() < until) {
		mutate(&r);
		n++;
		usleep(3000);
	}
	stop_flag = 1;
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	assert_true(n > 100);
	/* healed: answers at once, no connection left, bytes exact again */
	int64_t t0 = fl_mono_ns();
	json_decref(api(F, "POST", "/reset", 204, NULL));
	assert_true(fl_mono_ns() - t0 < 200000000);
	char url[256];
	snprintf(url, sizeof(url), "%s/metrics", F->api);
	int open = -1;
	for (int i = 0; i < 100 && open != 0; i++) {
		struct fl_http_request rq = { .url = url };
		struct fl_http_response *resp = NULL;
		assert_int_equal(fl_http_fetch(&rq, &resp), 0);
		const char *m = strstr(resp->body.data, "faultline_proxy_connections_open{proxy=\"c\"} ");
		assert_non_null(m);
		open = atoi(m + strlen("faultline_proxy_connections_open{proxy=\"c\"} "));
		fl_http_response_free(resp);
		if (open)
			usleep(20000);
	}
	assert_int_equal(open, 0);
	int fd = tcp_connect(P);
	assert_true(fd >= 0);
	assert_true(rtt_ms(fd, 1000) < 100);
	close(fd);
	fx_stop(F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
