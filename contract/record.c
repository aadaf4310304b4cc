/* Recording traffic for pact generation: the fault injector's recorded HTTP
 * exchanges, fetched from its control API and written as JSONL (the input of
 * fl_generator_add_events). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/generate.h"
#include "core/buf.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/text.h"

/* GET base+path: the JSON answer (new reference), or NULL with err set. */
static json_t *api_get(const char *base, const char *path, const struct fl_record_opts *ro,
		       char *err, size_t errlen)
{
	struct fl_buf url, auth;
	fl_buf_init(&url, 0);
	fl_buf_init(&auth, 0);
	fl_buf_printf(&url, "%s%s", base, path);
	const char *hdrs[1];
	struct fl_http_request rq = { .url = url.data,
				      .timeout_ms = 10000,
				      .headers = hdrs,
				      .tls = ro ? ro->tls : NULL };
	if (ro && ro->token && *ro->token) {
		fl_buf_printf(&auth, "Authorization: Bearer %s", ro->token);
		hdrs[0] = auth.data;
		rq.nheaders = 1;
	}
	struct fl_http_response *r = NULL;
	json_t *out = NULL;
	int rc = fl_http_fetch(&rq, &r);
	if (rc || !r)
		snprintf(err, errlen, "GET %s: %s", url.data, fl_strerror(rc));
	else if (r->err)
		snprintf(err, errlen, "GET %s: %s", url.data, r->errmsg);
	else if (r->status != 200)
		snprintf(err, errlen, "GET %s answered %ld: %.200s", url.data, r->status,
			 r->body.data ? r->body.data : "");
	else if (!r->json)
		snprintf(err, errlen, "GET %s: the answer is not JSON", url.data);
	else
		out = json_incref(r->json);
	fl_http_response_free(r);
	fl_buf_free(&url);
	fl_buf_free(&auth);
	return out;
}

/* Write link's http_exchange events to out; count them in *written. */
static int record_link(const char *proxy, const char *link, const struct fl_record_opts *ro,
		       FILE *out, size_t *written, char *err, size_t errlen)
{
	struct fl_buf path;
	fl_buf_init(&path, 0);
	fl_buf_puts(&path, "/proxies/");
	fl_text_pct_encode(&path, link, strlen(link), FL_PCT_UNRESERVED);
	fl_buf_puts(&path, "/events?since=0&limit=1000000");
	json_t *evs = api_get(proxy, path.data, ro, err, errlen);
	fl_buf_free(&path);
	if (!json_is_array(evs)) {
		if (evs)
			snprintf(err, errlen, "events: not a list");
		json_decref(evs);
		return FL_EPROTO;
	}
	size_t k;
	json_t *ev;
	json_array_foreach(evs, k, ev) {
		if (strcmp(fl_json_str(ev, "event", ""), "http_exchange"))
			continue;
		if (!json_object_get(ev, "link"))
			json_object_set_new(ev, "link", json_string(link));
		char *line = json_dumps(ev, JSON_COMPACT);
		if (line) {
			fprintf(out, "%s\n", line);
			(*written)++;
		}
		free(line);
	}
	json_decref(evs);
	return 0;
}

int fl_contract_record(const char *proxy, const char *const *links, size_t nlinks,
		       const struct fl_record_opts *ro, FILE *out, struct fl_record_stats *st,
		       char *err, size_t errlen)
{
	json_t *all = NULL;
	int rc = 0;
	memset(st, 0, sizeof(*st));
	if (!nlinks) {
		if (!(all = api_get(proxy, "/proxies", ro, err, errlen)))
			return FL_EPROTO;
		const char *k;
		json_t *v;
		json_object_foreach(all, k, v) {
			if ((rc = record_link(proxy, k, ro, out, &st->exchanges, err, errlen)) < 0)
				break;
			st->links++;
		}
	}
	for (size_t i = 0; i < nlinks && rc == 0; i++) {
		rc = record_link(proxy, links[i], ro, out, &st->exchanges, err, errlen);
		st->links += rc == 0;
	}
	json_decref(all);
	return rc;
}
