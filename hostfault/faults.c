/* The set of host faults: creation through the back ends, TTLs, the
 * controller's leases, healing, the crash sweep. */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/log.h"
#include "hostfault/hostfault_int.h"

static const char *const kind_names[] = { "partition", "loss", "bandwidth", "delay", "process" };

const char *fl_hf_kind_name(enum fl_hf_kind k)
{
	return kind_names[k];
}

struct fl_hostfault *fl_hostfault_new(const struct fl_hostfault_opts *opts, char *err,
				      size_t errlen)
{
	struct fl_hostfault_opts o = opts ? *opts : (struct fl_hostfault_opts){ 0 };
	const char *table = o.table ? o.table : "faultline";
	if (!*table || strlen(table) >= 32 ||
	    strspn(table, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(table)) {
		fl_err_set(err, errlen, FL_EINVAL, "table name: 1..31 of [a-z0-9_-]");
		return NULL;
	}
	struct fl_hostfault *h = calloc(1, sizeof(*h));
	if (!h) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(h->table, sizeof(h->table), "%s", table);
	h->qdisc_major = o.qdisc_major ? o.qdisc_major : 0xfa17;
	h->max_ttl_ms = o.max_ttl_ms > 0 ? o.max_ttl_ms : 3600000;
	h->max_faults = o.max_faults ? o.max_faults : 64;
	h->exempt_port = o.exempt_port;
	h->self.fd = -1;
	if (fl_hf_ns_allow_parse(h, o.allow_netns, err, errlen)) {
		fl_hostfault_free(h);
		return NULL;
	}
	const char *dir = o.state_dir ? o.state_dir : "/run/faultline-agent";
	/* one state file per network namespace and table: agents in other
	 * namespaces of the same machine share the directory */
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) == 0) {
		h->self.dev = (unsigned long long)st.st_dev;
		h->self.ino = (unsigned long long)st.st_ino;
	}
	unsigned long ns = (unsigned long)h->self.ino;
	if (*dir && (mkdir(dir, 0700) == 0 || stat(dir, &st) == 0)) {
		snprintf(h->state_path, sizeof(h->state_path), "%s/paused-%lu-%s.json", dir, ns,
			 h->table);
		snprintf(h->netns_path, sizeof(h->netns_path), "%s/netns-%lu-%s.json", dir, ns,
			 h->table);
	}
	h->next_serial = 1;
	return h;
}

int fl_hostfault_sweep(struct fl_hostfault *h, json_t **report, char *err, size_t errlen)
{
	int chains = 0, qdiscs = 0, resumed = 0, nschains = 0, nsqdiscs = 0, swept = 0, gone = 0;
	int64_t t0 = fl_mono_ns();
	int rc = fl_hf_nft_drop_table(h, &h->self, &chains, err, errlen);
	if (!rc)
		rc = fl_hf_qdisc_sweep(h, &h->self, &qdiscs, err, errlen);
	fl_hf_proc_sweep(h, &resumed);
	fl_hf_ns_sweep_recorded(h, &swept, &gone, &nschains, &nsqdiscs);
	if (chains || qdiscs || resumed || nschains || nsqdiscs)
		fl_warn("hostfault",
			"swept a previous agent's leftovers: %d chains, %d qdiscs, "
			"%d paused processes resumed; in %d other network namespaces %d chains, "
			"%d qdiscs (%d namespaces gone)",
			chains, qdiscs, resumed, swept, nschains, nsqdiscs, gone);
	if (report)
		*report = json_pack("{s:i, s:i, s:i, s:{s:i, s:i, s:i, s:i}, s:I}", "chains",
				    chains, "qdiscs", qdiscs, "resumed", resumed, "netns", "swept",
				    swept, "gone", gone, "chains", nschains, "qdiscs", nsqdiscs,
				    "sweep_us", (json_int_t)((fl_mono_ns() - t0) / 1000));
	return rc;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fl_hostfault_tick(arg);
}

int fl_hostfault_attach(struct fl_hostfault *h, struct event_base *base, char *err, size_t errlen)
{
	h->base = base;
	h->timer = evtimer_new(base, timer_cb, h);
	if (!h->timer)
		return fl_err_set(err, errlen, FL_ENOMEM, "cannot create the expiry timer");
	fl_hf_rearm(h);
	return 0;
}

