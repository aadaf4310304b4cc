/* Error names and messages, from the one table in errors.h. */
#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct fl_err_entry {
	int code;
	const char *name;
	const char *msg;
};

static const struct fl_err_entry fl_err_table[] = {
#define FL_ERR_ROW(name, value, msg) { (value), #name, (msg) },
	FL_ERRORS(FL_ERR_ROW)
#undef FL_ERR_ROW
};

static const struct fl_err_entry *fl_err_find(int code)
{
	for (size_t i = 0; i < sizeof(fl_err_table) / sizeof(fl_err_table[0]); i++)
		if (fl_err_table[i].code == code)
			return &fl_err_table[i];
	return NULL;
}

const char *fl_strerror(int code)
{
	const struct fl_err_entry *e = fl_err_find(code);
	if (e)
		return e->msg;
	if (code < 0 && code > -1000)
		return strerror(-code);
	return "unknown error";
}

const char *fl_err_name(int code)
{
	const struct fl_err_entry *e = fl_err_find(code);
	return e ? e->name : "EUNKNOWN";
}

int fl_err_from_errno(int errnum)
{
	if (errnum <= 0)
		return FL_EUNKNOWN;
	return -errnum;
}

int fl_err_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}
