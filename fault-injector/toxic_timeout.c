/* timeout: data is dropped; the connection closes timeout ms after the toxic
 * took effect (0: never). Removing the toxic closes the connection too, as
 * in Toxiproxy. */
#include <stdlib.h>

#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "timeout", FL_AT_INT, 0, NULL, 0, 86400000 },
};

/* st[0]: deadline (mono ns) or 0. */
static void start(struct fl_stage *s, int64_t now, bool update)
{
	(void)update;
	int64_t ms = fl_toxic_int(s->toxic, "timeout");
	s->st[0] = ms > 0 ? now + ms * 1000000 : 0;
}

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	struct fl_chunk *k;
	while ((k = fl_chunkq_pop(&s->in))) {
		if (k->eof)
			fl_chunkq_push(out, k);
		else
			free(k);
	}
	if (s->st[0]) {
		if (now >= s->st[0])
			return FL_ACT_CLOSE;
		if (s->st[0] < *wake)
			*wake = s->st[0];
	}
	return FL_ACT_NONE;
}

static int removed(struct fl_stage *s)
{
	(void)s;
	return FL_ACT_CLOSE;
}

const struct fl_toxic_type fl_toxic_timeout = {
	.name = "timeout",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.start = start,
	.process = process,
	.removed = removed,
};
