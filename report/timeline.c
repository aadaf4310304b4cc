/* History files -> the page's timeline: client operations (invoke paired
 * with its completion by process), fault windows (added paired with removed
 * by id, else by what and target) and process events; then buckets of the
 * time axis with per-type counts and a latency histogram each. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/html_int.h"
#include "core/errors.h"
#include "core/history.h"
#include "core/json.h"

#define MAX_PROCESS 1000000

static void seen(struct fl_timeline *tl, int64_t t)
{
	if (!tl->t0 || t < tl->t0)
		tl->t0 = t;
	if (t > tl->t1)
		tl->t1 = t;
}

static int type_index(struct fl_timeline *tl, const char *name)
{
	for (size_t i = 0; i < tl->ntypes; i++)
		if (strcmp(tl->types[i], name) == 0)
			return (int)i;
	if (tl->ntypes >= 64) /* a page shows a few; the rest are "other" */
		return 63;
	if (fl_report_grow((void **)&tl->types, &tl->captypes, tl->ntypes, sizeof(*tl->types)))
		return -1;
	snprintf(tl->types[tl->ntypes], sizeof(tl->types[0]), "%s",
		 tl->ntypes == 63 ? "other" : name);
	return (int)tl->ntypes++;
}

static int on_op(struct fl_timeline *tl, const char *f, const char *type, int64_t proc, int64_t t)
{
	if ((size_t)proc >= tl->npend) {
		size_t n = (size_t)proc + 64;
		struct pend *v = realloc(tl->pend, n * sizeof(*v));
		if (!v)
			return FL_ENOMEM;
		memset(v + tl->npend, 0, (n - tl->npend) * sizeof(*v));
		tl->pend = v;
		tl->npend = n;
	}
	struct pend *p = &tl->pend[proc];
	if (strcmp(type, "invoke") == 0) {
		int ti = type_index(tl, f);
		if (ti < 0)
			return FL_ENOMEM;
		p->t = t;
		p->type = ti;
		return 0;
	}
	if (!p->t)
		return 0; /* a completion without its invoke (cut history) */
	if (fl_report_grow((void **)&tl->ops, &tl->capops, tl->nops, sizeof(*tl->ops)))
		return FL_ENOMEM;
	tl->ops[tl->nops++] = (struct fl_tl_op){
		.t = p->t,
		.latency = t - p->t,
		.type = (uint16_t)p->type,
		.status = type[0] == 'o'   ? 'o'
			  : type[0] == 'f' ? 'f'
					   : 'i',
	};
	p->t = 0;
	return 0;
}

/* "latency=253 jitter=21" from a fault's attributes (and chaos settings). */
static void params_of(const json_t *ev, char *out, size_t len)
{
	static const char *const keys[] = { "attributes", "chaos", "params" };
	size_t o = 0;
	out[0] = '\0';
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_t *obj = json_object_get(ev, keys[k]);
		const char *name;
		json_t *v;
		json_object_foreach(obj, name, v) {
			char val[48];
			if (json_is_string(v))
				snprintf(val, sizeof(val), "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(val, sizeof(val), "%" JSON_INTEGER_FORMAT,
					 json_integer_value(v));
			else if (json_is_real(v))
				snprintf(val, sizeof(val), "%.4g", json_real_value(v));
			else if (json_is_boolean(v))
				snprintf(val, sizeof(val), "%s",
					 json_is_true(v) ? "true" : "false");
			else
				continue;
			int n = snprintf(out + o, len - o, "%s%s=%s", o ? " " : "", name, val);
			if (n < 0 || (size_t)n >= len - o)
				return;
			o += (size_t)n;
		}
	}
}

static int on_fault(struct fl_timeline *tl, const json_t *ev, int64_t t)
{
	const char *action = fl_json_str(ev, "action", "");
	json_t *w = json_object_get(ev, "what");
	char *dumped = w && !json_is_string(w) ? fl_json_dumps(w) : NULL;
	const char *what = json_is_string(w) ? json_string_value(w) : dumped ? dumped : "fault";
	const char *target = fl_json_str(ev, "target", "");
	const char *id = fl_json_str(ev, "id", "");
	int rc = 0;
	if (strcmp(action, "added") == 0 || strcmp(action, "start") == 0) {
		if (fl_report_grow((void **)&tl->faults, &tl->capfaults, tl->nfaults,
				   sizeof(*tl->faults))) {
			rc = FL_ENOMEM;
			goto out;
		}
		struct fl_tl_fault *f = &tl->faults[tl->nfaults++];
		memset(f, 0, sizeof(*f));
		f->from = t;
		f->to = -1;
		snprintf(f->what, sizeof(f->what), "%s", what);
		snprintf(f->target, sizeof(f->target), "%s", target);
		snprintf(f->id, sizeof(f->id), "%s", id);
		params_of(ev, f->params, sizeof(f->params));
		goto out;
	}
	for (size_t i = tl->nfaults; i-- > 0;) { /* removed: close the latest open match */
		struct fl_tl_fault *f = &tl->faults[i];
		if (f->to >= 0)
			continue;
		if (id[0] ? strcmp(f->id, id) == 0
			  : strcmp(f->what, what) == 0 && strcmp(f->target, target) == 0) {
			f->to = t;
			break;
		}
	}
out:
	free(dumped);
	return rc;
}

