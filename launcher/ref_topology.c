/* Launcher of the reference topology (see ref.h). Every process is started
 * through a small reaper (double fork, own session) that records how it
 * exited in DATA/run/NAME.exit, so `ref down` can report exit statuses of
 * processes that are not its children. */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"

const char *const fl_ref_services[] = { "membership", "money", "extbank", "banking",
					"remittance", "query", "gateway", NULL };

/* Edges caller->callee, each with its own fault-injector link. */
static const char *const edges[][2] = {
	{ "banking", "extbank" },       { "remittance", "membership" }, { "remittance", "money" },
	{ "remittance", "banking" },    { "query", "membership" },      { "query", "money" },
	{ "query", "remittance" },      { "gateway", "membership" },    { "gateway", "money" },
	{ "gateway", "banking" },       { "gateway", "extbank" },       { "gateway", "remittance" },
	{ "gateway", "query" },
};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

const char *fl_ref_default_data(void)
{
	static char buf[256];
	const char *e = getenv("FL_REF_DATA");
	if (e && *e)
		return e;
	e = getenv("FL_REF");
	if (e && *e) {
		snprintf(buf, sizeof(buf), "%s", e);
		size_t n = strlen(buf);
		if (n > 5 && strcmp(buf + n - 5, ".json") == 0) {
			char *slash = strrchr(buf, '/');
			if (slash)
				*slash = 0;
			else
				snprintf(buf, sizeof(buf), ".");
		}
		return buf;
	}
	snprintf(buf, sizeof(buf), "/tmp/faultline-ref-%u", (unsigned)getuid());
	return buf;
}

