/* Date and time patterns as Pact writes them (Java SimpleDateFormat /
 * DateTimeFormatter letters: y M d H h k K m s S a E z Z X x D u G, quoted
 * 'literals'): checking that a value matches, and formatting the current
 * time for generators. Fields are checked for range (month 1-12, hour
 * 0-23, ...). Without a pattern, ISO 8601 is accepted. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "contract/match_int.h"

static const char *const months[] = { "January",   "February", "March",	   "April",
				      "May",	   "June",     "July",	   "August",
				      "September", "October",  "November", "December" };
static const char *const days[] = { "Sunday",	"Monday", "Tuesday", "Wednesday",
				    "Thursday", "Friday", "Saturday" };

/* Read between min and max digits; returns digits read (0 on failure). */
static int digits(const char **sp, int min, int max, long *val)
{
	const char *s = *sp;
	int n = 0;
	long v = 0;
	while (n < max && isdigit((unsigned char)s[n])) {
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n < min)
		return 0;
	*sp = s + n;
	*val = v;
	return n;
}

/* Match one of the names (full, or the 3-letter abbreviation when shortform). */
static int name_of(const char **sp, const char *const *names, int count, int shortform)
{
	for (int i = 0; i < count; i++) {
		size_t n = shortform ? 3 : strlen(names[i]);
		if (!strncasecmp(*sp, names[i], n)) {
			*sp += n;
			return i + 1;
		}
	}
	return 0;
}

static int zone_offset(const char **sp, int allow_z, int colon_any)
{
	const char *s = *sp;
	long v;
	if (allow_z && *s == 'Z') {
		*sp = s + 1;
		return 1;
	}
	if (*s != '+' && *s != '-')
		return 0;
	s++;
	if (digits(&s, 2, 2, &v) != 2 || v > 18)
		return 0;
	if (*s == ':' && colon_any)
		s++;
	if (isdigit((unsigned char)*s)) {
		if (digits(&s, 2, 2, &v) != 2 || v > 59)
			return 0;
	}
	*sp = s;
	return 1;
}

static int field(char letter, int n, const char **sp)
{
	long v;
	const char *s = *sp;
	int ok = 1;
	switch (letter) {
	case 'y':
	case 'u':
	case 'Y':
		if (n == 2)
			ok = digits(&s, 2, 2, &v);
		else
			ok = digits(&s, n < 4 ? 1 : n, n < 4 ? 9 : n, &v);
		break;
	case 'M':
	case 'L':
		if (n >= 4)
			ok = name_of(&s, months, 12, 0);
		else if (n == 3)
			ok = name_of(&s, months, 12, 1);
		else
			ok = digits(&s, n, 2, &v) && v >= 1 && v <= 12;
		break;
	case 'd': ok = digits(&s, n, 2, &v) && v >= 1 && v <= 31; break;
	case 'D': ok = digits(&s, n, 3, &v) && v >= 1 && v <= 366; break;
	case 'H': ok = digits(&s, n, 2, &v) && v <= 23; break;
	case 'k': ok = digits(&s, n, 2, &v) && v >= 1 && v <= 24; break;
	case 'K': ok = digits(&s, n, 2, &v) && v <= 11; break;
	case 'h': ok = digits(&s, n, 2, &v) && v >= 1 && v <= 12; break;
	case 'm': ok = digits(&s, n, 2, &v) && v <= 59; break;
	case 's': ok = digits(&s, n, 2, &v) && v <= 60; break;
	case 'S':
	case 'n': ok = digits(&s, n == 1 ? 1 : n, n == 1 ? 9 : n, &v); break;
	case 'w':
	case 'W':
	case 'F':
	case 'e':
	case 'c':
	case 'Q':
	case 'q': ok = digits(&s, n, n < 2 ? 2 : n, &v); break;
	case 'E': ok = name_of(&s, days, 7, n <= 3); break;
	case 'a':
		if (!strncasecmp(s, "AM", 2) || !strncasecmp(s, "PM", 2))
			s += 2;
		else
			ok = 0;
		break;
	case 'G':
		if (!strncasecmp(s, "AD", 2) || !strncasecmp(s, "BC", 2))
			s += 2;
		else
			ok = 0;
		break;
	case 'z': {
		int k = 0;
		while (isalpha((unsigned char)s[k]) && k < 6)
			k++;
		if (!k)
			ok = 0;
		s += k;
		if (ok && (*s == '+' || *s == '-'))
			ok = zone_offset(&s, 0, 1);
		break;
	}
	case 'Z': ok = zone_offset(&s, 1, 1); break;
	case 'X': ok = zone_offset(&s, 1, 1); break;
	case 'x': ok = zone_offset(&s, 0, 1); break;
	case 'V':
	case 'O': {
		int k = 0;
		while (s[k] && (isalnum((unsigned char)s[k]) || strchr("_/+-:", s[k])))
			k++;
		ok = k > 0;
		s += k;
		break;
	}
	default: return 0; /* unknown pattern letter */
	}
	if (!ok)
		return 0;
	*sp = s;
	return 1;
}

