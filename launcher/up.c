/* Any system under test: start a topology model (services, their edges
 * through fault-injector links, readiness in dependency order), record it
 * in DATA/topology.json, signal, restart, inspect and stop it. */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/proc.h"

const char *fl_launcher_default_data(const char *name, char *buf, size_t n)
{
	const char *e = getenv("FL_UP_DATA");
	if (e && *e)
		snprintf(buf, n, "%s", e);
	else
		snprintf(buf, n, "/tmp/faultline-up-%u/%s", (unsigned)getuid(), name);
	return buf;
}

/* A free loopback port, from the OS. The bound socket is kept in *fd until
 * the service is about to start, so the fault injector's own ports (taken
 * meanwhile) cannot be the same. */
static int free_port(int *fd, char *err, size_t errlen)
{
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int port = -1;
	if (*fd >= 0 && bind(*fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(*fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (port < 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return fl_err_set(err, errlen, FL_EIO, "no free port: %s", strerror(errno));
	}
	return port;
}

/* Let the service have its port: close the socket holding it. */
static void release_port(json_t *st)
{
	json_t *fd = json_object_get(st, "reserved_fd");
	if (json_is_integer(fd))
		close((int)json_integer_value(fd));
	json_object_del(st, "reserved_fd");
}

/* Each service's address: a port from the OS, or the attached URL's. */
static int assign_addresses(const json_t *services, json_t *states, char *err, size_t errlen)
{
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s) {
		const char *name = fl_json_str(s, "name", "");
		const char *attach = fl_json_str(s, "attach", NULL);
		char host[128], addr[160], url[300];
		int port;
		if (attach) {
			const char *hp = strstr(attach, "://") + 3;
			char hostport[160];
			snprintf(hostport, sizeof(hostport), "%.*s", (int)strcspn(hp, "/"), hp);
			if (!strchr(hostport, ':'))
				snprintf(hostport + strlen(hostport),
					 sizeof(hostport) - strlen(hostport), ":%d",
					 strncmp(attach, "https", 5) == 0 ? 443 : 80);
			if (fl_addr_split(hostport, host, sizeof(host), &port) != 0)
				return fl_err_set(err, errlen, FL_EINVAL,
						  "service '%s': bad attach URL '%s'", name,
						  attach);
			snprintf(url, sizeof(url), "%.*s",
				 (int)(strlen(attach) - (attach[strlen(attach) - 1] == '/')),
				 attach);
		} else {
			int fd;
			if ((port = free_port(&fd, err, errlen)) < 0)
				return port;
			json_t *st = json_object_get(states, name);
			if (!st)
				json_object_set_new(states, name, st = json_object());
			json_object_set_new(st, "reserved_fd", json_integer(fd));
			/* its host's address under --netns, else loopback */
			snprintf(host, sizeof(host), "%s", fl_json_str(st, "host", "127.0.0.1"));
			snprintf(url, sizeof(url), "http://%s:%d", host, port);
		}
		snprintf(addr, sizeof(addr), "%s:%d", host, port);
		json_t *st = json_object_get(states, name);
		if (!st) {
			st = json_object();
			json_object_set_new(states, name, st);
		}
		json_t *fields = json_pack("{s:s, s:s, s:s, s:i, s:s}", "name", name, "url", url,
					   "addr", addr, "port", port, "host", host);
		json_object_update(st, fields);
		json_decref(fields);
		if (attach)
			json_object_set_new(json_object_get(states, name), "attach",
					    json_string(attach));
	}
	return 0;
}

/* Expand every placeholder of service s into its state: argv, env, dir,
 * ready. With links NULL only checks (nothing is started yet). */
static int expand_service(struct fl_expand_ctx *c, const json_t *s, json_t *st, char *err,
			  size_t errlen)
{
	char buf[4096], where[64];
	int rc;
	json_t *argv = json_array(), *env = json_object(), *ready = json_object();
	if ((rc = fl_launcher_expand(fl_json_str(s, "command", ""), c, "command", buf, sizeof(buf),
				     err, errlen)))
		goto out;
	json_array_append_new(argv, json_string(buf));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s, "args"), i, v) {
		snprintf(where, sizeof(where), "args[%zu]", i + 1);
		char num[64];
		const char *in =
			json_is_string(v)
				? json_string_value(v)
				: (snprintf(num, sizeof(num), "%g", json_number_value(v)), num);
		if ((rc = fl_launcher_expand(in, c, where, buf, sizeof(buf), err, errlen)))
			goto out;
		json_array_append_new(argv, json_string(buf));
	}
	const char *k;
	json_object_foreach(json_object_get(s, "env"), k, v) {
		snprintf(where, sizeof(where), "env.%.50s", k);
		char num[64];
		const char *in =
			json_is_string(v) ? json_string_value(v)
			: json_is_boolean(v)
				? (json_is_true(v) ? "true" : "false")
				: (snprintf(num, sizeof(num), "%g", json_number_value(v)), num);
		if ((rc = fl_launcher_expand(in, c, where, buf, sizeof(buf), err, errlen)))
			goto out;
		json_object_set_new(env, k, json_string(buf));
	}
	json_array_foreach(json_object_get(s, "calls"), i, v) {
		char ename[48], lname[128];
		fl_launcher_env_name(json_string_value(v), ename, sizeof(ename));
		snprintf(where, sizeof(where), "FL_LINK_%.48s", ename);
		snprintf(lname, sizeof(lname), "{link:%s}", json_string_value(v));
		if ((rc = fl_launcher_expand(lname, c, where, buf, sizeof(buf), err, errlen)))
			goto out;
		json_object_set_new(env, where, json_string(buf));
	}
	json_object_set_new(env, "FL_SERVICE", json_string(fl_json_str(s, "name", "")));
	if (c->seed)
		json_object_set_new(env, "FL_SEED", json_string(c->seed));
	snprintf(buf, sizeof(buf), "%lld", (long long)fl_json_int(st, "port", 0));
	json_object_set_new(env, "FL_PORT", json_string(buf));
	if ((rc = fl_launcher_expand(fl_json_str(s, "dir", "{dir}"), c, "dir", buf, sizeof(buf),
				     err, errlen)))
		goto out;
	json_object_set_new(st, "dir", json_string(buf));
	json_t *r = json_object_get(s, "ready");
	if (json_is_string(json_object_get(r, "http"))) {
		if ((rc = fl_launcher_expand(fl_json_str(r, "http", ""), c, "ready.http", buf,
					     sizeof(buf), err, errlen)))
			goto out;
		json_object_set_new(ready, "http", json_string(buf));
	} else if (json_is_array(json_object_get(r, "cmd"))) {
		json_t *cmd = json_array();
		json_array_foreach(json_object_get(r, "cmd"), i, v) {
			if ((rc = fl_launcher_expand(json_string_value(v), c, "ready.cmd", buf,
						     sizeof(buf), err, errlen))) {
				json_decref(cmd);
				goto out;
			}
			json_array_append_new(cmd, json_string(buf));
		}
		json_object_set_new(ready, "cmd", cmd);
	} else
		json_object_set_new(ready, "tcp", json_true());
	json_object_set(st, "argv", argv);
	json_object_set(st, "env", env);
	json_object_set(st, "ready", ready);
	json_object_set_new(st, "timeout", json_real(fl_json_num(s, "timeout", 10)));
	json_t *calls = json_object_get(s, "calls");
	json_object_set_new(st, "calls", json_is_array(calls) ? json_incref(calls) : json_array());
out:
	json_decref(argv);
	json_decref(env);
	json_decref(ready);
	return rc;
}

