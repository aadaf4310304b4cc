/* Recorded events per link: a ring of the latest N (GET
 * /proxies/{p}/events) and the optional JSONL sink (--events FILE). Every
 * event gets "link", "seq", "t" (monotonic ns) and "ts" (wall time). */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/history.h"
#include "core/json.h"
#include "fault-injector/internal.h"

/* The ring is allocated on the first event and doubles up to ev_keep, so an
 * idle link costs nothing (it used to preallocate 160 KB). */
void fl_events_init(struct fl_link *l, size_t keep)
{
	l->ev_keep = keep;
	l->ev_cap = l->ev_len = l->ev_head = l->ev_bytes = 0;
	l->ev = NULL;
	l->ev_size = NULL;
}

/* Grow the ring (oldest first at slot 0). False when it cannot. */
static bool events_grow(struct fl_link *l)
{
	size_t ncap = l->ev_cap ? l->ev_cap * 2 : 16;
	if (ncap > l->ev_keep)
		ncap = l->ev_keep;
	if (ncap <= l->ev_cap)
		return false;
	json_t **ev = calloc(ncap, sizeof(*ev));
	size_t *sz = calloc(ncap, sizeof(*sz));
	if (!ev || !sz) {
		free(ev);
		free(sz);
		return false;
	}
	for (size_t i = 0; i < l->ev_len; i++) {
		ev[i] = l->ev[(l->ev_head + i) % l->ev_cap];
		sz[i] = l->ev_size[(l->ev_head + i) % l->ev_cap];
	}
	free(l->ev);
	free(l->ev_size);
	l->ev = ev;
	l->ev_size = sz;
	l->ev_cap = ncap;
	l->ev_head = 0;
	return true;
}

void fl_events_free(struct fl_link *l)
{
	for (size_t i = 0; i < l->ev_len; i++)
		json_decref(l->ev[(l->ev_head + i) % l->ev_cap]);
	free(l->ev);
	free(l->ev_size);
	l->ev = NULL;
	l->ev_size = NULL;
	l->ev_len = l->ev_cap = l->ev_bytes = 0;
}

void fl_events_emit(struct fl_link *l, json_t *ev)
{
	if (!ev)
		return;
	char ts[40];
	int64_t now = fl_mono_ns();
	json_object_set_new(ev, "link", json_string(l->name));
	json_object_set_new(ev, "seq", json_integer((json_int_t)++l->ev_seq));
	if (!json_object_get(ev, "t"))
		json_object_set_new(ev, "t", json_integer(now));
	json_object_set_new(ev, "ts", json_string(fl_wall_iso(fl_wall_ns(), ts, sizeof(ts))));
	if (l->e->sink)
		fl_history_append(l->e->sink, ev);
	if (l->ev_len == l->ev_cap)
		events_grow(l);
	if (!l->ev_cap) {
		json_decref(ev);
		return;
	}
	size_t sz = 512;
	static const char *const big[] = { "req_body", "resp_body", "req_body_b64",
					   "resp_body_b64" };
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		sz += json_string_length(json_object_get(ev, big[i]));
	while (l->ev_len && (l->ev_len == l->ev_cap || l->ev_bytes + sz > FL_EVENTS_BUDGET)) {
		json_decref(l->ev[l->ev_head]);
		l->ev_bytes -= l->ev_size[l->ev_head];
		l->ev_head = (l->ev_head + 1) % l->ev_cap;
		l->ev_len--;
	}
	size_t at = (l->ev_head + l->ev_len) % l->ev_cap;
	l->ev[at] = ev;
	l->ev_size[at] = sz;
	l->ev_bytes += sz;
	l->ev_len++;
}

json_t *fl_events_list(struct fl_link *l, uint64_t since, size_t limit, const char *kind)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < l->ev_len; i++) {
		json_t *ev = l->ev[(l->ev_head + i) % l->ev_cap];
		if ((uint64_t)json_integer_value(json_object_get(ev, "seq")) <= since)
			continue;
		if (kind && *kind && strcmp(kind, fl_json_str(ev, "event", "")) != 0)
			continue;
		json_array_append(a, ev);
		if (limit && json_array_size(a) >= limit)
			break;
	}
	return a;
}
