/* Reading pcap and pcapng captures with libpcap: link layers (Ethernet with
 * VLAN tags, Linux cooked v1/v2, BSD loopback/null, raw IP), IPv4 and IPv6,
 * TCP reassembly per direction (out-of-order segments buffered, overlaps
 * and retransmissions trimmed, gaps that never fill reported), and the
 * bytes handed to the HTTP parser (capture_int.h). Truncated or corrupt
 * captures give a clear message naming the file and the packet. */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contract/capture_int.h"
#include "core/errors.h"

#define NBUCKETS 65536
#define OOO_CAP (32u << 20) /* buffered out-of-order bytes per direction */

struct ep {
	uint8_t addr[16];
	uint8_t v6;
	uint16_t port;
};

struct seg {
	struct seg *next;
	uint32_t seq;
	uint32_t len;
	char data[];
};

struct dir {
	bool have_isn, fin, closed, gap;
	uint32_t next, fin_seq;
	struct seg *ooo;
	size_t buffered;
};

struct conn {
	struct conn *chain;
	struct ep a, b;	 /* a: the first sender seen */
	struct dir d[2]; /* d[0]: a -> b, d[1]: b -> a */
	int client;	 /* -1 unknown, else the index of the client side (0: a) */
	bool ignored;	 /* a server no map names (--only-mapped) */
	struct fl_http_conn *http;
};

struct cap {
	struct fl_generator *g;
	struct conn **buckets;
	size_t nconns;
	const char *file;
	uint64_t packet;
	uint64_t skipped_frag;
};

static uint32_t hash_ep(const struct ep *e)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < (e->v6 ? 16 : 4); i++)
		h = (h ^ e->addr[i]) * 16777619u;
	return (h ^ e->port) * 16777619u;
}

static bool ep_eq(const struct ep *x, const struct ep *y)
{
	return x->v6 == y->v6 && x->port == y->port && !memcmp(x->addr, y->addr, x->v6 ? 16 : 4);
}

static void ep_name(const struct ep *e, char *out, size_t n)
{
	inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->addr, out, (socklen_t)n);
}

/* Deliver in-order bytes of direction di to HTTP. */
static void deliver(struct cap *c, struct conn *k, int di, const char *data, size_t len)
{
	if (!len)
		return;
	if (k->client < 0) {
		/* no SYN seen: whoever speaks HTTP/ first is the server */
		bool resp = len >= 5 && !memcmp(data, "HTTP/", 5);
		k->client = resp ? 1 - di : di;
	}
	if (k->ignored)
		return;
	if (!k->http) {
		const struct ep *cl = k->client == 0 ? &k->a : &k->b;
		const struct ep *sv = k->client == 0 ? &k->b : &k->a;
		char ca[64], sa[64];
		ep_name(cl, ca, sizeof(ca));
		ep_name(sv, sa, sizeof(sa));
		const char *server = fl_generator_name(c->g, sa, sv->port, 1);
		if (!server) {
			k->ignored = true;
			return;
		}
		char cname[300], sname[300];
		snprintf(cname, sizeof(cname), "%s", fl_generator_name(c->g, ca, cl->port, 0));
		snprintf(sname, sizeof(sname), "%s", server);
		k->http = fl_http_conn_new(c->g, cname, sname);
		if (!k->http)
			return;
	}
	fl_http_conn_data(k->http, di == k->client, data, len);
}

static void seg_free_all(struct dir *d)
{
	while (d->ooo) {
		struct seg *n = d->ooo->next;
		free(d->ooo);
		d->ooo = n;
	}
	d->buffered = 0;
}

/* Deliver buffered segments that have become contiguous. */
static void drain(struct cap *c, struct conn *k, int di)
{
	struct dir *d = &k->d[di];
	while (d->ooo) {
		struct seg *s = d->ooo;
		int32_t rel = (int32_t)(s->seq - d->next);
		if (rel > 0)
			break;
		d->ooo = s->next;
		d->buffered -= s->len;
		if ((int64_t)rel + s->len > 0) {
			uint32_t skip = (uint32_t)(-rel);
			deliver(c, k, di, s->data + skip, s->len - skip);
			d->next = s->seq + s->len;
		}
		free(s);
	}
}

