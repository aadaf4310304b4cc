/* Recorded exchanges as input to the generator: the fault injector's
 * http_exchange events (JSONL from `faultline proxy --events FILE` or
 * `faultline contract record`): {"event": "http_exchange", "link": "a->b",
 * "method", "path", "query", "status", "req_headers", "req_body" or
 * "req_body_b64", "resp_headers", "resp_body"/"resp_body_b64", "fault"}.
 * Exchanges with an injected fault or an error are not the provider's
 * behaviour and are skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/generate.h"
#include "contract/match_int.h"
#include "core/buf.h"
#include "core/errors.h"
#include "core/text.h"

static struct fl_http_pair *pairs_of(const json_t *h, size_t *n)
{
	*n = 0;
	if (!json_is_object(h))
		return NULL;
	struct fl_http_pair *v = calloc(json_object_size(h) + 1, sizeof(*v));
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)h, k, x) {
		if (!v)
			break;
		v[*n].name = k;
		v[*n].value = json_is_string(x) ? json_string_value(x)
						: json_string_value(json_array_get(x, 0));
		if (v[*n].value)
			(*n)++;
	}
	return v;
}

static char *body_of(const json_t *ev, const char *key, size_t *len)
{
	char k64[64];
	const char *s = fl_json_str(ev, key, NULL);
	*len = 0;
	if (s) {
		*len = json_string_length(json_object_get(ev, key));
		char *out = malloc(*len + 1);
		if (out)
			memcpy(out, s, *len + 1);
		return out;
	}
	snprintf(k64, sizeof(k64), "%s_b64", key);
	s = fl_json_str(ev, k64, NULL);
	return s ? fl_text_b64_decode(s, len) : NULL;
}

int fl_generator_add_events(struct fl_generator *g, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", path,
				  strerror(errno));
	char *line = NULL;
	size_t cap = 0, lineno = 0, used = 0, bad = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n <= 1)
			continue;
		json_error_t je;
		json_t *ev = json_loadb(line, (size_t)n, 0, &je);
		if (!json_is_object(ev)) {
			json_decref(ev);
			if (++bad <= 3)
				fl_generator_warn(g, "%s:%zu: not a JSON object (%s); line skipped",
						  path, lineno, je.text);
			continue;
		}
		const char *type = fl_json_str(ev, "event", fl_json_str(ev, "type", ""));
		json_t *st = json_object_get(ev, "status");
		json_t *fault = json_object_get(ev, "fault");
		if (strcmp(type, "http_exchange") || !json_is_integer(st) ||
		    (fault && !json_is_null(fault)) || json_object_get(ev, "error")) {
			json_decref(ev);
			continue; /* other events, injected faults, broken exchanges */
		}
		const char *link = fl_json_str(ev, "link", NULL);
		char consumer[128] = "consumer", provider[128] = "provider";
		if (link) {
			const char *arrow = strstr(link, "->");
			if (arrow) {
				snprintf(consumer, sizeof(consumer), "%.*s", (int)(arrow - link),
					 link);
				snprintf(provider, sizeof(provider), "%s", arrow + 2);
			} else {
				snprintf(provider, sizeof(provider), "%s", link);
			}
		}
		const char *cn = fl_json_str(ev, "consumer", NULL),
			   *pn = fl_json_str(ev, "provider", NULL);
		if (cn)
			snprintf(consumer, sizeof(consumer), "%s", cn);
		if (pn)
			snprintf(provider, sizeof(provider), "%s", pn);
		const char *p = fl_json_str(ev, "path", "/");
		const char *q = fl_json_str(ev, "query", NULL);
		struct fl_buf target;
		fl_buf_init(&target, 0);
		fl_buf_puts(&target, p);
		if (q && *q && !strchr(p, '?'))
			fl_buf_printf(&target, "?%s", q);
		size_t nrq, nrs, lrq, lrs;
		struct fl_http_pair *rqh = pairs_of(json_object_get(ev, "req_headers"), &nrq);
		struct fl_http_pair *rsh = pairs_of(json_object_get(ev, "resp_headers"), &nrs);
		char *rqb = body_of(ev, "req_body", &lrq);
		char *rsb = body_of(ev, "resp_body", &lrs);
		struct fl_exchange x = {
			.consumer = consumer,
			.provider = provider,
			.method = fl_json_str(ev, "method", "GET"),
			.target = target.data,
			.req_headers = rqh,
			.nreq_headers = nrq,
			.req_body = rqb,
			.req_body_len = lrq,
			.status = (int)json_integer_value(st),
			.resp_headers = rsh,
			.nresp_headers = nrs,
			.resp_body = rsb,
			.resp_body_len = lrs,
		};
		rc = fl_generator_add_exchange(g, &x);
		used++;
		free(rqh);
		free(rsh);
		free(rqb);
		free(rsb);
		fl_buf_free(&target);
		json_decref(ev);
		if (rc) {
			fl_err_set(err, errlen, rc, "%s:%zu: %s", path, lineno, fl_strerror(rc));
			break;
		}
	}
	free(line);
	fclose(f);
	if (bad > 3)
		fl_generator_warn(g, "%s: %zu lines were not JSON objects", path, bad);
	if (!rc && !used)
		fl_generator_warn(g, "%s: no http_exchange events without faults", path);
	return rc;
}
