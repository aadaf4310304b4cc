/* faultline resume SERVICE: resume a paused service (SIGCONT). */
#include <signal.h>

#include "cli/system.h"

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline resume SERVICE [--data DIR | --system NAME]\n"
	  "\n"
	  "Send SIGCONT to SERVICE of the running system (see 'faultline up').\n"
	  "'proxy' names the fault injector. Exit 2 for an unknown service.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_resume(int argc, char **argv)
{
	return fl_sys_signal_command(&fl_cmd_resume, argc, argv, SIGCONT);
}

const struct fl_command fl_cmd_resume = {
	.name = "resume",
	.summary = "resume a paused service (SIGCONT)",
	.help = help,
	.order = 48,
	.run = cmd_resume,
};
