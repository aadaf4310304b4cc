/* faultline run [PATH...]: run Lua scenario files and report. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/command.h"
#include "report/report.h"
#include "runner/runner.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/prng.h"
#include "core/token.h"
#include "fault-injector/proxy.h"

static const struct fl_opt run_opts[] = {
	{ "tag", 't', "TAG", "run only tests tagged TAG (repeatable; ~TAG excludes)" },
	{ "grep", 'g', "REGEX", "run only tests whose \"suite > name\" matches (PCRE2)" },
	{ "env", 'e', "KEY=VAL", "set fl.env.KEY for the scenarios (repeatable)" },
	{ "seed", 's', "N", "seed for every random draw (default: random, printed)" },
	{ "timeout", FL_RUN_TIMEOUT, "S", "per-test timeout in seconds (default 60; 0 = none)" },
	{ "jobs", 'j', "N", "run N files in parallel, each in its own Lua state" },
	{ "retries", FL_RUN_RETRIES, "N",
	  "rerun a failing test up to N times; a test that\n"
	  "passes on a retry is reported flaky (default 0)" },
	{ "report", 'r', "FMT[=FILE]",
	  "console (default), tap (TAP 14), tap13 (the same\n"
	  "declared as TAP 13, for older harnesses such as\n"
	  "Debian 12's prove), junit, json, html (one\n"
	  "self-contained page; charts when --history is set);\n"
	  "repeatable; FILE '-' or absent: standard output" },
	{ "history", FL_RUN_HISTORY, "FILE", "default history file for fl.history.default()" },
	{ "quiet", 'q', NULL, "no console report unless another is asked for" },
	{ "pass-with-no-tests", FL_RUN_PASS_EMPTY, NULL,
	  "exit 0 when no test matched (default: exit 2)" },
	{ "bail", FL_RUN_BAIL, NULL,
	  "stop at the first failing test (or file error):\n"
	  "nothing more starts, files running in other jobs\n"
	  "stop after their current test; the tests left\n"
	  "are counted as not run (exit 1)" },
	FL_OPTS_RUN_TOKEN,
	FL_OPTS_CLIENT_TLS,
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
	  "Options:\n",
	  run_opts },
	{ "\n"
	  "Exit status: 0 all passed, 1 a test failed, 2 usage or script error\n"
	  "(syntax errors name file:line) or no test matched (an empty directory, a\n"
	  "--tag or --grep selecting nothing; --pass-with-no-tests allows it),\n"
	  "3 infrastructure error, 130 interrupted.\n"
	  "\n"
	  "Example:\n"
	  "  faultline run scenarios/ --tag e2e --report junit=out.xml -j 4\n",
	  NULL },
	{ NULL, NULL },
};

static volatile int interrupted;
static int bailed; /* --bail's flag (fl_run_opts.bail) */

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

/* What the options ask for. The arrays hold argv's strings (borrowed). */
struct run_args {
	const char **tags, **envs, **reports, **allow;
	int ntags, nenv, nreports, nallow;
	const char *grep, *history, *journal, *token, *token_file;
	int jobs, quiet, retries, dry_run, have_seed, pass_empty, bail;
	uint64_t seed;
	double timeout;
	struct fl_http_tls tls;
};

static int args_alloc(struct run_args *a, int argc)
{
	a->tags = calloc((size_t)argc, sizeof(char *));
	a->envs = calloc((size_t)argc, sizeof(char *));
	a->reports = calloc((size_t)argc + 1, sizeof(char *));
	a->allow = calloc((size_t)argc, sizeof(char *));
	return a->tags && a->envs && a->reports && a->allow ? 0 : FL_ENOMEM;
}

static void args_free(struct run_args *a)
{
	free(a->tags);
	free(a->envs);
	free(a->reports);
	free(a->allow);
}

