/* The checker registry: name, defaults, JSON configuration and the check,
 * for every checker, so the CLI and the Lua binding dispatch one way. */
#include <stdio.h>
#include <string.h>

#include "checkers/check.h"
#include "core/errors.h"

static int no_since(const char *checker, const struct fl_checker_overrides *o, char *err,
		    size_t errlen)
{
	if (o->has_since)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "since applies to saga and breaker, not %s", checker);
	return 0;
}

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, FL_CHK_NAME_MAX, "%s", src);
}

/* --- saga --- */

static void saga_defaults(union fl_checker_config *c)
{
	fl_saga_config_defaults(&c->saga);
}

static int saga_from_json(union fl_checker_config *c, const json_t *j, const char *select,
			  char *err, size_t errlen)
{
	(void)select;
	return fl_saga_config_from_json(&c->saga, j, err, errlen);
}

static int saga_override(union fl_checker_config *c, const struct fl_checker_overrides *o,
			 char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (o->has_since)
		c->saga.since = o->since;
	return 0;
}

static struct fl_check_result *saga_run(struct fl_chk_history *h, const union fl_checker_config *c)
{
	return fl_check_saga(h, &c->saga);
}

/* --- bank --- */

static void bank_defaults(union fl_checker_config *c)
{
	fl_bank_config_defaults(&c->bank);
}

static int bank_from_json(union fl_checker_config *c, const json_t *j, const char *select,
			  char *err, size_t errlen)
{
	(void)select;
	return fl_bank_config_from_json(&c->bank, j, err, errlen);
}

static int bank_override(union fl_checker_config *c, const struct fl_checker_overrides *o,
			 char *err, size_t errlen)
{
	(void)c;
	return no_since("bank", o, err, errlen);
}

static struct fl_check_result *bank_run(struct fl_chk_history *h, const union fl_checker_config *c)
{
	return fl_check_bank(h, &c->bank);
}

/* --- breaker --- */

static void breaker_defaults(union fl_checker_config *c)
{
	fl_breaker_config_defaults(&c->breaker);
}

static int breaker_from_json(union fl_checker_config *c, const json_t *j, const char *select,
			     char *err, size_t errlen)
{
	return fl_breaker_config_from_json(&c->breaker, j, select, err, errlen);
}

static int breaker_override(union fl_checker_config *c, const struct fl_checker_overrides *o,
			    char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (o->name)
		copy_name(c->breaker.name, o->name);
	if (o->link)
		copy_name(c->breaker.link, o->link);
	if (o->has_since)
		c->breaker.since = o->since;
	return 0;
}

static struct fl_check_result *breaker_run(struct fl_chk_history *h,
					   const union fl_checker_config *c)
{
	return fl_check_breaker(h, &c->breaker);
}

/* --- probe --- */

static void probe_defaults(union fl_checker_config *c)
{
	fl_probe_check_config_defaults(&c->probe);
}

static int probe_from_json(union fl_checker_config *c, const json_t *j, const char *select,
			   char *err, size_t errlen)
{
	(void)select;
	return fl_probe_check_config_from_json(&c->probe, j, err, errlen);
}

static int probe_override(union fl_checker_config *c, const struct fl_checker_overrides *o,
			  char *err, size_t errlen)
{
	if (o->service)
		copy_name(c->probe.service, o->service);
	return no_since("probe", o, err, errlen);
}

static struct fl_check_result *probe_run(struct fl_chk_history *h, const union fl_checker_config *c)
{
	return fl_check_probe(h, &c->probe);
}

/* --- the table --- */

static const struct fl_checker saga = {
	.name = "saga",
	.defaults = saga_defaults,
	.from_json = saga_from_json,
	.override = saga_override,
	.run = saga_run,
};
static const struct fl_checker bank = {
	.name = "bank",
	.defaults = bank_defaults,
	.from_json = bank_from_json,
	.override = bank_override,
	.run = bank_run,
};
static const struct fl_checker breaker = {
	.name = "breaker",
	.defaults = breaker_defaults,
	.from_json = breaker_from_json,
	.override = breaker_override,
	.run = breaker_run,
};
static const struct fl_checker probe = {
	.name = "probe",
	.defaults = probe_defaults,
	.from_json = probe_from_json,
	.override = probe_override,
	.run = probe_run,
};

static const struct fl_checker *const checkers[] = { &saga, &bank, &breaker, &probe, NULL };

const struct fl_checker *const *fl_checkers(void)
{
	return checkers;
}

const struct fl_checker *fl_checker_find(const char *name)
{
	for (const struct fl_checker *const *k = checkers; name && *k; k++)
		if (!strcmp((*k)->name, name))
			return *k;
	return NULL;
}

const char *fl_checker_names(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (const struct fl_checker *const *k = checkers; *k && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", (*k)->name);
	return buf;
}

int fl_checker_configure(const struct fl_checker *k, union fl_checker_config *c, const json_t *j,
			 const struct fl_checker_overrides *o, char *err, size_t errlen)
{
	k->defaults(c);
	int rc = j ? k->from_json(c, j, o ? o->name : NULL, err, errlen) : 0;
	if (!rc && o)
		rc = k->override(c, o, err, errlen);
	return rc;
}
