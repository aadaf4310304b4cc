/* Shared by the checker unit tests: build a history as JSONL text, write it
 * to a real file, load it with the checkers' reader, and look at results. */
#ifndef FL_TEST_CHECKER_UTIL_H
#define FL_TEST_CHECKER_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkers/check.h"
#include "core/buf.h"

#define MSNS 1000000LL

/* Append one line (printf format) to the history text. */
static __attribute__((format(printf, 2, 3), unused)) void hl(struct fl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	assert_int_equal(fl_buf_vprintf(b, fmt, ap), 0);
	va_end(ap);
	assert_int_equal(fl_buf_puts(b, "\n"), 0);
}

/* Write the text to a temporary file (path into `path`, 64 bytes). */
static __attribute__((unused)) void hwrite(struct fl_buf *b, char *path)
{
	strcpy(path, "/tmp/fl-chk-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->data ? b->data : "", b->len), (ssize_t)b->len);
	close(fd);
}

/* Write the text to a file, load it back, remove the file, empty b. */
static __attribute__((unused)) struct fl_chk_history *hload(struct fl_buf *b)
{
	char path[64], err[256] = "";
	hwrite(b, path);
	struct fl_chk_history *h = fl_chk_history_load(path, err, sizeof(err));
	if (!h)
		fail_msg("load failed: %s", err);
	unlink(path);
	fl_buf_reset(b);
	return h;
}

static __attribute__((unused)) enum fl_check_inv_state st(struct fl_check_result *r, const char *id)
{
	struct fl_check_invariant *v = fl_check_find(r, id);
	assert_non_null(v);
	return v->state;
}

/* Print the result when a test is about to fail, for the log. */
static __attribute__((unused)) void expect_state(struct fl_check_result *r, const char *id,
						 enum fl_check_inv_state want)
{
	if (st(r, id) != want) {
		fl_check_result_print(r, stdout, 2000);
		fail_msg("%s: expected %s, got %s", id, fl_check_inv_state_str(want),
			 fl_check_inv_state_str(st(r, id)));
	}
}

#endif
