/* The topology model: checking what a topology file evaluated to, the start
 * order (calls and after, declaration order breaking ties), and placeholder
 * expansion ({port}, {host}, {data}, {dir}, {link:X}, {url:X}). */
#include "launcher/launcher.h"
#include "launcher/launcher_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"

static const char *const service_keys[] = { "name",    "command", "args",  "dir",    "env", "ready",
					    "timeout", "calls",	  "after", "attach", NULL };

static json_t *find_service(const json_t *services, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s)
		if (strcmp(fl_json_str(s, "name", ""), name) == 0)
			return s;
	return NULL;
}

static int check_names(const char *file, const json_t *s, const char *key, const json_t *services,
		       char *err, size_t errlen)
{
	json_t *a = json_object_get(s, key);
	const char *me = fl_json_str(s, "name", "?");
	if (!a || (json_is_object(a) && json_object_size(a) == 0)) /* Lua's {} */
		return 0;
	if (!json_is_array(a))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "%s: service '%s': %s must be a list of service names", file, me,
				  key);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': %s[%zu] is not a name", file, me, key,
					  i + 1);
		if (!find_service(services, json_string_value(v)))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': %s names '%s', which is not a service "
					  "of the topology",
					  file, me, key, json_string_value(v));
		if (strcmp(json_string_value(v), me) == 0)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': %s names itself", file, me, key);
	}
	return 0;
}

static int check_strings(const char *file, const char *me, const char *key, const json_t *v,
			 bool array, char *err, size_t errlen)
{
	if (!v || (json_is_object(v) && json_object_size(v) == 0)) /* Lua's {} */
		return 0;
	if (array ? !json_is_array(v) : !json_is_object(v))
		return fl_err_set(err, errlen, FL_EINVAL, "%s: service '%s': %s must be %s", file,
				  me, key, array ? "a list of strings" : "a table of strings");
	const char *k;
	size_t i;
	json_t *x;
	if (array) {
		json_array_foreach(v, i, x)
			if (!json_is_string(x) && !json_is_number(x))
				return fl_err_set(err, errlen, FL_EINVAL,
						  "%s: service '%s': %s[%zu] is not a string", file,
						  me, key, i + 1);
	} else {
		json_object_foreach((json_t *)v, k, x)
			if (!json_is_string(x) && !json_is_number(x) && !json_is_boolean(x))
				return fl_err_set(err, errlen, FL_EINVAL,
						  "%s: service '%s': %s.%s is not a string", file,
						  me, key, k);
	}
	return 0;
}

static int check_ready(const char *file, const char *me, const json_t *r, char *err, size_t errlen)
{
	if (!r)
		return 0;
	int n = 0;
	if (!json_is_object(r))
		goto bad;
	if (json_object_get(r, "http")) {
		n++;
		if (!json_is_string(json_object_get(r, "http")))
			goto bad;
	}
	if (json_object_get(r, "cmd")) {
		n++;
		if (check_strings(file, me, "ready.cmd", json_object_get(r, "cmd"), true, err,
				  errlen) ||
		    json_array_size(json_object_get(r, "cmd")) == 0)
			goto bad;
	}
	if (json_object_get(r, "tcp"))
		n++;
	if (n == 1 && json_object_size(r) == 1)
		return 0;
bad:
	return fl_err_set(err, errlen, FL_EINVAL,
			  "%s: service '%s': ready must be one of { http = \"/path\" }, { cmd = { "
			  "... } }, { tcp = true }",
			  file, me);
}

