/* The control API, independent of HTTP: Toxiproxy's routes, status codes,
 * JSON shapes and error strings, plus faultline's (/lease, events). Runs on
 * the loop thread; every operation is non-blocking. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "fault-injector/internal.h"

#define ERRLEN 512

struct reply {
	int status;
	json_t *body;
};

static void err_reply(struct reply *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_reply(struct reply *r, int status, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(r->body);
	r->status = status;
	r->body = json_pack("{s:s, s:i}", "error", msg, "status", status);
}

static void ok_reply(struct reply *r, int status, json_t *body)
{
	json_decref(r->body);
	r->status = status;
	r->body = body;
}

/* Parse a JSON object body; replies 400 and returns NULL when it is not. */
/* A string holding "\u0000" anywhere in v (names would be cut at it). */
static bool has_nul(const json_t *v, int depth)
{
	if (depth > 64)
		return false;
	if (json_is_string(v))
		return strlen(json_string_value(v)) != json_string_length(v);
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			if (has_nul(x, depth + 1))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (has_nul(x, depth + 1))
				return true;
	}
	return false;
}

static json_t *body_object(struct reply *r, const char *body, size_t len, bool allow_empty)
{
	char err[ERRLEN];
	if (!body || !len) {
		if (allow_empty)
			return json_object();
		err_reply(r, 400, "bad request body: empty body");
		return NULL;
	}
	json_t *j = fl_json_parse(body, len, err, sizeof(err));
	if (!j) {
		err_reply(r, 400, "bad request body: %s", err);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		err_reply(r, 400, "bad request body: expected a JSON object");
		return NULL;
	}
	if (has_nul(j, 0)) {
		json_decref(j);
		err_reply(r, 400, "bad request body: strings may not contain \\u0000");
		return NULL;
	}
	return j;
}

static int take_http_mode(const json_t *j, enum fl_http_mode *mode, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, "http");
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*mode = json_is_true(v) ? FL_HTTP_ON : FL_HTTP_OFF;
		return 0;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0) {
		*mode = FL_HTTP_AUTO;
		return 0;
	}
	return fl_err_set(err, errlen, FL_EINVAL, "field http: expected true, false or \"auto\"");
}

static const char *const proxy_keys[] = { "name",   "listen", "upstream",      "enabled", "http",
					  "ttl_ms", "toxics", "header_faults", NULL };

/* "header_faults": true lets the link's clients inject faults with
 * x-faultline-abort / x-faultline-delay request headers (off by default);
 * refused on a link listening beyond loopback while the agent has no token. */
static int take_header_faults(struct fl_link *l, const json_t *j, int *status, char *err,
			      size_t errlen)
{
	json_t *v = json_object_get(j, "header_faults");
	if (!v || json_is_null(v))
		return 0;
	*status = 400;
	if (!json_is_boolean(v))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: field header_faults: expected a boolean");
	bool was = l->header_faults;
	l->header_faults = json_is_true(v);
	if (l->header_faults && !fl_policy_header_faults(l)) {
		l->header_faults = was;
		*status = 403;
		return fl_err_set(
			err, errlen, FL_EPERM,
			"header_faults on a link listening beyond loopback needs an agent "
			"started with a token");
	}
	return 0;
}

/* Add the toxics array of a proxy object (populate / config file). */
static int add_toxics(struct fl_link *l, const json_t *arr, int *status, char *err, size_t errlen)
{
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		*status = 400;
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: field toxics: expected array");
	}
	size_t i;
	json_t *tj;
	json_array_foreach(arr, i, tj) {
		struct fl_toxic *t = fl_toxic_from_json(tj, status, err, errlen);
		if (!t)
			return FL_EINVAL;
		if (fl_link_find_toxic(l, t->name)) {
			fl_toxic_free(t);
			*status = 409;
			return fl_err_set(err, errlen, FL_EEXIST, "toxic already exists");
		}
		fl_link_add_toxic(l, t);
	}
	return 0;
}

