/* The orphan sweep of --netns systems. A system's hosts outlive it when
 * nothing that could stop it is left: its launcher killed half-way, or its
 * warden killed and its driver gone. Each index in use has an owner record
 * (/run/faultline-netns/N.json, netns.c); a record whose owners are all
 * dead is an orphan, and its system is stopped and its names removed. What
 * has no record is not faultline's to remove. Run by `up --netns` before
 * it picks an index, and by `faultline down --sweep`. */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/proc.h"

#define RECORDS "/run/faultline-netns"

/* Is the process {"pid", "start"} of the record still the same process? */
static bool owner_alive(const json_t *p)
{
	pid_t pid = (pid_t)fl_json_int(p, "pid", 0);
	unsigned long long start = (unsigned long long)fl_json_int(p, "start", 0);
	return pid > 0 && start && fl_proc_live_start_time(pid) == start;
}

/* The hosts ("netns" of DATA/topology.json, new reference) when DATA still
 * records the system of record r (same index and creation stamp), or NULL. */
static json_t *data_net(const json_t *r)
{
	const char *data = fl_json_str(r, "data", NULL);
	json_t *t = data ? fl_launcher_load(data, NULL, 0) : NULL;
	json_t *net = json_object_get(t, "netns");
	bool same = json_is_object(net) &&
		    fl_json_int(net, "index", -1) == fl_json_int(r, "index", -2) &&
		    fl_json_int(net, "created", -1) == fl_json_int(r, "created", -2);
	net = same ? json_incref(net) : NULL;
	json_decref(t);
	return net;
}

static bool data_records(const json_t *r)
{
	json_t *net = data_net(r);
	json_decref(net);
	return net != NULL;
}

/* Who keeps the system of record r alive, into why; false when no one. */
static bool owned(const json_t *r, char *why, size_t n)
{
	static const char *const roles[] = { "launcher", "warden", "driver" };
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		const json_t *p = json_object_get(r, roles[i]);
		if (owner_alive(p)) {
			snprintf(why, n, "its %s (pid %lld) is alive", roles[i],
				 (long long)fl_json_int(p, "pid", 0));
			return true;
		}
	}
	if (fl_json_bool(r, "keep", false) && data_records(r)) {
		snprintf(why, n, "kept, until 'faultline down --data %s'",
			 fl_json_str(r, "data", ""));
		return true;
	}
	return false;
}

/* Stop the orphan of record r and remove its names. */
static json_t *sweep_one(const json_t *r)
{
	int ix = (int)fl_json_int(r, "index", -1);
	const char *data = fl_json_str(r, "data", NULL);
	json_t *removed = json_array(), *net = data_net(r);
	if (net) {
		/* the names `down` removes, for the report */
		json_array_append_new(removed, json_string(fl_json_str(net, "bridge", "")));
		const char *k;
		json_t *h;
		json_object_foreach(json_object_get(net, "hosts"), k, h) {
			json_array_append_new(removed, json_string(fl_json_str(h, "ns", "")));
			json_array_append_new(removed, json_string(fl_json_str(h, "veth", "")));
		}
		json_decref(net);
		json_t *rep = fl_launcher_down(data, 2000, NULL, 0);
		if (rep) {
			char path[PATH_MAX + 16];
			snprintf(path, sizeof(path), "%s/down.json", data);
			json_object_set_new(rep, "reason",
					    json_string("swept: its launcher, warden and driver "
							"were gone"));
			json_dump_file(rep, path, JSON_INDENT(2) | JSON_SORT_KEYS);
			json_decref(rep);
		}
	}
	int killed = fl_netns_remove_index(ix, fl_json_int(r, "launcher_netns", 0), removed);
	return json_pack("{s:i, s:s, s:s?, s:o, s:i}", "index", ix, "bridge",
			 fl_json_str(r, "bridge", ""), "data", data, "removed", removed, "killed",
			 killed);
}

/* The indexes that have a record. */
static json_t *recorded(void)
{
	json_t *ix = json_array();
	DIR *d = opendir(RECORDS);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		long i = strtol(e->d_name, &end, 10);
		if (end != e->d_name && strcmp(end, ".json") == 0 && i >= 0 && i < 100000)
			json_array_append_new(ix, json_integer(i));
	}
	if (d)
		closedir(d);
	return ix;
}

json_t *fl_launcher_sweep(char *err, size_t errlen)
{
	json_t *ix = recorded();
	if (json_array_size(ix) && geteuid() != 0) {
		json_decref(ix);
		fl_err_set(err, errlen, FL_EPERM,
			   "sweeping network-namespace hosts needs root (CAP_SYS_ADMIN, "
			   "CAP_NET_ADMIN)");
		return NULL;
	}
	json_t *swept = json_array(), *kept = json_array();
	int lock = fl_netns_lock();
	size_t i;
	json_t *v;
	json_array_foreach(ix, i, v) {
		json_t *r = fl_netns_record_load((int)json_integer_value(v));
		char why[PATH_MAX + 64];
		if (!r)
			continue; /* removed meanwhile (or unreadable: left alone) */
		if (owned(r, why, sizeof(why)))
			json_array_append_new(kept, json_pack("{s:I, s:s, s:s?, s:s}", "index",
							      json_integer_value(v), "bridge",
							      fl_json_str(r, "bridge", ""), "data",
							      fl_json_str(r, "data", NULL), "owner",
							      why));
		else
			json_array_append_new(swept, sweep_one(r));
		json_decref(r);
	}
	fl_netns_unlock(lock);
	json_decref(ix);
	return json_pack("{s:o, s:o}", "swept", swept, "kept", kept);
}
