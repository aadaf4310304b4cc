/* Private to contract/: the HTTP/1.x side of capture reading. capture.c
 * reassembles TCP streams and hands each connection's bytes, in order and
 * per direction, to an fl_http_conn, which parses requests and responses
 * with http-parser and hands complete exchanges to the generator. */
#ifndef FL_CONTRACT_CAPTURE_INT_H
#define FL_CONTRACT_CAPTURE_INT_H

#include <stddef.h>

#include "contract/generate.h"

struct fl_http_conn;

/* A connection between `client` and `server` (names copied). */
struct fl_http_conn *fl_http_conn_new(struct fl_generator *g, const char *client,
				      const char *server);

/* In-order bytes from one side. */
void fl_http_conn_data(struct fl_http_conn *c, int from_client, const char *data, size_t len);

/* Bytes were lost on one side (a gap that never filled): stop parsing it. */
void fl_http_conn_gap(struct fl_http_conn *c, int from_client);

/* One side closed (FIN, RST or the end of the capture). */
void fl_http_conn_eof(struct fl_http_conn *c, int from_client);

/* Exchanges emitted so far on this connection. */
size_t fl_http_conn_exchanges(const struct fl_http_conn *c);

void fl_http_conn_free(struct fl_http_conn *c);

#endif
