/* faultline error codes: every function that can fail returns 0 or a
 * negative FL_E* code. Codes that mirror an OS condition are the negative
 * errno; faultline's own start at -1000. Names and messages come from one
 * table (FL_ERRORS) so they cannot drift apart. */
#ifndef FL_CORE_ERRORS_H
#define FL_CORE_ERRORS_H

#include <errno.h>
#include <stddef.h>

/* X(NAME, value, message) */
#define FL_ERRORS(X)                                                                               \
	X(OK, 0, "success")                                                                        \
	X(EINVAL, -EINVAL, "invalid argument")                                                     \
	X(ENOMEM, -ENOMEM, "out of memory")                                                        \
	X(ENOENT, -ENOENT, "not found")                                                            \
	X(EEXIST, -EEXIST, "already exists")                                                       \
	X(EIO, -EIO, "input/output error")                                                         \
	X(EAGAIN, -EAGAIN, "resource temporarily unavailable")                                     \
	X(ETIMEDOUT, -ETIMEDOUT, "timed out")                                                      \
	X(ECONNREFUSED, -ECONNREFUSED, "connection refused")                                       \
	X(ECONNRESET, -ECONNRESET, "connection reset by peer")                                     \
	X(EADDRINUSE, -EADDRINUSE, "address already in use")                                       \
	X(EPROTO, -EPROTO, "protocol error")                                                       \
	X(E2BIG, -E2BIG, "too large")                                                              \
	X(ECANCELED, -ECANCELED, "canceled")                                                       \
	X(EPERM, -EPERM, "operation not permitted")                                                \
	X(EPARSE, -1000, "parse error")                                                            \
	X(ERESOLVE, -1001, "could not resolve host")                                               \
	X(EHTTP, -1002, "HTTP transfer failed")                                                    \
	X(ELUA, -1003, "Lua error")                                                                \
	X(ESTATE, -1004, "invalid state for this operation")                                       \
	X(EUNSUPPORTED, -1005, "unsupported")                                                      \
	X(EMISMATCH, -1006, "mismatch")                                                            \
	X(EDB, -1007, "database error")                                                            \
	X(EUNKNOWN, -1999, "unknown error")

enum fl_error {
#define FL_ERR_ENUM(name, value, msg) FL_##name = (value),
	FL_ERRORS(FL_ERR_ENUM)
#undef FL_ERR_ENUM
};

/* The message for an error code ("timed out"). Codes outside the table that
 * are negative errno values get strerror's text; anything else "unknown error".
 * Never NULL; the string is static. */
const char *fl_strerror(int code);

/* The symbolic name of an error code without the FL_ prefix ("ETIMEDOUT"),
 * or "EUNKNOWN". Never NULL; static. */
const char *fl_err_name(int code);

/* Map an errno value (positive) to an FL_E* code (negative). */
int fl_err_from_errno(int errnum);

/* Write "fmt...: strerror" style detail into err (size errlen) if err is not
 * NULL, and return code unchanged, so callers can `return fl_err_set(...)`. */
int fl_err_set(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
