/* Growable byte buffers with a hard size cap. The buffer owns its memory;
 * data is always NUL-terminated (the NUL is not counted in len) so text can
 * be used as a C string. A zeroed struct fl_buf is a valid empty buffer with
 * no cap. */
#ifndef FL_CORE_BUF_H
#define FL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct fl_buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap; /* allocated bytes */
	size_t max; /* 0 = no cap; appends past it fail with FL_E2BIG */
};

/* Initialise an empty buffer that refuses to grow beyond max bytes (0: no cap). */
void fl_buf_init(struct fl_buf *b, size_t max);

/* Append n bytes. Returns 0, FL_E2BIG past the cap (nothing appended), FL_ENOMEM. */
int fl_buf_append(struct fl_buf *b, const void *p, size_t n);
int fl_buf_puts(struct fl_buf *b, const char *s);
int fl_buf_printf(struct fl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fl_buf_vprintf(struct fl_buf *b, const char *fmt, va_list ap);

/* Make room for n more bytes without changing len. */
int fl_buf_reserve(struct fl_buf *b, size_t n);

/* Drop the first n bytes (n > len drops all). */
void fl_buf_consume(struct fl_buf *b, size_t n);

/* Empty the buffer, keeping its memory. */
void fl_buf_reset(struct fl_buf *b);

/* Hand the data to the caller (who frees it with free()); the buffer is left
 * empty. Returns an empty malloc'd string rather than NULL when empty, or NULL
 * if that allocation fails. */
char *fl_buf_take(struct fl_buf *b, size_t *len);

/* Release the memory; the buffer is left empty and reusable. NULL is a no-op. */
void fl_buf_free(struct fl_buf *b);

#endif
