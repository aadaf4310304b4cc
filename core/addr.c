/* Network address helpers. */
#include "core/addr.h"

#include <string.h>

bool fl_host_is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}
