/* Network namespaces other than the agent's own: a fault whose spec has a
 * "target" ({"pid": N}: /proc/N/ns/net, {"netns": "NAME"}: /run/netns/NAME)
 * acts inside that namespace, the way a DaemonSet agent reaches the traffic
 * between ordinary pods.
 *
 * - Entering: every kernel call for such a fault runs on a short-lived
 *   thread that setns()es into the namespace, makes or uses the
 *   namespace's own nftables context and netlink socket there, and exits;
 *   the agent's event loop never changes namespace.
 * - Authorisation: only what --allow-netns names ("pid", "name:GLOB");
 *   nothing by default (docs/security.md).
 * - Ownership: a namespace where our table already exists, made by someone
 *   else (a sidecar agent), is refused; so is a root qdisc not ours
 *   (qdisc.c).
 * - Crash safety: each namespace entered is recorded (nsfs dev/inode, its
 *   SO_NETNS_COOKIE, and the pid or name it was reached by) in
 *   STATE_DIR/netns-NETNS-TABLE.json before anything is made there; the next
 *   start finds each again by that identity and drops our table and qdiscs
 *   there; a namespace no longer found is skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "core/proc.h"
#include "hostfault/hostfault_int.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

struct call {
	int fd;
	int (*fn)(void *);
	void *arg;
	int rc, setns_errno;
};

static void *call_main(void *p)
{
	struct call *c = p;
	if (setns(c->fd, CLONE_NEWNET) != 0) {
		c->setns_errno = errno;
		return NULL;
	}
	c->rc = c->fn(c->arg);
	return NULL;
}

int fl_hf_ns_call(struct fl_hf_ns *ns, int (*fn)(void *), void *arg, char *err, size_t errlen)
{
	if (ns->fd < 0)
		return fn(arg);
	struct call c = { .fd = ns->fd, .fn = fn, .arg = arg };
	pthread_t t;
	sigset_t all, old;
	/* signals stay with the loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int e = pthread_create(&t, NULL, call_main, &c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e)
		return fl_err_set(err, errlen, FL_EIO, "cannot start a thread to enter %s: %s",
				  ns->how, strerror(e));
	pthread_join(t, NULL);
	if (c.setns_errno)
		return fl_err_set(err, errlen, c.setns_errno == EPERM ? FL_EPERM : FL_EIO,
				  "entering network namespace %s: %s%s", ns->how,
				  strerror(c.setns_errno),
				  c.setns_errno == EPERM ? " (setns needs CAP_SYS_ADMIN)" : "");
	return c.rc;
}

int fl_hf_ns_allow_parse(struct fl_hostfault *h, const char *list, char *err, size_t errlen)
{
	if (!list || !*list)
		return 0;
	char *copy = strdup(list), *save = NULL;
	int rc = 0;
	if (!copy)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	for (char *e = strtok_r(copy, ",", &save); e && !rc; e = strtok_r(NULL, ",", &save)) {
		if (strcmp(e, "pid") == 0) {
			h->allow_pid = true;
			continue;
		}
		const char *g = strncmp(e, "name:", 5) == 0 ? e + 5 : NULL;
		if (!g || !*g || strlen(g) > 63 ||
		    strspn(g,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-*?") !=
			    strlen(g)) {
			rc = fl_err_set(err, errlen, FL_EINVAL,
					"--allow-netns: '%s' is neither 'pid' nor 'name:GLOB' "
					"(GLOB of [A-Za-z0-9_.-*?])",
					e);
			break;
		}
		char **n = realloc(h->allow_names, (h->nallow_names + 1) * sizeof(*n));
		if (!n || !(n[h->nallow_names] = strdup(g))) {
			if (n)
				h->allow_names = n;
			rc = fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
			break;
		}
		h->allow_names = n;
		h->nallow_names++;
	}
	free(copy);
	return rc;
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	return len > 0 && len < 64 && n[0] != '.' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       len;
}

/* Open a network namespace file: fd, or -errno; -EINVAL when it is not one. */
static int open_netns(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0 || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static struct fl_hf_ns *find_open(struct fl_hostfault *h, const struct stat *st)
{
	for (struct fl_hf_ns *n = h->other; n; n = n->next)
		if (n->dev == (unsigned long long)st->st_dev &&
		    n->ino == (unsigned long long)st->st_ino)
			return n;
	return NULL;
}

static json_t *record(const struct fl_hf_ns *n)
{
	json_t *r = json_pack("{s:I, s:I, s:I}", "dev", (json_int_t)n->dev, "ino",
			      (json_int_t)n->ino, "cookie", (json_int_t)n->cookie);
	if (n->pid) {
		json_object_set_new(r, "pid", json_integer(n->pid));
		json_object_set_new(r, "start", json_integer((json_int_t)n->start));
	} else {
		json_object_set_new(r, "netns", json_string(n->name));
	}
	return r;
}

static void save(struct fl_hostfault *h)
{
	if (!h->netns_path[0])
		return;
	json_t *a = h->netns_kept ? json_deep_copy(h->netns_kept) : json_array();
	for (struct fl_hf_ns *n = h->other; n; n = n->next)
		json_array_append_new(a, record(n));
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", h->netns_path);
	if (json_array_size(a) == 0)
		unlink(h->netns_path);
	else if (json_dump_file(a, tmp, 0) == 0 && rename(tmp, h->netns_path) == 0)
		;
	else
		fl_error("hostfault", "cannot record the namespaces entered in %s", h->netns_path);
	json_decref(a);
}

/* Inside a new namespace: its cookie, and whether our table is there already. */
struct probe {
	struct fl_hostfault *h;
	struct fl_hf_ns *ns;
	int table;
	char *err;
	size_t errlen;
};

static unsigned long long own_cookie(void)
{
	unsigned long long c = 0;
	socklen_t len = sizeof(c);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len) != 0)
			c = 0;
		close(s);
	}
	return c;
}

