/* A static HTTP server for benchmarks and runner self-tests: answers GET /
 * with "hello\n", and any method on /echo?headers=A,B with what it received:
 * {"method", "path", "body", "headers": {"A": value-or-null, ...}}.
 *   static_http [HOST:PORT]     (default 127.0.0.1:0)
 * Prints "listening HOST:PORT" on stdout once it accepts connections; exits
 * with 0 on SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/http_server.h"

static void on_root(struct fl_http_req *r, void *arg)
{
	(void)arg;
	fl_http_reply(r, 200, "text/plain", "hello\n", 6);
}

static void on_echo(struct fl_http_req *r, void *arg)
{
	(void)arg;
	size_t len = 0;
	const char *body = fl_http_req_body(r, &len);
	json_t *headers = json_object();
	const char *names = fl_http_req_query(r, "headers");
	char *copy = names ? strdup(names) : NULL;
	char *save = NULL;
	for (char *n = copy ? strtok_r(copy, ",", &save) : NULL; n; n = strtok_r(NULL, ",", &save)) {
		const char *v = fl_http_req_header(r, n);
		json_object_set_new(headers, n, v ? json_string(v) : json_null());
	}
	free(copy);
	fl_http_reply_json(r, 200,
			   json_pack("{s:s, s:s, s:s%, s:o}", "method", fl_http_req_method(r), "path",
				     fl_http_req_path(r), "body", body ? body : "", len, "headers",
				     headers));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:0";
	char err[256] = "";
	int rc = 3;
	struct event *sigterm = NULL, *sigint = NULL;
	struct fl_http_server *s = NULL;
	struct event_base *base = event_base_new();
	if (!base) {
		fprintf(stderr, "static_http: cannot create an event loop\n");
		return 3;
	}
	struct fl_http_server_opts opts = { .addr = addr };
	s = fl_http_server_new(base, &opts, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "static_http: %s\n", err);
		goto out;
	}
	if (fl_http_server_route(s, "GET", "/", on_root, NULL) < 0 ||
	    fl_http_server_route(s, "*", "/echo", on_echo, NULL) < 0) {
		fprintf(stderr, "static_http: cannot add the route\n");
		goto out;
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0) {
		fprintf(stderr, "static_http: cannot watch signals\n");
		goto out;
	}
	printf("listening %s\n", fl_http_server_addr(s));
	fflush(stdout);
	event_base_dispatch(base);
	rc = 0;
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	fl_http_server_free(s);
	event_base_free(base);
	return rc;
}
