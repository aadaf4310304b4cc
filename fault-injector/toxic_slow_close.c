/* slow_close: data passes; the close (end of stream) is held delay ms. */
#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "delay", FL_AT_INT, 0, NULL, 0, 3600000 },
};

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	while (s->in.head) {
		struct fl_chunk *h = s->in.head;
		if (h->eof) {
			if (!h->due)
				h->due = h->t_in + fl_toxic_int(s->toxic, "delay") * 1000000;
			if (now < h->due) {
				if (h->due < *wake)
					*wake = h->due;
				break;
			}
		}
		struct fl_chunk *k = fl_chunkq_pop(&s->in);
		k->t_in = now;
		fl_chunkq_push(out, k);
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_slow_close = {
	.name = "slow_close",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.process = process,
};
