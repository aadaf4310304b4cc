/* The reporter behind every end-of-run format (JUnit, JSON, HTML): it keeps
 * the run log as results arrive and, when the run ends, has the format write
 * the whole report at once and publishes the file. A run that never reaches
 * run_end publishes nothing (FILE.tmp is removed). */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/clock.h"
#include "core/errors.h"

struct collect {
	struct fl_report_out out; /* first: see report_int.h */
	const struct fl_report_format *fmt;
	struct fl_report_log log;
};

static void c_run_begin(void *self, int nfiles, uint64_t seed)
{
	struct collect *c = self;
	(void)nfiles;
	c->log.begin_wall_ns = fl_wall_ns();
	c->log.begin_mono_ns = fl_mono_ns();
	c->log.seed = seed;
}

static void c_file_begin(void *self, const char *file)
{
	struct collect *c = self;
	if (!fl_report_log_file(&c->log, file))
		c->log.oom = true;
}

static void c_test_done(void *self, const struct fl_test_result *r)
{
	struct collect *c = self;
	if (fl_report_log_test(&c->log, r))
		c->log.oom = true;
}

static void c_file_error(void *self, const struct fl_file_error *e)
{
	struct collect *c = self;
	if (fl_report_log_error(&c->log, e))
		c->log.oom = true;
}

static void c_file_end(void *self, const char *file)
{
	struct collect *c = self;
	struct fl_report_file *rf = fl_report_log_file(&c->log, file);
	if (rf)
		rf->end_mono_ns = fl_mono_ns();
}

static void c_run_end(void *self, const struct fl_run_summary *s)
{
	struct collect *c = self;
	if (!c->out.f || c->out.committed)
		return;
	c->log.end_wall_ns = fl_wall_ns();
	if (!c->log.begin_wall_ns)
		c->log.begin_wall_ns = c->log.end_wall_ns - s->duration_ns;
	int rc = c->fmt->write(c->out.f, &c->log, s);
	if (rc) { /* left unpublished: freed without commit */
		fprintf(stderr, "faultline: cannot write the %s report: %s\n", c->fmt->name,
			fl_strerror(rc));
		return;
	}
	fl_report_out_commit(&c->out);
}

static void c_free(void *self)
{
	struct collect *c = self;
	if (!c)
		return;
	fl_report_out_close(&c->out);
	fl_report_log_free(&c->log);
	free(c);
}

const struct fl_reporter_ops fl_report_collect_ops = {
	.name = "collect",
	.run_begin = c_run_begin,
	.file_begin = c_file_begin,
	.test_done = c_test_done,
	.file_error = c_file_error,
	.file_end = c_file_end,
	.run_end = c_run_end,
	.free = c_free,
};

int fl_report_collect_new(const struct fl_report_format *fmt, struct fl_report_out *out,
			  struct fl_reporter *rep)
{
	struct collect *c = calloc(1, sizeof(*c));
	if (!c) {
		fl_report_out_close(out);
		return FL_ENOMEM;
	}
	c->out = *out;
	c->fmt = fmt;
	rep->ops = &fl_report_collect_ops;
	rep->self = c;
	return 0;
}
