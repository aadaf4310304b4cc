/* core basics: error table, buffers, JSON helpers, PRNG, histories, clocks,
 * logging. Real files in a temporary directory, real threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/history.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prng.h"
#include "core/proc.h"

static char tmpdir[256];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fl-test-core-%d-%llx", (int)getpid(),
		 (unsigned long long)fl_prng_entropy_seed());
	return mkdir(tmpdir, 0700);
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* --- errors ----------------------------------------------------------- */

struct err_row {
	int code;
	const char *name;
	const char *msg;
};

static const struct err_row err_rows[] = {
#define ROW(name, value, msg) { (value), #name, (msg) },
	FL_ERRORS(ROW)
#undef ROW
};

static void test_errors(void **state)
{
	(void)state;
	size_t n = sizeof(err_rows) / sizeof(err_rows[0]);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(fl_err_name(err_rows[i].code), err_rows[i].name);
		assert_string_equal(fl_strerror(err_rows[i].code), err_rows[i].msg);
		assert_true(err_rows[i].code <= 0);
		for (size_t j = i + 1; j < n; j++) {
			assert_int_not_equal(err_rows[i].code, err_rows[j].code);
			assert_string_not_equal(err_rows[i].name, err_rows[j].name);
		}
	}
	assert_string_equal(fl_err_name(FL_ETIMEDOUT), "ETIMEDOUT");
	assert_string_equal(fl_strerror(FL_ETIMEDOUT), "timed out");
	assert_string_equal(fl_err_name(0), "OK");
	assert_int_equal(FL_ECONNREFUSED, -ECONNREFUSED);
	assert_true(FL_EPARSE <= -1000);
	/* outside the table: errno text for errno codes, else "unknown error" */
	assert_string_equal(fl_strerror(-ENOTDIR), strerror(ENOTDIR));
	assert_string_equal(fl_err_name(-ENOTDIR), "EUNKNOWN");
	assert_string_equal(fl_strerror(-5000), "unknown error");
	assert_string_equal(fl_strerror(42), "unknown error");
	/* errno mapping */
	assert_int_equal(fl_err_from_errno(ECONNREFUSED), FL_ECONNREFUSED);
	assert_int_equal(fl_err_from_errno(ENOENT), FL_ENOENT);
	assert_int_equal(fl_err_from_errno(EADDRINUSE), FL_EADDRINUSE);
	assert_int_equal(fl_err_from_errno(0), FL_EUNKNOWN);
	assert_int_equal(fl_err_from_errno(-3), FL_EUNKNOWN);
	/* fl_err_set fills the buffer (truncating) and passes the code through */
	char err[16];
	assert_int_equal(fl_err_set(err, sizeof(err), FL_EIO, "disk %s failed badly", "sda"),
			 FL_EIO);
	assert_string_equal(err, "disk sda failed");
	assert_int_equal(fl_err_set(NULL, 0, FL_EINVAL, "ignored"), FL_EINVAL);
}

/* --- buffers ---------------------------------------------------------- */

static void test_buf_growth(void **state)
{
	(void)state;
	struct fl_buf b = { 0 }; /* a zeroed buffer is valid */
	assert_int_equal(fl_buf_puts(&b, ""), 0);
	assert_int_equal(b.len, 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(fl_buf_printf(&b, "%04d,", i % 10000), 0);
	assert_int_equal(b.len, 100000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(memcmp(b.data, "0000,0001,0002,", 15), 0);
	assert_int_equal(memcmp(b.data + b.len - 5, "9999,", 5), 0);
	/* binary data with NULs */
	struct fl_buf c;
	fl_buf_init(&c, 0);
	assert_int_equal(fl_buf_append(&c, "a\0b", 3), 0);
	assert_int_equal(c.len, 3);
	assert_int_equal(memcmp(c.data, "a\0b", 4), 0);
	/* reset keeps the memory */
	char *mem = b.data;
	size_t cap = b.cap;
	fl_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, mem);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	/* reserve does not change len */
	assert_int_equal(fl_buf_reserve(&b, 1 << 20), 0);
	assert_true(b.cap >= (1 << 20) + 1);
	assert_int_equal(b.len, 0);
	fl_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	fl_buf_free(&c);
	fl_buf_free(NULL);
}

static void test_buf_cap(void **state)
{
	(void)state;
	struct fl_buf b;
	fl_buf_init(&b, 10);
	assert_int_equal(fl_buf_puts(&b, "123456"), 0);
	assert_int_equal(fl_buf_puts(&b, "78901"), FL_E2BIG);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "123456");
	assert_int_equal(fl_buf_printf(&b, "%s", "abcdefgh"), FL_E2BIG);
	assert_string_equal(b.data, "123456");
	assert_int_equal(fl_buf_puts(&b, "7890"), 0); /* exactly the cap */
	assert_int_equal(b.len, 10);
	assert_int_equal(fl_buf_append(&b, "x", 1), FL_E2BIG);
	assert_int_equal(fl_buf_reserve(&b, 1), FL_E2BIG);
	assert_string_equal(b.data, "1234567890");
	/* an absurd size is refused, not wrapped around */
	struct fl_buf c = { 0 };
	assert_int_equal(fl_buf_append(&c, "x", 1), 0);
	assert_int_equal(fl_buf_reserve(&c, (size_t)-1), FL_E2BIG);
	fl_buf_free(&c);
	fl_buf_free(&b);
}

