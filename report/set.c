/* The report set: every reporter of a run, fed together under one lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/errors.h"

struct fl_report_set {
	pthread_mutex_t lock;
	struct fl_reporter *reps;
	size_t n, cap;
};

struct fl_report_set *fl_report_set_new(void)
{
	struct fl_report_set *set = calloc(1, sizeof(*set));
	if (set)
		pthread_mutex_init(&set->lock, NULL);
	return set;
}

static void reporter_free(struct fl_reporter *rep)
{
	if (rep->ops && rep->ops->free)
		rep->ops->free(rep->self);
}

/* The output of one of our reporters, NULL for a reporter from elsewhere. */
static const struct fl_report_out *builtin_out(const struct fl_reporter *rep)
{
	return fl_report_ops_builtin(rep->ops) ? rep->self : NULL;
}

static bool same_destination(const struct fl_report_out *a, const struct fl_report_out *b)
{
	if (a->is_stdout || b->is_stdout)
		return a->is_stdout && b->is_stdout;
	if (a->path && b->path)
		return strcmp(a->path, b->path) == 0;
	return a->f && a->f == b->f;
}

int fl_report_set_add(struct fl_report_set *set, struct fl_reporter rep)
{
	int rc = 0;
	if (!set || !rep.ops) {
		if (set)
			reporter_free(&rep);
		return FL_EINVAL;
	}
	const struct fl_report_out *mine = builtin_out(&rep);
	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; mine && i < set->n; i++) {
		const struct fl_report_out *other = builtin_out(&set->reps[i]);
		if (other && same_destination(mine, other)) {
			rc = FL_EEXIST;
			goto out;
		}
	}
	if ((rc = fl_report_grow((void **)&set->reps, &set->cap, set->n, sizeof(*set->reps))))
		goto out;
	set->reps[set->n++] = rep;
out:
	pthread_mutex_unlock(&set->lock);
	if (rc)
		reporter_free(&rep);
	return rc;
}

/* Call one callback of every reporter under the set's lock. */
#define EACH(set, cb, ...)                                                                         \
	do {                                                                                       \
		if (!(set))                                                                        \
			break;                                                                     \
		pthread_mutex_lock(&(set)->lock);                                                  \
		for (size_t i_ = 0; i_ < (set)->n; i_++)                                           \
			if ((set)->reps[i_].ops->cb)                                               \
				(set)->reps[i_].ops->cb((set)->reps[i_].self, __VA_ARGS__);        \
		pthread_mutex_unlock(&(set)->lock);                                                \
	} while (0)

void fl_report_run_begin(struct fl_report_set *set, int nfiles, uint64_t seed)
{
	EACH(set, run_begin, nfiles, seed);
}

void fl_report_file_begin(struct fl_report_set *set, const char *file)
{
	EACH(set, file_begin, file);
}

void fl_report_test_done(struct fl_report_set *set, const struct fl_test_result *r)
{
	EACH(set, test_done, r);
}

void fl_report_file_error(struct fl_report_set *set, const struct fl_file_error *e)
{
	EACH(set, file_error, e);
}

void fl_report_file_end(struct fl_report_set *set, const char *file)
{
	EACH(set, file_end, file);
}

void fl_report_run_end(struct fl_report_set *set, const struct fl_run_summary *s)
{
	EACH(set, run_end, s);
}

void fl_report_tick(struct fl_report_set *set)
{
	if (!set)
		return;
	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->n; i++)
		if (set->reps[i].ops->tick)
			set->reps[i].ops->tick(set->reps[i].self);
	pthread_mutex_unlock(&set->lock);
}

void fl_report_progress(struct fl_report_set *set, const struct fl_progress *p)
{
	static const struct fl_progress none = { 0 };
	EACH(set, progress, p ? p : &none);
}

bool fl_report_note(struct fl_report_set *set, const char *text)
{
	bool taken = false;
	if (!set)
		return false;
	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->n; i++)
		if (set->reps[i].ops->note) {
			set->reps[i].ops->note(set->reps[i].self, text);
			taken = true;
		}
	pthread_mutex_unlock(&set->lock);
	return taken;
}

void fl_report_set_free(struct fl_report_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		reporter_free(&set->reps[i]);
	free(set->reps);
	pthread_mutex_destroy(&set->lock);
	free(set);
}
