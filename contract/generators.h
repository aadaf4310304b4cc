/* Pact generators: values produced at verification (request generators,
 * ProviderState values from the state-change call) and by the stub
 * (response generators): RandomInt, RandomDecimal, RandomHexadecimal,
 * RandomString, Regex, Uuid, Date, Time, DateTime, RandomBoolean,
 * ProviderState. Random draws come from a seeded struct fl_prng, so a seed
 * replays them. Date/Time/DateTime format the current UTC time; their
 * "expression" offsets are not evaluated. */
#ifndef FL_CONTRACT_GENERATORS_H
#define FL_CONTRACT_GENERATORS_H

#include <jansson.h>

#include "contract/pact.h"
#include "core/prng.h"

/* One generated value for generator `gen` ({"type": "RandomInt", ...}).
 * `state` (borrowed, may be NULL) holds provider-state values for
 * ProviderState expressions ("${id}"). New reference, or NULL with the
 * reason in err (unknown type, missing state value). */
json_t *fl_gen_value(const json_t *gen, const json_t *state, struct fl_prng *rng, char *err,
		     size_t errlen);

/* A string matching the Java-style regular expression `re` (character
 * classes, groups, alternation, quantifiers). malloc'd, or NULL when the
 * expression cannot be generated from. */
char *fl_gen_regex(const char *re, struct fl_prng *rng);

/* Apply a request's generators to it in place (path, query, headers, body).
 * Returns 0, or -1 with the first problem in err (the value is then left as
 * the pact's example). */
int fl_gen_apply_request(struct fl_pact_request *r, const json_t *state, struct fl_prng *rng,
			 char *err, size_t errlen);

/* Apply a response's generators in place (status, headers, body). */
int fl_gen_apply_response(struct fl_pact_response *r, const json_t *state, struct fl_prng *rng,
			  char *err, size_t errlen);

#endif
