/* xoshiro256** by Blackman and Vigna, seeded with splitmix64. */
#include "core/prng.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void fl_prng_seed(struct fl_prng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

void fl_prng_fork(const struct fl_prng *parent, uint64_t stream, struct fl_prng *child)
{
	uint64_t x = parent->s[0] ^ rotl(parent->s[1], 17) ^ rotl(parent->s[2], 31) ^
		     rotl(parent->s[3], 47);
	x ^= splitmix64(&stream);
	fl_prng_seed(child, x);
}

uint64_t fl_prng_u64(struct fl_prng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double fl_prng_double(struct fl_prng *r)
{
	return (double)(fl_prng_u64(r) >> 11) * 0x1.0p-53;
}

int64_t fl_prng_range(struct fl_prng *r, int64_t lo, int64_t hi)
{
	if (lo >= hi)
		return lo;
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
	if (span == 0) /* full 64-bit range */
		return (int64_t)fl_prng_u64(r);
	uint64_t limit = UINT64_MAX - UINT64_MAX % span;
	uint64_t v;
	do
		v = fl_prng_u64(r);
	while (v >= limit);
	return (int64_t)((uint64_t)lo + v % span);
}

int fl_prng_chance(struct fl_prng *r, double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return 1;
	return fl_prng_double(r) < p;
}

uint64_t fl_prng_entropy_seed(void)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
}
