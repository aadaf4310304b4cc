/* Generates large, valid histories for the checker benchmark (bench/checkers.sh):
 *   check_genhist saga|bank|breaker|probe LINES OUT.jsonl [SEED]
 *   check_genhist ops OPERATIONS OUT.jsonl [SEED]   (the report's timeline)
 * Each history is consistent with the checker's rules (the check must come
 * out valid), so the benchmark times a full pass, not an early failure. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/prng.h"

#define MS 1000000LL

static FILE *out;
static long lines, target;
static long long t;	/* ns */

#define EMIT(...) (fprintf(out, __VA_ARGS__), fputc('\n', out), lines++)

#define WALLETS 64

static void gen_saga(struct fl_prng *r)
{
	long long wallet[WALLETS], corp = 0, transit = 0;
	for (int i = 0; i < WALLETS; i++) {
		wallet[i] = 1000000;
		corp -= wallet[i];
	}
	long n = 0;
	while (lines < target) {
		int p = (int)(n % 16), a = (int)fl_prng_range(r, 0, WALLETS - 1);
		long long amt = fl_prng_range(r, 1, 1000);
		bool reject = fl_prng_chance(r, 0.1);
		char id[32];
		snprintf(id, sizeof(id), "S%ld", ++n);
		t += MS;
		EMIT("{\"t\":%lld,\"process\":%d,\"type\":\"invoke\",\"f\":\"transfer\",\"value\":"
		     "{\"amount\":%lld,\"key\":\"k%ld\"}}", t, p, amt, n);
		EMIT("{\"event\":\"saga_started\",\"t\":%lld,\"saga_id\":\"%s\",\"type\":\"external\","
		     "\"amount\":%lld,\"pivot_step\":2,\"request_key\":\"k%ld\"}", t += 10000, id, amt, n);
		EMIT("{\"event\":\"step_requested\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":1,\"dir\":\"fwd\","
		     "\"key\":\"%s:1:fwd\",\"participant\":\"money\"}", t += 10000, id, id);
		EMIT("{\"event\":\"step_succeeded\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":1,\"dir\":\"fwd\","
		     "\"key\":\"%s:1:fwd\",\"participant\":\"money\"}", t += 10000, id, id);
		EMIT("{\"event\":\"effect\",\"t\":%lld,\"participant\":\"money\",\"key\":\"%s:1:fwd\","
		     "\"from\":\"wallet:%d\",\"to\":\"TRANSIT\",\"amount\":%lld}", t, id, a, amt);
		wallet[a] -= amt;
		transit += amt;
		EMIT("{\"event\":\"step_requested\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":2,\"dir\":\"fwd\","
		     "\"key\":\"%s:2:fwd\",\"participant\":\"banking\",\"pivot\":true}", t += 10000, id, id);
		if (reject) {
			EMIT("{\"event\":\"step_failed\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":2,"
			     "\"dir\":\"fwd\",\"reason\":\"REJECTED\"}", t += 10000, id);
			EMIT("{\"event\":\"compensation_requested\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":1,"
			     "\"dir\":\"comp\",\"key\":\"%s:1:comp\"}", t += 10000, id, id);
			EMIT("{\"event\":\"compensation_succeeded\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":1,"
			     "\"dir\":\"comp\",\"key\":\"%s:1:comp\"}", t += 10000, id, id);
			EMIT("{\"event\":\"effect\",\"t\":%lld,\"participant\":\"money\",\"key\":\"%s:1:comp\","
			     "\"from\":\"TRANSIT\",\"to\":\"wallet:%d\",\"amount\":%lld}", t, id, a, amt);
			wallet[a] += amt;
			transit -= amt;
			EMIT("{\"event\":\"saga_ended\",\"t\":%lld,\"saga_id\":\"%s\",\"state\":\"COMPENSATED\"}",
			     t += 10000, id);
			EMIT("{\"t\":%lld,\"process\":%d,\"type\":\"fail\",\"f\":\"transfer\",\"value\":"
			     "{\"saga_id\":\"%s\",\"state\":\"COMPENSATED\"}}", t += 10000, p, id);
		} else {
			EMIT("{\"event\":\"step_succeeded\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":2,"
			     "\"dir\":\"fwd\",\"key\":\"%s:2:fwd\",\"pivot\":true}", t += 10000, id, id);
			EMIT("{\"event\":\"step_requested\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":3,"
			     "\"dir\":\"fwd\",\"key\":\"%s:3:fwd\",\"participant\":\"money\"}", t += 10000, id, id);
			EMIT("{\"event\":\"step_succeeded\",\"t\":%lld,\"saga_id\":\"%s\",\"step\":3,"
			     "\"dir\":\"fwd\",\"key\":\"%s:3:fwd\",\"participant\":\"money\"}", t += 10000, id, id);
			EMIT("{\"event\":\"effect\",\"t\":%lld,\"participant\":\"money\",\"key\":\"%s:3:fwd\","
			     "\"from\":\"TRANSIT\",\"to\":\"CORP\",\"amount\":%lld}", t, id, amt);
			transit -= amt;
			corp += amt;
			EMIT("{\"event\":\"saga_ended\",\"t\":%lld,\"saga_id\":\"%s\",\"state\":\"COMPLETED\"}",
			     t += 10000, id);
			EMIT("{\"t\":%lld,\"process\":%d,\"type\":\"ok\",\"f\":\"transfer\",\"value\":"
			     "{\"saga_id\":\"%s\",\"state\":\"COMPLETED\"}}", t += 10000, p, id);
		}
		if (n % 2000 == 0 || lines >= target) {
			fprintf(out, "{\"event\":\"money_snapshot\",\"t\":%lld,\"accounts\":{", t += 10000);
			for (int i = 0; i < WALLETS; i++)
				fprintf(out, "\"wallet:%d\":%lld,", i, wallet[i]);
			fprintf(out, "\"TRANSIT\":%lld,\"CORP\":%lld}}\n", transit, corp);
			lines++;
		}
	}
}

