/* ref_load: closed-loop saga load against a running reference system.
 *
 *   ref_load TOPOLOGY.json [--kind internal|external|topup] [--clients N]
 *            [--duration S] [--members M]
 *
 * Creates M members (each topped up through a saga), then runs N clients
 * for S seconds, each sending its next transfer as soon as the previous one
 * is answered, and prints one line:
 *   kind=internal clients=32 duration_s=5.00 sagas=1234 completed=1230
 *   other=4 errors=0 rate=246.0 p50_ms=12.1 p99_ms=40.3 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/prng.h"

struct load {
	struct event_base *base;
	struct fl_http_client *client;
	char url[300];
	const char *kind;
	char **members;
	int nmembers;
	int64_t end_ns;
	int running;
	long sagas, completed, other, errors;
	double *lat;
	size_t nlat, cap;
	struct fl_prng rng;
};

struct client {
	struct load *l;
	int64_t start;
};

static json_t *post(const char *url, json_t *body)
{
	struct fl_http_request req = { .method = "POST", .url = url, .json = body, .timeout_ms = 30000 };
	struct fl_http_response *r = NULL;
	json_t *out = NULL;
	if (fl_http_fetch(&req, &r) == 0 && r && !r->err && r->status < 300 && r->json)
		out = json_incref(r->json);
	else if (r && !r->err && r->status == 409)
		;	/* already there (the shared destination account) */
	else
		fprintf(stderr, "ref_load: POST %s failed: %s %s\n", url, r ? r->errmsg : "",
			r && r->body.data ? r->body.data : "");
	fl_http_response_free(r);
	json_decref(body);
	return out;
}

static const char *svc(json_t *t, const char *name)
{
	return fl_json_str(json_object_get(json_object_get(t, "services"), name), "url", "");
}

static void start(struct client *c);

static void done(struct fl_http_response *r, void *arg)
{
	struct client *c = arg;
	struct load *l = c->l;
	double ms = (double)(fl_mono_ns() - c->start) / 1e6;
	l->sagas++;
	if (r->err || r->status != 200)
		l->errors++;
	else if (strcmp(fl_json_str(r->json, "state", ""), "COMPLETED") == 0)
		l->completed++;
	else
		l->other++;
	if (l->nlat == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->lat = realloc(l->lat, l->cap * sizeof(double));
	}
	l->lat[l->nlat++] = ms;
	fl_http_response_free(r);
	if (fl_mono_ns() < l->end_ns)
		start(c);
	else if (--l->running == 0)
		event_base_loopbreak(l->base);
}

