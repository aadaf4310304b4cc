/* slicer: chunks are cut into slices of average_size ± U(size_variation)
 * bytes, written separately, delay µs apart. */
#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "average_size", FL_AT_INT, 0, NULL, 0, 1 << 30 },
	{ "size_variation", FL_AT_INT, 0, NULL, 0, 1 << 30 },
	{ "delay", FL_AT_INT, 0, NULL, 0, 60000000 },
};

/* st[0]: earliest time of the next slice. */
static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	int64_t avg = fl_toxic_int(s->toxic, "average_size");
	int64_t var = fl_toxic_int(s->toxic, "size_variation");
	int64_t delay = fl_toxic_int(s->toxic, "delay") * 1000;
	if (var > avg)
		var = avg;
	while (s->in.head) {
		struct fl_chunk *h = s->in.head;
		if (h->eof || avg <= 0) {
			fl_chunkq_split_to(out, &s->in, h->len - h->off, now);
			continue;
		}
		if (s->st[0] > now) {
			if (s->st[0] < *wake)
				*wake = s->st[0];
			break;
		}
		int64_t n = avg + (var > 0 ? fl_prng_range(&s->dir->rng, -var, var) : 0);
		if (n < 1)
			n = 1;
		if (fl_chunkq_split_to(out, &s->in, (size_t)n, now))
			return FL_ACT_CLOSE;
		out->tail->solo = true;
		if (delay > 0)
			s->st[0] = now + delay;
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_slicer = {
	.name = "slicer",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.process = process,
};
