/* Fault injector: every toxic against a real echo upstream on loopback, with
 * its effect measured (time, bytes, errno). */
#include "tests/unit/test_proxy_fixture.h"

static struct fx *F;

static int setup(void **state)
{
	(void)state;
	F = fx_start(7);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(F);
	return 0;
}

static void test_passthrough(void **state)
{
	(void)state;
	int port = proxy_new(F, "pass", 0);
	int fd = tcp_connect(port);
	assert_true(fd >= 0);
	double ms = rtt_ms(fd, 100);
	assert_true(ms < 50);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/pass", 204, NULL));
}

/* Send `total` pseudo-random bytes and read the echo concurrently; the
 * FNV-1a checksums of what went in and what came back must be equal. */
static void pump_checksum(int port, size_t total)
{
	int fd = tcp_connect(port);
	assert_true(fd >= 0);
	static char out[65536], in[65536];
	uint64_t x = 88172645463325252ull, hin = 1469598103934665603ull,
		 hout = 1469598103934665603ull;
	size_t sent = 0, got = 0, blen = 0, boff = 0;
	while (got < total) {
		if (boff == blen && sent < total) {
			blen = total - sent < sizeof(out) ? total - sent : sizeof(out);
			boff = 0;
			for (size_t i = 0; i < blen; i += 8) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				memcpy(out + i, &x, blen - i < 8 ? blen - i : 8);
			}
		}
		struct pollfd p = { fd, POLLIN | (sent < total ? POLLOUT : 0), 0 };
		if (poll(&p, 1, 20000) <= 0)
			fail_msg("stalled after %zu sent, %zu received of %zu", sent, got, total);
		if ((p.revents & POLLOUT) && sent < total) {
			ssize_t w = send(fd, out + boff, blen - boff, MSG_DONTWAIT);
			for (ssize_t i = 0; i < w; i++)
				hout = (hout ^ (unsigned char)out[boff + (size_t)i]) * 1099511628211ull;
			if (w > 0) {
				boff += (size_t)w;
				sent += (size_t)w;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (r == 0)
				fail_msg("EOF after %zu of %zu bytes", got, total);
			for (ssize_t i = 0; i < r; i++)
				hin = (hin ^ (unsigned char)in[i]) * 1099511628211ull;
			if (r > 0)
				got += (size_t)r;
		}
	}
	assert_int_equal(got, total);
	assert_true(hin == hout);
	close(fd);
}

static size_t quick_bytes(void)
{
	const char *q = getenv("QUICK");
	return q && strcmp(q, "0") == 0 ? (size_t)1 << 30 : (size_t)64 << 20;
}

static void test_checksum_plain(void **state)
{
	(void)state;
	int port = proxy_new(F, "sum", 0);
	pump_checksum(port, quick_bytes());
	json_decref(api(F, "DELETE", "/proxies/sum", 204, NULL));
}

static void test_checksum_toxics(void **state)
{
	(void)state;
	int port = proxy_new(F, "sumt", 0);
	toxic_add(F, "sumt", "{\"type\":\"latency\",\"attributes\":{\"latency\":2,\"jitter\":1}}");
	toxic_add(F, "sumt",
		  "{\"type\":\"slicer\",\"stream\":\"upstream\",\"attributes\":"
		  "{\"average_size\":1500,\"size_variation\":1000}}");
	toxic_add(F, "sumt", "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":200000}}");
	pump_checksum(port, quick_bytes());
	json_decref(api(F, "DELETE", "/proxies/sumt", 204, NULL));
}

