/* Recorded events per link: the latest N (GET /proxies/{p}/events) and the
 * optional JSONL sink (--events FILE). Every event gets "link", "seq", "t"
 * (monotonic ns) and "ts" (wall time).
 *
 * While a link has traffic its events are JSON objects in a ring. Once it
 * has had no connection for FL_IDLE_MS, the ring is compacted: its events
 * become text lines ("SEQ COST KIND JSON\n", oldest first) in one buffer of
 * their exact size, the ring and the objects are freed and the engine trims
 * the heap. The text is a fifth of what the objects cost and is read back
 * only by GET .../events; new events start a new ring. Both parts obey the
 * same count and byte budget, the text's events dropped first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

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
	l->frz = NULL;
	l->frz_len = l->frz_off = l->frz_n = 0;
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

static void ring_free(struct fl_link *l)
{
	for (size_t i = 0; i < l->ev_len; i++)
		json_decref(l->ev[(l->ev_head + i) % l->ev_cap]);
	free(l->ev);
	free(l->ev_size);
	l->ev = NULL;
	l->ev_size = NULL;
	l->ev_len = l->ev_cap = l->ev_head = 0;
}

void fl_events_free(struct fl_link *l)
{
	ring_free(l);
	l->ev_bytes = 0;
	free(l->frz);
	l->frz = NULL;
	l->frz_len = l->frz_off = l->frz_n = 0;
	if (l->idle_ev)
		event_free(l->idle_ev);
	l->idle_ev = NULL;
}

/* Drop the oldest kept event (the text's first unless ring_only, else the
 * ring's head). */
static void drop_oldest(struct fl_link *l, bool ring_only)
{
	if (l->frz_n && !ring_only) {
		char *p = l->frz + l->frz_off, *nl = memchr(p, '\n', l->frz_len - l->frz_off);
		size_t cost = 0;
		sscanf(p, "%*s %zu", &cost);
		l->ev_bytes -= cost;
		l->frz_off = nl ? (size_t)(nl + 1 - l->frz) : l->frz_len;
		if (--l->frz_n == 0) {
			free(l->frz);
			l->frz = NULL;
			l->frz_len = l->frz_off = 0;
		}
		return;
	}
	json_decref(l->ev[l->ev_head]);
	l->ev_bytes -= l->ev_size[l->ev_head];
	l->ev_head = (l->ev_head + 1) % l->ev_cap;
	l->ev_len--;
}

/* The ring's events to text after the text kept so far, then free the
 * ring. On failure (memory) everything stays as it was. */
static void compact(struct fl_link *l)
{
	size_t nring = l->ev_len, keep = l->frz_len - l->frz_off, cap = keep + 1, n = keep;
	char **txt = calloc(nring ? nring : 1, sizeof(*txt));
	if (!txt)
		return;
	for (size_t i = 0; i < nring; i++) {
		txt[i] = json_dumps(l->ev[(l->ev_head + i) % l->ev_cap], JSON_COMPACT);
		if (!txt[i])
			goto out;
		cap += strlen(txt[i]) + 2 * 21 + 60 + 3; /* two numbers, the kind, the JSON */
	}
	char *buf = malloc(cap);
	if (!buf)
		goto out;
	if (keep)
		memcpy(buf, l->frz + l->frz_off, keep);
	for (size_t i = 0; i < nring; i++) {
		size_t at = (l->ev_head + i) % l->ev_cap;
		const char *kind = fl_json_str(l->ev[at], "event", "-");
		if (!*kind || strlen(kind) > 60 || strpbrk(kind, " \n"))
			kind = "-";
		n += (size_t)snprintf(buf + n, cap - n, "%" PRIu64 " %zu %s %s\n",
				      (uint64_t)json_integer_value(
					      json_object_get(l->ev[at], "seq")),
				      l->ev_size[at], kind, txt[i]);
	}
	char *fit = realloc(buf, n ? n : 1); /* its exact size */
	size_t nev = l->frz_n + nring;
	ring_free(l);
	free(l->frz);
	l->frz = fit ? fit : buf;
	l->frz_len = n;
	l->frz_off = 0;
	l->frz_n = nev;
out:
	for (size_t i = 0; i < nring; i++)
		free(txt[i]);
	free(txt);
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_link *l = arg;
	if (l->nconns || !l->ev_len)
		return;
	int64_t left = l->ev_last + (int64_t)FL_IDLE_MS * 1000000 - fl_mono_ns();
	if (left > 0) { /* an event since: wait the rest of the spell */
		struct timeval tv = { (time_t)(left / 1000000000),
				      (suseconds_t)(left % 1000000000 / 1000) };
		event_add(l->idle_ev, &tv);
		return;
	}
	compact(l);
	fl_engine_trim_soon(l->e);
}

