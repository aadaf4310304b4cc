/* The command table, collected at build time from cli/cmd_*.c. */
#include "cli/command.h"
#include "core/errors.h"
#include "runner/runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct fl_command *table[] = {
#define FL_CMD(n) &fl_cmd_##n,
#include "commands.inc"
#undef FL_CMD
	NULL,
};

static int cmd_cmp(const void *a, const void *b)
{
	const struct fl_command *x = *(const struct fl_command *const *)a;
	const struct fl_command *y = *(const struct fl_command *const *)b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

const struct fl_command *const *fl_commands(void)
{
	static int sorted;
	if (!sorted) {
		qsort(table, sizeof(table) / sizeof(table[0]) - 1, sizeof(table[0]), cmd_cmp);
		sorted = 1;
	}
	return table;
}

const struct fl_command *fl_command_find(const char *name)
{
	for (const struct fl_command *const *c = fl_commands(); *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

int fl_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int fl_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "faultline %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'faultline %s --help'.\n", cmd);
	return FL_EXIT_USAGE;
}

char *fl_cli_command_line(int argc, char **argv)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	fputs("faultline", f);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		fputc(' ', f);
		if (*a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_=./:,@+%") == strlen(a)) {
			fputs(a, f);
			continue;
		}
		fputc('\'', f); /* shell single quotes; ' itself as '\'' */
		for (; *a; a++)
			*a == '\'' ? fputs("'\\''", f) : fputc(*a, f);
		fputc('\'', f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

struct fl_report_set *fl_cli_reports(const char *cmd, const char *const *specs, int n, int console,
				     int *rc)
{
	char err[512] = "";
	struct fl_report_set *set = NULL;
	int r = fl_runner_reports(specs, n, !console, &set, err, sizeof(err));
	if (r == FL_EINVAL || r == FL_EEXIST) {
		*rc = fl_cli_usage_error(cmd, "%s", err);
	} else if (r < 0) {
		fprintf(stderr, "faultline %s: %s\n", cmd, err);
		*rc = FL_EXIT_INFRA;
	}
	return set;
}
