/* faultline probe: the kubelet's prober, simulated against a URL. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "checkers/prober.h"
#include "cli/command.h"
#include "core/clock.h"
#include "core/history.h"
#include "core/http_client.h"
#include "core/json.h"

enum {
	O_KIND = FL_OPT_LONG,
	O_PERIOD,
	O_TIMEOUT,
	O_FTH,
	O_STH,
	O_DELAY,
	O_ALSO,
	O_HELD,
	O_SERVICE,
	O_DURATION,
	O_JSON,
	O_HISTORY
};

static const struct fl_opt opts[] = {
	{ "kind", O_KIND, "K", "liveness, readiness or startup (required)" },
	{ "period", O_PERIOD, "S", "periodSeconds (default 10; fractions allowed)" },
	{ "timeout", O_TIMEOUT, "S", "timeoutSeconds (default 1)" },
	{ "failure-threshold", O_FTH, "N", "failureThreshold (default 3)" },
	{ "success-threshold", O_STH, "N",
	  "successThreshold (default 1; must be 1 unless readiness)" },
	{ "initial-delay", O_DELAY, "S", "initialDelaySeconds (default 0)" },
	{ "also", O_ALSO, "KIND=URL",
	  "one more probe of the same container, same settings\n"
	  "(e.g. --also startup=http://127.0.0.1:8080/startupz)" },
	{ "observe-held", O_HELD, NULL,
	  "still send probes held back by startup, reported with\n"
	  "\"held\": true (for the probe checker's H5)" },
	{ "service", O_SERVICE, "NAME", "container name in the events (default: URL host:port)" },
	{ "duration", O_DURATION, "S", "stop after S seconds (default: until Ctrl-C)" },
	{ "json", O_JSON, NULL,
	  "print every result and transition as JSON lines (a\n"
	  "history `faultline check probe` reads)" },
	{ "history", O_HISTORY, "FILE", "also append the events to FILE" },
	{ "verbose", 'v', NULL, "print every probe result, not only transitions" },
	FL_OPTS_CLIENT_TLS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline probe URL --kind liveness|readiness|startup [OPTIONS]\n"
	  "\n"
	  "Probe URL the way the kubelet does (httpGet: success iff 200 <= status < 400\n"
	  "within the timeout; failureThreshold consecutive failures fail the probe,\n"
	  "successThreshold successes pass it) and print every transition with its time:\n"
	  "a failed liveness or startup probe restarts the container, a failed readiness\n"
	  "probe removes it from the Service's endpoints, a passing one adds it back; a\n"
	  "startup probe holds the others back until it passes.\n"
	  "\n",
	  opts },
	{ "\n"
	  "Exit status: 0 when at the end every probe passes and nothing was restarted,\n"
	  "1 otherwise, 2 usage error, 3 when the prober could not start, 130 interrupted.\n",
	  NULL },
	{ NULL, NULL },
};

struct run {
	struct event_base *base;
	int json, verbose;
	struct fl_history *hist;
	int64_t mono0, wall0;
	int interrupted;
};

static void print_time(struct run *r, int64_t t)
{
	char ts[40];
	fl_wall_iso(r->wall0 + (t - r->mono0), ts, sizeof(ts));
	printf("%s  +%7.3fs  ", ts, (double)(t - r->mono0) / 1e9);
}

static void on_event(const json_t *ev, void *arg)
{
	struct run *r = arg;
	if (r->hist)
		fl_history_append(r->hist, ev);
	if (r->json) {
		json_t *c = json_copy((json_t *)ev);
		char ts[40];
		json_object_set_new(c, "ts",
				    json_string(
					    fl_wall_iso(r->wall0 + (fl_json_int(ev, "t", r->mono0) -
								    r->mono0),
							ts, sizeof(ts))));
		char *s = fl_json_dumps(c);
		json_decref(c);
		if (s)
			printf("%s\n", s);
		free(s);
		fflush(stdout);
		return;
	}
	const char *type = fl_json_str(ev, "event", "");
	const char *kind = fl_json_str(ev, "kind", "?");
	int64_t t = fl_json_int(ev, "t", r->mono0);
	if (!strcmp(type, "probe")) {
		if (!r->verbose)
			return;
		print_time(r, t);
		const char *e = fl_json_str(ev, "error", NULL);
		if (e)
			printf("%-9s failed: %s%s\n", kind, e,
			       fl_json_bool(ev, "held", false) ? " (held)" : "");
		else
			printf("%-9s %lld in %.1f ms %s%s\n", kind,
			       (long long)fl_json_int(ev, "status", 0),
			       fl_json_num(ev, "latency_ms", 0),
			       fl_json_bool(ev, "ok", false) ? "ok" : "FAILED",
			       fl_json_bool(ev, "held", false) ? " (held)" : "");
	} else if (!strcmp(type, "probe_transition")) {
		print_time(r, t);
		const char *action = fl_json_str(ev, "action", "");
		bool passing = !strcmp(fl_json_str(ev, "state", ""), "passing");
		long after = (long)fl_json_int(ev, "after", 0);
		const char *what = !strcmp(action, "restart")	? "container restarted"
				   : !strcmp(action, "removed") ? "removed from endpoints"
				   : !strcmp(action, "added")	? "added to endpoints"
				   : !strcmp(action, "started") ? "started; other probes released"
								: action;
		if (passing)
			printf("%-9s passing after %ld success%s: %s\n", kind, after,
			       after == 1 ? "" : "es", what);
		else
			printf("%-9s FAILING after %ld failure%s: %s\n", kind, after,
			       after == 1 ? "" : "s", what);
	}
	fflush(stdout);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct run *r = arg;
	if (what & EV_SIGNAL)
		r->interrupted = 1;
	event_base_loopbreak(r->base);
}

static int parse_secs(const char *s, int64_t *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < 0 || v > 86400)
		return -1;
	*ms = (int64_t)(v * 1000 + 0.5);
	return 0;
}

struct probe_args {
	const char *url, *service, *history;
	const char *also[2];
	int nalso, kind, json, verbose, observe_held;
	int64_t duration;
	struct fl_probe_set set;
	struct fl_http_tls tls;
};

static int parse_count(const struct fl_opts *o, int *out)
{
	char *end;
	long n = strtol(o->arg, &end, 10);
	if (*end || n < 1 || n > 1000)
		return fl_cli_usage_error("probe", "%s must be 1..1000, not '%s'", o->spelled,
					  o->arg);
	*out = (int)n;
	return -1;
}

/* One option's value into *a. Returns -1 to go on, else an exit code. */
static int take_opt(struct probe_args *a, const struct fl_opts *o, int c)
{
	const char *v = o->arg;
	struct fl_probe_set *s = &a->set;
	switch (c) {
	case O_JSON: a->json = 1; break;
	case 'v': a->verbose = 1; break;
	case O_HELD: a->observe_held = 1; break;
	case O_SERVICE: a->service = v; break;
	case O_HISTORY: a->history = v; break;
	case O_KIND:
		if ((a->kind = fl_probe_kind_parse(v)) < 0)
			return fl_cli_usage_error("probe",
						  "--kind must be liveness, readiness or "
						  "startup, not '%s'",
						  v);
		break;
	case O_PERIOD:
	case O_TIMEOUT:
	case O_DELAY:
	case O_DURATION: {
		int64_t *ms = c == O_PERIOD    ? &s->period_ms
			      : c == O_TIMEOUT ? &s->timeout_ms
			      : c == O_DELAY   ? &s->initial_delay_ms
					       : &a->duration;
		if (parse_secs(v, ms) || (*ms <= 0 && (c == O_PERIOD || c == O_TIMEOUT)))
			return fl_cli_usage_error("probe", "%s: bad seconds '%s'", o->spelled, v);
		break;
	}
	case O_FTH: return parse_count(o, &s->failure_threshold);
	case O_STH: return parse_count(o, &s->success_threshold);
	case O_ALSO:
		if (a->nalso == 2)
			return fl_cli_usage_error("probe", "at most two --also probes");
		a->also[a->nalso++] = v;
		break;
	default: fl_cli_tls_take(&a->tls, c, v); break;
	}
	return -1;
}

