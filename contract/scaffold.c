/* Scaffolding Lua contract tests from a pact (see scaffold.h). */
#include "contract/scaffold.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/match_int.h"
#include "core/buf.h"
#include "core/errors.h"
#include "core/text.h"

/* A Lua string literal for s: short quoted when simple, long brackets otherwise. */
static void lua_str(struct fl_buf *b, const char *s)
{
	bool simple = strlen(s) < 100 && !strpbrk(s, "\"\\\n\r");
	if (simple) {
		fl_buf_printf(b, "\"%s\"", s);
		return;
	}
	int level = 0;
	char close[16];
	for (;;) {
		snprintf(close, sizeof(close), "]%.*s]", level, "==========");
		if (!strstr(s, close) || level >= 10)
			break;
		level++;
	}
	fl_buf_printf(b, "[%.*s[\n%s]%.*s]", level, "==========", s, level, "==========");
}

static void indent_json(struct fl_buf *b, const json_t *v, const char *pad)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!s)
		return;
	/* indent continuation lines so the block reads well inside the test */
	struct fl_buf t;
	fl_buf_init(&t, 0);
	fl_buf_puts(&t, pad);
	for (const char *p = s; *p; p++) {
		fl_buf_append(&t, p, 1);
		if (*p == '\n')
			fl_buf_puts(&t, pad);
	}
	fl_buf_puts(&t, "\n");
	fl_buf_puts(&t, pad);
	lua_str(b, t.data ? t.data : "");
	fl_buf_free(&t);
	free(s);
}

static void query_string(struct fl_buf *b, const json_t *q)
{
	const char *k;
	json_t *vals;
	int first = 1;
	json_object_foreach((json_t *)q, k, vals) {
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v) {
			const char *s = json_string_value(v) ? json_string_value(v) : "";
			fl_buf_printf(b, "%s%s=", first ? "?" : "&", k);
			fl_text_pct_encode(b, s, strlen(s), FL_PCT_UNRESERVED);
			first = 0;
		}
	}
}

static void interaction(struct fl_buf *b, const struct fl_pact_interaction *it)
{
	const struct fl_pact_request *rq = &it->request;
	fl_buf_puts(b, "\n  it(");
	lua_str(b, it->description ? it->description : "interaction");
	fl_buf_puts(b, ", function()\n");
	size_t i;
	json_t *s;
	json_array_foreach(it->states, i, s) {
		fl_buf_printf(b, "    -- given: %s", fl_json_str(s, "name", ""));
		json_t *params = json_object_get(s, "params");
		if (json_object_size(params)) {
			char *ps = json_dumps(params, JSON_COMPACT);
			fl_buf_printf(b, " %s", ps ? ps : "");
			free(ps);
		}
		fl_buf_puts(b, "\n");
	}
	if (json_array_size(it->states))
		fl_buf_puts(
			b,
			"    -- (set the provider up in this state first, e.g. with fl.http.post to a "
			"state endpoint)\n");
	if (it->pending)
		fl_buf_puts(
			b,
			"    -- pending in the pact: a failure here is not yet a broken contract\n");
	struct fl_buf url;
	fl_buf_init(&url, 0);
	fl_buf_puts(&url, rq->path ? rq->path : "/");
	query_string(&url, rq->query);
	fl_buf_printf(b, "    local r = fl.http.request(\"%s\", provider() .. ",
		      rq->method ? rq->method : "GET");
	lua_str(b, url.data);
	fl_buf_free(&url);
	bool has_headers = json_object_size(rq->headers) > 0;
	size_t blen = 0;
	char *body = fl_pact_body_bytes(&rq->body, &blen);
	if (has_headers || body) {
		fl_buf_puts(b, ", {\n");
		if (has_headers) {
			fl_buf_puts(b, "      headers = {");
			const char *k;
			json_t *vals;
			int first = 1;
			json_object_foreach(rq->headers, k, vals) {
				json_t *v;
				json_array_foreach(vals, i, v) {
					fl_buf_printf(b, "%s\"%s: ", first ? " " : ", ", k);
					for (const char *c = json_string_value(v); c && *c; c++) {
						if (*c == '"' || *c == '\\')
							fl_buf_puts(b, "\\");
						fl_buf_append(b, c, 1);
					}
					fl_buf_puts(b, "\"");
					first = 0;
				}
			}
			fl_buf_puts(b, " },\n");
		}
		if (body) {
			fl_buf_puts(b, "      body = ");
			if (rq->body.encoded || memchr(body, 0, blen))
				fl_buf_puts(b, "nil, -- binary body: see the pact");
			else
				lua_str(b, body);
			fl_buf_puts(b, ",\n");
		}
		fl_buf_puts(b, "    })\n");
	} else {
		fl_buf_puts(b, ")\n");
	}
	free(body);
	/* the expected response, matched with the pact's rules */
	json_t *exp = json_object();
	json_object_set_new(exp, "status", json_integer(it->response.status));
	if (json_object_size(it->response.headers)) {
		/* one value per header reads better as a plain string */
		json_t *h = json_object();
		const char *hk;
		json_t *hv;
		json_object_foreach(it->response.headers, hk, hv) {
			if (json_array_size(hv) == 1)
				json_object_set(h, hk, json_array_get(hv, 0));
			else
				json_object_set(h, hk, hv);
		}
		json_object_set_new(exp, "headers", h);
	}
	if (it->response.body.state == FL_PACT_BODY_PRESENT ||
	    it->response.body.state == FL_PACT_BODY_EMPTY) {
		json_object_set(exp, "body", it->response.body.value);
		if (it->response.body.content_type)
			json_object_set_new(exp, "contentType",
					    json_string(it->response.body.content_type));
	}
	if (json_object_size(it->response.rules)) {
		/* "combine": "AND" is the default: leave it out */
		json_t *rules = json_deep_copy(it->response.rules);
		const char *ck;
		json_t *cat;
		json_object_foreach(rules, ck, cat) {
			const char *pk;
			json_t *grp;
			if (json_object_get(cat, "matchers")) {
				if (!strcmp(fl_json_str(cat, "combine", ""), "AND"))
					json_object_del(cat, "combine");
				continue;
			}
			json_object_foreach(cat, pk, grp) {
				if (!strcmp(fl_json_str(grp, "combine", ""), "AND"))
					json_object_del(grp, "combine");
			}
		}
		json_object_set_new(exp, "matchingRules", rules);
	}
	fl_buf_puts(b, "    contract.check(r, ");
	indent_json(b, exp, "    ");
	fl_buf_puts(b, ")\n  end)\n");
	json_decref(exp);
}