/* Give up waiting for a gap: skip to the first buffered byte. */
static void skip_gap(struct cap *c, struct conn *k, int di)
{
	struct dir *d = &k->d[di];
	if (!d->ooo)
		return;
	if (k->http)
		fl_http_conn_gap(k->http, di == k->client);
	d->gap = true;
	d->next = d->ooo->seq;
	drain(c, k, di);
}

static void dir_eof(struct cap *c, struct conn *k, int di)
{
	struct dir *d = &k->d[di];
	if (d->closed)
		return;
	while (d->ooo)
		skip_gap(c, k, di);
	d->closed = true;
	if (k->http)
		fl_http_conn_eof(k->http, di == k->client);
}

static void conn_close(struct cap *c, struct conn *k)
{
	/* the response side last, so read-until-close bodies end with the stream */
	int server = k->client < 0 ? 1 : 1 - k->client;
	dir_eof(c, k, 1 - server);
	dir_eof(c, k, server);
	seg_free_all(&k->d[0]);
	seg_free_all(&k->d[1]);
	fl_http_conn_free(k->http);
	k->http = NULL;
}

static void conn_reset(struct conn *k)
{
	memset(k->d, 0, sizeof(k->d));
	k->client = -1;
	k->ignored = false;
}

static struct conn *lookup(struct cap *c, const struct ep *src, const struct ep *dst, int *di,
			   uint32_t *bucket)
{
	uint32_t h = (hash_ep(src) ^ hash_ep(dst)) & (NBUCKETS - 1);
	*bucket = h;
	for (struct conn *k = c->buckets[h]; k; k = k->chain) {
		if (ep_eq(&k->a, src) && ep_eq(&k->b, dst)) {
			*di = 0;
			return k;
		}
		if (ep_eq(&k->b, src) && ep_eq(&k->a, dst)) {
			*di = 1;
			return k;
		}
	}
	struct conn *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->a = *src;
	k->b = *dst;
	k->client = -1;
	k->chain = c->buckets[h];
	c->buckets[h] = k;
	c->nconns++;
	*di = 0;
	return k;
}

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

