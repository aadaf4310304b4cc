/* Process faults: kill (SIGKILL), term (SIGTERM), pause (SIGSTOP until the
 * fault is healed, then SIGCONT) by pid, command name (/proc/PID/comm) or
 * cgroup (its cgroup.procs). Paused pids are recorded with their start time
 * in a state file, so the next agent resumes them after a crash, and only
 * when the pid is still the same process. Never pid 1 or the agent itself. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/json.h"
#include "core/proc.h"
#include "hostfault/hostfault_int.h"

static int add_pid(struct fl_hf_fault *f, pid_t pid, char *err, size_t errlen)
{
	if (pid <= 1 || pid == getpid())
		return fl_err_set(err, errlen, FL_EPERM,
				  "refusing to signal pid %d (init or the agent itself)", (int)pid);
	if (f->nprocs == FL_HF_MAX_PIDS)
		return fl_err_set(err, errlen, FL_E2BIG, "more than %d processes match",
				  FL_HF_MAX_PIDS);
	unsigned long long st = fl_proc_start_time(pid);
	if (!st)
		return fl_err_set(err, errlen, FL_ENOENT, "no process %d", (int)pid);
	f->procs[f->nprocs].pid = pid;
	f->procs[f->nprocs].start = st;
	f->nprocs++;
	return 0;
}

static int by_name(struct fl_hf_fault *f, const char *name, char *err, size_t errlen)
{
	DIR *d = opendir("/proc");
	if (!d)
		return fl_err_set(err, errlen, FL_EIO, "/proc: %s", strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		char path[300], comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		FILE *fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fgets(comm, sizeof(comm), fp))
			comm[strcspn(comm, "\n")] = 0;
		fclose(fp);
		if (strcmp(comm, name) == 0 && pid != getpid() && pid > 1)
			rc = add_pid(f, pid, err, errlen);
	}
	closedir(d);
	if (!rc && !f->nprocs)
		rc = fl_err_set(err, errlen, FL_ENOENT, "no process named '%s'", name);
	return rc;
}

static int by_cgroup(struct fl_hf_fault *f, const char *cg, char *err, size_t errlen)
{
	if (strncmp(cg, "/sys/fs/cgroup/", 15) != 0 || strstr(cg, "/..") || strlen(cg) > 400)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field cgroup: must be a directory under /sys/fs/cgroup/");
	char path[512];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return fl_err_set(err, errlen, FL_ENOENT, "field cgroup: %s: %s", path,
				  strerror(errno));
	long pid;
	int rc = 0;
	while (!rc && fscanf(fp, "%ld", &pid) == 1)
		if (pid != getpid())
			rc = add_pid(f, (pid_t)pid, err, errlen);
	fclose(fp);
	if (!rc && !f->nprocs)
		rc = fl_err_set(err, errlen, FL_ENOENT, "cgroup %s has no process", cg);
	return rc;
}

int fl_hf_proc_resolve(const json_t *spec, struct fl_hf_fault *f, char *err, size_t errlen)
{
	const char *action = NULL, *name = NULL, *cg = NULL;
	int64_t pid = 0;
	if (fl_json_take_str(spec, "action", true, &action, err, errlen) ||
	    fl_json_take_str(spec, "name", false, &name, err, errlen) ||
	    fl_json_take_str(spec, "cgroup", false, &cg, err, errlen) ||
	    fl_json_take_int(spec, "pid", false, &pid, err, errlen))
		return FL_EINVAL;
	if (strcmp(action, "kill") != 0 && strcmp(action, "term") != 0 &&
	    strcmp(action, "pause") != 0)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field action: must be kill, term or pause (a pause is resumed "
				  "by deleting the fault)");
	int n = (json_object_get(spec, "pid") != NULL) + (name != NULL) + (cg != NULL);
	if (n != 1)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "a process fault names exactly one of pid, name, cgroup");
	if (json_object_get(spec, "pid"))
		return add_pid(f, (pid_t)pid, err, errlen);
	if (name)
		return by_name(f, name, err, errlen);
	return by_cgroup(f, cg, err, errlen);
}

int fl_hf_proc_apply(struct fl_hostfault *h, struct fl_hf_fault *f, const char *action, char *err,
		     size_t errlen)
{
	int sig = strcmp(action, "kill") == 0	? SIGKILL
		  : strcmp(action, "term") == 0 ? SIGTERM
						: SIGSTOP;
	size_t done = 0;
	for (size_t i = 0; i < f->nprocs; i++) {
		if (fl_proc_start_time(f->procs[i].pid) != f->procs[i].start)
			continue; /* gone, or the pid is another process now */
		if (kill(f->procs[i].pid, sig) == 0)
			f->procs[done++] = f->procs[i];
	}
	f->nprocs = done;
	(void)h; /* the caller records paused pids once the fault is held */
	if (!done)
		return fl_err_set(err, errlen, FL_ENOENT, "no matching process could be signalled");
	return 0;
}

int fl_hf_proc_resume(struct fl_hostfault *h, struct fl_hf_fault *f)
{
	(void)h;
	for (size_t i = 0; i < f->nprocs; i++)
		if (fl_proc_start_time(f->procs[i].pid) == f->procs[i].start)
			kill(f->procs[i].pid, SIGCONT);
	f->nprocs = 0;
	return 0;
}

void fl_hf_proc_save(struct fl_hostfault *h)
{
	if (!h->state_path[0])
		return;
	json_t *a = json_array();
	for (struct fl_hf_fault *f = h->faults; f; f = f->next)
		if (f->kind == FL_HF_PROCESS && f->resident)
			for (size_t i = 0; i < f->nprocs; i++)
				json_array_append_new(a, json_pack("{s:i, s:I}", "pid",
								   (int)f->procs[i].pid, "start",
								   (json_int_t)f->procs[i].start));
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", h->state_path);
	if (json_array_size(a) == 0) {
		unlink(h->state_path);
	} else if (json_dump_file(a, tmp, 0) == 0) {
		rename(tmp, h->state_path);
	}
	json_decref(a);
}

int fl_hf_proc_sweep(struct fl_hostfault *h, int *n)
{
	*n = 0;
	if (!h->state_path[0])
		return 0;
	json_t *a = json_load_file(h->state_path, 0, NULL), *it;
	size_t i;
	json_array_foreach(a, i, it) {
		pid_t pid = (pid_t)fl_json_int(it, "pid", 0);
		unsigned long long st = (unsigned long long)fl_json_int(it, "start", 0);
		if (pid > 1 && st && fl_proc_start_time(pid) == st && kill(pid, SIGCONT) == 0)
			(*n)++;
	}
	json_decref(a);
	unlink(h->state_path);
	return 0;
}