static int match_pattern(const char *fmt, const char *s)
{
	const char *f = fmt;
	while (*f) {
		if (*f == '\'') {
			f++;
			if (*f == '\'') { /* '' is a quote */
				if (*s++ != '\'')
					return 0;
				f++;
				continue;
			}
			while (*f) {
				if (*f == '\'') {
					if (f[1] != '\'') {
						f++;
						break;
					}
					f++; /* '' inside quotes */
				}
				if (*s++ != *f++)
					return 0;
			}
			continue;
		}
		if (isalpha((unsigned char)*f)) {
			char letter = *f;
			int n = 0;
			while (f[n] == letter)
				n++;
			f += n;
			if (!field(letter, n, &s))
				return 0;
			continue;
		}
		if (*s++ != *f++)
			return 0;
	}
	return *s == '\0';
}

int fl_datefmt_match(const char *fmt, char kind, const char *s)
{
	if (fmt && *fmt)
		return match_pattern(fmt, s);
	static const char *const dates[] = { "yyyy-MM-dd", NULL };
	static const char *const times[] = { "HH:mm",	  "HH:mm:ss",	 "HH:mm:ss.S",
					     "HH:mm:ssX", "HH:mm:ss.SX", NULL };
	static const char *const stamps[] = { "yyyy-MM-dd'T'HH:mm",	  "yyyy-MM-dd'T'HH:mm:ss",
					      "yyyy-MM-dd'T'HH:mm:ss.S",  "yyyy-MM-dd'T'HH:mm:ssX",
					      "yyyy-MM-dd'T'HH:mm:ss.SX", "yyyy-MM-dd HH:mm:ss",
					      "yyyy-MM-dd HH:mm:ss.S",	  "yyyy-MM-dd HH:mm:ssX",
					      "yyyy-MM-dd HH:mm:ss.SX",	  NULL };
	const char *const *list = kind == 'd' ? dates : kind == 't' ? times : stamps;
	for (size_t i = 0; list[i]; i++)
		if (match_pattern(list[i], s))
			return 1;
	return 0;
}

int fl_datefmt_format(const char *fmt, char kind, long long t_ns, char *out, size_t outlen)
{
	if (!fmt || !*fmt)
		fmt = kind == 'd'   ? "yyyy-MM-dd"
		      : kind == 't' ? "HH:mm:ss"
				    : "yyyy-MM-dd'T'HH:mm:ss.SSSX";
	time_t secs = (time_t)(t_ns / 1000000000LL);
	long nanos = (long)(t_ns % 1000000000LL);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t o = 0;
	const char *f = fmt;
	out[0] = '\0';
#define PUT(...)                                                                                   \
	do {                                                                                       \
		int w_ = snprintf(out + o, o < outlen ? outlen - o : 0, __VA_ARGS__);              \
		if (w_ < 0 || (size_t)w_ >= outlen - o)                                            \
			return -1;                                                                 \
		o += (size_t)w_;                                                                   \
	} while (0)
	while (*f) {
		if (*f == '\'') {
			f++;
			if (*f == '\'') {
				PUT("'");
				f++;
				continue;
			}
			while (*f && *f != '\'')
				PUT("%c", *f++);
			if (*f)
				f++;
			continue;
		}
		if (!isalpha((unsigned char)*f)) {
			PUT("%c", *f++);
			continue;
		}
		char c = *f;
		int n = 0;
		while (f[n] == c)
			n++;
		f += n;
		switch (c) {
		case 'y':
		case 'u':
		case 'Y':
			if (n == 2)
				PUT("%02d", (tm.tm_year + 1900) % 100);
			else
				PUT("%0*d", n, tm.tm_year + 1900);
			break;
		case 'M':
		case 'L':
			if (n >= 4)
				PUT("%s", months[tm.tm_mon]);
			else if (n == 3)
				PUT("%.3s", months[tm.tm_mon]);
			else
				PUT("%0*d", n, tm.tm_mon + 1);
			break;
		case 'd': PUT("%0*d", n, tm.tm_mday); break;
		case 'D': PUT("%0*d", n, tm.tm_yday + 1); break;
		case 'H': PUT("%0*d", n, tm.tm_hour); break;
		case 'k': PUT("%0*d", n, tm.tm_hour ? tm.tm_hour : 24); break;
		case 'K': PUT("%0*d", n, tm.tm_hour % 12); break;
		case 'h': PUT("%0*d", n, tm.tm_hour % 12 ? tm.tm_hour % 12 : 12); break;
		case 'm': PUT("%0*d", n, tm.tm_min); break;
		case 's': PUT("%0*d", n, tm.tm_sec); break;
		case 'S':
		case 'n': {
			char frac[16];
			snprintf(frac, sizeof(frac), "%09ld", nanos);
			PUT("%.*s", n > 9 ? 9 : n, frac);
			break;
		}
		case 'E': PUT(n <= 3 ? "%.3s" : "%s", days[tm.tm_wday]); break;
		case 'a': PUT("%s", tm.tm_hour < 12 ? "AM" : "PM"); break;
		case 'G': PUT("AD"); break;
		case 'z':
		case 'V':
		case 'O': PUT("UTC"); break;
		case 'Z':
		case 'x': PUT("+0000"); break;
		case 'X': PUT("Z"); break;
		default: PUT("%d", 1); break;
		}
	}
#undef PUT
	return 0;
}
