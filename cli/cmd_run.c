/* faultline run [PATH...]: run Lua scenario files and report. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/command.h"
#include "report/report.h"
#include "runner/runner.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/prng.h"

static const struct fl_opt run_opts[] = {
	{ "tag", 't', "TAG", "run only tests tagged TAG (repeatable; ~TAG excludes)" },
	{ "grep", 'g', "REGEX", "run only tests whose \"suite > name\" matches (PCRE2)" },
	{ "env", 'e', "KEY=VAL", "set fl.env.KEY for the scenarios (repeatable)" },
	{ "seed", 's', "N", "seed for every random draw (default: random, printed)" },
	{ "timeout", FL_RUN_TIMEOUT, "S", "per-test timeout in seconds (default 60; 0 = none)" },
	{ "jobs", 'j', "N", "run N files in parallel, each in its own Lua state" },
	{ "retries", FL_RUN_RETRIES, "N", "rerun a failing test up to N times; a test that\n"
		"passes on a retry is reported flaky (default 0)" },
	{ "report", 'r', "FMT[=FILE]", "console (default), tap (TAP 14), tap13 (the same\n"
		"declared as TAP 13, for older harnesses such as\n"
		"Debian 12's prove), junit, json, html (one\n"
		"self-contained page; charts when --history is set);\n"
		"repeatable; FILE '-' or absent: standard output" },
	{ "history", FL_RUN_HISTORY, "FILE", "default history file for fl.history.default()" },
	{ "quiet", 'q', NULL, "no console report unless another is asked for" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help run_help[] = {
	{ "Usage: faultline run [PATH...] [OPTIONS]\n"
	  "\n"
	  "Run Lua scenario files. A directory runs every *.lua file under it, sorted\n"
	  "(files whose name starts with '_' are helpers and are not run). Without a\n"
	  "PATH, runs ./scenarios.\n"
	  "\n"
	  "Options:\n", run_opts },
	{ "\n"
	  "Exit status: 0 all passed, 1 a test failed, 2 usage or script error\n"
	  "(syntax errors name file:line), 3 infrastructure error, 130 interrupted.\n"
	  "\n"
	  "Example:\n"
	  "  faultline run scenarios/ --tag e2e --report junit=out.xml -j 4\n", NULL },
	{ NULL, NULL },
};

static volatile int interrupted;

/* First Ctrl-C: stop the running test, run its cleanups, skip the rest.
 * Second: abandon the cleanups (the reports say so). Third: die at once. */
static void on_signal(int sig)
{
	if (interrupted >= 2) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	interrupted++;
}

struct file_list {
	char **v;
	size_t n, cap;
};

static int list_add(struct file_list *l, const char *path)
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

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect *.lua under dir (recursively), sorted per directory level. */
static int collect_dir(const char *dir, struct file_list *l)
{
	DIR *d = opendir(dir);
	if (!d)
		return fl_err_from_errno(errno);
	struct file_list names = { 0 };
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_name[0] == '_')
			continue;
		if ((rc = list_add(&names, e->d_name)) < 0)
			break;
	}
	closedir(d);
	qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
		struct stat st;
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = collect_dir(path, l);
		else if (strlen(names.v[i]) > 4 && strcmp(names.v[i] + strlen(names.v[i]) - 4, ".lua") == 0)
			rc = list_add(l, path);
	}
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	return rc;
}

struct job_state {
	struct file_list *files;
	const struct fl_run_opts *opts;
	pthread_mutex_t lock;
	size_t next;
	struct fl_file_outcome total;
};

static void *job_main(void *arg)
{
	struct job_state *js = arg;
	for (;;) {
		pthread_mutex_lock(&js->lock);
		size_t i = js->next++;
		pthread_mutex_unlock(&js->lock);
		if (i >= js->files->n || interrupted)
			break;
		struct fl_file_outcome o;
		fl_runner_run_file(js->files->v[i], js->opts, &o);
		pthread_mutex_lock(&js->lock);
		js->total.passed += o.passed;
		js->total.failed += o.failed;
		js->total.skipped += o.skipped;
		js->total.file_errors += o.file_errors;
		if (o.error_exit > js->total.error_exit)
			js->total.error_exit = o.error_exit;
		pthread_mutex_unlock(&js->lock);
	}
	return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return FL_EINVAL;
	*out = v;
	return 0;
}