static void tcp_segment(struct cap *c, const struct ep *src, const struct ep *dst, uint8_t flags,
			uint32_t seq, const char *payload, size_t len, size_t wire_len)
{
	int di;
	uint32_t bucket;
	struct conn *k = lookup(c, src, dst, &di, &bucket);
	if (!k)
		return;
	struct dir *d = &k->d[di];
	if (flags & TH_SYN) {
		if (!(flags & TH_ACK)) {
			/* a new connection on a reused 4-tuple ends the old one */
			if (d->have_isn || k->d[1 - di].have_isn) {
				conn_close(c, k);
				conn_reset(k);
			}
			k->client = di;
		}
		d->have_isn = true;
		d->next = seq + 1;
		return;
	}
	if (d->closed)
		return;
	if (!d->have_isn) {
		d->have_isn = true;
		d->next = seq;
	}
	if (wire_len) {
		int32_t rel = (int32_t)(seq - d->next);
		if ((int64_t)rel + (int64_t)wire_len <= 0) {
			/* an old retransmission */
		} else if (len < wire_len) {
			/* snapped: the bytes are not in the capture */
			if (rel <= 0) {
				if (k->http || k->client >= 0) {
					if (!k->http)
						deliver(c, k, di, payload, 0);
					if (k->http)
						fl_http_conn_gap(k->http, di == k->client);
				}
				d->gap = true;
				d->next = seq + (uint32_t)wire_len;
				drain(c, k, di);
			}
		} else if (rel <= 0) {
			uint32_t skip = (uint32_t)(-rel);
			deliver(c, k, di, payload + skip, len - skip);
			d->next = seq + (uint32_t)len;
			drain(c, k, di);
		} else {
			/* ahead of the stream: keep it in order */
			struct seg *s = malloc(sizeof(*s) + len);
			if (s) {
				s->seq = seq;
				s->len = (uint32_t)len;
				memcpy(s->data, payload, len);
				struct seg **pp = &d->ooo;
				while (*pp && (int32_t)((*pp)->seq - seq) < 0)
					pp = &(*pp)->next;
				if (*pp && (*pp)->seq == seq && (*pp)->len >= len) {
					free(s); /* duplicate of a buffered segment */
				} else {
					s->next = *pp;
					*pp = s;
					d->buffered += len;
				}
			}
			if (d->buffered > OOO_CAP)
				skip_gap(c, k, di);
		}
	}
	if (flags & TH_FIN) {
		d->fin = true;
		d->fin_seq = seq + (uint32_t)wire_len;
	}
	if (d->fin && d->next == d->fin_seq && !d->ooo)
		dir_eof(c, k, di);
	if (flags & TH_RST) {
		dir_eof(c, k, 0);
		dir_eof(c, k, 1);
	}
	if (k->d[0].closed && k->d[1].closed) {
		/* both sides done: free it now, so long captures stay small */
		conn_close(c, k);
		for (struct conn **pp = &c->buckets[bucket]; *pp; pp = &(*pp)->chain) {
			if (*pp == k) {
				*pp = k->chain;
				break;
			}
		}
		free(k);
		c->nconns--;
	}
}

static void tcp(struct cap *c, struct ep *src, struct ep *dst, const uint8_t *p, size_t caplen,
		size_t len)
{
	if (caplen < 20 || len < 20)
		return;
	size_t off = (size_t)(p[12] >> 4) * 4;
	if (off < 20 || off > len || off > caplen)
		return;
	src->port = (uint16_t)(p[0] << 8 | p[1]);
	dst->port = (uint16_t)(p[2] << 8 | p[3]);
	uint32_t seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	size_t have = caplen - off;
	size_t wire = len - off;
	if (have > wire)
		have = wire;
	tcp_segment(c, src, dst, p[13], seq, (const char *)p + off, have, wire);
}

