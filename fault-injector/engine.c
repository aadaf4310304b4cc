/* The engine: its event loop and thread, links (named proxies), their
 * listeners and toxic lists. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/history.h"
#include "core/log.h"
#include "fault-injector/internal.h"

#define LOGC "proxy"

/* --- engine ------------------------------------------------------------ */

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_proxy_engine *e = arg;
	event_base_loopbreak(e->base);
}

/* Process-wide setup: libevent locking for fl_proxy_engine_exec/stop from
 * other threads, and SIGPIPE ignored (unless the program set a handler) so
 * a peer that vanishes mid-write is an EPIPE, not a dead process. */
static void engine_once(void)
{
	evthread_use_pthreads();
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

struct fl_proxy_engine *fl_proxy_engine_new(const struct fl_proxy_opts *opts, char *err,
					    size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, engine_once);
	struct fl_proxy_engine *e = calloc(1, sizeof(*e));
	if (!e) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	e->tfd = -1;
	e->base = event_base_new();
	e->scratch = malloc(FL_READ_SIZE);
	if (!e->base || !e->scratch) {
		fl_err_set(err, errlen, FL_ENOMEM, "cannot create the event loop");
		goto fail;
	}
	e->dns = evdns_base_new(e->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!e->dns)
		e->dns = evdns_base_new(e->base, 0);
	e->stop_ev = event_new(e->base, -1, 0, stop_cb, e);
	if (fl_timers_init(e)) {
		fl_err_set(err, errlen, FL_EIO, "timerfd: %s", strerror(errno));
		goto fail;
	}
	const char *sp = getenv("FAULTLINE_PROXY_SPLICE");
	e->no_splice = sp && strcmp(sp, "0") == 0;
	e->pipe_size = 1 << 20;
	e->seed = opts && opts->seeded ? opts->seed : fl_prng_entropy_seed();
	fl_prng_seed(&e->rng, e->seed);
	e->events_keep = opts && opts->events_keep ? opts->events_keep : 10000;
	e->started = fl_mono_ns();
	if (opts && opts->allow_upstream &&
	    fl_allow_parse(opts->allow_upstream, &e->allow_upstream, err, errlen))
		goto fail;
	if (opts && opts->allow_listen &&
	    fl_allow_parse(opts->allow_listen, &e->allow_listen, err, errlen))
		goto fail;
	if (opts && opts->events_path) {
		e->sink = fl_history_open(opts->events_path, 0, err, errlen);
		if (!e->sink)
			goto fail;
	}
	return e;
fail:
	fl_proxy_engine_free(e);
	return NULL;
}

struct event_base *fl_proxy_engine_base(struct fl_proxy_engine *e)
{
	return e->base;
}

uint64_t fl_proxy_engine_seed(const struct fl_proxy_engine *e)
{
	return e->seed;
}

const char *fl_proxy_api_url(const struct fl_proxy_engine *e)
{
	return e->api_url;
}

int fl_proxy_engine_run(struct fl_proxy_engine *e)
{
	e->loop_thread = (unsigned long)pthread_self();
	e->running = true;
	fl_timers_thread_setup();
	event_base_loop(e->base, EVLOOP_NO_EXIT_ON_EMPTY);
	e->running = false;
	return 0;
}

static void *thread_main(void *arg)
{
	fl_proxy_engine_run(arg);
	return NULL;
}

int fl_proxy_engine_start_thread(struct fl_proxy_engine *e, char *err, size_t errlen)
{
	if (e->thread)
		return fl_err_set(err, errlen, FL_ESTATE, "engine thread already running");
	pthread_t *t = malloc(sizeof(*t));
	if (!t)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	e->running = true;
	int rc = pthread_create(t, NULL, thread_main, e);
	if (rc) {
		free(t);
		e->running = false;
		return fl_err_set(err, errlen, fl_err_from_errno(rc), "pthread_create: %s",
				  strerror(rc));
	}
	e->thread = t;
	return 0;
}

