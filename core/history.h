/* Histories: append-only JSONL files of operations and events (the schema
 * is in docs/checkers.md, "The history format"). Each appended object gets "t" (monotonic ns) and
 * "ts" (wall time, RFC 3339) unless it already has them. Thread-safe: the
 * proxy thread, service feeds and Lua clients may write one history. */
#ifndef FL_CORE_HISTORY_H
#define FL_CORE_HISTORY_H

#include <jansson.h>

struct fl_history;

/* Open (create or truncate unless `append`) path for writing. Returns a new
 * history or NULL with the reason in err. The caller closes it. */
struct fl_history *fl_history_open(const char *path, int append, char *err, size_t errlen);

/* Append one event. `ev` is borrowed (a copy is stamped, ev itself is not
 * changed). Written and flushed as one line. Returns 0 or a negative FL_E*. */
int fl_history_append(struct fl_history *h, const json_t *ev);

/* Append a Jepsen-style client operation: {"process","type","f","value"}.
 * type is "invoke", "ok", "fail" or "info"; value is borrowed and may be NULL. */
int fl_history_op(struct fl_history *h, int process, const char *type, const char *f,
		  const json_t *value);

/* Lines written so far. */
long fl_history_count(const struct fl_history *h);

/* Path of the file (borrowed). */
const char *fl_history_path(const struct fl_history *h);

/* Flush and close; NULL is a no-op. */
void fl_history_close(struct fl_history *h);

/* Read a whole history: calls fn for each parsed line (borrowed event) with
 * its 1-based line number; fn returns non-zero to stop (that value is returned).
 * A malformed line gives FL_EPARSE with "PATH:LINE: reason" in err. */
int fl_history_read(const char *path, int (*fn)(json_t *ev, long line, void *arg), void *arg,
		    char *err, size_t errlen);

/* The line reader under fl_history_read, for readers with their own parser:
 * calls fn for each non-empty line (trailing CR/LF removed; the buffer may be
 * modified, valid during the call) with its 1-based number. fn returns 0 to
 * go on, or an error with a message in its err buffer, which comes back as
 * "PATH:LINE: message". A read error gives FL_EIO. */
int fl_history_read_lines(const char *path,
			  int (*fn)(char *line, size_t len, long lineno, void *arg, char *err,
				    size_t errlen),
			  void *arg, char *err, size_t errlen);

#endif