/* Create a proxy from its JSON (POST /proxies, populate). */
static struct fl_link *proxy_create(struct fl_proxy_engine *e, const json_t *j, bool with_toxics,
				    int *status, char *err, size_t errlen)
{
	const char *name = NULL, *upstream = NULL, *listen = NULL;
	bool enabled = true;
	int64_t ttl = 0;
	enum fl_http_mode mode = FL_HTTP_AUTO;
	char e2[ERRLEN];
	*status = 400;
	if (!json_is_object(j)) {
		fl_err_set(err, errlen, FL_EINVAL, "bad request body: expected a JSON object");
		return NULL;
	}
	if (fl_json_only_keys(j, proxy_keys, e2, sizeof(e2)) ||
	    fl_json_take_str(j, "listen", false, &listen, e2, sizeof(e2)) ||
	    fl_json_take_bool(j, "enabled", false, &enabled, e2, sizeof(e2)) ||
	    fl_json_take_int(j, "ttl_ms", false, &ttl, e2, sizeof(e2)) ||
	    take_http_mode(j, &mode, e2, sizeof(e2))) {
		fl_err_set(err, errlen, FL_EINVAL, "bad request body: %s", e2);
		return NULL;
	}
	if (fl_json_take_str(j, "name", false, &name, e2, sizeof(e2)) ||
	    fl_json_take_str(j, "upstream", false, &upstream, e2, sizeof(e2))) {
		fl_err_set(err, errlen, FL_EINVAL, "bad request body: %s", e2);
		return NULL;
	}
	if (!name || !*name) {
		fl_err_set(err, errlen, FL_EINVAL, "missing required field: name");
		return NULL;
	}
	if (!upstream || !*upstream) {
		fl_err_set(err, errlen, FL_EINVAL, "missing required field: upstream");
		return NULL;
	}
	if (strchr(name, '/') || strlen(name) > 200) {
		fl_err_set(err, errlen, FL_EINVAL,
			   "bad request body: name must have at most 200 bytes and no '/'");
		return NULL;
	}
	struct fl_link *l = NULL;
	if (fl_link_create(e, name, listen, upstream, enabled, mode, &l, status, err, errlen))
		return NULL;
	if (take_header_faults(l, j, status, err, errlen)) {
		fl_link_delete(l);
		return NULL;
	}
	if (!enabled && ttl > 0) {
		l->disable_ttl_ms = ttl;
		l->enabled = true;
		fl_link_set_enabled(l, false, e2, sizeof(e2));
	}
	if (with_toxics && add_toxics(l, json_object_get(j, "toxics"), status, err, errlen)) {
		fl_link_delete(l);
		return NULL;
	}
	*status = 201;
	return l;
}

static void proxies_list(struct fl_proxy_engine *e, struct reply *r)
{
	json_t *o = json_object();
	for (struct fl_link *l = e->links; l; l = l->next)
		json_object_set_new(o, l->name, fl_link_to_json(l));
	ok_reply(r, 200, o);
}

static void proxies_create(struct fl_proxy_engine *e, struct reply *r, const char *body, size_t len)
{
	json_t *j = body_object(r, body, len, false);
	if (!j)
		return;
	char err[ERRLEN];
	int status;
	struct fl_link *l = proxy_create(e, j, true, &status, err, sizeof(err));
	json_decref(j);
	if (!l)
		err_reply(r, status, "%s", err);
	else
		ok_reply(r, 201, fl_link_to_json(l));
}

