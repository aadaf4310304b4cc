/* The table of services transferd can run. */
#include <string.h>

#include "transfer-system/rt.h"

extern const struct rt_service_def svc_membership, svc_money, svc_banking, svc_extbank,
	svc_remittance, svc_query, svc_gateway;

static const struct rt_service_def *const table[] = {
	&svc_membership, &svc_money, &svc_banking, &svc_extbank,
	&svc_remittance, &svc_query, &svc_gateway, NULL,
};

const struct rt_service_def *rt_service_find(const char *name)
{
	for (int i = 0; table[i]; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}