static int probe_fn(void *arg)
{
	struct probe *p = arg;
	p->ns->cookie = own_cookie();
	p->table = fl_hf_nft_table_exists(p->h, p->ns, p->err, p->errlen);
	return p->table < 0 ? p->table : 0;
}

static int check_target(struct fl_hostfault *h, const json_t *target, int *pid, const char **name,
			char *err, size_t errlen)
{
	static const char *const keys[] = { "pid", "netns", NULL };
	int64_t p = 0;
	if (!json_is_object(target))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field target: an object {\"pid\": N} or {\"netns\": \"NAME\"}");
	if (fl_json_only_keys(target, keys, err, errlen) ||
	    fl_json_take_int(target, "pid", false, &p, err, errlen) ||
	    fl_json_take_str(target, "netns", false, name, err, errlen))
		return FL_EINVAL;
	if ((json_object_get(target, "pid") != NULL) == (*name != NULL))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field target: exactly one of pid and netns");
	if (!*name && (p < 1 || p > 0x3fffffff))
		return fl_err_set(err, errlen, FL_EINVAL, "field target.pid: not a pid");
	if (*name && !name_ok(*name))
		return fl_err_set(
			err, errlen, FL_EINVAL,
			"field target.netns: a name in /run/netns ([A-Za-z0-9_.-], 1..63)");
	*pid = (int)p;
	if (*pid && !h->allow_pid)
		return fl_err_set(err, errlen, FL_EPERM,
				  "field target: entering another process's network namespace "
				  "is off (the agent needs --allow-netns pid)");
	if (*name) {
		for (size_t i = 0; i < h->nallow_names; i++)
			if (fnmatch(h->allow_names[i], *name, 0) == 0)
				return 0;
		return fl_err_set(err, errlen, FL_EPERM,
				  "field target: network namespace '%s' is not allowed (the "
				  "agent's --allow-netns %s)",
				  *name, h->nallow_names ? "does not match it" : "is not set");
	}
	return 0;
}

