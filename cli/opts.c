/* The option parser and the --help layout every command shares: one option
 * table (struct fl_opt) gives both getopt_long's arrays and the help lines. */
#include <stdarg.h>
#include <string.h>

#include "cli/command.h"

/* The short form of key, or 0 when it has none. */
static int short_of(int key)
{
	return key > ' ' && key < 127 ? key : 0;
}

/* "  -t, --tag TAG" (or "      --timeout S", "  -o DIR") into buf. */
static size_t opt_left(const struct fl_opt *op, char *buf, size_t len)
{
	int s = short_of(op->key);
	int n;
	if (op->name)
		n = snprintf(buf, len, "  %c%c%s--%s%s%s", s ? '-' : ' ', s ? s : ' ',
			     s ? ", " : "  ", op->name, op->arg ? " " : "", op->arg ? op->arg : "");
	else
		n = snprintf(buf, len, "  -%c%s%s", s, op->arg ? " " : "", op->arg ? op->arg : "");
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

#define HELP_MAX_LEFT 30

/* The widest first column of table t up to HELP_MAX_LEFT, or w if wider. */
static size_t table_width(const struct fl_opt *t, size_t w)
{
	char left[128];
	for (const struct fl_opt *op = t; op->key; op++) {
		size_t n = opt_left(op, left, sizeof(left));
		if (n <= HELP_MAX_LEFT && n > w)
			w = n;
	}
	return w;
}

/* The table's lines: the option in a first column w wide (a wider one puts
 * its help on the next line), its help in the second, continuation lines
 * aligned under it. */
static void print_table(const struct fl_opt *t, size_t w, FILE *f)
{
	char left[128];
	int col = (int)w + 2;
	for (const struct fl_opt *op = t; op->key; op++) {
		size_t n = opt_left(op, left, sizeof(left));
		fputs(left, f);
		if (n > w)
			fprintf(f, "\n%*s", col, "");
		else
			fprintf(f, "%*s", col - (int)n, "");
		for (const char *h = op->help ? op->help : ""; *h;) {
			size_t l = strcspn(h, "\n");
			fprintf(f, "%.*s\n", (int)l, h);
			h += l;
			if (*h == '\n' && *++h)
				fprintf(f, "%*s", col, "");
		}
		if (!op->help || !*op->help)
			fputc('\n', f);
	}
}

void fl_cli_help_print(const struct fl_command *cmd, FILE *f)
{
	if (!cmd->help) {
		fputs(cmd->usage ? cmd->usage : "", f);
		return;
	}
	/* one column width for the whole help, so every table lines up */
	size_t w = 0;
	for (const struct fl_help *s = cmd->help; s->text || s->opts; s++)
		if (s->opts)
			w = table_width(s->opts, w);
	for (const struct fl_help *s = cmd->help; s->text || s->opts; s++) {
		if (s->text)
			fputs(s->text, f);
		if (s->opts)
			print_table(s->opts, w, f);
	}
}

void fl_opts_init(struct fl_opts *o, const struct fl_command *cmd, const struct fl_opt *table,
		  int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->table = table;
	o->argc = argc;
	o->argv = argv;
	o->optind = 1;
	static const struct fl_opt help = FL_OPT_HELP;
	size_t nl = 0, ns = 0;
	int have_help = 0;
	/* ':' first: a missing value is reported as ':', apart from unknown options */
	o->shortopts[ns++] = ':';
	for (const struct fl_opt *op = table; op && op->key; op++) {
		if (nl == FL_OPTS_MAX)
			break; /* a command with more options raises FL_OPTS_MAX */
		if (op->key == 'h')
			have_help = 1;
		if (op->name)
			o->longopts[nl++] = (struct option){
				op->name, op->arg ? required_argument : no_argument, NULL, op->key
			};
		if (short_of(op->key)) {
			o->shortopts[ns++] = (char)op->key;
			if (op->arg)
				o->shortopts[ns++] = ':';
		}
	}
	if (!have_help) {
		o->longopts[nl++] = (struct option){ help.name, no_argument, NULL, help.key };
		o->shortopts[ns++] = 'h';
	}
	o->longopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	o->shortopts[ns] = '\0';
}

static int opts_help(struct fl_opts *o)
{
	fl_cli_help_print(o->cmd, stdout);
	o->exit = FL_EXIT_OK;
	return -1;
}

int fl_opts_error(const struct fl_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fl_cli_usage_error(o->cmd->name, "%s%s%s", o->sub ? o->sub : "", o->sub ? ": " : "",
				  msg);
}

int fl_opts_next(struct fl_opts *o)
{
	if (!o->started) {
		o->started = 1;
		if (fl_cli_wants_help(o->argc, o->argv))
			return opts_help(o);
		optind = 0; /* GNU getopt: start over on this argv */
		opterr = 0;
	}
	int c = getopt_long(o->argc, o->argv, o->shortopts, o->longopts, NULL);
	if (c == -1) {
		o->optind = optind;
		return 0;
	}
	if (c == 'h')
		return opts_help(o);
	if (c == ':' || c == '?') {
		char spelled[64];
		if (short_of(optopt) && (optind < 1 || strncmp(o->argv[optind - 1], "--", 2)))
			snprintf(spelled, sizeof(spelled), "-%c", optopt);
		else
			snprintf(spelled, sizeof(spelled), "%.60s", o->argv[optind - 1]);
		const char *eq = strchr(spelled, '=');
		if (c == ':')
			o->exit = fl_opts_error(o, "option '%s' needs a value", spelled);
		else if (optopt && eq && !strncmp(spelled, "--", 2)) /* --quiet=yes */
			o->exit = fl_opts_error(o, "option '%.*s' takes no value",
						(int)(eq - spelled), spelled);
		else
			o->exit = fl_opts_error(o, "unknown option '%s'", spelled);
		return -1;
	}
	o->arg = optarg;
	for (const struct fl_opt *op = o->table; op && op->key; op++) {
		if (op->key == c) {
			if (op->name)
				snprintf(o->spelled, sizeof(o->spelled), "--%s", op->name);
			else
				snprintf(o->spelled, sizeof(o->spelled), "-%c", c);
			break;
		}
	}
	return c;
}
