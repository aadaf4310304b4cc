/* Bounded regular expressions (PCRE2, Perl/Java syntax) for everything that
 * compiles a pattern it was given: toxics' path_regex, contract matchers,
 * `run --grep` and fl expectations. A pattern comes from whoever can reach
 * an API or write a pact, so compiling and matching are bounded:
 *
 *   pattern length      FL_REGEX_MAX_PATTERN bytes
 *   group nesting       FL_REGEX_MAX_NEST levels (parentheses)
 *   compiled size       PCRE2's own cap (64 KiB with Debian's link size 2)
 *   match steps         FL_REGEX_MATCH_LIMIT backtracking steps per match
 *   backtrack depth     FL_REGEX_DEPTH_LIMIT
 *   match heap          FL_REGEX_HEAP_LIMIT_KIB KiB per match
 *
 * A pattern over a compile limit is refused with a message naming the limit
 * ("pattern over the nesting limit (32 levels)"); a match that hits a match
 * limit returns FL_E2BIG with the limit named. Compiled patterns are
 * immutable and may be matched from several threads at once. */
#ifndef FL_CORE_REGEX_H
#define FL_CORE_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#define FL_REGEX_MAX_PATTERN 4096
#define FL_REGEX_MAX_NEST 32
#define FL_REGEX_MATCH_LIMIT 100000
#define FL_REGEX_DEPTH_LIMIT 10000
#define FL_REGEX_HEAP_LIMIT_KIB 4096

enum fl_regex_flags {
	FL_REGEX_FULL = 1 << 0,	 /* the whole subject must match (Pact's regex matcher) */
	FL_REGEX_ICASE = 1 << 1, /* case-insensitive */
	FL_REGEX_JAVA = 1 << 2,	 /* Java escapes too: \uHHHH, \xHH */
};

struct fl_regex;

/* Compile pattern (borrowed, NUL-terminated) with FL_REGEX_* flags into *out
 * (caller frees with fl_regex_free). Returns 0, FL_E2BIG when a limit is
 * exceeded or FL_EINVAL for a syntax error, with the reason in err
 * ("invalid regular expression 'a(': missing closing parenthesis at 2"). */
int fl_regex_compile(const char *pattern, unsigned flags, struct fl_regex **out, char *err,
		     size_t errlen);

/* Match subject[0..len) (borrowed; any bytes, invalid UTF-8 included).
 * Returns 1 on a match, 0 on none, FL_E2BIG when a match limit was hit
 * (err names it) or FL_ENOMEM. */
int fl_regex_match(const struct fl_regex *re, const char *subject, size_t len, char *err,
		   size_t errlen);

/* The pattern as given (borrowed). */
const char *fl_regex_pattern(const struct fl_regex *re);

/* NULL is a no-op. */
void fl_regex_free(struct fl_regex *re);

#endif
