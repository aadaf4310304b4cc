/* HTTP server routing: patterns of '/'-separated segments with "{name}"
 * captures and a final "*", tried in the order added; 404 when no pattern
 * matches the path, 405 (with Allow) when only other methods do. */
#include "core/http_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/errors.h"
#include "core/text.h"

void fl_httpd_route_free(struct fl_http_route *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->nsegs; i++)
		free(rt->segs[i]);
	free(rt->segs);
	free(rt->method);
	free(rt);
}

/* Split "/a/b/c" into its segments (pointers into the modified copy); at
 * most max segments (callers size segs by counting the slashes). */
static size_t split_path(char *p, char **segs, size_t max)
{
	size_t n = 0;
	if (*p == '/')
		p++;
	while (n < max) {
		segs[n++] = p;
		char *slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

int fl_http_server_route(struct fl_http_server *s, const char *method, const char *pattern,
			 fl_http_handler_fn fn, void *arg)
{
	if (!s || !method || !*method || !pattern || pattern[0] != '/' || !fn)
		return FL_EINVAL;
	struct fl_http_route *rt = calloc(1, sizeof(*rt));
	char *copy = strdup(pattern);
	size_t max = 1;
	for (const char *p = pattern; *p; p++)
		max += *p == '/';
	char **segs = calloc(max + 1, sizeof(char *));
	int rc = FL_ENOMEM;
	if (!rt || !copy || !segs)
		goto fail;
	rt->method = strdup(method);
	rt->segs = calloc(max, sizeof(char *));
	if (!rt->method || !rt->segs)
		goto fail;
	size_t n = split_path(copy, segs, max);
	rc = FL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		const char *sg = segs[i];
		size_t len = strlen(sg);
		if (strcmp(sg, "*") == 0) {
			if (i != n - 1)
				goto fail;
			rt->rest = true;
			break;
		}
		if (sg[0] == '{' && (len < 3 || sg[len - 1] != '}'))
			goto fail;
		rt->segs[rt->nsegs] = strdup(sg);
		if (!rt->segs[rt->nsegs]) {
			rc = FL_ENOMEM;
			goto fail;
		}
		rt->nsegs++;
	}
	rt->fn = fn;
	rt->arg = arg;
	*s->routes_tail = rt;
	s->routes_tail = &rt->next;
	free(copy);
	free(segs);
	return 0;
fail:
	fl_httpd_route_free(rt);
	free(copy);
	free(segs);
	return rc;
}

static bool route_matches_path(const struct fl_http_route *rt, char **segs, size_t n)
{
	if (rt->rest ? n < rt->nsegs : n != rt->nsegs)
		return false;
	for (size_t i = 0; i < rt->nsegs; i++)
		if (rt->segs[i][0] != '{' && strcmp(rt->segs[i], segs[i]) != 0)
			return false;
	return true;
}

static bool route_matches_method(const struct fl_http_route *rt, const char *method)
{
	return strcmp(rt->method, "*") == 0 || strcmp(rt->method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
}

char *fl_httpd_decode(const char *s)
{
	return fl_text_pct_decode(s, strlen(s), false, NULL);
}

/* Capture the route's parameters from the raw segments. */
static int req_capture(struct fl_http_req *r, const struct fl_http_route *rt, char **segs, size_t n)
{
	size_t want = rt->rest ? 1 : 0;
	for (size_t i = 0; i < rt->nsegs; i++)
		want += rt->segs[i][0] == '{';
	if (!want)
		return 0;
	r->params = calloc(want, sizeof(*r->params));
	if (!r->params)
		return FL_ENOMEM;
	for (size_t i = 0; i < rt->nsegs; i++) {
		const char *sg = rt->segs[i];
		if (sg[0] != '{')
			continue;
		struct fl_http_param *p = &r->params[r->nparams];
		p->name = strndup(sg + 1, strlen(sg) - 2);
		p->value = fl_httpd_decode(segs[i]);
		if (!p->name || !p->value) {
			free(p->name);
			free(p->value);
			return FL_ENOMEM;
		}
		r->nparams++;
	}
	if (rt->rest) {
		/* the rest of the raw segments, rejoined with '/', then decoded */
		struct fl_http_param *p = &r->params[r->nparams];
		struct fl_buf b;
		fl_buf_init(&b, 0);
		for (size_t i = rt->nsegs; i < n; i++) {
			if (i > rt->nsegs)
				fl_buf_puts(&b, "/");
			fl_buf_puts(&b, segs[i]);
		}
		p->name = strdup("*");
		p->value = fl_httpd_decode(b.data ? b.data : "");
		fl_buf_free(&b);
		if (!p->name || !p->value) {
			free(p->name);
			free(p->value);
			return FL_ENOMEM;
		}
		r->nparams++;
	}
	return 0;
}

void fl_httpd_route_request(struct fl_http_req *r)
{
	struct fl_http_server *s = r->s;
	const struct evhttp_uri *u = r->ev ? evhttp_request_get_evhttp_uri(r->ev) : NULL;
	const char *raw = u ? evhttp_uri_get_path(u) : NULL;
	char *copy = strdup(raw && *raw ? raw : "/");
	size_t max = 1;
	char **segs = NULL;
	if (!copy)
		goto nomem;
	for (const char *p = copy; *p; p++)
		max += *p == '/';
	segs = calloc(max, sizeof(char *));
	if (!segs)
		goto nomem;
	size_t n = split_path(copy, segs, max);

	struct fl_buf allow;
	fl_buf_init(&allow, 4096);
	for (struct fl_http_route *rt = s->routes; rt; rt = rt->next) {
		if (!route_matches_path(rt, segs, n))
			continue;
		if (!route_matches_method(rt, r->method)) {
			if (!allow.len || !strstr(allow.data, rt->method))
				fl_buf_printf(&allow, "%s%s", allow.len ? ", " : "", rt->method);
			continue;
		}
		if (req_capture(r, rt, segs, n) < 0) {
			fl_buf_free(&allow);
			goto nomem;
		}
		fl_buf_free(&allow);
		free(copy);
		free(segs);
		rt->fn(r, rt->arg);
		return;
	}
	if (allow.len) {
		fl_http_reply_header(r, "Allow", allow.data);
		fl_http_reply_error(r, 405, "method %s not allowed for %s (allowed: %s)", r->method,
				    r->path, allow.data);
	} else {
		fl_http_reply_error(r, 404, "no route for %s %s", r->method, r->path);
	}
	fl_buf_free(&allow);
	free(copy);
	free(segs);
	return;
nomem:
	free(copy);
	free(segs);
	fl_http_reply_error(r, 500, "out of memory");
}