/* After an event: compact once the link has had no connection and no event
 * for FL_IDLE_MS (a link busy with short connections one after another is
 * not idle). */
static void arm_idle(struct fl_link *l)
{
	l->ev_last = fl_mono_ns();
	if (l->nconns)
		return;
	if (!l->idle_ev)
		l->idle_ev = event_new(l->e->base, -1, 0, idle_cb, l);
	struct timeval tv = { FL_IDLE_MS / 1000, (FL_IDLE_MS % 1000) * 1000 };
	if (l->idle_ev && !event_pending(l->idle_ev, EV_TIMEOUT, NULL))
		event_add(l->idle_ev, &tv);
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
	size_t sz = 512;
	static const char *const big[] = { "req_body", "resp_body", "req_body_b64",
					   "resp_body_b64" };
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		sz += json_string_length(json_object_get(ev, big[i]));
	while (l->frz_n + l->ev_len &&
	       (l->frz_n + l->ev_len >= l->ev_keep || l->ev_bytes + sz > FL_EVENTS_BUDGET))
		drop_oldest(l, false);
	if (l->ev_len == l->ev_cap && !events_grow(l) && l->ev_len)
		drop_oldest(l, true); /* cannot grow: the ring's oldest goes */
	if (!l->ev_cap || l->ev_len == l->ev_cap) {
		json_decref(ev);
		return;
	}
	size_t at = (l->ev_head + l->ev_len) % l->ev_cap;
	l->ev[at] = ev;
	l->ev_size[at] = sz;
	l->ev_bytes += sz;
	l->ev_len++;
	arm_idle(l);
}

/* The text's events, oldest first, appended to a (as fl_events_list). */
static void list_text(struct fl_link *l, json_t *a, uint64_t since, size_t limit, const char *kind)
{
	for (size_t off = l->frz_off; off < l->frz_len;) {
		char *p = l->frz + off, *nl = memchr(p, '\n', l->frz_len - off);
		size_t end = nl ? (size_t)(nl - l->frz) : l->frz_len;
		off = end + 1;
		uint64_t seq = 0;
		char k[64];
		int js = 0;
		if (sscanf(p, "%" SCNu64 " %*u %63s %n", &seq, k, &js) < 2 || !js)
			continue;
		if (seq <= since || (kind && *kind && strcmp(kind, k) != 0))
			continue;
		size_t at = (size_t)(p - l->frz) + (size_t)js;
		json_t *ev = json_loadb(l->frz + at, end - at, JSON_ALLOW_NUL, NULL);
		if (ev)
			json_array_append_new(a, ev);
		if (limit && json_array_size(a) >= limit)
			return;
	}
}

json_t *fl_events_list(struct fl_link *l, uint64_t since, size_t limit, const char *kind)
{
	json_t *a = json_array();
	if (a && l->frz_n)
		list_text(l, a, since, limit, kind);
	for (size_t i = 0; a && i < l->ev_len && !(limit && json_array_size(a) >= limit); i++) {
		json_t *ev = l->ev[(l->ev_head + i) % l->ev_cap];
		if ((uint64_t)json_integer_value(json_object_get(ev, "seq")) <= since)
			continue;
		if (kind && *kind && strcmp(kind, fl_json_str(ev, "event", "")) != 0)
			continue;
		json_array_append(a, ev);
	}
	return a;
}
