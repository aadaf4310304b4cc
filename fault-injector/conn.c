/* Proxied connections: accept, upstream connect, the two directions' read
 * and write paths, the stage chain and closing (FIN or RST). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core/clock.h"
#include "core/log.h"
#include "fault-injector/internal.h"

#define LOGC "proxy"

static void dir_set_reading(struct fl_dir *d, bool on)
{
	if (!d->rev || d->reading == on)
		return;
	d->reading = on;
	if (on) {
		d->read_from = fl_mono_ns();
		event_add(d->rev, NULL);
	} else
		event_del(d->rev);
}

static void dir_set_writing(struct fl_dir *d, bool on)
{
	if (!d->wev || d->writing == on)
		return;
	d->writing = on;
	if (on)
		event_add(d->wev, NULL);
	else
		event_del(d->wev);
}

/* What a direction holds, in memory: its queued chunks at their real cost
 * and the bytes in its splice pipe. */
static size_t dir_queued(const struct fl_dir *d)
{
	size_t n = d->out.mem + d->piped;
	for (size_t i = 0; i < d->nstages; i++)
		n += d->stages[i].in.mem;
	return n;
}

static void set_linger0(int fd)
{
	struct linger lg = { 1, 0 };
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void free_dir(struct fl_dir *d)
{
	if (d->c && d->c->link)
		d->c->link->e->queued -= d->accounted;
	d->accounted = 0;
	if (d->rev)
		event_free(d->rev);
	if (d->wev)
		event_free(d->wev);
	if (d->c && d->heap_idx != SIZE_MAX)
		fl_timer_clear(d);
	if (d->timer)
		event_free(d->timer);
	d->rev = d->wev = d->timer = NULL;
	fl_pipe_put(d->c->link->e, d->pipe, d->piped == 0);
	d->piped = 0;
	for (size_t i = 0; i < d->nstages; i++)
		fl_chunkq_clear(&d->stages[i].in);
	free(d->stages);
	d->stages = NULL;
	d->nstages = 0;
	fl_chunkq_clear(&d->out);
}

static void conn_free(struct fl_conn *c)
{
	fl_http_state_free(c->http);
	free(c);
}

void fl_conn_close(struct fl_conn *c, int how, const char *reason)
{
	if (c->closed)
		return;
	c->closed = true;
	struct fl_link *l = c->link;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	fl_http_state_close(c->http);
	if (how == FL_ACT_RESET)
		l->m.resets++;
	fl_events_emit(l,
		       json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "event",
				 "connection_close", "conn", (json_int_t)c->id, "client", c->peer,
				 "start", (json_int_t)c->t_open, "end", (json_int_t)fl_mono_ns(),
				 "bytes_up", (json_int_t)c->d[FL_DIR_UP].bytes_in, "bytes_down",
				 (json_int_t)c->d[FL_DIR_DOWN].bytes_in, "reason", reason, "how",
				 how == FL_ACT_RESET ? "reset" : "close"));
	free_dir(&c->d[0]);
	free_dir(&c->d[1]);
	if (c->cev) {
		event_free(c->cev);
		c->cev = NULL;
	}
	if (how == FL_ACT_RESET) {
		set_linger0(c->cfd);
		set_linger0(c->ufd);
	}
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	c->cfd = c->ufd = -1;
	if (c->dns_req) {
		evdns_getaddrinfo_cancel(c->dns_req); /* its callback frees c */
		return;
	}
	conn_free(c);
}

/* Write what the output queue holds. Returns 0, or -1 when the destination
 * failed (the connection must close). */
