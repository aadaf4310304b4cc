/* Supervision: every process is started through a small reaper (double
 * fork, own session) that records how it exited in an exit record, so a
 * later command can report exit statuses of processes that are not its
 * children. Logs go to one file per process. */
#include "launcher/launcher_int.h"

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
#include "core/json.h"

int fl_sup_mkdirs(const char *path)
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

int fl_sup_rmtree(const char *path)
{
	if (access(path, F_OK) != 0)
		return 0;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

bool fl_sup_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

json_t *fl_sup_exit_record(const char *path, pid_t pid)
{
	json_t *x = access(path, F_OK) == 0 ? json_load_file(path, 0, NULL) : NULL;
	if (x && pid > 0 && fl_json_int(x, "pid", -1) != pid) {
		json_decref(x);
		return NULL;
	}
	return x;
}

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
		*off += k; /* one overlong line: skip it */
	return found;
}

static void write_exit_record(const char *exit_file, pid_t c, int st)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", exit_file);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	if (c < 0)
		fprintf(f,
			"{\"pid\":null,\"exit\":null,\"signal\":null,\"error\":\"fork failed\"}\n");
	else if (WIFEXITED(st))
		fprintf(f, "{\"pid\":%d,\"exit\":%d,\"signal\":null}\n", (int)c, WEXITSTATUS(st));
	else
		fprintf(f, "{\"pid\":%d,\"exit\":null,\"signal\":\"%s\",\"signo\":%d}\n", (int)c,
			sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?",
			WTERMSIG(st));
	fclose(f);
	rename(tmp, exit_file);
}

/* In the program's process: environment, directory, stdio, exec. */
static void exec_child(const struct fl_spawn *s, int logfd, int nul)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	int o = logfd >= 0 ? logfd : nul;
	dup2(o, 1);
	dup2(o, 2);
	fl_sup_close_fds(-1);
	const char *k;
	json_t *v;
	json_object_foreach(s->env, k, v)
		if (json_is_string(v))
			setenv(k, json_string_value(v), 1);
	int nrc = s->netns ? fl_netns_enter(s->netns) : 0;
	if (nrc) {
		dprintf(2, "cannot enter network namespace %s: %s\n", s->netns, strerror(-nrc));
		_exit(127);
	}
	if (s->dir && chdir(s->dir) != 0) {
		dprintf(2, "cannot enter %s: %s\n", s->dir, strerror(errno));
		_exit(127);
	}
	execvp(s->argv[0], s->argv);
	dprintf(2, "cannot run %s: %s\n", s->argv[0], strerror(errno));
	_exit(127);
}

int fl_sup_detach(void)
{
	if (setsid() < 0)
		_exit(1);
	pid_t r = fork();
	if (r != 0)
		_exit(r < 0 ? 1 : 0);
	int nul = open("/dev/null", O_RDWR);
	if (nul < 0)
		_exit(1);
	dup2(nul, 0);
	dup2(nul, 1);
	dup2(nul, 2);
	return nul;
}

void fl_sup_close_fds(int keep)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

/* The intermediate and the reaper; never returns. */
static void run_reaper(const struct fl_spawn *s, int pfd)
{
	/* the reaper keeps nothing of the launcher: not even its stdio */
	int nul = fl_sup_detach();
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	pid_t c = fork();
	if (c == 0)
		exec_child(s, logfd, nul);
	fl_sup_close_fds(pfd);
	dprintf(pfd, "faultline-ref: pid %d\n", (int)c);
	close(pfd);
	int st = 0;
	while (c > 0 && waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	write_exit_record(s->exit_file, c, st);
	_exit(0);
}

/* The pid the reaper reports through fd (-1 by the deadline). */
static pid_t read_pid(int fd, int64_t deadline)
{
	char buf[256];
	size_t len = 0;
	for (;;) {
		int left = (int)((deadline - fl_mono_ns()) / 1000000);
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k <= 0)
			return -1;
		len += (size_t)k;
		buf[len] = 0;
		int pid;
		if (strchr(buf, '\n') && sscanf(buf, "faultline-ref: pid %d", &pid) == 1 && pid > 0)
			return pid;
		if (len >= sizeof(buf) - 1)
			return -1;
	}
}

