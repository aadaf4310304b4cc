/* faultline: the CLI entry point. Dispatches to a subcommand; the only
 * place that exits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/command.h"

/* Thousands of virtual clients or proxied connections need descriptors:
 * raise the soft limit to the hard one. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (argc < 2) {
		const struct fl_command *help = fl_command_find("help");
		char *hargv[] = { "help", NULL };
		help->run(1, hargv);
		return FL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		name = "help";
	else if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		name = "version";
	const struct fl_command *cmd = fl_command_find(name);
	if (!cmd) {
		fprintf(stderr, "faultline: unknown command '%s'\nTry 'faultline help'.\n", name);
		return FL_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
