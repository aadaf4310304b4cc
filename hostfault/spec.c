/* Parsing and checking a fault spec (the body of POST /host/faults). */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/json.h"
#include "hostfault/hostfault_int.h"

static const char *const match_keys[] = { "type",	 "ttl_ms",     "direction", "peer",
					  "port",	 "local_port", "protocol",  "dev",
					  "probability", "target",     NULL };
static const char *const bw_keys[] = { "type",	      "ttl_ms",	     "dev",    "rate_bps",
				       "burst_bytes", "limit_bytes", "target", NULL };
static const char *const delay_keys[] = { "type",      "ttl_ms", "dev", "delay_ms",
					  "jitter_ms", "target", NULL };
static const char *const proc_keys[] = {
	"type", "ttl_ms", "action", "pid", "name", "cgroup", NULL
};

static int parse_peer(struct fl_hf_match *m, const char *peer, char *err, size_t errlen)
{
	char addr[64];
	const char *slash = strchr(peer, '/');
	size_t alen = slash ? (size_t)(slash - peer) : strlen(peer);
	if (alen == 0 || alen >= sizeof(addr) || strlen(peer) >= sizeof(m->peer))
		return fl_err_set(err, errlen, FL_EINVAL, "field peer: not an address or CIDR");
	memcpy(addr, peer, alen);
	addr[alen] = 0;
	unsigned char buf[16];
	if (inet_pton(AF_INET, addr, buf) == 1)
		m->peer_family = 4;
	else if (inet_pton(AF_INET6, addr, buf) == 1)
		m->peer_family = 6;
	else
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field peer: '%s' is not a numeric IPv4/IPv6 address or CIDR",
				  peer);
	m->peer_len = -1;
	if (slash) {
		char *end;
		long len = strtol(slash + 1, &end, 10);
		int maxlen = m->peer_family == 4 ? 32 : 128;
		if (!slash[1] || *end || len < 0 || len > maxlen)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field peer: bad prefix length in '%s'", peer);
		m->peer_len = (int)len;
	}
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	snprintf(m->peer_addr, sizeof(m->peer_addr), "%s", addr);
	return 0;
}

static int take_port(const json_t *spec, const char *key, int *out, char *err, size_t errlen)
{
	int64_t v = 0;
	int rc = fl_json_take_int(spec, key, false, &v, err, errlen);
	if (rc)
		return FL_EINVAL;
	if (json_object_get(spec, key) && (v < 1 || v > 65535))
		return fl_err_set(err, errlen, FL_EINVAL, "field %s: must be 1..65535", key);
	*out = (int)v;
	return 0;
}

/* The name only: whether the interface exists is asked inside the fault's
 * namespace when it is applied (faults.c). */
static int take_dev(const json_t *spec, bool required, char *dev, char *err, size_t errlen)
{
	const char *d = NULL;
	if (fl_json_take_str(spec, "dev", required, &d, err, errlen))
		return FL_EINVAL;
	if (!d)
		return 0;
	if (!*d || strlen(d) >= IFNAMSIZ || strchr(d, '/') || strchr(d, '"'))
		return fl_err_set(err, errlen, FL_EINVAL, "field dev: not an interface name");
	if (strcmp(d, "lo") == 0)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field dev: loopback faults are the proxy's (faultline proxy)");
	snprintf(dev, IFNAMSIZ, "%s", d);
	return 0;
}

static int parse_match(struct fl_hf_fault *f, const json_t *spec, char *err, size_t errlen)
{
	struct fl_hf_match *m = &f->m;
	const char *dir = "both", *peer = NULL, *proto = NULL;
	int rc;
	if ((rc = take_dev(spec, false, m->dev, err, errlen)))
		return rc;
	if (fl_json_only_keys(spec, match_keys, err, errlen) ||
	    fl_json_take_str(spec, "direction", false, &dir, err, errlen) ||
	    fl_json_take_str(spec, "peer", false, &peer, err, errlen) ||
	    fl_json_take_str(spec, "protocol", false, &proto, err, errlen) ||
	    take_port(spec, "port", &m->port, err, errlen) ||
	    take_port(spec, "local_port", &m->local_port, err, errlen))
		return FL_EINVAL;
	if (strcmp(dir, "both") == 0)
		m->in = m->out = true;
	else if (strcmp(dir, "in") == 0)
		m->in = true;
	else if (strcmp(dir, "out") == 0)
		m->out = true;
	else
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field direction: must be \"in\", \"out\" or \"both\"");
	if (peer && parse_peer(m, peer, err, errlen))
		return FL_EINVAL;
	if (proto && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
		return fl_err_set(err, errlen, FL_EINVAL, "field protocol: must be tcp or udp");
	if (!proto && (m->port || m->local_port))
		proto = "tcp";
	snprintf(m->proto, sizeof(m->proto), "%s", proto ? proto : "");
	if (f->kind == FL_HF_LOSS) {
		double p = 0;
		if (fl_json_take_num(spec, "probability", true, &p, err, errlen))
			return FL_EINVAL;
		if (!(p > 0 && p <= 1))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field probability: must be in (0, 1]");
		m->permille10k = (int)(p * 10000 + 0.5);
		if (m->permille10k < 1)
			m->permille10k = 1;
	} else if (json_object_get(spec, "probability")) {
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field probability: only for type \"loss\"");
	}
	return 0;
}