int fl_scaffold_render(const struct fl_pact *p, const char *pact_path, const char *provider_url,
		       struct fl_buf *b)
{
	bool ref = provider_url && !strcmp(provider_url, "ref");
	fl_buf_printf(
		b,
		"-- Contract test: %s -> %s\n"
		"-- Scaffolded by `faultline contract scaffold` from %s.\n"
		"--\n"
		"-- Each test sends one request of the pact to the provider and checks the answer\n"
		"-- with fl.contract.check, which applies the pact's matching rules (types,\n"
		"-- regexes, formats) and fails naming the path and both values. Edit freely:\n"
		"-- set up provider states, tighten or loosen expectations, add plain expects.\n"
		"--\n"
		"-- Run: PROVIDER_URL=http://127.0.0.1:8080 faultline run THIS_FILE\n"
		"local fl = require \"faultline\"\n"
		"local contract = fl.contract\n"
		"\n",
		p->consumer, p->provider, pact_path ? pact_path : "a pact");
	if (ref)
		fl_buf_printf(
			b,
			"-- The provider: $PROVIDER_URL, else %s of the running reference system\n"
			"-- (faultline ref up); the tests are skipped when there is neither.\n"
			"local function provider()\n"
			"  if fl.env.PROVIDER_URL then return fl.env.PROVIDER_URL end\n"
			"  local ok, sys = pcall(fl.ref.system)\n"
			"  if not ok then\n"
			"    fl.skip(\"no provider: set PROVIDER_URL or start the reference system \" ..\n"
			"            \"(faultline ref up)\")\n"
			"  end\n"
			"  return sys:url(\"%s\")\n"
			"end\n\n"
			"describe(",
			p->provider, p->provider);
	else
		fl_buf_printf(b,
			      "local function provider()\n"
			      "  return fl.env.PROVIDER_URL or \"%s\"\n"
			      "end\n\n"
			      "describe(",
			      provider_url ? provider_url : "http://127.0.0.1:8080");
	char title[512];
	snprintf(title, sizeof(title), "contract %s -> %s", p->consumer, p->provider);
	lua_str(b, title);
	fl_buf_puts(b, ", { tags = { \"contract\" } }, function()\n");
	size_t http = 0;
	for (size_t i = 0; i < p->ninteractions; i++) {
		if (p->interactions[i].kind != FL_PACT_HTTP)
			continue;
		interaction(b, &p->interactions[i]);
		http++;
	}
	if (!http)
		fl_buf_puts(b,
			    "  -- this pact has no HTTP interactions (messages are verified with\n"
			    "  -- `faultline contract verify` through its message shim)\n");
	fl_buf_puts(b, "end)\n");
	return b->data ? 0 : FL_ENOMEM;
}

int fl_scaffold_write(const struct fl_pact *p, const char *pact_path, const char *provider_url,
		      const char *out_path, char *err, size_t errlen)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	int rc = fl_scaffold_render(p, pact_path, provider_url, &b);
	if (rc) {
		fl_buf_free(&b);
		return fl_err_set(err, errlen, rc, "%s: out of memory", out_path);
	}
	FILE *f = fopen(out_path, "w");
	if (!f) {
		int e = errno;
		fl_buf_free(&b);
		return fl_err_set(err, errlen, fl_err_from_errno(e), "%s: %s", out_path,
				  strerror(e));
	}
	bool ok = fwrite(b.data, 1, b.len, f) == b.len;
	ok = fclose(f) == 0 && ok;
	fl_buf_free(&b);
	if (!ok)
		return fl_err_set(err, errlen, FL_EIO, "%s: write failed", out_path);
	return 0;
}