static int dir_flush(struct fl_dir *d)
{
	if (d->piped) {
		if (fl_splice_out(d))
			return -1;
		if (d->piped) {
			dir_set_writing(d, true);
			return 0;
		}
	}
	if (d->pipe[0] >= 0) {
		fl_pipe_put(d->c->link->e, d->pipe, true);
		if (d->eof_after_pipe) {
			d->eof_after_pipe = false;
			struct fl_chunk *k = fl_chunk_eof(fl_mono_ns());
			if (!k)
				return -1;
			fl_chunkq_push(&d->out, k);
		}
	}
	while (d->out.head) {
		struct fl_chunk *h = d->out.head;
		if (h->eof) {
			free(fl_chunkq_pop(&d->out));
			if (!d->eof_out) {
				shutdown(d->dst, SHUT_WR);
				d->eof_out = true;
			}
			continue;
		}
		struct iovec iov[16];
		int n = 0;
		for (struct fl_chunk *k = h; k && !k->eof && n < 16; k = k->next) {
			if (n && k->solo)
				break;
			iov[n].iov_base = k->data + k->off;
			iov[n].iov_len = k->len - k->off;
			n++;
			if (k->solo)
				break;
		}
		ssize_t w = writev(d->dst, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		d->bytes_out += (uint64_t)w;
		fl_chunkq_consume(&d->out, (size_t)w);
	}
	dir_set_writing(d, d->out.head != NULL);
	return 0;
}

static void dir_arm_timer(struct fl_dir *d, int64_t wake)
{
	if (d->timer)
		fl_timer_set(d, wake);
}

/* Run the chain, flush, schedule. Returns 1 when the connection closed. */
static int dir_run(struct fl_dir *d)
{
	struct fl_conn *c = d->c;
	int64_t now = fl_mono_ns();
	int64_t wake = INT64_MAX;
	for (size_t i = 0; i < d->nstages; i++) {
		struct fl_stage *s = &d->stages[i];
		struct fl_chunkq *out = i + 1 < d->nstages ? &d->stages[i + 1].in : &d->out;
		if (!s->active) {
			fl_chunkq_move_all(out, &s->in, now);
			continue;
		}
		int act = s->type->process(s, out, now, &wake);
		if (act == FL_ACT_RESET) {
			fl_conn_close(c, FL_ACT_RESET, s->toxic ? s->toxic->type->name : "http");
			return 1;
		}
		if (act == FL_ACT_CLOSE) {
			/* Deliver what already passed, then close. */
			struct fl_dir *o = &c->d[!d->idx];
			if (dir_flush(d) == 0)
				dir_flush(o);
			fl_conn_close(c, FL_ACT_CLOSE, s->toxic ? s->toxic->type->name : "http");
			return 1;
		}
	}
	if (dir_flush(d) != 0) {
		fl_conn_close(c, FL_ACT_CLOSE, "write failed");
		return 1;
	}
	if (c->d[0].eof_out && c->d[1].eof_out) {
		fl_conn_close(c, FL_ACT_CLOSE, "closed");
		return 1;
	}
	dir_arm_timer(d, wake);
	size_t cap = d->nstages ? FL_DIR_CAP : 1;
	/* Per direction at most cap; engine-wide at most FL_ENGINE_CAP, except
	 * that a direction holding nothing may always read (no starvation). */
	struct fl_proxy_engine *e = c->link->e;
	size_t q = dir_queued(d);
	e->queued += q - d->accounted;
	d->accounted = q;
	dir_set_reading(d, c->connected && !d->eof_in && q < cap &&
				   (q == 0 || e->queued < FL_ENGINE_CAP));
	return 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dir_run(arg);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dir_run(arg);
}

/* Returns 1 when the connection closed meanwhile. */
static int http_detect(struct fl_conn *c, struct fl_dir *d, const char *p, size_t n)
{
	c->http_checked = true;
	if (c->link->http == FL_HTTP_AUTO && d->idx == FL_DIR_UP &&
	    fl_http_looks_like_request(p, n)) {
		c->http = fl_http_state_new(c);
		if (c->http)
			return fl_conn_sync(c);
	}
	return 0;
}

/* The splice fast path; returns false when it does not apply. */
static bool read_splice(struct fl_dir *d)
{
	struct fl_conn *c = d->c;
	struct fl_proxy_engine *e = c->link->e;
	if (e->no_splice || !c->http_checked || c->http || d->nstages || d->out.head || d->piped)
		return false;
	if (d->pipe[0] < 0 && fl_pipe_get(e, d->pipe) != 0)
		return false;
	long n = fl_splice_in(d, FL_READ_SIZE * 8);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			fl_pipe_put(e, d->pipe, true);
			return true;
		}
		if (errno == EINVAL || errno == ENOSYS) { /* no splice here: plain path */
			fl_pipe_put(e, d->pipe, true);
			e->no_splice = true;
			return false;
		}
		fl_conn_close(c, errno == ECONNRESET ? FL_ACT_RESET : FL_ACT_CLOSE,
			      d->idx == FL_DIR_UP ? "client error" : "upstream error");
		return true;
	}
	if (n == 0) {
		d->eof_in = true;
		d->eof_after_pipe = true;
		dir_set_reading(d, false);
		dir_run(d);
		return true;
	}
	d->bytes_in += (uint64_t)n;
	c->link->m.bytes[d->idx] += (uint64_t)n;
	dir_run(d);
	return true;
}