static void gen_bank(struct fl_prng *r)
{
	long long acc[10];
	for (int i = 0; i < 10; i++)
		acc[i] = 1000;
	long n = 0;
	while (lines < target) {
		int p = (int)(n++ % 16);
		int from = (int)fl_prng_range(r, 0, 9), to = (int)fl_prng_range(r, 0, 9);
		long long amt = fl_prng_range(r, 0, acc[from] < 50 ? acc[from] : 50);
		acc[from] -= amt;
		acc[to] += amt;
		EMIT("{\"t\":%lld,\"process\":%d,\"type\":\"invoke\",\"f\":\"read\"}", t += MS, p);
		fprintf(out, "{\"t\":%lld,\"process\":%d,\"type\":\"ok\",\"f\":\"read\",\"value\":{\"accounts\":{",
			t += MS, p);
		for (int i = 0; i < 10; i++)
			fprintf(out, "%s\"a%d\":%lld", i ? "," : "", i, acc[i]);
		fprintf(out, "}}}\n");
		lines++;
	}
}

/* Breaker N 10, m 5, F 50 %, W 1000 ms, k 3 (bench/checkers.sh passes the same). */
static void gen_breaker(struct fl_prng *r)
{
	while (lines < target) {
		int ok_calls = (int)fl_prng_range(r, 10, 200);
		for (int i = 0; i < ok_calls; i++, t += MS)
			EMIT("{\"event\":\"breaker_call\",\"breaker\":\"b\",\"start\":%lld,\"end\":%lld,"
			     "\"outcome\":\"success\"}", t, t + MS / 2);
		for (int i = 0; i < 5; i++, t += MS)
			EMIT("{\"event\":\"breaker_call\",\"breaker\":\"b\",\"start\":%lld,\"end\":%lld,"
			     "\"outcome\":\"failure\"}", t, t + MS / 2);
		long long open = t - MS / 2 + 1000;
		EMIT("{\"event\":\"breaker_transition\",\"breaker\":\"b\",\"t\":%lld,\"from\":\"CLOSED\","
		     "\"to\":\"OPEN\"}", open);
		for (int i = 0; i < 100; i++, t += 9 * MS)
			EMIT("{\"event\":\"breaker_call\",\"breaker\":\"b\",\"start\":%lld,\"end\":%lld,"
			     "\"outcome\":\"rejected\"}", t, t + 100000);
		t = open + 1000 * MS + MS;
		EMIT("{\"event\":\"breaker_transition\",\"breaker\":\"b\",\"t\":%lld,\"from\":\"OPEN\","
		     "\"to\":\"HALF_OPEN\"}", t);
		for (int i = 0; i < 3; i++, t += MS)
			EMIT("{\"event\":\"breaker_call\",\"breaker\":\"b\",\"start\":%lld,\"end\":%lld,"
			     "\"outcome\":\"success\"}", t + 1000, t + MS / 2);
		EMIT("{\"event\":\"breaker_transition\",\"breaker\":\"b\",\"t\":%lld,\"from\":\"HALF_OPEN\","
		     "\"to\":\"CLOSED\"}", t);
		t += MS;
	}
}