static int parse_qdisc(struct fl_hf_fault *f, const json_t *spec, char *err, size_t errlen)
{
	bool bw = f->kind == FL_HF_BANDWIDTH;
	int rc;
	if (fl_json_only_keys(spec, bw ? bw_keys : delay_keys, err, errlen))
		return FL_EINVAL;
	if ((rc = take_dev(spec, true, f->dev, err, errlen)))
		return rc;
	int64_t a = 0, b = 0, c = 0;
	if (bw) {
		if (fl_json_take_int(spec, "rate_bps", true, &a, err, errlen) ||
		    fl_json_take_int(spec, "burst_bytes", false, &b, err, errlen) ||
		    fl_json_take_int(spec, "limit_bytes", false, &c, err, errlen))
			return FL_EINVAL;
		if (a < 8000 || a > 100000000000LL)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field rate_bps: must be 8000..100000000000 (bits/s)");
		if ((json_object_get(spec, "burst_bytes") && (b < 1600 || b > (1 << 26))) ||
		    (json_object_get(spec, "limit_bytes") && (c < 1600 || c > (1 << 28))))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "fields burst_bytes/limit_bytes: must be 1600..64 MiB");
	} else {
		if (fl_json_take_int(spec, "delay_ms", true, &a, err, errlen) ||
		    fl_json_take_int(spec, "jitter_ms", false, &b, err, errlen))
			return FL_EINVAL;
		if (a < 0 || a > 60000 || b < 0 || b > 60000)
			return fl_err_set(err, errlen, FL_EINVAL,
					  "fields delay_ms/jitter_ms: must be 0..60000");
	}
	return 0;
}

int fl_hf_spec_parse(struct fl_hostfault *h, const json_t *spec, struct fl_hf_fault *f, char *err,
		     size_t errlen)
{
	const char *type = NULL;
	if (!json_is_object(spec))
		return fl_err_set(err, errlen, FL_EINVAL, "a fault is a JSON object");
	if (fl_json_take_str(spec, "type", true, &type, err, errlen))
		return FL_EINVAL;
	static const char *const kinds[] = { "partition", "loss", "bandwidth", "delay", "process" };
	size_t k;
	for (k = 0; k < 5 && strcmp(type, kinds[k]) != 0; k++)
		;
	if (k == 5)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "field type: unknown '%s' (partition, loss, bandwidth, delay, "
				  "process)",
				  type);
	f->kind = (enum fl_hf_kind)k;
	int64_t ttl = 0;
	const char *action = fl_json_str(spec, "action", "");
	bool oneshot = f->kind == FL_HF_PROCESS && strcmp(action, "pause") != 0;
	if (fl_json_take_int(spec, "ttl_ms", !oneshot, &ttl, err, errlen))
		return FL_EINVAL;
	if (!oneshot && (ttl < 1 || ttl > h->max_ttl_ms))
		return fl_err_set(err, errlen, FL_EINVAL, "field ttl_ms: must be 1..%lld",
				  (long long)h->max_ttl_ms);
	f->ttl_ms = ttl;
	f->resident = !oneshot;
	switch (f->kind) {
	case FL_HF_PARTITION:
	case FL_HF_LOSS: return parse_match(f, spec, err, errlen);
	case FL_HF_BANDWIDTH:
	case FL_HF_DELAY: return parse_qdisc(f, spec, err, errlen);
	case FL_HF_PROCESS:
		if (json_object_get(spec, "target"))
			return fl_err_set(err, errlen, FL_EINVAL,
					  "field target: only for network faults (a process fault "
					  "names its processes by pid, name or cgroup)");
		if (fl_json_only_keys(spec, proc_keys, err, errlen))
			return FL_EINVAL;
		return fl_hf_proc_resolve(spec, f, err, errlen);
	}
	return FL_EINVAL;
}
