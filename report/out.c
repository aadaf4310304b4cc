/* Where a report goes: a stream, or a file written as FILE.tmp and renamed
 * when the report is complete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report_int.h"
#include "core/errors.h"

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
		make_parents(path); /* a failure shows as fopen's error below */
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
		fprintf(stderr, "faultline: cannot write report %s: %s\n", o->path,
			fl_strerror(rc));
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
