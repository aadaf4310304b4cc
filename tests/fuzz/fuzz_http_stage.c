/* Fuzz target: the HTTP stage (fault-injector/http_stage.c) on a real link.
 * An engine runs on its own thread with one HTTP link whose upstream is a
 * listener of this harness. The input is: one byte choosing the link's
 * toxics, two bytes (little-endian) n, n bytes the client sends, and the
 * rest the upstream answers. Each input is one connection: the client
 * writes and half-closes, the upstream reads what arrives, answers and
 * closes, the client reads to EOF. The stage sees both streams as they
 * arrive, in whatever pieces TCP makes of them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <jansson.h>

#include "fault-injector/proxy.h"
#include "tests/fuzz/fuzz.h"

static struct fl_proxy_engine *E;
static int up_fd = -1, link_port, cur_preset = -1;

/* The toxic sets (request-side HTTP toxics, a stream toxic behind the stage). */
static const char *const presets[] = {
	NULL,
	"{\"name\":\"t\",\"type\":\"http_abort\",\"attributes\":{\"path\":\"/a\",\"status\":502,\"body\":\"x\"}}",
	"{\"name\":\"t\",\"type\":\"http_abort\",\"attributes\":{\"path_regex\":\"^/r[0-9]+\",\"header\":\"x-k\"}}",
	"{\"name\":\"t\",\"type\":\"http_drop_response\",\"attributes\":{\"method\":\"POST\"}}",
	"{\"name\":\"t\",\"type\":\"http_delay\",\"attributes\":{\"delay\":1,\"probability\":0.5}}",
	"{\"name\":\"t\",\"type\":\"slicer\",\"stream\":\"downstream\",\"attributes\":{\"average_size\":3,\"size_variation\":2,\"delay\":0}}",
};
#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

struct call {
	const char *method, *path, *body;
	int status;
	json_t *reply;
};

static void call_on_loop(void *arg)
{
	struct call *c = arg;
	fl_proxy_api_handle(E, c->method, c->path, NULL, c->body, c->body ? strlen(c->body) : 0,
			    &c->status, &c->reply);
}

static json_t *api(const char *method, const char *path, const char *body, int *status)
{
	struct call c = { method, path, body, 0, NULL };
	if (fl_proxy_engine_exec(E, call_on_loop, &c))
		abort();
	*status = c.status;
	return c.reply;
}

static void setup(void)
{
	char err[256], body[256];
	struct fl_proxy_opts o = { .seeded = true, .seed = 7, .events_keep = 16 };
	E = fl_proxy_engine_new(&o, err, sizeof(err));
	if (!E || fl_proxy_engine_start_thread(E, err, sizeof(err)))
		abort();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	up_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (up_fd < 0 || bind(up_fd, (struct sockaddr *)&a, sizeof(a)) || listen(up_fd, 16) ||
	    getsockname(up_fd, (struct sockaddr *)&a, &al))
		abort();
	snprintf(body, sizeof(body),
		 "{\"name\":\"f\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:%d\",\"http\":true}",
		 ntohs(a.sin_port));
	int st;
	json_t *r = api("POST", "/proxies", body, &st);
	const char *listen = json_string_value(json_object_get(r, "listen"));
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	if (st != 201 || !colon)
		abort();
	link_port = atoi(colon + 1);
	json_decref(r);
}

static void set_preset(int i)
{
	if (i == cur_preset)
		return;
	int st;
	json_decref(api("DELETE", "/proxies/f/toxics/t", NULL, &st));
	if (presets[i]) {
		json_decref(api("POST", "/proxies/f/toxics", presets[i], &st));
		if (st != 200)
			abort();
	}
	cur_preset = i;
}

static bool wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	return poll(&p, 1, ms) == 1;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (!wait_fd(fd, POLLOUT, 1000))
			return;
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read until EOF, an error or ms without data. */
static void drain(int fd, int ms)
{
	char buf[16384];
	while (wait_fd(fd, POLLIN, ms) && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	if (!E)
		setup();
	set_preset(data[0] % NPRESETS);
	size_t n = (size_t)data[1] | ((size_t)data[2] << 8);
	data += 3;
	size -= 3;
	if (n > size)
		n = size;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)link_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		abort();
	write_all(c, data, n);
	shutdown(c, SHUT_WR);
	int u = -1;
	if (wait_fd(up_fd, POLLIN, 1000))
		u = accept4(up_fd, NULL, NULL, SOCK_CLOEXEC);
	if (u >= 0) {
		drain(u, 5);
		write_all(u, data + n, size - n);
		shutdown(u, SHUT_WR);
	}
	drain(c, 50);
	close(c);
	if (u >= 0)
		close(u);
	return 0;
}
