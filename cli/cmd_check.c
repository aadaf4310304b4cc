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
	{ "config", O_CONFIG, "FILE", "the checker's configuration (JSON); for breaker a\n"
		"service's /breakers output or one breaker's config" },
	{ "breaker", O_BREAKER, "NAME", "breaker: which breaker (in the history and the config)" },
	{ "link", O_LINK, "NAME", "breaker: proxy link whose exchanges are the downstream calls" },
	{ "service", O_SERVICE, "NAME", "probe: the probed service" },
	{ "since", O_SINCE, "NS", "saga, breaker: check only what starts at or after this\n"
		"time (monotonic ns, as the history's \"t\"); earlier\n"
		"events only build state (balances, the breaker's window)" },
	{ "json", O_JSON, NULL, "print the result as JSON" },
	{ "report", O_REPORT, "FMT=FILE", "also write a report: junit, json, html (one page with the\n"
		"history's timeline and the verdicts), tap, tap13 or\n"
		"console, one test per invariant (repeatable)" },
	{ "evidence-max", O_EVMAX, "N", "bytes of evidence printed per example (default 2000, 0: all)" },
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
	  "  saga      money and sagas: M1-M3, S1-S6, Q1-Q2\n"
	  "  bank      Jepsen's bank test: snapshots sum to the total (B1), none negative (B2)\n"
	  "  breaker   circuit breaker, Resilience4j semantics: C1-C7\n"
	  "  probe     health probes and graceful shutdown, Kubernetes semantics: H1-H5\n"
	  "\n", opts },
	{ "\n"
	  "Exit status: 0 valid, 1 invalid, 4 unknown (could not decide), 2 usage,\n"
	  "configuration or history error.\n", NULL },
	{ NULL, NULL },
};

#define MAX_REPORTS 8

/* The --report files: one report set for them all (NULL without any; *rc
 * set on error). */
static struct fl_report_set *open_reports(const char *const *specs, int n, int *rc)
{
	if (!n)
		return NULL;
	struct fl_report_set *set = fl_report_set_new();
	if (!set) {
		*rc = FL_EXIT_INFRA;
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		struct fl_reporter rep;
		char err[256] = "";
		int r = fl_reporter_create(specs[i], &rep, err, sizeof(err));
		if (r == 0 && (r = fl_report_set_add(set, rep)) == FL_EEXIST)
			snprintf(err, sizeof(err), "another report already writes there");
		if (r < 0) {
			fprintf(stderr, "faultline check: --report %s: %s\n", specs[i],
				err[0] ? err : fl_strerror(r));
			*rc = r == FL_EINVAL || r == FL_EEXIST ? FL_EXIT_USAGE : FL_EXIT_INFRA;
			fl_report_set_free(set);
			return NULL;
		}
	}
	return set;
}

/* The reports of one checker's result: a run of one file, "check.CHECKER",
 * with a test per invariant; the result itself rides along as the run's
 * "checks" (the JSON journal and the HTML page show it whole). */
