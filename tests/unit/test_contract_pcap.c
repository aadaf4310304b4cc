/* Pacts from captures: synthetic pcap/pcapng files written with libpcap's
 * dump API (and a hand-built pcapng) that exercise TCP reassembly
 * (reordering, retransmission, both directions, several connections),
 * HTTP/1.x (keep-alive, pipelining, chunked and content-length bodies),
 * link types (Ethernet, Linux cooked, loopback/null, IPv6), generalisation,
 * deterministic output, truncated and corrupt captures, the recorder's
 * JSONL, and the generated pact verifying green against a live provider. */
#include <event2/event.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "contract/generate.h"
#include "contract/pact.h"
#include "contract/verify.h"
#include "core/errors.h"
#include "core/http_server.h"
#include "core/json.h"

static char tmpdir[64];

/* --- writing captures ---------------------------------------------------------- */

struct cap {
	int dlt;
	int v6;
	pcap_dumper_t *d;
	pcap_t *dead;
	FILE *ng;	/* pcapng written by hand instead */
	int ts;
};

struct flow {
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	uint32_t cseq, sseq;	/* next sequence numbers */
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void ng_block(FILE *f, uint32_t type, const void *body, size_t len)
{
	uint32_t total = (uint32_t)(12 + ((len + 3) & ~3u));
	uint8_t pad[4] = { 0 };
	fwrite(&type, 4, 1, f);
	fwrite(&total, 4, 1, f);
	fwrite(body, 1, len, f);
	fwrite(pad, 1, ((len + 3) & ~3u) - len, f);
	fwrite(&total, 4, 1, f);
}

static void cap_open(struct cap *c, const char *path, int dlt, int v6, int pcapng)
{
	memset(c, 0, sizeof(*c));
	c->dlt = dlt;
	c->v6 = v6;
	if (pcapng) {
		c->ng = fopen(path, "wb");
		assert_non_null(c->ng);
		uint8_t shb[16];
		uint32_t magic = 0x1A2B3C4D;
		memcpy(shb, &magic, 4);
		uint16_t major = 1, minor = 0;
		memcpy(shb + 4, &major, 2);
		memcpy(shb + 6, &minor, 2);
		memset(shb + 8, 0xff, 8);	/* section length unknown */
		ng_block(c->ng, 0x0A0D0D0A, shb, 16);
		uint8_t idb[8] = { 0 };
		uint16_t lt = (uint16_t)dlt;
		uint32_t snap = 65535;
		memcpy(idb, &lt, 2);
		memcpy(idb + 4, &snap, 4);
		ng_block(c->ng, 1, idb, 8);
		return;
	}
	c->dead = pcap_open_dead(dlt, 65535);
	c->d = pcap_dump_open(c->dead, path);
	assert_non_null(c->d);
}

static void cap_close(struct cap *c)
{
	if (c->ng) {
		fclose(c->ng);
		return;
	}
	pcap_dump_close(c->d);
	pcap_close(c->dead);
}

static void cap_frame(struct cap *c, const uint8_t *frame, size_t len, size_t caplen)
{
	c->ts++;
	if (c->ng) {
		uint8_t *b = calloc(1, 20 + caplen);
		uint32_t hi = 0, lo = (uint32_t)c->ts * 1000, cl = (uint32_t)caplen, ol = (uint32_t)len;
		memcpy(b + 4, &hi, 4);
		memcpy(b + 8, &lo, 4);
		memcpy(b + 12, &cl, 4);
		memcpy(b + 16, &ol, 4);
		memcpy(b + 20, frame, caplen);
		ng_block(c->ng, 6, b, 20 + caplen);
		free(b);
		return;
	}
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)caplen, .len = (bpf_u_int32)len };
	h.ts.tv_sec = c->ts;
	pcap_dump((u_char *)c->d, &h, frame);
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08
#define FIN 0x01

