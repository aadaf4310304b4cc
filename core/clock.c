/* Monotonic and wall clocks. */
#include "core/clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

int64_t fl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t fl_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *fl_wall_iso(int64_t wall_ns, char *out, size_t outlen)
{
	time_t secs = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((wall_ns / 1000000) % 1000));
	return out;
}

char *fl_duration_str(int64_t ns, char *out, size_t outlen)
{
	if (ns < 1000000)
		snprintf(out, outlen, "%lld µs", (long long)(ns / 1000));
	else if (ns < 1000000000)
		snprintf(out, outlen, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(out, outlen, "%.2f s", (double)ns / 1e9);
	return out;
}

void fl_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
