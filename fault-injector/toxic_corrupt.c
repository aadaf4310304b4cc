/* corrupt (faultline): each byte is flipped (one random bit) with the given
 * probability. */
#include <math.h>

#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "probability", FL_AT_NUM, 0.01, NULL, 0, 1 },
};

/* st[0]: bytes to skip before the next flip (-1: not drawn yet). */
static void start(struct fl_stage *s, int64_t now, bool update)
{
	(void)now;
	(void)update;
	s->st[0] = -1;
}

static int64_t draw_gap(struct fl_prng *r, double p)
{
	if (p >= 1)
		return 0;
	double u = fl_prng_double(r);
	if (u <= 0)
		u = 1e-300;
	double g = floor(log(u) / log1p(-p));
	return g > 9e15 ? (int64_t)9e15 : (int64_t)g;
}

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	(void)wake;
	double p = fl_toxic_num(s->toxic, "probability");
	struct fl_chunk *k;
	while ((k = fl_chunkq_pop(&s->in))) {
		if (!k->eof && p > 0) {
			size_t n = k->len - k->off, i = 0;
			for (;;) {
				if (s->st[0] < 0)
					s->st[0] = draw_gap(&s->dir->rng, p);
				if ((int64_t)(n - i) <= s->st[0]) {
					s->st[0] -= (int64_t)(n - i);
					break;
				}
				i += (size_t)s->st[0];
				k->data[k->off + i] ^=
					(char)(1u << fl_prng_range(&s->dir->rng, 0, 7));
				i++;
				s->st[0] = -1;
			}
		}
		k->t_in = now;
		fl_chunkq_push(out, k);
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_corrupt = {
	.name = "corrupt",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.start = start,
	.process = process,
};
