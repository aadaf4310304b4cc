/* What the commands on a running system under test share (up, down,
 * status, logs, restart, kill, term, pause, resume): finding its data
 * directory and the option table for it. */
#ifndef FL_CLI_SYSTEM_H
#define FL_CLI_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cli/command.h"

enum { FL_SYS_DATA = FL_OPT_LONG + 40, FL_SYS_SYSTEM };

#define FL_SYS_OPTS                                                                                \
	{ "data", FL_SYS_DATA, "DIR",                                                              \
	  "the system's data directory (default: $FL_UP_DATA, else the\n"                          \
	  "one system running under /tmp/faultline-up-UID)" },                                     \
	{                                                                                          \
		"system", FL_SYS_SYSTEM, "NAME",                                                   \
			"the system named NAME (/tmp/faultline-up-UID/NAME)"                       \
	}

/* The data directory of the system the command acts on, into out: --data,
 * --system NAME, $FL_UP_DATA, else the only running one. Prints an error
 * and returns an exit code when it cannot tell; 0 when found. */
int fl_sys_data(const char *cmd, const char *data, const char *system, char *out, size_t n);

/* kill, term, pause, resume: send sig to the named service. */
int fl_sys_signal_command(const struct fl_command *cmd, int argc, char **argv, int sig);

/* status, ref status: print the network-namespace hosts of a launcher
 * status (fl_launcher_status; borrowed), each with its agent, when print is
 * set. Returns FL_EXIT_FAIL when a host's agent is not ready, else
 * FL_EXIT_OK (also when the system has no hosts). */
int fl_sys_print_hosts(const json_t *status, bool print);

#endif