int fl_launcher_model_check(const json_t *model, char *err, size_t errlen)
{
	const char *file = fl_json_str(model, "file", "topology");
	json_t *services = json_object_get(model, "services");
	if (!json_is_array(services) || json_array_size(services) == 0)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "%s: services must be a non-empty list of { name = ..., ... }",
				  file);
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s) {
		if (!json_is_object(s) || !json_is_string(json_object_get(s, "name")))
			return fl_err_set(err, errlen, FL_EINVAL, "%s: services[%zu] needs a name",
					  file, i + 1);
		const char *me = fl_json_str(s, "name", "");
		if (!*me ||
		    strspn(me, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
			       ".") != strlen(me) ||
		    strlen(me) > 48)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: services[%zu]: name '%s' must be 1-48 letters, "
					  "digits, '_', '-' or '.'",
					  file, i + 1, me);
		if (find_service(services, me) != s)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s' is declared twice", file, me);
		char e2[256];
		if (fl_json_only_keys(s, service_keys, e2, sizeof(e2)) != 0)
			return fl_err_set(err, errlen, FL_EINVAL, "%s: service '%s': %s", file, me,
					  e2);
		json_t *attach = json_object_get(s, "attach");
		if (attach) {
			if (!json_is_string(attach) ||
			    strncmp(json_string_value(attach), "http", 4) != 0)
				return fl_err_set(err, errlen, FL_EINVAL,
						  "%s: service '%s': attach must be an http:// URL",
						  file, me);
			if (json_object_get(s, "command"))
				return fl_err_set(err, errlen, FL_EINVAL,
						  "%s: service '%s': attach and command exclude "
						  "each other",
						  file, me);
		} else if (!json_is_string(json_object_get(s, "command")))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': needs command (or attach = URL)", file,
					  me);
		int rc;
		if ((rc = check_strings(file, me, "args", json_object_get(s, "args"), true, err,
					errlen)) ||
		    (rc = check_strings(file, me, "env", json_object_get(s, "env"), false, err,
					errlen)) ||
		    (rc = check_ready(file, me, json_object_get(s, "ready"), err, errlen)) ||
		    (rc = check_names(file, s, "calls", services, err, errlen)) ||
		    (rc = check_names(file, s, "after", services, err, errlen)))
			return rc;
		json_t *t = json_object_get(s, "timeout");
		if (t && (!json_is_number(t) || json_number_value(t) <= 0 ||
			  json_number_value(t) > 3600))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': timeout must be seconds in (0, 3600]",
					  file, me);
		if (json_object_get(s, "dir") && !json_is_string(json_object_get(s, "dir")))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': dir must be a string", file, me);
	}
	return 0;
}

/* Depth of s in the dependency graph (0: depends on nothing); -1 on a cycle. */
static int depth_of(const json_t *services, const json_t *s, int guard)
{
	if (guard > (int)json_array_size(services))
		return -1;
	int d = 0;
	static const char *const keys[] = { "calls", "after" };
	for (int k = 0; k < 2; k++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(s, keys[k]), i, v) {
			const json_t *dep = find_service(services, json_string_value(v));
			int x = dep ? depth_of(services, dep, guard + 1) : 0;
			if (x < 0)
				return -1;
			if (x + 1 > d)
				d = x + 1;
		}
	}
	return d;
}

json_t *fl_launcher_model_layers(const json_t *model, char *err, size_t errlen)
{
	json_t *services = json_object_get(model, "services");
	json_t *layers = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s) {
		int d = depth_of(services, s, 0);
		if (d < 0) {
			json_decref(layers);
			fl_err_set(err, errlen, FL_EINVAL,
				   "%s: service '%s' depends on itself through calls/after (a "
				   "cycle)",
				   fl_json_str(model, "file", "topology"),
				   fl_json_str(s, "name", "?"));
			return NULL;
		}
		while ((int)json_array_size(layers) <= d)
			json_array_append_new(layers, json_array());
		json_array_append_new(json_array_get(layers, (size_t)d),
				      json_string(fl_json_str(s, "name", "")));
	}
	return layers;
}

