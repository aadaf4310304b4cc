/* The format registry: the reporter factory behind --report FMT[=FILE].
 * Adding a format is one entry here and its struct fl_report_format. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/errors.h"

static const struct fl_report_format *const formats[] = {
	&fl_report_console, &fl_report_tap,  &fl_report_tap13,
	&fl_report_junit,   &fl_report_json, &fl_report_html,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const struct fl_report_format *fl_report_format_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (strlen(formats[i]->name) == len && memcmp(formats[i]->name, name, len) == 0)
			return formats[i];
	return NULL;
}

static const struct fl_report_format *find_or_say(const char *name, size_t len, char *err,
						  size_t errlen)
{
	const struct fl_report_format *fmt = fl_report_format_find(name, len);
	if (!fmt)
		fl_err_set(err, errlen, FL_EINVAL,
			   "unknown report format '%.*s' (expected console, tap, tap13, junit, "
			   "json or html)",
			   (int)len, name);
	return fmt;
}

/* Make the reporter of fmt on o (taken). */
static int make(const struct fl_report_format *fmt, struct fl_report_out *o,
		struct fl_reporter *out, const char *what, char *err, size_t errlen)
{
	int rc = fmt->open ? fmt->open(o, out) : fl_report_collect_new(fmt, o, out);
	if (rc)
		fl_err_set(err, errlen, rc, "report %s: %s", what, fl_strerror(rc));
	return rc;
}

int fl_reporter_create(const char *spec, struct fl_reporter *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	const struct fl_report_format *fmt = find_or_say(spec, len, err, errlen);
	if (!fmt)
		return FL_EINVAL;
	if (eq && !eq[1])
		return fl_err_set(err, errlen, FL_EINVAL,
				  "report '%s': missing file name after '=' (use %.*s=FILE or "
				  "%.*s=-)",
				  spec, (int)len, spec, (int)len, spec);
	struct fl_report_out o;
	int rc = fl_report_out_open(&o, eq ? eq + 1 : NULL, err, errlen);
	if (rc)
		return rc;
	return make(fmt, &o, out, spec, err, errlen);
}

int fl_reporter_open(const char *format, FILE *stream, struct fl_reporter *out, char *err,
		     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const struct fl_report_format *fmt = find_or_say(format, strlen(format), err, errlen);
	if (!fmt)
		return FL_EINVAL;
	struct fl_report_out o;
	fl_report_out_stream(&o, stream);
	return make(fmt, &o, out, format, err, errlen);
}

bool fl_report_ops_builtin(const struct fl_reporter_ops *ops)
{
	return ops == &fl_report_collect_ops || ops == &fl_report_console_ops ||
	       ops == &fl_report_tap_ops || ops == &fl_report_tap13_ops;
}

bool fl_reporter_to_stdout(const struct fl_reporter *rep)
{
	const struct fl_report_out *o = fl_report_ops_builtin(rep->ops) ? rep->self : NULL;
	return o && o->is_stdout;
}
