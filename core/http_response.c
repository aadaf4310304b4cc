/* Building responses: header lines and body chunks from libcurl, the
 * finished transfer's status, timing and JSON, and the mapping of libcurl
 * failures to FL_E* codes with messages that name the address. */
#include "core/http_client_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/errors.h"

void fl_http_response_free(struct fl_http_response *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	free(r->req_body);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	fl_buf_free(&r->body);
	json_decref(r->json);
	free(r);
}

const char *fl_http_response_header(const struct fl_http_response *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void resp_clear_headers(struct fl_http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
}

static char *strndup_trim(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return strndup(s, n);
}

/* One header line from libcurl (status lines, "Name: value", the blank line). */
size_t fl_http_rx_header(char *p, size_t size, size_t n, void *ud)
{
	struct fl_http_rx *x = ud;
	struct fl_http_response *r = x->resp;
	size_t len = size * n;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a followed redirect) */
		resp_clear_headers(r);
		return len;
	}
	if (len && (p[0] == ' ' || p[0] == '\t') && r->nheaders) {
		/* obsolete line folding: continue the previous value */
		struct fl_http_header *h = &r->headers[r->nheaders - 1];
		char *more = strndup_trim(p, len);
		if (!more)
			return 0;
		size_t a = strlen(h->value), b = strlen(more);
		char *v = realloc(h->value, a + b + 2);
		if (!v) {
			free(more);
			return 0;
		}
		v[a] = ' ';
		memcpy(v + a + 1, more, b + 1);
		h->value = v;
		free(more);
		return len;
	}
	const char *colon = memchr(p, ':', len);
	if (!colon)
		return len; /* blank line ending the block */
	if (r->nheaders == x->hcap) {
		size_t cap = x->hcap ? x->hcap * 2 : 16;
		struct fl_http_header *h = realloc(r->headers, cap * sizeof(*h));
		if (!h)
			return 0;
		r->headers = h;
		x->hcap = cap;
	}
	char *name = strndup_trim(p, (size_t)(colon - p));
	char *value = strndup_trim(colon + 1, len - (size_t)(colon - p) - 1);
	if (!name || !value) {
		free(name);
		free(value);
		return 0;
	}
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = value;
	r->nheaders++;
	return len;
}

size_t fl_http_rx_body(char *p, size_t size, size_t n, void *ud)
{
	struct fl_http_rx *x = ud;
	size_t len = size * n;
	int rc = fl_buf_append(&x->resp->body, p, len);
	if (rc == FL_E2BIG) {
		x->too_big = true;
		return 0;
	}
	return rc == 0 ? len : 0;
}

bool fl_http_url_plausible(const char *url)
{
	size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
		      : strncasecmp(url, "https://", 8) == 0 ? 8
							     : 0;
	return skip && url[skip] && url[skip] != '/' && url[skip] != '?' && url[skip] != '#';
}

/* "host:port" of the URL for error messages; FL_EINVAL when it is not a URL
 * libcurl accepts. */
/* "host:port" of a URL (default port filled in), for messages. */
static int url_hostport(const char *url, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	int rc = FL_EINVAL;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		snprintf(out, outlen, "%s:%s", host, port);
		rc = 0;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static void set_msg(struct fl_http_response *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_msg(struct fl_http_response *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
}

static void fill_error(struct fl_http_rx *x, CURL *easy, CURLcode cc)
{
	struct fl_http_response *r = x->resp;
	char hostport[300];
	long oserr = 0;
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
	if (url_hostport(r->url, hostport, sizeof(hostport)) < 0)
		snprintf(hostport, sizeof(hostport), "%s", r->url);
	const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		if (oserr == ETIMEDOUT) {
			r->err = FL_ETIMEDOUT;
			set_msg(r, "connect to %s failed: %s", hostport, strerror((int)oserr));
		} else {
			/* refused, unreachable: the peer could not be reached */
			r->err = FL_ECONNREFUSED;
			set_msg(r, "connect to %s failed: %s", hostport,
				oserr ? strerror((int)oserr) : detail);
		}
		break;
	case CURLE_OPERATION_TIMEDOUT: {
		r->err = FL_ETIMEDOUT;
		curl_off_t t_conn = 0;
		curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &t_conn);
		long primary = 0;
		curl_easy_getinfo(easy, CURLINFO_PRIMARY_PORT, &primary);
		if (primary == 0 && t_conn == 0)
			set_msg(r, "connect to %s failed: timed out after %ld ms", hostport,
				x->connect_ms < x->timeout_ms ? x->connect_ms : x->timeout_ms);
		else
			set_msg(r, "%s %s: timed out after %ld ms (%s)", r->method, r->url,
				x->timeout_ms, detail);
		break;
	}
	case CURLE_COULDNT_RESOLVE_HOST:
		r->err = FL_ERESOLVE;
		set_msg(r, "%s %s: %s", r->method, r->url, detail);
		break;
	case CURLE_WRITE_ERROR:
		if (x->too_big) {
			r->err = FL_E2BIG;
			set_msg(r, "%s %s: response body larger than the %zu-byte limit", r->method,
				r->url, r->body.max);
			break;
		}
		r->err = FL_EHTTP;
		set_msg(r, "%s %s: %s", r->method, r->url, detail);
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		r->err = FL_ECONNRESET;
		set_msg(r, "%s %s: connection to %s lost: %s", r->method, r->url, hostport, detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
		r->err = FL_EHTTP;
		set_msg(r, "%s %s: TLS with %s failed: %s", r->method, r->url, hostport, detail);
		break;
	default:
		r->err = FL_EHTTP;
		set_msg(r, "%s %s: %s", r->method, r->url, detail);
		break;
	}
}

void fl_http_rx_finish(struct fl_http_rx *x, CURL *easy, CURLcode cc)
{
	struct fl_http_response *r = x->resp;
	curl_off_t t;
	char *ip = NULL;

	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK)
		r->t_total = (double)t / 1e6;
	if (curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK)
		r->t_connect = (double)t / 1e6;
	if (curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &t) == CURLE_OK)
		r->t_ttfb = (double)t / 1e6;
	if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
		snprintf(r->primary_ip, sizeof(r->primary_ip), "%s", ip);
	curl_easy_getinfo(easy, CURLINFO_PRIMARY_PORT, &r->primary_port);

	if (cc != CURLE_OK) {
		fill_error(x, easy, cc);
		r->status = 0;
		return;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body.len)
		r->json = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, NULL);
}