/* Remove DATA's service directories, logs and exit records (not DATA itself). */
static int wipe(const char *data)
{
	char p[PATH_MAX + 64];
	int rc = 0;
	for (int i = 0; fl_ref_services[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", data, fl_ref_services[i]);
		if (fl_sup_rmtree(p) != 0)
			rc = -1;
	}
	static const char *const sub[] = { "logs", "run", NULL };
	for (int i = 0; sub[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", data, sub[i]);
		if (fl_sup_rmtree(p) != 0)
			rc = -1;
	}
	return rc;
}

struct proc {
	pid_t pid;
	char line[512];	/* the first line the program printed */
};

/* Poll URL until 200 (or the deadline). */
static int wait_ok(const char *url, int64_t deadline)
{
	for (;;) {
		struct fl_http_request req = { .url = url, .timeout_ms = 1000, .connect_timeout_ms = 500 };
		struct fl_http_response *resp = NULL;
		if (fl_http_fetch(&req, &resp) == 0 && resp && !resp->err && resp->status == 200) {
			fl_http_response_free(resp);
			return 0;
		}
		fl_http_response_free(resp);
		if (fl_mono_ns() >= deadline)
			return FL_ETIMEDOUT;
		fl_sleep_ns(5000000);
	}
}

static char *const *argv_from_json(json_t *a, char **store, int max)
{
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (n >= max - 1)
			break;
		store[n++] = (char *)json_string_value(v);
	}
	store[n] = NULL;
	return store;
}

static const char *peer_url(json_t *links, json_t *services, const char *from, const char *to,
			    char *buf, size_t n)
{
	char name[96];
	snprintf(name, sizeof(name), "%s->%s", from, to);
	json_t *l = json_object_get(links, name);
	if (l) {
		snprintf(buf, n, "http://%s", fl_json_str(l, "listen", ""));
		return buf;
	}
	/* with the fault injector every edge goes through its link: a missing
	 * link means the callee's layer is not up yet, never a direct edge */
	if (json_object_size(links) > 0)
		return NULL;
	return fl_json_str(json_object_get(services, to), "url", NULL);
}

json_t *fl_ref_load(const char *data, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	if (access(path, F_OK) != 0) {
		fl_err_set(err, errlen, FL_ENOENT, "no running reference system in %s (start one with 'faultline ref up')", data);
		return NULL;
	}
	return fl_json_load_file(path, err, errlen);
}

static void stop_started(json_t *services, json_t *proxy)
{
	const char *k;
	json_t *v;
	json_object_foreach(services, k, v) {
		pid_t pid = (pid_t)fl_json_int(v, "pid", 0);
		if (pid > 0)
			kill(pid, SIGKILL);
	}
	if (proxy && fl_json_int(proxy, "pid", 0) > 0)
		kill((pid_t)fl_json_int(proxy, "pid", 0), SIGKILL);
}

static int start_service(const char *data_dir, const char *transferd, const char *name, int port,
			 json_t *base_args, json_t *links, json_t *services, long timeout_ms,
			 json_t **entry, char *err, size_t errlen)
{
	char sdata[PATH_MAX + 64], log[PATH_MAX + 64], exitf[PATH_MAX + 64], portbuf[16];
	snprintf(sdata, sizeof(sdata), "%s/%s", data_dir, name);
	snprintf(log, sizeof(log), "%s/logs/%s.log", data_dir, name);
	snprintf(exitf, sizeof(exitf), "%s/run/%s.exit", data_dir, name);
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	json_t *argv = json_pack("[s, s, s, s, s, s, s]", transferd, "--service", name, "--data", sdata,
				 "--port", portbuf);
	for (size_t i = 0; i < NEDGES; i++) {
		if (strcmp(edges[i][0], name) != 0)
			continue;
		char buf[200], peer[300];
		const char *u = peer_url(links, services, name, edges[i][1], buf, sizeof(buf));
		if (!u) {
			json_decref(argv);
			return fl_err_set(err, errlen, FL_ESTATE, "%s starts before %s", name, edges[i][1]);
		}
		snprintf(peer, sizeof(peer), "%s=%s", edges[i][1], u);
		json_array_append_new(argv, json_string("--peer"));
		json_array_append_new(argv, json_string(peer));
	}
	json_array_extend(argv, base_args);
	char *store[256];
	argv_from_json(argv, store, 256);
	struct fl_spawn sp = { .argv = store, .log = log, .exit_file = exitf, .marker = "listening on",
			       .timeout_ms = timeout_ms };
	struct proc p;
	int rc = fl_sup_spawn(&sp, &p.pid, p.line, sizeof(p.line), err, errlen);
	if (rc) {
		json_decref(argv);
		return rc;
	}
	char abuf[128];
	const char *addr = fl_sup_listen_addr(p.line, abuf, sizeof(abuf));
	char url[200];
	snprintf(url, sizeof(url), "http://%s", addr ? addr : "?");
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	*entry = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:o}", "url", url, "addr",
			   addr ? addr : "", "port", colon ? atoi(colon + 1) : 0, "pid", (int)p.pid,
			   "data", sdata, "log", log, "exit_file", exitf, "argv", argv);
	return 0;
}

static int wait_probes(json_t *entry, int64_t deadline, const char *name, char *err, size_t errlen)
{
	char u[256];
	snprintf(u, sizeof(u), "%s/startupz", fl_json_str(entry, "url", ""));
	if (wait_ok(u, deadline))
		return fl_err_set(err, errlen, FL_ETIMEDOUT, "%s: /startupz not OK in time (log: %s)", name,
				  fl_json_str(entry, "log", ""));
	snprintf(u, sizeof(u), "%s/readyz", fl_json_str(entry, "url", ""));
	if (wait_ok(u, deadline))
		return fl_err_set(err, errlen, FL_ETIMEDOUT, "%s: /readyz not OK in time (log: %s)", name,
				  fl_json_str(entry, "log", ""));
	return 0;
}

