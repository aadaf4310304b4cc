/* A kubelet prober simulation: the probes of one container (startup,
 * liveness, readiness), each an httpGet on a URL, run on a libevent loop
 * with Kubernetes' rules (docs/checkers.md, "Probes"):
 *   - a result is success iff 200 <= status < 400 within timeoutSeconds;
 *   - probes run every periodSeconds after initialDelaySeconds;
 *   - failureThreshold consecutive failures fail a probe, successThreshold
 *     consecutive successes pass it;
 *   - a failed liveness or startup probe restarts the container (simulated:
 *     counted, states reset, initial delays start again);
 *   - a failed readiness probe removes the pod from the Service's endpoints,
 *     a passing one adds it back (readiness starts not ready);
 *   - the startup probe holds the others back until it succeeds.
 * Requests are asynchronous (core/http_client.h), so one slow answer delays
 * no other probe; a probe whose previous request is still out skips its tick,
 * as the kubelet's ticker does.
 *
 * Every result and every transition is reported as a history event
 * (docs/checkers.md: "probe", "probe_transition") to a callback. */
#ifndef FL_CHECKERS_PROBER_H
#define FL_CHECKERS_PROBER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "checkers/history.h"

struct event_base;
struct fl_prober;

struct fl_probe_spec {
	int kind;		  /* enum fl_probe_kind */
	const char *url;	  /* copied */
	int64_t period_ms;	  /* 10000 */
	int64_t timeout_ms;	  /* 1000 */
	int64_t initial_delay_ms; /* 0 */
	int failure_threshold;	  /* 3 */
	int success_threshold;	  /* 1 (must be 1 for liveness and startup) */
};

/* Kubernetes defaults for a kind. */
void fl_probe_spec_defaults(struct fl_probe_spec *s, int kind);

/* Called with each event (borrowed; copy what you keep). */
typedef void (*fl_prober_event_fn)(const json_t *ev, void *arg);

/* New prober on `base` (borrowed) for a container named `service` (copied;
 * written into every event). NULL with a reason in err. */
struct fl_prober *fl_prober_new(struct event_base *base, const char *service, fl_prober_event_fn fn,
				void *arg, char *err, size_t errlen);

/* Add a probe (at most one per kind). Returns 0, or FL_EINVAL with the
 * reason in err (bad URL, thresholds, successThreshold != 1 for
 * liveness/startup, kind given twice). */
int fl_prober_add(struct fl_prober *p, const struct fl_probe_spec *spec, char *err, size_t errlen);

/* Also send the probes held back by the startup probe, reporting their
 * results with "held": true and no effect on the simulation (the probe
 * checker's H5 uses them). Off by default. */
void fl_prober_observe_held(struct fl_prober *p, bool on);

/* TLS options of the probes' https:// requests (borrowed: must outlive the
 * prober; NULL: verify against the system's CAs). */
struct fl_http_tls;
void fl_prober_set_tls(struct fl_prober *p, const struct fl_http_tls *tls);

/* Start probing now. Returns 0 or a negative FL_E*. */
int fl_prober_start(struct fl_prober *p);

struct fl_prober_status {
	int restarts;		/* simulated container restarts */
	bool started;		/* startup passed (true when there is no startup probe) */
	bool live;		/* liveness passing */
	bool ready;		/* in the Service's endpoints */
	long results, failures; /* probe results seen, failed ones */
	int transitions;
};
void fl_prober_status(const struct fl_prober *p, struct fl_prober_status *out);

/* One container's probes with shared settings (the way `faultline probe`
 * and fl.check's prober take them): a URL per kind and one set of timings. */
struct fl_probe_set {
	const char *url[3];	  /* by enum fl_probe_kind; NULL: no such probe (borrowed) */
	int64_t period_ms;	  /* 10000 */
	int64_t timeout_ms;	  /* 1000 */
	int64_t initial_delay_ms; /* 0 */
	int failure_threshold;	  /* 3 */
	int success_threshold;	  /* 1; readiness only, the others take 1 */
};

/* No URLs, Kubernetes' default timings. */
void fl_probe_set_defaults(struct fl_probe_set *s);

/* Add a probe for every URL of s (liveness, readiness, startup in that
 * order). Returns 0, or FL_EINVAL with the reason in err: a bad probe (as
 * fl_prober_add) or no URL at all. */
int fl_prober_add_set(struct fl_prober *p, const struct fl_probe_set *s, char *err, size_t errlen);

/* The enum fl_probe_kind named "liveness", "readiness" or "startup"; -1 for
 * anything else. */
int fl_probe_kind_parse(const char *name);

/* Stop probing (in-flight requests are cancelled) and free. NULL is a no-op. */
void fl_prober_free(struct fl_prober *p);

#endif
