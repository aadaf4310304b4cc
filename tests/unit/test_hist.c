/* core/hist: the buckets tile the range and hold the stated error bound,
 * merging equals recording everything in one, and percentiles of 10^6
 * seeded random values agree with a sorted-array oracle within the bound
 * (the worst relative error seen is printed). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hist.h"
#include "core/prng.h"

#define BOUND (1.0 / FL_HIST_SUB)	/* |reported - recorded| <= recorded * BOUND */

/* A latency-like value: log-uniform from 1 ns to about 2^36 ns (69 s). */
static uint64_t draw(struct fl_prng *r)
{
	return (uint64_t)exp2(fl_prng_double(r) * 36.0);
}

static void test_buckets(void **state)
{
	(void)state;
	/* contiguous, increasing, covering 0 .. UINT64_MAX */
	assert_int_equal(fl_hist_bucket_low(0), 0);
	for (size_t i = 0; i + 1 < FL_HIST_BUCKETS; i++) {
		assert_true(fl_hist_bucket_low(i) <= fl_hist_bucket_high(i));
		assert_int_equal(fl_hist_bucket_high(i) + 1, fl_hist_bucket_low(i + 1));
		assert_int_equal(fl_hist_bucket(fl_hist_bucket_low(i)), i);
		assert_int_equal(fl_hist_bucket(fl_hist_bucket_high(i)), i);
	}
	assert_int_equal(fl_hist_bucket(UINT64_MAX), FL_HIST_BUCKETS - 1);
	/* every value's bucket holds it, and a lone value reads back within the bound */
	struct fl_prng r;
	fl_prng_seed(&r, 7);
	struct fl_hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	double worst = 0;
	for (int k = 0; k < 200000; k++) {
		uint64_t v = k < 4096 ? (uint64_t)k : draw(&r);
		size_t b = fl_hist_bucket(v);
		assert_true(fl_hist_bucket_low(b) <= v && v <= fl_hist_bucket_high(b));
		fl_hist_init(h);
		fl_hist_record(h, v);
		fl_hist_record(h, 0);	/* so min/max clamping does not hide the bucket */
		fl_hist_record(h, UINT64_C(1) << 39);
		uint64_t got = fl_hist_percentile(h, 50);
		double err = fabs((double)got - (double)v);
		if (v < FL_HIST_SUB)
			assert_true(got == v);
		else
			assert_true(err <= (double)v * BOUND);
		if (v && err / (double)v > worst)
			worst = err / (double)v;
	}
	printf("hist: worst single-value error %.4f %% (bound %.4f %%)\n", worst * 100, BOUND * 100);
	/* past the range: clamped into the last bucket, max exact */
	fl_hist_init(h);
	fl_hist_record(h, UINT64_C(1) << 50);
	assert_int_equal(h->clamped, 1);
	assert_int_equal(fl_hist_percentile(h, 99), UINT64_C(1) << 50);
	free(h);
}

static void test_merge(void **state)
{
	(void)state;
	struct fl_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
	assert_true(a && b && all);
	fl_hist_init(a);
	fl_hist_init(b);
	fl_hist_init(all);
	struct fl_prng r;
	fl_prng_seed(&r, 11);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = draw(&r);
		fl_hist_record(i % 3 ? a : b, v);
		fl_hist_record(all, v);
	}
	fl_hist_record_n(b, 5000, 7);
	fl_hist_record_n(all, 5000, 7);
	struct fl_hist *empty = malloc(sizeof(*empty));
	assert_non_null(empty);
	fl_hist_init(empty);
	fl_hist_merge(a, empty);	/* merging nothing changes nothing */
	fl_hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->counts, all->counts, sizeof(a->counts));
	assert_true(fabs(fl_hist_mean(a) - fl_hist_mean(all)) <= 1e-6 * fl_hist_mean(all));
	for (double p = 0; p <= 100; p += 0.5)
		assert_int_equal(fl_hist_percentile(a, p), fl_hist_percentile(all, p));
	assert_int_equal(fl_hist_percentile(empty, 50), 0);
	free(a);
	free(b);
	free(all);
	free(empty);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void test_percentiles_oracle(void **state)
{
	(void)state;
	enum { N = 1000000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct fl_hist *h = malloc(sizeof(*h));
	assert_true(v && h);
	fl_hist_init(h);
	struct fl_prng r;
	fl_prng_seed(&r, 42);
	for (int i = 0; i < N; i++) {
		/* a latency-like mix: most near 2 ms, a tail to seconds, some exact small ones */
		uint64_t x = i % 10 == 0 ? draw(&r)
			     : i % 97 == 0 ? (uint64_t)fl_prng_range(&r, 0, 127)
					   : 2000000 + (uint64_t)fl_prng_range(&r, 0, 1000000);
		v[i] = x;
		fl_hist_record(h, x);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	static const double ps[] = { 0, 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100 };
	double worst = 0, worst_p = 0;
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		size_t rank = (size_t)ceil(ps[k] / 100.0 * N);
		uint64_t want = v[rank ? rank - 1 : 0];
		uint64_t got = fl_hist_percentile(h, ps[k]);
		double err = fabs((double)got - (double)want);
		assert_true(err <= (double)want * BOUND);
		if (want && err / (double)want > worst)
			worst = err / (double)want, worst_p = ps[k];
	}
	/* every percentile on a fine grid, too */
	for (int k = 1; k < 10000; k++) {
		double p = k / 100.0;
		size_t rank = (size_t)ceil(p / 100.0 * N);
		uint64_t want = v[rank - 1], got = fl_hist_percentile(h, p);
		double err = fabs((double)got - (double)want);
		assert_true(err <= (double)want * BOUND);
		if (want && err / (double)want > worst)
			worst = err / (double)want, worst_p = p;
	}
	printf("hist: 10^6 values, worst percentile error %.4f %% at p%g (bound %.4f %%)\n",
	       worst * 100, worst_p, BOUND * 100);
	assert_int_equal(fl_hist_percentile(h, 0), v[0]);
	assert_int_equal(fl_hist_percentile(h, 100), v[N - 1]);
	free(v);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_percentiles_oracle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
