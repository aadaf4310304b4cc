/* Hosts in network namespaces for `faultline up --netns`: one namespace per
 * service, its eth0 the end of a veth pair whose other end is enslaved to a
 * bridge the launcher creates in its own namespace. The bridge has the
 * gateway address (.1) of a /24 taken from the benchmarking range
 * 198.18.0.0/15 (RFC 2544) that no route of the launcher's namespace
 * overlaps; the hosts get .2, .3, ... Every name starts with "faultline" or
 * "fl": the bridge faultlineN, the namespaces faultlineN-SERVICE, the
 * bridge-side veths flNvK, N the /24's index in the range (0..511).
 * Netlink through libnl-route-3; a namespace is a file under /run/netns
 * bind-mounted on the namespace, as iproute2 makes them, so `ip netns`
 * lists and enters them. */
#include "launcher/launcher_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/proc.h"

#define NETNS_DIR "/run/netns"
#define NETNS_LOCK "/run/faultline-netns.lock"
#define NETNS_RECORDS "/run/faultline-netns" /* N.json: who owns index N */
#define NETNS_BLOCKS 512		     /* /24s in 198.18.0.0/15 */
#define NETNS_HOSTS 253			     /* .2 .. .254 */

/* The /24 of index i, as a host-order address of its network. */
static uint32_t block_net(int i)
{
	return (198u << 24) | ((18u + (unsigned)i / 256) << 16) | (((unsigned)i % 256) << 8);
}

static void block_addr(int i, int host, char *out, size_t n)
{
	uint32_t a = block_net(i) | (uint32_t)host;
	snprintf(out, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static int nl_open(struct nl_sock **sk, char *err, size_t errlen)
{
	*sk = nl_socket_alloc();
	if (!*sk)
		return fl_err_set(err, errlen, FL_ENOMEM, "netlink: cannot allocate a socket");
	int rc = nl_connect(*sk, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(*sk);
		*sk = NULL;
		return fl_err_set(err, errlen, rc == -NLE_PERM ? FL_EPERM : FL_EIO, "netlink: %s",
				  nl_geterror(rc));
	}
	return 0;
}

/* True when some IPv4 route of any table overlaps the /24 net (a default
 * route overlaps everything and is not counted). */
static bool block_routed(struct nl_cache *routes, uint32_t net)
{
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct nl_addr *dst = rtnl_route_get_dst((struct rtnl_route *)o);
		if (!dst || nl_addr_get_family(dst) != AF_INET || nl_addr_get_len(dst) != 4)
			continue;
		unsigned plen = nl_addr_get_prefixlen(dst);
		if (plen == 0)
			continue;
		const unsigned char *b = nl_addr_get_binary_addr(dst);
		uint32_t r = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
			     ((uint32_t)b[2] << 8) | b[3];
		unsigned p = plen < 24 ? plen : 24;
		uint32_t mask = p ? ~0u << (32 - p) : 0;
		if ((r & mask) == (net & mask))
			return true;
	}
	return false;
}

static bool link_exists(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return false;
	rtnl_link_put(l);
	return true;
}

static int link_ifindex(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	if (rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return -1;
	int i = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return i;
}

/* Bring link `name` up (and enslave it to master unless 0). */
static int link_up(struct nl_sock *sk, const char *name, int master)
{
	struct rtnl_link *l = NULL, *ch = rtnl_link_alloc();
	int rc = ch ? rtnl_link_get_kernel(sk, 0, name, &l) : -NLE_NOMEM;
	if (rc >= 0) {
		rtnl_link_set_flags(ch, IFF_UP);
		if (master > 0)
			rtnl_link_set_master(ch, master);
		rc = rtnl_link_change(sk, l, ch, 0);
	}
	rtnl_link_put(l);
	rtnl_link_put(ch);
	return rc;
}

static int addr_add(struct nl_sock *sk, int ifindex, const char *ip, int plen)
{
	char cidr[64];
	snprintf(cidr, sizeof(cidr), "%s/%d", ip, plen);
	struct nl_addr *local = NULL;
	struct rtnl_addr *a = rtnl_addr_alloc();
	int rc = a ? nl_addr_parse(cidr, AF_INET, &local) : -NLE_NOMEM;
	if (rc >= 0) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		rtnl_addr_set_prefixlen(a, plen);
		rc = rtnl_addr_add(sk, a, 0);
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return rc;
}

static void link_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return;
	rtnl_link_set_name(l, name);
	rtnl_link_delete(sk, l);
	rtnl_link_put(l);
}

int fl_netns_enter(const char *ns)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), NETNS_DIR "/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* /run/netns as iproute2 keeps it: a shared mount point, so a namespace
 * mounted there is seen from every mount namespace. */
