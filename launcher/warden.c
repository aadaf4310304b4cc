/* The lease: a detached warden process watches the driver that started the
 * system (a pid and its start time, so a reused pid is not taken for it).
 * Once the driver is gone for lease_ms, the warden stops the system as
 * `down` would and records the report in DATA/down.json. `down` ends the
 * warden first; `up --keep` starts none. */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"
#include "core/proc.h"

static bool driver_alive(pid_t pid, unsigned long long start)
{
	if (kill(pid, 0) != 0 && errno != EPERM)
		return false;
	unsigned long long now = fl_proc_start_time(pid);
	return now == 0 || now == start;
}

/* The warden's loop; never returns. */
static void watch(const char *data, pid_t driver, unsigned long long start, long lease_ms)
{
	char state[PATH_MAX + 32], log[PATH_MAX + 32];
	snprintf(state, sizeof(state), "%s/topology.json", data);
	snprintf(log, sizeof(log), "%s/logs/warden.log", data);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	printf("warden %d: watching driver %d (lease %ld ms)\n", (int)getpid(), (int)driver,
	       lease_ms);
	fflush(stdout);
	while (driver_alive(driver, start)) {
		if (access(state, F_OK) != 0)
			_exit(0); /* stopped by `down` */
		fl_sleep_ns(100000000);
	}
	printf("warden: driver %d is gone; the system is stopped in %ld ms\n", (int)driver,
	       lease_ms);
	fflush(stdout);
	fl_sleep_ns((int64_t)lease_ms * 1000000);
	json_t *t = fl_launcher_load(data, NULL, 0);
	bool mine = t && fl_json_int(json_object_get(t, "warden"), "pid", 0) == getpid();
	json_decref(t);
	if (!mine)
		_exit(0);
	char err[512];
	json_t *rep = fl_launcher_down(data, 20000, err, sizeof(err));
	if (!rep) {
		printf("warden: down failed: %s\n", err);
		_exit(1);
	}
	json_object_set_new(rep, "reason", json_string("the driver's lease ended"));
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/down.json", data);
	json_dump_file(rep, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("warden: system stopped (report %s)\n", path);
	json_decref(rep);
	_exit(0);
}

int fl_warden_start(const char *data, pid_t driver, long lease_ms, pid_t *pid, char *err,
		    size_t errlen)
{
	unsigned long long start = fl_proc_start_time(driver);
	if (!start)
		return fl_err_set(err, errlen, FL_ENOENT, "driver %d is not running", (int)driver);
	int pfd[2];
	if (pipe(pfd) != 0)
		return fl_err_set(err, errlen, FL_EIO, "pipe: %s", strerror(errno));
	pid_t a = fork();
	if (a < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fl_err_set(err, errlen, FL_EIO, "fork: %s", strerror(errno));
	}
	if (a == 0) {
		close(pfd[0]);
		fl_sup_detach();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		fl_sup_close_fds(pfd[1]);
		pid_t me = getpid();
		if (write(pfd[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
			_exit(1);
		close(pfd[1]);
		watch(data, driver, start, lease_ms);
	}
	close(pfd[1]);
	int st;
	waitpid(a, &st, 0);
	pid_t w = -1;
	ssize_t k = read(pfd[0], &w, sizeof(w));
	close(pfd[0]);
	if (k != (ssize_t)sizeof(w) || w <= 0)
		return fl_err_set(err, errlen, FL_EIO, "the warden did not start");
	*pid = w;
	return 0;
}
