/* A run of many scenario files (faultline run, faultline chaos): finding the
 * files, the report set, and the --jobs threads that run them. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner/runner.h"
#include "core/clock.h"
#include "core/errors.h"

/* --- the files ---------------------------------------------------------- */

static int list_add(struct fl_file_list *l, const char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return FL_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(path);
	return l->v[l->n++] ? 0 : FL_ENOMEM;
}

void fl_file_list_free(struct fl_file_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_lua(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".lua") == 0;
}

/* Collect *.lua under dir (recursively), sorted per directory level. */
static int collect_dir(const char *dir, struct fl_file_list *l)
{
	DIR *d = opendir(dir);
	if (!d)
		return fl_err_from_errno(errno);
	struct fl_file_list names = { 0 };
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_name[0] == '_')
			continue;
		if ((rc = list_add(&names, e->d_name)) < 0)
			break;
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
		struct stat st;
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = collect_dir(path, l);
		else if (is_lua(names.v[i]))
			rc = list_add(l, path);
	}
	fl_file_list_free(&names);
	return rc;
}

int fl_runner_collect(struct fl_file_list *l, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return fl_err_from_errno(errno);
	return S_ISDIR(st.st_mode) ? collect_dir(path, l) : list_add(l, path);
}

/* --- the reports -------------------------------------------------------- */

/* Does spec ("FORMAT[=FILE]") write to standard output? */
static int to_stdout(const char *spec)
{
	const char *eq = strchr(spec, '=');
	return !eq || strcmp(eq + 1, "-") == 0;
}

static int add_report(struct fl_report_set *set, const char *spec, char *err, size_t errlen)
{
	struct fl_reporter rep;
	char why[256] = "";
	int rc = fl_reporter_create(spec, &rep, why, sizeof(why));
	if (rc < 0)
		return fl_err_set(err, errlen, rc, "--report %s: %s", spec, why);
	rc = fl_report_set_add(set, rep);
	if (rc == FL_EEXIST)
		return fl_err_set(err, errlen, rc,
				  "--report %s: another report already writes there; "
				  "give one of them a file (FORMAT=FILE)",
				  spec);
	if (rc < 0)
		return fl_err_set(err, errlen, rc, "--report %s: %s", spec, fl_strerror(rc));
	return 0;
}

int fl_runner_reports(const char *const *specs, int n, int quiet, struct fl_report_set **out,
		      char *err, size_t errlen)
{
	int console = 0, other_stdout = 0, rc = 0;
	struct fl_report_set *set = fl_report_set_new();
	if (!set)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	for (int i = 0; i < n && rc == 0; i++) {
		if (strncmp(specs[i], "console", 7) == 0)
			console = 1;
		else if (to_stdout(specs[i]))
			other_stdout = 1;
		rc = add_report(set, specs[i], err, errlen);
	}
	/* console by default; on stderr when another report writes to stdout */
	if (rc == 0 && !console && !quiet)
		rc = add_report(set, other_stdout ? "console=/dev/stderr" : "console", err, errlen);
	if (rc < 0) {
		fl_report_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

/* --- the jobs ----------------------------------------------------------- */

struct jobs {
	const struct fl_file_list *files;
	const struct fl_run_opts *opts;
	pthread_mutex_t lock;
	size_t next;
	struct fl_file_outcome total;
};

static int bailed(const struct fl_run_opts *o)
{
	return o->bail && __atomic_load_n(o->bail, __ATOMIC_ACQUIRE);
}

static void *job_main(void *arg)
{
	struct jobs *js = arg;
	for (;;) {
		pthread_mutex_lock(&js->lock);
		size_t i = js->next++;
		pthread_mutex_unlock(&js->lock);
		if (i >= js->files->n || (js->opts->interrupt && *js->opts->interrupt))
			break;
		if (bailed(js->opts)) {
			/* each file index is taken once: every thread counts its own */
			pthread_mutex_lock(&js->lock);
			js->total.files_not_run++;
			pthread_mutex_unlock(&js->lock);
			continue;
		}
		struct fl_file_outcome o;
		fl_runner_run_file(js->files->v[i], js->opts, &o);
		/* a file that could not load or run stops the run too */
		if (js->opts->bail && o.file_errors)
			__atomic_store_n(js->opts->bail, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&js->lock);
		js->total.passed += o.passed;
		js->total.failed += o.failed;
		js->total.skipped += o.skipped;
		js->total.file_errors += o.file_errors;
		js->total.not_run += o.not_run;
		if (o.error_exit > js->total.error_exit)
			js->total.error_exit = o.error_exit;
		pthread_mutex_unlock(&js->lock);
	}
	return NULL;
}

void fl_runner_run_files(const struct fl_file_list *files, int jobs, const struct fl_run_opts *opts,
			 struct fl_file_outcome *out)
{
	int64_t t0 = fl_mono_ns();
	fl_report_run_begin(opts->reports, (int)files->n, opts->seed);
	struct jobs js = { .files = files, .opts = opts };
	pthread_mutex_init(&js.lock, NULL);
	if (jobs > (int)files->n)
		jobs = files->n ? (int)files->n : 1;
	pthread_t *th = jobs > 1 ? calloc((size_t)jobs, sizeof(*th)) : NULL;
	int started = 0;
	for (int i = 0; th && i < jobs; i++)
		if (pthread_create(&th[i], NULL, job_main, &js) == 0)
			started++;
	if (!started) /* one job, or no thread could start: run them here */
		job_main(&js);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&js.lock);
	js.total.interrupted = opts->interrupt && *opts->interrupt;
	struct fl_run_summary sum = {
		.passed = js.total.passed,
		.failed = js.total.failed,
		.skipped = js.total.skipped,
		.errors = js.total.file_errors,
		.files = (int)files->n,
		.not_run = js.total.not_run,
		.files_not_run = js.total.files_not_run,
		.duration_ns = fl_mono_ns() - t0,
		.seed = opts->seed,
		.interrupted = js.total.interrupted,
		.history_path = opts->history_path,
		.command = opts->command,
	};
	fl_report_run_end(opts->reports, &sum);
	*out = js.total;
}
