/* Fuzz target: the proxy's control API, request -> proxy -> toxic. The input
 * is a sequence of requests separated by NUL bytes; each is a line
 * "METHOD /path[?query]" and the body after it. They run in order on one
 * engine through fl_proxy_api_handle (the handler under the HTTP server),
 * so a fuzzed toxic lands on a proxy an earlier request made. Every reply
 * must be a status in 200..599 with a JSON object or no body. */
#include <string.h>
#include <jansson.h>

#include "fault-injector/proxy.h"
#include "tests/fuzz/fuzz.h"

static void one(struct fl_proxy_engine *e, const char *req, size_t len)
{
	char line[1024], method[32];
	const char *nl = memchr(req, '\n', len);
	size_t ll = nl ? (size_t)(nl - req) : len;
	if (ll >= sizeof(line))
		return;
	memcpy(line, req, ll);
	line[ll] = 0;
	char *sp = strchr(line, ' ');
	if (!sp || (size_t)(sp - line) >= sizeof(method))
		return;
	memcpy(method, line, (size_t)(sp - line));
	method[sp - line] = 0;
	char *path = sp + 1;
	char *q = strchr(path, '?');
	if (q)
		*q++ = 0;
	const char *body = nl ? nl + 1 : NULL;
	size_t blen = nl ? len - ll - 1 : 0;
	int status = 0;
	json_t *reply = NULL;
	fl_proxy_api_handle(e, method, path, q, body, blen, &status, &reply);
	if (status < 200 || status > 599 || (reply && !json_is_object(reply) && !json_is_array(reply)))
		abort();
	json_decref(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct fl_proxy_opts o = { .seeded = true, .seed = 1 };
	struct fl_proxy_engine *e = fl_proxy_engine_new(&o, err, sizeof(err));
	if (!e)
		abort();
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
		one(e, p, n);
		p += n + 1;
	}
	fl_proxy_engine_free(e);
	return 0;
}
