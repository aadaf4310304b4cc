/* faultline contract verify|stub|generate|scaffold|record: thin argument
 * parsing over contract/; the help and the dispatch here, each subcommand
 * in a file of its own (cli/contract_int.h). */
#include <stdio.h>
#include <string.h>

#include "cli/command.h"
#include "cli/contract_int.h"
#include "contract/pact.h"
#include "core/json.h"

static const struct fl_help help[] = {
	{ "Usage: faultline contract verify PACT... --provider-url URL [options]\n"
	  "       faultline contract stub PACT... [--listen ADDR]\n"
	  "       faultline contract generate (--pcap FILE | --events FILE)... [--map ADDR:PORT=SERVICE]...\n"
	  "                                   [--only-mapped] [-o DIR] [--version 3|4]\n"
	  "       faultline contract scaffold PACT -o FILE.lua [--provider-url URL | --ref]\n"
	  "       faultline contract record [--proxy URL] [--link NAME]... -o FILE.jsonl\n"
	  "\n"
	  "Consumer-driven contracts in the Pact format (V2-V4 read, V3/V4 written).\n"
	  "A PACT argument may be a file or a directory of *.json pacts.\n"
	  "\n"
	  "verify: replay every interaction against a running provider and match its answers.\n",
	  fl_cli_contract_verify_opts },
	{ "  Pending interactions are reported but never fail the run.\n"
	  "  Exit: 0 verified, 1 a mismatch, 2 usage or bad pact, 3 provider unreachable.\n"
	  "\n"
	  "stub: answer as the provider would, from the pacts (500 with the mismatches when no\n"
	  "interaction matches a request).\n",
	  fl_cli_contract_stub_opts },
	{ "\n"
	  "generate: pacts from recorded traffic, one per consumer/provider pair.\n",
	  fl_cli_contract_generate_opts },
	{ "\n"
	  "record: save the fault injector's recorded HTTP exchanges of some links (all when no\n"
	  "--link is given) as JSONL for `generate --events`.\n",
	  fl_cli_contract_record_opts },
	{ "\n"
	  "scaffold: a readable Lua contract test for a pact.\n",
	  fl_cli_contract_scaffold_opts },
	{ "  $PROVIDER_URL overrides either when the scenario runs.\n", NULL },
	{ NULL, NULL },
};

void fl_cli_contract_opts_init(struct fl_opts *o, const struct fl_opt *table, int argc, char **argv)
{
	fl_opts_init(o, &fl_cmd_contract, table, argc - 1, argv + 1);
	o->sub = argv[1];
}

int fl_cli_contract_load_pacts(struct fl_pact_list *l, int argc, char **argv, int first)
{
	char err[1024];
	for (int i = first; i < argc; i++) {
		size_t n0 = l->n;
		int rc = fl_pact_list_load(l, argv[i], err, sizeof(err));
		for (size_t k = n0; k < l->n; k++) {
			size_t j;
			json_t *w;
			json_array_foreach(l->v[k]->warnings, j, w)
				fprintf(stderr, "faultline contract: warning: %s: %s\n",
					l->v[k]->source ? l->v[k]->source : argv[i],
					json_string_value(w));
		}
		if (rc < 0) {
			fprintf(stderr, "faultline contract: %s\n", err);
			return FL_EXIT_USAGE;
		}
	}
	return -1;
}

static int cmd_contract(int argc, char **argv)
{
	if (argc < 2) {
		fl_cli_help_print(&fl_cmd_contract, stderr);
		return FL_EXIT_USAGE;
	}
	if (fl_cli_wants_help(argc, argv)) {
		fl_cli_help_print(&fl_cmd_contract, stdout);
		return FL_EXIT_OK;
	}
	if (!strcmp(argv[1], "verify"))
		return fl_cli_contract_verify(argc, argv);
	if (!strcmp(argv[1], "stub"))
		return fl_cli_contract_stub(argc, argv);
	if (!strcmp(argv[1], "generate"))
		return fl_cli_contract_generate(argc, argv);
	if (!strcmp(argv[1], "scaffold"))
		return fl_cli_contract_scaffold(argc, argv);
	if (!strcmp(argv[1], "record"))
		return fl_cli_contract_record(argc, argv);
	return fl_cli_usage_error(
		"contract", "unknown subcommand '%s' (verify, stub, generate, scaffold, record)",
		argv[1]);
}

const struct fl_command fl_cmd_contract = {
	.name = "contract",
	.summary = "verify providers against pacts, stub them, generate pacts from traffic",
	.help = help,
	.order = 30,
	.run = cmd_contract,
};
