/* faultline term SERVICE: terminate a service gracefully (SIGTERM). */
#include <signal.h>

#include "cli/system.h"

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline term SERVICE [--data DIR | --system NAME]\n"
	  "\n"
	  "Send SIGTERM to SERVICE of the running system (see 'faultline up').\n"
	  "'proxy' names the fault injector. Exit 2 for an unknown service.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_term(int argc, char **argv)
{
	return fl_sys_signal_command(&fl_cmd_term, argc, argv, SIGTERM);
}

const struct fl_command fl_cmd_term = {
	.name = "term",
	.summary = "terminate a service gracefully (SIGTERM)",
	.help = help,
	.order = 46,
	.run = cmd_term,
};