/* One TCP segment from the client (to_server) or the server. */
static void seg(struct cap *c, struct flow *f, int to_server, uint8_t flags, uint32_t seq,
		const char *data, size_t len)
{
	uint8_t fr[9000];
	size_t off = 0;
	int v6 = c->v6;
	switch (c->dlt) {
	case DLT_EN10MB:
		memset(fr, 0, 12);
		put16(fr + 12, v6 ? 0x86DD : 0x0800);
		off = 14;
		break;
	case DLT_LINUX_SLL:
		memset(fr, 0, 14);
		put16(fr + 14, v6 ? 0x86DD : 0x0800);
		off = 16;
		break;
	case DLT_NULL: {
		uint32_t fam = v6 ? 30 : 2;
		memcpy(fr, &fam, 4);
		off = 4;
		break;
	}
	}
	const uint8_t *src = to_server ? f->cli : f->srv, *dst = to_server ? f->srv : f->cli;
	size_t iph = v6 ? 40 : 20;
	uint8_t *ip = fr + off;
	memset(ip, 0, iph);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(20 + len));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned)(20 + 20 + len));
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	}
	uint8_t *tcp = ip + iph;
	memset(tcp, 0, 20);
	put16(tcp, to_server ? f->cport : f->sport);
	put16(tcp + 2, to_server ? f->sport : f->cport);
	put32(tcp + 4, seq);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	memcpy(tcp + 20, data, len);
	size_t total = off + iph + 20 + len;
	cap_frame(c, fr, total, total);
}

static void handshake(struct cap *c, struct flow *f)
{
	seg(c, f, 1, SYN, f->cseq - 1, "", 0);
	seg(c, f, 0, SYN | ACK, f->sseq - 1, "", 0);
	seg(c, f, 1, ACK, f->cseq, "", 0);
}

/* Send data in order, in pieces of `chunk` bytes. */
static void send_data(struct cap *c, struct flow *f, int to_server, const char *s, size_t chunk)
{
	size_t len = strlen(s);
	uint32_t *seq = to_server ? &f->cseq : &f->sseq;
	for (size_t o = 0; o < len; o += chunk) {
		size_t n = len - o < chunk ? len - o : chunk;
		seg(c, f, to_server, PSH | ACK, *seq, s + o, n);
		*seq += (uint32_t)n;
	}
}

static void finish(struct cap *c, struct flow *f)
{
	seg(c, f, 1, FIN | ACK, f->cseq, "", 0);
	seg(c, f, 0, FIN | ACK, f->sseq, "", 0);
}

