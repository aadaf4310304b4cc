/* Bounded PCRE2 compile and match (limits in core/regex.h). No JIT: the
 * interpreter honours the depth and heap limits, and the patterns here are
 * small and matched against short subjects (paths, values, test names). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/regex.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

#define STR_(x) #x
#define FL_XSTR(x) STR_(x)

struct fl_regex {
	pcre2_code *code;
	pcre2_match_context *mctx;
	char *pattern;
};

static const char *limit_name(int rc)
{
	switch (rc) {
	case PCRE2_ERROR_PATTERN_STRING_TOO_LONG:
		return "pattern over the length limit (" FL_XSTR(FL_REGEX_MAX_PATTERN) " bytes)";
	case PCRE2_ERROR_PARENTHESES_NEST_TOO_DEEP:
		return "pattern over the nesting limit (" FL_XSTR(FL_REGEX_MAX_NEST) " levels)";
	case PCRE2_ERROR_PATTERN_TOO_LARGE: return "pattern over the compiled size limit (64 KiB)";
	case PCRE2_ERROR_PATTERN_TOO_COMPLICATED: return "pattern over the complexity limit";
	case PCRE2_ERROR_QUANTIFIER_TOO_BIG: return "pattern over the repeat count limit (65535)";
	case PCRE2_ERROR_MATCHLIMIT:
		return "match over the step limit (" FL_XSTR(FL_REGEX_MATCH_LIMIT) " steps)";
	case PCRE2_ERROR_DEPTHLIMIT:
		return "match over the depth limit (" FL_XSTR(FL_REGEX_DEPTH_LIMIT) ")";
	case PCRE2_ERROR_HEAPLIMIT:
		return "match over the heap limit (" FL_XSTR(FL_REGEX_HEAP_LIMIT_KIB) " KiB)";
	}
	return NULL;
}

static pcre2_compile_context *compile_context(unsigned flags)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	if (!cc)
		return NULL;
	pcre2_set_max_pattern_length(cc, FL_REGEX_MAX_PATTERN);
	pcre2_set_parens_nest_limit(cc, FL_REGEX_MAX_NEST);
	if (flags & FL_REGEX_JAVA)
		pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
	return cc;
}

int fl_regex_compile(const char *pattern, unsigned flags, struct fl_regex **out, char *err,
		     size_t errlen)
{
	struct fl_regex *re = NULL;
	pcre2_compile_context *cc = NULL;
	int rc = FL_ENOMEM, perr = 0;
	PCRE2_SIZE off = 0;
	*out = NULL;
	if (!pattern)
		return fl_err_set(err, errlen, FL_EINVAL, "no regular expression");
	size_t plen = strlen(pattern);
	if (plen > FL_REGEX_MAX_PATTERN)
		return fl_err_set(err, errlen, FL_E2BIG, "regular expression of %zu bytes: %s",
				  plen, limit_name(PCRE2_ERROR_PATTERN_STRING_TOO_LONG));
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	if (flags & FL_REGEX_FULL)
		opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
	if (flags & FL_REGEX_ICASE)
		opts |= PCRE2_CASELESS;
	if (flags & FL_REGEX_JAVA)
		opts |= PCRE2_ALT_BSUX;
	re = calloc(1, sizeof(*re));
	cc = compile_context(flags);
	if (!re || !cc)
		goto fail_nomem;
	re->pattern = strdup(pattern);
	if (!re->pattern)
		goto fail_nomem;
	re->code = pcre2_compile((PCRE2_SPTR)pattern, plen, opts, &perr, &off, cc);
	if (!re->code) {
		const char *lim = limit_name(perr);
		if (lim) {
			rc = fl_err_set(err, errlen, FL_E2BIG, "regular expression '%.80s%s': %s",
					pattern, plen > 80 ? "..." : "", lim);
		} else {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(perr, msg, sizeof(msg));
			rc = fl_err_set(err, errlen, FL_EINVAL,
					"invalid regular expression '%.80s%s': %s at %zu", pattern,
					plen > 80 ? "..." : "", (const char *)msg, (size_t)off);
		}
		goto fail;
	}
	re->mctx = pcre2_match_context_create(NULL);
	if (!re->mctx)
		goto fail_nomem;
	pcre2_set_match_limit(re->mctx, FL_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, FL_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, FL_REGEX_HEAP_LIMIT_KIB);
	pcre2_compile_context_free(cc);
	*out = re;
	return 0;
fail_nomem:
	rc = fl_err_set(err, errlen, FL_ENOMEM, "out of memory compiling a regular expression");
fail:
	pcre2_compile_context_free(cc);
	fl_regex_free(re);
	return rc;
}

int fl_regex_match(const struct fl_regex *re, const char *subject, size_t len, char *err,
		   size_t errlen)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	if (!md)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory matching");
	int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	const char *lim = limit_name(rc);
	if (lim)
		return fl_err_set(err, errlen, FL_E2BIG, "regular expression '%.80s': %s",
				  re->pattern, lim);
	if (rc == PCRE2_ERROR_NOMEMORY)
		return fl_err_set(err, errlen, FL_ENOMEM, "out of memory matching '%.80s'",
				  re->pattern);
	PCRE2_UCHAR msg[160];
	pcre2_get_error_message(rc, msg, sizeof(msg));
	return fl_err_set(err, errlen, FL_EINVAL, "matching '%.80s': %s", re->pattern,
			  (const char *)msg);
}

const char *fl_regex_pattern(const struct fl_regex *re)
{
	return re ? re->pattern : NULL;
}

void fl_regex_free(struct fl_regex *re)
{
	if (!re)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	free(re->pattern);
	free(re);
}
