/* Time: a monotonic clock for durations and ordering (nanoseconds since an
 * arbitrary origin, never going back), and wall time for humans and logs. */
#ifndef FL_CORE_CLOCK_H
#define FL_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t fl_mono_ns(void);

/* CLOCK_REALTIME in nanoseconds since the epoch. */
int64_t fl_wall_ns(void);

/* Format wall time ns as RFC 3339 UTC with milliseconds
 * ("2026-11-21T23:07:51.123Z") into out (at least 32 bytes). Returns out. */
char *fl_wall_iso(int64_t wall_ns, char *out, size_t outlen);

/* Format a duration in ns for people: "850 µs", "12.3 ms", "4.20 s". */
char *fl_duration_str(int64_t ns, char *out, size_t outlen);

/* Sleep for ns nanoseconds, resuming after signals. */
void fl_sleep_ns(int64_t ns);

#endif
