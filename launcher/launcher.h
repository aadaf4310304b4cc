/* The reference transfer system's launcher: starts the whole topology on
 * loopback (one transferd per service, a fault-injector link on every
 * service-to-service edge), records it in DATA/topology.json, stops it.
 * Used by `faultline ref` and the Lua module fl.ref. */
#ifndef FL_LAUNCHER_LAUNCHER_H
#define FL_LAUNCHER_LAUNCHER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct fl_ref_up_opts {
	const char *data;		/* data directory (created) */
	const char *transferd;		/* path of transferd */
	const char *faultline;		/* path of faultline (for `faultline proxy`), NULL: direct edges */
	const char *const *bugs;	/* planted bug names */
	int nbugs;
	const char *const *extra;	/* extra transferd arguments for every service */
	int nextra;
	uint64_t seed;
	bool seeded;
	bool fresh;			/* remove earlier databases and logs first */
	long timeout_ms;		/* per readiness wait; 0: 10000 */
};

/* The services in start order, NULL-terminated. */
extern const char *const fl_ref_services[];

/* Start the topology. On success returns 0 and *topology (new reference;
 * also written to DATA/topology.json). On failure every process started is
 * stopped, err says why, and FL_E* is returned (FL_EEXIST: already running). */
int fl_ref_up(const struct fl_ref_up_opts *o, json_t **topology, char *err, size_t errlen);

/* Load DATA/topology.json (new reference) or NULL with err. */
json_t *fl_ref_load(const char *data, char *err, size_t errlen);

/* SIGTERM every process of the topology, wait for each (up to wait_ms), and
 * return a report {"services": {name: {"pid", "exit": code|null,
 * "signal": name|null, "status": "exited 0"...}}} (new reference). The
 * topology file is renamed topology.down.json. NULL with err on failure. */
json_t *fl_ref_down(const char *data, long wait_ms, char *err, size_t errlen);

/* Start one service again (same port, same arguments; extra ones appended,
 * --crash-at dropped unless given again), wait for its probes when `wait`
 * (else only until it listens), and update the topology file. Returns 0 or
 * FL_E* with err. */
int fl_ref_restart(const char *data, const char *service, const char *const *extra, int nextra,
		   bool wait, char *err, size_t errlen);

/* Send a signal to a service of the topology (SIGKILL, SIGTERM, SIGSTOP,
 * SIGCONT). Returns 0 or FL_E*. */
int fl_ref_signal(const char *data, const char *service, int sig, char *err, size_t errlen);

/* The default data directory ($FL_REF_DATA, else /tmp/faultline-ref-UID);
 * static storage. */
const char *fl_ref_default_data(void);

#endif
