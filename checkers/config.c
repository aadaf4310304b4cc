/* The checkers' configurations: each checker's defaults and the JSON a
 * scenario, `faultline check --config` or a service's listing gives,
 * validated with messages that name the field (docs/checkers.md). The
 * checking itself is in saga.c, bank.c, breaker.c and probe.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkers/check.h"
#include "core/errors.h"
#include "core/json.h"

/* --- fields shared by several checkers --- */

/* "since": monotonic ns, an integer or a number (truncated: Lua computes
 * it from fl.now()). Absent leaves *out alone. */
static int take_since(const json_t *j, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, "since");
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && fabs(json_real_value(v)) < 9.2e18) {
		*out = (int64_t)json_real_value(v);
		return 0;
	}
	return fl_err_set(err, errlen, FL_EINVAL, "field since: expected a time in ns, got %s",
			  fl_json_type_name(v));
}

/* A name into a fixed array of FL_CHK_NAME_MAX bytes; absent leaves it alone. */
static int take_name(const json_t *j, const char *k, char *dst, char *err, size_t errlen)
{
	const char *s = NULL;
	int rc = fl_json_take_str(j, k, false, &s, err, errlen);
	if (!rc && s) {
		if (strlen(s) >= FL_CHK_NAME_MAX)
			return fl_err_set(err, errlen, FL_EINVAL, "field %s: too long", k);
		strcpy(dst, s);
	}
	return rc;
}

/* An integer from min to max into an int; absent leaves it alone. */
static int take_int(const json_t *j, const char *k, int *out, int min, int max, char *err,
		    size_t errlen)
{
	int64_t v = *out;
	int rc = fl_json_take_int(j, k, false, &v, err, errlen);
	if (!rc && (v < min || v > max))
		rc = fl_err_set(err, errlen, FL_EINVAL, "field %s: must be %d..%d", k, min, max);
	if (!rc)
		*out = (int)v;
	return rc;
}

/* A number of seconds (0 to a day) as milliseconds; absent leaves it alone. */
static int take_secs(const json_t *j, const char *k, int64_t *ms, char *err, size_t errlen)
{
	double v = 0;
	json_t *x = json_object_get(j, k);
	if (!x)
		return 0;
	int rc = fl_json_take_num(j, k, false, &v, err, errlen);
	if (rc)
		return rc;
	if (v < 0 || v > 86400)
		return fl_err_set(err, errlen, FL_EINVAL, "field %s: seconds out of range", k);
	*ms = (int64_t)(v * 1000 + 0.5);
	return 0;
}

/* --- saga and money --- */

void fl_saga_config_defaults(struct fl_saga_config *c)
{
	memset(c, 0, sizeof(*c));
	c->deadline_ms = 30000;
	c->grace_ms = 5000;
	c->cqrs_lag_ms = 2000;
	strcpy(c->corp, "CORP");
	strcpy(c->transit, "TRANSIT");
	c->since = INT64_MIN;
}

int fl_saga_config_from_json(struct fl_saga_config *c, const json_t *j, char *err, size_t errlen)
{
	static const char *const keys[] = { "deadline_ms",  "grace_ms",	       "cqrs_lag_ms",
					    "corp_account", "transit_account", "bank_corp_initial",
					    "bank_total",   "since",	       NULL };
	if (!json_is_object(j))
		return fl_err_set(err, errlen, FL_EINVAL, "saga config must be a JSON object");
	int rc = fl_json_only_keys(j, keys, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "deadline_ms", false, &c->deadline_ms, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "grace_ms", false, &c->grace_ms, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "cqrs_lag_ms", false, &c->cqrs_lag_ms, err, errlen);
	if (!rc)
		rc = take_name(j, "corp_account", c->corp, err, errlen);
	if (!rc)
		rc = take_name(j, "transit_account", c->transit, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "bank_corp_initial", false, &c->bank_corp_initial, err,
				      errlen);
	if (!rc)
		rc = take_since(j, &c->since, err, errlen);
	if (!rc && json_object_get(j, "bank_total")) {
		rc = fl_json_take_int(j, "bank_total", false, &c->bank_total, err, errlen);
		c->has_bank_total = rc == 0;
	}
	return rc;
}

