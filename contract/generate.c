/* The generator: service names, exchanges grouped by consumer/provider and
 * request shape, the fault injector's recordings as input, and the pacts
 * written out (see generate.h). */
#include "contract/generate.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "contract/generate_int.h"
#include "contract/match_int.h"
#include "core/buf.h"
#include "core/errors.h"
#include "core/text.h"

struct name_map {
	char *addr;
	int port; /* -1: any (client side) */
	char *name;
};

struct fl_generator {
	struct fl_generate_opts o;
	struct name_map *maps;
	size_t nmaps;
	char **names; /* owned strings handed out by fl_generator_name */
	size_t nnames;
	struct gen_pair **pairs;
	size_t npairs;
	size_t exchanges;
	size_t warnings;
};

struct fl_generator *fl_generator_new(const struct fl_generate_opts *o, char *err, size_t errlen)
{
	struct fl_generator *g = calloc(1, sizeof(*g));
	if (!g) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	if (o)
		g->o = *o;
	if (!g->o.out_dir)
		g->o.out_dir = ".";
	if (g->o.version != 3)
		g->o.version = 4;
	return g;
}

void fl_generator_warn(struct fl_generator *g, const char *fmt, ...)
{
	va_list ap;
	g->warnings++;
	if (g->warnings > 50 || g->o.quiet)
		return;
	va_start(ap, fmt);
	fputs("faultline contract generate: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (g->warnings == 50)
		fputs("faultline contract generate: (further warnings are counted, not shown)\n",
		      stderr);
}

int fl_generator_map(struct fl_generator *g, const char *spec, char *err, size_t errlen)
{
	const char *eq = strrchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return fl_err_set(err, errlen, FL_EINVAL, "--map '%s': expected ADDR:PORT=SERVICE",
				  spec);
	char left[256];
	snprintf(left, sizeof(left), "%.*s", (int)(eq - spec), spec);
	char *addr = left, *port = NULL;
	if (left[0] == '[') {
		char *rb = strchr(left, ']');
		if (!rb)
			return fl_err_set(err, errlen, FL_EINVAL, "--map '%s': unclosed '['", spec);
		*rb = '\0';
		addr = left + 1;
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		char *colon = strrchr(left, ':');
		if (colon && strchr(left, ':') == colon) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	int p = -1;
	if (port && strcmp(port, "*")) {
		char *end;
		long v = strtol(port, &end, 10);
		if (*end || v < 0 || v > 65535)
			return fl_err_set(err, errlen, FL_EINVAL, "--map '%s': bad port '%s'", spec,
					  port);
		p = (int)v;
	}
	if (!strcmp(addr, "localhost"))
		addr = "127.0.0.1";
	struct name_map *v = realloc(g->maps, (g->nmaps + 1) * sizeof(*v));
	if (!v)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
	g->maps = v;
	v[g->nmaps].addr = strdup(addr);
	v[g->nmaps].port = p;
	v[g->nmaps].name = strdup(eq + 1);
	g->nmaps++;
	return 0;
}

static const char *keep_name(struct fl_generator *g, const char *s)
{
	for (size_t i = 0; i < g->nnames; i++)
		if (!strcmp(g->names[i], s))
			return g->names[i];
	char **v = realloc(g->names, (g->nnames + 1) * sizeof(*v));
	if (!v)
		return "unknown";
	g->names = v;
	v[g->nnames] = strdup(s);
	return v[g->nnames] ? v[g->nnames++] : "unknown";
}

const char *fl_generator_name(struct fl_generator *g, const char *addr, int port, int server)
{
	for (size_t i = 0; i < g->nmaps; i++) {
		const struct name_map *m = &g->maps[i];
		if (strcmp(m->addr, addr) && strcmp(m->addr, "*"))
			continue;
		if (server ? m->port == port : m->port == -1)
			return m->name;
	}
	char buf[128];
	if (server && g->o.only_mapped)
		return NULL;
	if (server)
		snprintf(buf, sizeof(buf), strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, port);
	else
		snprintf(buf, sizeof(buf), "%s", addr);
	return keep_name(g, buf);
}

/* --- grouping ----------------------------------------------------------------- */

static struct gen_pair *pair_for(struct fl_generator *g, const char *consumer, const char *provider)
{
	for (size_t i = 0; i < g->npairs; i++)
		if (!strcmp(g->pairs[i]->consumer, consumer) &&
		    !strcmp(g->pairs[i]->provider, provider))
			return g->pairs[i];
	struct gen_pair **v = realloc(g->pairs, (g->npairs + 1) * sizeof(*v));
	if (!v)
		return NULL;
	g->pairs = v;
	struct gen_pair *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->consumer = strdup(consumer);
	p->provider = strdup(provider);
	v[g->npairs++] = p;
	return p;
}

static const char *header(const struct fl_http_pair *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].name && !strcasecmp(h[i].name, name))
			return h[i].value;
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object o, sorted, joined by sep, appended to b. */
static int put_sorted_keys(struct fl_buf *b, const json_t *o, const char *sep)
{
	size_t n = json_object_size(o), k = 0;
	const char **keys = calloc(n + 1, sizeof(*keys));
	if (!keys)
		return FL_ENOMEM;
	const char *key;
	json_t *x;
	json_object_foreach((json_t *)o, key, x)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fl_buf_printf(b, "%s%s", i ? sep : "", keys[i]);
	free(keys);
	return rc;
}

int fl_generator_add_exchange(struct fl_generator *g, const struct fl_exchange *x)
{
	g->exchanges++;
	struct gen_pair *p = pair_for(g, x->consumer ? x->consumer : "consumer",
				      x->provider ? x->provider : "provider");
	if (!p)
		return FL_ENOMEM;
	const char *target = x->target && *x->target ? x->target : "/";
	/* absolute-form targets (through a forward proxy): keep the path */
	if (!strncmp(target, "http://", 7) || !strncmp(target, "https://", 8)) {
		const char *slash = strchr(strstr(target, "//") + 2, '/');
		target = slash ? slash : "/";
	}
	size_t plen = strcspn(target, "?#");
	char *path = fl_text_pct_decode(target, plen, true, NULL);
	json_t *query = fl_pact_query_parse(target[plen] == '?' ? target + plen + 1 : "");
	if (!path || !query) {
		free(path);
		json_decref(query);
		return FL_ENOMEM;
	}
	char *templ, *regex;
	fl_gen_path_template(path, &templ, &regex);
	/* shape key: method, template, sorted query names, status */
	struct fl_buf key;
	fl_buf_init(&key, 0);
	char method[32];
	snprintf(method, sizeof(method), "%s", x->method ? x->method : "GET");
	for (char *m = method; *m; m++)
		*m = (char)toupper((unsigned char)*m);
	fl_buf_printf(&key, "%s %s ?", method, templ);
	put_sorted_keys(&key, query, "&");
	fl_buf_printf(&key, " %03d", x->status);
	uint32_t h = fl_text_hash(key.data) & 1023;
	struct gen_shape *s = p->hash[h];
	while (s && strcmp(s->key, key.data))
		s = s->hnext;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || (p->nshapes == p->cap &&
			   !(p->shapes = realloc(p->shapes, (p->cap = p->cap ? p->cap * 2 : 16) *
								    sizeof(*p->shapes))))) {
			free(s);
			fl_buf_free(&key);
			free(templ);
			free(regex);
			free(path);
			json_decref(query);
			return FL_ENOMEM;
		}
		s->key = fl_buf_take(&key, NULL);
		s->method = strdup(method);
		s->templ = templ;
		s->path_regex = regex;
		s->status = x->status;
		s->hnext = p->hash[h];
		p->hash[h] = s;
		p->shapes[p->nshapes++] = s;
		templ = regex = NULL;
	}
	fl_buf_free(&key);
	free(templ);
	free(regex);
	s->count++;
	if (s->nsamples < GEN_SAMPLES) {
		struct gen_sample *sm = &s->samples[s->nsamples++];
		const char *rqct = header(x->req_headers, x->nreq_headers, "Content-Type");
		const char *rsct = header(x->resp_headers, x->nresp_headers, "Content-Type");
		sm->path = path;
		sm->query = query;
		sm->req_ct = rqct ? strdup(rqct) : NULL;
		sm->resp_ct = rsct ? strdup(rsct) : NULL;
		sm->req_headers = json_object();
		for (size_t i = 0; i < x->nreq_headers; i++) {
			const char *hn = x->req_headers[i].name;
			if (hn && x->req_headers[i].value && strcasecmp(hn, "Content-Type") &&
			    fl_gen_keep_request_header(hn))
				fl_pact_multimap_add(sm->req_headers, hn, x->req_headers[i].value);
		}
		if (x->req_body_len) {
			sm->req_body = malloc(x->req_body_len);
			if (sm->req_body) {
				memcpy(sm->req_body, x->req_body, x->req_body_len);
				sm->req_len = x->req_body_len;
			}
		}
		if (x->resp_body_len) {
			sm->resp_body = malloc(x->resp_body_len);
			if (sm->resp_body) {
				memcpy(sm->resp_body, x->resp_body, x->resp_body_len);
				sm->resp_len = x->resp_body_len;
			}
		}
		return 0;
	}
	free(path);
	json_decref(query);
	return 0;
}

