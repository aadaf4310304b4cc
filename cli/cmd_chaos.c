/* faultline chaos EXPERIMENT.lua: run a chaos experiment (steady-state
 * hypothesis, method, rollbacks) with the scenario runner. */
#include "cli/command.h"

static const struct fl_opt chaos_opts[] = {
	{ "dry-run", FL_RUN_DRY_RUN, NULL,
	  "print every step the experiment would take; take none" },
	{ "allow", FL_RUN_ALLOW, "HOST|CIDR",
	  "a host name, IP or CIDR block (198.18.0.0/24) HTTP and\n"
	  "declared targets may reach besides loopback (repeatable;\n"
	  "commas too); any other target stops the experiment" },
	{ "journal", FL_RUN_JOURNAL, "FILE",
	  "write the experiment journal (JSON): every probe,\n"
	  "action and rollback with its time and result" },
	{ "env", 'e', "KEY=VAL", "set fl.env.KEY (repeatable)" },
	{ "seed", 's', "N", "seed for every random draw (printed)" },
	{ "timeout", FL_RUN_TIMEOUT, "S", "time limit of the experiment (default 60; 0 = none)" },
	{ "report", 'r', "FMT[=FILE]",
	  "console (default), tap, tap13, junit (a test case per\n"
	  "probe, step and rollback), json, html (one page: probes\n"
	  "before and after, steps, rollbacks; docs/reports.md)" },
	{ "history", FL_RUN_HISTORY, "FILE",
	  "history for workloads and fault windows (html charts)" },
	{ "quiet", 'q', NULL, "no console report unless another is asked for" },
	{ "tag", 't', "TAG", "run only tests tagged TAG (repeatable; ~TAG excludes)" },
	{ "grep", 'g', "REGEX", "run only tests whose \"suite > name\" matches" },
	{ "jobs", 'j', "N", "run N experiment files in parallel" },
	{ "retries", FL_RUN_RETRIES, "N", "rerun a failing test up to N times" },
	{ "pass-with-no-tests", FL_RUN_PASS_EMPTY, NULL,
	  "exit 0 when no experiment ran (default: exit 2)" },
	FL_OPTS_RUN_TOKEN,
	FL_OPTS_CLIENT_TLS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help chaos_help[] = {
	{ "Usage: faultline chaos EXPERIMENT.lua [OPTIONS]\n"
	  "\n"
	  "Run a chaos experiment: check the steady-state hypothesis, run the method\n"
	  "(faults and actions), check the hypothesis again, and always run the\n"
	  "rollbacks — on success, failure, abort, Ctrl-C and SIGTERM. An experiment is\n"
	  "a Lua file calling fl.chaos.experiment{...} (docs/chaos.md).\n"
	  "\n"
	  "Options:\n",
	  chaos_opts },
	{ "\n"
	  "Agents (fl.proxy, and every fault the experiment makes through it) are\n"
	  "called with the token of --token-file, --token or $FAULTLINE_TOKEN.\n"
	  "\n"
	  "Ctrl-C stops the experiment and runs the rollbacks; a second Ctrl-C\n"
	  "abandons them (the journal says so).\n"
	  "\n"
	  "Exit status: 0 the hypothesis held, 1 it did not (or an action failed),\n"
	  "2 the experiment file is wrong (or never calls fl.chaos.experiment), 3\n"
	  "infrastructure error, 130 interrupted.\n",
	  NULL },
	{ NULL, NULL },
};

static int cmd_chaos(int argc, char **argv)
{
	return fl_cli_run_scenarios(argc, argv, &fl_cmd_chaos, chaos_opts, 1);
}

const struct fl_command fl_cmd_chaos = {
	.name = "chaos",
	.summary = "run a chaos experiment (hypothesis, method, rollbacks)",
	.help = chaos_help,
	.order = 10,
	.run = cmd_chaos,
};
