/* The splice fast path: a direction with no stages moves bytes socket ->
 * pipe -> socket in the kernel (no copy through user space). Pipes come
 * from a small per-engine pool and are held only while bytes are in flight,
 * so idle connections cost no pipe descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fault-injector/internal.h"

int fl_pipe_get(struct fl_proxy_engine *e, int p[2])
{
	if (e->npipes) {
		e->npipes--;
		p[0] = e->pipes[e->npipes][0];
		p[1] = e->pipes[e->npipes][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
		return -1;
	if (e->pipe_size)
		fcntl(p[0], F_SETPIPE_SZ, (int)e->pipe_size);
	return 0;
}

void fl_pipe_put(struct fl_proxy_engine *e, int p[2], bool empty)
{
	if (p[0] < 0)
		return;
	if (empty && e->npipes < sizeof(e->pipes) / sizeof(e->pipes[0])) {
		e->pipes[e->npipes][0] = p[0];
		e->pipes[e->npipes][1] = p[1];
		e->npipes++;
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

void fl_pipe_pool_free(struct fl_proxy_engine *e)
{
	while (e->npipes) {
		e->npipes--;
		close(e->pipes[e->npipes][0]);
		close(e->pipes[e->npipes][1]);
	}
}

long fl_splice_in(struct fl_dir *d, size_t max)
{
	ssize_t n;
	do
		n = splice(d->src, NULL, d->pipe[1], NULL, max, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		d->piped += (size_t)n;
	return n;
}

int fl_splice_out(struct fl_dir *d)
{
	while (d->piped) {
		ssize_t m = splice(d->pipe[0], NULL, d->dst, NULL, d->piped,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (m < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		d->piped -= (size_t)m;
		d->bytes_out += (uint64_t)m;
	}
	return 0;
}

int fl_splice_drain(struct fl_dir *d, char *buf, size_t buflen, int64_t now)
{
	while (d->piped) {
		ssize_t r = read(d->pipe[0], buf, d->piped < buflen ? d->piped : buflen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		struct fl_chunk *k = fl_chunk_new(buf, (size_t)r, now);
		if (!k)
			return -1;
		fl_chunkq_push(&d->out, k);
		d->piped -= (size_t)r;
	}
	return 0;
}