static int write_reports(struct fl_report_set *set, const struct fl_check_result *r,
			 const char *history, int argc, char **argv)
{
	char *command = fl_cli_command_line(argc, argv);
	json_t *rj = fl_check_result_json(r);
	json_t *extra = rj ? json_pack("{s:[o]}", "checks", rj) : NULL;
	struct fl_run_summary sum = { .duration_ns = r->duration_ns, .history_path = history,
				      .command = command, .extra = extra };
	fl_report_run_begin(set, 1, 0);
	int rc = extra ? fl_check_result_report(r, set, &sum) : FL_ENOMEM;
	fl_report_run_end(set, &sum);
	json_decref(extra);
	free(command);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
#define MAX_FILES 64
	const char *which = NULL, *config = NULL, *breaker = NULL, *link = NULL, *service = NULL;
	const char *paths[MAX_FILES];
	int npaths = 0;
	const char *reports[MAX_REPORTS];
	int nreports = 0, json = 0;
	long evmax = 2000;
	const char *since = NULL;
	struct fl_opts o;
	int oc;
	fl_opts_init(&o, &fl_cmd_check, opts, argc, argv);
	while ((oc = fl_opts_next(&o)) > 0) {
		const char *v = o.arg;
		switch (oc) {
		case O_JSON: json = 1; break;
		case O_CONFIG: config = v; break;
		case O_BREAKER: breaker = v; break;
		case O_LINK: link = v; break;
		case O_SERVICE: service = v; break;
		case O_SINCE: since = v; break;
		case O_EVMAX: {
			char *end;
			evmax = strtol(v, &end, 10);
			if (*end || evmax < 0)
				return fl_cli_usage_error("check", "--evidence-max: bad number '%s'", v);
			break;
		}
		case O_REPORT:
			if (nreports == MAX_REPORTS)
				return fl_cli_usage_error("check", "at most %d reports", MAX_REPORTS);
			reports[nreports++] = v;
			break;
		}
	}
	if (oc < 0)
		return o.exit;
	for (int i = o.optind; i < argc; i++) {
		if (!which)
			which = argv[i];
		else if (npaths < MAX_FILES)
			paths[npaths++] = argv[i];
		else
			return fl_cli_usage_error("check", "at most %d history files", MAX_FILES);
	}
	if (!which)
		return fl_cli_usage_error("check", "which checker? saga, bank, breaker or probe");
	if (strcmp(which, "saga") && strcmp(which, "bank") && strcmp(which, "breaker") &&
	    strcmp(which, "probe"))
		return fl_cli_usage_error("check", "unknown checker '%s' (saga, bank, breaker, probe)",
					  which);
	if (!npaths)
		return fl_cli_usage_error("check", "missing HISTORY.jsonl");
	long long since_ns = 0;
	if (since) {
		char *end;
		errno = 0;
		since_ns = strtoll(since, &end, 10);
		if (!*since || *end || errno)
			return fl_cli_usage_error("check", "--since: bad time '%s' (integer ns)", since);
		if (strcmp(which, "saga") && strcmp(which, "breaker"))
			return fl_cli_usage_error("check", "--since applies to saga and breaker");
	}
	char err[512] = "";
	json_t *cfgj = NULL;
	int rc = FL_EXIT_USAGE;
	struct fl_report_set *set = open_reports(reports, nreports, &rc);
	if (nreports && !set)
		return rc;
	if (config && !(cfgj = fl_json_load_file(config, err, sizeof(err)))) {
		fprintf(stderr, "faultline check: config %s\n", err);
		return FL_EXIT_USAGE;
	}
	struct fl_chk_history *h = NULL;
	struct fl_check_result *r = NULL;
	union {
		struct fl_saga_config saga;
		struct fl_bank_config bank;
		struct fl_breaker_config breaker;
		struct fl_probe_check_config probe;
	} c;
	int crc = 0;
	if (!strcmp(which, "saga")) {
		fl_saga_config_defaults(&c.saga);
		if (cfgj)
			crc = fl_saga_config_from_json(&c.saga, cfgj, err, sizeof(err));
	} else if (!strcmp(which, "bank")) {
		fl_bank_config_defaults(&c.bank);
		if (cfgj)
			crc = fl_bank_config_from_json(&c.bank, cfgj, err, sizeof(err));
	} else if (!strcmp(which, "breaker")) {
		fl_breaker_config_defaults(&c.breaker);
		if (cfgj)
			crc = fl_breaker_config_from_json(&c.breaker, cfgj, breaker, err, sizeof(err));
		if (!crc && breaker)
			snprintf(c.breaker.name, sizeof(c.breaker.name), "%s", breaker);
		if (!crc && link)
			snprintf(c.breaker.link, sizeof(c.breaker.link), "%s", link);
	} else {
		fl_probe_check_config_defaults(&c.probe);
		if (cfgj)
			crc = fl_probe_check_config_from_json(&c.probe, cfgj, err, sizeof(err));
		if (!crc && service)
			snprintf(c.probe.service, sizeof(c.probe.service), "%s", service);
	}
	if (crc) {
		fprintf(stderr, "faultline check: %s: %s\n", config, err);
		goto out;
	}
	if (since && !strcmp(which, "saga"))
		c.saga.since = (int64_t)since_ns;
	else if (since)
		c.breaker.since = (int64_t)since_ns;
	h = fl_chk_history_new();
	if (!h) {
		rc = FL_EXIT_INFRA;
		goto out;
	}
	for (int i = 0; i < npaths; i++) {
		if (fl_chk_history_add_file(h, paths[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "faultline check: %s\n", err);
			goto out;
		}
	}
	if (!strcmp(which, "saga"))
		r = fl_check_saga(h, &c.saga);
	else if (!strcmp(which, "bank"))
		r = fl_check_bank(h, &c.bank);
	else if (!strcmp(which, "breaker"))
		r = fl_check_breaker(h, &c.breaker);
	else
		r = fl_check_probe(h, &c.probe);
	if (!r) {
		fprintf(stderr, "faultline check: out of memory\n");
		rc = FL_EXIT_INFRA;
		goto out;
	}
	json_t *rj = NULL;
	if (json) {
		rj = fl_check_result_json(r);
		json_t *files = json_array();
		for (int i = 0; i < npaths; i++)
			json_array_append_new(files, json_string(paths[i]));
		json_object_set_new(rj, "history", files);
		json_dumpf(rj, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		printf("history %s%s: %ld events (%ld ignored)\n", paths[0],
		       npaths > 1 ? " and more" : "", h->lines, h->ignored);
		fl_check_result_print(r, stdout, (size_t)evmax);
	}
	fflush(stdout);
	rc = fl_check_exit_code(r->valid);
	if (set && write_reports(set, r, paths[0], argc, argv) < 0) {
		fprintf(stderr, "faultline check: out of memory writing the reports\n");
		rc = FL_EXIT_INFRA;
	}
	json_decref(rj);
out:
	fl_report_set_free(set);
	fl_check_result_free(r);
	fl_chk_history_free(h);
	json_decref(cfgj);
	return rc;
}

const struct fl_command fl_cmd_check = {
	.name = "check",
	.summary = "re-run a checker (saga, bank, breaker, probe) on a stored history",
	.help = help,
	.order = 50,
	.run = cmd_check,
};
