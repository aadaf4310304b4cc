/* Launcher of the reference topology (see ref.h). Every process is started
 * through a small reaper (double fork, own session) that records how it
 * exited in DATA/run/NAME.exit, so `ref down` can report exit statuses of
 * processes that are not its children. */
#include "launcher/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
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

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Remove DATA's service directories, logs and exit records (not DATA itself). */
static int wipe(const char *data)
{
	char p[PATH_MAX + 64];
	int rc = 0;
	for (int i = 0; fl_ref_services[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", data, fl_ref_services[i]);
		if (access(p, F_OK) == 0 && nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
			rc = -1;
	}
	static const char *const sub[] = { "logs", "run", NULL };
	for (int i = 0; sub[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", data, sub[i]);
		if (access(p, F_OK) == 0 && nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
			rc = -1;
	}
	return rc;
}

struct proc {
	pid_t pid;
	char line[512];	/* the first line the program printed */
};

/* Scan the new part of log (from *off) for a whole line containing marker;
 * copies it into line. True when found. */
static bool scan_log(const char *log, off_t *off, const char *marker, char *line, size_t n)
{
	int fd = open(log, O_RDONLY);
	if (fd < 0)
		return false;
	bool found = false;
	char buf[8192];
	ssize_t k = pread(fd, buf, sizeof(buf) - 1, *off);
	close(fd);
	if (k <= 0)
		return false;
	buf[k] = 0;
	char *p = buf, *nl;
	while ((nl = memchr(p, '\n', (size_t)(buf + k - p)))) {
		*nl = 0;
		if (strstr(p, marker)) {
			snprintf(line, n, "%.500s", p);
			found = true;
		}
		*off += (off_t)(nl - p) + 1;
		p = nl + 1;
		if (found)
			break;
	}
	if (!found && p == buf && k == (ssize_t)sizeof(buf) - 1)
		*off += k;	/* one overlong line: skip it */
	return found;
}

/* The pid in an exit record (-1 when there is none yet). A previous
 * process's reaper may still write its record after ours was started. */
static pid_t exit_pid(const char *exit_file)
{
	json_t *x = json_load_file(exit_file, 0, NULL);
	pid_t pid = x ? (pid_t)fl_json_int(x, "pid", -1) : -1;
	json_decref(x);
	return pid;
}

/* Start argv detached (through a reaper): stdin from /dev/null, stdout and
 * stderr appended to log, so nothing keeps the launcher's stdio open. The
 * reaper reports the pid through a pipe; the announcement (a line containing
 * `marker`) is read from what the program appends to log. */
static int spawn(char *const argv[], const char *log, const char *exit_file, const char *marker,
		 long timeout_ms, struct proc *out, char *err, size_t errlen)
{
	struct stat lst;
	off_t off = stat(log, &lst) == 0 ? lst.st_size : 0;
	int pfd[2];
	if (pipe(pfd) != 0)
		return fl_err_set(err, errlen, FL_EIO, "pipe: %s", strerror(errno));
	unlink(exit_file);
	pid_t a = fork();
	if (a < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fl_err_set(err, errlen, FL_EIO, "fork: %s", strerror(errno));
	}
	if (a == 0) {
		/* intermediate: make the reaper and leave */
		close(pfd[0]);
		if (setsid() < 0)
			_exit(1);
		pid_t r = fork();
		if (r != 0)
			_exit(r < 0 ? 1 : 0);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nul = open("/dev/null", O_RDWR);
		/* the reaper keeps nothing of the launcher: not even its stdio */
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		pid_t c = fork();
		if (c == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGPIPE, SIG_DFL);
			int o = logfd >= 0 ? logfd : nul;
			dup2(o, 1);
			dup2(o, 2);
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
			execv(argv[0], argv);
			dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		for (int fd = 3; fd < 1024; fd++)
			if (fd != pfd[1])
				close(fd);
		dprintf(pfd[1], "faultline-ref: pid %d\n", (int)c);
		close(pfd[1]);
		int st = 0;
		while (c > 0 && waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", exit_file);
		FILE *f = fopen(tmp, "w");
		if (f) {
			if (c < 0)
				fprintf(f, "{\"pid\":null,\"exit\":null,\"signal\":null,\"error\":\"fork failed\"}\n");
			else if (WIFEXITED(st))
				fprintf(f, "{\"pid\":%d,\"exit\":%d,\"signal\":null}\n", (int)c, WEXITSTATUS(st));
			else
				fprintf(f, "{\"pid\":%d,\"exit\":null,\"signal\":\"%s\",\"signo\":%d}\n", (int)c,
					sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?",
					WTERMSIG(st));
			fclose(f);
			rename(tmp, exit_file);
		}
		_exit(0);
	}
	close(pfd[1]);
	int st;
	waitpid(a, &st, 0);
	int64_t deadline = fl_mono_ns() + (int64_t)timeout_ms * 1000000;
	out->pid = -1;
	out->line[0] = 0;
	int rc = 0;
	/* the pid, from the reaper (which closes the pipe right after) */
	char buf[256];
	size_t len = 0;
	while (out->pid < 0) {
		int left = (int)((deadline - fl_mono_ns()) / 1000000);
		if (left <= 0)
			break;
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int n = poll(&p, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		ssize_t k = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (k <= 0)
			break;
		len += (size_t)k;
		buf[len] = 0;
		int pid;
		if (strchr(buf, '\n') && sscanf(buf, "faultline-ref: pid %d", &pid) == 1 && pid > 0)
			out->pid = pid;
		else if (len >= sizeof(buf) - 1)
			break;
	}
	close(pfd[0]);
	if (out->pid < 0)
		return fl_err_set(err, errlen, FL_EIO, "%s: the reaper did not report a pid", argv[0]);
	/* the announcement, from the log */
	for (;;) {
		if (scan_log(log, &off, marker, out->line, sizeof(out->line)))
			break;
		if (exit_pid(exit_file) == out->pid) {
			/* it may have announced just before exiting: one last look */
			if (!scan_log(log, &off, marker, out->line, sizeof(out->line)))
				rc = fl_err_set(err, errlen, FL_EIO, "%s exited before it was ready (log: %s)",
						argv[0], log);
			break;
		}
		if (fl_mono_ns() >= deadline) {
			rc = fl_err_set(err, errlen, FL_ETIMEDOUT, "%s did not announce itself within %ld ms (log: %s)",
					argv[0], timeout_ms, log);
			break;
		}
		fl_sleep_ns(2000000);
	}
	if (rc && out->pid > 0)
		kill(out->pid, SIGKILL);
	return rc;
}

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

/* The "HOST:PORT" after "listening on " in line, into out. */
static const char *addr_of(const char *line, char *out, size_t n)
{
	const char *p = strstr(line, "listening on ");
	if (!p)
		return NULL;
	p += strlen("listening on ");
	size_t k = strcspn(p, " \t\r\n");
	snprintf(out, n, "%.*s", (int)k, p);
	return out;
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

static int make_link(const char *api, const char *name, const char *upstream, char *listen,
		     size_t n, char *err, size_t errlen)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/proxies", api);
	json_t *body = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "listen", "127.0.0.1:0",
				 "upstream", upstream, "enabled", 1);
	struct fl_http_request req = { .method = "POST", .url = url, .json = body, .timeout_ms = 3000 };
	struct fl_http_response *resp = NULL;
	int rc = fl_http_fetch(&req, &resp);
	json_decref(body);
	if (rc == 0 && resp && !resp->err && resp->status == 201 && resp->json &&
	    fl_json_str(resp->json, "listen", NULL)) {
		snprintf(listen, n, "%s", fl_json_str(resp->json, "listen", ""));
		fl_http_response_free(resp);
		return 0;
	}
	rc = fl_err_set(err, errlen, FL_EPROTO, "creating link %s at %s failed: %s", name, api,
			resp ? (resp->err ? resp->errmsg : resp->body.data ? resp->body.data : "?") : "?");
	fl_http_response_free(resp);
	return rc;
}

static int write_topology(const char *data, json_t *t, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(t, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0)
		return fl_err_set(err, errlen, FL_EIO, "cannot write %s", path);
	return 0;
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

static bool alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
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
	struct proc p;
	int rc = spawn(store, log, exitf, "listening on", timeout_ms, &p, err, errlen);
	if (rc) {
		json_decref(argv);
		return rc;
	}
	char abuf[128];
	const char *addr = addr_of(p.line, abuf, sizeof(abuf));
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
	if (mkdirs(o->data) != 0 || !realpath(o->data, data))
		return fl_err_set(err, errlen, FL_EIO, "cannot create data directory %s: %s", o->data,
				  strerror(errno));
	json_t *old = fl_ref_load(data, NULL, 0);
	if (old) {
		json_t *svcs = json_object_get(old, "services");
		const char *k;
		json_t *v;
		bool running = false;
		json_object_foreach(svcs, k, v)
			running |= alive((pid_t)fl_json_int(v, "pid", 0));
		json_decref(old);
		if (running)
			return fl_err_set(err, errlen, FL_EEXIST,
					  "a reference system is already running in %s ('faultline ref down' first)", data);
	}
	if (o->fresh && wipe(data) != 0)
		return fl_err_set(err, errlen, FL_EIO, "cannot remove the old data in %s: %s", data,
				  strerror(errno));
	snprintf(sub, sizeof(sub), "%s/logs", data);
	mkdirs(sub);
	snprintf(sub, sizeof(sub), "%s/run", data);
	mkdirs(sub);
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
		char log[PATH_MAX + 64], exitf[PATH_MAX + 64];
		snprintf(log, sizeof(log), "%s/logs/proxy.log", data);
		snprintf(exitf, sizeof(exitf), "%s/run/proxy.exit", data);
		char *argv[] = { (char *)o->faultline, "proxy", "--listen", "127.0.0.1:0", NULL };
		struct proc p;
		rc = spawn(argv, log, exitf, "listening on", timeout, &p, err, errlen);
		if (rc)
			goto fail;
		char url[200], abuf[128];
		snprintf(url, sizeof(url), "http://%s", addr_of(p.line, abuf, sizeof(abuf)) ? abuf : "?");
		json_decref(proxy);
		proxy = json_pack("{s:s, s:i, s:s, s:s}", "api", url, "pid", (int)p.pid, "log", log,
				  "exit_file", exitf);
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
				rc = make_link(api, lname, fl_json_str(entry, "addr", ""), listen, sizeof(listen),
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
	rc = write_topology(data, t, err, errlen);
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

static json_t *read_exit(const char *path)
{
	return access(path, F_OK) == 0 ? json_load_file(path, 0, NULL) : NULL;
}

static json_t *wait_exit(const char *name, json_t *entry, int64_t deadline)
{
	pid_t pid = (pid_t)fl_json_int(entry, "pid", 0);
	const char *ef = fl_json_str(entry, "exit_file", "");
	json_t *x = NULL;
	for (;;) {
		x = read_exit(ef);
		if (x && fl_json_int(x, "pid", -1) == pid)
			break;
		json_decref(x);
		x = NULL;
		if (fl_mono_ns() >= deadline)
			break;
		fl_sleep_ns(5000000);
	}
	json_t *r = json_pack("{s:s, s:i}", "service", name, "pid", (int)pid);
	if (!x) {
		bool still = alive(pid);
		json_object_set_new(r, "exit", json_null());
		json_object_set_new(r, "signal", json_null());
		json_object_set_new(r, "status", json_string(still ? "still running" : "gone (no exit record)"));
		return r;
	}
	json_t *code = json_object_get(x, "exit"), *sig = json_object_get(x, "signal");
	json_object_set(r, "exit", code ? code : json_null());
	json_object_set(r, "signal", sig ? sig : json_null());
	char st[64];
	if (json_is_integer(code))
		snprintf(st, sizeof(st), "exited %lld", (long long)json_integer_value(code));
	else
		snprintf(st, sizeof(st), "killed by SIG%s", json_string_value(sig) ? json_string_value(sig) : "?");
	json_object_set_new(r, "status", json_string(st));
	json_decref(x);
	return r;
}

json_t *fl_ref_down(const char *data, long wait_ms, char *err, size_t errlen)
{
	json_t *t = fl_ref_load(data, err, errlen);
	if (!t)
		return NULL;
	json_t *services = json_object_get(t, "services"), *proxy = json_object_get(t, "proxy");
	const char *k;
	json_t *v;
	json_object_foreach(services, k, v) {
		pid_t pid = (pid_t)fl_json_int(v, "pid", 0);
		if (alive(pid)) {
			kill(pid, SIGTERM);
			kill(pid, SIGCONT);
		}
	}
	int64_t deadline = fl_mono_ns() + (int64_t)(wait_ms > 0 ? wait_ms : 20000) * 1000000;
	json_t *rep = json_object(), *svc = json_object();
	json_object_foreach(services, k, v)
		json_object_set_new(svc, k, wait_exit(k, v, deadline));
	json_object_set_new(rep, "services", svc);
	if (json_is_object(proxy)) {
		pid_t pid = (pid_t)fl_json_int(proxy, "pid", 0);
		if (alive(pid))
			kill(pid, SIGTERM);
		json_object_set_new(rep, "proxy", wait_exit("proxy", proxy, fl_mono_ns() + 5000000000LL));
	}
	char path[PATH_MAX], moved[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	snprintf(moved, sizeof(moved), "%s/topology.down.json", data);
	rename(path, moved);
	json_decref(t);
	return rep;
}

int fl_ref_signal(const char *data, const char *service, int sig, char *err, size_t errlen)
{
	json_t *t = fl_ref_load(data, err, errlen);
	if (!t)
		return FL_ENOENT;
	json_t *e = strcmp(service, "proxy") == 0 ? json_object_get(t, "proxy")
						  : json_object_get(json_object_get(t, "services"), service);
	pid_t pid = (pid_t)fl_json_int(e, "pid", 0);
	json_decref(t);
	if (pid <= 0)
		return fl_err_set(err, errlen, FL_ENOENT, "no service '%s' in the topology", service);
	if (kill(pid, sig) != 0)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "kill %d: %s", (int)pid, strerror(errno));
	return 0;
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
	if (alive(old)) {
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
	struct proc p;
	rc = spawn(store, fl_json_str(e, "log", "/dev/null"), fl_json_str(e, "exit_file", "/dev/null"),
		   "listening on", 10000, &p, err, errlen);
	if (rc) {
		json_decref(argv);
		goto out;
	}
	json_object_set_new(e, "pid", json_integer(p.pid));
	json_object_set_new(e, "argv", argv);
	if (wait)
		rc = wait_probes(e, fl_mono_ns() + 15000000000LL, service, err, errlen);
	if (!rc)
		rc = write_topology(data, t, err, errlen);
out:
	json_decref(t);
	return rc;
}