static const char resp42[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 36\r\n"
			     "\r\n{\"id\":42,\"name\":\"Ann\",\"balance\":500}";

/* The traffic of the tests: web -> money. */
static void write_traffic(const char *path, int dlt, int v6, int pcapng)
{
	struct cap c;
	cap_open(&c, path, dlt, v6, pcapng);
	struct flow f = { .cport = 40000, .sport = 8080, .cseq = 1001, .sseq = 5001 };
	if (v6) {
		f.cli[15] = 1;
		f.srv[15] = 1;
	} else {
		uint8_t cli[4] = { 10, 0, 0, 1 }, srv[4] = { 10, 0, 0, 2 };
		memcpy(f.cli, cli, 4);
		memcpy(f.srv, srv, 4);
	}
	/* connection 1: two pipelined GETs; the first answer reordered and
	 * retransmitted, the second chunked */
	handshake(&c, &f);
	send_data(&c, &f, 1,
		  "GET /members/42 HTTP/1.1\r\nHost: money\r\nAuthorization: Bearer s3cr3t\r\n"
		  "Cookie: sid=abc\r\n\r\n"
		  "GET /members/42 HTTP/1.1\r\nHost: money\r\nAccept: application/json\r\n\r\n",
		  4096);
	size_t n = strlen(resp42);
	uint32_t base = f.sseq;
	size_t a = 30, b = 70;
	seg(&c, &f, 0, ACK, base + (uint32_t)a, resp42 + a, b - a);	/* middle first */
	seg(&c, &f, 0, ACK, base + (uint32_t)b, resp42 + b, n - b);	/* then the end */
	seg(&c, &f, 0, ACK, base, resp42, a);				/* then the start */
	seg(&c, &f, 0, ACK, base, resp42, b);				/* a retransmission overlapping */
	f.sseq += (uint32_t)n;
	send_data(&c, &f, 0,
		  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "10\r\n{\"id\":42,\"name\":\r\n14\r\n\"Ann\",\"balance\":500}\r\n0\r\n\r\n",
		  25);
	finish(&c, &f);
	/* connection 2: a POST whose answer has a UUID and a timestamp; both
	 * directions interleaved in small pieces */
	struct flow g = f;
	g.cport = 40001;
	g.cseq = 9001;
	g.sseq = 7001;
	handshake(&c, &g);
	send_data(&c, &g, 1,
		  "POST /transfers HTTP/1.1\r\nHost: money\r\nContent-Type: application/json\r\n"
		  "Content-Length: 44\r\n\r\n{\"from\":42,\"to\":43,\"amount\":100,\"token\":\"x\"}",
		  16);
	send_data(&c, &g, 0,
		  "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nSet-Cookie: s=1\r\n"
		  "Content-Length: 100\r\n\r\n"
		  "{\"id\":\"3f2b8c1e-1d2a-4c3b-9a8e-0f1e2d3c4b5a\",\"state\":\"PENDING\","
		  "\"created\":\"2026-11-21T23:07:51.123Z\"}",
		  50);
	finish(&c, &g);
	/* connection 3: a HEAD whose answer announces a length but has no body */
	struct flow h = f;
	h.cport = 40002;
	h.cseq = 3001;
	h.sseq = 4001;
	handshake(&c, &h);
	send_data(&c, &h, 1, "HEAD /members/42 HTTP/1.1\r\nHost: money\r\n\r\n", 4096);
	send_data(&c, &h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 36\r\n\r\n", 4096);
	send_data(&c, &h, 1, "GET /health HTTP/1.1\r\nHost: money\r\n\r\n", 4096);
	send_data(&c, &h, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 4096);
	finish(&c, &h);
	/* connection 4: an upload answered before its body was sent */
	struct flow u = f;
	u.cport = 40003;
	u.cseq = 6001;
	u.sseq = 8001;
	handshake(&c, &u);
	send_data(&c, &u, 1, "PUT /files/big HTTP/1.1\r\nHost: money\r\nContent-Length: 100000\r\n\r\nabcd",
		  4096);
	send_data(&c, &u, 0, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		  4096);
	finish(&c, &u);
	cap_close(&c);
}

/* --- helpers -------------------------------------------------------------------- */

static int quiet;

static int generate(const char *input, int events, const char *out, struct fl_generate_stats *st,
		    char *err, size_t errlen)
{
	struct fl_generate_opts o = { .out_dir = out, .version = 4, .quiet = quiet };
	struct fl_generator *g = fl_generator_new(&o, err, errlen);
	assert_non_null(g);
	assert_int_equal(fl_generator_map(g, "10.0.0.2:8080=money", err, errlen), 0);
	assert_int_equal(fl_generator_map(g, "[::1]:8080=money", err, errlen), 0);
	assert_int_equal(fl_generator_map(g, "10.0.0.1=web", err, errlen), 0);
	assert_int_equal(fl_generator_map(g, "::1=web", err, errlen), 0);
	int rc = events ? fl_generator_add_events(g, input, err, errlen)
			: fl_generator_add_pcap(g, input, err, errlen);
	if (!rc)
		rc = fl_generator_write(g, st, err, errlen);
	fl_generator_free(g);
	return rc;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	s[n] = '\0';
	fclose(f);
	return s;
}

static const struct fl_pact_interaction *find(const struct fl_pact *p, const char *desc)
{
	for (size_t i = 0; i < p->ninteractions; i++)
		if (!strcmp(p->interactions[i].description, desc))
			return &p->interactions[i];
	return NULL;
}

/* The generated pact from the standard traffic, checked in detail. */
static void check_pact(const char *dir)
{
	char path[400], err[512];
	snprintf(path, sizeof(path), "%.200s/web-money.json", dir);
	char *text = slurp(path);
	assert_non_null(text);
	/* secrets never reach the file */
	assert_null(strstr(text, "s3cr3t"));
	assert_null(strstr(text, "Authorization"));
	assert_null(strstr(text, "sid=abc"));
	assert_null(strstr(text, "Set-Cookie"));
	free(text);
	struct fl_pact *p = fl_pact_load(path, err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(p->consumer, "web");
	assert_string_equal(p->provider, "money");
	assert_int_equal(p->ninteractions, 5);
	assert_non_null(find(p, "PUT /files/big -> 413"));
	const struct fl_pact_interaction *get = find(p, "GET /members/{id} -> 200");
	assert_non_null(get);
	assert_string_equal(get->request.path, "/members/42");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(json_object_get(get->request.rules,
			"path"), "matchers"), 0), "regex", ""), "/members/[0-9]+");
	assert_int_equal(get->response.status, 200);
	assert_int_equal(fl_json_int(get->response.body.value, "id", 0), 42);
	/* both GETs merged into one interaction, counted */
	char *c = fl_json_dumps(get->comments);
	assert_non_null(strstr(c, "seen 2 times"));
	free(c);
	const struct fl_pact_interaction *post = find(p, "POST /transfers -> 201");
	assert_non_null(post);
	assert_string_equal(fl_json_str(post->request.body.value, "token", ""), "redacted");
	json_t *rb = json_object_get(post->response.rules, "body");
	char *idrule = fl_json_dumps(json_object_get(rb, "$.id"));
	assert_non_null(strstr(idrule, "[0-9a-fA-F]{8}-"));
	free(idrule);
	assert_non_null(json_object_get(rb, "$.created"));
	assert_non_null(find(p, "HEAD /members/{id} -> 200"));
	assert_non_null(find(p, "GET /health -> 200"));
	fl_pact_free(p);
}

