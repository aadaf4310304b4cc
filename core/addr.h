/* Network addresses, one way each: "host:port" parsing and the loopback
 * test, shared by the CLI, the fault injector, the HTTP server and the
 * reference services. */
#ifndef FL_CORE_ADDR_H
#define FL_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Split "host:port", "[v6]:port" or ":port" (empty host) into host (a bare
 * name or literal, no brackets; NUL-terminated in hostlen bytes) and port
 * (0 to 65535, decimal digits only). `addr` is borrowed. Returns 0, or
 * FL_EINVAL when addr is NULL, has no port, a bad port, an IPv6 literal
 * without brackets, or a host that does not fit. */
int fl_addr_split(const char *addr, char *host, size_t hostlen, int *port);

/* True for a loopback host name or literal: 127.0.0.0/8, ::1, "localhost".
 * `host` is a bare host (no port, no brackets), borrowed. */
bool fl_host_is_loopback(const char *host);

#endif