void fl_hf_rearm(struct fl_hostfault *h)
{
	if (!h->timer)
		return;
	int64_t first = INT64_MAX;
	for (struct fl_hf_fault *f = h->faults; f; f = f->next)
		if (f->expires_ns < first)
			first = f->expires_ns;
	if (h->faults)
		for (size_t i = 0; i < h->nleases; i++)
			if (h->leases[i].expires_ns < first)
				first = h->leases[i].expires_ns;
	if (first == INT64_MAX) {
		evtimer_del(h->timer);
		return;
	}
	int64_t dt = first - fl_mono_ns();
	if (dt < 0)
		dt = 0;
	struct timeval tv = { dt / 1000000000, (dt % 1000000000) / 1000 };
	evtimer_add(h->timer, &tv);
}

/* A kernel call for one fault, run inside the fault's namespace. */
struct op {
	struct fl_hostfault *h;
	struct fl_hf_fault *f;
	char *err;
	size_t errlen;
};

static int del_in_ns(void *arg)
{
	struct op *o = arg;
	if (o->f->kind == FL_HF_PARTITION || o->f->kind == FL_HF_LOSS)
		return fl_hf_nft_del(o->h, o->f->ns, o->f, o->err, o->errlen);
	return fl_hf_qdisc_del(o->h, o->f->ns, o->f, o->err, o->errlen);
}

static int backend_del(struct fl_hostfault *h, struct fl_hf_fault *f, char *err, size_t errlen)
{
	if (f->kind == FL_HF_PROCESS)
		return fl_hf_proc_resume(h, f);
	struct op o = { h, f, err, errlen };
	return fl_hf_ns_call(f->ns, del_in_ns, &o, err, errlen);
}

static json_t *fault_json(const struct fl_hf_fault *f, int64_t now)
{
	json_t *j = json_deep_copy(f->spec);
	int64_t left = (f->expires_ns - now) / 1000000;
	json_object_set_new(j, "id", json_string(f->id));
	json_object_set_new(j, "expires_in_ms", json_integer(left > 0 ? left : 0));
	json_object_set_new(j, "age_ms", json_integer((now - f->created_ns) / 1000000));
	if (f->ns && f->ns->fd >= 0)
		json_object_set_new(j, "netns",
				    json_pack("{s:s, s:I}", "target", f->ns->how, "inode",
					      (json_int_t)f->ns->ino));
	if (f->kind == FL_HF_PARTITION || f->kind == FL_HF_LOSS) {
		json_t *ch = json_array();
		char name[32];
		if (f->m.in) {
			snprintf(name, sizeof(name), "f%u_in", f->serial);
			json_array_append_new(ch, json_string(name));
		}
		if (f->m.out) {
			snprintf(name, sizeof(name), "f%u_out", f->serial);
			json_array_append_new(ch, json_string(name));
		}
		json_object_set_new(j, "chains", ch);
	}
	if (f->kind == FL_HF_PROCESS) {
		json_t *p = json_array();
		for (size_t i = 0; i < f->nprocs; i++)
			json_array_append_new(p, json_integer(f->procs[i].pid));
		json_object_set_new(j, "pids", p);
	}
	return j;
}

/* Unlink nothing: free f and drop its hold on its namespace. */
static void fault_free(struct fl_hostfault *h, struct fl_hf_fault *f)
{
	if (f) {
		if (f->ns)
			fl_hf_ns_unref(h, f->ns);
		json_decref(f->spec);
		free(f);
	}
}

/* Inside the fault's namespace: its interface looked up there, then the
 * rules or the qdisc. */
