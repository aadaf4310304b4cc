/* Internals of the launcher shared by its files: supervision (spawn through
 * a reaper, exit records, liveness, log tails), links through the fault
 * injector, the topology model. Not for other components. */
#ifndef FL_LAUNCHER_INT_H
#define FL_LAUNCHER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

/* ------------------------------------------------ supervision (supervise.c) */

struct fl_spawn {
	char *const *argv;     /* argv[0] looked up in PATH unless it has a '/' */
	const char *dir;       /* working directory, or NULL: the launcher's */
	json_t *env;	       /* object of strings added to the environment, or NULL (borrowed) */
	const char *log;       /* stdout and stderr appended here */
	const char *exit_file; /* the reaper writes {"pid", "exit", "signal"} here */
	const char *marker;    /* wait for a log line containing it, or NULL: only the pid */
	long timeout_ms;
	const char *netns; /* run in this network namespace (/run/netns/NAME), or NULL */
};

/* Start s->argv detached, through a reaper in its own session that records
 * how it exited. *pid is the program's pid; with a marker, line gets the
 * first log line containing it. On failure the program is killed. */
int fl_sup_spawn(const struct fl_spawn *s, pid_t *pid, char *line, size_t linelen, char *err,
		 size_t errlen);

/* In a forked child only: detach from the launcher for good. A new
 * session, a second fork whose parent exits (so the caller is adopted by
 * init and can never get a terminal back), standard streams on /dev/null.
 * Returns the /dev/null descriptor; _exit(1) when it cannot. */
int fl_sup_detach(void);

/* Close every descriptor from 3 up except keep (-1: none). */
void fl_sup_close_fds(int keep);

/* True when pid exists. */
bool fl_sup_alive(pid_t pid);

/* The exit record in path when it is pid's (new reference), else NULL. */
json_t *fl_sup_exit_record(const char *path, pid_t pid);

/* Wait (until deadline, monotonic ns) for the exit record of entry's
 * {"pid", "exit_file"}; returns {"service", "pid", "exit", "signal",
 * "status": "exited 0" | "killed by SIGTERM" | "still running" | ...}
 * (new reference). */
json_t *fl_sup_wait_exit(const char *name, const json_t *entry, int64_t deadline);

/* The last `lines` lines of the file at path, each prefixed by "  ", into
 * out (always terminated; "" when unreadable). */
void fl_sup_log_tail(const char *path, int lines, char *out, size_t outlen);

/* mkdir -p. 0 or -errno. */
int fl_sup_mkdirs(const char *path);

/* Remove path and everything under it (missing is fine). 0 or -1. */
int fl_sup_rmtree(const char *path);

/* The "HOST:PORT" after "listening on " in line, into out; NULL if none. */
const char *fl_sup_listen_addr(const char *line, char *out, size_t n);

/* Write t to DATA/topology.json atomically. */
int fl_sup_write_state(const char *data, const json_t *t, char *err, size_t errlen);

/* ----------------------------------------- the fault injector (links.c) */

/* Start `faultline proxy` on a loopback port (with --seed seed unless NULL,
 * --allow-listen allow_listen unless NULL: the links' address); *proxy = {"api", "pid", "log",
 * "exit_file"} (new reference). */
int fl_links_start_proxy(const char *faultline, const char *data, const char *seed,
			 const char *allow_listen, long timeout_ms, json_t **proxy, char *err,
			 size_t errlen);

/* Create link `name` -> upstream on the agent at api, listening on a port
 * of host (NULL: 127.0.0.1); its listen address (HOST:PORT) into listen. */
int fl_links_create(const char *api, const char *name, const char *host, const char *upstream,
		    char *listen, size_t n, char *err, size_t errlen);

/* ------------------------------------------------------ the model (model.c) */

/* The services by start layer: [[names of layer 0], [layer 1], ...] (new
 * reference); a service's layer is one past the deepest service it calls or
 * starts after. NULL with err on a cycle. */
json_t *fl_launcher_model_layers(const json_t *model, char *err, size_t errlen);

/* What a placeholder is expanded against (all borrowed). */
struct fl_expand_ctx {
	const char *file;	/* the topology file, for messages */
	const char *data;	/* the system's data directory */
	const char *dir;	/* the topology file's directory */
	const json_t *services; /* the model's services (array) */
	const json_t *service;	/* the model entry being expanded */
	const json_t *state;	/* its state: {"host", "port", "url"} */
	const json_t *states;	/* every service's state by name */
	const json_t *links;	/* links by name, or NULL: check only ({link:X} gives a dummy) */
	const char *seed;	/* {seed}: the --seed given to up, or "0" */
};

/* Expand the placeholders of `in` into out; `where` names the key for
 * messages ("args[2]"). {link:X} with X not in the service's calls is an
 * error. 0 or FL_EINVAL with err. */