static void netns_dir(void)
{
	mkdir(NETNS_DIR, 0755);
	if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0 && errno == EINVAL &&
	    mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) == 0)
		mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL);
}

/* Run fn(arg) in a child (so a namespace change never touches the caller);
 * the child's message comes back through a pipe into err. */
static int in_child(int (*fn)(const void *arg, char *err, size_t errlen), const void *arg,
		    char *err, size_t errlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return fl_err_set(err, errlen, FL_EIO, "pipe: %s", strerror(errno));
	pid_t c = fork();
	if (c < 0) {
		close(p[0]);
		close(p[1]);
		return fl_err_set(err, errlen, FL_EIO, "fork: %s", strerror(errno));
	}
	if (c == 0) {
		char msg[512] = "";
		close(p[0]);
		int rc = fn(arg, msg, sizeof(msg));
		if (rc && write(p[1], msg, strlen(msg)) < 0)
			_exit(1);
		_exit(rc ? 1 : 0);
	}
	close(p[1]);
	char msg[512];
	ssize_t k, len = 0;
	while ((k = read(p[0], msg + len, sizeof(msg) - 1 - (size_t)len)) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0)
			len += k;
	msg[len] = 0;
	close(p[0]);
	int st = 0;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return fl_err_set(err, errlen, FL_EIO, "%s", len ? msg : "child failed");
}

/* In a child: a new network namespace bound on /run/netns/NAME. */
static int ns_create_child(const void *arg, char *err, size_t errlen)
{
	const char *path = arg;
	if (unshare(CLONE_NEWNET) != 0)
		return fl_err_set(err, errlen, FL_EPERM, "unshare(CLONE_NEWNET): %s",
				  strerror(errno));
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) != 0)
		return fl_err_set(err, errlen, FL_EIO, "bind mount %s: %s", path, strerror(errno));
	return 0;
}

static int ns_create(const char *ns, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), NETNS_DIR "/%s", ns);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return fl_err_set(err, errlen, errno == EEXIST ? FL_EEXIST : FL_EIO,
				  "cannot create %s: %s", path, strerror(errno));
	close(fd);
	int rc = in_child(ns_create_child, path, err, errlen);
	if (rc)
		unlink(path);
	return rc;
}

static void ns_delete(const char *ns)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), NETNS_DIR "/%s", ns);
	umount2(path, MNT_DETACH);
	unlink(path);
}

struct host_cfg {
	const char *ns, *addr;
};

/* In a child inside the host's namespace: lo up, eth0 up with its address. */
static int host_cfg_child(const void *arg, char *err, size_t errlen)
{
	const struct host_cfg *h = arg;
	int rc = fl_netns_enter(h->ns);
	if (rc)
		return fl_err_set(err, errlen, FL_EIO, "setns %s: %s", h->ns, strerror(-rc));
	struct nl_sock *sk;
	if ((rc = nl_open(&sk, err, errlen)))
		return rc;
	int eth = link_ifindex(sk, "eth0");
	if ((rc = link_up(sk, "lo", 0)) >= 0 && eth > 0 &&
	    (rc = addr_add(sk, eth, h->addr, 24)) >= 0)
		rc = link_up(sk, "eth0", 0);
	if (eth <= 0 || rc < 0)
		rc = fl_err_set(err, errlen, FL_EIO, "%s: configuring eth0 %s/24: %s", h->ns,
				h->addr, eth <= 0 ? "no eth0" : nl_geterror(rc));
	nl_socket_free(sk);
	return rc < 0 ? rc : 0;
}