static int add_in_ns(void *arg)
{
	struct op *o = arg;
	struct fl_hostfault *h = o->h;
	struct fl_hf_fault *f = o->f;
	const char *dev = f->kind == FL_HF_PARTITION || f->kind == FL_HF_LOSS ? f->m.dev : f->dev;
	unsigned idx = *dev ? if_nametoindex(dev) : 0;
	if (*dev && !idx)
		return fl_err_set(o->err, o->errlen, FL_ENOENT, "field dev: no interface '%s' %s",
				  dev, f->ns->fd < 0 ? "here" : "in the target's namespace");
	if (f->kind == FL_HF_PARTITION || f->kind == FL_HF_LOSS)
		return fl_hf_nft_add(h, f->ns, f, o->err, o->errlen);
	f->ifindex = (int)idx;
	for (struct fl_hf_fault *g = h->faults; g; g = g->next)
		if ((g->kind == FL_HF_BANDWIDTH || g->kind == FL_HF_DELAY) && g->ns == f->ns &&
		    g->ifindex == f->ifindex)
			return fl_err_set(o->err, o->errlen, FL_EEXIST,
					  "%s already has qdisc fault %s", f->dev, g->id);
	return fl_hf_qdisc_add(h, f->ns, f, o->err, o->errlen);
}

static int create_in_kernel(struct fl_hostfault *h, struct fl_hf_fault *f, char *err, size_t errlen)
{
	if (f->kind == FL_HF_PROCESS)
		return fl_hf_proc_apply(h, f, fl_json_str(f->spec, "action", ""), err, errlen);
	struct op o = { h, f, err, errlen };
	return fl_hf_ns_call(f->ns, add_in_ns, &o, err, errlen);
}

int fl_hostfault_create(struct fl_hostfault *h, const json_t *spec, json_t **fault, char *err,
			size_t errlen)
{
	struct fl_hf_fault *f = calloc(1, sizeof(*f));
	int rc;
	if (!f)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	if ((rc = fl_hf_spec_parse(h, spec, f, err, errlen)))
		goto out;
	if (f->resident && h->nfaults >= h->max_faults) {
		rc = fl_err_set(err, errlen, FL_E2BIG, "%zu host faults held (the cap)",
				h->max_faults);
		goto out;
	}
	int64_t t0 = fl_mono_ns();
	if ((rc = fl_hf_ns_resolve(h, json_object_get(spec, "target"), &f->ns, err, errlen)))
		goto out;
	f->ns->refs++;
	f->spec = json_deep_copy(spec);
	f->serial = h->next_serial++;
	snprintf(f->id, sizeof(f->id), "hf-%u", f->serial);
	f->created_ns = fl_mono_ns();
	f->expires_ns = f->created_ns + f->ttl_ms * 1000000;
	if ((rc = create_in_kernel(h, f, err, errlen))) {
		h->failed++;
		goto out;
	}
	int64_t apply_us = (fl_mono_ns() - t0) / 1000;
	h->created[f->kind]++;
	fl_info("hostfault", "%s %s applied (ttl %lld ms)", fl_hf_kind_name(f->kind), f->id,
		(long long)f->ttl_ms);
	if (fault) {
		*fault = fault_json(f, f->created_ns);
		/* the kernel call's own time: the rule is in effect when it returns */
		json_object_set_new(*fault, "apply_us", json_integer(apply_us));
	}
	if (f->resident) {
		f->next = h->faults;
		h->faults = f;
		h->nfaults++;
		if (f->kind == FL_HF_PROCESS)
			fl_hf_proc_save(h);
		f = NULL;
		fl_hf_rearm(h);
	}
out:
	fault_free(h, f);
	return rc;
}

static struct fl_hf_fault **find(struct fl_hostfault *h, const char *id)
{
	struct fl_hf_fault **pp;
	for (pp = &h->faults; *pp && strcmp((*pp)->id, id) != 0; pp = &(*pp)->next)
		;
	return pp;
}

/* Unlink and heal *pp. */
static int heal(struct fl_hostfault *h, struct fl_hf_fault **pp, const char *why, char *err,
		size_t errlen)
{
	struct fl_hf_fault *f = *pp;
	*pp = f->next;
	h->nfaults--;
	int rc = backend_del(h, f, err, errlen);
	if (f->kind == FL_HF_PROCESS)
		fl_hf_proc_save(h);
	fl_info("hostfault", "%s %s healed (%s)", fl_hf_kind_name(f->kind), f->id, why);
	fault_free(h, f);
	return rc;
}

