/* Subcommands of the faultline CLI. Each lives in cli/cmd_<name>.c and
 * defines `const struct fl_command fl_cmd_<name>`; the build collects every
 * cli/cmd_*.c into the command table (build/gen/commands.inc), so adding a
 * command is adding its file. */
#ifndef FL_CLI_COMMAND_H
#define FL_CLI_COMMAND_H

#include <stddef.h>

/* Exit codes, the same for every command (design.md). */
enum fl_exit {
	FL_EXIT_OK = 0,			/* all passed */
	FL_EXIT_FAIL = 1,		/* a test, check or threshold failed */
	FL_EXIT_USAGE = 2,		/* usage, configuration or script error */
	FL_EXIT_INFRA = 3,		/* target unreachable, port in use, missing dependency */
	FL_EXIT_UNKNOWN = 4,		/* a checker could not decide */
	FL_EXIT_INTERRUPTED = 130,	/* interrupted (after rollback) */
};

struct fl_command {
	const char *name;	/* "run" */
	const char *summary;	/* one line for `faultline help` */
	const char *usage;	/* the full --help text */
	int order;		/* position in `faultline help` (lower first) */
	/* argv[0] is the command name. Returns an enum fl_exit value. A command
	 * prints its own errors and never calls exit(). */
	int (*run)(int argc, char **argv);
};

/* The command table, NULL-terminated, sorted by order then name. */
const struct fl_command *const *fl_commands(void);

/* The command named `name`, or NULL. */
const struct fl_command *fl_command_find(const char *name);

/* True if argv[1..argc-1] contains -h or --help (before a "--"). Commands call
 * this first and print their usage. */
int fl_cli_wants_help(int argc, char **argv);

/* Print "faultline CMD: message\nTry 'faultline CMD --help'." to stderr and
 * return FL_EXIT_USAGE. */
int fl_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "faultline CMD ARGS..." for argv (argv[0] the command name), quoted for
 * a POSIX shell: the command that reproduces a run, for its reports.
 * Caller frees; NULL when out of memory. */
char *fl_cli_command_line(int argc, char **argv);

/* The scenario runner behind `faultline run` (chaos = 0) and `faultline
 * chaos` (chaos = 1: experiment options, HTTP limited to loopback and
 * --allow hosts). `help` is the command's --help text. Returns an exit code. */
int fl_cli_run_scenarios(int argc, char **argv, int chaos, const char *help);

#endif
