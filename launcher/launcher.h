/* The launcher: starts a system under test from its topology model (the
 * services, a fault-injector link on every service-to-service edge,
 * readiness in dependency order), supervises its processes (exit records,
 * a log per service, signals, restart), records it in DATA/topology.json,
 * guards it with a lease against orphans, and stops it. Used by `faultline
 * up`/`down`/`status`/..., `faultline ref` (the reference transfer system,
 * fl_ref_*), and the Lua modules fl.sys and fl.ref.
 *
 * Files: up.c (start a model), model.c (checking, start order,
 * placeholders), ready.c (readiness), control.c (a running system: load,
 * signal, restart, status, down), supervise.c (spawn through a reaper, exit
 * records, logs), links.c (the fault injector's API), warden.c (the lease),
 * ref_topology.c (the reference system), netns.c and hosts.c (hosts in
 * network namespaces for --netns, an agent in each), netns_sweep.c (the
 * orphan sweep of those hosts). */
#ifndef FL_LAUNCHER_LAUNCHER_H
#define FL_LAUNCHER_LAUNCHER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include <sys/types.h>

/* ---------------------------------------------------------- any system */

struct fl_up_opts {
	const char *data;      /* data directory (created) */
	const char *faultline; /* path of faultline, for `faultline proxy` (links) */
	bool fresh;	       /* empty the data directory first */
	bool keep;	       /* no lease: the system outlives its driver */
	pid_t driver;	       /* the process whose death ends the lease (0: no lease) */
	long lease_ms;	       /* stop the system this long after the driver died (0: 10000) */
	const char *seed; /* {seed} and FL_SEED for the services, --seed of the proxy; or NULL */
	bool netns;	  /* each started service on a host of its own: a network namespace
			   * with its own address on a bridge, and an agent (root; otherwise
			   * loopback, and the state's "netns_fallback" says why) */
};

/* Start the system of `model` (borrowed): the JSON a topology file
 * evaluated to, {name, file, dir, services: [{name, command, args, env,
 * dir, ready, timeout, calls, after, attach}]} (docs/topology.md), plus
 * "file" and "dir" of the topology file. Returns 0 and *state (new
 * reference; also DATA/topology.json) once every service is ready, or FL_E*
 * with err naming the service and the last lines of its log; everything
 * started is then stopped. FL_EEXIST: a system already runs in data. */
int fl_launcher_up(const json_t *model, const struct fl_up_opts *o, json_t **state, char *err,
		   size_t errlen);

/* Check a model without starting anything (keys, names, calls/after naming
 * services, cycles; placeholders are checked by up before anything starts).
 * 0 or FL_EINVAL with "FILE: service 'x': ...". */
int fl_launcher_model_check(const json_t *model, char *err, size_t errlen);

/* DATA/topology.json of a running system (new reference), or NULL with err. */
json_t *fl_launcher_load(const char *data, char *err, size_t errlen);

/* The state with, per started service, "alive", "ready" (one readiness
 * check), "state" ("ready", "not ready", "down", "attached") and the
 * "last_exit" record of a dead one, and under --netns the same "alive",
 * "state" ("ready": /healthz answers) and "last_exit" in each host's
 * "agent" (new reference), or NULL with err. */
json_t *fl_launcher_status(const char *data, char *err, size_t errlen);

/* Send sig to a service ("proxy": the fault injector). 0 or FL_E*
 * (FL_ENOENT: no such service). */
int fl_launcher_signal(const char *data, const char *service, int sig, char *err, size_t errlen);

/* Start a stopped service again with the same command, environment and
 * port; with `wait`, until it is ready. 0 or FL_E* (FL_EEXIST: still running). */
int fl_launcher_restart(const char *data, const char *service, bool wait, char *err, size_t errlen);

/* End the lease, SIGTERM every process (dependents first, the proxy last),
 * wait for each (up to wait_ms) and return {"services": {name: {"pid",
 * "exit", "signal", "status"}}, "proxy": {...}} (new reference);
 * topology.json becomes topology.down.json. NULL with err. */
json_t *fl_launcher_down(const char *data, long wait_ms, char *err, size_t errlen);

/* The orphan sweep of --netns systems: every index recorded under
 * /run/faultline-netns whose owners are all gone (its launcher, its warden
 * and its driver, each a pid and start time; a kept system instead lives
 * while DATA/topology.json records it) is stopped as `down` would (when
 * DATA still records it; the report, with "reason", in DATA/down.json),
 * then every namespace, veth and bridge of that index is removed, with any
 * process still inside. Names without a record are never touched. Returns
 * {"swept": [{"index", "bridge", "data", "removed": [names], "killed"}],
 * "kept": [{"index", "bridge", "data", "owner"}]} (new reference), or NULL
 * with err (FL_EPERM: not root and records exist). */
json_t *fl_launcher_sweep(char *err, size_t errlen);

/* The default data directory of system `name`: $FL_UP_DATA, else
 * /tmp/faultline-up-UID/NAME, written into buf. Returns buf. */
const char *fl_launcher_default_data(const char *name, char *buf, size_t n);

/* ------------------------------------------ the reference transfer system */

struct fl_ref_up_opts {
	const char *data;      /* data directory (created) */
	const char *transferd; /* path of transferd */
	const char *
		faultline; /* path of faultline (for `faultline proxy`); NULL with a model that has calls is an error */
	const char *const *bugs; /* planted bug names */
	int nbugs;
	const char *const *extra; /* extra transferd arguments for every service */
	int nextra;
	uint64_t seed;
	bool seeded;
	bool fresh;    /* remove earlier databases and logs first */
	bool netns;    /* each service on a host of its own (fl_up_opts.netns) */
	pid_t driver;  /* with a lease: the process whose death ends it (0: kept, no lease) */
	long lease_ms; /* stop the system this long after the driver died (0: 10000) */
};

/* The services, NULL-terminated. */
extern const char *const fl_ref_services[];

/* Start the reference system from its topology model (borrowed: the
 * reference topology file, transfer-system/topology.lua, evaluated with the
 * same bugs, seed, extra arguments and transferd as o gives) through
 * fl_launcher_up, kept (no lease) unless o->driver names the process whose
 * death ends its lease (as `faultline up`'s), recording the reference system's keys
 * (bugs, args, transferd, seed, direct, each service's data) in
 * DATA/topology.json. On success returns 0 and *topology (new reference).
 * On failure every process started is stopped, err says why, and FL_E* is
 * returned (FL_EEXIST: already running). */
int fl_ref_up(const struct fl_ref_up_opts *o, const json_t *model, json_t **topology, char *err,
	      size_t errlen);

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