int fl_hostfault_delete(struct fl_hostfault *h, const char *id, char *err, size_t errlen)
{
	struct fl_hf_fault **pp = find(h, id);
	if (!*pp)
		return fl_err_set(err, errlen, FL_ENOENT, "no host fault '%s'", id);
	h->healed_api++;
	int rc = heal(h, pp, "deleted", err, errlen);
	fl_hf_rearm(h);
	return rc;
}

int fl_hostfault_heal_all(struct fl_hostfault *h, const char *reason, char *err, size_t errlen)
{
	int rc = 0;
	char e2[256];
	while (h->faults) {
		/* the table goes at once below: its chains need no deletion one by one */
		struct fl_hf_fault *f = h->faults;
		int r = 0;
		if ((f->kind == FL_HF_PARTITION || f->kind == FL_HF_LOSS) && f->ns == &h->self) {
			h->faults = f->next;
			h->nfaults--;
			fl_info("hostfault", "%s %s healed (%s)", fl_hf_kind_name(f->kind), f->id,
				reason);
			fault_free(h, f);
		} else {
			r = heal(h, &h->faults, reason, e2, sizeof(e2));
		}
		if (r && !rc)
			rc = fl_err_set(err, errlen, r, "%s", e2);
		if (strcmp(reason, "ttl") == 0)
			h->healed_ttl++;
		else if (strcmp(reason, "lease") == 0)
			h->healed_lease++;
		else if (strcmp(reason, "exit") == 0)
			h->healed_exit++;
		else
			h->healed_api++;
	}
	if (h->self.table_made) {
		int r = fl_hf_nft_drop_table(h, &h->self, NULL, e2, sizeof(e2));
		if (r && !rc)
			rc = fl_err_set(err, errlen, r, "%s", e2);
	}
	fl_hf_rearm(h);
	return rc;
}

json_t *fl_hostfault_list(struct fl_hostfault *h)
{
	json_t *a = json_array();
	int64_t now = fl_mono_ns();
	for (struct fl_hf_fault *f = h->faults; f; f = f->next)
		json_array_insert_new(a, 0, fault_json(f, now));
	return a;
}

json_t *fl_hostfault_get(struct fl_hostfault *h, const char *id)
{
	struct fl_hf_fault **pp = find(h, id);
	return *pp ? fault_json(*pp, fl_mono_ns()) : NULL;
}

int fl_hostfault_lease_set(struct fl_hostfault *h, const char *holder, int64_t ttl_ms)
{
	if (ttl_ms < 1 || ttl_ms > 86400000)
		return FL_EINVAL;
	size_t i;
	for (i = 0; i < h->nleases && strcmp(h->leases[i].holder, holder) != 0; i++)
		;
	if (i == h->nleases) {
		struct fl_hf_lease *n = realloc(h->leases, (h->nleases + 1) * sizeof(*n));
		if (!n)
			return FL_ENOMEM;
		h->leases = n;
		if (!(n[i].holder = strdup(holder)))
			return FL_ENOMEM;
		h->nleases++;
	}
	h->leases[i].ttl_ms = ttl_ms;
	h->leases[i].expires_ns = fl_mono_ns() + ttl_ms * 1000000;
	fl_hf_rearm(h);
	return 0;
}

int fl_hostfault_lease_drop(struct fl_hostfault *h, const char *holder)
{
	for (size_t i = 0; i < h->nleases; i++)
		if (strcmp(h->leases[i].holder, holder) == 0) {
			free(h->leases[i].holder);
			h->leases[i] = h->leases[--h->nleases];
			fl_hf_rearm(h);
			return 0;
		}
	return FL_ENOENT;
}

json_t *fl_hostfault_leases(struct fl_hostfault *h)
{
	json_t *a = json_array();
	int64_t now = fl_mono_ns();
	for (size_t i = 0; i < h->nleases; i++) {
		int64_t left = (h->leases[i].expires_ns - now) / 1000000;
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "holder", h->leases[i].holder,
						   "ttl_ms", (json_int_t)h->leases[i].ttl_ms,
						   "expires_in_ms",
						   (json_int_t)(left > 0 ? left : 0)));
	}
	return a;
}

