/* Host faults, internals: the fault record, the network namespaces faults
 * act in (netns.c) and the three kernel back ends (nft.c: nftables rules,
 * qdisc.c: tbf/netem, proc.c: signals). */
#ifndef FL_HOSTFAULT_INT_H
#define FL_HOSTFAULT_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "hostfault/hostfault.h"

enum fl_hf_kind { FL_HF_PARTITION, FL_HF_LOSS, FL_HF_BANDWIDTH, FL_HF_DELAY, FL_HF_PROCESS };

#define FL_HF_MAX_PIDS 64

/* A packet match (partition, loss). */
struct fl_hf_match {
	bool in, out;	    /* directions */
	char peer[64];	    /* address or CIDR text, "" for any */
	int peer_family;    /* 4 or 6 when peer is set */
	char peer_addr[64]; /* the address part */
	int peer_len;	    /* prefix length, -1 for a host address */
	char proto[4];	    /* "tcp", "udp" or "" (any) */
	int port;	    /* the peer's port, 0: any */
	int local_port;	    /* our port, 0: any */
	char dev[IFNAMSIZ]; /* interface, "" for any (never "lo") */
	int permille10k;    /* loss: drop when numgen mod 10000 < this */
};

struct fl_hf_proc {
	pid_t pid;
	unsigned long long start; /* /proc/PID/stat starttime, against pid reuse */
};

struct nft_ctx;
struct nl_sock;

/* A network namespace faults act in: the agent's own (fd -1, never freed),
 * or one entered by a target ({"pid": N} or {"netns": "name"}). Its
 * nftables context and netlink socket are made and used only by a thread
 * inside it (fl_hf_ns_call). */
struct fl_hf_ns {
	unsigned long long dev, ino; /* the nsfs identity */
	unsigned long long cookie;   /* SO_NETNS_COOKIE, never reused; 0: unknown */
	char how[80];		     /* "pid:N" or "netns:NAME"; "" for the agent's own */
	int pid;		     /* how it was reached (0 for a named one) */
	unsigned long long start;    /* that pid's start time */
	char name[64];		     /* the /run/netns name, "" for a pid */
	int fd;			     /* the namespace file, held while faults are in it */
	struct nft_ctx *nft;	     /* lazily made (nft.c) */
	struct nl_sock *nl;	     /* lazily made (qdisc.c) */
	bool table_made;
	size_t refs; /* faults held in it */
	struct fl_hf_ns *next;
};

struct fl_hf_fault {
	char id[24];
	struct fl_hf_ns *ns; /* borrowed from the set */
	enum fl_hf_kind kind;
	unsigned serial; /* nftables chain names f<serial>_in / _out */
	json_t *spec;	 /* the normalised spec, echoed back */
	int64_t created_ns, expires_ns, ttl_ms;
	struct fl_hf_match m;
	/* qdisc faults */
	int ifindex;
	char dev[IFNAMSIZ];
	/* process pause */
	struct fl_hf_proc procs[FL_HF_MAX_PIDS];
	size_t nprocs;
	bool resident; /* false for kill/term: done at once, nothing held */
	struct fl_hf_fault *next;
};

struct fl_hf_lease {
	char *holder;
	int64_t ttl_ms, expires_ns;
};

struct fl_hostfault {
	struct fl_hf_ns self;	/* the agent's own namespace */
	struct fl_hf_ns *other; /* namespaces entered, while faults are in them */
	bool allow_pid;		/* --allow-netns pid */
	char **allow_names;	/* --allow-netns name:GLOB, the globs */
	size_t nallow_names;
	char netns_path[512]; /* the namespaces entered, for the crash sweep */
	json_t *netns_kept;   /* records a sweep could not finish: kept for the next */
	char table[32];
	uint16_t qdisc_major;
	char state_path[512];
	int64_t max_ttl_ms;
	size_t max_faults;
	uint16_t exempt_port;
	struct fl_hf_fault *faults;
	size_t nfaults;
	unsigned next_serial;
	struct fl_hf_lease *leases;
	size_t nleases;
	struct event_base *base;
	struct event *timer;
	/* counters for /metrics */
	uint64_t created[5], healed_ttl, healed_lease, healed_api, healed_exit, failed;
};