/* One host: its namespace, the veth pair (bridge side on the bridge), its
 * address. */
static int host_add(struct nl_sock *sk, int br, const char *ns, const char *veth, const char *addr,
		    char *err, size_t errlen)
{
	int rc = ns_create(ns, err, errlen);
	if (rc)
		return rc;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), NETNS_DIR "/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct rtnl_link *v = rtnl_link_veth_alloc(), *peer = v ? rtnl_link_veth_get_peer(v) : NULL;
	if (fd < 0 || !peer) {
		rc = fl_err_set(err, errlen, FL_EIO, "veth for %s: %s", ns,
				fd < 0 ? strerror(errno) : "out of memory");
		goto out;
	}
	rtnl_link_set_name(v, veth);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, fd);
	int nrc = rtnl_link_add(sk, v, NLM_F_CREATE | NLM_F_EXCL);
	if (nrc >= 0)
		nrc = link_up(sk, veth, br);
	if (nrc < 0) {
		rc = fl_err_set(err, errlen, FL_EIO, "veth %s for %s: %s", veth, ns,
				nl_geterror(nrc));
		goto out;
	}
	struct host_cfg hc = { .ns = ns, .addr = addr };
	rc = in_child(host_cfg_child, &hc, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	rtnl_link_put(peer);
	rtnl_link_put(v);
	return rc;
}

/* True when a namespace faultlineI-... exists (left by a launcher that
 * was killed before it could remove it: its index is not reused). */
static bool block_has_ns(int i)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "faultline%d-", i);
	DIR *d = opendir(NETNS_DIR);
	if (!d)
		return false;
	struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d)))
		found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return found;
}

/* ------------------------------------------------- owner records */

static void record_path(int i, char *out, size_t n)
{
	snprintf(out, n, NETNS_RECORDS "/%d.json", i);
}