static void gen_probe(struct fl_prng *r)
{
	static const char *const kinds[] = { "liveness", "readiness" };
	long n = 0;
	while (lines < target) {
		if (n % 5000 == 0)
			EMIT("{\"event\":\"fault\",\"t\":%lld,\"action\":\"added\",\"what\":\"kill\","
			     "\"target\":\"extbank\",\"id\":\"f%ld\"}", t, n);
		double lat = (double)fl_prng_range(r, 100, 3000) / 1000.0;
		EMIT("{\"event\":\"probe\",\"service\":\"svc\",\"kind\":\"%s\",\"start\":%lld,\"t\":%lld,"
		     "\"ok\":true,\"status\":200,\"latency_ms\":%.3f}", kinds[n % 2], t,
		     t + (long long)(lat * 1e6), lat);
		t += 10 * MS;
		if (n % 5000 == 2500)
			EMIT("{\"event\":\"fault\",\"t\":%lld,\"action\":\"removed\",\"what\":\"kill\","
			     "\"target\":\"extbank\",\"id\":\"f%ld\"}", t, n - 2500);
		n++;
	}
}

/* Client operations for the report's timeline (report/timeline.c): LINES
 * is the number of operations here. 64 clients at 2000 operations per
 * second, three operation types, a fault window of 5 s every 20 s (latency
 * or HTTP errors, with parameters) with slower and failing operations
 * inside, and a kill and restart of a service in every third window. */
static void gen_ops(struct fl_prng *r)
{
	static const char *const types[] = { "transfer", "topup", "read" };
	long n = 0, window = -1;
	while (n < target) {
		long w = (long)((t - 1000 * MS) / (20000 * MS));
		bool in = (t - 1000 * MS) % (20000 * MS) < 5000 * MS;
		if (in && w != window) {
			window = w;
			if (w % 2)
				EMIT("{\"event\":\"fault\",\"t\":%lld,\"action\":\"added\",\"what\":\"latency\","
				     "\"target\":\"remittance->money\",\"id\":\"w%ld\",\"attributes\":{\"latency\":200,"
				     "\"jitter\":20}}", t, w);
			else
				EMIT("{\"event\":\"fault\",\"t\":%lld,\"action\":\"added\",\"what\":\"http_abort\","
				     "\"target\":\"gateway->remittance\",\"id\":\"w%ld\",\"attributes\":{\"status\":503,"
				     "\"probability\":0.3}}", t, w);
			if (w % 3 == 0)
				EMIT("{\"event\":\"process\",\"t\":%lld,\"action\":\"killed\",\"service\":\"money\"}", t);
		}
		if (!in && window >= 0 && w == window) {
			EMIT("{\"event\":\"fault\",\"t\":%lld,\"action\":\"removed\",\"id\":\"w%ld\"}", t, w);
			if (w % 3 == 0)
				EMIT("{\"event\":\"process\",\"t\":%lld,\"action\":\"started\",\"service\":\"money\"}", t);
			window = -2;
		}
		int p = (int)(n % 64);
		const char *f = types[fl_prng_range(r, 0, 2)];
		long long lat = 500000 + fl_prng_range(r, 0, 3000000);	/* 0.5 .. 3.5 ms */
		if (fl_prng_chance(r, 0.01))
			lat *= 20;	/* a tail */
		if (in && window % 2)
			lat += 200 * MS + fl_prng_range(r, 0, 20 * MS);
		const char *end = fl_prng_chance(r, in && !(window % 2) ? 0.3 : 0.01) ? "fail"
				  : fl_prng_chance(r, 0.005) ? "info" : "ok";
		EMIT("{\"t\":%lld,\"process\":%d,\"type\":\"invoke\",\"f\":\"%s\",\"value\":{\"amount\":%ld}}",
		     t, p, f, n % 1000 + 1);
		EMIT("{\"t\":%lld,\"process\":%d,\"type\":\"%s\",\"f\":\"%s\"}", t + lat, p, end, f);
		t += MS / 2;	/* 2000 operations per second */
		n++;
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: check_genhist saga|bank|breaker|probe|ops LINES OUT.jsonl [SEED]\n"
				"  (ops: LINES is the number of client operations)\n");
		return 2;
	}
	target = atol(argv[2]);
	out = fopen(argv[3], "w");
	if (!out || target <= 0) {
		fprintf(stderr, "check_genhist: cannot write %s or bad LINES\n", argv[3]);
		return 2;
	}
	struct fl_prng r;
	fl_prng_seed(&r, argc > 4 ? strtoull(argv[4], NULL, 10) : 1);
	t = 1000 * MS;
	if (!strcmp(argv[1], "saga"))
		gen_saga(&r);
	else if (!strcmp(argv[1], "bank"))
		gen_bank(&r);
	else if (!strcmp(argv[1], "breaker"))
		gen_breaker(&r);
	else if (!strcmp(argv[1], "probe"))
		gen_probe(&r);
	else if (!strcmp(argv[1], "ops"))
		gen_ops(&r);
	else {
		fprintf(stderr, "check_genhist: unknown kind %s\n", argv[1]);
		return 2;
	}
	if (fclose(out)) {
		fprintf(stderr, "check_genhist: write failed\n");
		return 1;
	}
	printf("%ld lines\n", lines);
	return 0;
}
