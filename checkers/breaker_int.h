/* Breaker checker internals shared between its files. */
#ifndef FL_CHECKERS_BREAKER_INT_H
#define FL_CHECKERS_BREAKER_INT_H

#include "checkers/check.h"

/* C8: the breaker's recorded outcomes against the proxy's exchanges on its
 * link (bid: the breaker's interned name or -1 for any; link: the link's
 * interned name). h, c and r are borrowed. */
void fl_breaker_check_wire(struct fl_chk_history *h, const struct fl_breaker_config *c, int32_t bid,
			   int32_t link, struct fl_check_result *r);

/* An exchange the proxy recorded for a request that never reached the
 * downstream: sent on a kept-alive connection the downstream had already
 * closed (the client then resends it on a new connection: one call, one
 * exchange that counts). h and x borrowed. */
bool fl_breaker_exchange_unsent(struct fl_chk_history *h, const struct fl_chk_exchange *x);

/* Exchange j (of h's sorted exchanges) is an HTTP client's resend of the
 * previous request: the same method and path on the link, sent within tol
 * ns after an exchange that gave the caller no answer (none came, or the
 * proxy dropped it) ended. libcurl and faultline's client resend a request
 * once on a new connection when a kept-alive one failed before any answer:
 * one call, two exchanges; the resend is not another call. */
bool fl_breaker_exchange_resend(struct fl_chk_history *h, size_t j, int64_t tol);

#endif
