/* agent_attack: hostile clients of a faultline agent, and the probe that
 * measures its API meanwhile (tests/selftest/agent_attacks.sh).
 *
 *   agent_attack probe PORT MS          GET /version on a fresh connection every
 *                                       10 ms for MS ms: "n=.. fail=.. p50_ms=..
 *                                       p99_ms=.. max_ms=.." (a request with no
 *                                       answer in 2 s counts as 2000 ms and a fail)
 *   agent_attack slowloris PORT N MS    open N connections, send one byte on each,
 *                                       hold them MS ms: "open=.."
 *   agent_attack garbage PORT N         N malformed requests, each on its own
 *                                       connection (bad request line, 64 KiB of
 *                                       headers, Content-Length: -1, TRACE, a bad
 *                                       chunk size, lower-case method, NULs):
 *                                       "sent=.. json=.. html=.."
 *   agent_attack flood PORT CONNS BYTES MS  CONNS connections each sending BYTES
 *                                       without reading, held MS ms: "sent=.."
 *   agent_attack raw PORT               send standard input on one connection
 *                                       (pipelined requests as they are) and
 *                                       print everything read back until the
 *                                       server closes (at most 5 s)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int dial(int port, int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read until the peer closes, `cap` bytes, or the deadline. */
static size_t read_all(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t n = 0;
	while (n + 1 < cap) {
		int left = (int)((deadline - now_ns()) / 1000000);
		if (left <= 0)
			break;
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, left) <= 0)
			break;
		ssize_t k = recv(fd, buf + n, cap - n - 1, 0);
		if (k <= 0)
			break;
		n += (size_t)k;
		buf[n] = '\0';
		/* a complete small JSON answer: stop early */
		char *body = strstr(buf, "\r\n\r\n");
		const char *cl = strstr(buf, "Content-Length: ");
		if (body && cl && n >= (size_t)(body + 4 - buf) + (size_t)atoi(cl + 16))
			break;
	}
	buf[n] = '\0';
	return n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int probe(int port, int ms)
{
	size_t cap = (size_t)ms / 10 + 16, n = 0, fails = 0;
	double *lat = calloc(cap, sizeof(double));
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	static const char req[] = "GET /version HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	while (now_ns() < end && n < cap) {
		int64_t t0 = now_ns();
		char buf[2048];
		int fd = dial(port, 0);
		bool ok = false;
		if (fd >= 0) {
			struct timeval tv = { 2, 0 };
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1 &&
			    read_all(fd, buf, sizeof(buf), t0 + 2000000000LL) > 12 &&
			    strncmp(buf, "HTTP/1.1 200", 12) == 0)
				ok = true;
			close(fd);
		}
		double d = (double)(now_ns() - t0) / 1e6;
		if (!ok) {
			fails++;
			d = d > 2000 ? d : 2000;
		}
		lat[n++] = d;
		usleep(10000);
	}
	qsort(lat, n, sizeof(double), cmp_d);
	size_t i99 = n ? (size_t)((double)(n - 1) * 0.99) : 0;
	printf("n=%zu fail=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", n, fails,
	       n ? lat[n / 2] : 0, n ? lat[i99] : 0, n ? lat[n - 1] : 0);
	free(lat);
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int slowloris(int port, int n, int ms)
{
	raise_nofile();
	int *fds = calloc((size_t)n, sizeof(int)), open = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = dial(port, 1);
		if (fds[i] >= 0) {
			struct pollfd p = { fds[i], POLLOUT, 0 };
			poll(&p, 1, 200);
			if (send(fds[i], "G", 1, MSG_NOSIGNAL) == 1)
				open++;
		}
	}
	printf("open=%d\n", open);
	fflush(stdout);
	usleep((useconds_t)ms * 1000);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static int garbage(int port, int n)
{
	static const char *const reqs[] = {
		"\x01\x02\x03 garbage\r\n\r\n",
		"GET /version HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"TRACE / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /proxies HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"post /proxies HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
		"GET /\0version HTTP/1.1\r\n\r\n",
		"GET /proxies HTTP/9.9\r\n\r\n",
		NULL, /* 64 KiB of headers */
	};
	size_t nreq = sizeof(reqs) / sizeof(reqs[0]);
	static char big[70 << 10];
	int k = snprintf(big, sizeof(big), "GET /version HTTP/1.1\r\nX-Big: ");
	memset(big + k, 'a', (64 << 10));
	memcpy(big + k + (64 << 10), "\r\n\r\n", 5);
	int sent = 0, json = 0, html = 0;
	for (int i = 0; i < n; i++) {
		const char *r = reqs[(size_t)i % nreq];
		size_t len = r ? (i % nreq == 5 ? 26 : strlen(r)) : strlen(big);
		if (!r)
			r = big;
		int fd = dial(port, 0);
		if (fd < 0)
			continue;
		if (send(fd, r, len, MSG_NOSIGNAL) > 0)
			sent++;
		shutdown(fd, SHUT_WR);
		char buf[4096];
		read_all(fd, buf, sizeof(buf), now_ns() + 2000000000LL);
		if (strstr(buf, "application/json"))
			json++;
		if (strstr(buf, "<HTML>"))
			html++;
		close(fd);
	}
	printf("sent=%d json=%d html=%d\n", sent, json, html);
	return 0;
}

