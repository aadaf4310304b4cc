/* Readiness of a started service: an HTTP path answering 2xx, a command
 * exiting 0, or a TCP port accepting, polled until its deadline. */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"

static bool http_ready(const json_t *st, const char *path)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", fl_json_str(st, "url", ""), path);
	struct fl_http_request req = { .url = url, .timeout_ms = 1000, .connect_timeout_ms = 500 };
	struct fl_http_response *r = NULL;
	bool ok =
		fl_http_fetch(&req, &r) == 0 && r && !r->err && r->status >= 200 && r->status < 300;
	fl_http_response_free(r);
	return ok;
}

static bool tcp_ready(const json_t *st)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)fl_json_int(st, "port", 0)) };
	if (inet_pton(AF_INET, fl_json_str(st, "host", "127.0.0.1"), &a.sin_addr) != 1)
		return false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Run the ready command (already expanded in st.ready.cmd) with the
 * service's environment and directory, in its host's network namespace
 * under --netns; exit 0 within 5 s is ready. */
static bool cmd_ready(const json_t *st, const json_t *cmd)
{
	char *argv[64];
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(cmd, i, v)
		if (n < 63)
			argv[n++] = (char *)json_string_value(v);
	argv[n] = NULL;
	if (!n)
		return false;
	pid_t c = fork();
	if (c < 0)
		return false;
	if (c == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		const char *k;
		json_t *e;
		json_object_foreach(json_object_get(st, "env"), k, e)
			setenv(k, json_string_value(e), 1);
		const char *dir = fl_json_str(st, "dir", NULL),
			   *ns = fl_json_str(st, "netns", NULL);
		if (ns && fl_netns_enter(ns) != 0)
			_exit(127);
		if (dir && chdir(dir) != 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	int64_t deadline = fl_mono_ns() + 5000000000LL;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(c, &status, WNOHANG);
		if (w == c)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (w < 0 && errno != EINTR)
			return false;
		if (fl_mono_ns() > deadline) {
			kill(c, SIGKILL);
			waitpid(c, &status, 0);
			return false;
		}
		fl_sleep_ns(5000000);
	}
}

bool fl_launcher_ready_once(const json_t *st)
{
	const json_t *r = json_object_get(st, "ready");
	if (json_is_string(json_object_get(r, "http")))
		return http_ready(st, json_string_value(json_object_get(r, "http")));
	if (json_is_array(json_object_get(r, "cmd")))
		return cmd_ready(st, json_object_get(r, "cmd"));
	return tcp_ready(st);
}

int fl_launcher_wait_ready(const char *name, const json_t *st, int64_t deadline, char *err,
			   size_t errlen)
{
	pid_t pid = (pid_t)fl_json_int(st, "pid", 0);
	const char *log = fl_json_str(st, "log", "");
	const char *why = NULL;
	char status[96] = "";
	for (int n = 0;; n++) {
		json_t *x = fl_sup_exit_record(fl_json_str(st, "exit_file", ""), pid);
		if (x) {
			json_t *code = json_object_get(x, "exit");
			if (json_is_integer(code))
				snprintf(status, sizeof(status), "exited %lld",
					 (long long)json_integer_value(code));
			else
				snprintf(status, sizeof(status), "killed by SIG%s",
					 fl_json_str(x, "signal", "?"));
			json_decref(x);
			why = status;
			break;
		}
		if (fl_launcher_ready_once(st))
			return 0;
		if (fl_mono_ns() >= deadline) {
			why = "still running";
			break;
		}
		fl_sleep_ns(n < 40 ? 5000000 : 20000000); /* most start within 200 ms */
	}
	char tail[2048];
	fl_sup_log_tail(log, 10, tail, sizeof(tail));
	const json_t *r = json_object_get(st, "ready");
	char what[300];
	if (json_is_string(json_object_get(r, "http")))
		snprintf(what, sizeof(what), "GET %s%s did not answer 2xx",
			 fl_json_str(st, "url", ""), json_string_value(json_object_get(r, "http")));
	else if (json_object_get(r, "cmd"))
		snprintf(what, sizeof(what), "its ready command did not exit 0");
	else
		snprintf(what, sizeof(what), "port %lld did not accept",
			 (long long)fl_json_int(st, "port", 0));
	return fl_err_set(err, errlen, FL_ETIMEDOUT,
			  "service '%s' is not ready: %s (%s, timeout %.3g s); last lines of "
			  "%s:\n%s",
			  name, what, why, fl_json_num(st, "timeout", 10), log,
			  *tail ? tail : "  (empty)\n");
}
