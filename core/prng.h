/* A seeded PRNG (xoshiro256**, seeded through splitmix64). One seed
 * reproduces every draw; fl_prng_fork derives independent, reproducible
 * streams (one per connection, per client, per fault schedule) so that the
 * order in which streams are used does not change their draws. Not for
 * cryptography. A struct fl_prng is plain data: copy it, embed it. */
#ifndef FL_CORE_PRNG_H
#define FL_CORE_PRNG_H

#include <stdint.h>

struct fl_prng {
	uint64_t s[4];
};

/* Seed the generator. Every seed, including 0, gives a valid state. */
void fl_prng_seed(struct fl_prng *r, uint64_t seed);

/* Derive an independent generator for stream `stream` of `parent` without
 * advancing parent. The child depends only on parent's current state and
 * `stream`, so forking streams from a freshly seeded parent (as the runner
 * and the proxy do) gives the same child for the same seed and stream, in
 * whatever order the streams are forked. */
void fl_prng_fork(const struct fl_prng *parent, uint64_t stream, struct fl_prng *child);

uint64_t fl_prng_u64(struct fl_prng *r);

/* Uniform double in [0, 1). */
double fl_prng_double(struct fl_prng *r);

/* Uniform integer in [lo, hi] (inclusive); lo > hi returns lo. Unbiased. */
int64_t fl_prng_range(struct fl_prng *r, int64_t lo, int64_t hi);

/* True with probability p (p <= 0 never, p >= 1 always, no draw spent then). */
int fl_prng_chance(struct fl_prng *r, double p);

/* A seed from the OS (getrandom, falling back to time and pid). */
uint64_t fl_prng_entropy_seed(void);

#endif