/* One option's value into *a. Returns -1 to go on, else an exit code. */
static int take_opt(struct run_args *a, int c, const char *v, const char *cmd)
{
	char *end;
	switch (c) {
	case 't': a->tags[a->ntags++] = v; break;
	case 'g': a->grep = v; break;
	case 'e':
		if (!strchr(v, '='))
			return fl_cli_usage_error(cmd, "-e expects KEY=VAL, got '%s'", v);
		a->envs[a->nenv++] = v;
		break;
	case 's':
		if (parse_u64(v, &a->seed) < 0)
			return fl_cli_usage_error(cmd,
						  "--seed expects a non-negative integer, got '%s'",
						  v);
		a->have_seed = 1;
		break;
	case FL_RUN_TIMEOUT:
		a->timeout = strtod(v, &end);
		if (*end || end == v || a->timeout < 0)
			return fl_cli_usage_error(cmd, "--timeout expects seconds, got '%s'", v);
		break;
	case 'j':
		a->jobs = atoi(v);
		if (a->jobs < 1 || a->jobs > 256)
			return fl_cli_usage_error(cmd, "--jobs expects 1..256, got '%s'", v);
		break;
	case 'r': a->reports[a->nreports++] = v; break;
	case FL_RUN_RETRIES:
		a->retries = atoi(v);
		if (a->retries < 0 || a->retries > 100)
			return fl_cli_usage_error(cmd, "--retries expects 0..100, got '%s'", v);
		break;
	case FL_RUN_HISTORY: a->history = v; break;
	case FL_RUN_DRY_RUN: a->dry_run = 1; break;
	case FL_RUN_ALLOW: {
		/* refused now, before anything runs (exit 2) */
		struct fl_allow *l = NULL;
		char e[300];
		if (fl_allow_parse(v, &l, e, sizeof(e)))
			return fl_cli_usage_error(cmd, "--allow: %s", e);
		if (!l)
			return fl_cli_usage_error(cmd, "--allow: an empty list");
		fl_allow_free(l);
		a->allow[a->nallow++] = v;
		break;
	}
	case FL_RUN_JOURNAL: a->journal = v; break;
	case 'q': a->quiet = 1; break;
	case FL_RUN_PASS_EMPTY: a->pass_empty = 1; break;
	case FL_RUN_BAIL: a->bail = 1; break;
	case FL_RUN_TOKEN: a->token = v; break;
	case FL_RUN_TOKEN_FILE: a->token_file = v; break;
	default: fl_cli_tls_take(&a->tls, c, v); break;
	}
	return -1;
}

/* --token / --token-file: the agents' token, handed to fl.proxy (and to any
 * faultline client the scenarios start) as $FAULTLINE_TOKEN, so a token read
 * from a file never shows in a process's command line. Returns -1 to go
 * on, else an exit code. */
static int take_token(const struct run_args *a, const char *cmd)
{
	if (a->token && a->token_file)
		return fl_cli_usage_error(cmd, "--token and --token-file: give one");
	char *loaded = NULL, err[512];
	if (a->token_file && fl_token_load(a->token_file, &loaded, err, sizeof(err))) {
		fprintf(stderr, "faultline %s: %s\n", cmd, err);
		return FL_EXIT_USAGE;
	}
	const char *t = loaded ? loaded : a->token;
	int rc = t && setenv("FAULTLINE_TOKEN", t, 1) < 0 ? FL_EXIT_INFRA : -1;
	if (loaded)
		memset(loaded, 0, strlen(loaded));
	free(loaded);
	return rc;
}

/* The scenario files of the operands argv[first..] (./scenarios when none).
 * Returns -1 to go on, else an exit code. */
static int collect(const char *cmd, int chaos, int argc, char **argv, int first,
		   struct fl_file_list *files)
{
	if (chaos && first >= argc)
		return fl_cli_usage_error(cmd, "expected an experiment file");
	char *default_path[] = { "scenarios" };
	char **paths = first < argc ? argv + first : default_path;
	int npaths = first < argc ? argc - first : 1;
	for (int i = 0; i < npaths; i++) {
		int r = fl_runner_collect(files, paths[i]);
		if (r < 0)
			return fl_cli_usage_error(cmd, "%s: %s", paths[i], fl_strerror(r));
	}
	return -1;
}

