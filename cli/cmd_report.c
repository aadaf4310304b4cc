/* faultline report: a run's reports after the fact, from its JSON journal
 * and history files, and the comparison of two runs. */
#include <stdio.h>
#include <string.h>

#include "cli/command.h"
#include "core/errors.h"
#include "report/report.h"

enum { O_COMPARE = FL_OPT_LONG };

static const struct fl_opt opts[] = {
	{ "output", 'o', "FILE", "where to write (default: report.html; '-': standard output)" },
	{ "format", 'f', "FMT",
	  "html (default; also from FILE's extension), junit (.xml),\n"
	  "json, tap, tap13, console" },
	{ "compare", O_COMPARE, NULL,
	  "two journals A B: one page with both runs, timelines on\n"
	  "shared axes, each invariant's verdict side by side, the\n"
	  "change in latency percentiles, throughput and error rate" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline report JOURNAL [HISTORY...] [-o FILE] [--format FMT]\n"
	  "       faultline report --compare A B [-o FILE]\n"
	  "\n"
	  "Write a finished run's report from its JSON journal (--report json=FILE of\n"
	  "run, chaos or check; or an experiment's --journal) and, for the timeline, its\n"
	  "history files (default: the --history file the journal names). The page is\n"
	  "the one --report html=FILE writes: self-contained, readable without scripts\n"
	  "or network.\n"
	  "\n",
	  opts },
	{ "\n"
	  "Exit status: 0 written, 2 usage error or unreadable journal, 3 the report could\n"
	  "not be written.\n"
	  "\n"
	  "Examples:\n"
	  "  faultline run scenarios/chaos --history h.jsonl --report json=run.json\n"
	  "  faultline report run.json -o run.html\n"
	  "  faultline report --compare before.json after.json -o diff.html\n",
	  NULL },
	{ NULL, NULL },
};

/* The format for an output file: from its extension, html otherwise. */
static const char *format_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strcmp(dot, ".xml"))
		return "junit";
	if (dot && !strcmp(dot, ".json"))
		return "json";
	if (dot && !strcmp(dot, ".tap"))
		return "tap";
	return "html";
}

static int load(const char *path, struct fl_report_run **run)
{
	char err[512] = "";
	int rc = fl_report_run_load(path, run, err, sizeof(err));
	if (rc == 0)
		return FL_EXIT_OK;
	fprintf(stderr, "faultline report: %s\n", err);
	return rc == FL_ENOMEM ? FL_EXIT_INFRA : FL_EXIT_USAGE;
}

static int compare(const char *a, const char *b, const char *out)
{
	struct fl_report_run *ra = NULL, *rb = NULL;
	int rc = load(a, &ra);
	if (rc == FL_EXIT_OK)
		rc = load(b, &rb);
	char err[512] = "";
	if (rc == FL_EXIT_OK && fl_report_compare(ra, rb, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "faultline report: %s\n", err);
		rc = FL_EXIT_INFRA;
	}
	fl_report_run_free(ra);
	fl_report_run_free(rb);
	return rc;
}

static int cmd_report(int argc, char **argv)
{
	const char *out = "report.html", *format = NULL;
	int cmp = 0, c;
	struct fl_opts o;
	fl_opts_init(&o, &fl_cmd_report, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case 'o': out = o.arg; break;
		case 'f': format = o.arg; break;
		case O_COMPARE: cmp = 1; break;
		}
	}
	if (c < 0)
		return o.exit;
	int first = o.optind;
	int nargs = argc - first;
	if (cmp) {
		if (nargs != 2)
			return fl_cli_usage_error("report", "--compare takes two journals, A and "
							    "B");
		if (format && strcmp(format, "html"))
			return fl_cli_usage_error("report", "--compare writes HTML only");
		return compare(argv[first], argv[first + 1], out);
	}
	if (nargs < 1)
		return fl_cli_usage_error("report", "missing JOURNAL (a --report json=FILE "
						    "journal)");
	char spec[4096];
	snprintf(spec, sizeof(spec), "%s=%s", format ? format : format_of(out), out);
	struct fl_report_run *run = NULL;
	int rc = load(argv[first], &run);
	if (rc)
		return rc;
	char err[512] = "";
	int wr = fl_report_run_write(run, spec, (const char *const *)argv + first + 1, nargs - 1,
				     err, sizeof(err));
	if (wr < 0) {
		fprintf(stderr, "faultline report: %s\n", err);
		rc = wr == FL_EINVAL ? FL_EXIT_USAGE : FL_EXIT_INFRA;
	}
	fl_report_run_free(run);
	return rc;
}

const struct fl_command fl_cmd_report = {
	.name = "report",
	.summary = "write a run's report from its journal and histories; compare two runs",
	.help = help,
	.order = 55,
	.run = cmd_report,
};