static void test_latency(void **state)
{
	(void)state;
	int port = proxy_new(F, "lat", 0);
	toxic_add(F, "lat", "{\"type\":\"latency\",\"attributes\":{\"latency\":100}}");
	int fd = tcp_connect(port);
	for (int i = 0; i < 5; i++) {
		double ms = rtt_ms(fd, 32);
		if (ms < 99 || ms > 200)
			fail_msg("latency 100 ms: round trip %.2f ms", ms);
	}
	close(fd);
	/* jitter: every round trip within latency ± jitter (plus slack), and not all equal */
	json_decref(api(F, "POST", "/proxies/lat/toxics/latency_downstream", 200,
			"{\"attributes\":{\"latency\":50,\"jitter\":30}}"));
	fd = tcp_connect(port);
	double lo = 1e9, hi = 0;
	for (int i = 0; i < 12; i++) {
		double ms = rtt_ms(fd, 32);
		if (ms < 19 || ms > 150)
			fail_msg("latency 50±30 ms: round trip %.2f ms", ms);
		lo = ms < lo ? ms : lo;
		hi = ms > hi ? ms : hi;
	}
	assert_true(hi - lo > 5);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/lat", 204, NULL));
}

static void test_latency_pipelined(void **state)
{
	(void)state;
	/* 20 writes 10 ms apart through 100 ms latency: the last echo comes
	 * ~300 ms after the first write, not 20 x 100 ms. */
	int port = proxy_new(F, "pipe", 0);
	toxic_add(F, "pipe", "{\"type\":\"latency\",\"attributes\":{\"latency\":100}}");
	int fd = tcp_connect(port);
	int64_t t0 = fl_mono_ns();
	for (int i = 0; i < 20; i++) {
		write_all(fd, "0123456789", 10);
		usleep(10000);
	}
	char buf[200];
	read_exact(fd, buf, 200);
	double ms = (double)(fl_mono_ns() - t0) / 1e6;
	if (ms < 285 || ms > 900)
		fail_msg("pipelined latency: %.1f ms", ms);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/pipe", 204, NULL));
}

static void test_bandwidth(void **state)
{
	(void)state;
	int port = proxy_new(F, "bw", 0);
	toxic_add(F, "bw", "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":2000}}");
	int fd = tcp_connect(port);
	size_t n = 1000000;	/* 1 MB at 2000 KB/s: 0.5 s */
	char *out = malloc(n), *in = malloc(n);
	memset(out, 'b', n);
	int64_t t0 = fl_mono_ns();
	size_t sent = 0, got = 0;
	while (got < n) {
		struct pollfd p = { fd, POLLIN | (sent < n ? POLLOUT : 0), 0 };
		assert_true(poll(&p, 1, 5000) > 0);
		if ((p.revents & POLLOUT) && sent < n) {
			ssize_t k = send(fd, out + sent, n - sent, MSG_DONTWAIT);
			if (k > 0)
				sent += (size_t)k;
		}
		if (p.revents & POLLIN) {
			ssize_t k = recv(fd, in + got, n - got, MSG_DONTWAIT);
			assert_true(k > 0);
			got += (size_t)k;
		}
	}
	double s = (double)(fl_mono_ns() - t0) / 1e9;
	double rate = (double)n / s / 1000.0;
	if (rate < 2000 * 0.90 || rate > 2000 * 1.05)
		fail_msg("bandwidth 2000 KB/s: measured %.1f KB/s", rate);
	assert_memory_equal(in, out, n);
	free(out);
	free(in);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/bw", 204, NULL));
}

static void test_slow_close(void **state)
{
	(void)state;
	int port = proxy_new(F, "sc", 0);
	toxic_add(F, "sc", "{\"type\":\"slow_close\",\"attributes\":{\"delay\":300}}");
	int fd = tcp_connect(port);
	assert_true(rtt_ms(fd, 10) < 50);	/* data passes at once */
	int64_t t0 = fl_mono_ns();
	shutdown(fd, SHUT_WR);
	char buf[16];
	int err;
	assert_int_equal(read_to_end(fd, buf, sizeof(buf), &err, NULL), 0);
	double ms = (double)(fl_mono_ns() - t0) / 1e6;
	if (ms < 295 || ms > 700)
		fail_msg("slow_close 300 ms: closed after %.1f ms", ms);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/sc", 204, NULL));
}

