/* Provider verification (see verify.h). */
#include "contract/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contract/generators.h"
#include "contract/match_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/prng.h"
#include "core/regex.h"
#include "core/text.h"

char *fl_verify_states_text(const struct fl_pact_interaction *it)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	size_t i;
	json_t *s;
	json_array_foreach(it->states, i, s) {
		fl_buf_printf(&b, "%s%s", i ? " and " : "given ", fl_json_str(s, "name", ""));
	}
	return fl_buf_take(&b, NULL);
}

static int filter_ok(const char *re, const char *s)
{
	struct fl_regex *rx = NULL;
	if (!re)
		return 1;
	if (fl_regex_compile(re, 0, &rx, NULL, 0) < 0)
		return strstr(s, re) != NULL;
	int ok = fl_regex_match(rx, s, strlen(s), NULL, 0) == 1;
	fl_regex_free(rx);
	return ok;
}

static bool selected(const struct fl_pact *p, const struct fl_pact_interaction *it,
		     const struct fl_verify_opts *o)
{
	if (!filter_ok(o->filter_consumer, p->consumer))
		return false;
	if (!filter_ok(o->filter_description, it->description ? it->description : ""))
		return false;
	if (o->exclude_description &&
	    filter_ok(o->exclude_description, it->description ? it->description : ""))
		return false;
	if (o->filter_state) {
		if (!o->filter_state[0])
			return json_array_size(it->states) == 0;
		size_t i;
		json_t *s;
		json_array_foreach(it->states, i, s)
			if (filter_ok(o->filter_state, fl_json_str(s, "name", "")))
				return true;
		return false;
	}
	return true;
}

static char **header_lines(const json_t *headers, size_t *n)
{
	size_t cap = 0, k = 0;
	const char *name;
	json_t *vals;
	json_object_foreach((json_t *)headers, name, vals)
		cap += json_array_size(vals);
	char **lines = calloc(cap + 1, sizeof(*lines));
	if (!lines)
		return NULL;
	json_object_foreach((json_t *)headers, name, vals) {
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v) {
			struct fl_buf b;
			fl_buf_init(&b, 0);
			fl_buf_printf(&b, "%s: %s", name,
				      json_string_value(v) ? json_string_value(v) : "");
			lines[k++] = fl_buf_take(&b, NULL);
		}
	}
	*n = k;
	return lines;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static json_t *response_json(const struct fl_http_response *resp)
{
	json_t *h = json_object();
	for (size_t i = 0; i < resp->nheaders; i++)
		fl_pact_multimap_add(h, resp->headers[i].name, resp->headers[i].value);
	return json_pack("{s:i,s:o,s:s%}", "status", (int)resp->status, "headers", h, "body",
			 resp->body.data ? resp->body.data : "", resp->body.len);
}

/* POST JSON to url; on 2xx with a JSON object reply, merge it into `values`.
 * Returns 0, or -1 with the reason in err (*infra set when unreachable). */
static int post_json(const char *url, json_t *body, const struct fl_verify_opts *o, json_t *values,
		     struct fl_http_response **out, char *err, size_t errlen, bool *infra)
{
	struct fl_http_request rq = { .method = "POST",
				      .url = url,
				      .json = body,
				      .timeout_ms = o->timeout_ms,
				      .tls = o->tls };
	struct fl_http_response *resp = NULL;
	int rc = fl_http_fetch(&rq, &resp);
	if (rc || !resp) {
		snprintf(err, errlen, "POST %s: %s", url, fl_strerror(rc));
		fl_http_response_free(resp);
		return -1;
	}
	if (resp->err) {
		snprintf(err, errlen, "POST %s: %s", url, resp->errmsg);
		*infra = true;
		fl_http_response_free(resp);
		return -1;
	}
	if (resp->status < 200 || resp->status > 299) {
		snprintf(err, errlen, "POST %s answered %ld: %.200s", url, resp->status,
			 resp->body.data ? resp->body.data : "");
		fl_http_response_free(resp);
		return -1;
	}
	if (values && json_is_object(resp->json))
		json_object_update(values, resp->json);
	if (out)
		*out = resp;
	else
		fl_http_response_free(resp);
	return 0;
}

