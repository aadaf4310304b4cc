/* bandwidth: at most rate KB/s (KB = 1000 bytes) per connection and
 * direction; rate 0 lets everything through. Data is released in slices of
 * about 10 ms worth, each followed by the time it takes at the rate. */
#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "rate", FL_AT_INT, 0, NULL, 0, 100000000 },
};

/* st[0]: when the link is free again (mono ns). A timer that fires late is
 * caught up (the schedule is kept, not restarted from now) unless the link
 * sat idle for longer than CATCHUP, so the long-run rate stays exact. */
#define CATCHUP 50000000
static void start(struct fl_stage *s, int64_t now, bool update)
{
	if (!update)
		s->st[0] = now;
}

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	int64_t rate = fl_toxic_int(s->toxic, "rate");
	if (rate <= 0) {
		fl_chunkq_move_all(out, &s->in, now);
		return FL_ACT_NONE;
	}
	double bps = (double)rate * 1000.0;
	size_t slice = (size_t)(bps / 100.0);
	if (slice < 1)
		slice = 1;
	if (s->st[0] < now - CATCHUP)
		s->st[0] = now;
	while (s->in.head) {
		struct fl_chunk *h = s->in.head;
		if (h->eof) {
			fl_chunkq_split_to(out, &s->in, 0, now);
			continue;
		}
		if (s->st[0] > now) {
			if (s->st[0] < *wake)
				*wake = s->st[0];
			break;
		}
		size_t n = h->len - h->off;
		if (n > slice)
			n = slice;
		if (fl_chunkq_split_to(out, &s->in, n, now))
			return FL_ACT_CLOSE;
		s->st[0] += (int64_t)((double)n * 1e9 / bps);
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_bandwidth = {
	.name = "bandwidth",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.start = start,
	.process = process,
};
