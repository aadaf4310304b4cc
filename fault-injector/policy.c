/* Where faults may point: the upstream and listen allowlists (host names
 * and CIDR blocks), self-loops (an upstream that is one of the agent's own
 * listeners or its API), and header faults' opt-in. Every way of making a
 * link goes through here: the API, a config file and fl.proxy in-process.
 *
 * Defaults: upstreams may be anything while the agent's API is on loopback
 * (or it has none) and nothing once it is reachable beyond loopback without
 * an --allow-upstream list; links listen on loopback only without an
 * --allow-listen list.
 *
 * With a list, the rule applies to the address connected to: an IP upstream
 * must be in an IP/CIDR entry; a name listed by name is trusted wherever it
 * resolves (but never to the agent itself); any other name is allowed only
 * if the address it resolves to is in an IP/CIDR entry. Names are resolved
 * without blocking the loop (evdns): by the API before a link is made
 * (fl_policy_upstream_needs_resolve, api_http.c: a 403 when the name
 * resolves outside the list or not at all), and again at every connection
 * (fl_policy_upstream_addr, conn.c), since a name may change where it points
 * after the check and links from a config file or fl.proxy in-process are
 * only checked there. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/errors.h"
#include "fault-injector/internal.h"

struct fl_allow {
	struct fl_allow *next;
	char *name; /* a host name, or NULL for a CIDR block */
	int family; /* AF_INET / AF_INET6 */
	unsigned char addr[16];
	int bits;
};

