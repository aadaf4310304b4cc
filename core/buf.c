/* Growable, capped byte buffers. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

void fl_buf_init(struct fl_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

int fl_buf_reserve(struct fl_buf *b, size_t n)
{
	if (n > (size_t)-1 - b->len - 1)
		return FL_E2BIG;
	size_t need = b->len + n + 1;
	if (b->max && b->len + n > b->max)
		return FL_E2BIG;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return FL_ENOMEM;
	p[b->len] = '\0'; /* a fresh allocation is text too */
	b->data = p;
	b->cap = cap;
	return 0;
}

int fl_buf_append(struct fl_buf *b, const void *p, size_t n)
{
	int rc = fl_buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int fl_buf_puts(struct fl_buf *b, const char *s)
{
	return fl_buf_append(b, s, strlen(s));
}

int fl_buf_vprintf(struct fl_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return FL_EINVAL;
	int rc = fl_buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int fl_buf_printf(struct fl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = fl_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void fl_buf_consume(struct fl_buf *b, size_t n)
{
	if (n >= b->len) {
		fl_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void fl_buf_reset(struct fl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *fl_buf_take(struct fl_buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void fl_buf_free(struct fl_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
