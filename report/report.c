/* Test results, the reporter factory and the lock-protected report set, plus
 * the helpers the reporters share (output files, UTF-8, the run log). */
#include "report/report.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report_impl.h"
#include "core/clock.h"
#include "core/errors.h"

/* --- results ------------------------------------------------------------- */

void fl_test_result_free(struct fl_test_result *r)
{
	if (!r)
		return;
	free(r->file);
	free(r->suite);
	free(r->name);
	free(r->message);
	free(r->detail);
	free(r->fail_file);
	json_decref(r->tags);
	json_decref(r->extra);
	for (int i = 0; r->retries && i < r->nretries; i++) {
		free(r->retries[i].message);
		free(r->retries[i].detail);
	}
	free(r->retries);
	memset(r, 0, sizeof(*r));
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : FL_ENOMEM;
}

int fl_test_result_copy(struct fl_test_result *out, const struct fl_test_result *r)
{
	memset(out, 0, sizeof(*out));
	out->status = r->status;
	out->duration_ns = r->duration_ns;
	out->start_wall_ns = r->start_wall_ns;
	out->fail_line = r->fail_line;
	out->index = r->index;
	int rc = FL_ENOMEM;
	if (dup_str(&out->file, r->file) || dup_str(&out->suite, r->suite) ||
	    dup_str(&out->name, r->name) || dup_str(&out->message, r->message) ||
	    dup_str(&out->detail, r->detail) || dup_str(&out->fail_file, r->fail_file))
		goto out;
	if (r->tags && !(out->tags = json_deep_copy(r->tags)))
		goto out;
	if (r->extra && !(out->extra = json_deep_copy(r->extra)))
		goto out;
	if (r->retries && r->nretries > 0) {
		out->retries = calloc((size_t)r->nretries, sizeof(*out->retries));
		if (!out->retries)
			goto out;
		out->nretries = r->nretries;
		for (int i = 0; i < r->nretries; i++) {
			out->retries[i].duration_ns = r->retries[i].duration_ns;
			if (dup_str(&out->retries[i].message, r->retries[i].message) ||
			    dup_str(&out->retries[i].detail, r->retries[i].detail))
				goto out;
		}
	}
	rc = 0;
out:
	if (rc)
		fl_test_result_free(out);
	return rc;
}

/* --- output -------------------------------------------------------------- */

/* mkdir -p for the directories above path. */
static int make_parents(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return FL_ENOMEM;
	int rc = 0;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			rc = -errno;
			*s = '/';
			break;
		}
		*s = '/';
	}
	free(p);
	return rc;
}

void fl_report_out_stream(struct fl_report_out *o, FILE *stream)
{
	memset(o, 0, sizeof(*o));
	o->f = stream;
	o->is_stdout = stream == stdout;
}

int fl_report_out_open(struct fl_report_out *o, const char *path, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0) {
		fl_report_out_stream(o, stdout);
		return 0;
	}
	if (strcmp(path, "/dev/stderr") == 0) {
		fl_report_out_stream(o, stderr);
		return 0;
	}
	int rc = FL_ENOMEM;
	struct stat st;
	bool direct = stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
	size_t n = strlen(path);
	o->path = strdup(path);
	if (!o->path)
		goto out;
	if (!direct) {
		if (!(o->tmp = malloc(n + 5)))
			goto out;
		memcpy(o->tmp, path, n);
		memcpy(o->tmp + n, ".tmp", 5);
		make_parents(path);	/* a failure shows as fopen's error below */
	}
	o->f = fopen(direct ? o->path : o->tmp, "w");
	if (!o->f) {
		rc = fl_err_set(err, errlen, -errno, "cannot write report %s: %s",
				direct ? o->path : o->tmp, strerror(errno));
		goto out;
	}
	o->owned = true;
	return 0;
out:
	if (rc == FL_ENOMEM)
		fl_err_set(err, errlen, rc, "cannot write report %s: out of memory", path);
	fl_report_out_close(o);
	return rc;
}

int fl_report_out_commit(struct fl_report_out *o)
{
	if (!o->f || o->committed)
		return 0;
	o->committed = true;
	int rc = 0;
	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		rc = -(errno ? errno : EIO);
	if (!o->owned)
		return rc;
	if (o->tmp && rc == 0 && fsync(fileno(o->f)) < 0 && errno != EINVAL)
		rc = -errno;
	if (fclose(o->f) != 0 && rc == 0)
		rc = -errno;
	o->f = NULL;
	if (o->tmp && rc == 0 && rename(o->tmp, o->path) < 0)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "faultline: cannot write report %s: %s\n", o->path, fl_strerror(rc));
		if (o->tmp)
			unlink(o->tmp);
	}
	return rc;
}

void fl_report_out_close(struct fl_report_out *o)
{
	if (o->f && o->owned) {
		fclose(o->f);
		if (!o->committed && o->tmp)
			unlink(o->tmp);
	} else if (o->f) {
		fflush(o->f);
	}
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}

/* --- text ---------------------------------------------------------------- */