/* --- bank test --- */

void fl_bank_config_defaults(struct fl_bank_config *c)
{
	memset(c, 0, sizeof(*c));
	c->use_bank = c->use_reads = true;
}

int fl_bank_config_from_json(struct fl_bank_config *c, const json_t *j, char *err, size_t errlen)
{
	static const char *const keys[] = { "total", "allow_negative", "sources", NULL };
	if (!json_is_object(j))
		return fl_err_set(err, errlen, FL_EINVAL, "bank config must be a JSON object");
	int rc = fl_json_only_keys(j, keys, err, errlen);
	if (rc)
		return rc;
	if (json_object_get(j, "total")) {
		rc = fl_json_take_int(j, "total", false, &c->total, err, errlen);
		if (rc)
			return rc;
		c->has_total = true;
	}
	json_t *a = json_object_get(j, "allow_negative");
	if (a) {
		size_t i;
		json_t *v;
		if (!json_is_array(a) || json_array_size(a) > FL_BANK_MAX_ALLOW)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field allow_negative: expected an array of at most %d "
					  "account names",
					  FL_BANK_MAX_ALLOW);
		c->nallow = 0;
		json_array_foreach(a, i, v) {
			if (!json_is_string(v) || strlen(json_string_value(v)) >= FL_CHK_NAME_MAX)
				return fl_err_set(err, errlen, FL_EINVAL,
						  "field allow_negative: entry %zu is not a name",
						  i);
			strcpy(c->allow_negative[c->nallow++], json_string_value(v));
		}
	}
	json_t *src = json_object_get(j, "sources");
	if (src) {
		size_t i;
		json_t *v;
		if (!json_is_array(src))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field sources: expected an array");
		c->use_bank = c->use_money = c->use_reads = false;
		json_array_foreach(src, i, v) {
			const char *s = json_string_value(v);
			if (s && !strcmp(s, "bank_snapshot"))
				c->use_bank = true;
			else if (s && !strcmp(s, "money_snapshot"))
				c->use_money = true;
			else if (s && !strcmp(s, "read"))
				c->use_reads = true;
			else
				return fl_err_set(err, errlen, FL_EINVAL,
						  "field sources: entry %zu must be bank_snapshot, "
						  "money_snapshot or read",
						  i);
		}
	}
	return 0;
}

/* --- circuit breaker --- */

void fl_breaker_config_defaults(struct fl_breaker_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_type = FL_WINDOW_COUNT;
	c->window_size = 100;
	c->minimum_calls = 100;
	c->failure_rate_threshold = 50;
	c->slow_call_rate_threshold = 100;
	c->slow_call_duration_ms = 60000;
	c->wait_open_ms = 60000;
	c->half_open_calls = 10;
	c->tolerance_ms = 100;
	c->fast_fail_ms = 50;
	strcpy(c->reject_reason, "circuit_open");
	c->failure_status_min = 500;
	c->transport_error_is_failure = true;
	c->claims = true;
	c->since = INT64_MIN;
}