/* The new namespace, probed and recorded; fd taken. */
static int enter_new(struct fl_hostfault *h, int fd, const struct stat *st, int pid,
		     const char *name, struct fl_hf_ns **out, char *err, size_t errlen)
{
	struct fl_hf_ns *n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	}
	n->fd = fd;
	n->dev = (unsigned long long)st->st_dev;
	n->ino = (unsigned long long)st->st_ino;
	n->pid = pid;
	if (pid) {
		n->start = fl_proc_start_time(pid);
		snprintf(n->how, sizeof(n->how), "pid:%d", pid);
	} else {
		snprintf(n->name, sizeof(n->name), "%s", name);
		snprintf(n->how, sizeof(n->how), "netns:%s", name);
	}
	struct probe p = { h, n, 0, err, errlen };
	int rc = fl_hf_ns_call(n, probe_fn, &p, err, errlen);
	if (!rc && p.table == 1)
		rc = fl_err_set(err, errlen, FL_EEXIST,
				"field target: network namespace %s already has an nftables "
				"table inet %s this agent did not make (a sidecar agent's? "
				"give one of them another --table)",
				n->how, h->table);
	if (rc) {
		fl_hf_nft_close(n);
		close(fd);
		free(n);
		return rc;
	}
	n->next = h->other;
	h->other = n;
	save(h); /* before anything is made there */
	fl_info("hostfault", "entered network namespace %s (inode %llu)", n->how, n->ino);
	*out = n;
	return 0;
}

int fl_hf_ns_resolve(struct fl_hostfault *h, const json_t *target, struct fl_hf_ns **ns, char *err,
		     size_t errlen)
{
	*ns = &h->self;
	if (!target)
		return 0;
	int pid = 0;
	const char *name = NULL;
	int rc = check_target(h, target, &pid, &name, err, errlen);
	if (rc)
		return rc;
	char path[128];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	struct stat st;
	int fd = open_netns(path, &st);
	if (fd == -ENOENT || fd == -ESRCH)
		return pid ? fl_err_set(err, errlen, FL_ENOENT, "field target: no process %d", pid)
			   : fl_err_set(err, errlen, FL_ENOENT,
					"field target: no network namespace '%s' (%s)", name, path);
	if (fd == -EINVAL)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field target: %s is not a network namespace", path);
	if (fd < 0)
		return fl_err_set(err, errlen, fd == -EACCES || fd == -EPERM ? FL_EPERM : FL_EIO,
				  "field target: %s: %s%s", path, strerror(-fd),
				  pid && (fd == -EACCES || fd == -EPERM)
					  ? " (another user's process: the agent needs "
					    "CAP_SYS_PTRACE)"
					  : "");
	if ((unsigned long long)st.st_dev == h->self.dev &&
	    (unsigned long long)st.st_ino == h->self.ino) {
		close(fd); /* the agent's own namespace */
		return 0;
	}
	struct fl_hf_ns *n = find_open(h, &st);
	if (n) {
		close(fd);
		*ns = n;
		return 0;
	}
	return enter_new(h, fd, &st, pid, name, ns, err, errlen);
}

struct drop {
	struct fl_hostfault *h;
	struct fl_hf_ns *ns;
	bool sweep;		   /* a predecessor's: every chain and qdisc of ours */
	unsigned long long cookie; /* sweep: the recorded one, 0: not checked */
	bool reused;
	int chains, qdiscs;
	char *err;
	size_t errlen;
};

/* Inside the namespace: our table and qdiscs go, the contexts are closed. */
static int drop_fn(void *arg)
{
	struct drop *d = arg;
	int rc = 0, r;
	if (d->sweep && d->cookie) {
		unsigned long long c = own_cookie();
		if (c && c != d->cookie) {
			d->reused = true; /* another namespace on a recycled inode */
			return 0;
		}
	}
	if (d->ns->table_made || d->sweep)
		rc = fl_hf_nft_drop_table(d->h, d->ns, d->sweep ? &d->chains : NULL, d->err,
					  d->errlen);
	if (d->sweep && (r = fl_hf_qdisc_sweep(d->h, d->ns, &d->qdiscs, d->err, d->errlen)) && !rc)
		rc = r;
	fl_hf_nft_close(d->ns);
	fl_hf_qdisc_close(d->ns);
	return rc;
}