static void stop_all(json_t *states, json_t *proxy)
{
	const char *k;
	json_t *v;
	json_object_foreach(states, k, v) {
		release_port(v);
		pid_t pid = (pid_t)fl_json_int(v, "pid", 0);
		if (pid > 0)
			kill(pid, SIGKILL);
	}
	if (json_is_object(proxy) && fl_json_int(proxy, "pid", 0) > 0)
		kill((pid_t)fl_json_int(proxy, "pid", 0), SIGKILL);
	/* until their reapers recorded the exits: nothing is left behind */
	int64_t deadline = fl_mono_ns() + 3000000000LL;
	json_object_foreach(states, k, v)
		if (fl_json_int(v, "pid", 0) > 0)
			json_decref(fl_sup_wait_exit(k, v, deadline));
}

/* Create the link of every edge (calls), upstream the callee's address,
 * listening on host (the bridge's address under --netns; NULL: loopback). */
static int create_links(const json_t *services, json_t *states, const char *api, const char *host,
			json_t *links, char *err, size_t errlen)
{
	size_t i, j;
	json_t *s, *v;
	json_array_foreach(services, i, s) {
		json_array_foreach(json_object_get(s, "calls"), j, v) {
			const char *from = fl_json_str(s, "name", ""), *to = json_string_value(v);
			char lname[128], listen[128];
			snprintf(lname, sizeof(lname), "%s->%s", from, to);
			const char *up = fl_json_str(json_object_get(states, to), "addr", "");
			int rc = fl_links_create(api, lname, host, up, listen, sizeof(listen), err,
						 errlen);
			if (rc)
				return rc;
			json_object_set_new(links, lname,
					    json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", lname,
						      "from", from, "to", to, "listen", listen,
						      "upstream", up));
		}
	}
	return 0;
}

