/* faultline contract scaffold: a readable Lua contract test for a pact. */
#include <stdio.h>

#include "cli/contract_int.h"
#include "contract/scaffold.h"

const struct fl_opt fl_cli_contract_scaffold_opts[] = {
	{ "out", 'o', "FILE.lua", "the scenario to write" },
	{ "provider-url", O_PROVIDER_URL, "URL", "default provider URL written into the scenario" },
	{ "ref", O_REF, NULL,
	  "use the provider's service of the running reference\n"
	  "system (tests skip when none runs)" },
	FL_OPT_END,
};

int fl_cli_contract_scaffold(int argc, char **argv)
{
	const char *pact = NULL, *out = NULL, *url = NULL;
	struct fl_opts op;
	int c;
	fl_cli_contract_opts_init(&op, fl_cli_contract_scaffold_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		if (c == 'o')
			out = op.arg;
		else if (c == O_PROVIDER_URL)
			url = op.arg;
		else
			url = "ref";
	}
	if (c < 0)
		return op.exit;
	for (int i = op.optind + 1; i < argc; i++) {
		if (pact)
			return fl_cli_usage_error("contract", "scaffold: one pact at a time");
		pact = argv[i];
	}
	if (!pact || !out)
		return fl_cli_usage_error("contract", "scaffold: usage: scaffold PACT -o FILE.lua");
	char err[1024];
	struct fl_pact *p = fl_pact_load(pact, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "faultline contract scaffold: %s\n", err);
		return FL_EXIT_USAGE;
	}
	int rc = fl_scaffold_write(p, pact, url, out, err, sizeof(err));
	fl_pact_free(p);
	if (rc) {
		fprintf(stderr, "faultline contract scaffold: %s\n", err);
		return FL_EXIT_INFRA;
	}
	printf("faultline contract scaffold: wrote %s\n", out);
	return FL_EXIT_OK;
}
