/* The /host JSON API:
 *   GET    /host                 {"faults", "leases", "table", "qdisc_handle", "netem",
 *                                 "allow_netns", "netns": the namespaces entered}
 *   GET    /host/faults          the faults, with remaining TTL
 *   POST   /host/faults          create (201 and the fault)
 *   DELETE /host/faults          heal every fault (204)
 *   GET    /host/faults/{id}     one fault
 *   DELETE /host/faults/{id}     heal it (204)
 * Errors are {"error": ..., "status": N}. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "hostfault/hostfault_int.h"

static void reply_err(int *status, json_t **reply, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply_err(int *status, json_t **reply, int code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*status = code;
	*reply = json_pack("{s:s, s:i}", "error", msg, "status", code);
}

static int http_status(int rc)
{
	switch (rc) {
	case FL_EINVAL: return 400;
	case FL_ENOENT: return 404;
	case FL_EPERM: return 403;
	case FL_EEXIST: return 409;
	case FL_E2BIG: return 429;
	case FL_EUNSUPPORTED: return 501;
	default: return 500;
	}
}

static void create(struct fl_hostfault *h, const char *body, size_t len, int *status,
		   json_t **reply)
{
	char err[600];
	if (!body || !len) {
		reply_err(status, reply, 400, "empty body: a fault spec is a JSON object");
		return;
	}
	json_t *spec = fl_json_parse(body, len, err, sizeof(err));
	if (!spec) {
		reply_err(status, reply, 400, "malformed JSON: %s", err);
		return;
	}
	json_t *fault = NULL;
	int rc = fl_hostfault_create(h, spec, &fault, err, sizeof(err));
	json_decref(spec);
	if (rc) {
		reply_err(status, reply, http_status(rc), "%s", err);
		return;
	}
	*status = 201;
	*reply = fault;
}

void fl_hostfault_api_handle(struct fl_hostfault *h, const char *method, const char *path,
			     const char *body, size_t len, int *status, json_t **reply)
{
	char err[600];
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool del = strcmp(method, "DELETE") == 0;
	*reply = NULL;
	if (strcmp(path, "/host") == 0 || strcmp(path, "/host/") == 0) {
		if (!get) {
			reply_err(status, reply, 405, "method not allowed: %s %s", method, path);
			return;
		}
		char handle[16];
		snprintf(handle, sizeof(handle), "%x:", h->qdisc_major);
		*status = 200;
		json_t *allow = json_array();
		if (h->allow_pid)
			json_array_append_new(allow, json_string("pid"));
		for (size_t i = 0; i < h->nallow_names; i++)
			json_array_append_new(allow, json_sprintf("name:%s", h->allow_names[i]));
		*reply = json_pack("{s:o, s:o, s:s, s:s, s:b, s:o, s:o}", "faults",
				   fl_hostfault_list(h), "leases", fl_hostfault_leases(h), "table",
				   h->table, "qdisc_handle", handle, "netem",
				   fl_hostfault_netem_available(), "allow_netns", allow, "netns",
				   fl_hf_ns_list(h));
		return;
	}
	if (strcmp(path, "/host/faults") == 0) {
		if (get) {
			*status = 200;
			*reply = fl_hostfault_list(h);
		} else if (strcmp(method, "POST") == 0) {
			create(h, body, len, status, reply);
		} else if (del) {
			int rc = fl_hostfault_heal_all(h, "api", err, sizeof(err));
			if (rc)
				reply_err(status, reply, 500, "%s", err);
			else
				*status = 204;
		} else {
			reply_err(status, reply, 405, "method not allowed: %s %s", method, path);
		}
		return;
	}
	if (strncmp(path, "/host/faults/", 13) == 0 && path[13] && !strchr(path + 13, '/')) {
		const char *id = path + 13;
		if (get) {
			json_t *f = fl_hostfault_get(h, id);
			if (f) {
				*status = 200;
				*reply = f;
			} else {
				reply_err(status, reply, 404, "no host fault '%.64s'", id);
			}
		} else if (del) {
			int rc = fl_hostfault_delete(h, id, err, sizeof(err));
			if (rc == FL_ENOENT)
				reply_err(status, reply, 404, "no host fault '%.64s'", id);
			else if (rc)
				reply_err(status, reply, 500, "%s", err);
			else
				*status = 204;
		} else {
			reply_err(status, reply, 405, "method not allowed: %s %s", method, path);
		}
		return;
	}
	reply_err(status, reply, 404, "no route: %s %.200s", method, path);
}

void fl_hostfault_api_observe_lease(struct fl_hostfault *h, const char *method, const char *query,
				    const char *body, size_t len)
{
	bool post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
	if (!post && !del)
		return;
	char err[200];
	json_t *j = body && len ? fl_json_parse(body, len, err, sizeof(err)) : NULL;
	/* only what the proxy accepts too: {"ttl_ms", "holder"} */
	static const char *const keys[] = { "ttl_ms", "holder", NULL };
	if (body && len && (!json_is_object(j) || fl_json_only_keys(j, keys, err, sizeof(err))))
		goto out;
	if (json_object_get(j, "holder") && !json_is_string(json_object_get(j, "holder")))
		goto out;
	const char *holder = "default";
	char qholder[256];
	if (query && strncmp(query, "holder=", 7) == 0) {
		snprintf(qholder, sizeof(qholder), "%.*s", (int)strcspn(query + 7, "&"), query + 7);
		holder = qholder;
	}
	holder = fl_json_str(j, "holder", holder);
	if (del) {
		fl_hostfault_lease_drop(h, holder);
	} else {
		json_t *ttl = json_object_get(j, "ttl_ms");
		if (json_is_integer(ttl))
			fl_hostfault_lease_set(h, holder, json_integer_value(ttl));
	}
out:
	json_decref(j);
}
