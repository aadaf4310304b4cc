#include "core/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The state letter (field 3) and the start time (field 22) of
 * /proc/PID/stat; 0 when gone or unreadable. */
static unsigned long long read_stat(pid_t pid, char *state)
{
	char path[64], buf[1024];
	*state = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	/* the command may hold spaces and parentheses: fields count from the last ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	*state = p[2];
	int field = 2;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return field == 22 ? strtoull(p, NULL, 10) : 0;
}

unsigned long long fl_proc_start_time(pid_t pid)
{
	char state;
	return read_stat(pid, &state);
}

unsigned long long fl_proc_live_start_time(pid_t pid)
{
	char state;
	unsigned long long start = read_stat(pid, &state);
	return state == 'Z' || state == 'X' ? 0 : start;
}