static bool block_recorded(int i)
{
	char path[64];
	record_path(i, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static int record_write(int i, const json_t *r)
{
	char path[64], tmp[80];
	record_path(i, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	mkdir(NETNS_RECORDS, 0755);
	if (json_dump_file(r, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
	    rename(tmp, path) != 0) {
		unlink(tmp);
		return FL_EIO;
	}
	return 0;
}

json_t *fl_netns_record_load(int index)
{
	char path[64];
	record_path(index, path, sizeof(path));
	return fl_json_load_file(path, NULL, 0);
}

/* Is the record of index `i` the one of net (same creation stamp)? */
static bool record_is(int i, const json_t *net)
{
	json_t *r = fl_netns_record_load(i);
	bool same = r && fl_json_int(r, "created", -1) == fl_json_int(net, "created", -2);
	json_decref(r);
	return same;
}

int fl_netns_record_set(const json_t *net, const char *key, json_t *value)
{
	int i = (int)fl_json_int(net, "index", -1), rc = FL_ENOENT;
	json_t *r = i >= 0 ? fl_netns_record_load(i) : NULL;
	if (r && fl_json_int(r, "created", -1) == fl_json_int(net, "created", -2)) {
		json_object_set(r, key, value);
		rc = record_write(i, r);
	}
	json_decref(r);
	json_decref(value);
	return rc;
}

void fl_netns_record_remove(int index)
{
	char path[64];
	record_path(index, path, sizeof(path));
	unlink(path);
}

/* The inode of the calling process's network namespace: links are
 * deleted only from the namespace that created them (a bridge faultline0
 * elsewhere is somebody else's). */
static json_int_t own_netns(void)
{
	struct stat st;
	return stat("/proc/self/ns/net", &st) == 0 ? (json_int_t)st.st_ino : 0;
}

/* The record of a new system at index i, before its bridge exists: every
 * name of index i is faultline's from now on, and its launcher (this
 * process, pid and start time) owns it until up records more owners. */
static int record_create(int i, json_int_t created)
{
	char bridge[IFNAMSIZ];
	snprintf(bridge, sizeof(bridge), "faultline%d", i);
	json_t *r = json_pack("{s:i, s:s, s:I, s:I, s:{s:i, s:I}}", "index", i, "bridge", bridge,
			      "created", created, "launcher_netns", own_netns(), "launcher", "pid",
			      (int)getpid(), "start", (json_int_t)fl_proc_start_time(getpid()));
	int rc = r ? record_write(i, r) : FL_ENOMEM;
	json_decref(r);
	return rc;
}

int fl_netns_lock(void)
{
	int fd = open(NETNS_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
	return fd;
}

void fl_netns_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Pick a free /24 (no overlapping route, no bridge or namespace of that
 * index) and create its bridge with the gateway address. Under the lock,
 * so two launchers never take the same one. Returns the index or FL_E*. */
static int bridge_create(struct nl_sock *sk, json_int_t created, char *err, size_t errlen)
{
	int lock = fl_netns_lock();
	struct nl_cache *routes = NULL;
	int rc = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
	if (rc < 0) {
		rc = fl_err_set(err, errlen, FL_EIO, "netlink: reading routes: %s",
				nl_geterror(rc));
		goto out;
	}
	rc = fl_err_set(err, errlen, FL_EEXIST,
			"no free /24 in 198.18.0.0/15: every one is routed or in use");
	for (int i = 0; i < NETNS_BLOCKS; i++) {
		char name[IFNAMSIZ], gw[32];
		snprintf(name, sizeof(name), "faultline%d", i);
		if (block_routed(routes, block_net(i)) || link_exists(sk, name) ||
		    block_has_ns(i) || block_recorded(i))
			continue;
		if (record_create(i, created)) {
			rc = fl_err_set(err, errlen, FL_EIO, "cannot write %s/%d.json: %s",
					NETNS_RECORDS, i, strerror(errno));
			break;
		}
		struct rtnl_link *b = rtnl_link_bridge_alloc();
		if (!b) {
			rc = fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
			break;
		}
		rtnl_link_set_name(b, name);
		int nrc = rtnl_link_add(sk, b, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(b);
		if (nrc < 0)
			fl_netns_record_remove(i);
		if (nrc == -NLE_EXIST)
			continue;
		block_addr(i, 1, gw, sizeof(gw));
		int ix = nrc >= 0 ? link_ifindex(sk, name) : -1;
		if (nrc >= 0 && (nrc = ix > 0 ? addr_add(sk, ix, gw, 24) : -NLE_OBJ_NOTFOUND) >= 0)
			nrc = link_up(sk, name, 0);
		if (nrc < 0) {
			link_delete(sk, name);
			fl_netns_record_remove(i);
			rc = fl_err_set(err, errlen, nrc == -NLE_PERM ? FL_EPERM : FL_EIO,
					"bridge %s: %s", name, nl_geterror(nrc));
			break;
		}
		rc = i;
		break;
	}
out:
	nl_cache_free(routes);
	fl_netns_unlock(lock);
	return rc;
}

int fl_netns_create(const json_t *names, json_t **net, char *err, size_t errlen)
{
	*net = NULL;
	if (geteuid() != 0)
		return fl_err_set(err, errlen, FL_EPERM,
				  "needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)");
	if (json_array_size(names) > NETNS_HOSTS)
		return fl_err_set(err, errlen, FL_EINVAL, "at most %d hosts in one system",
				  NETNS_HOSTS);
	struct nl_sock *sk;
	int rc = nl_open(&sk, err, errlen);
	if (rc)
		return rc;
	netns_dir();
	json_int_t created = (json_int_t)fl_wall_ns();
	int ix = bridge_create(sk, created, err, errlen);
	if (ix < 0) {
		nl_socket_free(sk);
		return ix;
	}
	char bridge[IFNAMSIZ], gw[32], subnet[48];
	snprintf(bridge, sizeof(bridge), "faultline%u", (unsigned)ix % 1000u);
	block_addr(ix, 1, gw, sizeof(gw));
	block_addr(ix, 0, subnet, sizeof(subnet));
	strcat(subnet, "/24");
	json_t *hosts = json_object();
	json_t *t = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:o}", "bridge", bridge, "subnet",
			      subnet, "gateway", gw, "index", ix, "created", created,
			      "launcher_netns", own_netns(), "hosts", hosts);
	int br = link_ifindex(sk, bridge);
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) {
		char ns[300], veth[32], addr[32];
		snprintf(ns, sizeof(ns), "faultline%d-%s", ix, json_string_value(v));
		snprintf(veth, sizeof(veth), "fl%dv%zu", ix, i + 2);
		block_addr(ix, (int)i + 2, addr, sizeof(addr));
		/* recorded first: a failure half-way is cleaned up from the record */
		json_object_set_new(hosts, json_string_value(v),
				    json_pack("{s:s, s:s, s:s}", "ns", ns, "veth", veth, "addr",
					      addr));
		if ((rc = host_add(sk, br, ns, veth, addr, err, errlen)))
			break;
	}
	nl_socket_free(sk);
	if (rc) {
		fl_netns_destroy(t);
		json_decref(t);
		return rc;
	}
	*net = t;
	return 0;
}

void fl_netns_destroy(const json_t *net)
{
	if (!json_is_object(net))
		return;
	struct nl_sock *sk = NULL;
	if (fl_json_int(net, "launcher_netns", 0) != own_netns() || nl_open(&sk, NULL, 0))
		sk = NULL; /* the namespaces still go (their veths with them) */
	const char *k;
	json_t *h;
	json_object_foreach(json_object_get(net, "hosts"), k, h) {
		if (sk)
			link_delete(sk, fl_json_str(h, "veth", ""));
		ns_delete(fl_json_str(h, "ns", ""));
	}
	if (sk) {
		link_delete(sk, fl_json_str(net, "bridge", ""));
		nl_socket_free(sk);
	}
	int ix = (int)fl_json_int(net, "index", -1);
	if (ix >= 0 && record_is(ix, net))
		fl_netns_record_remove(ix);
}

/* SIGKILL every process whose network namespace is the one bound at path
 * (as `ip netns pids` finds them); returns how many. */
static int kill_inside(const char *path)
{
	struct stat ns;
	if (stat(path, &ns) != 0)
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid())
			continue;
		char p[64];
		struct stat st;
		snprintf(p, sizeof(p), "/proc/%ld/ns/net", pid);
		if (stat(p, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev &&
		    kill((pid_t)pid, SIGKILL) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int fl_netns_remove_index(int index, json_int_t launcher_netns, json_t *removed)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "faultline%d-", index);
	int killed = 0;
	DIR *d = opendir(NETNS_DIR);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), NETNS_DIR "/%s", e->d_name);
		killed += kill_inside(path);
		ns_delete(e->d_name);
		json_array_append_new(removed, json_string(e->d_name));
	}
	if (d)
		closedir(d);
	struct nl_sock *sk = NULL;
	struct nl_cache *links = NULL;
	if (launcher_netns == own_netns() && nl_open(&sk, NULL, 0) == 0 &&
	    rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) >= 0) {
		char veth[32], bridge[IFNAMSIZ];
		snprintf(veth, sizeof(veth), "fl%dv", index);
		snprintf(bridge, sizeof(bridge), "faultline%d", index);
		json_t *names = json_array();
		for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
			const char *name = rtnl_link_get_name((struct rtnl_link *)o);
			size_t k = strlen(veth);
			if (name && strncmp(name, veth, k) == 0 && name[k] &&
			    strspn(name + k, "0123456789") == strlen(name + k))
				json_array_append_new(names, json_string(name));
		}
		if (link_exists(sk, bridge))
			json_array_append_new(names, json_string(bridge));
		size_t i;
		json_t *v;
		json_array_foreach(names, i, v) {
			link_delete(sk, json_string_value(v));
			json_array_append(removed, v);
		}
		json_decref(names);
	}
	nl_cache_free(links);
	if (sk)
		nl_socket_free(sk);
	fl_netns_record_remove(index);
	return killed;
}
