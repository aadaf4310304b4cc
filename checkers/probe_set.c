/* One container's probes with shared settings, as `faultline probe` and
 * fl.check's prober take them. */
#include <string.h>

#include "checkers/prober.h"
#include "core/errors.h"

int fl_probe_kind_parse(const char *name)
{
	for (int k = FL_PROBE_LIVENESS; k <= FL_PROBE_STARTUP; k++)
		if (name && !strcmp(name, fl_probe_kind_str(k)))
			return k;
	return -1;
}

void fl_probe_set_defaults(struct fl_probe_set *s)
{
	memset(s, 0, sizeof(*s));
	s->period_ms = 10000;
	s->timeout_ms = 1000;
	s->failure_threshold = 3;
	s->success_threshold = 1;
}

int fl_prober_add_set(struct fl_prober *p, const struct fl_probe_set *s, char *err, size_t errlen)
{
	int n = 0;
	for (int k = FL_PROBE_LIVENESS; k <= FL_PROBE_STARTUP; k++) {
		if (!s->url[k])
			continue;
		struct fl_probe_spec sp;
		fl_probe_spec_defaults(&sp, k);
		sp.url = s->url[k];
		sp.period_ms = s->period_ms;
		sp.timeout_ms = s->timeout_ms;
		sp.initial_delay_ms = s->initial_delay_ms;
		sp.failure_threshold = s->failure_threshold;
		sp.success_threshold = k == FL_PROBE_READINESS ? s->success_threshold : 1;
		int rc = fl_prober_add(p, &sp, err, errlen);
		if (rc < 0)
			return rc;
		n++;
	}
	if (!n)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "give at least one of liveness, readiness, startup (URLs)");
	return 0;
}