int fl_ref_up(const struct fl_ref_up_opts *o, json_t **topology, char *err, size_t errlen)
{
	int64_t t0 = fl_mono_ns();
	long timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	char data[PATH_MAX], sub[PATH_MAX + 16];
	if (fl_sup_mkdirs(o->data) != 0 || !realpath(o->data, data))
		return fl_err_set(err, errlen, FL_EIO, "cannot create data directory %s: %s", o->data,
				  strerror(errno));
	json_t *old = fl_ref_load(data, NULL, 0);
	if (old) {
		json_t *svcs = json_object_get(old, "services");
		const char *k;
		json_t *v;
		bool running = false;
		json_object_foreach(svcs, k, v)
			running |= fl_sup_alive((pid_t)fl_json_int(v, "pid", 0));
		json_decref(old);
		if (running)
			return fl_err_set(err, errlen, FL_EEXIST,
					  "a reference system is already running in %s ('faultline ref down' first)", data);
	}
	if (o->fresh && wipe(data) != 0)
		return fl_err_set(err, errlen, FL_EIO, "cannot remove the old data in %s: %s", data,
				  strerror(errno));
	snprintf(sub, sizeof(sub), "%s/logs", data);
	fl_sup_mkdirs(sub);
	snprintf(sub, sizeof(sub), "%s/run", data);
	fl_sup_mkdirs(sub);
	json_t *services = json_object(), *links = json_object(), *proxy = json_null();
	json_t *base = json_array(), *bugs = json_array();
	for (int i = 0; i < o->nbugs; i++) {
		json_array_append_new(base, json_string("--bug"));
		json_array_append_new(base, json_string(o->bugs[i]));
		json_array_append_new(bugs, json_string(o->bugs[i]));
	}
	if (o->seeded) {
		char sb[32];
		snprintf(sb, sizeof(sb), "%llu", (unsigned long long)o->seed);
		json_array_append_new(base, json_string("--seed"));
		json_array_append_new(base, json_string(sb));
	}
	for (int i = 0; i < o->nextra; i++)
		json_array_append_new(base, json_string(o->extra[i]));
	int rc = 0;
	int64_t deadline = fl_mono_ns() + (int64_t)timeout * 1000000;
	const char *api = NULL;
	if (o->faultline) {
		json_t *p = NULL;
		rc = fl_links_start_proxy(o->faultline, data, NULL, timeout, &p, err, errlen);
		if (rc)
			goto fail;
		json_decref(proxy);
		proxy = p;
		api = fl_json_str(proxy, "api", "");
	}
	/* layers: leaves first, then whoever calls them */
	static const char *const layers[][4] = {
		{ "membership", "money", "extbank", NULL },
		{ "banking", NULL },
		{ "remittance", NULL },
		{ "query", NULL },
		{ "gateway", NULL },	/* calls query, so after query's links exist */
	};
	for (size_t l = 0; l < sizeof(layers) / sizeof(layers[0]); l++) {
		for (int i = 0; layers[l][i]; i++) {
			const char *name = layers[l][i];
			json_t *entry = NULL;
			rc = start_service(data, o->transferd, name, 0, base, links, services, timeout,
					   &entry, err, errlen);
			if (rc)
				goto fail;
			json_object_set_new(services, name, entry);
		}
		for (int i = 0; layers[l][i]; i++) {
			const char *name = layers[l][i];
			json_t *entry = json_object_get(services, name);
			rc = wait_probes(entry, deadline, name, err, errlen);
			if (rc)
				goto fail;
			if (!api)
				continue;
			for (size_t e = 0; e < NEDGES; e++) {
				if (strcmp(edges[e][1], name) != 0)
					continue;
				char lname[96], listen[128];
				snprintf(lname, sizeof(lname), "%s->%s", edges[e][0], edges[e][1]);
				rc = fl_links_create(api, lname, fl_json_str(entry, "addr", ""), listen, sizeof(listen),
					       err, errlen);
				if (rc)
					goto fail;
				json_object_set_new(links, lname,
						    json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", lname, "from",
							      edges[e][0], "to", edges[e][1], "listen", listen,
							      "upstream", fl_json_str(entry, "addr", "")));
			}
		}
	}
	char ts[40];
	json_t *t = json_pack("{s:i, s:s, s:s, s:I, s:o, s:b, s:o, s:o, s:o, s:o, s:s}", "version", 1,
			      "data", data, "started", fl_wall_iso(fl_wall_ns(), ts, sizeof(ts)),
			      "startup_ms", (json_int_t)((fl_mono_ns() - t0) / 1000000), "proxy", proxy,
			      "direct", api == NULL, "links", links, "services", services, "bugs", bugs,
			      "args", base, "transferd", o->transferd);
	if (o->seeded)
		json_object_set_new(t, "seed", json_integer((json_int_t)o->seed));
	rc = fl_sup_write_state(data, t, err, errlen);
	if (rc) {
		stop_started(json_object_get(t, "services"), json_object_get(t, "proxy"));
		json_decref(t);
		return rc;
	}
	*topology = t;
	return 0;