/* --- tests ---------------------------------------------------------------------- */

static void test_link_types(void **state)
{
	(void)state;
	struct {
		int dlt, v6, ng;
		const char *name;
	} kinds[] = {
		{ DLT_EN10MB, 0, 0, "eth.pcap" },     { DLT_LINUX_SLL, 0, 0, "sll.pcap" },
		{ DLT_NULL, 1, 0, "null6.pcap" },     { DLT_EN10MB, 1, 1, "eth6.pcapng" },
	};
	for (size_t i = 0; i < 4; i++) {
		char cap[256], out[256], err[512];
		snprintf(cap, sizeof(cap), "%s/%s", tmpdir, kinds[i].name);
		snprintf(out, sizeof(out), "%s/out%zu", tmpdir, i);
		write_traffic(cap, kinds[i].dlt, kinds[i].v6, kinds[i].ng);
		struct fl_generate_stats st;
		if (generate(cap, 0, out, &st, err, sizeof(err)))
			fail_msg("%s: %s", kinds[i].name, err);
		if (st.exchanges != 6 || st.warnings)
			fail_msg("%s: %zu exchanges, %zu warnings", kinds[i].name, st.exchanges, st.warnings);
		assert_int_equal(st.pacts, 1);
		fl_generate_stats_free(&st);
		check_pact(out);
	}
}

static void test_deterministic(void **state)
{
	(void)state;
	char cap[256], a[256], b[256], err[512];
	snprintf(cap, sizeof(cap), "%s/det.pcap", tmpdir);
	write_traffic(cap, DLT_EN10MB, 0, 0);
	snprintf(a, sizeof(a), "%s/det1", tmpdir);
	snprintf(b, sizeof(b), "%s/det2", tmpdir);
	struct fl_generate_stats st;
	assert_int_equal(generate(cap, 0, a, &st, err, sizeof(err)), 0);
	fl_generate_stats_free(&st);
	assert_int_equal(generate(cap, 0, b, &st, err, sizeof(err)), 0);
	fl_generate_stats_free(&st);
	strcat(a, "/web-money.json");
	strcat(b, "/web-money.json");
	char *x = slurp(a), *y = slurp(b);
	assert_non_null(x);
	assert_string_equal(x, y);
	free(x);
	free(y);
}