static int on_event(json_t *ev, long line, void *arg)
{
	(void)line;
	struct fl_timeline *tl = arg;
	tl->lines++;
	int64_t t = fl_json_int(ev, "t", 0);
	if (t <= 0)
		return 0;
	seen(tl, t);
	const char *type = fl_json_str(ev, "type", NULL);
	int64_t proc = fl_json_int(ev, "process", -1);
	if (type && proc >= 0 && proc < MAX_PROCESS &&
	    (!strcmp(type, "invoke") || !strcmp(type, "ok") || !strcmp(type, "fail") ||
	     !strcmp(type, "info")))
		return on_op(tl, fl_json_str(ev, "f", "op"), type, proc, t);
	const char *event = fl_json_str(ev, "event", "");
	if (strcmp(event, "fault") == 0)
		return on_fault(tl, ev, t);
	if (strcmp(event, "process") == 0) {
		char label[120];
		snprintf(label, sizeof(label), "%s %s", fl_json_str(ev, "service", "?"),
			 fl_json_str(ev, "action", "?"));
		return fl_timeline_mark(tl, t, 'p', label);
	}
	return 0;
}

/* --- the fast path ----------------------------------------------------------- */

/* Client operations are most of a history's lines and the page needs four
 * top-level fields of them: a scan of the object's top level reads those
 * (skipping every other value) about ten times faster than a full parse.
 * Anything else — an event, an escape in a wanted string, an odd shape —
 * goes to the full parser, so the scan only has to be right for what it
 * accepts. */
struct op_fields {
	int64_t t, process;
	const char *type, *f;
	size_t ntype, nf;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Past the string starting at p (at its '"'); NULL if unterminated. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the value at p: a string, or anything up to the next ',' or '}' at
 * this level (nested objects and arrays counted, strings inside skipped). */
static const char *skip_value(const char *p)
{
	if (*p == '"')
		return skip_string(p);
	int depth = 0;
	for (; *p; p++) {
		if (*p == '"') {
			if (!(p = skip_string(p)))
				return NULL;
			p--;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == ',' && depth == 0) {
			return p;
		}
	}
	return depth ? NULL : p;
}

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* 1: an operation line read into *o; 0: not one for the fast path. */
static int scan_op(const char *line, struct op_fields *o)
{
	memset(o, 0, sizeof(*o));
	o->process = -1;
	const char *p = skip_ws(line);
	if (*p++ != '{')
		return 0;
	for (;;) {
		p = skip_ws(p);
		if (*p != '"')
			return 0;
		const char *k = p + 1, *ke = skip_string(p);
		if (!ke || memchr(k, '\\', (size_t)(ke - 1 - k)))
			return 0;
		size_t kn = (size_t)(ke - 1 - k);
		p = skip_ws(ke);
		if (*p++ != ':')
			return 0;
		p = skip_ws(p);
		const char *ve = skip_value(p);
		if (!ve)
			return 0;
		if (key_is(k, kn, "event"))
			return 0;
		if (key_is(k, kn, "t") || key_is(k, kn, "process")) {
			char *end;
			long long v = strtoll(p, &end, 10);
			if (end == p || (*end != ',' && *end != '}' && *end != ' '))
				return 0; /* not an integer: the full parser decides */
			*(key_is(k, kn, "t") ? &o->t : &o->process) = v;
		} else if (key_is(k, kn, "type") || key_is(k, kn, "f")) {
			if (*p != '"' || memchr(p + 1, '\\', (size_t)(ve - 1 - (p + 1))))
				return 0;
			*(key_is(k, kn, "type") ? &o->type : &o->f) = p + 1;
			*(key_is(k, kn, "type") ? &o->ntype : &o->nf) = (size_t)(ve - 1 - (p + 1));
		}
		p = skip_ws(ve);
		if (*p == '}')
			break;
		if (*p++ != ',')
			return 0;
	}
	if (*skip_ws(p + 1) || !o->type || o->t <= 0 || o->process < 0 || o->process >= MAX_PROCESS)
		return 0;
	static const char *const kinds[] = { "invoke", "ok", "fail", "info" };
	for (size_t i = 0; i < 4; i++)
		if (key_is(o->type, o->ntype, kinds[i]))
			return 1;
	return 0;
}

static int on_line(char *line, size_t len, long lineno, void *arg, char *err, size_t errlen)
{
	struct fl_timeline *tl = arg;
	struct op_fields o;
	if (scan_op(line, &o)) {
		char type[8], f[40];
		snprintf(type, sizeof(type), "%.*s", (int)o.ntype, o.type);
		snprintf(f, sizeof(f), "%.*s", o.f ? (int)o.nf : 2, o.f ? o.f : "op");
		tl->lines++;
		seen(tl, o.t);
		return on_op(tl, f, type, o.process, o.t);
	}
	json_error_t je;
	json_t *ev = json_loadb(line, len, 0, &je);
	if (!ev || !json_is_object(ev)) {
		json_decref(ev);
		return fl_err_set(err, errlen, FL_EPARSE, "%s", ev ? "not a JSON object" : je.text);
	}
	int rc = on_event(ev, lineno, arg);
	json_decref(ev);
	return rc;
}

int fl_timeline_read(struct fl_timeline *tl, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < tl->npend; i++) /* processes are per file */
		tl->pend[i].t = 0;
	tl->files++;
	return fl_history_read_lines(path, on_line, tl, err, errlen);
}