void fl_proxy_engine_stop(struct fl_proxy_engine *e)
{
	if (!e)
		return;
	if (e->stop_ev)
		event_active(e->stop_ev, 0, 0);
	if (e->thread) {
		pthread_t *t = e->thread;
		if (!pthread_equal(*t, pthread_self())) {
			pthread_join(*t, NULL);
			free(t);
			e->thread = NULL;
		}
	}
}

struct exec_ctx {
	void (*fn)(void *);
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void exec_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct exec_ctx *x = arg;
	x->fn(x->arg);
	pthread_mutex_lock(&x->mu);
	x->done = true;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

int fl_proxy_engine_exec(struct fl_proxy_engine *e, void (*fn)(void *arg), void *arg)
{
	bool on_loop = !e->running || pthread_equal((pthread_t)e->loop_thread, pthread_self());
	if (on_loop) {
		fn(arg);
		return 0;
	}
	struct exec_ctx x = { .fn = fn, .arg = arg, .done = false };
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	struct timeval zero = { 0, 0 };
	if (event_base_once(e->base, -1, EV_TIMEOUT, exec_cb, &x, &zero) != 0) {
		pthread_mutex_destroy(&x.mu);
		pthread_cond_destroy(&x.cv);
		return FL_ENOMEM;
	}
	pthread_mutex_lock(&x.mu);
	while (!x.done)
		pthread_cond_wait(&x.cv, &x.mu);
	pthread_mutex_unlock(&x.mu);
	pthread_mutex_destroy(&x.mu);
	pthread_cond_destroy(&x.cv);
	return 0;
}

void fl_proxy_engine_free(struct fl_proxy_engine *e)
{
	if (!e)
		return;
	fl_proxy_engine_stop(e);
	fl_proxy_api_stop(e);
	while (e->links)
		fl_link_delete(e->links);
	fl_lease_free_all(e);
	if (e->lease_ev)
		event_free(e->lease_ev);
	if (e->stop_ev)
		event_free(e->stop_ev);
	if (e->trim_ev)
		event_free(e->trim_ev);
	fl_pipe_pool_free(e);
	fl_timers_free(e);
	if (e->dns)
		evdns_base_free(e->dns, 0);
	if (e->base)
		event_base_free(e->base);
	fl_history_close(e->sink);
	fl_allow_free(e->allow_upstream);
	fl_allow_free(e->allow_listen);
	free(e->token);
	free(e->scratch);
	free(e);
}

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_proxy_engine *e = arg;
	bool busy = false;
	for (struct fl_link *l = e->links; l && !busy; l = l->next)
		busy = l->nconns > 0;
	if (!busy && e->scratch) {
		/* the read buffer's whole pages: read() refills them on use */
		uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t a = ((uintptr_t)e->scratch + pg - 1) & ~(pg - 1);
		uintptr_t b = ((uintptr_t)e->scratch + FL_READ_SIZE) & ~(pg - 1);
		if (b > a)
			madvise((void *)a, b - a, MADV_DONTNEED);
	}
	malloc_trim(0);
}

void fl_engine_trim_soon(struct fl_proxy_engine *e)
{
	if (!e->trim_ev)
		e->trim_ev = event_new(e->base, -1, 0, trim_cb, e);
	struct timeval tv = { 0, 200000 };
	if (e->trim_ev && !event_pending(e->trim_ev, EV_TIMEOUT, NULL))
		event_add(e->trim_ev, &tv);
}

/* --- addresses and listeners ------------------------------------------- */