/* Populate: create or replace each proxy; an unchanged one is kept. */
static int populate(struct fl_proxy_engine *e, const json_t *arr, json_t *done, int *status,
		    char *err, size_t errlen)
{
	*status = 400;
	if (!json_is_array(arr))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: expected a JSON array of proxies");
	if (has_nul(arr, 0))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "bad request body: strings may not contain \\u0000");
	size_t i;
	json_t *pj;
	json_array_foreach(arr, i, pj) {
		const char *name = fl_json_str(pj, "name", NULL);
		struct fl_link *old = name ? fl_link_find(e, name) : NULL;
		if (old) {
			const char *listen = fl_json_str(pj, "listen", NULL);
			const char *up = fl_json_str(pj, "upstream", "");
			bool same = strcmp(up, old->upstream) == 0 &&
				    (!listen || strcmp(listen, old->listen) == 0);
			json_t *tx = json_object_get(pj, "toxics");
			if (same && (!tx || json_is_null(tx))) {
				char e2[ERRLEN];
				bool en = fl_json_bool(pj, "enabled", true);
				if (en != old->enabled &&
				    fl_link_set_enabled(old, en, e2, sizeof(e2))) {
					*status = 500;
					return fl_err_set(err, errlen, FL_EIO, "%s", e2);
				}
				json_array_append_new(done, fl_link_to_json(old));
				continue;
			}
			fl_link_delete(old);
		}
		struct fl_link *l = proxy_create(e, pj, true, status, err, errlen);
		if (!l)
			return FL_EINVAL;
		json_array_append_new(done, fl_link_to_json(l));
	}
	*status = 201;
	return 0;
}

int fl_proxy_engine_populate(struct fl_proxy_engine *e, const json_t *array, char *err,
			     size_t errlen)
{
	json_t *done = json_array();
	int status;
	int rc = populate(e, array, done, &status, err, errlen);
	json_decref(done);
	return rc;
}

static void populate_route(struct fl_proxy_engine *e, struct reply *r, const char *body, size_t len)
{
	char err[ERRLEN];
	if (!body || !len) {
		err_reply(r, 400, "bad request body: empty body");
		return;
	}
	json_t *j = fl_json_parse(body, len, err, sizeof(err));
	if (!j) {
		err_reply(r, 400, "bad request body: %s", err);
		return;
	}
	/* Toxiproxy clients send a bare array; accept {"proxies": [...]} too. */
	json_t *arr = json_is_object(j) ? json_object_get(j, "proxies") : j;
	json_t *done = json_array();
	int status;
	if (populate(e, arr, done, &status, err, sizeof(err))) {
		json_t *b = json_pack("{s:s, s:i, s:O}", "error", err, "status", status, "proxies",
				      done);
		ok_reply(r, status, b);
	} else {
		ok_reply(r, 201, json_pack("{s:O}", "proxies", done));
	}
	json_decref(done);
	json_decref(j);
}

static void proxy_update(struct fl_link *l, struct reply *r, const char *body, size_t len)
{
	json_t *j = body_object(r, body, len, true);
	if (!j)
		return;
	char e2[ERRLEN], err[ERRLEN];
	const char *listen = NULL, *upstream = NULL, *name = NULL;
	bool enabled = l->enabled;
	int64_t ttl = 0;
	enum fl_http_mode mode = l->http;
	if (fl_json_only_keys(j, proxy_keys, e2, sizeof(e2)) ||
	    fl_json_take_str(j, "name", false, &name, e2, sizeof(e2)) ||
	    fl_json_take_str(j, "listen", false, &listen, e2, sizeof(e2)) ||
	    fl_json_take_str(j, "upstream", false, &upstream, e2, sizeof(e2)) ||
	    fl_json_take_bool(j, "enabled", false, &enabled, e2, sizeof(e2)) ||
	    fl_json_take_int(j, "ttl_ms", false, &ttl, e2, sizeof(e2)) ||
	    take_http_mode(j, &mode, e2, sizeof(e2))) {
		err_reply(r, 400, "bad request body: %s", e2);
		goto out;
	}
	/* "toxics" is ignored here (Toxiproxy's Go client sends the whole proxy
	 * on Save); toxics change through /proxies/{p}/toxics. */
	int prc;
	if (upstream && (prc = fl_policy_upstream(l->e, upstream, err, sizeof(err)))) {
		err_reply(r, prc == FL_EPERM ? 403 : 400, "%s", err);
		goto out;
	}
	if (listen && *listen && (prc = fl_link_set_listen(l, listen, err, sizeof(err)))) {
		err_reply(r, prc == FL_EPERM ? 403 : 400, "%s", err);
		goto out;
	}
	int hst;
	if (take_header_faults(l, j, &hst, err, sizeof(err))) {
		err_reply(r, hst, "%s", err);
		goto out;
	}
	if (upstream && *upstream)
		fl_link_set_upstream(l, upstream);
	l->http = mode;
	if (!enabled)
		l->disable_ttl_ms = ttl > 0 ? ttl : 0;
	if (enabled != l->enabled && fl_link_set_enabled(l, enabled, err, sizeof(err))) {
		err_reply(r, 500, "%s", err);
		goto out;
	}
	ok_reply(r, 200, fl_link_to_json(l));
out:
	json_decref(j);
}