static void test_timeout(void **state)
{
	(void)state;
	int port = proxy_new(F, "to", 0);
	toxic_add(F, "to", "{\"type\":\"timeout\",\"attributes\":{\"timeout\":300}}");
	int64_t t0 = fl_mono_ns();
	int fd = tcp_connect(port);
	write_all(fd, "hello", 5);
	char buf[16];
	int err;
	assert_int_equal(read_to_end(fd, buf, sizeof(buf), &err, NULL), 0);	/* dropped */
	assert_int_equal(err, 0);
	double ms = (double)(fl_mono_ns() - t0) / 1e6;
	if (ms < 295 || ms > 700)
		fail_msg("timeout 300 ms: closed after %.1f ms", ms);
	close(fd);
	/* timeout 0: never closes; removing the toxic closes the connection */
	json_decref(api(F, "POST", "/proxies/to/toxics/timeout_downstream", 200,
			"{\"attributes\":{\"timeout\":0}}"));
	fd = tcp_connect(port);
	write_all(fd, "hello", 5);
	struct pollfd p = { fd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 400), 0);	/* nothing, still open */
	t0 = fl_mono_ns();
	toxic_del(F, "to", "timeout_downstream");
	assert_int_equal(read_to_end(fd, buf, sizeof(buf), &err, NULL), 0);
	assert_true((fl_mono_ns() - t0) / 1000000 < 200);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/to", 204, NULL));
}

static void test_reset_peer(void **state)
{
	(void)state;
	int port = proxy_new(F, "rst", 0);
	toxic_add(F, "rst", "{\"type\":\"reset_peer\",\"attributes\":{\"timeout\":200}}");
	int fd = tcp_connect(port);
	int64_t t0 = fl_mono_ns();
	write_all(fd, "hello", 5);
	char buf[16];
	int err;
	size_t n = read_to_end(fd, buf, sizeof(buf), &err, NULL);
	double ms = (double)(fl_mono_ns() - t0) / 1e6;
	assert_int_equal(n, 0);
	if (err != ECONNRESET)
		fail_msg("reset_peer: want ECONNRESET, got %s", err ? strerror(err) : "EOF");
	if (ms < 195 || ms > 600)
		fail_msg("reset_peer 200 ms: reset after %.1f ms", ms);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/rst", 204, NULL));
}

static void test_limit_data(void **state)
{
	(void)state;
	int port = proxy_new(F, "lim", 0);
	toxic_add(F, "lim", "{\"type\":\"limit_data\",\"attributes\":{\"bytes\":1000}}");
	int fd = tcp_connect(port);
	char out[5000], in[6000];
	memset(out, 'z', sizeof(out));
	write_all(fd, out, sizeof(out));
	int err;
	size_t n = read_to_end(fd, in, sizeof(in), &err, NULL);
	assert_int_equal(n, 1000);
	assert_memory_equal(in, out, 1000);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/lim", 204, NULL));
}