int fl_hostfault_tick(struct fl_hostfault *h)
{
	int64_t now = fl_mono_ns();
	int healed = 0;
	char err[256];
	bool lapsed = false;
	for (size_t i = 0; i < h->nleases;) {
		if (h->leases[i].expires_ns <= now) {
			fl_warn("hostfault", "lease of '%s' lapsed: healing every host fault",
				h->leases[i].holder);
			free(h->leases[i].holder);
			h->leases[i] = h->leases[--h->nleases];
			lapsed = true;
		} else {
			i++;
		}
	}
	if (lapsed && h->faults) {
		healed = (int)h->nfaults;
		if (fl_hostfault_heal_all(h, "lease", err, sizeof(err)))
			fl_error("hostfault", "healing after the lease: %s", err);
		return healed;
	}
	for (struct fl_hf_fault **pp = &h->faults; *pp;) {
		if ((*pp)->expires_ns <= now) {
			h->healed_ttl++;
			if (heal(h, pp, "ttl", err, sizeof(err)))
				fl_error("hostfault", "healing: %s", err);
			healed++;
		} else {
			pp = &(*pp)->next;
		}
	}
	fl_hf_rearm(h);
	return healed;
}

char *fl_hostfault_metrics_text(struct fl_hostfault *h, size_t *len)
{
	struct fl_buf b;
	size_t active[5] = { 0 };
	int rc = 0;
	fl_buf_init(&b, 0);
	for (struct fl_hf_fault *f = h->faults; f; f = f->next)
		active[f->kind]++;
	size_t entered = 0;
	for (struct fl_hf_ns *n = h->other; n; n = n->next)
		entered++;
	rc |= fl_buf_printf(&b,
			    "# HELP faultline_host_netns_entered Other network namespaces "
			    "holding host faults now.\n"
			    "# TYPE faultline_host_netns_entered gauge\n"
			    "faultline_host_netns_entered %zu\n",
			    entered);
	rc |= fl_buf_printf(&b, "# HELP faultline_host_faults_active Host faults held now.\n"
				"# TYPE faultline_host_faults_active gauge\n");
	for (int k = 0; k < 5; k++)
		rc |= fl_buf_printf(&b, "faultline_host_faults_active{type=\"%s\"} %zu\n",
				    kind_names[k], active[k]);
	rc |= fl_buf_printf(&b, "# HELP faultline_host_faults_created_total Host faults applied.\n"
				"# TYPE faultline_host_faults_created_total counter\n");
	for (int k = 0; k < 5; k++)
		rc |= fl_buf_printf(&b, "faultline_host_faults_created_total{type=\"%s\"} %llu\n",
				    kind_names[k], (unsigned long long)h->created[k]);
	rc |= fl_buf_printf(&b,
			    "# HELP faultline_host_faults_healed_total Host faults healed, by "
			    "cause.\n"
			    "# TYPE faultline_host_faults_healed_total counter\n"
			    "faultline_host_faults_healed_total{reason=\"ttl\"} %llu\n"
			    "faultline_host_faults_healed_total{reason=\"lease\"} %llu\n"
			    "faultline_host_faults_healed_total{reason=\"api\"} %llu\n"
			    "# HELP faultline_host_faults_failed_total Host faults the kernel "
			    "refused.\n"
			    "# TYPE faultline_host_faults_failed_total counter\n"
			    "faultline_host_faults_failed_total %llu\n",
			    (unsigned long long)h->healed_ttl, (unsigned long long)h->healed_lease,
			    (unsigned long long)h->healed_api, (unsigned long long)h->failed);
	if (rc) {
		fl_buf_free(&b);
		return NULL;
	}
	return fl_buf_take(&b, len);
}

void fl_hostfault_free(struct fl_hostfault *h)
{
	if (!h)
		return;
	char err[256];
	if ((h->faults || h->self.table_made) && fl_hostfault_heal_all(h, "exit", err, sizeof(err)))
		fl_error("hostfault", "healing at exit: %s", err);
	if (h->timer)
		event_free(h->timer);
	for (size_t i = 0; i < h->nleases; i++)
		free(h->leases[i].holder);
	free(h->leases);
	fl_hf_ns_free_all(h);
	free(h);
}