static void toxics_list(struct fl_link *l, struct reply *r)
{
	json_t *a = json_array();
	for (struct fl_toxic *t = l->toxics; t; t = t->next)
		json_array_append_new(a, fl_toxic_to_json(t));
	ok_reply(r, 200, a);
}

static void toxic_create(struct fl_link *l, struct reply *r, const char *body, size_t len)
{
	json_t *j = body_object(r, body, len, false);
	if (!j)
		return;
	char err[ERRLEN];
	int status;
	struct fl_toxic *t = fl_toxic_from_json(j, &status, err, sizeof(err));
	json_decref(j);
	if (!t) {
		err_reply(r, status, "%s", err);
		return;
	}
	if (fl_link_find_toxic(l, t->name)) {
		fl_toxic_free(t);
		err_reply(r, 409, "toxic already exists");
		return;
	}
	fl_link_add_toxic(l, t);
	ok_reply(r, 200, fl_toxic_to_json(t));
}

static void toxic_update(struct fl_link *l, struct fl_toxic *t, struct reply *r, const char *body,
			 size_t len)
{
	json_t *j = body_object(r, body, len, true);
	if (!j)
		return;
	char err[ERRLEN];
	int status;
	int rc = fl_toxic_update_json(t, j, &status, err, sizeof(err));
	json_decref(j);
	if (rc) {
		err_reply(r, status, "%s", err);
		return;
	}
	fl_link_arm_ttl(l, t);
	fl_events_emit(l, json_pack("{s:s, s:o}", "event", "toxic_updated", "toxic",
				    fl_toxic_to_json(t)));
	fl_link_toxics_changed(l);
	ok_reply(r, 200, fl_toxic_to_json(t));
}

static void lease_route(struct fl_proxy_engine *e, struct reply *r, const char *method,
			const char *query, const char *body, size_t len)
{
	char e2[ERRLEN];
	if (strcmp(method, "GET") == 0) {
		ok_reply(r, 200, fl_lease_json(e));
		return;
	}
	json_t *j = body_object(r, body, len, strcmp(method, "DELETE") == 0);
	if (!j)
		return;
	static const char *const keys[] = { "ttl_ms", "holder", NULL };
	const char *holder = "default";
	int64_t ttl = 0;
	if (query && strncmp(query, "holder=", 7) == 0)
		holder = query + 7;
	if (fl_json_only_keys(j, keys, e2, sizeof(e2)) ||
	    fl_json_take_str(j, "holder", false, &holder, e2, sizeof(e2)) ||
	    fl_json_take_int(j, "ttl_ms", strcmp(method, "POST") == 0, &ttl, e2, sizeof(e2))) {
		err_reply(r, 400, "%s", e2);
		goto out;
	}
	if (strcmp(method, "DELETE") == 0) {
		if (fl_lease_drop(e, holder))
			err_reply(r, 404, "lease not found");
		else
			ok_reply(r, 204, NULL);
		goto out;
	}
	if (ttl <= 0 || ttl > 86400000) {
		err_reply(r, 400, "field ttl_ms: must be between 1 and 86400000");
		goto out;
	}
	if (fl_lease_set(e, holder, ttl)) {
		err_reply(r, 500, "out of memory");
		goto out;
	}
	ok_reply(r, 200,
		 json_pack("{s:s, s:I, s:I}", "holder", holder, "ttl_ms", (json_int_t)ttl,
			   "expires_in_ms", (json_int_t)ttl));
out:
	json_decref(j);
}