static int config_fields(struct fl_breaker_config *c, const json_t *j, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"window_type", "window_size", "minimum_calls", "failure_rate_threshold",
		"slow_call_rate_threshold", "slow_call_duration_ms", "wait_open_ms",
		"half_open_calls", "automatic_transition", "link", "tolerance_ms", "fast_fail_ms",
		"reject_reason", "name", "state", "since", "failure_status_min",
		"transport_error_is_failure", "claims",
		/* the same, as some services spell them */
		"window", "wait_in_open_ms", "permitted_calls_in_half_open", NULL
	};
	int rc = fl_json_only_keys(j, keys, err, errlen);
	if (!rc && json_is_integer(json_object_get(j, "window")))
		rc = take_int(j, "window", &c->window_size, 1, 1000000000, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "wait_in_open_ms", false, &c->wait_open_ms, err, errlen);
	if (!rc)
		rc = take_int(j, "permitted_calls_in_half_open", &c->half_open_calls, 1, 1000000000,
			      err, errlen);
	const char *wt = NULL;
	if (!rc)
		rc = fl_json_take_str(j, "window_type", false, &wt, err, errlen);
	if (!rc && wt) {
		if (!strcasecmp(wt, "COUNT_BASED") || !strcasecmp(wt, "count"))
			c->window_type = FL_WINDOW_COUNT;
		else if (!strcasecmp(wt, "TIME_BASED") || !strcasecmp(wt, "time"))
			c->window_type = FL_WINDOW_TIME;
		else
			rc = fl_err_set(err, errlen, FL_EINVAL,
					"field window_type: COUNT_BASED or TIME_BASED, not \"%s\"",
					wt);
	}
	if (!rc)
		rc = take_int(j, "window_size", &c->window_size, 1, 1000000000, err, errlen);
	if (!rc)
		rc = take_int(j, "minimum_calls", &c->minimum_calls, 1, 1000000000, err, errlen);
	if (!rc)
		rc = take_int(j, "half_open_calls", &c->half_open_calls, 1, 1000000000, err,
			      errlen);
	if (!rc)
		rc = fl_json_take_num(j, "failure_rate_threshold", false,
				      &c->failure_rate_threshold, err, errlen);
	if (!rc)
		rc = fl_json_take_num(j, "slow_call_rate_threshold", false,
				      &c->slow_call_rate_threshold, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "slow_call_duration_ms", false, &c->slow_call_duration_ms,
				      err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "wait_open_ms", false, &c->wait_open_ms, err, errlen);
	if (!rc)
		rc = fl_json_take_bool(j, "automatic_transition", false, &c->automatic_transition,
				       err, errlen);
	if (!rc)
		rc = take_name(j, "link", c->link, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "tolerance_ms", false, &c->tolerance_ms, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "fast_fail_ms", false, &c->fast_fail_ms, err, errlen);
	if (!rc)
		rc = take_name(j, "reject_reason", c->reject_reason, err, errlen);
	if (!rc)
		rc = fl_json_take_bool(j, "claims", false, &c->claims, err, errlen);
	if (!rc)
		rc = take_int(j, "failure_status_min", &c->failure_status_min, 100, 1000, err,
			      errlen);
	if (!rc)
		rc = fl_json_take_bool(j, "transport_error_is_failure", false,
				       &c->transport_error_is_failure, err, errlen);
	if (!rc)
		rc = take_since(j, &c->since, err, errlen);
	if (!rc && (c->failure_rate_threshold <= 0 || c->failure_rate_threshold > 100 ||
		    c->slow_call_rate_threshold <= 0 || c->slow_call_rate_threshold > 100))
		rc = fl_err_set(err, errlen, FL_EINVAL, "rate thresholds must be in (0, 100]");
	return rc;
}

