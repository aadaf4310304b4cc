/* faultline check: re-run a checker on a stored history. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/check.h"
#include "cli/command.h"
#include "core/errors.h"
#include "core/json.h"
#include "report/report.h"

enum { O_CONFIG = FL_OPT_LONG, O_BREAKER, O_LINK, O_SERVICE, O_SINCE, O_JSON, O_REPORT, O_EVMAX };

static const struct fl_opt opts[] = {
	{ "config", O_CONFIG, "FILE",
	  "the checker's configuration (JSON); for breaker a\n"
	  "service's /breakers output or one breaker's config" },
	{ "breaker", O_BREAKER, "NAME", "breaker: which breaker (in the history and the config)" },
	{ "link", O_LINK, "NAME", "breaker: proxy link whose exchanges are the downstream calls" },
	{ "service", O_SERVICE, "NAME", "probe: the probed service" },
	{ "since", O_SINCE, "NS",
	  "saga, breaker: check only what starts at or after this\n"
	  "time (monotonic ns, as the history's \"t\"); earlier\n"
	  "events only build state (balances, the breaker's window)" },
	{ "json", O_JSON, NULL, "print the result as JSON" },
	{ "report", O_REPORT, "FMT=FILE",
	  "also write a report: junit, json, html (one page with the\n"
	  "history's timeline and the verdicts), tap, tap13 or\n"
	  "console, one test per invariant (repeatable)" },
	{ "evidence-max", O_EVMAX, "N",
	  "bytes of evidence printed per example (default 2000, 0: all)" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline check saga|bank|breaker|probe HISTORY.jsonl... [OPTIONS]\n"
	  "\n"
	  "Re-run a checker on a stored history (JSONL, schema in docs/checkers.md;\n"
	  "several files are merged into one history, e.g. a client history, the\n"
	  "services' event feeds and the proxy's recording) and\n"
	  "print its verdict in Jepsen's form: valid true/false/unknown and, per\n"
	  "invariant, the number of violations with the first, worst and last example\n"
	  "and their evidence.\n"
	  "\n"
	  "  saga      money and sagas: M1-M3, S1-S8, Q1-Q2\n"
	  "  bank      Jepsen's bank test: snapshots sum to the total (B1), none negative (B2)\n"
	  "  breaker   circuit breaker, Resilience4j semantics: C1-C7\n"
	  "  probe     health probes and graceful shutdown, Kubernetes semantics: H1-H5\n"
	  "\n",
	  opts },
	{ "\n"
	  "Exit status: 0 valid, 1 invalid, 4 unknown (could not decide), 2 usage,\n"
	  "configuration or history error.\n",
	  NULL },
	{ NULL, NULL },
};

#define MAX_REPORTS 8

/* The reports of one checker's result: a run of one file, "check.CHECKER",
 * with a test per invariant; the result itself rides along as the run's
 * "checks" (the JSON journal and the HTML page show it whole). */
static int write_reports(struct fl_report_set *set, const struct fl_check_result *r,
			 const char *const *histories, int nhistories, int argc, char **argv)
{
	char *command = fl_cli_command_line(argc, argv);
	json_t *rj = fl_check_result_json(r);
	json_t *extra = rj ? json_pack("{s:[o]}", "checks", rj) : NULL;
	struct fl_run_summary sum = { .duration_ns = r->duration_ns,
				      .histories = histories,
				      .nhistories = nhistories,
				      .command = command,
				      .extra = extra };
	fl_report_run_begin(set, 1, 0);
	int rc = extra ? fl_check_result_report(r, set, &sum) : FL_ENOMEM;
	fl_report_run_end(set, &sum);
	json_decref(extra);
	free(command);
	return rc;
}

#define MAX_FILES 64

struct check_args {
	const struct fl_checker *checker;
	const char *config;
	struct fl_checker_overrides ov;
	const char *paths[MAX_FILES];
	int npaths;
	const char *reports[MAX_REPORTS];
	int nreports, json;
	long evmax;
};