static uint64_t query_u64(const char *query, const char *key)
{
	if (!query)
		return 0;
	size_t kl = strlen(key);
	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

/* Copy query parameter key (undecoded; event names need no decoding). */
static void query_str(const char *query, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t n = strcspn(v, "&");
			snprintf(out, outlen, "%.*s", (int)n, v);
			return;
		}
}

static bool is(const char *m, const char *want)
{
	return strcmp(m, want) == 0;
}

void fl_proxy_api_handle(struct fl_proxy_engine *e, const char *method, const char *path,
			 const char *query, const char *body, size_t len, int *status,
			 json_t **reply)
{
	struct reply r = { 404, NULL };
	char seg[4][256];
	int n = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p && n < 4) {
		const char *q = strchr(p, '/');
		size_t sl = q ? (size_t)(q - p) : strlen(p);
		if (sl >= sizeof(seg[0])) {
			n = 5;
			break;
		}
		memcpy(seg[n], p, sl);
		seg[n][sl] = 0;
		n++;
		p += sl;
		while (*p == '/')
			p++;
	}
	if (*p)
		n = 5;
	bool post = is(method, "POST"), get = is(method, "GET"), del = is(method, "DELETE");
	bool upd = post || is(method, "PATCH");
	bool bad_method = false;
	struct fl_link *l = NULL;
	if (n >= 2 && strcmp(seg[0], "proxies") == 0) {
		l = fl_link_find(e, seg[1]);
		if (!l) {
			err_reply(&r, 404, "proxy not found");
			goto out;
		}
	}
	if (n == 1 && is(seg[0], "proxies")) {
		if (get)
			proxies_list(e, &r);
		else if (post)
			proxies_create(e, &r, body, len);
		else
			bad_method = true;
	} else if (n == 1 && is(seg[0], "populate")) {
		if (post)
			populate_route(e, &r, body, len);
		else
			bad_method = true;
	} else if (n == 1 && is(seg[0], "reset")) {
		if (post) {
			fl_engine_heal_all(e);
			ok_reply(&r, 204, NULL);
		} else {
			bad_method = true;
		}
	} else if (n == 1 && is(seg[0], "version")) {
		if (get)
			ok_reply(&r, 200, json_pack("{s:s}", "version", FL_VERSION));
		else
			bad_method = true;
	} else if (n == 1 && is(seg[0], "lease")) {
		if (get || post || del)
			lease_route(e, &r, method, query, body, len);
		else
			bad_method = true;
	} else if (n == 2 && l) {
		if (get)
			ok_reply(&r, 200, fl_link_to_json(l));
		else if (upd)
			proxy_update(l, &r, body, len);
		else if (del) {
			fl_link_delete(l);
			ok_reply(&r, 204, NULL);
		} else
			bad_method = true;
	} else if (n == 3 && l && is(seg[2], "toxics")) {
		if (get)
			toxics_list(l, &r);
		else if (post)
			toxic_create(l, &r, body, len);
		else
			bad_method = true;
	} else if (n == 3 && l && is(seg[2], "events")) {
		if (get) {
			char kind[64] = "";
			query_str(query, "event", kind, sizeof(kind));
			ok_reply(&r, 200,
				 fl_events_list(l, query_u64(query, "since"),
						(size_t)query_u64(query, "limit"), kind));
		} else
			bad_method = true;
	} else if (n == 4 && l && is(seg[2], "toxics")) {
		struct fl_toxic *t = fl_link_find_toxic(l, seg[3]);
		if (!t)
			err_reply(&r, 404, "toxic not found");
		else if (get)
			ok_reply(&r, 200, fl_toxic_to_json(t));
		else if (upd)
			toxic_update(l, t, &r, body, len);
		else if (del) {
			fl_link_remove_toxic(l, t);
			ok_reply(&r, 204, NULL);
		} else
			bad_method = true;
	} else {
		err_reply(&r, 404, "not found: %s %s", method, path);
	}
	if (bad_method)
		err_reply(&r, 405, "method not allowed: %s %s", method, path);
out:
	*status = r.status;
	*reply = r.body;
}