static void ipv4(struct cap *c, const uint8_t *p, size_t caplen)
{
	if (caplen < 20 || (p[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t total = (size_t)(p[2] << 8 | p[3]);
	if (ihl < 20 || total < ihl || caplen < ihl)
		return;
	if ((p[6] & 0x20) || ((p[6] & 0x1f) << 8 | p[7])) {
		c->skipped_frag++;
		return;
	}
	if (p[9] != 6)
		return;
	struct ep s = { .v6 = 0 }, d = { .v6 = 0 };
	memcpy(s.addr, p + 12, 4);
	memcpy(d.addr, p + 16, 4);
	size_t cl = caplen < total ? caplen : total;
	tcp(c, &s, &d, p + ihl, cl - ihl, total - ihl);
}

static void ipv6(struct cap *c, const uint8_t *p, size_t caplen)
{
	if (caplen < 40 || (p[0] >> 4) != 6)
		return;
	size_t plen = (size_t)(p[4] << 8 | p[5]);
	uint8_t nh = p[6];
	size_t off = 40;
	struct ep s = { .v6 = 1 }, d = { .v6 = 1 };
	memcpy(s.addr, p + 8, 16);
	memcpy(d.addr, p + 24, 16);
	for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60 || nh == 44); i++) {
		if (nh == 44) {
			c->skipped_frag++;
			return;
		}
		if (caplen < off + 8)
			return;
		nh = p[off];
		off += ((size_t)p[off + 1] + 1) * 8;
	}
	if (nh != 6 || off > caplen || 40 + plen < off)
		return;
	size_t end = 40 + plen;
	size_t cl = caplen < end ? caplen : end;
	tcp(c, &s, &d, p + off, cl - off, end - off);
}

static void ip_by_version(struct cap *c, const uint8_t *p, size_t caplen)
{
	if (caplen < 1)
		return;
	if ((p[0] >> 4) == 4)
		ipv4(c, p, caplen);
	else if ((p[0] >> 4) == 6)
		ipv6(c, p, caplen);
}

static void ethertype(struct cap *c, unsigned type, const uint8_t *p, size_t caplen)
{
	if (type == 0x0800)
		ipv4(c, p, caplen);
	else if (type == 0x86DD)
		ipv6(c, p, caplen);
}

static void frame(struct cap *c, int dlt, const uint8_t *p, size_t caplen)
{
	switch (dlt) {
	case DLT_EN10MB: {
		if (caplen < 14)
			return;
		unsigned type = (unsigned)(p[12] << 8 | p[13]);
		size_t off = 14;
		while ((type == 0x8100 || type == 0x88A8) && caplen >= off + 4) {
			type = (unsigned)(p[off + 2] << 8 | p[off + 3]);
			off += 4;
		}
		ethertype(c, type, p + off, caplen - off);
		break;
	}
	case DLT_LINUX_SLL:
		if (caplen >= 16)
			ethertype(c, (unsigned)(p[14] << 8 | p[15]), p + 16, caplen - 16);
		break;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (caplen >= 20)
			ethertype(c, (unsigned)(p[0] << 8 | p[1]), p + 20, caplen - 20);
		break;
#endif
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen >= 4)
			ip_by_version(c, p + 4, caplen - 4);
		break;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		ip_by_version(c, p, caplen);
		break;
	default: break;
	}
}

static bool dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
#endif
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return true;
	default: return false;
	}
}

static void finish(struct cap *c)
{
	/* close in a fixed order (bucket, chain) so output does not depend on memory */
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct conn *k = c->buckets[b];
		while (k) {
			struct conn *n = k->chain;
			conn_close(c, k);
			free(k);
			k = n;
		}
		c->buckets[b] = NULL;
	}
}

int fl_generator_add_pcap(struct fl_generator *g, const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	if (stat(path, &st))
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path,
				  strerror(errno));
	pcap_t *pc = pcap_open_offline(path, ebuf);
	if (!pc) {
		if (st.st_size == 0)
			return fl_err_set(err, errlen, FL_EPARSE, "%s: empty file, not a capture",
					  path);
		return fl_err_set(err, errlen, FL_EPARSE,
				  "%s: not a readable pcap or pcapng capture (libpcap: %s)", path,
				  ebuf);
	}
	int dlt = pcap_datalink(pc);
	if (!dlt_supported(dlt)) {
		const char *nm = pcap_datalink_val_to_name(dlt);
		pcap_close(pc);
		return fl_err_set(err, errlen, FL_EPARSE,
				  "%s: link type %s (%d) is not supported (Ethernet, Linux cooked, "
				  "loopback and raw IP are)",
				  path, nm ? nm : "?", dlt);
	}
	struct cap c = { .g = g, .file = path };
	c.buckets = calloc(NBUCKETS, sizeof(*c.buckets));
	if (!c.buckets) {
		pcap_close(pc);
		return fl_err_set(err, errlen, FL_ENOMEM, "%s: out of memory", path);
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;
	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		c.packet++;
		frame(&c, dlt, data, h->caplen);
	}
	if (r == -1)
		fl_generator_warn(
			g,
			"%s: capture damaged after packet %llu: %s; exchanges before it are "
			"kept",
			path, (unsigned long long)c.packet, pcap_geterr(pc));
	if (c.skipped_frag)
		fl_generator_warn(g, "%s: %llu fragmented IP packet%s skipped", path,
				  (unsigned long long)c.skipped_frag,
				  c.skipped_frag == 1 ? "" : "s");
	finish(&c);
	free(c.buckets);
	pcap_close(pc);
	return 0;
}