static int start_one(const char *data, json_t *st, char *err, size_t errlen)
{
	const char *name = fl_json_str(st, "name", "");
	char log[PATH_MAX + 64], exitf[PATH_MAX + 64];
	snprintf(log, sizeof(log), "%s/logs/%s.log", data, name);
	snprintf(exitf, sizeof(exitf), "%s/run/%s.exit", data, name);
	json_object_set_new(st, "log", json_string(log));
	json_object_set_new(st, "exit_file", json_string(exitf));
	char *argv[256];
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(json_object_get(st, "argv"), i, v)
		if (n < 255)
			argv[n++] = (char *)json_string_value(v);
	argv[n] = NULL;
	struct fl_spawn sp = { .argv = argv,
			       .dir = fl_json_str(st, "dir", NULL),
			       .env = json_object_get(st, "env"),
			       .log = log,
			       .exit_file = exitf,
			       .netns = fl_json_str(st, "netns", NULL) };
	pid_t pid;
	release_port(st);
	int rc = fl_sup_spawn(&sp, &pid, NULL, 0, err, errlen);
	if (rc == 0)
		json_object_set_new(st, "pid", json_integer(pid));
	return rc;
}

/* Start the layers in order; each layer's services start together and are
 * all ready before the next layer starts. */
static int start_layers(const char *data, const json_t *layers, json_t *states, char *err,
			size_t errlen)
{
	size_t l, i;
	json_t *layer, *v;
	json_array_foreach(layers, l, layer) {
		json_array_foreach(layer, i, v) {
			json_t *st = json_object_get(states, json_string_value(v));
			if (json_object_get(st, "attach"))
				continue;
			int rc = start_one(data, st, err, errlen);
			if (rc)
				return fl_err_set(err, errlen, rc, "service '%s': %s",
						  json_string_value(v), err);
		}
		json_array_foreach(layer, i, v) {
			json_t *st = json_object_get(states, json_string_value(v));
			if (json_object_get(st, "attach"))
				continue;
			int64_t deadline =
				fl_mono_ns() + (int64_t)(fl_json_num(st, "timeout", 10) * 1e9);
			int rc = fl_launcher_wait_ready(json_string_value(v), st, deadline, err,
							errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int check_not_running(const char *data, char *err, size_t errlen)
{
	json_t *old = fl_launcher_load(data, NULL, 0);
	if (!old)
		return 0;
	bool running = false;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(old, "services"), k, v)
		running |= fl_sup_alive((pid_t)fl_json_int(v, "pid", 0));
	json_decref(old);
	if (running)
		return fl_err_set(err, errlen, FL_EEXIST,
				  "a system is already running in %s ('faultline down --data %s' "
				  "first)",
				  data, data);
	return 0;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return true;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

static int prepare_data(const struct fl_up_opts *o, char *data, char *err, size_t errlen)
{
	if (fl_sup_mkdirs(o->data) != 0 || !realpath(o->data, data))
		return fl_err_set(err, errlen, FL_EIO, "cannot create data directory %s: %s",
				  o->data, strerror(errno));
	int rc = check_not_running(data, err, errlen);
	if (rc)
		return rc;
	char sub[PATH_MAX + 16];
	snprintf(sub, sizeof(sub), "%s/run", data);
	if (o->fresh && access(sub, F_OK) != 0 && !dir_empty(data))
		return fl_err_set(err, errlen, FL_EEXIST,
				  "--fresh: %s is not empty and was not made by faultline up (no "
				  "run/); refusing to empty it",
				  data);
	if (o->fresh) {
		/* everything but the directory itself */
		if (fl_sup_rmtree(data) != 0 || fl_sup_mkdirs(data) != 0)
			return fl_err_set(err, errlen, FL_EIO, "cannot empty %s: %s", data,
					  strerror(errno));
	}
	snprintf(sub, sizeof(sub), "%s/logs", data);
	fl_sup_mkdirs(sub);
	snprintf(sub, sizeof(sub), "%s/run", data);
	fl_sup_mkdirs(sub);
	return 0;
}

/* --netns: the hosts and their agents into *net; when that cannot be done,
 * why into *fallback and the system runs on loopback. */
static void make_hosts(const json_t *services, const struct fl_up_opts *o, const char *data,
		       json_t *states, json_t **net, json_t **fallback)
{
	char why[1024];
	int rc = fl_hosts_create(services, states, net, why, sizeof(why));
	if (!rc && o->faultline &&
	    (rc = fl_hosts_start_agents(o->faultline, data, *net, why, sizeof(why)))) {
		json_decref(fl_hosts_down(*net, 2000));
		json_decref(*net);
		*net = json_null();
		const char *k;
		json_t *v;
		json_object_foreach(states, k, v) {
			json_object_del(v, "host");
			json_object_del(v, "netns");
		}
	}
	if (rc) {
		*net = json_null();
		*fallback = json_string(why);
		return;
	}
	/* the owners the orphan sweep asks about (netns_sweep.c) */
	fl_netns_record_set(*net, "data", json_string(data));
	fl_netns_record_set(*net, "keep", json_boolean(o->keep || o->driver <= 0));
	if (!o->keep && o->driver > 0)
		fl_netns_record_set(*net, "driver",
				    json_pack("{s:i, s:I}", "pid", (int)o->driver, "start",
					      (json_int_t)fl_proc_start_time(o->driver)));
}

/* Hosts (--netns), addresses, placeholder check, then start: proxy, links,
 * services. */
static int launch(const json_t *model, const struct fl_up_opts *o, const char *data, json_t *states,
		  json_t *links, json_t **proxy, json_t **net, json_t **fallback, json_t **swept,
		  char *err, size_t errlen)
{
	const json_t *services = json_object_get(model, "services");
	json_t *layers = fl_launcher_model_layers(model, err, errlen);
	if (!layers)
		return FL_EINVAL;
	if (o->netns) {
		/* hosts of systems nothing can stop any more go first */
		json_t *sw = geteuid() == 0 ? fl_launcher_sweep(NULL, 0) : NULL;
		if (json_array_size(json_object_get(sw, "swept")))
			*swept = json_incref(json_object_get(sw, "swept"));
		json_decref(sw);
		make_hosts(services, o, data, states, net, fallback);
	}
	const char *gw = fl_json_str(*net, "gateway", NULL);
	int rc = assign_addresses(services, states, err, errlen);
	struct fl_expand_ctx c = { .file = fl_json_str(model, "file", "topology"),
				   .data = data,
				   .dir = fl_json_str(model, "dir", "."),
				   .services = services,
				   .states = states,
				   .seed = o->seed };
	size_t i;
	json_t *s;
	bool edges = false;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		c.links = pass ? links : NULL;
		if (pass == 1 && edges) {
			if (!o->faultline) {
				rc = fl_err_set(err, errlen, FL_ESTATE,
						"%s: calls need fault-injector links and "
						"`faultline proxy` is not available",
						c.file);
				break;
			}
			if ((rc = fl_links_start_proxy(o->faultline, data, o->seed, gw, 10000,
						       proxy, err, errlen)) ||
			    (rc = create_links(services, states, fl_json_str(*proxy, "api", ""), gw,
					       links, err, errlen)))
				break;
		}
		json_array_foreach(services, i, s) {
			edges |= json_array_size(json_object_get(s, "calls")) > 0;
			if (json_object_get(s, "attach"))
				continue;
			c.service = s;
			c.state = json_object_get(states, fl_json_str(s, "name", ""));
			if ((rc = expand_service(&c, s, (json_t *)c.state, err, errlen)))
				break;
		}
	}
	if (!rc)
		rc = start_layers(data, layers, states, err, errlen);
	json_decref(layers);
	return rc;
}

int fl_launcher_up(const json_t *model, const struct fl_up_opts *o, json_t **state, char *err,
		   size_t errlen)
{
	int64_t t0 = fl_mono_ns();
	char data[PATH_MAX];
	int rc = fl_launcher_model_check(model, err, errlen);
	if (rc || (rc = prepare_data(o, data, err, errlen)))
		return rc;
	json_t *states = json_object(), *links = json_object(), *proxy = json_null();
	json_t *net = json_null(), *fallback = json_null(), *swept = NULL;
	rc = launch(model, o, data, states, links, &proxy, &net, &fallback, &swept, err, errlen);
	if (rc) {
		json_decref(swept);
		stop_all(states, proxy);
		if (json_is_object(net))
			json_decref(fl_hosts_down(net, 2000));
		json_decref(net);
		json_decref(fallback);
		json_decref(states);
		json_decref(links);
		json_decref(proxy);
		return rc;
	}
	json_t *order = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(model, "services"), i, s)
		json_array_append_new(order, json_string(fl_json_str(s, "name", "")));
	json_t *layers = fl_launcher_model_layers(model, NULL, 0);
	char ts[40];
	json_t *t = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:b, s:o, s:o, s:o, s:o}",
			      "version", 1, "name", fl_json_str(model, "name", "system"), "file",
			      fl_json_str(model, "file", ""), "dir", fl_json_str(model, "dir", ""),
			      "data", data, "started", fl_wall_iso(fl_wall_ns(), ts, sizeof(ts)),
			      "startup_ms", (json_int_t)((fl_mono_ns() - t0) / 1000000), "proxy",
			      proxy, "direct", 0, "links", links, "services", states, "order",
			      order, "layers", layers);
	json_object_set_new(t, "warden", json_null());
	json_object_set_new(t, "netns", net);
	if (!json_is_null(fallback))
		json_object_set_new(t, "netns_fallback", fallback);
	else
		json_decref(fallback);
	if (swept)
		json_object_set_new(t, "netns_swept", swept);
	if ((rc = fl_sup_write_state(data, t, err, errlen)))
		goto fail;
	if (!o->keep && o->driver > 0) {
		pid_t w;
		long lease = o->lease_ms > 0 ? o->lease_ms : 10000;
		if ((rc = fl_warden_start(data, o->driver, lease, &w, err, errlen)))
			goto fail;
		json_object_set_new(t, "warden",
				    json_pack("{s:i, s:i, s:I}", "pid", (int)w, "driver",
					      (int)o->driver, "lease_ms", (json_int_t)lease));
		if (json_is_object(net))
			fl_netns_record_set(net, "warden",
					    json_pack("{s:i, s:I}", "pid", (int)w, "start",
						      (json_int_t)fl_proc_start_time(w)));
		if ((rc = fl_sup_write_state(data, t, err, errlen)))
			goto fail;
	}
	*state = t;
	return 0;
fail:
	stop_all(json_object_get(t, "services"), json_object_get(t, "proxy"));
	if (json_is_object(json_object_get(t, "netns")))
		json_decref(fl_hosts_down(json_object_get(t, "netns"), 2000));
	if (json_is_object(json_object_get(t, "warden")))
		kill((pid_t)fl_json_int(json_object_get(t, "warden"), "pid", 0), SIGKILL);
	json_decref(t);
	return rc;
}