static void test_bad_captures(void **state)
{
	(void)state;
	char good[256], path[256], out[256], err[512];
	struct fl_generate_stats st;
	snprintf(good, sizeof(good), "%s/good.pcap", tmpdir);
	write_traffic(good, DLT_EN10MB, 0, 0);
	snprintf(out, sizeof(out), "%s/bad", tmpdir);
	/* truncated in the middle of a packet: earlier exchanges kept, a warning */
	char *data = slurp(good);
	struct stat sb;
	stat(good, &sb);
	snprintf(path, sizeof(path), "%s/trunc.pcap", tmpdir);
	FILE *f = fopen(path, "wb");
	size_t cut = (size_t)sb.st_size * 2 / 3;
	fwrite(data, 1, cut, f);
	fclose(f);
	assert_int_equal(generate(path, 0, out, &st, err, sizeof(err)), 0);
	assert_true(st.warnings >= 1);
	assert_true(st.exchanges >= 2);
	fl_generate_stats_free(&st);
	/* every prefix length: never a crash */
	quiet = 1;
	for (size_t k = 0; k < (size_t)sb.st_size; k += 7) {
		f = fopen(path, "wb");
		fwrite(data, 1, k, f);
		fclose(f);
		if (generate(path, 0, out, &st, err, sizeof(err)) == 0)
			fl_generate_stats_free(&st);
	}
	/* corrupt: random bytes after a valid header, and garbage from the start */
	f = fopen(path, "wb");
	fwrite(data, 1, 24, f);
	for (int i = 0; i < 4000; i++)
		fputc((i * 7919 + 13) & 0xff, f);
	fclose(f);
	if (generate(path, 0, out, &st, err, sizeof(err)) == 0)
		fl_generate_stats_free(&st);
	f = fopen(path, "wb");
	fputs("this is not a capture at all, just some text\n", f);
	fclose(f);
	quiet = 0;
	int rc = generate(path, 0, out, &st, err, sizeof(err));
	assert_int_equal(rc, FL_EPARSE);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a readable pcap"));
	f = fopen(path, "wb");
	fclose(f);
	assert_int_equal(generate(path, 0, out, &st, err, sizeof(err)), FL_EPARSE);
	assert_non_null(strstr(err, "empty file"));
	snprintf(path, sizeof(path), "%s/missing.pcap", tmpdir);
	assert_int_equal(generate(path, 0, out, &st, err, sizeof(err)), FL_ENOENT);
	assert_non_null(strstr(err, "missing.pcap"));
	free(data);
}

