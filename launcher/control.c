/* A running system, from its DATA/topology.json: load it, signal a
 * service, restart one, check each (alive and ready), stop everything and
 * report how each process exited. The same for the reference system. */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

json_t *fl_launcher_load(const char *data, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	if (access(path, F_OK) != 0) {
		fl_err_set(err, errlen, FL_ENOENT,
			   "no running system in %s (start one with 'faultline up FILE')", data);
		return NULL;
	}
	return fl_json_load_file(path, err, errlen);
}

static json_t *process_of(json_t *t, const char *service)
{
	if (strcmp(service, "proxy") == 0 && json_is_object(json_object_get(t, "proxy")))
		return json_object_get(t, "proxy");
	return json_object_get(json_object_get(t, "services"), service);
}

int fl_launcher_signal(const char *data, const char *service, int sig, char *err, size_t errlen)
{
	json_t *t = fl_launcher_load(data, err, errlen);
	if (!t)
		return FL_ENOENT;
	json_t *e = process_of(t, service);
	pid_t pid = (pid_t)fl_json_int(e, "pid", 0);
	bool attached = json_object_get(e, "attach") != NULL;
	json_decref(t);
	if (attached)
		return fl_err_set(err, errlen, FL_ESTATE,
				  "service '%s' is attached (not started here)", service);
	if (pid <= 0)
		return fl_err_set(err, errlen, FL_ENOENT, "no service '%s' in the topology",
				  service);
	if (kill(pid, sig) != 0)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "kill %d: %s", (int)pid,
				  strerror(errno));
	return 0;
}

int fl_launcher_restart(const char *data, const char *service, bool wait, char *err, size_t errlen)
{
	json_t *t = fl_launcher_load(data, err, errlen);
	if (!t)
		return FL_ENOENT;
	json_t *e = json_object_get(json_object_get(t, "services"), service);
	int rc = 0;
	if (!e || json_object_get(e, "attach")) {
		rc = fl_err_set(err, errlen, FL_ENOENT, "no started service '%s' in the topology",
				service);
		goto out;
	}
	pid_t old = (pid_t)fl_json_int(e, "pid", 0);
	if (fl_sup_alive(old)) {
		rc = fl_err_set(err, errlen, FL_EEXIST,
				"%s (pid %d) is still running; kill or terminate it first", service,
				(int)old);
		goto out;
	}
	char *argv[256];
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(json_object_get(e, "argv"), i, v)
		if (n < 255)
			argv[n++] = (char *)json_string_value(v);
	argv[n] = NULL;
	struct fl_spawn sp = { .argv = argv,
			       .dir = fl_json_str(e, "dir", NULL),
			       .env = json_object_get(e, "env"),
			       .log = fl_json_str(e, "log", "/dev/null"),
			       .exit_file = fl_json_str(e, "exit_file", "/dev/null"),
			       .netns = fl_json_str(e, "netns", NULL) };
	pid_t pid;
	if ((rc = fl_sup_spawn(&sp, &pid, NULL, 0, err, errlen)))
		goto out;
	json_object_set_new(e, "pid", json_integer(pid));
	json_object_set_new(e, "restarts", json_integer(fl_json_int(e, "restarts", 0) + 1));
	if (wait)
		rc = fl_launcher_wait_ready(service, e,
					    fl_mono_ns() +
						    (int64_t)(fl_json_num(e, "timeout", 10) * 1e9),
					    err, errlen);
	int wrc = fl_sup_write_state(data, t, rc ? NULL : err, errlen);
	if (!rc)
		rc = wrc;
out:
	json_decref(t);
	return rc;
}

json_t *fl_launcher_status(const char *data, char *err, size_t errlen)
{
	json_t *t = fl_launcher_load(data, err, errlen);
	if (!t)
		return NULL;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(t, "services"), k, v) {
		if (json_object_get(v, "attach")) {
			json_object_set_new(v, "state", json_string("attached"));
			continue;
		}
		pid_t pid = (pid_t)fl_json_int(v, "pid", 0);
		bool alive = fl_sup_alive(pid);
		bool ready = alive && fl_launcher_ready_once(v);
		json_object_set_new(v, "alive", json_boolean(alive));
		json_object_set_new(v, "ready", json_boolean(ready));
		json_t *x = alive ? NULL : fl_sup_exit_record(fl_json_str(v, "exit_file", ""), pid);
		if (x)
			json_object_set_new(v, "last_exit", x);
		json_object_set_new(v, "state",
				    json_string(!alive	? "down"
						: ready ? "ready"
							: "not ready"));
	}
	if (json_is_object(json_object_get(t, "netns")))
		fl_hosts_status(json_object_get(t, "netns"));
	return t;
}

/* Stop the system's processes: dependents first (reverse start layers), then
 * the proxy. */
static void terminate_all(json_t *t)
{
	json_t *services = json_object_get(t, "services"), *layers = json_object_get(t, "layers");
	if (json_is_array(layers)) {
		for (size_t l = json_array_size(layers); l-- > 0;) {
			size_t i;
			json_t *v;
			json_array_foreach(json_array_get(layers, l), i, v) {
				pid_t pid =
					(pid_t)fl_json_int(json_object_get(services,
									   json_string_value(v)),
							   "pid", 0);
				if (fl_sup_alive(pid) &&
				    !json_object_get(json_object_get(services,
								     json_string_value(v)),
						     "attach")) {
					kill(pid, SIGTERM);
					kill(pid, SIGCONT);
				}
			}
		}
		return;
	}
	const char *k;
	json_t *v;
	json_object_foreach(services, k, v) {
		pid_t pid = (pid_t)fl_json_int(v, "pid", 0);
		if (fl_sup_alive(pid)) {
			kill(pid, SIGTERM);
			kill(pid, SIGCONT);
		}
	}
}

json_t *fl_launcher_down(const char *data, long wait_ms, char *err, size_t errlen)
{
	json_t *t = fl_launcher_load(data, err, errlen);
	if (!t)
		return NULL;
	json_t *w = json_object_get(t, "warden");
	pid_t wpid = (pid_t)fl_json_int(w, "pid", 0);
	if (wpid > 0 && wpid != getpid() && fl_sup_alive(wpid))
		kill(wpid, SIGTERM); /* the lease ends with the system */
	json_t *services = json_object_get(t, "services"), *proxy = json_object_get(t, "proxy");
	terminate_all(t);
	int64_t deadline = fl_mono_ns() + (int64_t)(wait_ms > 0 ? wait_ms : 20000) * 1000000;
	json_t *rep = json_object(), *svc = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(services, k, v) {
		if (json_object_get(v, "attach"))
			json_object_set_new(svc, k,
					    json_pack("{s:s, s:s}", "service", k, "status",
						      "attached (not started)"));
		else
			json_object_set_new(svc, k, fl_sup_wait_exit(k, v, deadline));
	}
	json_object_set_new(rep, "services", svc);
	if (json_is_object(proxy)) {
		pid_t pid = (pid_t)fl_json_int(proxy, "pid", 0);
		if (fl_sup_alive(pid))
			kill(pid, SIGTERM);
		json_object_set_new(rep, "proxy",
				    fl_sup_wait_exit("proxy", proxy, fl_mono_ns() + 5000000000LL));
	}
	json_t *net = json_object_get(t, "netns");
	if (json_is_object(net))
		json_object_set_new(rep, "agents", fl_hosts_down(net, 5000));
	char path[PATH_MAX], moved[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	snprintf(moved, sizeof(moved), "%s/topology.down.json", data);
	rename(path, moved);
	json_decref(t);
	return rep;
}
