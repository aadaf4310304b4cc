/* A tiny HTTP server whose answer to GET /health follows a schedule, for
 * the prober tests: `check_flipserver [--max S] STEP...` where STEP is
 * CODE[@DELAY_MS][:SECONDS] (the last step lasts forever). Prints
 * "port N" on stdout once listening; exits on SIGTERM/SIGINT or after --max
 * seconds (default 60). GET /count answers how many /health requests came. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/http_server.h"

struct step {
	int code, delay_ms;
	double secs;	/* < 0: forever */
};

static struct step steps[32];
static int nsteps;
static int64_t t0;
static long requests;
static struct event_base *base;

static const struct step *current(void)
{
	double el = (double)(fl_mono_ns() - t0) / 1e9;
	for (int i = 0; i < nsteps; i++) {
		if (steps[i].secs < 0 || el < steps[i].secs)
			return &steps[i];
		el -= steps[i].secs;
	}
	return &steps[nsteps - 1];
}

struct later {
	struct fl_http_req *req;
	int code;
	struct event *ev;
};

static void answer_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct later *l = arg;
	fl_http_reply(l->req, l->code, "text/plain", "slow\n", 5);
	event_free(l->ev);
	free(l);
}

static void on_health(struct fl_http_req *req, void *arg)
{
	(void)arg;
	const struct step *s = current();
	requests++;
	if (!s->delay_ms) {
		char body[32];
		int n = snprintf(body, sizeof(body), "%d\n", s->code);
		fl_http_reply(req, s->code, "text/plain", body, (size_t)n);
		return;
	}
	struct later *l = calloc(1, sizeof(*l));
	if (!l) {
		fl_http_reply_error(req, 500, "out of memory");
		return;
	}
	l->req = req;
	l->code = s->code;
	l->ev = evtimer_new(base, answer_later, l);
	struct timeval tv = { s->delay_ms / 1000, (s->delay_ms % 1000) * 1000 };
	evtimer_add(l->ev, &tv);
}

static void on_count(struct fl_http_req *req, void *arg)
{
	(void)arg;
	char body[32];
	int n = snprintf(body, sizeof(body), "%ld\n", requests);
	fl_http_reply(req, 200, "text/plain", body, (size_t)n);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	int max_s = 60;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc) {
			max_s = atoi(argv[++i]);
			continue;
		}
		if (nsteps == 32) {
			fprintf(stderr, "check_flipserver: at most 32 steps\n");
			return 2;
		}
		struct step *s = &steps[nsteps++];
		char *end;
		s->code = (int)strtol(argv[i], &end, 10);
		s->secs = -1;
		if (*end == '@')
			s->delay_ms = (int)strtol(end + 1, &end, 10);
		if (*end == ':')
			s->secs = strtod(end + 1, &end);
		if (*end || s->code < 100 || s->code > 599) {
			fprintf(stderr, "check_flipserver: bad step '%s' (CODE[@DELAY_MS][:SECONDS])\n",
				argv[i]);
			return 2;
		}
	}
	if (!nsteps)
		steps[nsteps++] = (struct step){ 200, 0, -1 };
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	char err[256];
	struct fl_http_server_opts o = { .addr = "127.0.0.1:0" };
	struct fl_http_server *srv = base ? fl_http_server_new(base, &o, err, sizeof(err)) : NULL;
	if (!srv) {
		fprintf(stderr, "check_flipserver: %s\n", base ? err : "no event base");
		return 3;
	}
	fl_http_server_route(srv, "GET", "/health", on_health, NULL);
	fl_http_server_route(srv, "GET", "/count", on_count, NULL);
	struct event *si = evsignal_new(base, SIGINT, on_stop, base);
	struct event *st = evsignal_new(base, SIGTERM, on_stop, base);
	struct event *mx = evtimer_new(base, on_stop, base);
	struct timeval tv = { max_s, 0 };
	event_add(si, NULL);
	event_add(st, NULL);
	evtimer_add(mx, &tv);
	t0 = fl_mono_ns();
	printf("port %d\n", fl_http_server_port(srv));
	fflush(stdout);
	event_base_dispatch(base);
	fl_http_server_free(srv);
	event_free(si);
	event_free(st);
	event_free(mx);
	event_base_free(base);
	return 0;
}