/* "localhost" and IP literals as bytes; false for other names. */
static bool host_bytes(const char *host, int *family, unsigned char *addr)
{
	if (strcasecmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* Is the address (family, bytes) in one of list's IP/CIDR entries? */
static bool addr_allowed(const struct fl_allow *list, int fam, const unsigned char *bytes)
{
	for (const struct fl_allow *a = list; a; a = a->next)
		if (!a->name && fam == a->family && prefix_match(bytes, a->addr, a->bits))
			return true;
	return false;
}

static bool name_listed(const struct fl_allow *list, const char *host)
{
	for (const struct fl_allow *a = list; a; a = a->next)
		if (a->name && strcasecmp(a->name, host) == 0)
			return true;
	return false;
}

static bool has_addr_entries(const struct fl_allow *list)
{
	for (const struct fl_allow *a = list; a; a = a->next)
		if (!a->name)
			return true;
	return false;
}

static bool allowed(const struct fl_allow *list, const char *host)
{
	int fam = 0;
	unsigned char bytes[16];
	bool lit = host_bytes(host, &fam, bytes);
	for (const struct fl_allow *a = list; a; a = a->next) {
		if (a->name ? strcasecmp(a->name, host) == 0
			    : lit && fam == a->family && prefix_match(bytes, a->addr, a->bits))
			return true;
	}
	return false;
}

bool fl_allow_host(const struct fl_allow *list, const char *host)
{
	return allowed(list, host);
}

void fl_allow_free(struct fl_allow *list)
{
	while (list) {
		struct fl_allow *n = list->next;
		free(list->name);
		free(list);
		list = n;
	}
}

/* Parse "10.0.0.0/8,db.internal,::1" (commas or spaces). */
int fl_allow_parse(const char *spec, struct fl_allow **out, char *err, size_t errlen)
{
	struct fl_allow *list = NULL;
	const char *p = spec;
	*out = NULL;
	while (p && *p) {
		size_t n = strcspn(p, ", ");
		if (n == 0) {
			p++;
			continue;
		}
		char item[256];
		if (n >= sizeof(item))
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		p += n;
		struct fl_allow *a = calloc(1, sizeof(*a));
		if (!a) {
			fl_allow_free(list);
			return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
		}
		a->next = list;
		list = a;
		char *slash = strchr(item, '/');
		if (slash)
			*slash = '\0';
		if (host_bytes(item, &a->family, a->addr) && strcasecmp(item, "localhost") != 0) {
			int max = a->family == AF_INET ? 32 : 128;
			a->bits = max;
			if (slash) {
				char *end;
				long b = strtol(slash + 1, &end, 10);
				if (!slash[1] || *end || b < 0 || b > max)
					goto bad_item;
				a->bits = (int)b;
			}
		} else if (!slash && item[0] &&
			   strspn(item, "abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(item)) {
			if (!(a->name = strdup(item))) {
				fl_allow_free(list);
				return fl_err_set(err, errlen, FL_ENOMEM, "out of memory");
			}
		} else {
		bad_item:
			if (slash)
				*slash = '/'; /* the entry as given */
			fl_err_set(err, errlen, FL_EINVAL,
				   "bad allow-list entry \"%s\" (want a host name, an IP or a CIDR "
				   "block such as 10.0.0.0/8)",
				   item);
			fl_allow_free(list);
			return FL_EINVAL;
		}
	}
	*out = list;
	return 0;
bad:
	fl_allow_free(list);
	return fl_err_set(err, errlen, FL_EINVAL, "bad allow-list entry in \"%.80s\"", spec);
}

/* Is the API reachable beyond loopback? */
static bool api_exposed(const struct fl_proxy_engine *e)
{
	return e->api && !e->api_loopback;
}

/* Is the listener at addr ("host:port") the one at ip:port? */
static bool listener_is(const char *addr, const char *ip, int port, bool local)
{
	char host[256];
	int lport;
	if (!addr || fl_addr_split(addr, host, sizeof(host), &lport) || lport != port || !lport)
		return false;
	return local || strcmp(host, ip) == 0 || !*host || strcmp(host, "0.0.0.0") == 0 ||
	       strcmp(host, "::") == 0;
}

/* Does sa name one of the agent's own listeners (its API or a link)? The
 * address must be loopback, the wildcard, or the listener's own address. */
bool fl_policy_is_self(const struct fl_proxy_engine *e, const struct sockaddr *sa)
{
	int port;
	unsigned char a[16];
	int fam = sa->sa_family;
	if (fam == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		memcpy(a, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (fam == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		memcpy(a, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	} else {
		return false;
	}
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(fam, a, ip, sizeof(ip));
	bool local = fl_host_is_loopback(ip) || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
	if (e->api_url[0] && listener_is(e->api_url + strlen("http://"), ip, port, local))
		return true;
	for (const struct fl_link *l = e->links; l; l = l->next)
		if (listener_is(l->listen, ip, port, local))
			return true;
	return false;
}

int fl_policy_upstream(const struct fl_proxy_engine *e, const char *upstream, char *err,
		       size_t errlen)
{
	char host[256];
	int port;
	if (fl_addr_split(upstream, host, sizeof(host), &port))
		return fl_err_set(err, errlen, FL_EINVAL, "invalid upstream address: %s", upstream);
	if (!*host)
		return fl_err_set(err, errlen, FL_EINVAL,
				  "invalid upstream address: %s has no host", upstream);
	if (port == 0)
		return fl_err_set(err, errlen, FL_EINVAL, "invalid upstream address: %s has port 0",
				  upstream);
	int fam;
	unsigned char b[16];
	if (host_bytes(host, &fam, b)) {
		struct sockaddr_storage ss = { 0 };
		if (fam == AF_INET) {
			struct sockaddr_in *s4 = (void *)&ss;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, b, 4);
			s4->sin_port = htons((uint16_t)port);
		} else {
			struct sockaddr_in6 *s6 = (void *)&ss;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, b, 16);
			s6->sin6_port = htons((uint16_t)port);
		}
		if (fl_policy_is_self(e, (struct sockaddr *)&ss))
			return fl_err_set(err, errlen, FL_EPERM,
					  "upstream %s is this agent's own API or link (a "
					  "self-loop)",
					  upstream);
	}
	/* a name not listed may still resolve into an IP/CIDR entry: checked
	 * on resolution (fl_policy_upstream_addr) */
	if (e->allow_upstream && !host_bytes(host, &fam, b) &&
	    !name_listed(e->allow_upstream, host) && has_addr_entries(e->allow_upstream))
		return 0;
	if (e->allow_upstream ? !allowed(e->allow_upstream, host) : api_exposed(e))
		return fl_err_set(err, errlen, FL_EPERM,
				  "upstream %s is not allowed (--allow-upstream %s)", upstream,
				  e->allow_upstream ? "does not list it"
						    : "is required when the API is reachable "
						      "beyond loopback");
	return 0;
}

bool fl_policy_upstream_needs_resolve(const struct fl_proxy_engine *e, const char *upstream)
{
	char host[256];
	int port, fam;
	unsigned char b[16];
	if (!e->allow_upstream || !upstream || fl_addr_split(upstream, host, sizeof(host), &port) ||
	    !*host)
		return false;
	return !host_bytes(host, &fam, b) && !name_listed(e->allow_upstream, host) &&
	       has_addr_entries(e->allow_upstream);
}

int fl_policy_upstream_addr(const struct fl_proxy_engine *e, const char *upstream,
			    const struct sockaddr *sa, char *err, size_t errlen)
{
	char host[256], ip[INET6_ADDRSTRLEN] = "?";
	int port;
	unsigned char a[16];
	if (!e->allow_upstream || fl_addr_split(upstream, host, sizeof(host), &port))
		return 0;
	if (name_listed(e->allow_upstream, host))
		return 0;
	int fam = sa->sa_family;
	if (fam == AF_INET)
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	else if (fam == AF_INET6)
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	else
		return fl_err_set(err, errlen, FL_EPERM, "upstream %s: not an IP address",
				  upstream);
	if (addr_allowed(e->allow_upstream, fam, a))
		return 0;
	inet_ntop(fam, a, ip, sizeof(ip));
	return fl_err_set(err, errlen, FL_EPERM,
			  "upstream %s resolves to %s, which --allow-upstream does not list",
			  upstream, ip);
}

int fl_policy_listen(const struct fl_proxy_engine *e, const char *listen, char *err, size_t errlen)
{
	char host[256];
	int port;
	if (fl_addr_split(listen, host, sizeof(host), &port))
		return fl_err_set(err, errlen, FL_EINVAL, "invalid listen address: %s", listen);
	int fam;
	unsigned char b[16];
	if (*host && !host_bytes(host, &fam, b))
		return fl_err_set(err, errlen, FL_EINVAL,
				  "listen address %s: the host must be an IP literal or localhost "
				  "(names are not resolved)",
				  listen);
	if (*host && fl_host_is_loopback(host))
		return 0;
	if (*host && e->allow_listen && allowed(e->allow_listen, host))
		return 0;
	return fl_err_set(err, errlen, FL_EPERM,
			  "listen address %s is beyond loopback; the agent must be started with "
			  "--allow-listen naming it",
			  listen);
}

bool fl_policy_header_faults(const struct fl_link *l)
{
	if (!l->header_faults)
		return false;
	char host[256];
	int port;
	if (fl_addr_split(l->listen, host, sizeof(host), &port))
		return false;
	return fl_host_is_loopback(host) || l->e->token != NULL;
}
