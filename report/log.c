/* The run log: what the end-of-run formats (JUnit, JSON, HTML) are written
 * from, filled as tests finish. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/clock.h"
#include "core/errors.h"

struct fl_report_file *fl_report_log_file(struct fl_report_log *log, const char *file)
{
	for (size_t i = 0; i < log->nfiles; i++)
		if (strcmp(log->files[i]->file, file) == 0)
			return log->files[i];
	if (log->nfiles == log->capfiles) {
		size_t cap = log->capfiles ? log->capfiles * 2 : 8;
		struct fl_report_file **v = realloc(log->files, cap * sizeof(*v));
		if (!v)
			return NULL;
		log->files = v;
		log->capfiles = cap;
	}
	struct fl_report_file *f = calloc(1, sizeof(*f));
	if (!f || !(f->file = strdup(file))) {
		free(f);
		return NULL;
	}
	f->begin_wall_ns = fl_wall_ns();
	f->begin_mono_ns = fl_mono_ns();
	log->files[log->nfiles++] = f;
	return f;
}

int fl_report_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *p = realloc(*v, c * size);
	if (!p)
		return FL_ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

int fl_report_log_test(struct fl_report_log *log, const struct fl_test_result *r)
{
	struct fl_report_file *f = fl_report_log_file(log, r->file ? r->file : "");
	if (!f || fl_report_grow((void **)&f->tests, &f->captests, f->ntests, sizeof(*f->tests)))
		return FL_ENOMEM;
	if (fl_test_result_copy(&f->tests[f->ntests], r))
		return FL_ENOMEM;
	f->ntests++;
	if (r->status == FL_TEST_PASS)
		f->passed++;
	else if (r->status == FL_TEST_FAIL && r->error_type)
		f->errored++;
	else if (r->status == FL_TEST_FAIL)
		f->failed++;
	else
		f->skipped++;
	return 0;
}

int fl_report_log_error(struct fl_report_log *log, const struct fl_file_error *e)
{
	struct fl_report_file *f = fl_report_log_file(log, e->file ? e->file : "");
	if (!f ||
	    fl_report_grow((void **)&f->errors, &f->caperrors, f->nerrors, sizeof(*f->errors)))
		return FL_ENOMEM;
	char *m = strdup(e->message ? e->message : "error");
	if (!m)
		return FL_ENOMEM;
	f->errors[f->nerrors].message = m;
	f->errors[f->nerrors].exit_code = e->exit_code;
	f->nerrors++;
	return 0;
}

double fl_report_file_seconds(const struct fl_report_file *f)
{
	if (f->begin_mono_ns && f->end_mono_ns >= f->begin_mono_ns)
		return (double)(f->end_mono_ns - f->begin_mono_ns) / 1e9;
	int64_t ns = 0;
	for (size_t i = 0; i < f->ntests; i++)
		ns += f->tests[i].duration_ns;
	return (double)ns / 1e9;
}

void fl_report_log_free(struct fl_report_log *log)
{
	for (size_t i = 0; i < log->nfiles; i++) {
		struct fl_report_file *f = log->files[i];
		for (size_t j = 0; j < f->ntests; j++)
			fl_test_result_free(&f->tests[j]);
		for (size_t j = 0; j < f->nerrors; j++)
			free(f->errors[j].message);
		free(f->tests);
		free(f->errors);
		free(f->file);
		free(f);
	}
	free(log->files);
	memset(log, 0, sizeof(*log));
}
