/* History model: string table, typed arrays, sorting and pairing, file loading. */
#include "checkers/history.h"
#include "checkers/history_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/history.h"
#include "core/text.h"

/* --- string table: open addressing over ids, strings in one arena each --- */

struct fl_chk_strtab {
	char **str;	/* id -> text */
	uint32_t *hash; /* id -> hash */
	size_t n, cap;
	int32_t *slots; /* -1 empty */
	size_t nslots;
};

static int strtab_grow_slots(struct fl_chk_strtab *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	int32_t *slots = malloc(ns * sizeof(*slots));
	if (!slots)
		return FL_ENOMEM;
	memset(slots, 0xff, ns * sizeof(*slots));
	for (size_t i = 0; i < t->n; i++) {
		size_t j = t->hash[i] & (ns - 1);
		while (slots[j] >= 0)
			j = (j + 1) & (ns - 1);
		slots[j] = (int32_t)i;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = ns;
	return 0;
}

static int32_t strtab_find(const struct fl_chk_strtab *t, const char *s, uint32_t h, size_t *slot)
{
	if (!t->nslots)
		return -1;
	size_t j = h & (t->nslots - 1);
	while (t->slots[j] >= 0) {
		int32_t id = t->slots[j];
		if (t->hash[id] == h && strcmp(t->str[id], s) == 0)
			return id;
		j = (j + 1) & (t->nslots - 1);
	}
	if (slot)
		*slot = j;
	return -1;
}

int32_t fl_chk_intern(struct fl_chk_history *h, const char *s)
{
	struct fl_chk_strtab *t = h->strs;
	if (!s)
		return -1;
	uint32_t hv = fl_text_hash(s);
	size_t slot = 0;
	int32_t id = strtab_find(t, s, hv, &slot);
	if (id >= 0)
		return id;
	if ((t->n + 1) * 2 > t->nslots) {
		if (strtab_grow_slots(t) < 0)
			return -1;
		strtab_find(t, s, hv, &slot);
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char **ns = realloc(t->str, cap * sizeof(*ns));
		if (!ns)
			return -1;
		t->str = ns;
		uint32_t *nh = realloc(t->hash, cap * sizeof(*nh));
		if (!nh)
			return -1;
		t->hash = nh;
		t->cap = cap;
	}
	char *copy = strdup(s);
	if (!copy)
		return -1;
	id = (int32_t)t->n++;
	t->str[id] = copy;
	t->hash[id] = hv;
	t->slots[slot] = id;
	return id;
}

int32_t fl_chk_lookup(const struct fl_chk_history *h, const char *s)
{
	return s ? strtab_find(h->strs, s, fl_text_hash(s), NULL) : -1;
}

const char *fl_chk_str(const struct fl_chk_history *h, int32_t id)
{
	return id >= 0 && (size_t)id < h->strs->n ? h->strs->str[id] : NULL;
}

size_t fl_chk_nstrs(const struct fl_chk_history *h)
{
	return h->strs->n;
}

/* --- lifecycle --- */

struct fl_chk_history *fl_chk_history_new(void)
{
	struct fl_chk_history *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->strs = calloc(1, sizeof(*h->strs));
	if (!h->strs) {
		free(h);
		return NULL;
	}
	h->t_first = INT64_MAX;
	h->t_last = INT64_MIN;
	return h;
}

void fl_chk_history_free(struct fl_chk_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_snaps; i++)
		json_decref(h->snaps[i].accounts);
	for (size_t i = 0; i < h->n_counts; i++)
		json_decref(h->counts[i].counts);
	free(h->ops);
	free(h->saga);
	free(h->effects);
	free(h->calls);
	free(h->transitions);
	free(h->exchanges);
	free(h->conns);
	free(h->snaps);
	free(h->faults);
	free(h->procs);
	free(h->probes);
	free(h->probe_trs);
	free(h->cqrs);
	free(h->counts);
	free(h->quiescence);
	for (size_t i = 0; i < h->strs->n; i++)
		free(h->strs->str[i]);
	free(h->strs->str);
	free(h->strs->hash);
	free(h->strs->slots);
	free(h->strs);
	free(h);
}

/* Append one zeroed element to a vector; returns it or NULL. */
void *fl_chk_vec_push(void **p, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *np = realloc(*p, nc * size);
		if (!np)
			return NULL;
		*p = np;
		*cap = nc;
	}
	char *e = (char *)*p + (*n)++ * size;
	memset(e, 0, size);
	return e;
}

void fl_chk_note_time(struct fl_chk_history *h, int64_t t)
{
	if (t < h->t_first)
		h->t_first = t;
	if (t > h->t_last)
		h->t_last = t;
}


/* --- sealing: sort by time (stable by line), pair operations --- */

#define CMP_BY(fn, type, field)                                                                    \
	static int fn(const void *a, const void *b)                                                \
	{                                                                                          \
		const type *x = a, *y = b;                                                         \
		if (x->field != y->field)                                                          \
			return x->field < y->field ? -1 : 1;                                       \
		return x->line < y->line ? -1 : x->line > y->line;                                 \
	}