/* faults.c */
const char *fl_hf_kind_name(enum fl_hf_kind k);
void fl_hf_rearm(struct fl_hostfault *h);

/* spec.c: parse and check a spec into f (kind, match, dev, procs, ttl).
 * Returns 0 or FL_EINVAL/FL_ENOENT/FL_EPERM with err naming the field. */
int fl_hf_spec_parse(struct fl_hostfault *h, const json_t *spec, struct fl_hf_fault *f, char *err,
		     size_t errlen);

/* netns.c */
/* Run fn(arg) inside ns: directly for the agent's own, else on a short-lived
 * thread that enters it (setns) and exits after; the caller's thread never
 * changes namespace. Returns fn's result, or FL_EPERM/FL_EIO (err set) when
 * the namespace cannot be entered. */
int fl_hf_ns_call(struct fl_hf_ns *ns, int (*fn)(void *), void *arg, char *err, size_t errlen);
/* The namespace a spec's "target" names (borrowed from the set; &h->self
 * when there is no target or it is the agent's own), after the
 * --allow-netns check. A new one is recorded in the netns state file before
 * anything is made in it. FL_EINVAL/FL_EPERM/FL_ENOENT/FL_EEXIST. */
int fl_hf_ns_resolve(struct fl_hostfault *h, const json_t *target, struct fl_hf_ns **ns, char *err,
		     size_t errlen);
/* One fault fewer in ns: the last one out of an entered namespace drops our
 * table there, closes it and forgets it. */
void fl_hf_ns_unref(struct fl_hostfault *h, struct fl_hf_ns *ns);
/* Sweep the namespaces a crashed predecessor recorded. */
int fl_hf_ns_sweep_recorded(struct fl_hostfault *h, int *swept, int *gone, int *chains,
			    int *qdiscs);
int fl_hf_ns_allow_parse(struct fl_hostfault *h, const char *list, char *err, size_t errlen);
void fl_hf_ns_free_all(struct fl_hostfault *h);
json_t *fl_hf_ns_list(struct fl_hostfault *h);

/* nft.c: called inside ns */
void fl_hf_nft_close(struct fl_hf_ns *ns);
int fl_hf_nft_add(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		  char *err, size_t errlen);
int fl_hf_nft_del(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		  char *err, size_t errlen);
/* Delete the whole table; *chains (may be NULL) gets the number of chains it had. */
int fl_hf_nft_drop_table(struct fl_hostfault *h, struct fl_hf_ns *ns, int *chains, char *err,
			 size_t errlen);
/* 1 when our table exists in ns, 0 when not, negative on error. */
int fl_hf_nft_table_exists(struct fl_hostfault *h, struct fl_hf_ns *ns, char *err, size_t errlen);

/* qdisc.c: called inside ns */
void fl_hf_qdisc_close(struct fl_hf_ns *ns);
int fl_hf_qdisc_add(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		    char *err, size_t errlen);
int fl_hf_qdisc_del(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		    char *err, size_t errlen);
/* Delete every root qdisc carrying our handle; *n gets how many. */
int fl_hf_qdisc_sweep(struct fl_hostfault *h, struct fl_hf_ns *ns, int *n, char *err,
		      size_t errlen);

/* proc.c */
int fl_hf_proc_resolve(const json_t *spec, struct fl_hf_fault *f, char *err, size_t errlen);
int fl_hf_proc_apply(struct fl_hostfault *h, struct fl_hf_fault *f, const char *action, char *err,
		     size_t errlen);
int fl_hf_proc_resume(struct fl_hostfault *h, struct fl_hf_fault *f);
/* SIGCONT every recorded pid still the same process; *n gets how many. */
int fl_hf_proc_sweep(struct fl_hostfault *h, int *n);
/* Rewrite the state file from the faults held. */
void fl_hf_proc_save(struct fl_hostfault *h);

#endif
