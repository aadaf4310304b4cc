/* Chunk queues: the unit of data moving through a direction's stages. */
#include <stdlib.h>
#include <string.h>

#include "fault-injector/internal.h"

struct fl_chunk *fl_chunk_new(const void *p, size_t n, int64_t now)
{
	struct fl_chunk *c = malloc(sizeof(*c) + n);
	if (!c)
		return NULL;
	c->next = NULL;
	c->len = n;
	c->off = 0;
	c->t_in = now;
	c->due = 0;
	c->eof = false;
	c->solo = false;
	if (n)
		memcpy(c->data, p, n);
	return c;
}

struct fl_chunk *fl_chunk_eof(int64_t now)
{
	struct fl_chunk *c = fl_chunk_new(NULL, 0, now);
	if (c)
		c->eof = true;
	return c;
}

void fl_chunkq_push(struct fl_chunkq *q, struct fl_chunk *c)
{
	if (!c->eof && c->len == c->off) {
		free(c); /* queues never hold empty data chunks */
		return;
	}
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += c->len - c->off;
	q->mem += FL_CHUNK_COST(c);
}

struct fl_chunk *fl_chunkq_pop(struct fl_chunkq *q)
{
	struct fl_chunk *c = q->head;
	if (!c)
		return NULL;
	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= c->len - c->off;
	q->mem -= FL_CHUNK_COST(c);
	c->next = NULL;
	return c;
}

void fl_chunkq_move_all(struct fl_chunkq *dst, struct fl_chunkq *src, int64_t now)
{
	struct fl_chunk *c;
	while ((c = fl_chunkq_pop(src))) {
		c->t_in = now;
		c->due = 0;
		fl_chunkq_push(dst, c);
	}
}

void fl_chunkq_consume(struct fl_chunkq *q, size_t n)
{
	while (n && q->head) {
		struct fl_chunk *c = q->head;
		size_t avail = c->len - c->off;
		if (n < avail) {
			c->off += n;
			q->bytes -= n;
			return;
		}
		n -= avail;
		free(fl_chunkq_pop(q));
	}
}

int fl_chunkq_split_to(struct fl_chunkq *dst, struct fl_chunkq *src, size_t n, int64_t now)
{
	struct fl_chunk *h = src->head;
	if (!h || (n == 0 && !h->eof))
		return 0;
	size_t avail = h->len - h->off;
	if (n >= avail) {
		struct fl_chunk *c = fl_chunkq_pop(src);
		c->t_in = now;
		c->due = 0;
		fl_chunkq_push(dst, c);
		return 0;
	}
	struct fl_chunk *c = fl_chunk_new(h->data + h->off, n, now);
	if (!c)
		return -1;
	h->off += n;
	src->bytes -= n;
	fl_chunkq_push(dst, c);
	return 0;
}

void fl_chunkq_clear(struct fl_chunkq *q)
{
	struct fl_chunk *c;
	while ((c = fl_chunkq_pop(q)))
		free(c);
}