CMP_BY(cmp_op, struct fl_chk_op, t)
CMP_BY(cmp_saga, struct fl_chk_saga_ev, t)
CMP_BY(cmp_effect, struct fl_chk_effect, t)
CMP_BY(cmp_call, struct fl_chk_call, start)
CMP_BY(cmp_tr, struct fl_chk_transition, t)
CMP_BY(cmp_ex, struct fl_chk_exchange, start)
CMP_BY(cmp_conn, struct fl_chk_conn, t)
CMP_BY(cmp_snap, struct fl_chk_snapshot, t)
CMP_BY(cmp_fault, struct fl_chk_fault, t)
CMP_BY(cmp_proc, struct fl_chk_process, t)
CMP_BY(cmp_probe, struct fl_chk_probe, t)
CMP_BY(cmp_ptr, struct fl_chk_probe_tr, t)
CMP_BY(cmp_cqrs, struct fl_chk_cqrs, t)
CMP_BY(cmp_counts, struct fl_chk_counts, t)

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort only when out of order: histories are appended in time order, so
 * the usual case is one linear scan. */
static void sort_if_needed(void *base, size_t n, size_t size,
			   int (*cmp)(const void *, const void *))
{
	const char *p = base;
	for (size_t i = 1; i < n; i++) {
		if (cmp(p + (i - 1) * size, p + i * size) > 0) {
			qsort(base, n, size, cmp);
			return;
		}
	}
}

#define SORT(h, name, cmp) sort_if_needed((h)->name, (h)->n_##name, sizeof(*(h)->name), cmp)

int fl_chk_history_seal(struct fl_chk_history *h)
{
	if (h->sealed)
		return 0;
	SORT(h, ops, cmp_op);
	SORT(h, saga, cmp_saga);
	SORT(h, effects, cmp_effect);
	SORT(h, calls, cmp_call);
	SORT(h, transitions, cmp_tr);
	SORT(h, exchanges, cmp_ex);
	SORT(h, conns, cmp_conn);
	SORT(h, snaps, cmp_snap);
	SORT(h, faults, cmp_fault);
	SORT(h, procs, cmp_proc);
	SORT(h, probes, cmp_probe);
	SORT(h, probe_trs, cmp_ptr);
	SORT(h, cqrs, cmp_cqrs);
	SORT(h, counts, cmp_counts);
	if (h->n_quiescence > 1)
		qsort(h->quiescence, h->n_quiescence, sizeof(int64_t), cmp_i64);
	/* Pair each completion with the open invoke of its process. */
	size_t ns = fl_chk_nstrs(h);
	int64_t *open = malloc((ns ? ns : 1) * sizeof(*open));
	if (!open)
		return FL_ENOMEM;
	for (size_t i = 0; i < ns; i++)
		open[i] = -1;
	for (size_t i = 0; i < h->n_ops; i++) {
		struct fl_chk_op *o = &h->ops[i];
		o->pair = -1;
		if (o->process < 0)
			continue;
		if (o->type == FL_OP_INVOKE) {
			open[o->process] = (int64_t)i;
		} else if (open[o->process] >= 0) {
			struct fl_chk_op *inv = &h->ops[open[o->process]];
			inv->pair = (int64_t)i;
			o->pair = open[o->process];
			/* A completion often carries the saga id the invoke lacked. */
			if (inv->saga < 0)
				inv->saga = o->saga;
			if (o->key < 0)
				o->key = inv->key;
			if (o->service < 0)
				o->service = inv->service;
			if (!o->amount)
				o->amount = inv->amount;
			open[o->process] = -1;
		}
	}
	free(open);
	h->sealed = true;
	return 0;
}

/* fl_chk_add_text's messages start with "line N: "; the reader names the
 * file and line itself. */
static int add_line(char *line, size_t len, long lineno, void *arg, char *err, size_t errlen)
{
	char lerr[256] = "";
	int rc = fl_chk_add_text(arg, line, len, lineno, lerr, sizeof(lerr));
	if (rc) {
		int off = 0;
		long ln;
		if (sscanf(lerr, "line %ld: %n", &ln, &off) != 1 || off <= 0)
			off = 0;
		fl_err_set(err, errlen, rc, "%s", lerr + off);
	}
	return rc;
}

int fl_chk_history_add_file(struct fl_chk_history *h, const char *path, char *err, size_t errlen)
{
	return fl_history_read_lines(path, add_line, h, err, errlen);
}

struct fl_chk_history *fl_chk_history_load(const char *path, char *err, size_t errlen)
{
	struct fl_chk_history *h = fl_chk_history_new();
	if (!h) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		return NULL;
	}
	if (fl_chk_history_add_file(h, path, err, errlen) < 0)
		goto fail;
	if (fl_chk_history_seal(h) < 0) {
		fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		goto fail;
	}
	return h;
fail:
	fl_chk_history_free(h);
	return NULL;
}

const char *fl_op_type_str(int type)
{
	static const char *const s[] = { "invoke", "ok", "fail", "info" };
	return type >= 0 && type < 4 ? s[type] : "?";
}

const char *fl_call_outcome_str(int outcome)
{
	static const char *const s[] = { "success", "failure", "slow", "rejected" };
	return outcome >= 0 && outcome < 4 ? s[outcome] : "?";
}

const char *fl_breaker_state_str(int state)
{
	static const char *const s[] = { "CLOSED", "OPEN", "HALF_OPEN", "OTHER" };
	return state >= 0 && state < 4 ? s[state] : "?";
}

const char *fl_probe_kind_str(int kind)
{
	static const char *const s[] = { "liveness", "readiness", "startup" };
	return kind >= 0 && kind < 3 ? s[kind] : "?";
}