/* `faultline run` and `faultline chaos` share everything but their help and
 * the experiment options (--dry-run, --allow, --journal), which only chaos
 * takes. */
int fl_cli_run_scenarios(int argc, char **argv, const struct fl_command *command,
			 const struct fl_opt *table, int chaos)
{
	const char *cmd = command->name;
	int rc = FL_EXIT_USAGE;
	const char **tags = calloc((size_t)argc, sizeof(char *));
	const char **envs = calloc((size_t)argc, sizeof(char *));
	const char **reports = calloc((size_t)argc + 1, sizeof(char *));
	const char **allow = calloc((size_t)argc, sizeof(char *));
	int nallow = 0, dry_run = 0;
	const char *journal = NULL;
	int ntags = 0, nenv = 0, nreports = 0, jobs = 1, quiet = 0, have_seed = 0, retries = 0;
	const char *grep = NULL, *history = NULL;
	uint64_t seed = 0;
	double timeout = 60;
	struct file_list files = { 0 };
	struct fl_report_set *set = NULL;
	if (!tags || !envs || !reports || !allow) {
		fprintf(stderr, "faultline %s: out of memory\n", cmd);
		rc = FL_EXIT_INFRA;
		goto out;
	}

	struct fl_opts o;
	fl_opts_init(&o, command, table, argc, argv);
	int c;
	while ((c = fl_opts_next(&o)) > 0) {
		const char *optarg = o.arg;
		switch (c) {
		case 't': tags[ntags++] = optarg; break;
		case 'g': grep = optarg; break;
		case 'e':
			if (!strchr(optarg, '=')) {
				rc = fl_cli_usage_error(cmd, "-e expects KEY=VAL, got '%s'", optarg);
				goto out;
			}
			envs[nenv++] = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &seed) < 0) {
				rc = fl_cli_usage_error(cmd, "--seed expects a non-negative integer, got '%s'", optarg);
				goto out;
			}
			have_seed = 1;
			break;
		case FL_RUN_TIMEOUT: {
			char *end;
			timeout = strtod(optarg, &end);
			if (*end || end == optarg || timeout < 0) {
				rc = fl_cli_usage_error(cmd, "--timeout expects seconds, got '%s'", optarg);
				goto out;
			}
			break;
		}
		case 'j':
			jobs = atoi(optarg);
			if (jobs < 1 || jobs > 256) {
				rc = fl_cli_usage_error(cmd, "--jobs expects 1..256, got '%s'", optarg);
				goto out;
			}
			break;
		case 'r': reports[nreports++] = optarg; break;
		case FL_RUN_RETRIES:
			retries = atoi(optarg);
			if (retries < 0 || retries > 100) {
				rc = fl_cli_usage_error(cmd, "--retries expects 0..100, got '%s'", optarg);
				goto out;
			}
			break;
		case FL_RUN_HISTORY: history = optarg; break;
		case FL_RUN_DRY_RUN: dry_run = 1; break;
		case FL_RUN_ALLOW: allow[nallow++] = optarg; break;
		case FL_RUN_JOURNAL: journal = optarg; break;
		case 'q': quiet = 1; break;
		}
	}
	if (c < 0) {
		rc = o.exit;
		goto out;
	}
	int optind = o.optind;
	if (!have_seed)
		seed = fl_prng_entropy_seed() % 1000000000ULL;

	/* files */
	int npaths = argc - optind;
	if (chaos && npaths < 1) {
		rc = fl_cli_usage_error(cmd, "expected an experiment file");
		goto out;
	}
	char *default_path[] = { "scenarios" };
	char **paths = npaths ? argv + optind : default_path;
	if (!npaths)
		npaths = 1;
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			rc = fl_cli_usage_error(cmd, "%s: %s", paths[i], strerror(errno));
			goto out;
		}
		int r = S_ISDIR(st.st_mode) ? collect_dir(paths[i], &files) : list_add(&files, paths[i]);
		if (r < 0) {
			rc = fl_cli_usage_error(cmd, "%s: %s", paths[i], fl_strerror(r));
			goto out;
		}
	}

	/* reports */
	set = fl_report_set_new();
	if (!set) {
		rc = FL_EXIT_INFRA;
		goto out;
	}
	int console_asked = 0;
	for (int i = 0; i < nreports; i++)
		if (strncmp(reports[i], "console", 7) == 0)
			console_asked = 1;
	if (!console_asked && !quiet) {
		/* console by default; on stderr when another report writes to stdout */
		int other_stdout = 0;
		for (int i = 0; i < nreports; i++)
			if (!strchr(reports[i], '=') || strcmp(strchr(reports[i], '=') + 1, "-") == 0)
				other_stdout = 1;
		reports[nreports++] = other_stdout ? "console=/dev/stderr" : "console";
	}
	for (int i = 0; i < nreports; i++) {
		struct fl_reporter rep;
		char err[256] = "";
		int r = fl_reporter_create(reports[i], &rep, err, sizeof(err));
		if (r < 0) {
			if (r == FL_EINVAL)
				rc = fl_cli_usage_error(cmd, "--report %s: %s", reports[i], err);
			else {
				fprintf(stderr, "faultline %s: --report %s: %s\n", cmd, reports[i], err);
				rc = FL_EXIT_INFRA;
			}
			goto out;
		}
		int ar = fl_report_set_add(set, rep);
		if (ar == FL_EEXIST) {
			rc = fl_cli_usage_error(cmd, "--report %s: another report already writes there; "
						"give one of them a file (FORMAT=FILE)", reports[i]);
			goto out;
		} else if (ar < 0) {
			fprintf(stderr, "faultline %s: --report %s: %s\n", cmd, reports[i],
				fl_strerror(ar));
			rc = FL_EXIT_INFRA;
			goto out;
		}
	}

	struct fl_run_opts ropts = {
		.tags = tags, .ntags = ntags, .grep = grep, .env = envs, .nenv = nenv,
		.seed = seed, .timeout_s = timeout, .retries = retries, .history_path = history, .reports = set,
		.interrupt = &interrupted, .chaos = chaos, .dry_run = dry_run, .allow = allow,
		.nallow = nallow, .journal = journal,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int64_t t0 = fl_mono_ns();
	fl_report_run_begin(set, (int)files.n, seed);
	struct job_state js = { .files = &files, .opts = &ropts };
	pthread_mutex_init(&js.lock, NULL);
	if (jobs > (int)files.n)
		jobs = files.n ? (int)files.n : 1;
	if (jobs <= 1) {
		job_main(&js);
	} else {
		pthread_t *th = calloc((size_t)jobs, sizeof(*th));
		int started = 0;
		for (int i = 0; th && i < jobs; i++)
			if (pthread_create(&th[i], NULL, job_main, &js) == 0)
				started++;
		if (!started)
			job_main(&js);
		for (int i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		free(th);
	}
	pthread_mutex_destroy(&js.lock);
	struct fl_run_summary sum = {
		.passed = js.total.passed, .failed = js.total.failed, .skipped = js.total.skipped,
		.files = (int)files.n, .duration_ns = fl_mono_ns() - t0, .seed = seed,
		.interrupted = interrupted != 0, .history_path = history,
	};
	/* the command that reproduces the run, with the seed it drew */
	char *repro = fl_cli_command_line(argc, argv), *seeded = NULL;
	if (repro && !have_seed && asprintf(&seeded, "%s --seed %" PRIu64, repro, seed) >= 0) {
		free(repro);
		repro = seeded;
	}
	sum.command = repro;	/* NULL: the reports go without */
	sum.errors = js.total.file_errors;
	fl_report_run_end(set, &sum);
	free(repro);

	if (interrupted)
		rc = FL_EXIT_INTERRUPTED;
	else if (js.total.error_exit)
		rc = js.total.error_exit;
	else if (js.total.failed)
		rc = FL_EXIT_FAIL;
	else
		rc = FL_EXIT_OK;
out:
	fl_report_set_free(set);
	for (size_t i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	free(tags);
	free(envs);
	free(reports);
	free(allow);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	return fl_cli_run_scenarios(argc, argv, &fl_cmd_run, run_opts, 0);
}

const struct fl_command fl_cmd_run = {
	.name = "run",
	.summary = "run Lua scenario files (unit, contract, e2e, chaos)",
	.help = run_help,
	.order = 0,
	.run = cmd_run,
};
