/* Text helpers of the reporters: XML onto a stream (the escaping itself is
 * core/text's) and first lines. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "core/buf.h"
#include "core/text.h"

void fl_report_put_xml(FILE *f, const char *s, unsigned flags)
{
	struct fl_buf b;
	fl_buf_init(&b, 0);
	if (s && fl_text_xml_escape(&b, s, strlen(s), flags) == 0 && b.len)
		fwrite(b.data, 1, b.len, f);
	else if (s && *s)
		fputs(FL_TEXT_REPLACEMENT, f); /* out of memory: a visible gap, never raw text */
	fl_buf_free(&b);
}

char *fl_report_first_line(const char *s)
{
	if (!s)
		return strdup("");
	return strndup(s, strcspn(s, "\n"));
}