size_t fl_report_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t c, min;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	} else if ((u[0] & 0xE0) == 0xC0) {
		len = 2, c = u[0] & 0x1F, min = 0x80;
	} else if ((u[0] & 0xF0) == 0xE0) {
		len = 3, c = u[0] & 0x0F, min = 0x800;
	} else if ((u[0] & 0xF8) == 0xF0) {
		len = 4, c = u[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

char *fl_report_utf8_clean(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1);	/* each bad byte may become 3 bytes */
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = fl_report_utf8_decode(s + i, n - i, &cp);
		if (len) {
			memcpy(out + o, s + i, len);
			o += len, i += len;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3, i++;
		}
	}
	out[o] = '\0';
	return out;
}

char *fl_report_first_line(const char *s)
{
	if (!s)
		return strdup("");
	return strndup(s, strcspn(s, "\n"));
}

/* --- run log ------------------------------------------------------------- */

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

static int grow(void **v, size_t *cap, size_t n, size_t size)
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
	if (!f || grow((void **)&f->tests, &f->captests, f->ntests, sizeof(*f->tests)))
		return FL_ENOMEM;
	if (fl_test_result_copy(&f->tests[f->ntests], r))
		return FL_ENOMEM;
	f->ntests++;
	if (r->status == FL_TEST_PASS)
		f->passed++;
	else if (r->status == FL_TEST_FAIL)
		f->failed++;
	else
		f->skipped++;
	return 0;
}

int fl_report_log_error(struct fl_report_log *log, const struct fl_file_error *e)
{
	struct fl_report_file *f = fl_report_log_file(log, e->file ? e->file : "");
	if (!f || grow((void **)&f->errors, &f->caperrors, f->nerrors, sizeof(*f->errors)))
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

/* --- the factory ----------------------------------------------------------- */

static const struct {
	const char *name;
	int (*make)(struct fl_report_out *out, struct fl_reporter *rep);
} formats[] = {
	{ "console", fl_reporter_console_new },
	{ "tap", fl_reporter_tap_new },
	{ "tap13", fl_reporter_tap13_new },
	{ "junit", fl_reporter_junit_new },
	{ "json", fl_reporter_json_new },
	{ "html", fl_reporter_html_new },
};

static int find_format(const char *name, size_t len, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strlen(formats[i].name) == len && memcmp(formats[i].name, name, len) == 0)
			return (int)i;
	return fl_err_set(err, errlen, FL_EINVAL,
			  "unknown report format '%.*s' (expected console, tap, tap13, junit, json or html)",
			  (int)len, name);
}

int fl_reporter_create(const char *spec, struct fl_reporter *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	int i = find_format(spec, len, err, errlen);
	if (i < 0)
		return i;
	if (eq && !eq[1])
		return fl_err_set(err, errlen, FL_EINVAL,
				  "report '%s': missing file name after '=' (use %.*s=FILE or %.*s=-)",
				  spec, (int)len, spec, (int)len, spec);
	struct fl_report_out o;
	int rc = fl_report_out_open(&o, eq ? eq + 1 : NULL, err, errlen);
	if (rc)
		return rc;
	rc = formats[i].make(&o, out);
	if (rc)
		fl_err_set(err, errlen, rc, "report %s: %s", spec, fl_strerror(rc));
	return rc;
}

int fl_reporter_open(const char *format, FILE *stream, struct fl_reporter *out, char *err,
		     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int i = find_format(format, strlen(format), err, errlen);
	if (i < 0)
		return i;
	struct fl_report_out o;
	fl_report_out_stream(&o, stream);
	int rc = formats[i].make(&o, out);
	if (rc)
		fl_err_set(err, errlen, rc, "report %s: %s", format, fl_strerror(rc));
	return rc;
}

/* The output of one of our reporters, NULL for a reporter from elsewhere. */
static const struct fl_report_out *builtin_out(const struct fl_reporter *rep)
{
	const struct fl_reporter_ops *o = rep->ops;
	if (o == &fl_report_console_ops || o == &fl_report_tap_ops || o == &fl_report_tap13_ops ||
	    o == &fl_report_junit_ops || o == &fl_report_json_ops || o == &fl_report_html_ops)
		return rep->self;
	return NULL;
}

bool fl_reporter_to_stdout(const struct fl_reporter *rep)
{
	const struct fl_report_out *o = builtin_out(rep);
	return o && o->is_stdout;
}

/* --- the set --------------------------------------------------------------- */

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
	if ((rc = grow((void **)&set->reps, &set->cap, set->n, sizeof(*set->reps))))
		goto out;
	set->reps[set->n++] = rep;
out:
	pthread_mutex_unlock(&set->lock);
	if (rc)
		reporter_free(&rep);
	return rc;
}

/* Call one callback of every reporter under the set's lock. */
#define EACH(set, cb, ...)                                                       \
	do {                                                                     \
		if (!(set))                                                      \
			break;                                                   \
		pthread_mutex_lock(&(set)->lock);                                \
		for (size_t i_ = 0; i_ < (set)->n; i_++)                         \
			if ((set)->reps[i_].ops->cb)                             \
				(set)->reps[i_].ops->cb((set)->reps[i_].self,    \
							__VA_ARGS__);            \
		pthread_mutex_unlock(&(set)->lock);                              \
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
		if (set->reps[i].ops == &fl_report_console_ops)
			fl_reporter_console_tick(set->reps[i].self);
	pthread_mutex_unlock(&set->lock);
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
