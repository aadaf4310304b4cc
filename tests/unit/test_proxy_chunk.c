/* Fault injector chunk queues: the invariants the writers rely on (no empty
 * data chunk is ever queued, so a write always makes progress; an end
 * marker moves with n = 0; byte counts stay exact). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fault-injector/internal.h"

static void test_no_empty_chunks(void **state)
{
	(void)state;
	struct fl_chunkq q = { 0 }, o = { 0 };
	fl_chunkq_push(&q, fl_chunk_new("", 0, 1));
	assert_null(q.head);
	fl_chunkq_push(&q, fl_chunk_new("abcdef", 6, 1));
	/* n = 0 on a data chunk moves nothing (it used to queue an empty chunk) */
	assert_int_equal(fl_chunkq_split_to(&o, &q, 0, 2), 0);
	assert_null(o.head);
	assert_int_equal(q.bytes, 6);
	/* a consumed-to-the-end chunk pushed elsewhere is dropped, not queued */
	struct fl_chunk *k = fl_chunk_new("xy", 2, 1);
	k->off = 2;
	fl_chunkq_push(&o, k);
	assert_null(o.head);
	assert_int_equal(o.bytes, 0);
	fl_chunkq_clear(&q);
}

static void test_split_consume_eof(void **state)
{
	(void)state;
	struct fl_chunkq q = { 0 }, o = { 0 };
	fl_chunkq_push(&q, fl_chunk_new("hello world", 11, 1));
	fl_chunkq_push(&q, fl_chunk_eof(1));
	assert_int_equal(fl_chunkq_split_to(&o, &q, 5, 2), 0);
	assert_int_equal(o.bytes, 5);
	assert_int_equal(q.bytes, 6);
	assert_memory_equal(o.tail->data, "hello", 5);
	assert_int_equal(fl_chunkq_split_to(&o, &q, 100, 2), 0);	/* the rest, whole */
	assert_int_equal(o.bytes, 11);
	assert_true(q.head && q.head->eof);
	assert_int_equal(fl_chunkq_split_to(&o, &q, 0, 3), 0);	/* the end marker moves */
	assert_null(q.head);
	assert_true(o.tail->eof);
	fl_chunkq_consume(&o, 7);
	assert_int_equal(o.bytes, 4);
	assert_memory_equal(o.head->data + o.head->off, "orld", 4);
	fl_chunkq_consume(&o, 4);
	assert_true(o.head && o.head->eof);	/* consuming bytes never eats the marker */
	fl_chunkq_clear(&o);
	assert_null(o.head);
}

static void test_move_all_order(void **state)
{
	(void)state;
	struct fl_chunkq a = { 0 }, b = { 0 };
	fl_chunkq_push(&a, fl_chunk_new("1", 1, 1));
	fl_chunkq_push(&b, fl_chunk_new("2", 1, 1));
	fl_chunkq_push(&b, fl_chunk_new("3", 1, 1));
	fl_chunkq_move_all(&a, &b, 9);
	assert_null(b.head);
	assert_int_equal(a.bytes, 3);
	char got[4] = { 0 };
	int i = 0;
	for (struct fl_chunk *k = a.head; k; k = k->next)
		got[i++] = k->data[0];
	assert_string_equal(got, "123");
	assert_int_equal(a.tail->t_in, 9);
	fl_chunkq_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_empty_chunks),
		cmocka_unit_test(test_split_consume_eof),
		cmocka_unit_test(test_move_all_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
