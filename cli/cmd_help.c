/* faultline help [COMMAND] */
#include <stdio.h>

#include "cli/command.h"

static const struct fl_opt opts[] = {
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline help [COMMAND]\n"
	  "\n"
	  "List the commands, or print the full help of one (the same as\n"
	  "'faultline COMMAND --help').\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

static int cmd_help(int argc, char **argv)
{
	struct fl_opts o;
	int c;
	fl_opts_init(&o, &fl_cmd_help, opts, argc, argv);
	while ((c = fl_opts_next(&o)) > 0)
		;
	if (c < 0)
		return o.exit;
	if (argc - o.optind > 1)
		return fl_cli_usage_error("help", "expected at most one command name");
	if (argc - o.optind == 1) {
		const struct fl_command *cmd = fl_command_find(argv[o.optind]);
		if (!cmd)
			return fl_cli_usage_error("help", "unknown command '%s'", argv[o.optind]);
		fl_cli_help_print(cmd, stdout);
		return FL_EXIT_OK;
	}
	printf("faultline %s: distributed-systems testing and chaos toolkit\n\n"
	       "Usage: faultline COMMAND [OPTIONS]\n\nCommands:\n",
	       FL_VERSION);
	for (const struct fl_command *const *cmd = fl_commands(); *cmd; cmd++)
		printf("  %-10s %s\n", (*cmd)->name, (*cmd)->summary);
	printf("\nRun 'faultline help COMMAND' or 'faultline COMMAND --help' for details.\n"
	       "Exit codes: 0 passed, 1 failed, 2 usage/script error, 3 infrastructure error,\n"
	       "4 indeterminate, 130 interrupted.\n");
	return FL_EXIT_OK;
}

const struct fl_command fl_cmd_help = {
	.name = "help",
	.summary = "list commands or show one command's help",
	.help = help,
	.order = 91,
	.run = cmd_help,
};
