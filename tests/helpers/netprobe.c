/* netprobe: traffic for the host-fault tests (run inside network namespaces).
 *
 *   netprobe udp-recv PORT QUIET_MS      count datagrams until QUIET_MS pass
 *                                        with none (after "ready"); prints N
 *   netprobe udp-send ADDR PORT N        send N small datagrams, paced
 *   netprobe tcp-accept PORT             accept and close connections until killed
 *   netprobe tcp-probe ADDR PORT MS      exit 0 when a connection opens within MS
 *   netprobe tcp-sink PORT SKIP_MS       read one connection to EOF; prints the
 *                                        rate in bits/s after the first SKIP_MS
 *   netprobe tcp-source ADDR PORT MS     write for MS milliseconds, then close
 *
 * Listeners print "ready" on stdout once bound. Every mode is bounded in time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sock_at(int type, const char *addr, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "netprobe: bad address %s\n", addr);
		return -1;
	}
	return socket(AF_INET, type, 0);
}

static int listener(int type, int port)
{
	struct sockaddr_in sa;
	int fd = sock_at(type, "0.0.0.0", port, &sa), one = 1, big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(fd, 64))) {
		perror("netprobe: bind");
		return -1;
	}
	printf("ready\n");
	fflush(stdout);
	return fd;
}

static int udp_recv(int port, int quiet_ms)
{
	int fd = listener(SOCK_DGRAM, port);
	if (fd < 0)
		return 1;
	long n = 0;
	char buf[2048];
	int wait = 2000; /* for the first datagram: the sender starts once we are ready */
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, wait) <= 0)
			break;
		if (recv(fd, buf, sizeof(buf), 0) >= 0)
			n++;
		wait = quiet_ms;
	}
	printf("%ld\n", n);
	return 0;
}

static int udp_send(const char *addr, int port, long n)
{
	struct sockaddr_in sa;
	int fd = sock_at(SOCK_DGRAM, addr, port, &sa);
	if (fd < 0)
		return 1;
	char buf[32];
	for (long i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof(buf), "%ld", i);
		sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa));
		if (i % 50 == 49) /* pace: the receiver's queue never overflows */
			usleep(500);
	}
	return 0;
}

static int tcp_accept(int port)
{
	int fd = listener(SOCK_STREAM, port);
	if (fd < 0)
		return 1;
	double end = now_s() + 600;
	while (now_s() < end) {
		int c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	return 0;
}

static int tcp_probe(const char *addr, int port, int ms)
{
	struct sockaddr_in sa;
	int fd = sock_at(SOCK_STREAM, addr, port, &sa);
	if (fd < 0)
		return 2;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return 1;
	struct pollfd p = { fd, POLLOUT, 0 };
	if (poll(&p, 1, ms) != 1)
		return 1;
	int e = 0;
	socklen_t l = sizeof(e);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
	return e ? 1 : 0;
}

static int tcp_sink(int port, int skip_ms)
{
	int fd = listener(SOCK_STREAM, port);
	if (fd < 0)
		return 1;
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, 30000) != 1)
		return 1;
	int c = accept(fd, NULL, NULL);
	char buf[65536];
	double t0 = now_s(), from = 0, last = 0;
	long long bytes = 0;
	for (;;) {
		struct pollfd q = { c, POLLIN, 0 };
		if (poll(&q, 1, 10000) != 1)
			break;
		ssize_t r = recv(c, buf, sizeof(buf), 0);
		if (r <= 0)
			break;
		double t = now_s();
		if (t - t0 >= skip_ms / 1000.0) {
			if (!from)
				from = t;
			else
				bytes += r;
			last = t;
		}
	}
	printf("%.0f\n", last > from ? (double)bytes * 8 / (last - from) : 0.0);
	return 0;
}

static int tcp_source(const char *addr, int port, int ms)
{
	struct sockaddr_in sa;
	int fd = sock_at(SOCK_STREAM, addr, port, &sa);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("netprobe: connect");
		return 1;
	}
	char buf[16384];
	memset(buf, 'x', sizeof(buf));
	double end = now_s() + ms / 1000.0;
	while (now_s() < end) {
		struct pollfd p = { fd, POLLOUT, 0 };
		if (poll(&p, 1, 100) == 1 && send(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN)
			return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "udp-recv") && argc == 4)
		return udp_recv(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(m, "udp-send") && argc == 5)
		return udp_send(argv[2], atoi(argv[3]), atol(argv[4]));
	if (!strcmp(m, "tcp-accept") && argc == 3)
		return tcp_accept(atoi(argv[2]));
	if (!strcmp(m, "tcp-probe") && argc == 5)
		return tcp_probe(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(m, "tcp-sink") && argc == 4)
		return tcp_sink(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(m, "tcp-source") && argc == 5)
		return tcp_source(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: netprobe udp-recv|udp-send|tcp-accept|tcp-probe|tcp-sink|"
			"tcp-source ... (see the source's header)\n");
	return 2;
}
