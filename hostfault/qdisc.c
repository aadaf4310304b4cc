/* Bandwidth (tbf) and delay (netem) faults as root qdiscs, through
 * libnl-route-3. A qdisc is ours when its handle major is the set's
 * (default fa17:). A root qdisc with any other non-zero handle was put
 * there by somebody else and is never replaced; handle 0 is the kernel's
 * default (noqueue, pfifo_fast, mq, fq_codel), which deleting ours brings
 * back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "core/errors.h"
#include "core/json.h"
#include "hostfault/hostfault_int.h"

static int sock(struct fl_hf_ns *ns, char *err, size_t errlen)
{
	if (ns->nl)
		return 0;
	ns->nl = nl_socket_alloc();
	if (!ns->nl)
		return fl_err_set(err, errlen, FL_ENOMEM, "netlink: cannot allocate a socket");
	int rc = nl_connect(ns->nl, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(ns->nl);
		ns->nl = NULL;
		return fl_err_set(err, errlen, FL_EIO, "netlink: %s", nl_geterror(rc));
	}
	return 0;
}

void fl_hf_qdisc_close(struct fl_hf_ns *ns)
{
	if (ns->nl)
		nl_socket_free(ns->nl);
	ns->nl = NULL;
}

static uint32_t our_handle(const struct fl_hostfault *h)
{
	return (uint32_t)h->qdisc_major << 16;
}

/* 0 when the root of ifindex is the kernel's default or ours; FL_EEXIST otherwise. */
static int root_is_free(struct fl_hostfault *h, struct fl_hf_ns *ns, int ifindex, const char *dev,
			char *err, size_t errlen)
{
	struct nl_cache *cache = NULL;
	int rc = rtnl_qdisc_alloc_cache(ns->nl, &cache);
	if (rc < 0)
		return fl_err_set(err, errlen, FL_EIO, "netlink: listing qdiscs: %s",
				  nl_geterror(rc));
	struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	rc = 0;
	if (q) {
		uint32_t handle = rtnl_tc_get_handle(TC_CAST(q));
		if (handle == our_handle(h))
			rc = fl_err_set(err, errlen, FL_EEXIST,
					"%s already has a faultline qdisc (one qdisc fault per "
					"interface)",
					dev);
		else if (handle != 0)
			rc = fl_err_set(err, errlen, FL_EEXIST,
					"%s has a root qdisc %s %x: that is not faultline's; not "
					"replacing it",
					dev, rtnl_tc_get_kind(TC_CAST(q)), handle >> 16);
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return rc;
}

int fl_hf_qdisc_add(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		    char *err, size_t errlen)
{
	int rc = sock(ns, err, errlen);
	struct rtnl_qdisc *q = NULL;
	if (rc || (rc = root_is_free(h, ns, f->ifindex, f->dev, err, errlen)))
		return rc;
	q = rtnl_qdisc_alloc();
	if (!q)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	rtnl_tc_set_ifindex(TC_CAST(q), f->ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), our_handle(h));
	if (f->kind == FL_HF_BANDWIDTH) {
		int64_t bps = fl_json_int(f->spec, "rate_bps", 0);
		int64_t rate = bps / 8; /* bytes/s */
		if (rate > 0x7fffffff)
			rate = 0x7fffffff;
		/* a burst of 10 ms of traffic, at least two full frames */
		int64_t burst =
			fl_json_int(f->spec, "burst_bytes", rate / 100 > 3200 ? rate / 100 : 3200);
		/* a queue of 100 ms at the rate on top of the burst */
		int64_t limit = fl_json_int(f->spec, "limit_bytes", burst + rate / 10);
		if ((rc = rtnl_tc_set_kind(TC_CAST(q), "tbf")) < 0)
			goto nlerr;
		rtnl_qdisc_tbf_set_limit(q, (int)limit);
		rtnl_qdisc_tbf_set_rate(q, (int)rate, (int)burst, 0);
	} else {
		if ((rc = rtnl_tc_set_kind(TC_CAST(q), "netem")) < 0)
			goto nlerr;
		rtnl_netem_set_delay(q, (int)fl_json_int(f->spec, "delay_ms", 0) * 1000);
		rtnl_netem_set_jitter(q, (int)fl_json_int(f->spec, "jitter_ms", 0) * 1000);
		rtnl_netem_set_limit(q, 10000);
	}
	rc = rtnl_qdisc_add(ns->nl, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (rc < 0)
		goto nlerr;
	rtnl_qdisc_put(q);
	return 0;
nlerr:
	rtnl_qdisc_put(q);
	if (f->kind == FL_HF_DELAY && (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_OPNOTSUPP))
		return fl_err_set(err, errlen, FL_EUNSUPPORTED,
				  "this kernel has no netem qdisc (sch_netem): use the proxy's "
				  "latency toxic for delay");
	return fl_err_set(err, errlen, FL_EIO, "netlink: adding a %s qdisc on %s: %s",
			  f->kind == FL_HF_BANDWIDTH ? "tbf" : "netem", f->dev, nl_geterror(rc));
}

static int del_root(struct fl_hostfault *h, struct fl_hf_ns *ns, int ifindex, char *err,
		    size_t errlen)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), our_handle(h));
	int rc = rtnl_qdisc_delete(ns->nl, q);
	rtnl_qdisc_put(q);
	if (rc < 0 && rc != -NLE_OBJ_NOTFOUND)
		return fl_err_set(err, errlen, FL_EIO, "netlink: deleting qdisc: %s",
				  nl_geterror(rc));
	return 0;
}

