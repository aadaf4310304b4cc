/* HDR-style log-linear histogram (see core/hist.h for the buckets and the
 * error bound). */
#include "core/hist.h"

#include <math.h>
#include <string.h>

#define HALF (FL_HIST_SUB / 2)
#define LIMIT (UINT64_C(1) << FL_HIST_MAX_BITS)

void fl_hist_init(struct fl_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t fl_hist_bucket(uint64_t v)
{
	if (v < FL_HIST_SUB)
		return (size_t)v;
	if (v >= LIMIT)
		return FL_HIST_BUCKETS - 1;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 2^e <= v < 2^(e+1) */
	unsigned shift = e - (FL_HIST_SUB_BITS - 1);
	size_t sub = (size_t)(v >> shift); /* HALF .. SUB-1 */
	return FL_HIST_SUB + (size_t)(e - FL_HIST_SUB_BITS) * HALF + (sub - HALF);
}

uint64_t fl_hist_bucket_low(size_t i)
{
	if (i < FL_HIST_SUB)
		return i;
	size_t j = i - FL_HIST_SUB;
	unsigned e = (unsigned)(j / HALF) + FL_HIST_SUB_BITS;
	uint64_t sub = j % HALF + HALF;
	return sub << (e - (FL_HIST_SUB_BITS - 1));
}

uint64_t fl_hist_bucket_high(size_t i)
{
	if (i < FL_HIST_SUB)
		return i;
	if (i >= FL_HIST_BUCKETS - 1)
		return UINT64_MAX; /* the last bucket also holds the clamped values */
	return fl_hist_bucket_low(i + 1) - 1;
}

void fl_hist_record_n(struct fl_hist *h, uint64_t v, uint64_t n)
{
	if (!n)
		return;
	h->counts[fl_hist_bucket(v)] += n;
	h->count += n;
	h->sum += (double)v * (double)n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v >= LIMIT)
		h->clamped += n;
}

void fl_hist_record(struct fl_hist *h, uint64_t v)
{
	fl_hist_record_n(h, v, 1);
}

void fl_hist_merge(struct fl_hist *dst, const struct fl_hist *src)
{
	if (!src->count)
		return;
	for (size_t i = 0; i < FL_HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->clamped += src->clamped;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* The value a bucket stands for: its midpoint (exact below FL_HIST_SUB). */
static uint64_t midpoint(size_t i)
{
	uint64_t lo = fl_hist_bucket_low(i);
	if (i < FL_HIST_SUB)
		return lo;
	uint64_t next = i == FL_HIST_BUCKETS - 1 ? LIMIT : fl_hist_bucket_low(i + 1);
	return lo + (next - lo) / 2;
}

uint64_t fl_hist_percentile(const struct fl_hist *h, double p)
{
	if (!h->count)
		return 0;
	if (!(p > 0))
		return h->min;
	if (p >= 100)
		return h->max;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < FL_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen < rank)
			continue;
		uint64_t v = i == FL_HIST_BUCKETS - 1 && h->clamped ? h->max : midpoint(i);
		return v < h->min ? h->min : v > h->max ? h->max : v;
	}
	return h->max;
}

double fl_hist_mean(const struct fl_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0;
}