/* Read into buf. With stages, *at is when the bytes reached the socket
 * (the kernel's receive timestamp), so a late wakeup does not lengthen the
 * delays that count from arrival (latency, slow_close); never earlier than
 * reading was last turned on (bytes held back by backpressure count from
 * then), never later than now. Without stages *at is now. */
static ssize_t read_arrival(struct fl_dir *d, char *buf, size_t n, int64_t *at)
{
	if (!d->nstages) {
		ssize_t r = read(d->src, buf, n);
		*at = fl_mono_ns();
		return r;
	}
	if (!d->stamped) {
		int one = 1;
		setsockopt(d->src, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		d->stamped = true;
	}
	char ctl[CMSG_SPACE(sizeof(struct timespec)) * 2];
	struct iovec iov = { buf, n };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t r = recvmsg(d->src, &m, 0);
	int64_t now = fl_mono_ns();
	*at = now;
	if (r <= 0)
		return r;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		struct timespec ts;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		int64_t ago = fl_wall_ns() - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
		if (ago > 0)
			*at = now - ago;
	}
	if (*at < d->read_from)
		*at = d->read_from;
	return r;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fl_dir *d = arg;
	struct fl_conn *c = d->c;
	if (read_splice(d))
		return;
	if (d->piped) { /* the pipe drains first (write_cb) */
		dir_set_reading(d, false);
		return;
	}
	char *buf = c->link->e->scratch;
	int64_t now;
	ssize_t n = read_arrival(d, buf, FL_READ_SIZE, &now);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		fl_conn_close(c, errno == ECONNRESET ? FL_ACT_RESET : FL_ACT_CLOSE,
			      d->idx == FL_DIR_UP ? "client error" : "upstream error");
		return;
	}
	if (n == 0) {
		d->eof_in = true;
		dir_set_reading(d, false);
		if (d->idx == FL_DIR_UP)
			fl_http_client_eof(c->http, now);
		struct fl_chunk *k = fl_chunk_eof(now);
		if (!k) {
			fl_conn_close(c, FL_ACT_CLOSE, "out of memory");
			return;
		}
		fl_chunkq_push(d->nstages ? &d->stages[0].in : &d->out, k);
		dir_run(d);
		return;
	}
	d->bytes_in += (uint64_t)n;
	c->link->m.bytes[d->idx] += (uint64_t)n;
	if (!c->http_checked && http_detect(c, d, buf, (size_t)n))
		return;
	size_t off = 0;
	if (d->nstages == 0 && !d->out.head) {
		/* Fast path: straight from the read buffer. */
		ssize_t w;
		do
			w = write(d->dst, buf, (size_t)n);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			fl_conn_close(c, FL_ACT_CLOSE, "write failed");
			return;
		}
		if (w > 0) {
			d->bytes_out += (uint64_t)w;
			off = (size_t)w;
		}
		if (off == (size_t)n)
			return;
	}
	struct fl_chunk *k = fl_chunk_new(buf + off, (size_t)n - off, now);
	if (!k) {
		fl_conn_close(c, FL_ACT_CLOSE, "out of memory");
		return;
	}
	fl_chunkq_push(d->nstages ? &d->stages[0].in : &d->out, k);
	dir_run(d);
}