/* --- output --------------------------------------------------------------- */

static int cmp_pair(const void *a, const void *b)
{
	const struct gen_pair *x = *(struct gen_pair *const *)a, *y = *(struct gen_pair *const *)b;
	int c = strcmp(x->consumer, y->consumer);
	return c ? c : strcmp(x->provider, y->provider);
}

static int cmp_shape(const void *a, const void *b)
{
	const struct gen_shape *x = *(struct gen_shape *const *)a,
			       *y = *(struct gen_shape *const *)b;
	int c = strcmp(x->templ, y->templ);
	if (!c)
		c = strcmp(x->method, y->method);
	if (!c)
		c = x->status - y->status;
	return c ? c : strcmp(x->key, y->key);
}

/* --- literal path segments that vary ------------------------------------------------ */

/* Split a template or a path regex into its segments at '/' outside
 * bracket expressions. Returns the count (<= max); segments are malloc'd. */
static size_t split_segments(const char *s, char **out, size_t max)
{
	size_t n = 0;
	int depth = 0;
	const char *b = s;
	for (const char *p = s;; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth)
			depth--;
		if ((*p == '/' && !depth) || !*p) {
			if (n < max)
				out[n++] = strndup(b, (size_t)(p - b));
			if (!*p)
				break;
			b = p + 1;
		}
	}
	return n;
}

