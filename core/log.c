/* Leveled text/JSON logging. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum fl_log_level log_level = FL_LOG_INFO;
static enum fl_log_format log_format = FL_LOG_TEXT;
static FILE *log_out;

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

void fl_log_setup(enum fl_log_level level, enum fl_log_format format, FILE *out)
{
	pthread_mutex_lock(&log_lock);
	log_level = level;
	log_format = format;
	log_out = out;
	pthread_mutex_unlock(&log_lock);
}

void fl_log_set_level(enum fl_log_level level)
{
	log_level = level;
}

enum fl_log_level fl_log_get_level(void)
{
	return log_level;
}

int fl_log_level_parse(const char *s, enum fl_log_level *out)
{
	for (int i = 0; i <= FL_LOG_OFF; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum fl_log_level)i;
			return 0;
		}
	return FL_EINVAL;
}

static void log_emit(enum fl_log_level level, const char *component, json_t *fields,
		     const char *fmt, va_list ap)
{
	if (level < log_level || level >= FL_LOG_OFF)
		return;
	struct fl_buf msg, line;
	fl_buf_init(&msg, 0);
	fl_buf_init(&line, 0);
	fl_buf_vprintf(&msg, fmt, ap);
	char ts[40];
	fl_wall_iso(fl_wall_ns(), ts, sizeof(ts));
	if (log_format == FL_LOG_JSON) {
		json_t *o = json_object();
		json_object_set_new(o, "ts", json_string(ts));
		json_object_set_new(o, "level", json_string(level_names[level]));
		json_object_set_new(o, "component", json_string(component ? component : ""));
		json_object_set_new(o, "msg", json_string(msg.data ? msg.data : ""));
		if (fields && json_is_object(fields))
			json_object_update(o, fields);
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			fl_buf_puts(&line, s);
		free(s);
		json_decref(o);
	} else {
		fl_buf_printf(&line, "%s %-5s %s: %s", ts, level_names[level],
			      component ? component : "-", msg.data ? msg.data : "");
		if (fields && json_is_object(fields)) {
			const char *k;
			json_t *v;
			json_object_foreach(fields, k, v) {
				char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				fl_buf_printf(&line, " %s=%s", k, s ? s : "?");
				free(s);
			}
		}
	}
	fl_buf_puts(&line, "\n");
	pthread_mutex_lock(&log_lock);
	FILE *out = log_out ? log_out : stderr;
	fwrite(line.data, 1, line.len, out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
	fl_buf_free(&msg);
	fl_buf_free(&line);
}

void fl_log(enum fl_log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(level, component, NULL, fmt, ap);
	va_end(ap);
}

void fl_logj(enum fl_log_level level, const char *component, json_t *fields, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(level, component, fields, fmt, ap);
	va_end(ap);
}