/* Resolve a listen address ("localhost:0", "0.0.0.0:80", "[::1]:1", ":8080"). */
static int resolve_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, char *err,
			  size_t errlen)
{
	char host[256];
	int port;
	if (fl_addr_split(addr, host, sizeof(host), &port))
		return fl_err_set(err, errlen, FL_EINVAL, "invalid listen address: %s", addr);
	if (!*host)
		strcpy(host, "0.0.0.0");
	else if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	/* numeric only: a name would be resolved on the loop, and a resolver
	 * that does not answer would stall every link */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char ps[8];
	snprintf(ps, sizeof(ps), "%d", port);
	int rc = getaddrinfo(host, ps, &hints, &ai);
	if (rc || !ai)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "listen address %s: the host must be an IP literal or localhost "
				  "(%s)",
				  addr, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(out, len, "[%s]:%d", ip, port);
	} else {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		snprintf(out, len, "%s:%d", ip, port);
	}
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_link *l = arg;
	if (l->lev)
		event_add(l->lev, NULL);
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fl_link *l = arg;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			fl_warn(LOGC, "%s: accept: %s", l->name, strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: the listener would fire in a tight
				 * loop; pause accepting for 100 ms instead. */
				struct timeval tv = { 0, 100000 };
				if (!l->resume_ev)
					l->resume_ev = evtimer_new(l->e->base, accept_resume_cb, l);
				if (l->resume_ev) {
					event_del(l->lev);
					evtimer_add(l->resume_ev, &tv);
				}
			}
			return;
		}
		char peer[64];
		format_addr(&ss, peer, sizeof(peer));
		fl_conn_start(l, c, peer);
		if (l->lfd != fd) /* the link was disabled meanwhile */
			return;
	}
}

static bool link_refusing(const struct fl_link *l)
{
	for (const struct fl_toxic *t = l->toxics; t; t = t->next)
		if (t->type == &fl_toxic_refuse && t->toxicity > 0)
			return true;
	return false;
}

static void link_unbind(struct fl_link *l)
{
	if (l->resume_ev) {
		event_free(l->resume_ev);
		l->resume_ev = NULL;
	}
	if (l->lev) {
		event_free(l->lev);
		l->lev = NULL;
	}
	if (l->lfd >= 0) {
		close(l->lfd);
		l->lfd = -1;
	}
}

/* Bind l->listen (or addr when given, updating l->listen on success). */
static int link_bind(struct fl_link *l, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *want = addr ? addr : l->listen;
	int rc = resolve_listen(want, &ss, &sl, err, errlen);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "socket: %s",
				  strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 4096) != 0) {
		rc = fl_err_set(err, errlen, fl_err_from_errno(errno), "listen tcp %s: %s", want,
				strerror(errno));
		close(fd);
		return rc;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	char bound[96];
	format_addr(&ss, bound, sizeof(bound));
	char *nl = strdup(bound);
	struct event *ev = event_new(l->e->base, fd, EV_READ | EV_PERSIST, accept_cb, l);
	if (!nl || !ev) {
		free(nl);
		if (ev)
			event_free(ev);
		close(fd);
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	}
	event_add(ev, NULL);
	link_unbind(l);
	free(l->listen);
	l->listen = nl;
	l->lfd = fd;
	l->lev = ev;
	return 0;
}

/* Listener wanted: enabled and no refuse toxic. */
static int link_sync_listener(struct fl_link *l, char *err, size_t errlen)
{
	bool want = l->enabled && !link_refusing(l);
	if (want && l->lfd < 0)
		return link_bind(l, NULL, err, errlen);
	if (!want && l->lfd >= 0)
		link_unbind(l);
	return 0;
}

/* --- links ------------------------------------------------------------- */