static void test_buf_consume_take(void **state)
{
	(void)state;
	struct fl_buf b;
	fl_buf_init(&b, 0);
	fl_buf_puts(&b, "hello world");
	fl_buf_consume(&b, 6);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "world");
	fl_buf_consume(&b, 0);
	assert_string_equal(b.data, "world");
	fl_buf_consume(&b, 99);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	fl_buf_puts(&b, "taken");
	size_t len = 0;
	char *p = fl_buf_take(&b, &len);
	assert_string_equal(p, "taken");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);
	/* taking an empty buffer gives an empty string, not NULL */
	p = fl_buf_take(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	/* still usable afterwards */
	assert_int_equal(fl_buf_puts(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	fl_buf_free(&b);
}

/* --- JSON ------------------------------------------------------------- */

static void test_json_parse_and_dump(void **state)
{
	(void)state;
	char err[160];
	json_t *v = fl_json_parse("{\"a\": [1, 2.5, \"x\"]}", 20, err, sizeof(err));
	assert_non_null(v);
	char *s = fl_json_dumps(v);
	assert_string_equal(s, "{\"a\":[1,2.5,\"x\"]}");
	free(s);
	struct fl_buf b = { 0 };
	assert_int_equal(fl_json_append(&b, v), 0);
	assert_string_equal(b.data, "{\"a\":[1,2.5,\"x\"]}");
	fl_buf_free(&b);
	json_decref(v);
	/* scalars are values too */
	v = fl_json_parse("42", 2, err, sizeof(err));
	assert_int_equal(json_integer_value(v), 42);
	json_decref(v);
	/* errors say where */
	assert_null(fl_json_parse("{\"a\": }", 7, err, sizeof(err)));
	assert_int_equal(strncmp(err, "line 1 column 7: ", 17), 0);
	assert_null(fl_json_parse("{\n\"a\": 1,\n", 10, err, sizeof(err)));
	assert_int_equal(strncmp(err, "line 3", 6), 0);
	/* files */
	char path[300];
	tmp_path(path, sizeof(path), "bad.json");
	write_file(path, "{\n  \"x\": tru\n}\n");
	assert_null(fl_json_load_file(path, err, sizeof(err)));
	char want[320];
	snprintf(want, sizeof(want), "%s:2:", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	tmp_path(path, sizeof(path), "good.json");
	write_file(path, "[true]");
	v = fl_json_load_file(path, err, sizeof(err));
	assert_true(json_is_true(json_array_get(v, 0)));
	json_decref(v);
}

static void test_json_getters(void **state)
{
	(void)state;
	char err[160] = "";
	json_t *o = json_pack("{s:s, s:i, s:f, s:f, s:b, s:n, s:[]}", "name", "alice", "n", 7,
			      "whole", 3.0, "half", 3.5, "flag", 1, "nothing", "list");
	/* lenient */
	assert_string_equal(fl_json_str(o, "name", "d"), "alice");
	assert_string_equal(fl_json_str(o, "n", "d"), "d");
	assert_string_equal(fl_json_str(o, "absent", "d"), "d");
	assert_int_equal(fl_json_int(o, "n", -1), 7);
	assert_int_equal(fl_json_int(o, "half", -1), 3);
	assert_int_equal(fl_json_int(o, "name", -1), -1);
	assert_true(fl_json_num(o, "half", 0) == 3.5);
	assert_true(fl_json_num(o, "n", 0) == 7.0);
	assert_true(fl_json_bool(o, "flag", false));
	assert_false(fl_json_bool(o, "n", false));
	assert_int_equal(fl_json_int(NULL, "n", 5), 5);

	/* strict: absent optional leaves *out alone */
	const char *s = "untouched";
	assert_int_equal(fl_json_take_str(o, "absent", false, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "untouched");
	assert_int_equal(fl_json_take_str(o, "nothing", false, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "untouched");
	assert_int_equal(fl_json_take_str(o, "absent", true, &s, err, sizeof(err)), FL_ENOENT);
	assert_string_equal(err, "missing required field: absent");
	assert_int_equal(fl_json_take_str(o, "nothing", true, &s, err, sizeof(err)), FL_ENOENT);
	assert_int_equal(fl_json_take_str(o, "name", true, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "alice");
	assert_int_equal(fl_json_take_str(o, "n", true, &s, err, sizeof(err)), FL_EINVAL);
	assert_string_equal(err, "field n: expected string, got integer");

	int64_t i = -99;
	assert_int_equal(fl_json_take_int(o, "n", true, &i, err, sizeof(err)), 0);
	assert_int_equal(i, 7);
	assert_int_equal(fl_json_take_int(o, "whole", true, &i, err, sizeof(err)), 0);
	assert_int_equal(i, 3);
	assert_int_equal(fl_json_take_int(o, "half", true, &i, err, sizeof(err)), FL_EINVAL);
	assert_string_equal(err, "field half: expected integer, got real");
	assert_int_equal(fl_json_take_int(o, "list", true, &i, err, sizeof(err)), FL_EINVAL);
	assert_string_equal(err, "field list: expected integer, got array");
	assert_int_equal(i, 3);

	double d = 0;
	assert_int_equal(fl_json_take_num(o, "n", true, &d, err, sizeof(err)), 0);
	assert_true(d == 7.0);
	assert_int_equal(fl_json_take_num(o, "flag", true, &d, err, sizeof(err)), FL_EINVAL);
	assert_string_equal(err, "field flag: expected number, got boolean");

	bool b = false;
	assert_int_equal(fl_json_take_bool(o, "flag", true, &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(fl_json_take_bool(o, "name", false, &b, err, sizeof(err)), FL_EINVAL);
	assert_string_equal(err, "field name: expected boolean, got string");

	/* only_keys */
	const char *allowed[] = { "name", "n", "whole", "half", "flag", "nothing", "list", NULL };
	assert_int_equal(fl_json_only_keys(o, allowed, err, sizeof(err)), 0);
	const char *fewer[] = { "name", "n", "whole", "half", "flag", "nothing", NULL };
	assert_int_equal(fl_json_only_keys(o, fewer, err, sizeof(err)), FL_EINVAL);
	assert_string_equal(err, "unknown field: list");
	const char *none[] = { NULL };
	json_t *empty = json_object();
	assert_int_equal(fl_json_only_keys(empty, none, err, sizeof(err)), 0);
	json_decref(empty);

	/* type names */
	assert_string_equal(fl_json_type_name(json_object_get(o, "nothing")), "null");
	assert_string_equal(fl_json_type_name(json_object_get(o, "half")), "real");
	assert_string_equal(fl_json_type_name(o), "object");
	json_decref(o);
}

static void test_json_equal_num(void **state)
{
	(void)state;
	json_t *a = json_loads("{\"x\": [1, 2.0, {\"y\": 3}], \"s\": \"t\", \"n\": null}", 0, NULL);
	json_t *b = json_loads("{\"n\": null, \"s\": \"t\", \"x\": [1.0, 2, {\"y\": 3.0}]}", 0, NULL);
	json_t *c = json_loads("{\"n\": null, \"s\": \"t\", \"x\": [1.0, 2, {\"y\": 3.5}]}", 0, NULL);
	json_t *d = json_loads("{\"n\": null, \"s\": \"t\", \"x\": [1, 2]}", 0, NULL);
	json_t *e = json_loads("{\"n\": null, \"s\": \"t\", \"x\": [1, 2, {\"y\": 3}], \"z\": 1}", 0,
			       NULL);
	assert_true(fl_json_equal_num(a, b));
	assert_true(fl_json_equal_num(b, a));
	assert_false(json_equal(a, b)); /* jansson alone says no */
	assert_false(fl_json_equal_num(a, c));
	assert_false(fl_json_equal_num(a, d));
	assert_false(fl_json_equal_num(a, e));
	assert_false(fl_json_equal_num(e, a));
	json_t *one = json_integer(1), *str = json_string("1"), *t = json_true();
	assert_false(fl_json_equal_num(one, str));
	assert_false(fl_json_equal_num(one, t));
	assert_true(fl_json_equal_num(t, t));
	json_decref(one);
	json_decref(str);
	json_decref(t);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
	json_decref(e);
}

/* --- PRNG ------------------------------------------------------------- */

/* Reference splitmix64 and xoshiro256** written from the published
 * algorithms, to check the implementation (and that seeds replay across
 * versions). */
static uint64_t ref_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t ref_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t ref_next(uint64_t s[4])
{
	uint64_t result = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ref_rotl(s[3], 45);
	return result;
}

static void test_prng_sequence(void **state)
{
	(void)state;
	struct fl_prng a, b, c;
	fl_prng_seed(&a, 0);
	/* splitmix64(0)'s first output, a published test value */
	assert_true(a.s[0] == 0xe220a8397b1dcdafULL);
	uint64_t x = 12345, ref[4];
	for (int i = 0; i < 4; i++)
		ref[i] = ref_splitmix(&x);
	fl_prng_seed(&a, 12345);
	fl_prng_seed(&b, 12345);
	fl_prng_seed(&c, 12346);
	int same_c = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t va = fl_prng_u64(&a);
		assert_true(va == fl_prng_u64(&b));
		assert_true(va == ref_next(ref));
		same_c += va == fl_prng_u64(&c);
	}
	assert_int_equal(same_c, 0);
	/* a copy replays */
	struct fl_prng copy = a;
	assert_true(fl_prng_u64(&copy) == fl_prng_u64(&a));
}

static void test_prng_fork(void **state)
{
	(void)state;
	struct fl_prng p, p2, c1, c2, c1again, before;
	fl_prng_seed(&p, 99);
	before = p;
	fl_prng_fork(&p, 1, &c1);
	fl_prng_fork(&p, 2, &c2);
	assert_memory_equal(&p, &before, sizeof(p)); /* the parent does not advance */
	/* forking in another order gives the same children */
	fl_prng_seed(&p2, 99);
	fl_prng_fork(&p2, 2, &c1again);
	assert_memory_equal(&c1again, &c2, sizeof(c2));
	fl_prng_fork(&p2, 1, &c1again);
	assert_memory_equal(&c1again, &c1, sizeof(c1));
	/* children differ from each other and from the parent */
	int same12 = 0, same1p = 0;
	struct fl_prng pp = p;
	for (int i = 0; i < 1000; i++) {
		uint64_t a = fl_prng_u64(&c1), b = fl_prng_u64(&c2), c = fl_prng_u64(&pp);
		same12 += a == b;
		same1p += a == c;
	}
	assert_int_equal(same12, 0);
	assert_int_equal(same1p, 0);
	/* stable: the same seed and stream always give the same stream */
	struct fl_prng q, d1, d2;
	fl_prng_seed(&q, 99);
	fl_prng_fork(&q, 1, &d1);
	fl_prng_seed(&q, 99);
	fl_prng_fork(&q, 1, &d2);
	for (int i = 0; i < 100; i++)
		assert_true(fl_prng_u64(&d1) == fl_prng_u64(&d2));
	/* a child's draws do not disturb its siblings */
	fl_prng_fork(&p, 2, &d1);
	fl_prng_fork(&p, 1, &d2);
	for (int i = 0; i < 50; i++)
		fl_prng_u64(&d2);
	fl_prng_fork(&p, 2, &d2);
	assert_memory_equal(&d1, &d2, sizeof(d1));
}

static void test_prng_range(void **state)
{
	(void)state;
	struct fl_prng r;
	fl_prng_seed(&r, 7);
	/* bounds, inclusive */
	bool saw_lo = false, saw_hi = false;
	for (int i = 0; i < 10000; i++) {
		int64_t v = fl_prng_range(&r, -3, 3);
		assert_true(v >= -3 && v <= 3);
		saw_lo |= v == -3;
		saw_hi |= v == 3;
	}
	assert_true(saw_lo && saw_hi);
	assert_int_equal(fl_prng_range(&r, 5, 5), 5);
	assert_int_equal(fl_prng_range(&r, 9, 2), 9);
	int64_t big = fl_prng_range(&r, INT64_MIN, INT64_MAX);
	(void)big;
	for (int i = 0; i < 1000; i++) {
		int64_t v = fl_prng_range(&r, INT64_MAX - 2, INT64_MAX);
		assert_true(v >= INT64_MAX - 2);
	}
	/* rough uniformity: chi-square over 6 buckets, 5 degrees of freedom;
	 * 20.5 is the 0.1% critical value */
	int counts[6] = { 0 };
	int n = 60000;
	for (int i = 0; i < n; i++)
		counts[fl_prng_range(&r, 0, 5)]++;
	double chi = 0, expect = n / 6.0;
	for (int i = 0; i < 6; i++)
		chi += (counts[i] - expect) * (counts[i] - expect) / expect;
	assert_true(chi < 20.5);
	/* doubles in [0, 1) with mean near 1/2 */
	double sum = 0;
	for (int i = 0; i < n; i++) {
		double v = fl_prng_double(&r);
		assert_true(v >= 0 && v < 1);
		sum += v;
	}
	assert_true(sum / n > 0.49 && sum / n < 0.51);
	/* chance */
	struct fl_prng before = r;
	assert_true(fl_prng_chance(&r, 1.0));
	assert_false(fl_prng_chance(&r, 0.0));
	assert_false(fl_prng_chance(&r, -1));
	assert_memory_equal(&r, &before, sizeof(r)); /* no draw spent */
	int hits = 0;
	for (int i = 0; i < n; i++)
		hits += fl_prng_chance(&r, 0.3);
	assert_true(hits > n * 0.28 && hits < n * 0.32);
	/* entropy seeds differ */
	assert_true(fl_prng_entropy_seed() != fl_prng_entropy_seed());
}

/* --- history ---------------------------------------------------------- */

struct readback {
	json_t *events;
	long last_line;
	int stop_at;
};

static int collect(json_t *ev, long line, void *arg)
{
	struct readback *rb = arg;
	json_array_append(rb->events, ev);
	rb->last_line = line;
	if (rb->stop_at && (int)json_array_size(rb->events) == rb->stop_at)
		return 77;
	return 0;
}

static void test_history_roundtrip(void **state)
{
	(void)state;
	char path[300], err[400];
	tmp_path(path, sizeof(path), "h.jsonl");
	struct fl_history *h = fl_history_open(path, 0, err, sizeof(err));
	assert_non_null(h);
	assert_string_equal(fl_history_path(h), path);
	json_t *ev = json_pack("{s:s, s:i}", "event", "fault_added", "port", 8080);
	assert_int_equal(fl_history_append(h, ev), 0);
	assert_null(json_object_get(ev, "t")); /* the caller's object is not stamped */
	json_decref(ev);
	json_t *val = json_pack("{s:i}", "amount", 100);
	assert_int_equal(fl_history_op(h, 3, "invoke", "transfer", val), 0);
	assert_int_equal(fl_history_op(h, 3, "ok", "transfer", NULL), 0);
	json_decref(val);
	json_t *own = json_pack("{s:I, s:s}", "t", (json_int_t)5, "ts", "given");
	assert_int_equal(fl_history_append(h, own), 0);
	json_decref(own);
	json_t *arr = json_array();
	assert_int_equal(fl_history_append(h, arr), FL_EINVAL);
	json_decref(arr);
	assert_int_equal(fl_history_count(h), 4);
	fl_history_close(h);
	fl_history_close(NULL);

	/* append mode adds */
	h = fl_history_open(path, 1, err, sizeof(err));
	ev = json_pack("{s:s}", "event", "last");
	assert_int_equal(fl_history_append(h, ev), 0);
	json_decref(ev);
	fl_history_close(h);

	struct readback rb = { .events = json_array() };
	assert_int_equal(fl_history_read(path, collect, &rb, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(rb.events), 5);
	assert_int_equal(rb.last_line, 5);
	json_t *e0 = json_array_get(rb.events, 0), *e1 = json_array_get(rb.events, 1);
	assert_string_equal(fl_json_str(e0, "event", ""), "fault_added");
	assert_int_equal(fl_json_int(e0, "port", 0), 8080);
	assert_true(json_is_integer(json_object_get(e0, "t")));
	const char *ts = fl_json_str(e0, "ts", "");
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[23], 'Z');
	assert_int_equal(fl_json_int(e1, "process", -1), 3);
	assert_string_equal(fl_json_str(e1, "type", ""), "invoke");
	assert_string_equal(fl_json_str(e1, "f", ""), "transfer");
	assert_int_equal(fl_json_int(json_object_get(e1, "value"), "amount", 0), 100);
	assert_null(json_object_get(json_array_get(rb.events, 2), "value"));
	assert_true(fl_json_int(e1, "t", 0) >= fl_json_int(e0, "t", 0));
	assert_int_equal(fl_json_int(json_array_get(rb.events, 3), "t", 0), 5);
	assert_string_equal(fl_json_str(json_array_get(rb.events, 3), "ts", ""), "given");
	json_decref(rb.events);

	/* the callback can stop the read */
	rb = (struct readback){ .events = json_array(), .stop_at = 2 };
	assert_int_equal(fl_history_read(path, collect, &rb, err, sizeof(err)), 77);
	assert_int_equal(json_array_size(rb.events), 2);
	json_decref(rb.events);
}

static void test_history_errors(void **state)
{
	(void)state;
	char path[300], err[400], want[400];
	tmp_path(path, sizeof(path), "bad.jsonl");
	write_file(path, "{\"a\":1}\n\n{\"b\": \n{\"c\":3}\n");
	struct readback rb = { .events = json_array() };
	assert_int_equal(fl_history_read(path, collect, &rb, err, sizeof(err)), FL_EPARSE);
	snprintf(want, sizeof(want), "%s:3: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_int_equal(json_array_size(rb.events), 1); /* blank line 2 skipped */
	json_decref(rb.events);

	write_file(path, "{\"a\":1}\n[1,2]\n");
	rb = (struct readback){ .events = json_array() };
	assert_int_equal(fl_history_read(path, collect, &rb, err, sizeof(err)), FL_EPARSE);
	snprintf(want, sizeof(want), "%s:2: not a JSON object", path);
	assert_string_equal(err, want);
	json_decref(rb.events);

	tmp_path(path, sizeof(path), "missing.jsonl");
	rb = (struct readback){ .events = json_array() };
	assert_int_equal(fl_history_read(path, collect, &rb, err, sizeof(err)), FL_ENOENT);
	assert_non_null(strstr(err, path));
	json_decref(rb.events);

	tmp_path(path, sizeof(path), "no/such/dir/h.jsonl");
	assert_null(fl_history_open(path, 0, err, sizeof(err)));
	assert_non_null(strstr(err, path));
}

struct writer {
	struct fl_history *h;
	int id;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < 250; i++) {
		json_t *v = json_pack("{s:i}", "i", i);
		fl_history_op(w->h, w->id, "ok", "write", v);
		json_decref(v);
	}
	return NULL;
}

static int count_per_process(json_t *ev, long line, void *arg)
{
	(void)line;
	int *per = arg;
	per[fl_json_int(ev, "process", 0)]++;
	return 0;
}

static void test_history_threads(void **state)
{
	(void)state;
	char path[300], err[400];
	tmp_path(path, sizeof(path), "threads.jsonl");
	struct fl_history *h = fl_history_open(path, 0, err, sizeof(err));
	pthread_t th[4];
	struct writer w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ h, i };
		pthread_create(&th[i], NULL, write_many, &w[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(fl_history_count(h), 1000);
	fl_history_close(h);
	int per[4] = { 0 };
	assert_int_equal(fl_history_read(path, count_per_process, per, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(per[i], 250);
}

/* --- clocks ----------------------------------------------------------- */

static void test_clock(void **state)
{
	(void)state;
	int64_t prev = fl_mono_ns();
	for (int i = 0; i < 100000; i++) {
		int64_t now = fl_mono_ns();
		assert_true(now >= prev);
		prev = now;
	}
	int64_t t0 = fl_mono_ns();
	fl_sleep_ns(20 * 1000000);
	int64_t dt = fl_mono_ns() - t0;
	assert_true(dt >= 20 * 1000000);
	assert_true(dt < 2000 * 1000000LL);
	int64_t wall = fl_wall_ns();
	assert_true(llabs(wall / 1000000000 - (int64_t)time(NULL)) <= 1);

	char out[64];
	assert_string_equal(fl_wall_iso(0, out, sizeof(out)), "1970-01-01T00:00:00.000Z");
	assert_string_equal(fl_wall_iso(1700000000123456789LL, out, sizeof(out)),
			    "2023-11-14T22:13:20.123Z");
	assert_string_equal(fl_duration_str(850000, out, sizeof(out)), "850 µs");
	assert_string_equal(fl_duration_str(12300000, out, sizeof(out)), "12.3 ms");
	assert_string_equal(fl_duration_str(4200000000LL, out, sizeof(out)), "4.20 s");
}

/* --- logging ---------------------------------------------------------- */

static void test_log(void **state)
{
	(void)state;
	enum fl_log_level lv;
	assert_int_equal(fl_log_level_parse("warn", &lv), 0);
	assert_int_equal(lv, FL_LOG_WARN);
	assert_int_equal(fl_log_level_parse("loud", &lv), FL_EINVAL);

	char path[300];
	tmp_path(path, sizeof(path), "log.jsonl");
	FILE *f = fopen(path, "w+");
	fl_log_setup(FL_LOG_INFO, FL_LOG_JSON, f);
	fl_debug("test", "hidden %d", 1);
	json_t *fields = json_pack("{s:s}", "saga_id", "s-1");
	fl_logj(FL_LOG_WARN, "saga", fields, "step %s failed", "debit");
	json_decref(fields);
	fl_log_setup(FL_LOG_INFO, FL_LOG_TEXT, f);
	fl_info("proxy", "listening on %s", "127.0.0.1:1");
	fl_log_setup(FL_LOG_INFO, FL_LOG_TEXT, NULL);
	rewind(f);
	char line[512];
	assert_non_null(fgets(line, sizeof(line), f));
	json_t *o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_string_equal(fl_json_str(o, "level", ""), "warn");
	assert_string_equal(fl_json_str(o, "component", ""), "saga");
	assert_string_equal(fl_json_str(o, "msg", ""), "step debit failed");
	assert_string_equal(fl_json_str(o, "saga_id", ""), "s-1");
	json_decref(o);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "info  proxy: listening on 127.0.0.1:1"));
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
}

/* A process's start time names it; a zombie has one but is not alive. */
static void test_proc_start_time(void **state)
{
	(void)state;
	unsigned long long me = fl_proc_start_time(getpid());
	assert_true(me > 0);
	assert_int_equal(fl_proc_live_start_time(getpid()), me);
	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0)
		_exit(0);
	/* until reaped, the child is a zombie: start time kept, not alive */
	unsigned long long z = 0;
	for (int i = 0; i < 500 && fl_proc_live_start_time(c) != 0; i++)
		usleep(2000);
	z = fl_proc_start_time(c);
	assert_true(z >= me);
	assert_int_equal(fl_proc_live_start_time(c), 0);
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_int_equal(fl_proc_start_time(c), 0);
	assert_int_equal(fl_proc_live_start_time(c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_consume_take),
		cmocka_unit_test(test_json_parse_and_dump),
		cmocka_unit_test(test_json_getters),
		cmocka_unit_test(test_json_equal_num),
		cmocka_unit_test(test_prng_sequence),
		cmocka_unit_test(test_prng_fork),
		cmocka_unit_test(test_prng_range),
		cmocka_unit_test(test_history_roundtrip),
		cmocka_unit_test(test_history_errors),
		cmocka_unit_test(test_history_threads),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_proc_start_time),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