static void start(struct client *c)
{
	struct load *l = c->l;
	int a = (int)fl_prng_range(&l->rng, 0, l->nmembers - 1);
	int b = (int)fl_prng_range(&l->rng, 0, l->nmembers - 2);
	if (b >= a)
		b++;
	json_t *body;
	if (strcmp(l->kind, "internal") == 0)
		body = json_pack("{s:s, s:s, s:i, s:i}", "fromMembershipId", l->members[a],
				 "toMembershipId", l->members[b], "amount", 1 + (int)fl_prng_range(&l->rng, 0, 99),
				 "remittanceType", 0);
	else if (strcmp(l->kind, "external") == 0)
		body = json_pack("{s:s, s:s, s:s, s:i, s:i}", "fromMembershipId", l->members[a],
				 "toBankName", "BENCH", "toBankAccountNumber", "dest", "amount",
				 1 + (int)fl_prng_range(&l->rng, 0, 99), "remittanceType", 1);
	else
		body = json_pack("{s:s, s:i}", "membershipId", l->members[a], "amount",
				 1 + (int)fl_prng_range(&l->rng, 0, 99));
	struct fl_http_request req = { .method = "POST", .url = l->url, .json = body, .timeout_ms = 30000 };
	c->start = fl_mono_ns();
	if (fl_http_client_start(l->client, &req, done, c, NULL) != 0) {
		l->errors++;
		if (--l->running == 0)
			event_base_loopbreak(l->base);
	}
	json_decref(body);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ref_load TOPOLOGY.json [--kind internal|external|topup] [--clients N] [--duration S] [--members M]\n");
		return 2;
	}
	struct load l = { .kind = "internal" };
	int clients = 32, members = 64;
	double duration = 5;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--kind") == 0)
			l.kind = argv[i + 1];
		else if (strcmp(argv[i], "--clients") == 0)
			clients = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--duration") == 0)
			duration = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--members") == 0)
			members = atoi(argv[i + 1]);
	}
	if (clients < 1 || members < 2 || duration <= 0) {
		fprintf(stderr, "ref_load: bad arguments\n");
		return 2;
	}
	char err[512];
	json_t *t = fl_json_load_file(argv[1], err, sizeof(err));
	if (!t) {
		fprintf(stderr, "ref_load: %s\n", err);
		return 3;
	}
	fl_prng_seed(&l.rng, 42);
	char url[400];
	snprintf(url, sizeof(url), "%s/bank/accounts", svc(t, "extbank"));
	json_decref(post(url, json_pack("{s:s, s:s}", "bankName", "BENCH", "bankAccountNumber", "dest")));
	l.members = calloc((size_t)members, sizeof(char *));
	for (int i = 0; i < members; i++) {
		snprintf(url, sizeof(url), "%s/membership/register", svc(t, "membership"));
		json_t *m = post(url, json_pack("{s:s, s:s}", "name", "bench", "address", "bench"));
		if (!m)
			return 3;
		const char *id = fl_json_str(m, "membershipId", "");
		l.members[i] = strdup(id);
		char acct[64];
		snprintf(acct, sizeof(acct), "bench-%s-%d", id, (int)(fl_wall_ns() % 100000));
		snprintf(url, sizeof(url), "%s/money/create-member-money", svc(t, "money"));
		json_decref(post(url, json_pack("{s:s}", "membershipId", id)));
		snprintf(url, sizeof(url), "%s/bank/accounts", svc(t, "extbank"));
		json_decref(post(url, json_pack("{s:s, s:s, s:I}", "bankName", "KB", "bankAccountNumber", acct,
						"balance", (json_int_t)2000000000)));
		snprintf(url, sizeof(url), "%s/banking/account/register", svc(t, "banking"));
		json_decref(post(url, json_pack("{s:s, s:s, s:s}", "membershipId", id, "bankName", "KB",
						"bankAccountNumber", acct)));
		snprintf(url, sizeof(url), "%s/topup/request", svc(t, "remittance"));
		json_decref(post(url, json_pack("{s:s, s:I}", "membershipId", id, "amount", (json_int_t)1000000000)));
		json_decref(m);
	}
	snprintf(l.url, sizeof(l.url), "%s%s", svc(t, "remittance"),
		 strcmp(l.kind, "topup") == 0 ? "/topup/request" : "/remittance/request");
	l.base = event_base_new();
	l.client = fl_http_client_new(l.base, err, sizeof(err));
	if (!l.client) {
		fprintf(stderr, "ref_load: %s\n", err);
		return 3;
	}
	struct client *cs = calloc((size_t)clients, sizeof(*cs));
	int64_t t0 = fl_mono_ns();
	l.end_ns = t0 + (int64_t)(duration * 1e9);
	l.running = clients;
	for (int i = 0; i < clients; i++) {
		cs[i].l = &l;
		start(&cs[i]);
	}
	event_base_dispatch(l.base);
	double secs = (double)(fl_mono_ns() - t0) / 1e9;
	qsort(l.lat, l.nlat, sizeof(double), cmp);
	double p50 = l.nlat ? l.lat[l.nlat / 2] : 0, p99 = l.nlat ? l.lat[(size_t)((double)l.nlat * 0.99)] : 0;
	printf("kind=%s clients=%d duration_s=%.2f sagas=%ld completed=%ld other=%ld errors=%ld rate=%.1f p50_ms=%.1f p99_ms=%.1f\n",
	       l.kind, clients, secs, l.sagas, l.completed, l.other, l.errors, (double)l.completed / secs, p50, p99);
	fl_http_client_free(l.client);
	event_base_free(l.base);
	for (int i = 0; i < members; i++)
		free(l.members[i]);
	free(l.members);
	free(l.lat);
	free(cs);
	json_decref(t);
	return l.errors ? 1 : 0;
}
