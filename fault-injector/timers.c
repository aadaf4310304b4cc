/* Stage timers: one timerfd per engine (CLOCK_MONOTONIC, absolute, to the
 * nanosecond) over a binary min-heap of the directions waiting on a time.
 * libevent's precise-timer mode would do this too, but it rearms its
 * timerfd on every loop iteration, a system call per wakeup even when no
 * toxic is waiting; here the timerfd is touched only when the earliest
 * deadline changes. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "fault-injector/internal.h"

static void set_fd(struct fl_proxy_engine *e)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	int64_t at = e->nheap ? e->heap[0]->timer_at : 0;
	if (at == e->armed_at)
		return;
	e->armed_at = at;
	if (at) {
		its.it_value.tv_sec = at / 1000000000;
		its.it_value.tv_nsec = at % 1000000000;
	}
	timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void swap(struct fl_proxy_engine *e, size_t a, size_t b)
{
	struct fl_dir *t = e->heap[a];
	e->heap[a] = e->heap[b];
	e->heap[b] = t;
	e->heap[a]->heap_idx = a;
	e->heap[b]->heap_idx = b;
}

static void up(struct fl_proxy_engine *e, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (e->heap[p]->timer_at <= e->heap[i]->timer_at)
			break;
		swap(e, i, p);
		i = p;
	}
}

static void down(struct fl_proxy_engine *e, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < e->nheap && e->heap[l]->timer_at < e->heap[m]->timer_at)
			m = l;
		if (r < e->nheap && e->heap[r]->timer_at < e->heap[m]->timer_at)
			m = r;
		if (m == i)
			return;
		swap(e, i, m);
		i = m;
	}
}

static void heap_remove(struct fl_proxy_engine *e, struct fl_dir *d)
{
	size_t i = d->heap_idx;
	d->heap_idx = SIZE_MAX;
	e->nheap--;
	if (i != e->nheap) {
		e->heap[i] = e->heap[e->nheap];
		e->heap[i]->heap_idx = i;
		up(e, i);
		down(e, e->heap[i]->heap_idx);
	}
}

void fl_timer_set(struct fl_dir *d, int64_t at)
{
	struct fl_proxy_engine *e = d->c->link->e;
	if (at == INT64_MAX)
		at = 0;
	if (at == d->timer_at && (at == 0) == (d->heap_idx == SIZE_MAX))
		return;
	if (d->heap_idx != SIZE_MAX)
		heap_remove(e, d);
	d->timer_at = at;
	if (at) {
		if (e->nheap == e->heap_cap) {
			size_t n = e->heap_cap ? e->heap_cap * 2 : 64;
			struct fl_dir **h = realloc(e->heap, n * sizeof(*h));
			if (!h) { /* keep running: fall back to an immediate wakeup */
				if (d->timer)
					event_active(d->timer, EV_TIMEOUT, 0);
				d->timer_at = 0;
				return;
			}
			e->heap = h;
			e->heap_cap = n;
		}
		d->heap_idx = e->nheap;
		e->heap[e->nheap++] = d;
		up(e, d->heap_idx);
	}
	set_fd(e);
}

static void tfd_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fl_proxy_engine *e = arg;
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* spurious: fall through and check the heap anyway */
	}
	e->armed_at = -1; /* the timerfd fired: rearm whatever comes next */
	int64_t now = fl_mono_ns();
	/* Run every due direction; each may rearm itself or close. */
	for (int guard = 0; e->nheap && e->heap[0]->timer_at <= now && guard < 100000; guard++) {
		struct fl_dir *d = e->heap[0];
		heap_remove(e, d);
		d->timer_at = 0;
		if (d->timer)
			event_active(d->timer, EV_TIMEOUT, 0);
	}
	set_fd(e);
}

int fl_timers_init(struct fl_proxy_engine *e)
{
	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->tfd < 0)
		return -1;
	e->tev = event_new(e->base, e->tfd, EV_READ | EV_PERSIST, tfd_cb, e);
	if (!e->tev)
		return -1;
	event_add(e->tev, NULL);
	return 0;
}

void fl_timers_free(struct fl_proxy_engine *e)
{
	if (e->tev)
		event_free(e->tev);
	if (e->tfd >= 0)
		close(e->tfd);
	free(e->heap);
	e->heap = NULL;
	e->nheap = e->heap_cap = 0;
}

void fl_timer_clear(struct fl_dir *d)
{
	if (d->heap_idx != SIZE_MAX) {
		heap_remove(d->c->link->e, d);
		set_fd(d->c->link->e);
	}
	d->timer_at = 0;
}

/* The loop thread asks the scheduler for a short slice (sched_attr's
 * sched_runtime for SCHED_OTHER, which EEVDF, Linux 6.12 and later, takes
 * as the task's slice request). A woken thread with a shorter slice than
 * the one running preempts it, so on a busy machine a due stage timer is
 * served after ~0.1 ms instead of when the running task's ~3 ms slice ends;
 * the thread's share of the CPU is unchanged. Only a SCHED_OTHER thread is
 * touched, its nice value kept; older kernels ignore the field.
 * FAULTLINE_PROXY_SLICE_US sets the request (100 to 100000), 0 leaves the
 * thread alone. */
struct sched_attr_v1 { /* the kernel's struct sched_attr (linux/sched/types.h clashes with sched.h) */
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

void fl_timers_thread_setup(void)
{
	long us = 100;
	const char *v = getenv("FAULTLINE_PROXY_SLICE_US");
	if (v && *v) {
		char *end;
		us = strtol(v, &end, 10);
		if (*end || us < 0)
			us = 100;
	}
	if (us == 0)
		return;
	if (us < 100)
		us = 100;
	if (us > 100000)
		us = 100000;
	struct sched_attr_v1 a;
	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof(a), 0) != 0 ||
	    a.sched_policy != SCHED_OTHER)
		return;
	a.size = sizeof(a);
	a.sched_runtime = (uint64_t)us * 1000;
	a.sched_flags = 0;
	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}
