/* Network address helpers shared by the CLI, the fault injector and the
 * reference services. */
#ifndef FL_CORE_ADDR_H
#define FL_CORE_ADDR_H

#include <stdbool.h>

/* True for a loopback host name or literal: 127.0.0.0/8, ::1, "localhost".
 * `host` is a bare host (no port, no brackets), borrowed. */
bool fl_host_is_loopback(const char *host);

#endif
