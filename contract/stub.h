/* A provider stub answering from pacts, for consumer tests: each request is
 * matched against every HTTP interaction with the request rules (method,
 * path, query, the expected headers, body); the first interaction that
 * matches answers with its response (response generators applied). When
 * none matches the stub answers 500 with JSON naming the closest
 * interactions and their mismatches:
 *   {"error": "no interaction matches POST /x", "status": 500,
 *    "candidates": [{"description": .., "mismatches": [...]}]}
 * Runs on the caller's libevent loop (core/http_server.h). */
#ifndef FL_CONTRACT_STUB_H
#define FL_CONTRACT_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "contract/pact.h"

struct event_base;
struct fl_stub;

/* Start a stub on `addr` ("127.0.0.1:0" picks a port) serving the pacts
 * (borrowed: they must outlive the stub). NULL with the reason in err. */
struct fl_stub *fl_stub_new(struct event_base *base, struct fl_pact *const *pacts, size_t npacts,
			    const char *addr, uint64_t seed, char *err, size_t errlen);

/* "127.0.0.1:PORT" (borrowed) and the port. */
const char *fl_stub_addr(const struct fl_stub *s);
int fl_stub_port(const struct fl_stub *s);

/* Requests answered, and those that matched no interaction. */
size_t fl_stub_hits(const struct fl_stub *s);
size_t fl_stub_misses(const struct fl_stub *s);

/* Stop and free; NULL is a no-op. */
void fl_stub_free(struct fl_stub *s);

#endif
