/* Network addresses: host:port parsing, the loopback test. */
#include "core/addr.h"

#include <string.h>

#include "core/errors.h"

int fl_addr_split(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *h, *colon;
	if (!addr || !hostlen)
		return FL_EINVAL;
	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':')
			return FL_EINVAL;
		h = addr + 1;
		colon = rb + 1;
	} else {
		h = addr;
		colon = strchr(addr, ':');
		if (!colon || strchr(colon + 1, ':'))
			return FL_EINVAL; /* none, or an IPv6 literal without brackets */
	}
	size_t hl = (size_t)((addr[0] == '[' ? colon - 1 : colon) - h);
	size_t pl = strlen(colon + 1);
	if (hl >= hostlen || pl < 1 || pl > 5 || strspn(colon + 1, "0123456789") != pl)
		return FL_EINVAL;
	long p = 0;
	for (const char *d = colon + 1; *d; d++)
		p = p * 10 + (*d - '0');
	if (p > 65535)
		return FL_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

bool fl_host_is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}
