/* The provider stub (see stub.h). */
#include "contract/stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/generators.h"
#include "contract/match_int.h"
#include "core/http_server.h"
#include "core/prng.h"

struct fl_stub {
	struct fl_http_server *srv;
	struct fl_pact *const *pacts;
	size_t npacts;
	struct fl_prng rng;
	size_t hits, misses;
};

/* The actual request as the pact model sees it: the expected headers are
 * looked up by name (the server exposes lookups), plus Content-Type. */
static void actual_request(struct fl_http_req *req, const struct fl_pact_request *like,
			   struct fl_pact_request *a)
{
	fl_pact_request_init(a);
	a->method = strdup(fl_http_req_method(req));
	a->path = strdup(fl_http_req_path(req));
	const char *uri = fl_http_req_uri(req);
	const char *q = strchr(uri, '?');
	json_decref(a->query);
	a->query = fl_pact_query_parse(q ? q + 1 : "");
	const char *k;
	json_t *v;
	if (like) {
		json_object_foreach(like->headers, k, v) {
			const char *hv = fl_http_req_header(req, k);
			if (hv)
				fl_pact_multimap_add(a->headers, k, hv);
		}
	}
	const char *ct = fl_http_req_header(req, "Content-Type");
	if (ct && !json_object_get(a->headers, "Content-Type"))
		fl_pact_multimap_add(a->headers, "Content-Type", ct);
	size_t len;
	const char *body = fl_http_req_body(req, &len);
	if (body && len)
		fl_pact_body_from_bytes(&a->body, body, len, ct);
	else
		a->body.state = FL_PACT_BODY_MISSING;
}

static void reply(struct fl_stub *s, struct fl_http_req *req, const struct fl_pact_response *exp)
{
	struct fl_pact_response r;
	fl_pact_response_init(&r);
	r.status = exp->status;
	json_decref(r.headers);
	r.headers = json_deep_copy(exp->headers);
	r.body.state = exp->body.state;
	r.body.encoded = exp->body.encoded;
	r.body.content_type = exp->body.content_type ? strdup(exp->body.content_type) : NULL;
	r.body.value = exp->body.value ? json_deep_copy(exp->body.value) : NULL;
	json_decref(r.generators);
	r.generators = json_incref(exp->generators);
	char err[256];
	json_t *state = json_object();
	fl_gen_apply_response(&r, state, &s->rng, err, sizeof(err));
	json_decref(state);
	const char *k;
	json_t *vals;
	const char *ct = NULL;
	json_object_foreach(r.headers, k, vals) {
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v) {
			if (!strcasecmp(k, "Content-Type"))
				ct = json_string_value(v);
			else
				fl_http_reply_header(req, k, json_string_value(v));
		}
	}
	size_t len = 0;
	char *body = fl_pact_body_bytes(&r.body, &len);
	if (!ct && body)
		ct = fl_pact_body_content_type(&r.body, r.headers);
	fl_http_reply(req, r.status, ct, body, len);
	free(body);
	fl_pact_response_clear(&r);
}

static void on_request(struct fl_http_req *req, void *arg)
{
	struct fl_stub *s = arg;
	json_t *cands = json_array();
	size_t best_n = (size_t)-1;
	for (size_t p = 0; p < s->npacts; p++) {
		for (size_t i = 0; i < s->pacts[p]->ninteractions; i++) {
			const struct fl_pact_interaction *it = &s->pacts[p]->interactions[i];
			if (it->kind != FL_PACT_HTTP)
				continue;
			struct fl_pact_request a;
			struct fl_pact_mismatches mm = { 0 };
			actual_request(req, &it->request, &a);
			size_t n = fl_pact_match_request(&it->request, &a, &mm);
			fl_pact_request_clear(&a);
			if (n == 0) {
				fl_pact_mismatches_clear(&mm);
				json_decref(cands);
				s->hits++;
				reply(s, req, &it->response);
				return;
			}
			/* keep the closest candidates: fewest mismatches */
			if (n < best_n) {
				json_array_clear(cands);
				best_n = n;
			}
			if (n == best_n && json_array_size(cands) < 5)
				json_array_append_new(cands,
						      json_pack("{s:s,s:s,s:o}", "consumer",
								s->pacts[p]->consumer,
								"description",
								it->description ? it->description
										: "",
								"mismatches",
								fl_pact_mismatches_json(&mm)));
			fl_pact_mismatches_clear(&mm);
		}
	}
	s->misses++;
	json_t *body = json_object();
	char msg[600];
	snprintf(msg, sizeof(msg), "no interaction matches %s %.400s", fl_http_req_method(req),
		 fl_http_req_uri(req));
	json_object_set_new(body, "error", json_string(msg));
	json_object_set_new(body, "status", json_integer(500));
	json_object_set_new(body, "candidates", cands);
	fl_http_reply_json(req, 500, body);
}

struct fl_stub *fl_stub_new(struct event_base *base, struct fl_pact *const *pacts, size_t npacts,
			    const char *addr, uint64_t seed, char *err, size_t errlen)
{
	struct fl_stub *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->pacts = pacts;
	s->npacts = npacts;
	fl_prng_seed(&s->rng, seed);
	struct fl_http_server_opts o = { .addr = addr ? addr : "127.0.0.1:0",
					 .max_body = 16u << 20 };
	s->srv = fl_http_server_new(base, &o, err, errlen);
	if (!s->srv || fl_http_server_route(s->srv, "*", "/*", on_request, s)) {
		if (s->srv)
			snprintf(err, errlen, "could not add the stub route");
		fl_stub_free(s);
		return NULL;
	}
	return s;
}

const char *fl_stub_addr(const struct fl_stub *s)
{
	return fl_http_server_addr(s->srv);
}

int fl_stub_port(const struct fl_stub *s)
{
	return fl_http_server_port(s->srv);
}

size_t fl_stub_hits(const struct fl_stub *s)
{
	return s->hits;
}

size_t fl_stub_misses(const struct fl_stub *s)
{
	return s->misses;
}

void fl_stub_free(struct fl_stub *s)
{
	if (!s)
		return;
	fl_http_server_free(s->srv);
	free(s);
}