static void test_slicer(void **state)
{
	(void)state;
	int port = proxy_new(F, "sl", 0);
	toxic_add(F, "sl",
		  "{\"type\":\"slicer\",\"attributes\":{\"average_size\":10,"
		  "\"size_variation\":5,\"delay\":2000}}");
	int fd = tcp_connect(port);
	char out[1000], in[1000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	write_all(fd, out, sizeof(out));
	size_t got = 0;
	int reads = 0, maxread = 0;
	while (got < sizeof(in)) {
		ssize_t r = read(fd, in + got, sizeof(in) - got);
		assert_true(r > 0);
		got += (size_t)r;
		reads++;
		maxread = r > maxread ? (int)r : maxread;
	}
	assert_memory_equal(in, out, sizeof(out));
	if (reads < 25 || maxread > 300)
		fail_msg("slicer: %d reads, largest %d bytes", reads, maxread);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/sl", 204, NULL));
}

static void test_toxicity(void **state)
{
	(void)state;
	int port = proxy_new(F, "tx", 0);
	toxic_add(F, "tx", "{\"type\":\"latency\",\"toxicity\":0,\"attributes\":{\"latency\":200}}");
	for (int i = 0; i < 5; i++) {
		int fd = tcp_connect(port);
		assert_true(rtt_ms(fd, 8) < 100);
		close(fd);
	}
	json_decref(api(F, "POST", "/proxies/tx/toxics/latency_downstream", 200,
			"{\"toxicity\":1}"));
	for (int i = 0; i < 3; i++) {
		int fd = tcp_connect(port);
		assert_true(rtt_ms(fd, 8) >= 199);
		close(fd);
	}
	/* 0.5: some connections slow, some not (40 connections, seeded) */
	json_decref(api(F, "POST", "/proxies/tx/toxics/latency_downstream", 200,
			"{\"toxicity\":0.5,\"attributes\":{\"latency\":30}}"));
	int slow = 0;
	for (int i = 0; i < 40; i++) {
		int fd = tcp_connect(port);
		slow += rtt_ms(fd, 8) >= 29;
		close(fd);
	}
	if (slow < 8 || slow > 32)
		fail_msg("toxicity 0.5: %d of 40 connections affected", slow);
	json_decref(api(F, "DELETE", "/proxies/tx", 204, NULL));
}

static void test_added_mid_connection(void **state)
{
	(void)state;
	int port = proxy_new(F, "mid", 0);
	int fd = tcp_connect(port);
	assert_true(rtt_ms(fd, 16) < 50);
	toxic_add(F, "mid", "{\"type\":\"latency\",\"stream\":\"upstream\",\"attributes\":{\"latency\":150}}");
	double ms = rtt_ms(fd, 16);
	if (ms < 149)
		fail_msg("toxic added mid-connection: round trip %.1f ms", ms);
	json_decref(api(F, "POST", "/proxies/mid/toxics/latency_upstream", 200,
			"{\"attributes\":{\"latency\":60}}"));
	ms = rtt_ms(fd, 16);
	if (ms < 59 || ms > 140)
		fail_msg("toxic changed mid-connection (150 -> 60 ms): round trip %.1f ms", ms);
	toxic_del(F, "mid", "latency_upstream");
	assert_true(rtt_ms(fd, 16) < 50);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/mid", 204, NULL));
}

static void test_down(void **state)
{
	(void)state;
	int port = proxy_new(F, "dn", 0);
	int fd = tcp_connect(port);
	assert_true(rtt_ms(fd, 8) < 50);
	json_decref(api(F, "POST", "/proxies/dn", 200, "{\"enabled\":false}"));
	char buf[8];
	int err;
	assert_int_equal(read_to_end(fd, buf, sizeof(buf), &err, NULL), 0);	/* live one closed */
	close(fd);
	assert_int_equal(tcp_connect(port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	json_decref(api(F, "PATCH", "/proxies/dn", 200, "{\"enabled\":true}"));
	fd = tcp_connect(port);
	assert_true(fd >= 0);
	assert_true(rtt_ms(fd, 8) < 50);
	close(fd);
	/* enabled:false with ttl_ms heals itself */
	json_decref(api(F, "POST", "/proxies/dn", 200, "{\"enabled\":false,\"ttl_ms\":300}"));
	assert_int_equal(tcp_connect(port), -1);
	usleep(450000);
	fd = tcp_connect(port);
	assert_true(fd >= 0);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/dn", 204, NULL));
}

static void test_refuse_accept_reset(void **state)
{
	(void)state;
	int port = proxy_new(F, "rf", 0);
	int live = tcp_connect(port);
	toxic_add(F, "rf", "{\"type\":\"refuse\"}");
	assert_int_equal(tcp_connect(port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_true(rtt_ms(live, 8) < 500); /* live connections go on (a stalled one never answers) */
	close(live);
	toxic_del(F, "rf", "refuse_downstream");
	int fd = tcp_connect(port);
	assert_true(fd >= 0);
	close(fd);
	toxic_add(F, "rf", "{\"type\":\"accept_reset\"}");
	fd = tcp_connect(port);
	assert_true(fd >= 0);
	char buf[8];
	int err;
	assert_int_equal(read_to_end(fd, buf, sizeof(buf), &err, NULL), 0);
	assert_int_equal(err, ECONNRESET);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/rf", 204, NULL));
}

static void test_corrupt(void **state)
{
	(void)state;
	int port = proxy_new(F, "cr", 0);
	toxic_add(F, "cr", "{\"type\":\"corrupt\",\"attributes\":{\"probability\":1}}");
	int fd = tcp_connect(port);
	char out[256], in[256];
	memset(out, 0x55, sizeof(out));
	write_all(fd, out, sizeof(out));
	read_exact(fd, in, sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++) {
		unsigned char d = (unsigned char)(in[i] ^ out[i]);
		assert_true(d && !(d & (d - 1)));	/* exactly one bit flipped */
	}
	close(fd);
	json_decref(api(F, "POST", "/proxies/cr/toxics/corrupt_downstream", 200,
			"{\"attributes\":{\"probability\":0.05}}"));
	fd = tcp_connect(port);
	char big[4000], bin[4000];
	memset(big, 0x33, sizeof(big));
	write_all(fd, big, sizeof(big));
	read_exact(fd, bin, sizeof(bin));
	int diff = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		diff += big[i] != bin[i];
	if (diff < 100 || diff > 320)
		fail_msg("corrupt 0.05 over 4000 bytes: %d flipped", diff);
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/cr", 204, NULL));
}

static void test_ttl(void **state)
{
	(void)state;
	int port = proxy_new(F, "ttl", 0);
	toxic_add(F, "ttl",
		  "{\"type\":\"latency\",\"ttl_ms\":300,\"attributes\":{\"latency\":100}}");
	int fd = tcp_connect(port);
	assert_true(rtt_ms(fd, 8) >= 99);
	usleep(350000);
	assert_true(rtt_ms(fd, 8) < 50);	/* expired on the live connection too */
	json_decref(api(F, "GET", "/proxies/ttl/toxics/latency_downstream", 404, NULL));
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/ttl", 204, NULL));
}

static void test_stalled_peer_api(void **state)
{
	(void)state;
	/* A client that never reads while the echo floods back: buffers fill,
	 * the proxy stops reading (bounded), and the API still answers at once. */
	int port = proxy_new(F, "stall", 0);
	toxic_add(F, "stall", "{\"type\":\"latency\",\"attributes\":{\"latency\":1}}");
	int fd = tcp_connect(port);
	char blk[65536];
	memset(blk, 'q', sizeof(blk));
	for (int i = 0; i < 400; i++) {
		ssize_t w = send(fd, blk, sizeof(blk), MSG_DONTWAIT);
		if (w <= 0) {
			usleep(2000);
			if (send(fd, blk, sizeof(blk), MSG_DONTWAIT) <= 0)
				break;
		}
	}
	for (int i = 0; i < 5; i++) {
		int64_t t0 = fl_mono_ns();
		json_decref(api(F, "POST", "/proxies/stall/toxics", 200,
				"{\"name\":\"s%d\",\"type\":\"latency\",\"attributes\":{\"latency\":5}}",
				i));
		double ms = (double)(fl_mono_ns() - t0) / 1e6;
		if (ms > 250)
			fail_msg("API blocked %.1f ms with a stalled peer", ms);
	}
	close(fd);
	json_decref(api(F, "DELETE", "/proxies/stall", 204, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_checksum_plain),
		cmocka_unit_test(test_checksum_toxics),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_latency_pipelined),
		cmocka_unit_test(test_bandwidth),
		cmocka_unit_test(test_slow_close),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_reset_peer),
		cmocka_unit_test(test_limit_data),
		cmocka_unit_test(test_slicer),
		cmocka_unit_test(test_toxicity),
		cmocka_unit_test(test_added_mid_connection),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_refuse_accept_reset),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_stalled_peer_api),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