int fl_launcher_expand(const char *in, const struct fl_expand_ctx *c, const char *where, char *out,
		       size_t n, char *err, size_t errlen);

/* FL_LINK_<X> spelling of a service name: upper case, other than [A-Z0-9] -> '_'. */
void fl_launcher_env_name(const char *service, char *out, size_t n);

/* ---------------------------------------------------- readiness (ready.c) */

/* One readiness check of a service's state (its "ready": http path, cmd or
 * tcp; none: tcp on its port). */
bool fl_launcher_ready_once(const json_t *st);

/* Poll until ready, the process exits or the deadline passes; the error
 * names the service, why, and the last lines of its log. */
int fl_launcher_wait_ready(const char *name, const json_t *st, int64_t deadline, char *err,
			   size_t errlen);

/* ------------------------------------- hosts in network namespaces (netns.c) */

/* Create one host per name of `names` (borrowed array of strings): a /24 of
 * 198.18.0.0/15 that no route overlaps, a bridge faultlineN with its .1, a
 * namespace faultlineN-NAME per host with eth0 (a veth to the bridge) at .2,
 * .3, ... *net = {"bridge", "subnet", "gateway", "index", "launcher_netns"
 * (the inode of the caller's namespace, where the bridge is), "hosts": {NAME:
 * {"ns", "veth", "addr"}}} (new reference). Root only: FL_EPERM otherwise.
 * On failure nothing created is left. */
int fl_netns_create(const json_t *names, json_t **net, char *err, size_t errlen);

/* Remove every namespace, veth and the bridge recorded in net (borrowed;
 * NULL or missing objects are fine); links only when called from the
 * namespace that made them. Processes still inside keep their
 * namespace alive until they exit; its name is gone at once. */
void fl_netns_destroy(const json_t *net);

/* Move the calling process (or thread) into namespace /run/netns/NS.
 * 0 or -errno. */
int fl_netns_enter(const char *ns);

/* Owner records: /run/faultline-netns/N.json says who owns index N
 * ({"index", "bridge", "created", "launcher_netns", "launcher": {"pid",
 * "start"}} written under the lock before its bridge exists; up adds
 * "data", "keep", "driver" and "warden"). fl_netns_destroy removes it. */

/* The record of index (new reference), or NULL when there is none. */
json_t *fl_netns_record_load(int index);

/* Set key to value (taken) in the record of net (borrowed: its "index" and
 * "created"). 0, or FL_ENOENT when the record is not net's. */
int fl_netns_record_set(const json_t *net, const char *key, json_t *value);

/* Remove the record of index (missing is fine). */
void fl_netns_record_remove(int index);

/* Take (blocking) and release the lock under which indexes are chosen and
 * swept. fl_netns_lock returns its descriptor, or -1 (then unlocked). */
int fl_netns_lock(void);
void fl_netns_unlock(int fd);

/* Remove everything of index: SIGKILL every process inside a namespace
 * faultlineINDEX-*, delete those namespaces, the veths flINDEXvK and the
 * bridge faultlineINDEX (links only when launcher_netns is the caller's
 * namespace), and the record. Every name removed is appended to removed
 * (borrowed array). Returns how many processes were killed. */
int fl_netns_remove_index(int index, json_int_t launcher_netns, json_t *removed);

/* ------------------------------------------- hosts of a system (hosts.c) */

/* --netns for a system being started: the hosts of every started service
 * of `services` (borrowed model array) into *net (new reference, see
 * fl_netns_create), each service's state (states, borrowed) given its
 * host's "host" address and "netns". 0 or FL_E* with err (nothing left). */
int fl_hosts_create(const json_t *services, json_t *states, json_t **net, char *err, size_t errlen);

/* Start `faultline agent` in each host of net (borrowed; its "hosts" get an
 * "agent" {"url", "pid", "log", "exit_file"}) on ADDR:8474 behind a token
 * written to DATA/run/agent.token (net's "token_file"). 0 or FL_E*. */
int fl_hosts_start_agents(const char *faultline, const char *data, json_t *net, char *err,
			  size_t errlen);

/* Each agent of net (borrowed, changed): "alive" (its pid), "state"
 * ("ready": GET /healthz with the token answers 2xx, "not answering",
 * "down") and the
 * "last_exit" record of a dead one. */
void fl_hosts_status(json_t *net);

/* SIGTERM every agent of net (they heal their faults), wait for them (up to
 * wait_ms), then remove the hosts. Returns {name: exit report} of the
 * agents (new reference). */
json_t *fl_hosts_down(json_t *net, long wait_ms);

/* ------------------------------------------------------ the lease (warden.c) */

/* Start the warden: a detached process that tears the system in data down
 * (fl_launcher_down) lease_ms after `driver` dies. *pid is the warden's. */
int fl_warden_start(const char *data, pid_t driver, long lease_ms, pid_t *pid, char *err,
		    size_t errlen);

#endif
