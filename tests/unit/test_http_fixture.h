/* The harness of the core/http_server tests (test_http_server.c,
 * test_http_conn.c): a server and a client on one event loop, requests
 * through the client, raw sockets, and a handler echoing query parameters. */
#ifndef FL_TEST_HTTP_FIXTURE_H
#define FL_TEST_HTTP_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/http_server.h"
#include "core/json.h"

#define UNUSED __attribute__((unused))

/* --- harness ---------------------------------------------------------- */

struct env {
	struct event_base *base;
	struct fl_http_server *srv;
	struct fl_http_client *cli;
	char url[128];
};

static UNUSED void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until *flag (or `ms` elapse); true if the flag was set. */
static UNUSED bool run_until(struct event_base *base, const bool *flag, int ms)
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

static UNUSED void run_for(struct event_base *base, int ms)
{
	bool never = false;
	run_until(base, &never, ms);
}

/* A server with options o, a client, and the server's URL. */
static UNUSED struct env *env_new_opts(const struct fl_http_server_opts *o)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[256] = "";
	assert_non_null(e);
	e->base = event_base_new();
	assert_non_null(e->base);
	e->srv = fl_http_server_new(e->base, o, err, sizeof(err));
	if (!e->srv)
		fail_msg("server: %s", err);
	e->cli = fl_http_client_new(e->base, err, sizeof(err));
	assert_non_null(e->cli);
	snprintf(e->url, sizeof(e->url), "http://%s", fl_http_server_addr(e->srv));
	return e;
}

static UNUSED struct env *env_new(const char *addr, size_t max_body)
{
	struct fl_http_server_opts o = { .addr = addr, .max_body = max_body };
	return env_new_opts(&o);
}

static UNUSED void env_free(struct env *e)
{
	fl_http_client_free(e->cli);
	fl_http_server_free(e->srv);
	event_base_free(e->base);
	free(e);
}

struct result {
	bool done;
	struct fl_http_response *resp;
};

static UNUSED void on_done(struct fl_http_response *resp, void *arg)
{
	struct result *r = arg;
	r->resp = resp;
	r->done = true;
}

/* One request through the client; the caller frees the response. */
static UNUSED struct fl_http_response *call(struct env *e, const char *method, const char *path,
					    const char *body)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", e->url, path);
	struct fl_http_request rq = { .method = method,
				      .url = url,
				      .body = body,
				      .body_len = body ? strlen(body) : 0,
				      .timeout_ms = 5000 };
	struct result r = { 0 };
	assert_int_equal(fl_http_client_start(e->cli, &rq, on_done, &r, NULL), 0);
	assert_true(run_until(e->base, &r.done, 8000));
	assert_non_null(r.resp);
	return r.resp;
}

static UNUSED const char *json_error(const struct fl_http_response *r)
{
	assert_non_null(r->json);
	assert_int_equal(fl_json_int(r->json, "status", -1), r->status);
	return fl_json_str(r->json, "error", "");
}

/* Raw socket to the server (blocking). */
static UNUSED int raw_connect(const struct env *e)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)fl_http_server_port(e->srv)) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Read what the server sent on fd while running the loop, until EOF or `ms`. */
static UNUSED void raw_read(struct env *e, int fd, char *out, size_t outlen, int ms)
{
	size_t n = 0;
	int64_t end = fl_mono_ns() + (int64_t)ms * 1000000;
	out[0] = '\0';
	while (fl_mono_ns() < end && n + 1 < outlen) {
		run_for(e->base, 5);
		ssize_t k = recv(fd, out + n, outlen - n - 1, MSG_DONTWAIT);
		if (k == 0)
			break;
		if (k > 0) {
			n += (size_t)k;
			out[n] = '\0';
		}
	}
}

/* Answers the query parameters flag, x, y, z and "" as JSON (null when absent). */
static UNUSED void h_query(struct fl_http_req *r, void *arg)
{
	(void)arg;
	json_t *o = json_object();
	const char *keys[] = { "flag", "x", "y", "z", "" };
	for (size_t i = 0; i < 5; i++) {
		const char *v = fl_http_req_query(r, keys[i]);
		json_object_set_new(o, keys[i], v ? json_string(v) : json_null());
	}
	fl_http_reply_json(r, 200, o);
}

#endif
