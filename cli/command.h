/* Subcommands of the faultline CLI. Each lives in cli/cmd_<name>.c and
 * defines `const struct fl_command fl_cmd_<name>`; the build collects every
 * cli/cmd_*.c into the command table (build/gen/commands.inc), so adding a
 * command is adding its file. */
#ifndef FL_CLI_COMMAND_H
#define FL_CLI_COMMAND_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes, the same for every command (docs/cli.md, "Exit codes"). */
enum fl_exit {
	FL_EXIT_OK = 0,		   /* all passed */
	FL_EXIT_FAIL = 1,	   /* a test, check or threshold failed */
	FL_EXIT_USAGE = 2,	   /* usage, configuration or script error */
	FL_EXIT_INFRA = 3,	   /* target unreachable, port in use, missing dependency */
	FL_EXIT_UNKNOWN = 4,	   /* a checker could not decide */
	FL_EXIT_INTERRUPTED = 130, /* interrupted (after rollback) */
};

/* One option of a command. A command's option table is the one source of
 * both its parsing (getopt_long) and its --help lines, so the two cannot
 * drift. A table ends with an entry whose key is 0. */
struct fl_opt {
	const char *name; /* long name without "--" ("tag"); NULL: short only */
	int key;	  /* the short letter ('t' for -t), or FL_OPT_LONG + n for an
				 * option with no short form; fl_opts_next returns it */
	const char *arg;  /* the value's name in the help ("TAG"); NULL: takes no value */
	const char *help; /* its help, lines separated by '\n' */
};
#define FL_OPT_LONG 256
#define FL_OPT_HELP                                                                                \
	{                                                                                          \
		"help", 'h', NULL, "this help"                                                     \
	}
#define FL_OPT_END                                                                                 \
	{                                                                                          \
		NULL, 0, NULL, NULL                                                                \
	}

/* A part of a command's --help: text printed as it is, then the lines of an
 * option table (or none). A command's sections end with { NULL, NULL }. */
struct fl_help {
	const char *text;
	const struct fl_opt *opts;
};

struct fl_command {
	const char *name;	    /* "run" */
	const char *summary;	    /* one line for `faultline help` */
	const char *usage;	    /* the full --help text, for a command without `help` */
	const struct fl_help *help; /* --help made of text and option tables */
	int order;		    /* position in `faultline help` (lower first) */
	/* argv[0] is the command name. Returns an enum fl_exit value. A command
	 * prints its own errors and never calls exit(). */
	int (*run)(int argc, char **argv);
};

/* Every command, fl_cmd_NAME (the build lists cli/cmd_*.c in commands.inc). */
#define FL_CMD(n) extern const struct fl_command fl_cmd_##n;
#include "commands.inc"
#undef FL_CMD

/* The command table, NULL-terminated, sorted by order then name. */
const struct fl_command *const *fl_commands(void);

/* The command named `name`, or NULL. */
const struct fl_command *fl_command_find(const char *name);

/* Print cmd's --help to f: its `help` sections (each option table laid out
 * in two columns) or else its `usage` text. */
void fl_cli_help_print(const struct fl_command *cmd, FILE *f);

/* The option parser every command uses: getopt_long over an option table.
 *
 *	struct fl_opts o;
 *	fl_opts_init(&o, &fl_cmd_check, opts, argc, argv);
 *	while ((c = fl_opts_next(&o)) > 0)
 *		switch (c) { case 'j': ... o.arg ... }
 *	if (c < 0)
 *		return o.exit;
 *	operands: argv[o.optind .. argc-1]
 *
 * Options and operands may be mixed (getopt permutes argv); "--" ends the
 * options; --name=value and unambiguous prefixes of long names work. -h and
 * --help anywhere before "--" print the command's help. An unknown option
 * or a missing value prints a usage error. `sub` (may be NULL) names a
 * subcommand in error messages ("verify: unknown option '--x'"). */
#define FL_OPTS_MAX 48
struct fl_opts {
	const struct fl_command *cmd; /* borrowed */
	const char *sub;	      /* borrowed, or NULL */
	const struct fl_opt *table;   /* borrowed */
	int argc;
	char **argv;	  /* borrowed; permuted by getopt */
	const char *arg;  /* the value of the option just returned */
	char spelled[64]; /* the option just returned, "--jobs" or "-j" */
	int optind;	  /* after the last option: the first operand */
	int exit;	  /* when fl_opts_next returned -1: the exit code */
	int started;
	struct option longopts[FL_OPTS_MAX + 2];
	char shortopts[3 * FL_OPTS_MAX + 4];
};

