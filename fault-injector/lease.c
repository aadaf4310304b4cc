/* The controller lease (dead man's switch): POST /lease {ttl_ms, holder?}
 * takes or renews a lease; when any lease lapses without renewal every fault
 * of every link is removed and every link enabled. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "fault-injector/internal.h"

static void lease_arm(struct fl_proxy_engine *e);

static void lease_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_proxy_engine *e = arg;
	int64_t now = fl_mono_ns();
	bool lapsed = false;
	for (size_t i = 0; i < e->nleases;) {
		if (e->leases[i].expires <= now) {
			fl_warn("proxy", "lease of '%s' lapsed: removing every fault",
				e->leases[i].holder);
			free(e->leases[i].holder);
			e->leases[i] = e->leases[--e->nleases];
			lapsed = true;
		} else {
			i++;
		}
	}
	if (lapsed) {
		fl_engine_heal_all(e);
		for (struct fl_link *l = e->links; l; l = l->next)
			fl_events_emit(l, json_pack("{s:s}", "event", "lease_lapsed"));
	}
	lease_arm(e);
}

static void lease_arm(struct fl_proxy_engine *e)
{
	if (!e->lease_ev)
		e->lease_ev = evtimer_new(e->base, lease_cb, e);
	if (!e->lease_ev)
		return;
	if (!e->nleases) {
		evtimer_del(e->lease_ev);
		return;
	}
	int64_t first = INT64_MAX;
	for (size_t i = 0; i < e->nleases; i++)
		if (e->leases[i].expires < first)
			first = e->leases[i].expires;
	int64_t dt = first - fl_mono_ns();
	if (dt < 0)
		dt = 0;
	struct timeval tv = { dt / 1000000000, (dt % 1000000000) / 1000 };
	evtimer_add(e->lease_ev, &tv);
}

int fl_lease_set(struct fl_proxy_engine *e, const char *holder, int64_t ttl_ms)
{
	size_t i;
	for (i = 0; i < e->nleases && strcmp(e->leases[i].holder, holder) != 0; i++)
		;
	if (i == e->nleases) {
		struct fl_lease *n = realloc(e->leases, (e->nleases + 1) * sizeof(*n));
		if (!n)
			return FL_ENOMEM;
		e->leases = n;
		n[i].holder = strdup(holder);
		if (!n[i].holder)
			return FL_ENOMEM;
		e->nleases++;
	}
	e->leases[i].ttl_ms = ttl_ms;
	e->leases[i].expires = fl_mono_ns() + ttl_ms * 1000000;
	lease_arm(e);
	return 0;
}

int fl_lease_drop(struct fl_proxy_engine *e, const char *holder)
{
	for (size_t i = 0; i < e->nleases; i++)
		if (strcmp(e->leases[i].holder, holder) == 0) {
			free(e->leases[i].holder);
			e->leases[i] = e->leases[--e->nleases];
			lease_arm(e);
			return 0;
		}
	return FL_ENOENT;
}

json_t *fl_lease_json(struct fl_proxy_engine *e)
{
	json_t *a = json_array();
	int64_t now = fl_mono_ns();
	for (size_t i = 0; i < e->nleases; i++) {
		int64_t left = (e->leases[i].expires - now) / 1000000;
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "holder", e->leases[i].holder,
						   "ttl_ms", (json_int_t)e->leases[i].ttl_ms,
						   "expires_in_ms",
						   (json_int_t)(left > 0 ? left : 0)));
	}
	return a;
}

void fl_lease_free_all(struct fl_proxy_engine *e)
{
	for (size_t i = 0; i < e->nleases; i++)
		free(e->leases[i].holder);
	free(e->leases);
	e->leases = NULL;
	e->nleases = 0;
}
