/* Text helpers of the reporters: UTF-8 checking and first lines. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

size_t fl_report_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t c, min;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	} else if ((u[0] & 0xE0) == 0xC0) {
		len = 2, c = u[0] & 0x1F, min = 0x80;
	} else if ((u[0] & 0xF0) == 0xE0) {
		len = 3, c = u[0] & 0x0F, min = 0x800;
	} else if ((u[0] & 0xF8) == 0xF0) {
		len = 4, c = u[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

char *fl_report_utf8_clean(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1);	/* each bad byte may become 3 bytes */
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = fl_report_utf8_decode(s + i, n - i, &cp);
		if (len) {
			memcpy(out + o, s + i, len);
			o += len, i += len;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3, i++;
		}
	}
	out[o] = '\0';
	return out;
}

char *fl_report_first_line(const char *s)
{
	if (!s)
		return strdup("");
	return strndup(s, strcspn(s, "\n"));
}