static int change_states(const struct fl_pact *p, const struct fl_pact_interaction *it,
			 const struct fl_verify_opts *o, const char *action, json_t *values,
			 char *err, size_t errlen, bool *infra)
{
	size_t i;
	json_t *s;
	if (!o->state_change_url)
		return 0;
	json_t *names = json_array();
	json_array_foreach(it->states, i, s)
		json_array_append(names, json_object_get(s, "name"));
	json_array_foreach(it->states, i, s) {
		json_t *params = json_object_get(s, "params");
		json_t *body =
			json_pack("{s:O,s:o,s:s,s:s,s:O}", "state", json_object_get(s, "name"),
				  "params", params ? json_incref(params) : json_object(), "action",
				  action, "consumer", p->consumer, "states", names);
		char e[400];
		int rc = post_json(o->state_change_url, body, o, values, NULL, e, sizeof(e), infra);
		json_decref(body);
		if (rc) {
			snprintf(err, errlen, "provider state '%s' (%s) failed: %s",
				 fl_json_str(s, "name", ""), action, e);
			json_decref(names);
			return -1;
		}
	}
	json_decref(names);
	return 0;
}

static void clone_request(struct fl_pact_request *dst, const struct fl_pact_request *src)
{
	fl_pact_request_init(dst);
	dst->method = strdup(src->method ? src->method : "GET");
	dst->path = strdup(src->path ? src->path : "/");
	json_decref(dst->query);
	dst->query = json_deep_copy(src->query);
	json_decref(dst->headers);
	dst->headers = json_deep_copy(src->headers);
	dst->body.state = src->body.state;
	dst->body.encoded = src->body.encoded;
	dst->body.content_type = src->body.content_type ? strdup(src->body.content_type) : NULL;
	dst->body.value = src->body.value ? json_deep_copy(src->body.value) : NULL;
	json_decref(dst->generators);
	dst->generators = json_incref(src->generators);
}

static void verify_http(const struct fl_pact *p, const struct fl_pact_interaction *it,
			const struct fl_verify_opts *o, json_t *values, struct fl_prng *rng,
			struct fl_verify_result *r)
{
	struct fl_pact_request rq;
	struct fl_buf url;
	char **lines = NULL;
	size_t nlines = 0;
	struct fl_http_response *resp = NULL;
	char *body = NULL;
	size_t blen = 0;
	char gerr[256];

	clone_request(&rq, &it->request);
	fl_buf_init(&url, 0);
	if (fl_gen_apply_request(&rq, values, rng, gerr, sizeof(gerr))) {
		snprintf(r->error, sizeof(r->error), "request generators: %s", gerr);
		r->status = FL_VERIFY_ERROR;
		goto out;
	}
	size_t bl = strlen(o->provider_url);
	while (bl && o->provider_url[bl - 1] == '/')
		bl--;
	fl_buf_append(&url, o->provider_url, bl);
	if (rq.path[0] != '/')
		fl_buf_puts(&url, "/");
	fl_text_pct_encode(&url, rq.path, strlen(rq.path),
			   FL_PCT_PATH); /* pacts hold decoded paths */
	const char *k;
	json_t *vals;
	int first = 1;
	json_object_foreach(rq.query, k, vals) {
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v) {
			fl_buf_puts(&url, first ? "?" : "&");
			first = 0;
			const char *val = json_string_value(v) ? json_string_value(v) : "";
			fl_text_pct_encode(&url, k, strlen(k), FL_PCT_UNRESERVED);
			fl_buf_puts(&url, "=");
			fl_text_pct_encode(&url, val, strlen(val), FL_PCT_UNRESERVED);
		}
	}
	if (rq.body.state == FL_PACT_BODY_PRESENT &&
	    !fl_pact_header_get(rq.headers, "Content-Type"))
		fl_pact_multimap_add(rq.headers, "Content-Type",
				     fl_pact_body_content_type(&rq.body, NULL));
	lines = header_lines(rq.headers, &nlines);
	body = fl_pact_body_bytes(&rq.body, &blen);
	struct fl_http_request hr = {
		.method = rq.method,
		.url = url.data,
		.headers = (const char *const *)lines,
		.nheaders = nlines,
		.body = body,
		.body_len = blen,
		.timeout_ms = o->timeout_ms,
		.tls = o->tls,
	};
	r->sent = json_pack("{s:s,s:s,s:O,s:s%}", "method", rq.method, "url", url.data, "headers",
			    rq.headers, "body", body ? body : "", blen);
	int rc = fl_http_fetch(&hr, &resp);
	if (rc || !resp || resp->err) {
		snprintf(r->error, sizeof(r->error), "%s %s: %s", rq.method, url.data,
			 resp ? resp->errmsg : fl_strerror(rc));
		r->status = FL_VERIFY_ERROR;
		r->infra = resp && resp->err;
		goto out;
	}
	r->received = response_json(resp);
	struct fl_pact_response actual;
	fl_pact_response_init(&actual);
	actual.status = (int)resp->status;
	for (size_t i = 0; i < resp->nheaders; i++)
		fl_pact_multimap_add(actual.headers, resp->headers[i].name, resp->headers[i].value);
	if (resp->body.len)
		fl_pact_body_from_bytes(&actual.body, resp->body.data, resp->body.len,
					fl_http_response_header(resp, "Content-Type"));
	else
		actual.body.state = FL_PACT_BODY_MISSING;
	fl_pact_match_response(&it->response, &actual, &r->mismatches);
	fl_pact_response_clear(&actual);
	r->status = r->mismatches.n ? FL_VERIFY_FAIL : FL_VERIFY_PASS;
