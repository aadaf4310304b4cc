/* Private to core/http_client.c and core/http_response.c: receiving a
 * response (headers, capped body) and turning a finished libcurl transfer
 * into a struct fl_http_response. Not part of the core API. */
#ifndef FL_CORE_HTTP_CLIENT_INT_H
#define FL_CORE_HTTP_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

#include "core/http_client.h"

/* A response being received; resp is owned by whoever holds the rx. */
struct fl_http_rx {
	struct fl_http_response *resp;
	size_t hcap;		/* allocated header slots */
	bool too_big;		/* the body went over max_body */
	long connect_ms;	/* the timeouts in force, for messages */
	long timeout_ms;
	char errbuf[CURL_ERROR_SIZE];	/* CURLOPT_ERRORBUFFER */
};

/* CURLOPT_HEADERFUNCTION and CURLOPT_WRITEFUNCTION; the user data is a
 * struct fl_http_rx. Headers of an earlier response (100 Continue, a followed
 * redirect) are dropped when the next status line arrives. */
size_t fl_http_rx_header(char *p, size_t size, size_t n, void *rx);
size_t fl_http_rx_body(char *p, size_t size, size_t n, void *rx);

/* Fill timing, status and JSON, or err and errmsg, from the finished
 * transfer `easy` with result cc. */
void fl_http_rx_finish(struct fl_http_rx *rx, CURL *easy, CURLcode cc);

/* True when url is worth handing to libcurl (http:// or https:// and a host). */
bool fl_http_url_plausible(const char *url);

#endif