/* --- the stage chain ----------------------------------------------------- */

static bool stage_wanted(const struct fl_toxic *t, int idx)
{
	return t->type->kind == FL_TK_STREAM && t->stream == idx;
}

static void stage_activate(struct fl_stage *s, int64_t now, bool update)
{
	struct fl_toxic *t = s->toxic;
	s->active = fl_prng_chance(&s->dir->rng, t->toxicity);
	s->gen = t->gen;
	if (s->active) {
		t->activations++;
		if (s->type->start)
			s->type->start(s, now, update);
	}
}

/* Rebuild one direction's stages; returns the strongest removal action. */
static int dir_sync(struct fl_dir *d, int64_t now)
{
	struct fl_conn *c = d->c;
	size_t want = c->http ? 1 : 0;
	for (struct fl_toxic *t = c->link->toxics; t; t = t->next)
		want += stage_wanted(t, d->idx);
	if (want && d->pipe[0] >= 0) {
		if (fl_splice_drain(d, c->link->e->scratch, FL_READ_SIZE, now))
			return FL_ACT_CLOSE;
		fl_pipe_put(c->link->e, d->pipe, true);
		if (d->eof_after_pipe) {
			struct fl_chunk *k = fl_chunk_eof(now);
			if (!k)
				return FL_ACT_CLOSE;
			d->eof_after_pipe = false;
			fl_chunkq_push(&d->out, k);
		}
	}
	struct fl_stage *ns = want ? calloc(want, sizeof(*ns)) : NULL;
	if (want && !ns)
		return FL_ACT_CLOSE;
	int *keep = d->nstages ? calloc(d->nstages, sizeof(int)) : NULL; /* old -> new+1 */
	if (d->nstages && !keep) {
		free(ns);
		return FL_ACT_CLOSE;
	}
	size_t k = 0;
	if (c->http) {
		size_t j;
		for (j = 0; j < d->nstages && d->stages[j].toxic; j++)
			;
		if (j < d->nstages) {
			ns[k] = d->stages[j];
			keep[j] = (int)k + 1;
		} else {
			ns[k].type = &fl_http_stage_type;
			ns[k].dir = d;
			ns[k].active = true;
		}
		k++;
	}
	for (struct fl_toxic *t = c->link->toxics; t; t = t->next) {
		if (!stage_wanted(t, d->idx))
			continue;
		size_t j;
		for (j = 0; j < d->nstages && d->stages[j].toxic != t; j++)
			;
		if (j < d->nstages) {
			ns[k] = d->stages[j];
			keep[j] = (int)k + 1;
			if (ns[k].gen != t->gen)
				stage_activate(&ns[k], now, true);
		} else {
			ns[k].toxic = t;
			ns[k].type = t->type;
			ns[k].dir = d;
			stage_activate(&ns[k], now, false);
		}
		k++;
	}
	/* Removed stages: their queued data joins the next surviving stage
	 * (newest last), or the output. */
	int act = FL_ACT_NONE;
	for (size_t i = d->nstages; i-- > 0;) {
		if (keep[i])
			continue;
		struct fl_stage *s = &d->stages[i];
		struct fl_chunkq *dst = &d->out;
		for (size_t j = i + 1; j < d->nstages; j++)
			if (keep[j]) {
				dst = &ns[keep[j] - 1].in;
				break;
			}
		fl_chunkq_move_all(dst, &s->in, now);
		if (s->active && s->type->removed) {
			int a = s->type->removed(s);
			if (a > act)
				act = a;
		}
	}
	free(keep);
	free(d->stages);
	d->stages = ns;
	d->nstages = want;
	return act;
}

int fl_conn_sync(struct fl_conn *c)
{
	if (!c->connected || c->closed)
		return 0;
	int64_t now = fl_mono_ns();
	int a0 = dir_sync(&c->d[0], now);
	int a1 = dir_sync(&c->d[1], now);
	int act = a0 > a1 ? a0 : a1;
	if (act) {
		fl_conn_close(c, act, "toxic removed");
		return 1;
	}
	if (dir_run(&c->d[0]))
		return 1;
	return dir_run(&c->d[1]);
}