static int flood(int port, int conns, long bytes, int ms)
{
	raise_nofile();
	int *fds = calloc((size_t)conns, sizeof(int));
	char *chunk = malloc(65536);
	memset(chunk, 'x', 65536);
	long sent = 0;
	for (int i = 0; i < conns; i++)
		fds[i] = dial(port, 1);
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	long *left = calloc((size_t)conns, sizeof(long));
	for (int i = 0; i < conns; i++)
		left[i] = bytes;
	while (now_ns() < end) {
		bool any = false;
		for (int i = 0; i < conns; i++) {
			if (fds[i] < 0 || !left[i])
				continue;
			any = true;
			size_t want = left[i] < 65536 ? (size_t)left[i] : 65536;
			ssize_t w = send(fds[i], chunk, want, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				left[i] -= w;
				sent += w;
			}
		}
		if (!any)
			break;
		usleep(1000);
	}
	printf("sent=%ld\n", sent);
	fflush(stdout);
	int64_t now = now_ns();
	if (end > now)
		usleep((useconds_t)((end - now) / 1000));
	for (int i = 0; i < conns; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(left);
	free(chunk);
	free(fds);
	return 0;
}

static int raw(int port)
{
	size_t cap = 1 << 20, n = 0;
	char *in = malloc(cap), *out = malloc(cap);
	int rc = 1;
	if (!in || !out)
		goto out;
	for (ssize_t k; n < cap && (k = read(0, in + n, cap - n)) > 0;)
		n += (size_t)k;
	int fd = dial(port, 0);
	if (fd < 0)
		goto out;
	if (send(fd, in, n, MSG_NOSIGNAL) == (ssize_t)n) {
		size_t got = 0;
		int64_t deadline = now_ns() + 5000000000LL;
		for (;;) {
			int left = (int)((deadline - now_ns()) / 1000000);
			struct pollfd p = { fd, POLLIN, 0 };
			if (left <= 0 || poll(&p, 1, left) <= 0)
				break;
			ssize_t k = recv(fd, out + got, cap - got, 0);
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		fwrite(out, 1, got, stdout);
		rc = 0;
	}
	close(fd);
out:
	free(in);
	free(out);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "probe"))
		return probe(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "slowloris"))
		return slowloris(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc >= 3 && !strcmp(argv[1], "raw"))
		return raw(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "garbage"))
		return garbage(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 6 && !strcmp(argv[1], "flood"))
		return flood(atoi(argv[2]), atoi(argv[3]), atol(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: agent_attack probe|slowloris|garbage|flood|raw PORT ...\n");
	return 2;
}
