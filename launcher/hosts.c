/* The hosts of a system started with --netns: a namespace and address per
 * started service (netns.c makes them), an agent per host serving host
 * faults inside it (`faultline agent` on ADDR:8474 behind a token), and
 * their teardown. */
#include "launcher/launcher_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"

#define AGENT_PORT 8474

int fl_hosts_create(const json_t *services, json_t *states, json_t **net, char *err, size_t errlen)
{
	json_t *names = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s)
		if (!json_object_get(s, "attach"))
			json_array_append_new(names, json_string(fl_json_str(s, "name", "")));
	int rc = fl_netns_create(names, net, err, errlen);
	json_decref(names);
	if (rc)
		return rc;
	const char *k;
	json_t *h;
	json_object_foreach(json_object_get(*net, "hosts"), k, h) {
		json_t *st = json_object_get(states, k);
		if (!st)
			json_object_set_new(states, k, st = json_object());
		json_object_set_new(st, "host", json_string(fl_json_str(h, "addr", "")));
		json_object_set_new(st, "netns", json_string(fl_json_str(h, "ns", "")));
	}
	return 0;
}

/* 32 random hex digits from the kernel, into out (33 bytes). */
static int random_token(char *out, char *err, size_t errlen)
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, b, sizeof(b)) : -1;
	if (fd >= 0)
		close(fd);
	if (k != (ssize_t)sizeof(b))
		return fl_err_set(err, errlen, FL_EIO, "no random bytes for the agents' token");
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int write_token(const char *path, char *err, size_t errlen)
{
	char tok[33];
	int rc = random_token(tok, err, errlen);
	if (rc)
		return rc;
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", tok) < 0)
		rc = fl_err_set(err, errlen, FL_EIO, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int fl_hosts_start_agents(const char *faultline, const char *data, json_t *net, char *err,
			  size_t errlen)
{
	char tokf[PATH_MAX + 32], state[PATH_MAX + 32];
	snprintf(tokf, sizeof(tokf), "%s/run/agent.token", data);
	snprintf(state, sizeof(state), "%s/run/agents", data);
	fl_sup_mkdirs(state);
	int rc = write_token(tokf, err, errlen);
	if (rc)
		return rc;
	json_object_set_new(net, "token_file", json_string(tokf));
	const char *k;
	json_t *h;
	json_object_foreach(json_object_get(net, "hosts"), k, h) {
		char listen[64], log[PATH_MAX + 64], exitf[PATH_MAX + 64], line[512];
		snprintf(listen, sizeof(listen), "%s:%d", fl_json_str(h, "addr", ""), AGENT_PORT);
		snprintf(log, sizeof(log), "%s/logs/agent-%s.log", data, k);
		snprintf(exitf, sizeof(exitf), "%s/run/agent-%s.exit", data, k);
		char *argv[] = { (char *)faultline,
				 "agent",
				 "--listen",
				 listen,
				 "--token-file",
				 tokf,
				 "--state-dir",
				 state,
				 "--allow-upstream",
				 (char *)fl_json_str(net, "subnet", ""),
				 NULL };
		struct fl_spawn sp = { .argv = argv,
				       .log = log,
				       .exit_file = exitf,
				       .marker = "listening on",
				       .timeout_ms = 10000,
				       .netns = fl_json_str(h, "ns", NULL) };
		pid_t pid;
		if ((rc = fl_sup_spawn(&sp, &pid, line, sizeof(line), err, errlen)))
			return fl_err_set(err, errlen, rc, "agent of host '%s': %s", k, err);
		char url[96];
		snprintf(url, sizeof(url), "http://%s", listen);
		json_object_set_new(h, "agent",
				    json_pack("{s:s, s:i, s:s, s:s}", "url", url, "pid", (int)pid,
					      "log", log, "exit_file", exitf));
	}
	return 0;
}

json_t *fl_hosts_down(json_t *net, long wait_ms)
{
	json_t *rep = json_object();
	const char *k;
	json_t *h;
	json_object_foreach(json_object_get(net, "hosts"), k, h) {
		pid_t pid = (pid_t)fl_json_int(json_object_get(h, "agent"), "pid", 0);
		if (fl_sup_alive(pid))
			kill(pid, SIGTERM);
	}
	int64_t deadline = fl_mono_ns() + (int64_t)wait_ms * 1000000;
	json_object_foreach(json_object_get(net, "hosts"), k, h) {
		json_t *a = json_object_get(h, "agent");
		if (!json_is_object(a))
			continue;
		json_t *x = fl_sup_wait_exit(k, a, deadline);
		if (strcmp(fl_json_str(x, "status", ""), "still running") == 0)
			kill((pid_t)fl_json_int(a, "pid", 0), SIGKILL);
		json_object_set_new(rep, k, x);
	}
	fl_netns_destroy(net);
	return rep;
}

/* GET URL/healthz with the agents' token: 2xx? */
static bool agent_answers(const char *url, const char *token)
{
	char u[160], auth[128];
	snprintf(u, sizeof(u), "%s/healthz", url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	const char *hdrs[] = { auth };
	struct fl_http_request req = { .url = u,
				       .headers = hdrs,
				       .nheaders = 1,
				       .timeout_ms = 1000,
				       .connect_timeout_ms = 500 };
	struct fl_http_response *r = NULL;
	bool ok =
		fl_http_fetch(&req, &r) == 0 && r && !r->err && r->status >= 200 && r->status < 300;
	fl_http_response_free(r);
	return ok;
}

void fl_hosts_status(json_t *net)
{
	char token[128] = "";
	FILE *f = fopen(fl_json_str(net, "token_file", ""), "r");
	if (f) {
		if (!fgets(token, sizeof(token), f))
			token[0] = 0;
		token[strcspn(token, "\r\n")] = 0;
		fclose(f);
	}
	const char *k;
	json_t *h;
	json_object_foreach(json_object_get(net, "hosts"), k, h) {
		json_t *a = json_object_get(h, "agent");
		if (!json_is_object(a))
			continue;
		pid_t pid = (pid_t)fl_json_int(a, "pid", 0);
		bool alive = fl_sup_alive(pid);
		bool answering = alive && agent_answers(fl_json_str(a, "url", ""), token);
		json_object_set_new(a, "alive", json_boolean(alive));
		json_object_set_new(a, "state",
				    json_string(!alive	    ? "down"
						: answering ? "ready"
							    : "not answering"));
		json_t *x = alive ? NULL : fl_sup_exit_record(fl_json_str(a, "exit_file", ""), pid);
		if (x)
			json_object_set_new(a, "last_exit", x);
	}
}
