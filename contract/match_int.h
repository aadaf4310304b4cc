/* Private to contract/: path expressions, matching-rule resolution, the
 * matchers themselves, and the body comparers shared by the matching code. */
#ifndef FL_CONTRACT_MATCH_INT_H
#define FL_CONTRACT_MATCH_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "contract/pact.h"
#include "core/json.h"

#define FL_MPATH_MAX 96

/* A concrete document path: "$", "alligator", "favouriteColours", "1". */
struct fl_mpath {
	const char *seg[FL_MPATH_MAX];
	bool is_index[FL_MPATH_MAX];
	size_t n;
};

/* Matching context for one body (or metadata) comparison. */
struct fl_mctx {
	const json_t *rules;   /* category object: path expression -> group (borrowed) */
	bool allow_unexpected; /* responses and messages: extra keys allowed */
	const char *prefix;    /* "$.body": how paths are shown */
	const char *kind;      /* "body" */
	struct fl_pact_mismatches *out;
};

/* --- path expressions (path.c) --- */

/* The weight of rule expression `expr` against `path` (0: it does not apply),
 * and the number of tokens of the expression. An expression applies to a path
 * when it is a prefix of it token by token ($ and exact names/indices weigh 2,
 * * and [*] weigh 1, multiplied). Returns -1 when expr does not parse. */
long fl_path_weight(const char *expr, const struct fl_mpath *path, size_t *ntokens);

/* Check that expr parses; 0 or -1 with a reason in err. */
int fl_path_check(const char *expr, char *err, size_t errlen);

/* Render a path for people: prefix + ".name" / "['odd name']" / "[3]". malloc'd. */
char *fl_mpath_render(const struct fl_mpath *p, const char *prefix);

/* Add a mismatch at path p (rendered with c->prefix) to c->out, with the
 * expected and actual values shown as e and a (borrowed, may be NULL). */
void fl_mctx_vmismatch(struct fl_mctx *c, const struct fl_mpath *p, const char *e, const char *a,
		       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* --- rule resolution (rules.c) --- */

/* The group that applies to `path` in a body-like category: the heaviest
 * expression (ties: more tokens, then longer text). Rules holding a "values"
 * matcher apply only at their exact depth. *cascaded is set when the chosen
 * rule was written for an ancestor. NULL when none applies. Borrowed. */
const json_t *fl_rules_best(const json_t *cat, const struct fl_mpath *path, bool *cascaded);

/* True when a rule written for exactly this path (not an ancestor) holds a
 * type-like matcher (type, min, max). */
bool fl_rules_direct_type(const json_t *cat, const struct fl_mpath *path);

/* A keyed category (headers: case-insensitive, query: exact): the group for
 * `name` or NULL. */
const json_t *fl_rules_keyed(const json_t *cat, const char *name, bool nocase);

/* The matchers array of a group (accepts a bare array or a single matcher). */
const json_t *fl_rules_matchers(const json_t *group);

/* Whether the group combines with OR. */
bool fl_rules_is_or(const json_t *group);

/* The matcher's type name, with the V2/V3 shorthands resolved ("regex" when
 * only a regex is given, "type" for min/max...). Static or borrowed. */
const char *fl_matcher_type(const json_t *m);

/* Is `type` a matcher type faultline knows? */
bool fl_matcher_known(const char *type);

/* --- matchers (matchers.c) --- */

/* Apply one group to a value. `text` says the actual value came from text
 * (headers, query, path, XML) so "123" may satisfy an integer matcher.
 * Returns 0 on match, else 1 with a message in msg. */
int fl_match_group(const json_t *group, bool cascaded, const json_t *expected, const json_t *actual,
		   bool text, char *msg, size_t msglen);

/* Apply one matcher. Same conventions. */
int fl_match_one(const json_t *m, bool cascaded, const json_t *expected, const json_t *actual,
		 bool text, char *msg, size_t msglen);

/* Printable form of a JSON value for messages ('"abc"', 12, null). malloc'd. */
char *fl_match_show(const json_t *v);

/* --- regex (regex.c) --- */

/* Does `subject` match the Java-style regular expression `re` in full
 * (look-around, back-references, lazy and possessive quantifiers, \Q..\E,
 * \uHHHH and (?i) included; PCRE2 under core/regex.h's limits)?
 * Returns 1 match, 0 no match, -1 when the expression is invalid or over a
 * limit (reason in err). */
int fl_regex_full_match(const char *re, const char *subject, char *err, size_t errlen);

/* --- dates (datefmt.c) --- */

/* Does `s` match the Java SimpleDateFormat/DateTimeFormatter pattern `fmt`?
 * A NULL fmt accepts ISO 8601 of the given kind ('d' date, 't' time,
 * 'T' date-time). 1 yes, 0 no. */
int fl_datefmt_match(const char *fmt, char kind, const char *s);

/* Format wall time `t_ns` with `fmt` (or ISO 8601 for kind when NULL) into out. */
int fl_datefmt_format(const char *fmt, char kind, long long t_ns, char *out, size_t outlen);

/* --- bodies (match_json.c, match_xml.c, match_body.c) --- */

void fl_match_json(struct fl_mctx *c, struct fl_mpath *path, const json_t *e, const json_t *a);

/* Compare two XML documents (as text). */
void fl_match_xml(struct fl_mctx *c, const char *expected, const char *actual);

/* Compare two bodies with their content types and body rules. */
void fl_match_body(const struct fl_pact_body *e, const json_t *e_headers,
		   const struct fl_pact_body *a, const json_t *a_headers, const json_t *rules,
		   bool allow_unexpected, const char *prefix, struct fl_pact_mismatches *out);

/* --- shared helpers (pact_model.c) --- */
bool fl_contract_ct_is_json(const char *ct);
bool fl_contract_ct_is_xml(const char *ct);

#endif