int fl_hf_qdisc_del(struct fl_hostfault *h, struct fl_hf_ns *ns, const struct fl_hf_fault *f,
		    char *err, size_t errlen)
{
	int rc = sock(ns, err, errlen);
	if (rc)
		return rc;
	/* only ours: another handle on that root now means somebody replaced it */
	struct nl_cache *cache = NULL;
	rc = rtnl_qdisc_alloc_cache(ns->nl, &cache);
	if (rc < 0)
		return fl_err_set(err, errlen, FL_EIO, "netlink: listing qdiscs: %s",
				  nl_geterror(rc));
	struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(cache, f->ifindex, TC_H_ROOT);
	bool ours = q && rtnl_tc_get_handle(TC_CAST(q)) == our_handle(h);
	if (q)
		rtnl_qdisc_put(q);
	nl_cache_free(cache);
	return ours ? del_root(h, ns, f->ifindex, err, errlen) : 0;
}

int fl_hf_qdisc_sweep(struct fl_hostfault *h, struct fl_hf_ns *ns, int *n, char *err, size_t errlen)
{
	*n = 0;
	int rc = sock(ns, err, errlen);
	if (rc)
		return rc;
	struct nl_cache *cache = NULL;
	rc = rtnl_qdisc_alloc_cache(ns->nl, &cache);
	if (rc < 0)
		return fl_err_set(err, errlen, FL_EIO, "netlink: listing qdiscs: %s",
				  nl_geterror(rc));
	int ifs[256];
	int nifs = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && nifs < 256;
	     o = nl_cache_get_next(o)) {
		struct rtnl_tc *tc = (struct rtnl_tc *)o;
		if (rtnl_tc_get_parent(tc) == TC_H_ROOT && rtnl_tc_get_handle(tc) == our_handle(h))
			ifs[nifs++] = rtnl_tc_get_ifindex(tc);
	}
	nl_cache_free(cache);
	rc = 0;
	for (int i = 0; i < nifs; i++) {
		int r = del_root(h, ns, ifs[i], err, errlen);
		if (r && !rc)
			rc = r;
		else if (!r)
			(*n)++;
	}
	return rc;
}

bool fl_hostfault_netem_available(void)
{
	struct stat st;
	if (stat("/sys/module/sch_netem", &st) == 0)
		return true;
	struct utsname u;
	if (uname(&u))
		return false;
	char path[512];
	static const char *const exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/kernel/net/sched/sch_netem%s",
			 u.release, exts[i]);
		if (stat(path, &st) == 0)
			return true;
	}
	return false;
}