/* --- connect ------------------------------------------------------------- */

static int dir_setup(struct fl_dir *d, struct fl_conn *c, int idx)
{
	struct event_base *b = c->link->e->base;
	d->c = c;
	d->idx = idx;
	d->src = idx == FL_DIR_UP ? c->cfd : c->ufd;
	d->dst = idx == FL_DIR_UP ? c->ufd : c->cfd;
	d->rev = event_new(b, d->src, EV_READ | EV_PERSIST, read_cb, d);
	d->wev = event_new(b, d->dst, EV_WRITE | EV_PERSIST, write_cb, d);
	d->timer = event_new(b, -1, 0, timer_cb, d); /* activated by timers.c */
	return d->rev && d->wev && d->timer ? 0 : -1;
}

static void connected(struct fl_conn *c)
{
	if (dir_setup(&c->d[0], c, FL_DIR_UP) || dir_setup(&c->d[1], c, FL_DIR_DOWN)) {
		fl_conn_close(c, FL_ACT_CLOSE, "out of memory");
		return;
	}
	c->connected = true;
	if (c->link->http == FL_HTTP_ON) {
		c->http = fl_http_state_new(c);
		c->http_checked = true;
	} else if (c->link->http == FL_HTTP_OFF) {
		c->http_checked = true;
	}
	fl_conn_sync(c);
}

static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct fl_conn *c = arg;
	int err = 0;
	socklen_t sl = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl);
	event_free(c->cev);
	c->cev = NULL;
	if (err) {
		fl_events_emit(c->link, json_pack("{s:s, s:I, s:s, s:s}", "event", "upstream_error",
						  "conn", (json_int_t)c->id, "upstream",
						  c->link->upstream, "error", strerror(err)));
		fl_conn_close(c, FL_ACT_CLOSE, "upstream connect failed");
		return;
	}
	connected(c);
}

static void connect_to(struct fl_conn *c, const struct sockaddr *sa, socklen_t sl)
{
	if (fl_policy_is_self(c->link->e, sa)) {
		/* a link pointed at the agent (by a name, or a link's port changed)
		 * would fan one connection out until the descriptors are gone */
		fl_conn_close(c, FL_ACT_CLOSE, "upstream is this agent (self-loop refused)");
		return;
	}
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fl_conn_close(c, FL_ACT_CLOSE, "socket failed");
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ufd = fd;
	if (connect(fd, sa, sl) == 0) {
		connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		fl_events_emit(c->link, json_pack("{s:s, s:I, s:s, s:s}", "event", "upstream_error",
						  "conn", (json_int_t)c->id, "upstream",
						  c->link->upstream, "error", strerror(errno)));
		fl_conn_close(c, FL_ACT_CLOSE, "upstream connect failed");
		return;
	}
	c->cev = event_new(c->link->e->base, fd, EV_WRITE, connect_cb, c);
	if (!c->cev) {
		fl_conn_close(c, FL_ACT_CLOSE, "out of memory");
		return;
	}
	event_add(c->cev, NULL);
}

/* A warning per refused connection, at most one a second per process (a
 * client could open connections faster than anyone reads logs). */
static void refused_log(const struct fl_link *l, const char *why)
{
	static _Atomic int64_t last_ns;
	static _Atomic unsigned long quiet;
	int64_t now = fl_mono_ns(), last = last_ns;
	if (last && now - last < 1000000000LL) {
		quiet++;
		return;
	}
	last_ns = now;
	unsigned long q = quiet;
	quiet = 0;
	fl_log(FL_LOG_WARN, "proxy", "link %s: connection refused: %s (%lu more not logged)",
	       l->name, why, q);
}