int fl_timeline_mark(struct fl_timeline *tl, int64_t t, char kind, const char *label)
{
	if (fl_report_grow((void **)&tl->marks, &tl->capmarks, tl->nmarks, sizeof(*tl->marks)))
		return FL_ENOMEM;
	struct fl_tl_mark *m = &tl->marks[tl->nmarks++];
	m->t = t;
	m->kind = kind;
	snprintf(m->label, sizeof(m->label), "%s", label);
	return 0;
}

int fl_timeline_finish(struct fl_timeline *tl, size_t max_buckets)
{
	int64_t span = tl->t1 > tl->t0 ? tl->t1 - tl->t0 : 1;
	int64_t secs = (span + 999999999) / 1000000000;
	int64_t per = secs <= (int64_t)max_buckets
			      ? 1
			      : (secs + (int64_t)max_buckets - 1) / (int64_t)max_buckets;
	tl->bucket_ns = per * 1000000000LL;
	tl->nbuckets = (size_t)(span / tl->bucket_ns) + 1;
	tl->series = calloc(tl->ntypes ? tl->ntypes : 1, sizeof(*tl->series));
	tl->lat = malloc(tl->nbuckets * sizeof(*tl->lat));
	tl->all = malloc(sizeof(*tl->all));
	if (!tl->series || !tl->lat || !tl->all)
		return FL_ENOMEM;
	fl_hist_init(tl->all);
	for (size_t b = 0; b < tl->nbuckets; b++)
		fl_hist_init(&tl->lat[b]);
	for (size_t i = 0; i < tl->ntypes; i++) {
		struct fl_tl_series *s = &tl->series[i];
		snprintf(s->name, sizeof(s->name), "%s", tl->types[i]);
		s->ok = calloc(tl->nbuckets, sizeof(*s->ok));
		s->err = calloc(tl->nbuckets, sizeof(*s->err));
		if (!s->ok || !s->err)
			return FL_ENOMEM;
	}
	for (size_t i = 0; i < tl->nops; i++) {
		const struct fl_tl_op *o = &tl->ops[i];
		size_t b = (size_t)((o->t - tl->t0) / tl->bucket_ns);
		if (b >= tl->nbuckets)
			b = tl->nbuckets - 1;
		struct fl_tl_series *s = &tl->series[o->type];
		if (o->status == 'o')
			s->ok[b]++, s->total_ok++;
		else
			s->err[b]++, s->total_err++;
		uint64_t lat = o->latency > 0 ? (uint64_t)o->latency : 0;
		fl_hist_record(&tl->lat[b], lat);
		fl_hist_record(tl->all, lat);
	}
	return 0;
}

void fl_timeline_free(struct fl_timeline *tl)
{
	for (size_t i = 0; tl->series && i < tl->ntypes; i++) {
		free(tl->series[i].ok);
		free(tl->series[i].err);
	}
	free(tl->series);
	free(tl->lat);
	free(tl->all);
	free(tl->ops);
	free(tl->faults);
	free(tl->marks);
	free(tl->types);
	free(tl->pend);
	memset(tl, 0, sizeof(*tl));
}