/* Run the files, Ctrl-C and SIGTERM interrupting; the exit code. */
static int run_files(const struct run_args *a, const struct fl_file_list *files,
		     struct fl_report_set *set, int chaos, const char *command)
{
	struct fl_run_opts ropts = {
		.command = command,
		.tags = a->tags,
		.ntags = a->ntags,
		.grep = a->grep,
		.env = a->envs,
		.nenv = a->nenv,
		.seed = a->seed,
		.timeout_s = a->timeout,
		.retries = a->retries,
		.history_path = a->history,
		.reports = set,
		.interrupt = &interrupted,
		.bail = a->bail ? &bailed : NULL,
		.chaos = chaos,
		.dry_run = a->dry_run,
		.allow = a->allow,
		.nallow = a->nallow,
		.journal = a->journal,
		.tls = &a->tls,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct fl_file_outcome total;
	fl_runner_run_files(files, a->jobs, &ropts, &total);
	if (total.interrupted)
		return FL_EXIT_INTERRUPTED;
	if (total.error_exit)
		return total.error_exit;
	/* nothing ran: a typo in a path, a tag or a grep must not go green */
	if (total.passed + total.failed + total.skipped == 0 && !total.file_errors &&
	    !a->pass_empty) {
		fprintf(stderr,
			"faultline %s: no tests matched (%zu file%s%s); "
			"--pass-with-no-tests allows it\n",
			chaos ? "chaos" : "run", files->n, files->n == 1 ? "" : "s",
			chaos ? ", no fl.chaos.experiment called" : "");
		return FL_EXIT_USAGE;
	}
	return total.failed ? FL_EXIT_FAIL : FL_EXIT_OK;
}

/* `faultline run` and `faultline chaos` share everything but their help and
 * the experiment options (--dry-run, --allow, --journal), which only chaos's
 * table has. */
int fl_cli_run_scenarios(int argc, char **argv, const struct fl_command *command,
			 const struct fl_opt *table, int chaos)
{
	const char *cmd = command->name;
	struct run_args a = { .jobs = 1, .timeout = 60 };
	struct fl_file_list files = { 0 };
	struct fl_report_set *set = NULL;
	int rc = FL_EXIT_INFRA, c;
	if (args_alloc(&a, argc) < 0) {
		fprintf(stderr, "faultline %s: out of memory\n", cmd);
		goto out;
	}
	struct fl_opts o;
	fl_opts_init(&o, command, table, argc, argv);
	while ((c = fl_opts_next(&o)) > 0)
		if ((rc = take_opt(&a, c, o.arg, cmd)) >= 0)
			goto out;
	if (c < 0) {
		rc = o.exit;
		goto out;
	}
	if ((rc = fl_cli_tls_check(cmd, &a.tls)) >= 0 || (rc = take_token(&a, cmd)) >= 0)
		goto out;
	if (!a.have_seed)
		a.seed = fl_prng_entropy_seed() % 1000000000ULL;
	if ((rc = collect(cmd, chaos, argc, argv, o.optind, &files)) >= 0 ||
	    !(set = fl_cli_reports(cmd, a.reports, a.nreports, !a.quiet, &rc)))
		goto out;
	/* the command that reproduces the run, with the seed it drew */
	char *repro = fl_cli_command_line(argc, argv), *seeded = NULL;
	if (repro && !a.have_seed && asprintf(&seeded, "%s --seed %" PRIu64, repro, a.seed) >= 0) {
		free(repro);
		repro = seeded;
	}
	rc = run_files(&a, &files, set, chaos, repro); /* repro NULL: the reports go without */
	free(repro);
out:
	fl_report_set_free(set);
	fl_file_list_free(&files);
	args_free(&a);
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