fail:
	stop_started(services, proxy);
	json_decref(services);
	json_decref(links);
	json_decref(proxy);
	json_decref(base);
	json_decref(bugs);
	return rc;
}

json_t *fl_ref_down(const char *data, long wait_ms, char *err, size_t errlen)
{
	json_t *t = fl_ref_load(data, err, errlen);
	if (!t)
		return NULL;
	json_decref(t);
	return fl_launcher_down(data, wait_ms, err, errlen);
}

int fl_ref_signal(const char *data, const char *service, int sig, char *err, size_t errlen)
{
	json_t *t = fl_ref_load(data, err, errlen);
	if (!t)
		return FL_ENOENT;
	json_decref(t);
	return fl_launcher_signal(data, service, sig, err, errlen);
}

int fl_ref_restart(const char *data, const char *service, const char *const *extra, int nextra,
		   bool wait, char *err, size_t errlen)
{
	json_t *t = fl_ref_load(data, err, errlen);
	if (!t)
		return FL_ENOENT;
	json_t *services = json_object_get(t, "services");
	json_t *e = json_object_get(services, service);
	int rc = 0;
	if (!e) {
		rc = fl_err_set(err, errlen, FL_ENOENT, "no service '%s' in the topology", service);
		goto out;
	}
	pid_t old = (pid_t)fl_json_int(e, "pid", 0);
	if (fl_sup_alive(old)) {
		rc = fl_err_set(err, errlen, FL_EEXIST, "%s (pid %d) is still running; kill or terminate it first",
				service, (int)old);
		goto out;
	}
	/* same arguments and port, without a previous --crash-at */
	json_t *argv = json_array(), *oldv = json_object_get(e, "argv");
	size_t i;
	json_t *v;
	json_array_foreach(oldv, i, v) {
		const char *s = json_string_value(v);
		if (s && strcmp(s, "--crash-at") == 0) {
			i++;
			continue;
		}
		if (s && strcmp(s, "--port") == 0) {
			char pb[16];
			snprintf(pb, sizeof(pb), "%lld", (long long)fl_json_int(e, "port", 0));
			json_array_append_new(argv, json_string("--port"));
			json_array_append_new(argv, json_string(pb));
			i++;
			continue;
		}
		json_array_append(argv, v);
	}
	for (int k = 0; k < nextra; k++)
		json_array_append_new(argv, json_string(extra[k]));
	char *store[256];
	argv_from_json(argv, store, 256);
	struct fl_spawn sp = { .argv = store, .log = fl_json_str(e, "log", "/dev/null"),
			       .exit_file = fl_json_str(e, "exit_file", "/dev/null"),
			       .marker = "listening on", .timeout_ms = 10000 };
	struct proc p;
	rc = fl_sup_spawn(&sp, &p.pid, p.line, sizeof(p.line), err, errlen);
	if (rc) {
		json_decref(argv);
		goto out;
	}
	json_object_set_new(e, "pid", json_integer(p.pid));
	json_object_set_new(e, "argv", argv);
	if (wait)
		rc = wait_probes(e, fl_mono_ns() + 15000000000LL, service, err, errlen);
	if (!rc)
		rc = fl_sup_write_state(data, t, err, errlen);
out:
	json_decref(t);
	return rc;
}
