/* faultline help [COMMAND] */
#include <stdio.h>

#include "cli/command.h"

static const char usage[] =
	"Usage: faultline help [COMMAND]\n"
	"\n"
	"List the commands, or print the full help of one (the same as\n"
	"'faultline COMMAND --help').\n";

static int cmd_help(int argc, char **argv)
{
	if (fl_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return FL_EXIT_OK;
	}
	if (argc > 2)
		return fl_cli_usage_error("help", "expected at most one command name");
	if (argc == 2) {
		const struct fl_command *c = fl_command_find(argv[1]);
		if (!c)
			return fl_cli_usage_error("help", "unknown command '%s'", argv[1]);
		fputs(c->usage, stdout);
		return FL_EXIT_OK;
	}
	printf("faultline %s: distributed-systems testing and chaos toolkit\n\n"
	       "Usage: faultline COMMAND [OPTIONS]\n\nCommands:\n",
	       FL_VERSION);
	for (const struct fl_command *const *c = fl_commands(); *c; c++)
		printf("  %-10s %s\n", (*c)->name, (*c)->summary);
	printf("\nRun 'faultline help COMMAND' or 'faultline COMMAND --help' for details.\n"
	       "Exit codes: 0 passed, 1 failed, 2 usage/script error, 3 infrastructure error,\n"
	       "4 indeterminate, 130 interrupted.\n");
	return FL_EXIT_OK;
}

const struct fl_command fl_cmd_help = {
	.name = "help",
	.summary = "list commands or show one command's help",
	.usage = usage,
	.order = 91,
	.run = cmd_help,
};