static void ns_free(struct fl_hf_ns *n)
{
	fl_hf_nft_close(n);
	fl_hf_qdisc_close(n);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

void fl_hf_ns_unref(struct fl_hostfault *h, struct fl_hf_ns *ns)
{
	if (ns == &h->self || (ns->refs && --ns->refs))
		return;
	char err[300];
	struct drop d = { h, ns, false, 0, false, 0, 0, err, sizeof(err) };
	if (fl_hf_ns_call(ns, drop_fn, &d, err, sizeof(err)))
		fl_error("hostfault", "leaving network namespace %s: %s", ns->how, err);
	struct fl_hf_ns **pp;
	for (pp = &h->other; *pp && *pp != ns; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = ns->next;
	fl_info("hostfault", "left network namespace %s", ns->how);
	ns_free(ns);
	save(h);
}

/* A recorded namespace found again by its dev/inode: by the way it was
 * reached, else any named namespace or process in it. fd or -1. */
static int reach(const json_t *r, char *how, size_t howlen)
{
	unsigned long long dev = (unsigned long long)fl_json_int(r, "dev", 0);
	unsigned long long ino = (unsigned long long)fl_json_int(r, "ino", 0);
	char path[300];
	struct stat st;
	int fd;
	const char *name = fl_json_str(r, "netns", NULL);
	int pid = (int)fl_json_int(r, "pid", 0);
	if (name && name_ok(name))
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	else
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (name)
		snprintf(how, howlen, "netns:%s", name);
	else
		snprintf(how, howlen, "pid:%d", pid);
	if ((fd = open_netns(path, &st)) >= 0) {
		if (st.st_dev == dev && st.st_ino == ino)
			return fd;
		close(fd);
	}
	static const char *const dirs[] = { "/run/netns", "/proc" };
	for (size_t i = 0; i < 2; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' ||
			    (i == 1 && (de->d_name[0] < '0' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path), i ? "/proc/%s/ns/net" : "/run/netns/%s",
				 de->d_name);
			if ((fd = open_netns(path, &st)) < 0)
				continue;
			if (st.st_dev == dev && st.st_ino == ino) {
				closedir(d);
				return fd;
			}
			close(fd);
		}
		if (d)
			closedir(d);
	}
	return -1;
}

int fl_hf_ns_sweep_recorded(struct fl_hostfault *h, int *swept, int *gone, int *chains, int *qdiscs)
{
	*swept = *gone = 0;
	if (!h->netns_path[0])
		return 0;
	json_t *a = json_load_file(h->netns_path, 0, NULL), *r;
	size_t i;
	json_decref(h->netns_kept);
	h->netns_kept = json_array();
	json_array_foreach(a, i, r) {
		struct fl_hf_ns n = { .fd = -1 };
		char err[300];
		n.fd = reach(r, n.how, sizeof(n.how));
		if (n.fd < 0) {
			(*gone)++;
			fl_info("hostfault", "recorded network namespace %s is gone: skipped",
				n.how);
			continue;
		}
		unsigned long long cookie = (unsigned long long)fl_json_int(r, "cookie", 0);
		struct drop d = { h, &n, true, cookie, false, 0, 0, err, sizeof(err) };
		int rc = fl_hf_ns_call(&n, drop_fn, &d, err, sizeof(err));
		close(n.fd);
		if (rc) {
			fl_error("hostfault",
				 "sweeping network namespace %s: %s (kept for the "
				 "next start)",
				 n.how, err);
			json_array_append(h->netns_kept, r);
		} else if (d.reused) {
			(*gone)++;
		} else {
			(*swept)++;
			*chains += d.chains;
			*qdiscs += d.qdiscs;
		}
	}
	json_decref(a);
	save(h);
	return 0;
}

void fl_hf_ns_free_all(struct fl_hostfault *h)
{
	while (h->other) {
		struct fl_hf_ns *n = h->other;
		h->other = n->next;
		ns_free(n);
	}
	fl_hf_nft_close(&h->self);
	fl_hf_qdisc_close(&h->self);
	for (size_t i = 0; i < h->nallow_names; i++)
		free(h->allow_names[i]);
	free(h->allow_names);
	json_decref(h->netns_kept);
}

json_t *fl_hf_ns_list(struct fl_hostfault *h)
{
	json_t *a = json_array();
	for (struct fl_hf_ns *n = h->other; n; n = n->next)
		json_array_append_new(a,
				      json_pack("{s:s, s:I, s:I}", "target", n->how, "inode",
						(json_int_t)n->ino, "faults", (json_int_t)n->refs));
	return a;
}
