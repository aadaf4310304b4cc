/* transferd: one service of the reference transfer system per process. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "transfer-system/rt.h"

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	struct rt_opts o;
	char err[512] = "";
	if (rt_opts_parse(&o, argc, argv, err, sizeof(err)) != 0) {
		if (strcmp(err, "help") == 0) {
			fputs(rt_usage, stdout);
			return 0;
		}
		/* the one list of planted bugs: faultline ref up asks for it */
		if (strcmp(err, "list-bugs") == 0) {
			for (int i = 0; rt_bug_names[i]; i++)
				puts(rt_bug_names[i]);
			return 0;
		}
		fprintf(stderr, "transferd: %s\nTry 'transferd --help'.\n", err);
		return 2;
	}
	return rt_run(&o);
}
