/* limit_data: the connection closes once `bytes` bytes have passed on this
 * stream (the count survives updates of the toxic). */
#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "bytes", FL_AT_INT, 0, NULL, 0, 9.0e15 },
};

/* st[0]: bytes passed so far. */
static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	(void)wake;
	int64_t limit = fl_toxic_int(s->toxic, "bytes");
	while (s->in.head) {
		struct fl_chunk *h = s->in.head;
		if (h->eof) {
			fl_chunkq_split_to(out, &s->in, 0, now);
			continue;
		}
		int64_t left = limit - s->st[0];
		if (left <= 0)
			return FL_ACT_CLOSE;
		size_t n = h->len - h->off;
		if ((int64_t)n > left)
			n = (size_t)left;
		if (fl_chunkq_split_to(out, &s->in, n, now))
			return FL_ACT_CLOSE;
		s->st[0] += (int64_t)n;
		if (s->st[0] >= limit)
			return FL_ACT_CLOSE;
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_limit_data = {
	.name = "limit_data",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.process = process,
};