static void free_segments(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

/* The top-level keys of a JSON body (of the first element for arrays), as
 * a sorted "a,b,c" string; NULL when the body is not a JSON object/array. */
static char *body_keys(const char *data, size_t len)
{
	json_t *v = data && len ? json_loadb(data, len, JSON_DECODE_ANY, NULL) : NULL;
	json_t *o = json_is_array(v) ? json_array_get(v, 0) : v;
	char *out = NULL;
	if (json_is_object(o)) {
		struct fl_buf b;
		fl_buf_init(&b, 0);
		fl_buf_puts(&b, json_is_array(v) ? "[" : "{");
		put_sorted_keys(&b, o, ",");
		out = fl_buf_take(&b, NULL);
	} else if (json_is_array(v) && json_array_size(v) == 0) {
		out = strdup("[");
	}
	json_decref(v);
	return out;
}

static int same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Release what a sample holds (not the sample itself). */
static void sample_free(struct gen_sample *sm)
{
	free(sm->path);
	json_decref(sm->query);
	free(sm->req_ct);
	free(sm->resp_ct);
	json_decref(sm->req_headers);
	free(sm->req_body);
	free(sm->resp_body);
}

/* Two shapes that differ only in one literal path segment (not the first)
 * and answer with bodies of the same shape are one endpoint with a
 * parameter: merge b into a. Returns 1 when merged. */
static int try_merge(struct gen_shape *a, struct gen_shape *b)
{
	if (strcmp(a->method, b->method) || a->status != b->status)
		return 0;
	const char *qa = strrchr(a->key, '?'), *qb = strrchr(b->key, '?');
	if (!qa || !qb || strcmp(qa, qb))
		return 0;
	char *ta[64], *tb[64];
	size_t na = split_segments(a->templ, ta, 64), nb = split_segments(b->templ, tb, 64);
	int rc = 0;
	size_t diff = 0, pos = 0;
	if (na != nb || na < 3)
		goto out;
	for (size_t i = 0; i < na; i++) {
		if (strcmp(ta[i], tb[i])) {
			diff++;
			pos = i;
		}
	}
	/* a parameter made by an earlier merge absorbs more literals */
	if (diff != 1 || pos < 2 || (ta[pos][0] == '{' && tb[pos][0] == '{'))
		goto out;
	if ((ta[pos][0] == '{' && strcmp(a->path_regex ? a->path_regex : "", "") == 0) ||
	    (tb[pos][0] == '{' && !b->path_regex))
		goto out;
	{
		char *ka = body_keys(a->samples[0].resp_body, a->samples[0].resp_len);
		char *kb = body_keys(b->samples[0].resp_body, b->samples[0].resp_len);
		char *ra = body_keys(a->samples[0].req_body, a->samples[0].req_len);
		char *rb = body_keys(b->samples[0].req_body, b->samples[0].req_len);
		int compatible = ka && kb && same_text(ka, kb) && same_text(ra, rb) &&
				 same_text(a->samples[0].resp_ct, b->samples[0].resp_ct);
		free(ka);
		free(kb);
		free(ra);
		free(rb);
		if (!compatible)
			goto out;
	}
	/* the new template and regex: the segment becomes {name} / [^/]+ */
	char *ra[64];
	size_t nr = 0;
	if (a->path_regex)
		nr = split_segments(a->path_regex, ra, 64);
	struct fl_buf t, r;
	fl_buf_init(&t, 0);
	fl_buf_init(&r, 0);
	const char *prev = ta[pos - 1];
	int named = prev[0] && prev[0] != '{' && strlen(prev) < 40;
	for (size_t i = 0; i < na; i++) {
		if (i) {
			fl_buf_puts(&t, "/");
			fl_buf_puts(&r, "/");
		}
		if (i == pos) {
			if (ta[pos][0] == '{')
				fl_buf_puts(&t, ta[pos]);
			else if (tb[pos][0] == '{')
				fl_buf_puts(&t, tb[pos]);
			else if (named)
				fl_buf_printf(&t, "{%s}", prev);
			else
				fl_buf_puts(&t, "{param}");
			fl_buf_puts(&r, "[^/]+");
		} else {
			fl_buf_puts(&t, ta[i]);
			if (nr == na) {
				fl_buf_puts(&r, ra[i]);
			} else {
				for (const char *c = ta[i]; *c; c++) {
					if (strchr(".[]{}()*+?^$|\\", *c))
						fl_buf_puts(&r, "\\");
					fl_buf_append(&r, c, 1);
				}
			}
		}
	}
	free_segments(ra, nr);
	free(a->templ);
	free(a->path_regex);
	a->templ = fl_buf_take(&t, NULL);
	a->path_regex = fl_buf_take(&r, NULL);
	struct fl_buf k;
	fl_buf_init(&k, 0);
	fl_buf_printf(&k, "%s %s %s", a->method, a->templ, qa);
	free(a->key);
	a->key = fl_buf_take(&k, NULL);
	a->count += b->count;
	for (size_t i = 0; i < b->nsamples; i++) {
		if (a->nsamples < GEN_SAMPLES) {
			a->samples[a->nsamples++] = b->samples[i];
		} else {
			sample_free(&b->samples[i]);
		}
	}
	b->nsamples = 0;
	rc = 1;
out:
	free_segments(ta, na);
	free_segments(tb, nb);
	return rc;
}

static void free_shape(struct gen_shape *s);

static void merge_varying(struct gen_pair *p)
{
	for (int again = 1; again;) {
		again = 0;
		for (size_t i = 0; i < p->nshapes && !again; i++) {
			for (size_t j = i + 1; j < p->nshapes && !again; j++) {
				if (!try_merge(p->shapes[i], p->shapes[j]))
					continue;
				free_shape(p->shapes[j]);
				memmove(&p->shapes[j], &p->shapes[j + 1],
					(p->nshapes - j - 1) * sizeof(*p->shapes));
				p->nshapes--;
				again = 1;
			}
		}
	}
}

size_t fl_generator_build(struct fl_generator *g, struct fl_pact ***out)
{
	*out = NULL;
	if (!g->npairs)
		return 0;
	qsort(g->pairs, g->npairs, sizeof(*g->pairs), cmp_pair);
	struct fl_pact **v = calloc(g->npairs, sizeof(*v));
	if (!v)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < g->npairs; i++) {
		struct gen_pair *p = g->pairs[i];
		struct fl_pact *pact = fl_pact_new(p->consumer, p->provider);
		if (!pact)
			continue;
		pact->spec_major = g->o.version;
		json_object_set_new(pact->metadata, "faultline",
				    json_pack("{s:s,s:s}", "version", FL_VERSION, "generatedFrom",
					      "recorded traffic"));
		qsort(p->shapes, p->nshapes, sizeof(*p->shapes), cmp_shape);
		merge_varying(p);
		/* keys changed and shapes went away: index them again */
		memset(p->hash, 0, sizeof(p->hash));
		for (size_t k = 0; k < p->nshapes; k++) {
			uint32_t h = fl_text_hash(p->shapes[k]->key) & 1023;
			p->shapes[k]->hnext = p->hash[h];
			p->hash[h] = p->shapes[k];
		}
		qsort(p->shapes, p->nshapes, sizeof(*p->shapes), cmp_shape);
		for (size_t k = 0; k < p->nshapes; k++) {
			struct fl_pact_interaction *it = fl_pact_add_interaction(pact);
			if (!it)
				break;
			fl_gen_build_interaction(p->shapes[k], it);
			/* descriptions must be unique within a pact */
			for (size_t j = 0; j < k; j++) {
				if (!strcmp(pact->interactions[j].description, it->description)) {
					struct fl_buf b;
					fl_buf_init(&b, 0);
					fl_buf_printf(&b, "%s (%zu)", it->description, k + 1);
					free(it->description);
					it->description = fl_buf_take(&b, NULL);
					break;
				}
			}
		}
		v[n++] = pact;
	}
	*out = v;
	return n;
}