out:
	(void)p;
	fl_http_response_free(resp);
	free(body);
	free_lines(lines, nlines);
	fl_buf_free(&url);
	fl_pact_request_clear(&rq);
}

static void verify_message(const struct fl_pact_interaction *it, const struct fl_verify_opts *o,
			   struct fl_verify_result *r)
{
	json_t *req = json_pack("{s:s,s:O}", "description", it->description ? it->description : "",
				"providerStates", it->states);
	struct fl_http_response *resp = NULL;
	bool infra = false;
	if (post_json(o->provider_url, req, o, NULL, &resp, r->error, sizeof(r->error), &infra)) {
		r->status = FL_VERIFY_ERROR;
		r->infra = infra;
		json_decref(req);
		return;
	}
	json_decref(req);
	r->received = response_json(resp);
	struct fl_pact_message actual;
	fl_pact_message_init(&actual);
	const char *ct = fl_http_response_header(resp, "Content-Type");
	fl_pact_body_from_bytes(&actual.contents, resp->body.data, resp->body.len, ct);
	if (ct)
		json_object_set_new(actual.metadata, "contentType", json_string(ct));
	const char *md = fl_http_response_header(resp, "Pact-Message-Metadata");
	if (md) {
		size_t n;
		char *raw = fl_text_b64_decode(md, &n);
		json_t *mj = raw ? json_loadb(raw, n, 0, NULL) : NULL;
		if (json_is_object(mj))
			json_object_update(actual.metadata, mj);
		json_decref(mj);
		free(raw);
	}
	fl_pact_match_message(&it->message, &actual, &r->mismatches);
	fl_pact_message_clear(&actual);
	fl_http_response_free(resp);
	r->status = r->mismatches.n ? FL_VERIFY_FAIL : FL_VERIFY_PASS;
}

int fl_verify_pact(const struct fl_pact *p, const struct fl_verify_opts *o, fl_verify_cb cb,
		   void *arg, struct fl_verify_summary *sum, char *err, size_t errlen)
{
	if (!o || !o->provider_url || strncmp(o->provider_url, "http", 4))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "a provider URL (http://HOST:PORT) is required");
	struct fl_verify_opts opts = *o;
	if (!opts.timeout_ms)
		opts.timeout_ms = 10000;
	struct fl_prng root;
	fl_prng_seed(&root, opts.seed);
	for (size_t i = 0; i < p->ninteractions; i++) {
		const struct fl_pact_interaction *it = &p->interactions[i];
		struct fl_verify_result r = { .pact = p,
					      .interaction = it,
					      .index = i,
					      .pending = it->pending };
		r.start_wall_ns = fl_wall_ns();
		int64_t t0 = fl_mono_ns();
		if (!selected(p, it, &opts)) {
			r.status = FL_VERIFY_SKIP;
		} else {
			json_t *values = json_object();
			struct fl_prng rng;
			fl_prng_fork(&root, i, &rng);
			if (change_states(p, it, &opts, "setup", values, r.error, sizeof(r.error),
					  &r.infra)) {
				r.status = FL_VERIFY_ERROR;
			} else {
				if (it->kind == FL_PACT_HTTP)
					verify_http(p, it, &opts, values, &rng, &r);
				else
					verify_message(it, &opts, &r);
				if (opts.state_teardown) {
					char e[400];
					bool infra = false;
					if (change_states(p, it, &opts, "teardown", NULL, e,
							  sizeof(e), &infra) &&
					    r.status == FL_VERIFY_PASS) {
						r.status = FL_VERIFY_ERROR;
						snprintf(r.error, sizeof(r.error), "%s", e);
					}
				}
			}
			json_decref(values);
		}
		r.duration_ns = fl_mono_ns() - t0;
		if (sum) {
			switch (r.status) {
			case FL_VERIFY_PASS: sum->passed++; break;
			case FL_VERIFY_SKIP: sum->skipped++; break;
			case FL_VERIFY_FAIL:
				if (r.pending)
					sum->pending_failed++;
				else
					sum->failed++;
				break;
			case FL_VERIFY_ERROR:
				if (r.pending) {
					sum->pending_failed++;
				} else {
					sum->errors++;
					if (r.infra)
						sum->infra_errors++;
				}
				break;
			}
		}
		if (cb)
			cb(&r, arg);
		fl_pact_mismatches_clear(&r.mismatches);
		json_decref(r.sent);
		json_decref(r.received);
	}
	return 0;
}
