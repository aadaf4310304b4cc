/* faultline chaos EXPERIMENT.lua: run a chaos experiment (steady-state
 * hypothesis, method, rollbacks) with the scenario runner. */
#include "cli/command.h"

static const char usage[] =
	"Usage: faultline chaos EXPERIMENT.lua [OPTIONS]\n"
	"\n"
	"Run a chaos experiment: check the steady-state hypothesis, run the method\n"
	"(faults and actions), check the hypothesis again, and always run the\n"
	"rollbacks — on success, failure, abort, Ctrl-C and SIGTERM. An experiment is\n"
	"a Lua file calling fl.chaos.experiment{...} (docs/chaos.md).\n"
	"\n"
	"Options:\n"
	"      --dry-run          print every step the experiment would take; take none\n"
	"      --allow HOST       a host HTTP may reach besides loopback (repeatable);\n"
	"                         any other target stops the experiment\n"
	"      --journal FILE     write the experiment journal (JSON): every probe,\n"
	"                         action and rollback with its time and result\n"
	"  -e, --env KEY=VAL      set fl.env.KEY (repeatable)\n"
	"  -s, --seed N           seed for every random draw (printed)\n"
	"      --timeout S        time limit of the experiment (default 60; 0 = none)\n"
	"  -r, --report FMT[=FILE]  console (default), tap, tap13, junit, json, html\n"
	"      --history FILE     history for workloads and fault windows (html charts)\n"
	"  -h, --help             this help\n"
	"\n"
	"Ctrl-C stops the experiment and runs the rollbacks; a second Ctrl-C\n"
	"abandons them (the journal says so).\n"
	"\n"
	"Exit status: 0 the hypothesis held, 1 it did not (or an action failed),\n"
	"2 the experiment file is wrong, 3 infrastructure error, 130 interrupted.\n";

static int cmd_chaos(int argc, char **argv)
{
	return fl_cli_run_scenarios(argc, argv, 1, usage);
}

const struct fl_command fl_cmd_chaos = {
	.name = "chaos",
	.summary = "run a chaos experiment (hypothesis, method, rollbacks)",
	.usage = usage,
	.order = 10,
	.run = cmd_chaos,
};