void fl_opts_init(struct fl_opts *o, const struct fl_command *cmd, const struct fl_opt *table,
		  int argc, char **argv);

/* The next option's key (its value in o->arg); 0 when the options are done
 * (operands from o->optind); -1 when the command must stop and return o->exit:
 * help was printed (FL_EXIT_OK) or a usage error (FL_EXIT_USAGE). */
int fl_opts_next(struct fl_opts *o);

/* Report a bad value of the option just returned: "faultline CMD: [SUB: ]
 * message" and the --help hint. Returns FL_EXIT_USAGE. */
int fl_opts_error(const struct fl_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The TLS options of every command that talks HTTP(S) to an agent or a
 * provider (cli/client_opts.c): put FL_OPTS_CLIENT_TLS in the command's
 * table, hand each option to fl_cli_tls_take, then call fl_cli_tls_check. */
enum fl_client_opt_key {
	FL_CLIENT_CACERT = FL_OPT_LONG + 200,
	FL_CLIENT_CERT,
	FL_CLIENT_KEY,
	FL_CLIENT_INSECURE,
};
#define FL_OPTS_CLIENT_TLS                                                                         \
	{ "cacert", FL_CLIENT_CACERT, "FILE",                                                      \
	  "trust the CA certificates in FILE (PEM) for\n"                                          \
	  "https:// URLs instead of the system's" },                                               \
		{ "cert", FL_CLIENT_CERT, "FILE",                                                  \
		  "present this client certificate (PEM) to https://\n"                            \
		  "servers that ask for one (mutual TLS)" },                                       \
		{ "key", FL_CLIENT_KEY, "FILE",                                                    \
		  "the client certificate's private key (PEM; default:\n"                          \
		  "in the --cert file)" },                                                         \
	{                                                                                          \
		"insecure", FL_CLIENT_INSECURE, NULL,                                              \
			"do not verify the certificates of https://\n"                             \
			"servers (tests only)"                                                     \
	}
struct fl_http_tls;
/* 1 when c is one of the TLS options (its value arg, borrowed, stored in *t), else 0. */
int fl_cli_tls_take(struct fl_http_tls *t, int c, const char *arg);
/* After the options: --key needs --cert, and the files must be readable.
 * Returns -1 to go on, else FL_EXIT_USAGE (printed as a usage error of cmd). */
int fl_cli_tls_check(const char *cmd, const struct fl_http_tls *t);

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

/* The report set of a command's --report options ("FORMAT[=FILE]",
 * borrowed), wired as the runner does; with `console`, also the console
 * report unless one is asked for (on standard error when another report
 * writes to standard output). NULL with the error printed and *rc set:
 * usage for a bad spec or two reports in one place, infrastructure
 * otherwise. Free with fl_report_set_free. */
struct fl_report_set;
struct fl_report_set *fl_cli_reports(const char *cmd, const char *const *specs, int n, int console,
				     int *rc);

/* The scenario runner behind `faultline run` (chaos = 0) and `faultline
 * chaos` (chaos = 1: experiment options, HTTP limited to loopback and
 * --allow hosts), parsing argv with `opts` (cmd_run.c's or cmd_chaos.c's
 * table; the keys without a short form are these). Returns an exit code. */
enum fl_run_opt_key {
	FL_RUN_TIMEOUT = FL_OPT_LONG,
	FL_RUN_RETRIES,
	FL_RUN_HISTORY,
	FL_RUN_DRY_RUN,
	FL_RUN_ALLOW,
	FL_RUN_JOURNAL,
	FL_RUN_PASS_EMPTY,
	FL_RUN_TOKEN,
	FL_RUN_TOKEN_FILE,
	FL_RUN_BAIL,
};
/* The agent token options of run and chaos (as contract record's and the
 * agent's): the token reaches fl.proxy as $FAULTLINE_TOKEN. */
#define FL_OPTS_RUN_TOKEN                                                                          \
	{ "token-file", FL_RUN_TOKEN_FILE, "FILE",                                                 \
	  "the agents' bearer token, from FILE's first line\n"                                     \
	  "(default: $FAULTLINE_TOKEN, then $FAULTLINE_PROXY_TOKEN)" },                            \
	{                                                                                          \
		"token", FL_RUN_TOKEN, "T",                                                        \
			"the token itself (shows in the process list:\n"                           \
			"prefer --token-file or FAULTLINE_TOKEN)"                                  \
	}
int fl_cli_run_scenarios(int argc, char **argv, const struct fl_command *cmd,
			 const struct fl_opt *opts, int chaos);

#endif