static void test_events(void **state)
{
	(void)state;
	char path[256], out[256], err[512];
	snprintf(path, sizeof(path), "%s/events.jsonl", tmpdir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 3; i++)
		fprintf(f,
			"{\"event\":\"http_exchange\",\"link\":\"remittance->money\",\"method\":\"GET\","
			"\"path\":\"/accounts/%d\",\"query\":\"verbose=1\",\"status\":200,"
			"\"req_headers\":{\"authorization\":\"Bearer x\"},\"resp_headers\":{\"content-type\":"
			"\"application/json\"},\"resp_body\":\"{\\\"id\\\":%d,\\\"currency\\\":\\\"KRW\\\"}\","
			"\"fault\":null,\"seq\":%d}\n",
			100 + i, 100 + i, i);
	fputs("{\"event\":\"http_exchange\",\"link\":\"remittance->money\",\"method\":\"GET\","
	      "\"path\":\"/accounts/9\",\"status\":500,\"fault\":\"http_abort\"}\n", f);
	/* a literal segment that varies, same answer shape: one parameter */
	const char *towns[] = { "gangnam", "seocho", "mapo" };
	for (int i = 0; i < 3; i++)
		fprintf(f,
			"{\"event\":\"http_exchange\",\"link\":\"gateway->membership\",\"method\":\"GET\","
			"\"path\":\"/membership/address/%s\",\"status\":200,\"resp_headers\":{\"content-type\":"
			"\"application/json\"},\"resp_body\":\"[{\\\"id\\\":%d,\\\"address\\\":\\\"%s\\\"}]\"}\n",
			towns[i], i + 1, towns[i]);
	/* different answer shapes stay apart */
	fputs("{\"event\":\"http_exchange\",\"link\":\"gateway->membership\",\"method\":\"GET\","
	      "\"path\":\"/membership/stats/daily\",\"status\":200,\"resp_headers\":{\"content-type\":"
	      "\"application/json\"},\"resp_body\":\"{\\\"count\\\":3}\"}\n", f);
	fputs("{\"event\":\"http_exchange\",\"link\":\"gateway->membership\",\"method\":\"GET\","
	      "\"path\":\"/membership/stats/weekly\",\"status\":200,\"resp_headers\":{\"content-type\":"
	      "\"application/json\"},\"resp_body\":\"{\\\"total\\\":3,\\\"week\\\":1}\"}\n", f);
	fputs("{\"event\":\"toxic_applied\",\"link\":\"remittance->money\"}\n", f);
	fputs("not json\n", f);
	fclose(f);
	snprintf(out, sizeof(out), "%s/ev", tmpdir);
	struct fl_generate_stats st;
	assert_int_equal(generate(path, 1, out, &st, err, sizeof(err)), 0);
	assert_int_equal(st.exchanges, 8);	/* the injected fault is not the provider's behaviour */
	assert_int_equal(st.interactions, 4);
	fl_generate_stats_free(&st);
	snprintf(path, sizeof(path), "%.200s/remittance-money.json", out);
	struct fl_pact *p = fl_pact_load(path, err, sizeof(err));
	assert_non_null(p);
	const struct fl_pact_interaction *it = &p->interactions[0];
	assert_string_equal(it->description, "GET /accounts/{id}?verbose -> 200");
	/* currency constant across 3 samples: kept exact; id varies: a matcher */
	json_t *rb = json_object_get(it->response.rules, "body");
	assert_non_null(json_object_get(rb, "$.id"));
	assert_null(json_object_get(rb, "$.currency"));
	char *txt = slurp(path);
	assert_null(strstr(txt, "Bearer"));
	free(txt);
	fl_pact_free(p);
	snprintf(path, sizeof(path), "%.200s/gateway-membership.json", out);
	p = fl_pact_load(path, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->ninteractions, 3);
	assert_non_null(find(p, "GET /membership/address/{address} -> 200"));
	assert_non_null(find(p, "GET /membership/stats/daily -> 200"));
	assert_non_null(find(p, "GET /membership/stats/weekly -> 200"));
	const struct fl_pact_interaction *addr = find(p, "GET /membership/address/{address} -> 200");
	json_t *pr = json_array_get(json_object_get(json_object_get(addr->request.rules, "path"), "matchers"), 0);
	assert_string_equal(fl_json_str(pr, "regex", ""), "/membership/address/[^/]+");
	fl_pact_free(p);
}

/* --- green against a live provider ------------------------------------------------ */

static void on_member(struct fl_http_req *r, void *arg)
{
	(void)arg;
	fl_http_reply_json(r, 200, json_pack("{s:i,s:s,s:i}", "id", atoi(fl_http_req_param(r, "id")),
					     "name", "Ann", "balance", 500));
}

static void on_transfer(struct fl_http_req *r, void *arg)
{
	(void)arg;
	fl_http_reply_json(r, 201, json_pack("{s:s,s:s,s:s}", "id", "0a1b2c3d-0000-4000-8000-000000000001",
					     "state", "PENDING", "created", "2027-01-02T03:04:05.678Z"));
}

static void on_health(struct fl_http_req *r, void *arg)
{
	(void)arg;
	fl_http_reply(r, 200, "text/plain", "ok", 2);
}

static void on_upload(struct fl_http_req *r, void *arg)
{
	(void)arg;
	fl_http_reply(r, 413, NULL, NULL, 0);
}

