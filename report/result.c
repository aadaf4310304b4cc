/* Test results: freeing and deep-copying struct fl_test_result. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "core/errors.h"

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
	free(r->error_type);
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
	    dup_str(&out->detail, r->detail) || dup_str(&out->fail_file, r->fail_file) ||
	    dup_str(&out->error_type, r->error_type))
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