static void dns_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct fl_conn *c = arg;
	c->dns_req = NULL;
	if (c->closed) {
		if (ai)
			evutil_freeaddrinfo(ai);
		conn_free(c);
		return;
	}
	if (result || !ai) {
		fl_events_emit(c->link,
			       json_pack("{s:s, s:I, s:s, s:s}", "event", "upstream_error", "conn",
					 (json_int_t)c->id, "upstream", c->link->upstream, "error",
					 evutil_gai_strerror(result)));
		if (ai)
			evutil_freeaddrinfo(ai);
		fl_conn_close(c, FL_ACT_CLOSE, "upstream unresolvable");
		return;
	}
	char why[256];
	if (fl_policy_upstream_addr(c->link->e, c->link->upstream, ai->ai_addr, why, sizeof(why))) {
		/* the name now points outside the allowlist: refused, logged */
		refused_log(c->link, why);
		fl_events_emit(c->link, json_pack("{s:s, s:I, s:s, s:s}", "event", "upstream_error",
						  "conn", (json_int_t)c->id, "upstream",
						  c->link->upstream, "error", why));
		evutil_freeaddrinfo(ai);
		fl_conn_close(c, FL_ACT_CLOSE, "upstream outside --allow-upstream");
		return;
	}
	connect_to(c, ai->ai_addr, (socklen_t)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
}

void fl_conn_start(struct fl_link *l, int cfd, const char *peer)
{
	struct fl_proxy_engine *e = l->e;
	uint64_t id = ++e->next_conn;
	struct fl_prng crng;
	fl_prng_fork(&e->rng, id, &crng);
	/* accept_reset: accept, then RST. */
	for (struct fl_toxic *t = l->toxics; t; t = t->next) {
		if (t->type == &fl_toxic_accept_reset && fl_prng_chance(&crng, t->toxicity)) {
			t->activations++;
			l->m.conns_total++;
			l->m.resets++;
			set_linger0(cfd);
			close(cfd);
			fl_events_emit(l, json_pack("{s:s, s:I, s:s, s:s}", "event",
						    "connection_reset", "conn", (json_int_t)id,
						    "client", peer, "toxic", t->name));
			return;
		}
	}
	struct fl_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->link = l;
	c->id = id;
	c->cfd = cfd;
	c->ufd = -1;
	c->t_open = fl_mono_ns();
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	fl_prng_fork(&crng, 0, &c->d[0].rng);
	fl_prng_fork(&crng, 1, &c->d[1].rng);
	c->d[0].c = c->d[1].c = c;
	c->d[0].src = c->d[0].dst = c->d[1].src = c->d[1].dst = -1;
	c->d[0].pipe[0] = c->d[0].pipe[1] = c->d[1].pipe[0] = c->d[1].pipe[1] = -1;
	c->d[0].heap_idx = c->d[1].heap_idx = SIZE_MAX;
	int one = 1;
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	l->m.conns_total++;
	fl_events_emit(l,
		       json_pack("{s:s, s:I, s:s, s:I}", "event", "connection_open", "conn",
				 (json_int_t)id, "client", peer, "start", (json_int_t)c->t_open));

	char host[256];
	int port;
	if (fl_addr_split(l->upstream, host, sizeof(host), &port)) {
		fl_conn_close(c, FL_ACT_CLOSE, "bad upstream");
		return;
	}
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		connect_to(c, (struct sockaddr *)&a4, sizeof(a4));
		return;
	}
	if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		connect_to(c, (struct sockaddr *)&a6, sizeof(a6));
		return;
	}
	if (strcmp(host, "localhost") == 0) {
		inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
		connect_to(c, (struct sockaddr *)&a4, sizeof(a4));
		return;
	}
	struct evutil_addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	char ps[8];
	snprintf(ps, sizeof(ps), "%d", port);
	if (!e->dns) {
		fl_conn_close(c, FL_ACT_CLOSE, "no resolver");
		return;
	}
	/* The callback may run before this returns (then it returns NULL). */
	struct evdns_getaddrinfo_request *r =
		evdns_getaddrinfo(e->dns, host, ps, &hints, dns_cb, c);
	if (r)
		c->dns_req = r;
}
