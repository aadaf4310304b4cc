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

/* Exchange i (of h's sorted exchanges) gave its caller no answer (none
 * came, or the proxy dropped it) and the HTTP client resent it at once: an
 * exchange with the same method and path on the link started within tol
 * ns after it ended. libcurl and faultline's client resend a request once
 * on a new connection when a kept-alive one failed before any answer: one
 * call, two exchanges, and the resend's answer is what the caller saw. */
bool fl_breaker_exchange_superseded(struct fl_chk_history *h, size_t i, int64_t tol);

#endif
