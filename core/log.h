/* Logging: leveled, to stderr (or a chosen FILE), as text or JSON lines.
 * Thread-safe: one line is written with one call under a lock. */
#ifndef FL_CORE_LOG_H
#define FL_CORE_LOG_H

#include <stdio.h>
#include <jansson.h>

enum fl_log_level { FL_LOG_DEBUG, FL_LOG_INFO, FL_LOG_WARN, FL_LOG_ERROR, FL_LOG_OFF };
enum fl_log_format { FL_LOG_TEXT, FL_LOG_JSON };

/* Global settings; defaults: INFO, TEXT, stderr. `out` is borrowed. */
void fl_log_setup(enum fl_log_level level, enum fl_log_format format, FILE *out);
void fl_log_set_level(enum fl_log_level level);
enum fl_log_level fl_log_get_level(void);

/* Parse "debug|info|warn|error|off"; returns 0 or FL_EINVAL. */
int fl_log_level_parse(const char *s, enum fl_log_level *out);

/* Log a message from `component`. */
void fl_log(enum fl_log_level level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log with extra structured fields (borrowed; may be NULL): in JSON format
 * they become top-level keys (trace_id, saga_id, ...), in text key=value. */
void fl_logj(enum fl_log_level level, const char *component, json_t *fields, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define fl_debug(comp, ...) fl_log(FL_LOG_DEBUG, comp, __VA_ARGS__)
#define fl_info(comp, ...) fl_log(FL_LOG_INFO, comp, __VA_ARGS__)
#define fl_warn(comp, ...) fl_log(FL_LOG_WARN, comp, __VA_ARGS__)
#define fl_error(comp, ...) fl_log(FL_LOG_ERROR, comp, __VA_ARGS__)

#endif