static int parse_since(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* Fill *a from argv. Returns -1 to go on, else the exit code to return. */
static int parse_args(int argc, char **argv, struct check_args *a)
{
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_check, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		const char *v = o.arg;
		char *end;
		switch (c) {
		case O_JSON: a->json = 1; break;
		case O_CONFIG: a->config = v; break;
		case O_BREAKER: a->ov.name = v; break;
		case O_LINK: a->ov.link = v; break;
		case O_SERVICE: a->ov.service = v; break;
		case O_SINCE:
			if (parse_since(v, &a->ov.since))
				return fl_cli_usage_error("check",
							  "--since: bad time '%s' (integer ns)", v);
			a->ov.has_since = true;
			break;
		case O_EVMAX:
			a->evmax = strtol(v, &end, 10);
			if (*end || a->evmax < 0)
				return fl_cli_usage_error("check",
							  "--evidence-max: bad number '%s'", v);
			break;
		case O_REPORT:
			if (a->nreports == MAX_REPORTS)
				return fl_cli_usage_error("check", "at most %d reports",
							  MAX_REPORTS);
			a->reports[a->nreports++] = v;
			break;
		}
	}
	if (c < 0)
		return o.exit;
	char names[128];
	fl_checker_names(names, sizeof(names));
	if (o.optind >= argc)
		return fl_cli_usage_error("check", "which checker? %s", names);
	if (!(a->checker = fl_checker_find(argv[o.optind])))
		return fl_cli_usage_error("check", "unknown checker '%s' (%s)", argv[o.optind],
					  names);
	for (int i = o.optind + 1; i < argc; i++) {
		if (a->npaths == MAX_FILES)
			return fl_cli_usage_error("check", "at most %d history files", MAX_FILES);
		a->paths[a->npaths++] = argv[i];
	}
	if (!a->npaths)
		return fl_cli_usage_error("check", "missing HISTORY.jsonl");
	return -1;
}

/* The checker's configuration from --config and the options. 0, or the
 * exit code of the error (printed). */
static int configure(const struct check_args *a, union fl_checker_config *c)
{
	char err[512] = "";
	json_t *j = NULL;
	if (a->config && !(j = fl_json_load_file(a->config, err, sizeof(err)))) {
		fprintf(stderr, "faultline check: config %s\n", err);
		return FL_EXIT_USAGE;
	}
	int rc = fl_checker_configure(a->checker, c, j, &a->ov, err, sizeof(err));
	json_decref(j);
	if (rc) {
		fprintf(stderr, "faultline check: %s%s%s\n", a->config && j ? a->config : "",
			a->config && j ? ": " : "", err);
		return FL_EXIT_USAGE;
	}
	return 0;
}

static void print_result(const struct check_args *a, const struct fl_chk_history *h,
			 const struct fl_check_result *r)
{
	if (a->json) {
		json_t *rj = fl_check_result_json(r);
		json_t *files = json_array();
		for (int i = 0; i < a->npaths; i++)
			json_array_append_new(files, json_string(a->paths[i]));
		json_object_set_new(rj, "history", files);
		json_dumpf(rj, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(rj);
	} else {
		printf("history %s%s: %ld events (%ld ignored)\n", a->paths[0],
		       a->npaths > 1 ? " and more" : "", h->lines, h->ignored);
		fl_check_result_print(r, stdout, (size_t)a->evmax);
	}
	fflush(stdout);
}

static int cmd_check(int argc, char **argv)
{
	struct check_args a = { .evmax = 2000 };
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	union fl_checker_config c;
	if ((rc = configure(&a, &c)))
		return rc;
	char err[512] = "";
	struct fl_chk_history *h = NULL;
	struct fl_check_result *r = NULL;
	struct fl_report_set *set = NULL;
	if (a.nreports && !(set = fl_cli_reports("check", a.reports, a.nreports, 0, &rc)))
		return rc;
	rc = FL_EXIT_INFRA;
	if (!(h = fl_chk_history_new()))
		goto out;
	for (int i = 0; i < a.npaths; i++) {
		if (fl_chk_history_add_file(h, a.paths[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "faultline check: %s\n", err);
			rc = FL_EXIT_USAGE;
			goto out;
		}
	}
	if (!(r = a.checker->run(h, &c))) {
		fprintf(stderr, "faultline check: out of memory\n");
		goto out;
	}
	print_result(&a, h, r);
	rc = fl_check_exit_code(r->valid);
	if (set && write_reports(set, r, a.paths, a.npaths, argc, argv) < 0) {
		fprintf(stderr, "faultline check: out of memory writing the reports\n");
		rc = FL_EXIT_INFRA;
	}
out:
	fl_report_set_free(set);
	fl_check_result_free(r);
	fl_chk_history_free(h);
	return rc;
}

const struct fl_command fl_cmd_check = {
	.name = "check",
	.summary = "re-run a checker (saga, bank, breaker, probe) on a stored history",
	.help = help,
	.order = 50,
	.run = cmd_check,
};
