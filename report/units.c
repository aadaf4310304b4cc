/* Numbers in the units people read: "812 µs", "4.06 s", "2 min 03 s",
 * "1.23k". */
#include <math.h>
#include <stdio.h>

#include "report/report_int.h"

const char *fl_report_fmt_ns(double ns, char *buf, size_t len)
{
	double a = fabs(ns);
	if (a == 0)
		snprintf(buf, len, "0 s");
	else if (a < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (a < 1e6)
		snprintf(buf, len, "%.3g µs", ns / 1e3);
	else if (a < 1e9)
		snprintf(buf, len, "%.3g ms", ns / 1e6);
	else if (a < 60e9)
		snprintf(buf, len, "%.3g s", ns / 1e9);
	else if (a < 3600e9)
		snprintf(buf, len, "%d min %02d s", (int)(ns / 60e9), (int)fmod(ns / 1e9, 60));
	else
		snprintf(buf, len, "%d h %02d min", (int)(ns / 3600e9), (int)fmod(ns / 60e9, 60));
	return buf;
}

const char *fl_report_fmt_s(double s, char *buf, size_t len)
{
	return fl_report_fmt_ns(s * 1e9, buf, len);
}

const char *fl_report_fmt_count(double v, char *buf, size_t len)
{
	double a = fabs(v);
	if (a < 1e3)
		snprintf(buf, len, a == floor(a) ? "%.0f" : "%.3g", v);
	else if (a < 1e6)
		snprintf(buf, len, "%.3gk", v / 1e3);
	else if (a < 1e9)
		snprintf(buf, len, "%.3gM", v / 1e6);
	else
		snprintf(buf, len, "%.3gG", v / 1e9);
	return buf;
}

const char *fl_report_fmt_bytes(double v, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (fabs(v) >= 1024 && u < 4)
		v /= 1024, u++;
	snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", v, unit[u]);
	return buf;
}
