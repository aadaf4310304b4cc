/* faultline pause SERVICE: pause a service (SIGSTOP) until resume. */
#include <signal.h>

#include "cli/system.h"

static const struct fl_opt opts[] = {
	FL_SYS_OPTS,
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline pause SERVICE [--data DIR | --system NAME]\n"
	  "\n"
	  "Send SIGSTOP to SERVICE of the running system (see 'faultline up').\n"
	  "'proxy' names the fault injector. Exit 2 for an unknown service.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_pause(int argc, char **argv)
{
	return fl_sys_signal_command(&fl_cmd_pause, argc, argv, SIGSTOP);
}

const struct fl_command fl_cmd_pause = {
	.name = "pause",
	.summary = "pause a service (SIGSTOP) until resume",
	.help = help,
	.order = 47,
	.run = cmd_pause,
};
