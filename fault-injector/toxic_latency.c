/* latency: every chunk is held latency ± U(jitter) ms after it arrives,
 * pipelined (chunks wait side by side, so bandwidth is not capped) and in
 * order (a chunk never overtakes the one before it). */
#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "latency", FL_AT_INT, 0, NULL, 0, 3600000 },
	{ "jitter", FL_AT_INT, 0, NULL, 0, 3600000 },
};

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	int64_t lat = fl_toxic_int(s->toxic, "latency") * 1000000;
	int64_t jit = fl_toxic_int(s->toxic, "jitter") * 1000000;
	/* Draw each chunk's delay once, in arrival order (repeatable by seed). */
	for (struct fl_chunk *k = s->in.head; k; k = k->next) {
		if (k->due || k->eof)
			continue;
		int64_t d = lat;
		if (jit > 0)
			d += fl_prng_range(&s->dir->rng, -jit, jit);
		if (d < 0)
			d = 0;
		k->due = k->t_in + d;
	}
	while (s->in.head) {
		struct fl_chunk *h = s->in.head;
		if (!h->eof && now < h->due) {
			if (h->due < *wake)
				*wake = h->due;
			break;
		}
		struct fl_chunk *k = fl_chunkq_pop(&s->in);
		k->t_in = now;
		k->due = 0;
		fl_chunkq_push(out, k);
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_latency = {
	.name = "latency",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.process = process,
};