static bool calls_contains(const json_t *svc, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(svc, "calls"), i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

int fl_launcher_expand(const char *in, const struct fl_expand_ctx *c, const char *where, char *out,
		       size_t n, char *err, size_t errlen)
{
	size_t used = 0;
	const char *me = fl_json_str(c->service, "name", "?");
	for (const char *p = in; *p;) {
		char piece[512];
		const char *add = piece;
		if (p[0] == '{' && p[1] == '{') {
			add = "{";
			p += 2;
		} else if (p[0] == '}' && p[1] == '}') {
			add = "}";
			p += 2;
		} else if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close || close - p > 100)
				return fl_err_set(err, errlen, FL_EINVAL,
						  "%s: service '%s': %s: unclosed '{' in \"%s\"",
						  c->file, me, where, in);
			char name[112];
			snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
			p = close + 1;
			json_t *svc = NULL;
			if (strcmp(name, "port") == 0)
				snprintf(piece, sizeof(piece), "%lld",
					 (long long)fl_json_int(c->state, "port", 0));
			else if (strcmp(name, "host") == 0)
				snprintf(piece, sizeof(piece), "%s",
					 fl_json_str(c->state, "host", "127.0.0.1"));
			else if (strcmp(name, "data") == 0)
				add = c->data;
			else if (strcmp(name, "dir") == 0)
				add = c->dir;
			else if (strcmp(name, "seed") == 0)
				add = c->seed ? c->seed : "0";
			else if (strncmp(name, "link:", 5) == 0) {
				if (!find_service(c->services, name + 5))
					return fl_err_set(err, errlen, FL_EINVAL,
							  "%s: service '%s': %s: {%s} names no "
							  "service of the topology",
							  c->file, me, where, name);
				if (!calls_contains(c->service, name + 5))
					return fl_err_set(err, errlen, FL_EINVAL,
							  "%s: service '%s': %s: {%s}, but '%s' is "
							  "not in its calls (an edge needs a link; "
							  "add it to calls)",
							  c->file, me, where, name, name + 5);
				char lname[128];
				snprintf(lname, sizeof(lname), "%s->%s", me, name + 5);
				json_t *l = json_object_get(c->links, lname);
				if (!l && c->links)
					return fl_err_set(err, errlen, FL_ESTATE,
							  "%s: service '%s': no link %s", c->file,
							  me, lname);
				snprintf(piece, sizeof(piece), "http://%s",
					 l ? fl_json_str(l, "listen", "") : "0.0.0.0:0");
			} else if (strncmp(name, "url:", 4) == 0) {
				if (!(svc = find_service(c->services, name + 4)))
					return fl_err_set(err, errlen, FL_EINVAL,
							  "%s: service '%s': %s: {%s} names no "
							  "service of the topology",
							  c->file, me, where, name);
				json_t *st = json_object_get(c->states, name + 4);
				snprintf(piece, sizeof(piece), "%s",
					 st ? fl_json_str(st, "url", "") : "http://0.0.0.0:0");
			} else
				return fl_err_set(err, errlen, FL_EINVAL,
						  "%s: service '%s': %s: unknown placeholder {%s} "
						  "(known: {port} {host} {data} {dir} {seed} "
						  "{link:X} {url:X}; '{{' for a brace)",
						  c->file, me, where, name);
		} else {
			size_t k = strcspn(p, "{}");
			if (k == 0)
				k = 1;
			snprintf(piece, sizeof(piece), "%.*s",
				 (int)(k < sizeof(piece) - 1 ? k : sizeof(piece) - 1), p);
			p += strlen(piece);
		}
		size_t len = strlen(add);
		if (used + len + 1 > n)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "%s: service '%s': %s: longer than %zu bytes once "
					  "expanded",
					  c->file, me, where, n - 1);
		memcpy(out + used, add, len);
		used += len;
	}
	out[used] = 0;
	return 0;
}

void fl_launcher_env_name(const char *service, char *out, size_t n)
{
	size_t i = 0;
	for (const char *p = service; *p && i + 1 < n; p++)
		out[i++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	out[i] = 0;
}