/* The URLs of the probes: URL for --kind, and each --also KIND=URL. */
static int set_urls(struct probe_args *a)
{
	struct fl_probe_set *s = &a->set;
	if (a->kind != FL_PROBE_READINESS && s->success_threshold != 1)
		return fl_cli_usage_error("probe", "--success-threshold must be 1 for %s probes",
					  fl_probe_kind_str(a->kind));
	s->url[a->kind] = a->url;
	for (int i = 0; i < a->nalso; i++) {
		const char *eq = strchr(a->also[i], '=');
		char kb[16];
		if (!eq || (size_t)(eq - a->also[i]) >= sizeof(kb))
			return fl_cli_usage_error("probe", "--also takes KIND=URL, not '%s'",
						  a->also[i]);
		snprintf(kb, sizeof(kb), "%.*s", (int)(eq - a->also[i]), a->also[i]);
		int k = fl_probe_kind_parse(kb);
		if (k < 0)
			return fl_cli_usage_error("probe", "--also: unknown kind '%s'", kb);
		if (s->url[k])
			return fl_cli_usage_error("probe", "--also: a %s probe is already given",
						  kb);
		s->url[k] = eq + 1;
	}
	return -1;
}

/* Fill *a from argv. Returns -1 to go on, else an exit code. */
static int parse_args(int argc, char **argv, struct probe_args *a)
{
	struct fl_opts o;
	int c, rc;
	fl_opts_init(&o, &fl_cmd_probe, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0)
		if ((rc = take_opt(a, &o, c)) >= 0)
			return rc;
	if (c < 0)
		return o.exit;
	for (int i = o.optind; i < argc; i++) {
		if (a->url)
			return fl_cli_usage_error("probe", "unexpected argument '%s'", argv[i]);
		a->url = argv[i];
	}
	if (!a->url)
		return fl_cli_usage_error("probe", "missing URL");
	if (a->kind < 0)
		return fl_cli_usage_error("probe", "missing --kind");
	if ((rc = fl_cli_tls_check("probe", &a->tls)) >= 0)
		return rc;
	return set_urls(a);
}

