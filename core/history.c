/* JSONL history writer and reader. */
#include "core/history.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json.h"

struct fl_history {
	FILE *f;
	char *path;
	long count;
	pthread_mutex_t lock;
};

struct fl_history *fl_history_open(const char *path, int append, char *err, size_t errlen)
{
	struct fl_history *h = calloc(1, sizeof(*h));
	if (!h) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	h->f = fopen(path, append ? "a" : "w");
	if (!h->f) {
		fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path, strerror(errno));
		free(h);
		return NULL;
	}
	h->path = strdup(path);
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

int fl_history_append(struct fl_history *h, const json_t *ev)
{
	if (!h || !json_is_object(ev))
		return FL_EINVAL;
	json_t *o = json_copy((json_t *)ev);
	if (!o)
		return FL_ENOMEM;
	/* stamped under the lock, so lines written by several threads (worker
	 * threads of one workload) are in the order of their "t" */
	pthread_mutex_lock(&h->lock);
	if (!json_object_get(o, "t"))
		json_object_set_new(o, "t", json_integer(fl_mono_ns()));
	if (!json_object_get(o, "ts")) {
		char ts[40];
		json_object_set_new(o, "ts",
				    json_string(fl_wall_iso(fl_wall_ns(), ts, sizeof(ts))));
	}
	struct fl_buf b;
	fl_buf_init(&b, 0);
	int rc = fl_json_append(&b, o);
	json_decref(o);
	if (rc == 0)
		rc = fl_buf_puts(&b, "\n");
	if (rc == 0) {
		if (fwrite(b.data, 1, b.len, h->f) != b.len || fflush(h->f) != 0)
			rc = FL_EIO;
		else
			h->count++;
	}
	pthread_mutex_unlock(&h->lock);
	fl_buf_free(&b);
	return rc;
}

int fl_history_op(struct fl_history *h, int process, const char *type, const char *f,
		  const json_t *value)
{
	json_t *o = json_pack("{s:i, s:s, s:s}", "process", process, "type", type, "f", f);
	if (!o)
		return FL_ENOMEM;
	if (value)
		json_object_set(o, "value", (json_t *)value);
	int rc = fl_history_append(h, o);
	json_decref(o);
	return rc;
}

long fl_history_count(const struct fl_history *h)
{
	return h ? h->count : 0;
}

const char *fl_history_path(const struct fl_history *h)
{
	return h ? h->path : NULL;
}

void fl_history_close(struct fl_history *h)
{
	if (!h)
		return;
	fclose(h->f);
	pthread_mutex_destroy(&h->lock);
	free(h->path);
	free(h);
}

int fl_history_read_lines(const char *path,
			  int (*fn)(char *line, size_t len, long lineno, void *arg, char *err,
				    size_t errlen),
			  void *arg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path,
				  strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		char lerr[256] = "";
		rc = fn(line, (size_t)n, lineno, arg, lerr, sizeof(lerr));
		if (rc) {
			if (lerr[0])
				fl_err_set(err, errlen, rc, "%s:%ld: %s", path, lineno, lerr);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = fl_err_set(err, errlen, FL_EIO, "%s: read error", path);
	free(line);
	fclose(f);
	return rc;
}

struct read_json {
	int (*fn)(json_t *ev, long line, void *arg);
	void *arg;
};

static int read_json_line(char *line, size_t len, long lineno, void *arg, char *err, size_t errlen)
{
	struct read_json *r = arg;
	char jerr[160];
	json_t *ev = fl_json_parse(line, len, jerr, sizeof(jerr));
	if (!ev || !json_is_object(ev)) {
		fl_err_set(err, errlen, FL_EPARSE, "%s", ev ? "not a JSON object" : jerr);
		json_decref(ev);
		return FL_EPARSE;
	}
	int rc = r->fn(ev, lineno, r->arg);
	json_decref(ev);
	return rc;
}

int fl_history_read(const char *path, int (*fn)(json_t *ev, long line, void *arg), void *arg,
		    char *err, size_t errlen)
{
	struct read_json r = { fn, arg };
	return fl_history_read_lines(path, read_json_line, &r, err, errlen);
}
