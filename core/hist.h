/* An HDR-style histogram of non-negative integers (latencies in ns): fixed
 * log-linear buckets, so recording is O(1), merging is adding counts, and
 * memory is fixed (FL_HIST_BUCKETS counters, about 18 KB) whatever is
 * recorded.
 *
 * Buckets: values below 2^FL_HIST_SUB_BITS (128) have a bucket each; above,
 * every power-of-two range [2^e, 2^(e+1)) is cut into 2^(FL_HIST_SUB_BITS-1)
 * (64) equal buckets. A value read back (a percentile, the mean of a bucket)
 * is its bucket's midpoint, so:
 *
 *     |reported - recorded| <= recorded / 2^FL_HIST_SUB_BITS   (0.79 %)
 *
 * and values below 128 are exact. Values at or above 2^FL_HIST_MAX_BITS
 * (about 18 minutes in ns) go to the last bucket and are counted in
 * `clamped`; min and max are kept exactly.
 *
 * A struct fl_hist is plain memory: no allocation, no locking (one writer;
 * merge per-thread histograms instead of sharing one). */
#ifndef FL_CORE_HIST_H
#define FL_CORE_HIST_H

#include <stddef.h>
#include <stdint.h>

#define FL_HIST_SUB_BITS 7
#define FL_HIST_MAX_BITS 40
#define FL_HIST_SUB (1u << FL_HIST_SUB_BITS)
#define FL_HIST_BUCKETS (FL_HIST_SUB + (FL_HIST_MAX_BITS - FL_HIST_SUB_BITS) * (FL_HIST_SUB / 2))

struct fl_hist {
	uint64_t count;	   /* values recorded */
	uint64_t min, max; /* exact; min is UINT64_MAX while empty */
	uint64_t clamped;  /* values >= 2^FL_HIST_MAX_BITS (in the last bucket) */
	double sum;	   /* of the values, for the mean */
	uint64_t counts[FL_HIST_BUCKETS];
};

/* Empty h. */
void fl_hist_init(struct fl_hist *h);

/* Record value v once / n times. */
void fl_hist_record(struct fl_hist *h, uint64_t v);
void fl_hist_record_n(struct fl_hist *h, uint64_t v, uint64_t n);

/* Add everything recorded in src to dst (src borrowed, unchanged). */
void fl_hist_merge(struct fl_hist *dst, const struct fl_hist *src);

/* The value at percentile p (0..100) by nearest rank: the smallest
 * recorded value with at least p % of the values at or below it, as its
 * bucket's midpoint clamped to [min, max] (so p 0 is min and p 100 is max
 * exactly). 0 for an empty histogram. */
uint64_t fl_hist_percentile(const struct fl_hist *h, double p);

/* The mean of the recorded values (exact), 0 when empty. */
double fl_hist_mean(const struct fl_hist *h);

/* The bucket of v, and the range [low, high] of values bucket i holds. */
size_t fl_hist_bucket(uint64_t v);
uint64_t fl_hist_bucket_low(size_t i);
uint64_t fl_hist_bucket_high(size_t i);

#endif
