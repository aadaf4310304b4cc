/* reset_peer: when data arrives on the stream (Toxiproxy: the first chunk),
 * it is dropped and, timeout ms later (0: at once), the connection is
 * closed with a TCP RST (SO_LINGER 0) on both sides. */
#include <stdlib.h>

#include "fault-injector/internal.h"

static const struct fl_attr_spec attrs[] = {
	{ "timeout", FL_AT_INT, 0, NULL, 0, 86400000 },
};

/* st[0]: when to reset (mono ns) once armed, else 0. */
static void start(struct fl_stage *s, int64_t now, bool update)
{
	(void)now;
	(void)update;
	s->st[0] = 0;
}

static int process(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake)
{
	struct fl_chunk *k;
	while ((k = fl_chunkq_pop(&s->in))) {
		if (k->eof) {
			fl_chunkq_push(out, k);
			continue;
		}
		if (!s->st[0])
			s->st[0] = now + fl_toxic_int(s->toxic, "timeout") * 1000000;
		free(k);
	}
	if (s->st[0]) {
		if (now >= s->st[0])
			return FL_ACT_RESET;
		if (s->st[0] < *wake)
			*wake = s->st[0];
	}
	return FL_ACT_NONE;
}

const struct fl_toxic_type fl_toxic_reset_peer = {
	.name = "reset_peer",
	.kind = FL_TK_STREAM,
	.attrs = attrs,
	.nattrs = sizeof(attrs) / sizeof(attrs[0]),
	.start = start,
	.process = process,
};
