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
	char line[512]; /* the first line the program printed */
};

/* Poll URL until 200 (or the deadline). */
static int wait_ok(const char *url, int64_t deadline)
{
	for (;;) {
		struct fl_http_request req = { .url = url,
					       .timeout_ms = 1000,
					       .connect_timeout_ms = 500 };
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

json_t *fl_ref_load(const char *data, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	if (access(path, F_OK) != 0) {
		fl_err_set(err, errlen, FL_ENOENT,
			   "no running reference system in %s (start one with 'faultline ref up')",
			   data);
		return NULL;
	}
	return fl_json_load_file(path, err, errlen);
}

static int wait_probes(json_t *entry, int64_t deadline, const char *name, char *err, size_t errlen)
{
	char u[256];
	snprintf(u, sizeof(u), "%s/startupz", fl_json_str(entry, "url", ""));
	if (wait_ok(u, deadline))
		return fl_err_set(err, errlen, FL_ETIMEDOUT,
				  "%s: /startupz not OK in time (log: %s)", name,
				  fl_json_str(entry, "log", ""));
	snprintf(u, sizeof(u), "%s/readyz", fl_json_str(entry, "url", ""));
	if (wait_ok(u, deadline))
		return fl_err_set(err, errlen, FL_ETIMEDOUT, "%s: /readyz not OK in time (log: %s)",
				  name, fl_json_str(entry, "log", ""));
	return 0;
}

/* The reference system's own keys in its topology.json, beside what the
 * launcher records: bugs, the transferd arguments, its path, the seed, each
 * service's data directory, and whether its edges are direct. */
static void add_ref_keys(json_t *t, const struct fl_ref_up_opts *o, const char *data)
{
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
		json_object_set_new(t, "seed", json_integer((json_int_t)o->seed));
	}
	for (int i = 0; i < o->nextra; i++)
		json_array_append_new(base, json_string(o->extra[i]));
	json_object_set_new(t, "bugs", bugs);
	json_object_set_new(t, "args", base);
	json_object_set_new(t, "transferd", json_string(o->transferd ? o->transferd : "transferd"));
	json_object_set_new(t, "direct",
			    json_boolean(!json_is_object(json_object_get(t, "proxy"))));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t, "services"), k, v) {
		char sdata[PATH_MAX + 64];
		snprintf(sdata, sizeof(sdata), "%s/%s", data, k);
		json_object_set_new(v, "data", json_string(sdata));
		/* its entries keep the flat shape their readers know (the url
		 * before any nested object); transferd needs neither: its
		 * restart passes only argv, its readiness is /readyz */
		json_object_del(v, "env");
		json_object_del(v, "ready");
	}
}

int fl_ref_up(const struct fl_ref_up_opts *o, const json_t *model, json_t **topology, char *err,
	      size_t errlen)
{
	char data[PATH_MAX];
	if (fl_sup_mkdirs(o->data) != 0 || !realpath(o->data, data))
		return fl_err_set(err, errlen, FL_EIO, "cannot create data directory %s: %s",
				  o->data, strerror(errno));
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
					  "a reference system is already running in %s ('faultline "
					  "ref down' first)",
					  data);
	}
	if (o->fresh && wipe(data) != 0)
		return fl_err_set(err, errlen, FL_EIO, "cannot remove the old data in %s: %s", data,
				  strerror(errno));
	/* kept until `ref down`, as it always was, unless a driver holds a lease */
	struct fl_up_opts uo = { .data = data,
				 .faultline = o->faultline,
				 .keep = o->driver <= 0,
				 .driver = o->driver,
				 .lease_ms = o->lease_ms,
				 .netns = o->netns };
	json_t *t = NULL;
	int rc = fl_launcher_up(model, &uo, &t, err, errlen);
	if (rc)
		return rc;
	add_ref_keys(t, o, data);
	if ((rc = fl_sup_write_state(data, t, err, errlen))) {
		json_decref(fl_launcher_down(data, 5000, NULL, 0));
		json_decref(t);
		return rc;
	}
	*topology = t;
	return 0;
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
		rc = fl_err_set(err, errlen, FL_EEXIST,
				"%s (pid %d) is still running; kill or terminate it first", service,
				(int)old);
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
	struct fl_spawn sp = { .argv = store,
			       .log = fl_json_str(e, "log", "/dev/null"),
			       .exit_file = fl_json_str(e, "exit_file", "/dev/null"),
			       .marker = "listening on",
			       .timeout_ms = 10000,
			       .netns = fl_json_str(e, "netns", NULL) }; /* up --netns: its host */
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