/* Probe until the duration ends or a signal; then the summary. Returns the exit code. */
static int probe_loop(struct run *r, struct fl_prober *p, const struct probe_args *a)
{
	const struct fl_probe_set *s = &a->set;
	struct event *sigint = evsignal_new(r->base, SIGINT, on_stop, r);
	struct event *sigterm = evsignal_new(r->base, SIGTERM, on_stop, r);
	struct event *stop = NULL;
	int rc = FL_EXIT_INFRA;
	if (!sigint || !sigterm || event_add(sigint, NULL) || event_add(sigterm, NULL))
		goto out;
	if (a->duration >= 0) {
		stop = evtimer_new(r->base, on_stop, r);
		struct timeval tv = { (time_t)(a->duration / 1000),
				      (suseconds_t)(a->duration % 1000) * 1000 };
		if (!stop || evtimer_add(stop, &tv))
			goto out;
	}
	r->mono0 = fl_mono_ns();
	r->wall0 = fl_wall_ns();
	if (!a->json)
		printf("probing %s (%s) every %.3g s, timeout %.3g s, failure threshold %d, "
		       "success threshold %d, initial delay %.3g s\n",
		       a->url, fl_probe_kind_str(a->kind), (double)s->period_ms / 1000,
		       (double)s->timeout_ms / 1000, s->failure_threshold, s->success_threshold,
		       (double)s->initial_delay_ms / 1000);
	fflush(stdout);
	if (fl_prober_start(p) < 0)
		goto out;
	event_base_dispatch(r->base);
	struct fl_prober_status st;
	fl_prober_status(p, &st);
	bool good = st.restarts == 0 && st.started && st.live && st.ready;
	if (!a->json)
		printf("summary: %ld results, %ld failed, %d restart%s, started %s, live %s, "
		       "ready %s\n",
		       st.results, st.failures, st.restarts, st.restarts == 1 ? "" : "s",
		       st.started ? "yes" : "no", st.live ? "yes" : "no", st.ready ? "yes" : "no");
	rc = r->interrupted ? FL_EXIT_INTERRUPTED : good ? FL_EXIT_OK : FL_EXIT_FAIL;
out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (stop)
		event_free(stop);
	return rc;
}

static int cmd_probe(int argc, char **argv)
{
	struct probe_args a = { .kind = -1, .duration = -1 };
	fl_probe_set_defaults(&a.set);
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	char svc[256];
	if (!a.service) { /* the URL's host:port */
		const char *h = strstr(a.url, "://");
		h = h ? h + 3 : a.url;
		snprintf(svc, sizeof(svc), "%.*s", (int)strcspn(h, "/"), h);
		a.service = svc;
	}
	char err[256] = "";
	struct run r = { .json = a.json, .verbose = a.verbose };
	struct fl_prober *p = NULL;
	rc = FL_EXIT_INFRA;
	if (!(r.base = event_base_new())) {
		fprintf(stderr, "faultline probe: cannot create the event loop\n");
		return FL_EXIT_INFRA;
	}
	if ((a.history && !(r.hist = fl_history_open(a.history, 1, err, sizeof(err)))) ||
	    !(p = fl_prober_new(r.base, a.service, on_event, &r, err, sizeof(err)))) {
		fprintf(stderr, "faultline probe: %s\n", err);
		goto out;
	}
	if (fl_prober_add_set(p, &a.set, err, sizeof(err)) < 0) {
		rc = fl_cli_usage_error("probe", "%s", err);
		goto out;
	}
	fl_prober_observe_held(p, a.observe_held);
	fl_prober_set_tls(p, &a.tls);
	rc = probe_loop(&r, p, &a);
out:
	fl_prober_free(p);
	fl_history_close(r.hist);
	event_base_free(r.base);
	return rc;
}

const struct fl_command fl_cmd_probe = {
	.name = "probe",
	.summary = "simulate the kubelet probing a URL (liveness, readiness, startup)",
	.help = help,
	.order = 55,
	.run = cmd_probe,
};
