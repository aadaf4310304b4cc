/* The CLI's one option parser (cli/opts.c): getopt_long over an option
 * table, operands in any place, "--", --name=value, prefixes, usage errors
 * and help; and the help laid out from the same table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/command.h"

enum { O_REPORT = FL_OPT_LONG, O_DRY };

static const struct fl_opt opts[] = {
	{ "jobs", 'j', "N", "run N at once" },
	{ "quiet", 'q', NULL, "say less" },
	{ "report", O_REPORT, "FMT[=FILE]", "a report;\nrepeatable" },
	{ "dry-run", O_DRY, NULL, "do nothing" },
	{ "a-very-long-option-name", 'L', "VALUE", "long one" },
	{ NULL, 'o', "DIR", "short only" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: demo [OPTIONS] FILE...\n\n", opts },
	{ "\nThe end.\n", NULL },
	{ NULL, NULL },
};

static const struct fl_command demo = {
	.name = "demo",
	.summary = "a command for the tests",
	.help = help,
};

/* Parse argv (NULL-terminated, copied: getopt permutes it); the keys seen
 * with their values as "k=v " into seen; the operands into ops. Returns
 * what fl_opts_next ended with (0 or -1) and the exit code in *exit_code. */
static int parse(char *seen, char *ops, int *exit_code, ...)
{
	static char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, exit_code);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	struct fl_opts o;
	fl_opts_init(&o, &demo, opts, argc, argv);
	int c;
	seen[0] = ops[0] = '\0';
	while ((c = fl_opts_next(&o)) > 0) {
		char one[96];
		snprintf(one, sizeof(one), "%s=%s ", o.spelled, o.arg ? o.arg : "");
		strcat(seen, one);
	}
	*exit_code = o.exit;
	if (c == 0)
		for (int i = o.optind; i < argc; i++) {
			strcat(ops, argv[i]);
			strcat(ops, " ");
		}
	return c;
}

static void test_options_and_operands(void **state)
{
	(void)state;
	char seen[512], ops[512];
	int ex;
	assert_int_equal(parse(seen, ops, &ex, "demo", "a", "-j", "4", "--report=junit=x.xml", "b",
			       "-q", "--dry-run", "-oout", NULL), 0);
	assert_string_equal(seen, "--jobs=4 --report=junit=x.xml --quiet= --dry-run= -o=out ");
	assert_string_equal(ops, "a b ");
	/* a value may start with '-'; "--" ends the options */
	assert_int_equal(parse(seen, ops, &ex, "demo", "--report", "-", "--", "-q", "x", NULL), 0);
	assert_string_equal(seen, "--report=- ");
	assert_string_equal(ops, "-q x ");
	/* an unambiguous prefix; a short cluster */
	assert_int_equal(parse(seen, ops, &ex, "demo", "--rep", "tap", "-qj2", NULL), 0);
	assert_string_equal(seen, "--report=tap --quiet= --jobs=2 ");
	/* parsing twice starts over */
	assert_int_equal(parse(seen, ops, &ex, "demo", "f", NULL), 0);
	assert_string_equal(seen, "");
	assert_string_equal(ops, "f ");
}

static void test_usage_errors(void **state)
{
	(void)state;
	char seen[512], ops[512];
	int ex = -5;
	assert_int_equal(parse(seen, ops, &ex, "demo", "--nope", NULL), -1);
	assert_int_equal(ex, FL_EXIT_USAGE);
	ex = -5;
	assert_int_equal(parse(seen, ops, &ex, "demo", "a", "--jobs", NULL), -1);
	assert_int_equal(ex, FL_EXIT_USAGE);
	ex = -5;
	assert_int_equal(parse(seen, ops, &ex, "demo", "-x", NULL), -1);
	assert_int_equal(ex, FL_EXIT_USAGE);
	ex = -5;
	assert_int_equal(parse(seen, ops, &ex, "demo", "--quiet=yes", NULL), -1);
	assert_int_equal(ex, FL_EXIT_USAGE);
}

static void test_help_wins(void **state)
{
	(void)state;
	char seen[512], ops[512];
	int ex = -5;
	/* help anywhere before "--", even after a bad option */
	assert_int_equal(parse(seen, ops, &ex, "demo", "--nope", "-h", NULL), -1);
	assert_int_equal(ex, FL_EXIT_OK);
	ex = -5;
	assert_int_equal(parse(seen, ops, &ex, "demo", "x", "--help", NULL), -1);
	assert_int_equal(ex, FL_EXIT_OK);
	assert_int_equal(parse(seen, ops, &ex, "demo", "--", "--help", NULL), 0);
	assert_string_equal(ops, "--help ");
}

static char *help_text(const struct fl_command *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	fl_cli_help_print(cmd, f);
	fclose(f);
	return text;
}

static void test_help_layout(void **state)
{
	(void)state;
	char *text = help_text(&demo);
	/* the widest first column that fits sets the help column for all */
	assert_string_equal(text,
			    "Usage: demo [OPTIONS] FILE...\n"
			    "\n"
			    "  -j, --jobs N             run N at once\n"
			    "  -q, --quiet              say less\n"
			    "      --report FMT[=FILE]  a report;\n"
			    "                           repeatable\n"
			    "      --dry-run            do nothing\n"
			    "  -L, --a-very-long-option-name VALUE\n"
			    "                           long one\n"
			    "  -o DIR                   short only\n"
			    "  -h, --help               this help\n"
			    "\n"
			    "The end.\n");
	free(text);
	/* a command with a plain usage text prints it */
	const struct fl_command plain = { .name = "plain", .usage = "Usage: plain\n" };
	text = help_text(&plain);
	assert_string_equal(text, "Usage: plain\n");
	free(text);
}

/* Every command of the build has help that names it, and option tables
 * the parser takes whole. */
static void test_every_command(void **state)
{
	(void)state;
	int n = 0;
	for (const struct fl_command *const *c = fl_commands(); *c; c++, n++) {
		for (const struct fl_help *h = (*c)->help; h && (h->text || h->opts); h++) {
			int k = 0;
			for (const struct fl_opt *op = h->opts; op && op->key; op++)
				k++;
			if (k >= FL_OPTS_MAX)
				fail_msg("%s: %d options, raise FL_OPTS_MAX", (*c)->name, k);
		}
		char *text = help_text(*c);
		char want[64];
		snprintf(want, sizeof(want), "faultline %s", (*c)->name);
		if (!strstr(text, want))
			fail_msg("%s: help does not say '%s'", (*c)->name, want);
		free(text);
		assert_ptr_equal(fl_command_find((*c)->name), *c);
	}
	assert_true(n >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_and_operands),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_wins),
		cmocka_unit_test(test_help_layout),
		cmocka_unit_test(test_every_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