static void test_verify_generated(void **state)
{
	(void)state;
	char cap[256], out[256], err[512], path[300];
	snprintf(cap, sizeof(cap), "%s/live.pcap", tmpdir);
	snprintf(out, sizeof(out), "%s/live", tmpdir);
	write_traffic(cap, DLT_EN10MB, 0, 0);
	struct fl_generate_stats st;
	assert_int_equal(generate(cap, 0, out, &st, err, sizeof(err)), 0);
	fl_generate_stats_free(&st);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct event_base *base = event_base_new();
		struct fl_http_server_opts o = { .addr = "127.0.0.1:0" };
		struct fl_http_server *s = fl_http_server_new(base, &o, err, sizeof(err));
		if (!s)
			_exit(1);
		fl_http_server_route(s, "GET", "/members/{id}", on_member, NULL);
		fl_http_server_route(s, "POST", "/transfers", on_transfer, NULL);
		fl_http_server_route(s, "GET", "/health", on_health, NULL);
		fl_http_server_route(s, "PUT", "/files/{name}", on_upload, NULL);
		int p = fl_http_server_port(s);
		if (write(fds[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		alarm(60);
		event_base_dispatch(base);
		_exit(0);
	}
	int port;
	assert_int_equal(read(fds[0], &port, sizeof(port)), (ssize_t)sizeof(port));
	close(fds[0]);
	close(fds[1]);
	snprintf(path, sizeof(path), "%s/web-money.json", out);
	struct fl_pact *p = fl_pact_load(path, err, sizeof(err));
	assert_non_null(p);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	struct fl_verify_opts o = { .provider_url = url };
	struct fl_verify_summary sum = { 0 };
	assert_int_equal(fl_verify_pact(p, &o, NULL, NULL, &sum, err, sizeof(err)), 0);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (sum.passed != 5 || sum.failed || sum.errors)
		fail_msg("passed %d failed %d errors %d", sum.passed, sum.failed, sum.errors);
	fl_pact_free(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fl_pcapXXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	if (getenv("FL_KEEP_TMP")) {
		printf("kept %s\n", tmpdir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* For bench/contract.sh: FL_WRITE_BENCH_PCAP=FILE [FL_BENCH_MB=100] writes a
 * large capture of many keep-alive connections instead of running the tests. */
static int write_bench(const char *path)
{
	const char *mb = getenv("FL_BENCH_MB");
	long long want = (mb ? atoll(mb) : 100) << 20;
	struct cap c;
	cap_open(&c, path, DLT_EN10MB, 0, 0);
	long long written = 24;
	char req[512], resp[1024], body[600];
	for (uint32_t conn = 0; written < want; conn++) {
		struct flow f = { .cport = (uint16_t)(1024 + conn % 60000), .sport = 8080,
				  .cseq = 1001 + conn, .sseq = 5001 + conn * 7 };
		uint8_t cli[4] = { 10, 0, 0, 1 }, srv[4] = { 10, 0, 0, 2 };
		memcpy(f.cli, cli, 4);
		memcpy(f.srv, srv, 4);
		handshake(&c, &f);
		for (int k = 0; k < 20; k++) {
			unsigned id = conn * 20 + (unsigned)k;
			snprintf(req, sizeof(req),
				 k % 4 ? "GET /members/%u/transfers?page=%d HTTP/1.1\r\nHost: money\r\n"
					 "Accept: application/json\r\nUser-Agent: bench\r\n\r\n"
				       : "GET /members/%u HTTP/1.1\r\nHost: money\r\nAuthorization: Bearer x%d\r\n\r\n",
				 id, k);
			int bl = snprintf(body, sizeof(body),
					  "{\"id\":%u,\"owner\":\"member-%u\",\"balance\":%u,"
					  "\"created\":\"2026-11-21T23:07:%02u.123Z\",\"ref\":"
					  "\"3f2b8c1e-1d2a-4c3b-9a8e-%012u\",\"items\":[{\"n\":1,\"amount\":%u},"
					  "{\"n\":2,\"amount\":%u}],\"note\":\"%s\"}",
					  id, id, id * 3, id % 60, id, id % 1000, id % 777,
					  "padding padding padding padding padding padding padding padding");
			snprintf(resp, sizeof(resp),
				 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
				 "Date: Sat, 21 Nov 2026 23:07:51 GMT\r\n\r\n%s", bl, body);
			send_data(&c, &f, 1, req, 1448);
			send_data(&c, &f, 0, resp, 1448);
			written += (long long)(strlen(req) + strlen(resp) + 2 * (16 + 54));
		}
		finish(&c, &f);
		written += 5 * (16 + 54);
	}
	cap_close(&c);
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (getenv("FL_WRITE_BENCH_PCAP"))
		return write_bench(getenv("FL_WRITE_BENCH_PCAP"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_types),	cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_bad_captures),	cmocka_unit_test(test_events),
		cmocka_unit_test(test_verify_generated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