int fl_breaker_config_from_json(struct fl_breaker_config *c, const json_t *j, const char *name,
				char *err, size_t errlen)
{
	if (json_is_object(j) && json_is_array(json_object_get(j, "breakers")))
		j = json_object_get(j, "breakers");
	if (json_is_array(j)) {
		const json_t *pick = NULL;
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			const char *n = json_string_value(json_object_get(v, "name"));
			if (!name || !*name || (n && !strcmp(n, name))) {
				if (pick && (!name || !*name))
					return fl_err_set(err, errlen, FL_EINVAL,
							  "several breakers in the configuration; "
							  "name one");
				pick = v;
			}
		}
		if (!pick)
			return fl_err_set(err, errlen, FL_ENOENT, "no breaker named \"%s\"",
					  name ? name : "");
		j = pick;
	}
	if (!json_is_object(j))
		return fl_err_set(err, errlen, FL_EINVAL, "breaker config must be a JSON object");
	const char *n = json_string_value(json_object_get(j, "name"));
	if (n && strlen(n) < FL_CHK_NAME_MAX)
		strcpy(c->name, n);
	if (name && *name && strlen(name) < FL_CHK_NAME_MAX)
		strcpy(c->name, name);
	json_t *inner = json_object_get(j, "config");
	if (inner) {
		/* A /breakers entry: its state and counters are not configuration. */
		if (!json_is_object(inner))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field config: expected an object");
		int rc = take_name(j, "link", c->link, err, errlen);
		if (!rc)
			rc = fl_json_take_int(j, "tolerance_ms", false, &c->tolerance_ms, err,
					      errlen);
		if (!rc)
			rc = take_since(j, &c->since, err, errlen);
		return rc ? rc : config_fields(c, inner, err, errlen);
	}
	return config_fields(c, j, err, errlen);
}

/* --- probes --- */

void fl_probe_check_config_defaults(struct fl_probe_check_config *c)
{
	memset(c, 0, sizeof(*c));
	c->period_ms = 10000;
	c->timeout_ms = 1000;
	c->success_threshold = 1;
	c->failure_threshold = 3;
	c->grace_ms = 30000;
	c->tolerance_ms = 200;
}

int fl_probe_check_config_from_json(struct fl_probe_check_config *c, const json_t *j, char *err,
				    size_t errlen)
{
	static const char *const keys[] = { "service",
					    "period",
					    "timeout",
					    "success_threshold",
					    "failure_threshold",
					    "grace",
					    "tolerance_ms",
					    "periodSeconds",
					    "timeoutSeconds",
					    "successThreshold",
					    "failureThreshold",
					    "terminationGracePeriodSeconds",
					    "initialDelaySeconds",
					    "initial_delay",
					    "drain",
					    NULL };
	if (!json_is_object(j))
		return fl_err_set(err, errlen, FL_EINVAL, "probe config must be a JSON object");
	int rc = fl_json_only_keys(j, keys, err, errlen);
	if (!rc)
		rc = take_name(j, "service", c->service, err, errlen);
	if (!rc)
		rc = take_secs(j, "period", &c->period_ms, err, errlen);
	if (!rc)
		rc = take_secs(j, "periodSeconds", &c->period_ms, err, errlen);
	if (!rc)
		rc = take_secs(j, "timeout", &c->timeout_ms, err, errlen);
	if (!rc)
		rc = take_secs(j, "timeoutSeconds", &c->timeout_ms, err, errlen);
	if (!rc)
		rc = take_secs(j, "grace", &c->grace_ms, err, errlen);
	if (!rc)
		rc = take_secs(j, "terminationGracePeriodSeconds", &c->grace_ms, err, errlen);
	if (!rc)
		rc = take_secs(j, "drain", &c->drain_ms, err, errlen);
	if (!rc)
		rc = take_int(j, "success_threshold", &c->success_threshold, 1, 1000, err, errlen);
	if (!rc)
		rc = take_int(j, "successThreshold", &c->success_threshold, 1, 1000, err, errlen);
	if (!rc)
		rc = take_int(j, "failure_threshold", &c->failure_threshold, 1, 1000, err, errlen);
	if (!rc)
		rc = take_int(j, "failureThreshold", &c->failure_threshold, 1, 1000, err, errlen);
	if (!rc)
		rc = fl_json_take_int(j, "tolerance_ms", false, &c->tolerance_ms, err, errlen);
	if (!rc && c->period_ms <= 0)
		rc = fl_err_set(err, errlen, FL_EINVAL, "period must be positive");
	return rc;
}