static void safe_name(struct fl_buf *b, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		fl_buf_append(b,
			      isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' ? &c
											    : "_",
			      1);
	}
}

static int mkdirs(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *q = p + 1; *q; q++) {
		if (*q == '/') {
			*q = '\0';
			mkdir(p, 0755);
			*q = '/';
		}
	}
	int rc = mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

int fl_generator_write(struct fl_generator *g, struct fl_generate_stats *st, char *err,
		       size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->exchanges = g->exchanges;
	st->warnings = g->warnings;
	if (mkdirs(g->o.out_dir))
		return fl_err_set(err, errlen, fl_err_from_errno(errno), "%s: %s", g->o.out_dir,
				  strerror(errno));
	struct fl_pact **pacts;
	size_t n = fl_generator_build(g, &pacts);
	int rc = 0;
	st->files = calloc(n + 1, sizeof(*st->files));
	for (size_t i = 0; i < n; i++) {
		struct fl_buf path;
		fl_buf_init(&path, 0);
		fl_buf_printf(&path, "%s/", g->o.out_dir);
		safe_name(&path, pacts[i]->consumer);
		fl_buf_puts(&path, "-");
		safe_name(&path, pacts[i]->provider);
		fl_buf_puts(&path, ".json");
		if (!rc)
			rc = fl_pact_save(pacts[i], path.data, g->o.version, err, errlen);
		if (!rc) {
			st->interactions += pacts[i]->ninteractions;
			st->pacts++;
			if (st->files)
				st->files[st->nfiles++] = fl_buf_take(&path, NULL);
		}
		fl_buf_free(&path);
		fl_pact_free(pacts[i]);
	}
	free(pacts);
	if (!rc && !n)
		fl_generator_warn(g, "no HTTP exchanges found: nothing written");
	st->warnings = g->warnings;
	return rc;
}

void fl_generate_stats_free(struct fl_generate_stats *st)
{
	for (size_t i = 0; i < st->nfiles; i++)
		free(st->files[i]);
	free(st->files);
	memset(st, 0, sizeof(*st));
}

static void free_shape(struct gen_shape *s)
{
	for (size_t j = 0; j < s->nsamples; j++)
		sample_free(&s->samples[j]);
	free(s->key);
	free(s->method);
	free(s->templ);
	free(s->path_regex);
	free(s);
}

void fl_generator_free(struct fl_generator *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nmaps; i++) {
		free(g->maps[i].addr);
		free(g->maps[i].name);
	}
	free(g->maps);
	for (size_t i = 0; i < g->nnames; i++)
		free(g->names[i]);
	free(g->names);
	for (size_t i = 0; i < g->npairs; i++) {
		struct gen_pair *p = g->pairs[i];
		for (size_t k = 0; k < p->nshapes; k++)
			free_shape(p->shapes[k]);
		free(p->shapes);
		free(p->consumer);
		free(p->provider);
		free(p);
	}
	free(g->pairs);
	free(g);
}
