/* faultline kill SERVICE: kill a service (SIGKILL); its exit is recorded. */
#include <signal.h>

#include "cli/system.h"

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline kill SERVICE [--data DIR | --system NAME]\n"
	  "\n"
	  "Send SIGKILL to SERVICE of the running system (see 'faultline up').\n"
	  "'proxy' names the fault injector. Exit 2 for an unknown service.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_kill(int argc, char **argv)
{
	return fl_sys_signal_command(&fl_cmd_kill, argc, argv, SIGKILL);
}

const struct fl_command fl_cmd_kill = {
	.name = "kill",
	.summary = "kill a service (SIGKILL); its exit is recorded",
	.help = help,
	.order = 45,
	.run = cmd_kill,
};