int fl_sup_spawn(const struct fl_spawn *s, pid_t *pid, char *line, size_t linelen, char *err,
		 size_t errlen)
{
	struct stat lst;
	off_t off = stat(s->log, &lst) == 0 ? lst.st_size : 0;
	long timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : 10000;
	int pfd[2];
	if (pipe(pfd) != 0)
		return fl_err_set(err, errlen, FL_EIO, "pipe: %s", strerror(errno));
	unlink(s->exit_file);
	pid_t a = fork();
	if (a < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fl_err_set(err, errlen, FL_EIO, "fork: %s", strerror(errno));
	}
	if (a == 0) {
		close(pfd[0]);
		run_reaper(s, pfd[1]);
	}
	close(pfd[1]);
	int st;
	waitpid(a, &st, 0);
	int64_t deadline = fl_mono_ns() + (int64_t)timeout_ms * 1000000;
	*pid = read_pid(pfd[0], deadline);
	close(pfd[0]);
	if (line && linelen)
		line[0] = 0;
	if (*pid < 0)
		return fl_err_set(err, errlen, FL_EIO, "%s: the reaper did not report a pid",
				  s->argv[0]);
	if (!s->marker)
		return 0;
	int rc = 0;
	char tmp[512];
	for (;;) {
		if (scan_log(s->log, &off, s->marker, tmp, sizeof(tmp)))
			break;
		json_t *x = fl_sup_exit_record(s->exit_file, *pid);
		if (x) {
			json_decref(x);
			/* it may have announced just before exiting: one last look */
			if (!scan_log(s->log, &off, s->marker, tmp, sizeof(tmp)))
				rc = fl_err_set(err, errlen, FL_EIO,
						"%s exited before it was ready (log: %s)",
						s->argv[0], s->log);
			break;
		}
		if (fl_mono_ns() >= deadline) {
			rc = fl_err_set(err, errlen, FL_ETIMEDOUT,
					"%s did not announce itself within %ld ms (log: %s)",
					s->argv[0], timeout_ms, s->log);
			break;
		}
		fl_sleep_ns(2000000);
	}
	if (rc)
		kill(*pid, SIGKILL);
	else if (line && linelen)
		snprintf(line, linelen, "%s", tmp);
	return rc;
}

json_t *fl_sup_wait_exit(const char *name, const json_t *entry, int64_t deadline)
{
	pid_t pid = (pid_t)fl_json_int(entry, "pid", 0);
	const char *ef = fl_json_str(entry, "exit_file", "");
	json_t *x = NULL;
	for (;;) {
		x = fl_sup_exit_record(ef, pid);
		if (x || fl_mono_ns() >= deadline)
			break;
		fl_sleep_ns(5000000);
	}
	json_t *r = json_pack("{s:s, s:i}", "service", name, "pid", (int)pid);
	if (!x) {
		bool still = fl_sup_alive(pid);
		json_object_set_new(r, "exit", json_null());
		json_object_set_new(r, "signal", json_null());
		json_object_set_new(r, "status",
				    json_string(still ? "still running" : "gone (no exit record)"));
		return r;
	}
	json_t *code = json_object_get(x, "exit"), *sig = json_object_get(x, "signal");
	json_object_set(r, "exit", code ? code : json_null());
	json_object_set(r, "signal", sig ? sig : json_null());
	char st[64];
	if (json_is_integer(code))
		snprintf(st, sizeof(st), "exited %lld", (long long)json_integer_value(code));
	else
		snprintf(st, sizeof(st), "killed by SIG%s",
			 json_string_value(sig) ? json_string_value(sig) : "?");
	json_object_set_new(r, "status", json_string(st));
	json_decref(x);
	return r;
}

void fl_sup_log_tail(const char *path, int lines, char *out, size_t outlen)
{
	if (!outlen)
		return;
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char buf[4096];
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	long from = size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0;
	fseek(f, from, SEEK_SET);
	size_t k = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[k] = 0;
	while (k > 0 && buf[k - 1] == '\n')
		buf[--k] = 0;
	/* back up `lines` newlines */
	char *start = buf;
	int seen = 0;
	for (char *p = buf + k; p > buf; p--)
		if (p[-1] == '\n' && ++seen == lines) {
			start = p;
			break;
		}
	size_t used = 0;
	for (char *p = start; *p && used + 4 < outlen;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		int w = snprintf(out + used, outlen - used, "  %.*s\n", (int)n, p);
		if (w < 0)
			break;
		used += (size_t)w;
		if (used >= outlen)
			break;
		p += n + (nl ? 1 : 0);
	}
}

const char *fl_sup_listen_addr(const char *line, char *out, size_t n)
{
	const char *p = strstr(line, "listening on ");
	if (!p)
		return NULL;
	p += strlen("listening on ");
	size_t k = strcspn(p, " \t\r\n");
	snprintf(out, n, "%.*s", (int)k, p);
	return out;
}

int fl_sup_write_state(const char *data, const json_t *t, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/topology.json", data);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(t, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0)
		return fl_err_set(err, errlen, FL_EIO, "cannot write %s", path);
	return 0;
}
