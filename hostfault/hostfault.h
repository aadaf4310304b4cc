/* Host faults: kernel-level faults inside the calling process's network
 * namespace, or inside another one a fault's "target" names ({"pid": N} or
 * {"netns": "NAME"}, as allowed by allow_netns), the faults `faultline
 * agent` serves under /host. See docs/agent.md for the JSON shapes.
 *
 * Kinds (the "type" of a fault spec):
 *   partition  drop packets in, out or both ways, toward a peer address or
 *              CIDR, a peer port, a local port, an interface: nftables rules
 *              through libnftables' JSON API;
 *   loss       the same matches, dropping with a probability (nftables
 *              `numgen random mod 10000 < N`);
 *   bandwidth  a tbf root qdisc on an interface (libnl-route-3);
 *   delay      a netem root qdisc (delay, jitter) where the kernel has
 *              sch_netem (FL_EUNSUPPORTED otherwise);
 *   process    kill, term, or pause (SIGSTOP until healed: SIGCONT) the
 *              processes named by pid, command name or cgroup.
 *
 * Ownership of what is changed in the kernel: every rule lives in one
 * nftables table (family inet) the set owns, every qdisc is a root qdisc
 * whose handle major is the set's own, paused pids and the other network
 * namespaces entered are recorded in state files. Nothing else is ever modified: a root qdisc somebody else
 * configured (a non-zero handle) is refused, not replaced.
 * fl_hostfault_sweep removes what a crashed predecessor left.
 *
 * Expiry: every fault has a TTL (ttl_ms, required, capped). The set also
 * keeps the controller's leases (the same holders and TTLs as the proxy's
 * POST /lease): when any lease lapses without renewal, every fault is healed.
 * With fl_hostfault_attach the set arms a timer on an event base for both;
 * otherwise the caller calls fl_hostfault_tick.
 *
 * Threading: a set is used from one thread (the agent's loop). A fault in
 * another namespace is made and healed by a short-lived thread that enters
 * it, joined before the call returns: the calling thread's namespace never
 * changes. */
#ifndef FL_HOSTFAULT_HOSTFAULT_H
#define FL_HOSTFAULT_HOSTFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct fl_hostfault;

struct fl_hostfault_opts {
	const char *table;	 /* nftables table (family inet) owned; NULL: "faultline" */
	uint16_t qdisc_major;	 /* handle major marking our root qdiscs; 0: 0xfa17 */
	const char *state_dir;	 /* paused pids are recorded here for the crash sweep
				 * (NULL: /run/faultline-agent) */
	int64_t max_ttl_ms;	 /* longest TTL accepted; 0: 3600000 */
	size_t max_faults;	 /* faults held at once; 0: 64 */
	uint16_t exempt_port;	 /* a local TCP port never partitioned (the agent's API); 0: none */
	const char *allow_netns; /* which other network namespaces a fault may target,
				  * comma-separated: "pid" (any process's, by pid),
				  * "name:GLOB" (/run/netns names matching GLOB);
				  * NULL or "": none, only the caller's own */
};

/* A new, empty set; nothing in the kernel is touched yet (call
 * fl_hostfault_sweep next). opts may be NULL. NULL with err set on failure.
 * The caller frees with fl_hostfault_free. */
struct fl_hostfault *fl_hostfault_new(const struct fl_hostfault_opts *opts, char *err,
				      size_t errlen);

/* Remove what a previous owner of the same table, qdisc handle and state
 * files left behind (an agent that crashed): the table, our root qdiscs, the
 * pids it paused (SIGCONT, when the pid is still the same process), and the
 * table and qdiscs in every other network namespace it recorded entering
 * (found again by its nsfs inode; skipped when gone). Sets *report (new
 * reference, may be NULL) to {"chains": N, "qdiscs": N, "resumed": N,
 * "netns": {"swept", "gone", "chains", "qdiscs"}, "sweep_us"}. Returns 0 or
 * a negative FL_E*. */
int fl_hostfault_sweep(struct fl_hostfault *h, json_t **report, char *err, size_t errlen);

/* Arm a timer on base (borrowed, must outlive the set) for TTLs and leases. */
int fl_hostfault_attach(struct fl_hostfault *h, struct event_base *base, char *err, size_t errlen);

/* Apply the fault described by spec (borrowed; see docs/agent.md). On
 * success *fault is the fault's JSON (new reference, with "id",
 * "expires_in_ms"). Errors: FL_EINVAL (bad spec, err names the field),
 * FL_EEXIST (a qdisc fault already on that interface, or a root qdisc that
 * is not ours, or our table in a target namespace made by someone else),
 * FL_EPERM (a target --allow-netns does not allow), FL_E2BIG (max_faults held), FL_EUNSUPPORTED (no sch_netem),
 * FL_ENOENT (no such interface or process), FL_EPERM, FL_EIO (the kernel
 * refused; err has its message). Nothing is left applied on failure. */
int fl_hostfault_create(struct fl_hostfault *h, const json_t *spec, json_t **fault, char *err,
			size_t errlen);

/* Heal the fault with that id. FL_ENOENT when there is none. */
int fl_hostfault_delete(struct fl_hostfault *h, const char *id, char *err, size_t errlen);

/* Heal every fault and remove the table. Returns 0 or the first error (every
 * fault is still attempted). */
int fl_hostfault_heal_all(struct fl_hostfault *h, const char *reason, char *err, size_t errlen);

/* The faults (new reference): an array of fault JSON, with remaining TTL. */
json_t *fl_hostfault_list(struct fl_hostfault *h);

/* One fault (new reference) or NULL. */
json_t *fl_hostfault_get(struct fl_hostfault *h, const char *id);

/* Take or renew holder's lease for ttl_ms (1..86400000); drop it. */
int fl_hostfault_lease_set(struct fl_hostfault *h, const char *holder, int64_t ttl_ms);
int fl_hostfault_lease_drop(struct fl_hostfault *h, const char *holder);

/* The leases (new reference): [{"holder", "ttl_ms", "expires_in_ms"}]. */
json_t *fl_hostfault_leases(struct fl_hostfault *h);

/* Heal the faults whose TTL passed, and everything when a lease lapsed.
 * Returns the number of faults healed. */
int fl_hostfault_tick(struct fl_hostfault *h);

/* True when the kernel can create a netem qdisc here. */
bool fl_hostfault_netem_available(void);

/* Prometheus text of the set's counters (caller frees; NULL when out of
 * memory), its length in *len. */
char *fl_hostfault_metrics_text(struct fl_hostfault *h, size_t *len);

/* The /host JSON API without HTTP: method, path ("/host/faults/hf-3"), body
 * (borrowed, may be NULL). Sets *status and *reply (new reference, NULL for
 * an empty body); errors are {"error": ..., "status": N} with a 4xx for bad
 * requests. */
void fl_hostfault_api_handle(struct fl_hostfault *h, const char *method, const char *path,
			     const char *body, size_t len, int *status, json_t **reply);

/* Mirror a proxy-API lease request (POST/DELETE /lease with its query and
 * body, as the proxy takes them) into the set's leases; invalid requests
 * are ignored (the proxy answers them). */
void fl_hostfault_api_observe_lease(struct fl_hostfault *h, const char *method, const char *query,
				    const char *body, size_t len);

/* Heal everything (reason "exit") and free; NULL is a no-op. */
void fl_hostfault_free(struct fl_hostfault *h);

#endif
