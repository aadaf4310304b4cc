/* proxy_load: load clients for the fault-injector benches (bench/proxy.sh).
 * All talk to an echo upstream (proxy_echo), directly or through a proxy.
 *
 *   proxy_load rtt PORT N SIZE      N sequential round trips of SIZE bytes on one
 *                                   connection: "p50_us=.. p99_us=.. mean_us=..
 *                                   kp50_us=.. kp99_us=..", the k figures timed to
 *                                   the kernel's receive timestamp of the reply
 *                                   (SO_TIMESTAMPNS), so without this client's own
 *                                   wakeup delay
 *   proxy_load timer N MS           N waits of MS ms on a timerfd (absolute
 *                                   CLOCK_MONOTONIC, as the proxy's stage timers):
 *                                   how late the wakeups come, "p50_us=.. p99_us=.."
 *   proxy_load stream PORT BYTES    send BYTES, read the echo back; the receive
 *                                   rate from first to last byte: "rate_kBps=.."
 *   proxy_load conns PORT N SECS    open N connections, one round trip each, hold
 *                                   them SECS seconds: "open=N" once all are up
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int connect_to(int port, int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read into buf; *kts gets the kernel's receive time (CLOCK_REALTIME ns) of
 * the data read, when it says. */
static ssize_t read_stamped(int fd, char *buf, size_t n, int64_t *kts)
{
	char ctl[CMSG_SPACE(sizeof(struct timespec)) * 2];
	struct iovec iov = { buf, n };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t r = recvmsg(fd, &m, 0);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); r > 0 && c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*kts = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return r;
}

static void print_pct(const char *pfx, int64_t *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_i64);
	printf("%sp50_us=%.1f %sp99_us=%.1f", pfx, (double)t[n / 2] / 1e3, pfx,
	       (double)t[(n * 99) / 100] / 1e3);
}

static int do_rtt(int port, int n, size_t size)
{
	int fd = connect_to(port, 0);
	if (fd < 0 || n <= 0) {
		perror("connect");
		return 1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	char *out = malloc(size), *in = malloc(size);
	memset(out, 'r', size);
	int64_t *t = calloc((size_t)n, sizeof(*t)), *k = calloc((size_t)n, sizeof(*k));
	for (int i = -10; i < n; i++) { /* 10 warm-up rounds */
		int64_t t0 = now_ns(), r0 = real_ns(), kts = 0;
		if (write(fd, out, size) != (ssize_t)size)
			return 1;
		for (size_t got = 0; got < size;) {
			ssize_t r = read_stamped(fd, in + got, size - got, &kts);
			if (r <= 0) {
				fprintf(stderr, "rtt: read: %s\n", r ? strerror(errno) : "EOF");
				return 1;
			}
			got += (size_t)r;
		}
		if (i >= 0) {
			t[i] = now_ns() - t0;
			k[i] = kts ? kts - r0 : t[i];
		}
	}
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += (double)t[i];
	print_pct("", t, n);
	printf(" mean_us=%.1f ", sum / n / 1e3);
	print_pct("k", k, n);
	printf("\n");
	close(fd);
	return 0;
}

/* The floor: how late a bare timer wakes on this machine right now. */
static int do_timer(int n, int ms)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0 || n <= 0) {
		perror("timerfd_create");
		return 1;
	}
	int64_t *t = calloc((size_t)n, sizeof(*t));
	for (int i = 0; i < n; i++) {
		int64_t at = now_ns() + (int64_t)ms * 1000000;
		struct itimerspec its = { .it_value = { at / 1000000000, at % 1000000000 } };
		uint64_t x;
		if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
			return 1;
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, -1) != 1 || read(fd, &x, sizeof(x)) != sizeof(x))
			return 1;
		t[i] = now_ns() - at;
	}
	print_pct("", t, n);
	printf("\n");
	close(fd);
	return 0;
}

static int do_stream(int port, size_t total)
{
	int fd = connect_to(port, 0);
	if (fd < 0) {
		perror("connect");
		return 1;
	}
	static char out[65536], in[65536];
	memset(out, 's', sizeof(out));
	size_t sent = 0, got = 0, first = 0;
	int64_t t_first = 0, t_last = 0;
	while (got < total) {
		struct pollfd p = { fd, POLLIN | (sent < total ? POLLOUT : 0), 0 };
		if (poll(&p, 1, 30000) <= 0) {
			fprintf(stderr, "stream: stalled at %zu/%zu\n", got, total);
			return 1;
		}
		if ((p.revents & POLLOUT) && sent < total) {
			size_t k = total - sent < sizeof(out) ? total - sent : sizeof(out);
			ssize_t w = send(fd, out, k, MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
		}
		if (p.revents & POLLIN) {
			ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (r == 0) {
				fprintf(stderr, "stream: EOF at %zu/%zu\n", got, total);
				return 1;
			}
			if (r > 0) {
				if (!t_first) {
					t_first = now_ns();
					first = (size_t)r;
				}
				got += (size_t)r;
				t_last = now_ns();
			}
		}
	}
	double s = (double)(t_last - t_first) / 1e9;
	printf("rate_kBps=%.2f bytes=%zu seconds=%.3f\n", (double)(got - first) / s / 1000.0, got, s);
	close(fd);
	return 0;
}

static int do_conns(int port, int n, int secs)
{
	int *fds = calloc((size_t)n, sizeof(int));
	int open = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = connect_to(port, 0);
		if (fds[i] < 0) {
			fprintf(stderr, "conns: connect %d: %s\n", i, strerror(errno));
			break;
		}
		open++;
		if (write(fds[i], "x", 1) != 1)
			break;
	}
	int ok = 0;
	int64_t deadline = now_ns() + 10000000000LL;
	for (int i = 0; i < open; i++) {
		char c;
		int64_t left = (deadline - now_ns()) / 1000000;
		struct pollfd p = { fds[i], POLLIN, 0 };
		if (left > 0 && poll(&p, 1, (int)left) > 0 && read(fds[i], &c, 1) == 1)
			ok++;
	}
	printf("open=%d\n", ok);
	fflush(stdout);
	sleep((unsigned)secs);
	for (int i = 0; i < open; i++)
		close(fds[i]);
	free(fds);
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (argc == 5 && strcmp(argv[1], "rtt") == 0)
		return do_rtt(atoi(argv[2]), atoi(argv[3]), (size_t)atol(argv[4]));
	if (argc == 4 && strcmp(argv[1], "timer") == 0)
		return do_timer(atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "stream") == 0)
		return do_stream(atoi(argv[2]), (size_t)atoll(argv[3]));
	if (argc == 5 && strcmp(argv[1], "conns") == 0)
		return do_conns(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr,
		"usage: proxy_load rtt PORT N SIZE | timer N MS | stream PORT BYTES | conns PORT N "
		"SECS\n");
	return 2;
}