struct fl_link *fl_link_find(struct fl_proxy_engine *e, const char *name)
{
	for (struct fl_link *l = e->links; l; l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

int fl_link_create(struct fl_proxy_engine *e, const char *name, const char *listen,
		   const char *upstream, bool enabled, enum fl_http_mode http, struct fl_link **out,
		   int *status, char *err, size_t errlen)
{
	*status = 500;
	if (fl_link_find(e, name)) {
		*status = 409;
		return fl_err_set(err, errlen, FL_EEXIST, "proxy already exists");
	}
	struct fl_link *l = calloc(1, sizeof(*l));
	if (!l)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	l->e = e;
	l->lfd = -1;
	l->enabled = enabled;
	l->http = http;
	l->name = strdup(name);
	l->listen = strdup(listen && *listen ? listen : "127.0.0.1:0");
	l->upstream = strdup(upstream);
	if (!l->name || !l->listen || !l->upstream) {
		fl_link_delete(l);
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	}
	char host[256];
	int port;
	if (fl_addr_split(l->listen, host, sizeof(host), &port)) {
		*status = 400;
		fl_err_set(err, errlen, FL_EINVAL, "invalid listen address: %s", l->listen);
		fl_link_delete(l);
		return FL_EINVAL;
	}
	int prc = fl_policy_listen(e, l->listen, err, errlen);
	if (!prc)
		prc = fl_policy_upstream(e, l->upstream, err, errlen);
	if (prc) {
		*status = prc == FL_EPERM ? 403 : 400;
		fl_link_delete(l);
		return prc;
	}
	fl_events_init(l, e->events_keep);
	/* Bind even when disabled, so "listen" reports the real port; then
	 * close again if disabled (Toxiproxy does the same on start). */
	int rc = link_bind(l, NULL, err, errlen);
	if (rc) {
		fl_link_delete(l);
		return rc;
	}
	if (!enabled)
		link_unbind(l);
	l->next = e->links;
	e->links = l;
	*out = l;
	*status = 201;
	return 0;
}

static void enable_ttl_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_link *l = arg;
	char err[256];
	l->disable_ttl_ms = 0;
	if (fl_link_set_enabled(l, true, err, sizeof(err)))
		fl_warn(LOGC, "%s: re-enable after ttl: %s", l->name, err);
}

int fl_link_set_enabled(struct fl_link *l, bool enabled, char *err, size_t errlen)
{
	bool was = l->enabled;
	l->enabled = enabled;
	int rc = link_sync_listener(l, err, errlen);
	if (rc) {
		l->enabled = was;
		return rc;
	}
	if (!enabled) {
		while (l->conns)
			fl_conn_close(l->conns, FL_ACT_CLOSE, "proxy disabled");
	}
	if (enabled && l->enable_ev)
		event_del(l->enable_ev);
	if (!enabled && l->disable_ttl_ms > 0) {
		if (!l->enable_ev)
			l->enable_ev = evtimer_new(l->e->base, enable_ttl_cb, l);
		struct timeval tv = { l->disable_ttl_ms / 1000, (l->disable_ttl_ms % 1000) * 1000 };
		if (l->enable_ev)
			evtimer_add(l->enable_ev, &tv);
	}
	if (was != enabled)
		fl_events_emit(l, json_pack("{s:s}", "event",
					    enabled ? "proxy_enabled" : "proxy_disabled"));
	return 0;
}

int fl_link_set_listen(struct fl_link *l, const char *listen, char *err, size_t errlen)
{
	if (strcmp(listen, l->listen) == 0)
		return 0;
	if (!l->enabled || link_refusing(l)) {
		char host[256];
		int port;
		if (fl_addr_split(listen, host, sizeof(host), &port))
			return fl_err_set(err, errlen, FL_EINVAL, "invalid listen address: %s",
					  listen);
		int prc = fl_policy_listen(l->e, listen, err, errlen);
		if (prc)
			return prc;
		char *d = strdup(listen);
		if (!d)
			return FL_ENOMEM;
		free(l->listen);
		l->listen = d;
		return 0;
	}
	/* Toxiproxy restarts the proxy: live connections end. */
	int rc = link_bind(l, listen, err, errlen);
	if (rc)
		return rc;
	while (l->conns)
		fl_conn_close(l->conns, FL_ACT_CLOSE, "listen address changed");
	return 0;
}

void fl_link_set_upstream(struct fl_link *l, const char *upstream)
{
	char *d = strdup(upstream);
	if (!d)
		return;
	free(l->upstream);
	l->upstream = d;
}

void fl_link_delete(struct fl_link *l)
{
	struct fl_proxy_engine *e = l->e;
	for (struct fl_link **p = &e->links; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	while (l->conns)
		fl_conn_close(l->conns, FL_ACT_CLOSE, "proxy deleted");
	link_unbind(l);
	while (l->toxics) {
		struct fl_toxic *t = l->toxics;
		l->toxics = t->next;
		fl_toxic_free(t);
	}
	if (l->enable_ev)
		event_free(l->enable_ev);
	fl_events_free(l);
	free(l->name);
	free(l->listen);
	free(l->upstream);
	free(l);
	/* give the memory of mass deletes back to the system: without it a
	 * thousand deleted proxies leave the heap fragmented and RSS high
	 * (bench/proxy.sh section 6); one trim for a burst of deletes */
	fl_engine_trim_soon(e);
}

json_t *fl_link_to_json(const struct fl_link *l)
{
	json_t *tox = json_array();
	for (const struct fl_toxic *t = l->toxics; t; t = t->next)
		json_array_append_new(tox, fl_toxic_to_json(t));
	json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", l->name, "listen", l->listen,
			      "upstream", l->upstream, "enabled", l->enabled, "toxics", tox);
	if (j && l->header_faults)
		json_object_set_new(j, "header_faults", json_true());
	if (j && l->http != FL_HTTP_AUTO)
		json_object_set_new(j, "http", json_boolean(l->http == FL_HTTP_ON));
	return j;
}

/* --- toxics on a link -------------------------------------------------- */

struct fl_toxic *fl_link_find_toxic(struct fl_link *l, const char *name)
{
	for (struct fl_toxic *t = l->toxics; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

void fl_link_toxics_changed(struct fl_link *l)
{
	char err[256];
	if (link_sync_listener(l, err, sizeof(err)))
		fl_warn(LOGC, "%s: %s", l->name, err);
	for (struct fl_conn *c = l->conns, *n; c; c = n) {
		n = c->next;
		fl_conn_sync(c);
	}
}

static json_t *toxic_event(const char *what, const struct fl_toxic *t)
{
	return json_pack("{s:s, s:o}", "event", what, "toxic", fl_toxic_to_json(t));
}

static void ttl_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_toxic *t = arg;
	fl_link_remove_toxic(t->link, t);
}

void fl_link_arm_ttl(struct fl_link *l, struct fl_toxic *t)
{
	if (t->ttl_ms <= 0) {
		if (t->ttl_ev)
			event_del(t->ttl_ev);
		return;
	}
	if (!t->ttl_ev)
		t->ttl_ev = evtimer_new(l->e->base, ttl_cb, t);
	struct timeval tv = { t->ttl_ms / 1000, (t->ttl_ms % 1000) * 1000 };
	if (t->ttl_ev)
		evtimer_add(t->ttl_ev, &tv);
}

void fl_link_add_toxic(struct fl_link *l, struct fl_toxic *t)
{
	t->link = l;
	t->next = NULL;
	struct fl_toxic **p = &l->toxics;
	while (*p)
		p = &(*p)->next;
	*p = t;
	fl_link_arm_ttl(l, t);
	fl_events_emit(l, toxic_event("toxic_added", t));
	fl_link_toxics_changed(l);
}

void fl_link_remove_toxic(struct fl_link *l, struct fl_toxic *t)
{
	for (struct fl_toxic **p = &l->toxics; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	fl_events_emit(l, toxic_event("toxic_removed", t));
	/* Connections drop their stages for t before t is freed. */
	fl_link_toxics_changed(l);
	fl_toxic_free(t);
}

void fl_link_heal(struct fl_link *l)
{
	char err[256];
	while (l->toxics)
		fl_link_remove_toxic(l, l->toxics);
	l->disable_ttl_ms = 0;
	if (!l->enabled && fl_link_set_enabled(l, true, err, sizeof(err)))
		fl_warn(LOGC, "%s: enable: %s", l->name, err);
}

void fl_engine_heal_all(struct fl_proxy_engine *e)
{
	for (struct fl_link *l = e->links; l; l = l->next)
		fl_link_heal(l);
}
