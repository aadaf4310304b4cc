/* faultline contract: what its subcommands share (cli/cmd_contract.c, the
 * command, its help and the dispatch; one file per subcommand:
 * cli/contract_verify.c, contract_stub.c, contract_generate.c,
 * contract_scaffold.c, contract_record.c). */
#ifndef FL_CLI_CONTRACT_INT_H
#define FL_CLI_CONTRACT_INT_H

#include "cli/command.h"
#include "contract/pact.h"

/* The option keys of every subcommand's table. */
enum {
	O_PROVIDER_URL = FL_OPT_LONG,
	O_REF,
	O_REF_DATA,
	O_STATE_URL,
	O_STATE_TEARDOWN,
	O_FILTER_CONSUMER,
	O_FILTER_DESCRIPTION,
	O_FILTER_STATE,
	O_EXCLUDE_DESCRIPTION,
	O_REPORT,
	O_TIMEOUT,
	O_SEED,
	O_LISTEN,
	O_READY_FILE,
	O_PCAP,
	O_EVENTS,
	O_MAP,
	O_ONLY_MAPPED,
	O_VERSION,
	O_PROXY,
	O_LINK,
	O_TOKEN,
	O_TOKEN_FILE,
};

/* Each subcommand's option table (parsing and --help). */
extern const struct fl_opt fl_cli_contract_verify_opts[];
extern const struct fl_opt fl_cli_contract_stub_opts[];
extern const struct fl_opt fl_cli_contract_generate_opts[];
extern const struct fl_opt fl_cli_contract_record_opts[];
extern const struct fl_opt fl_cli_contract_scaffold_opts[];

/* Start parsing the options of subcommand argv[1] (argv[0] is "contract"). */
void fl_cli_contract_opts_init(struct fl_opts *o, const struct fl_opt *table, int argc,
			       char **argv);

/* Load every PACT operand argv[first..] into l (pacts taken by l), showing
 * each pact's warnings. Returns -1 to go on, else an exit code (the error
 * printed). */
int fl_cli_contract_load_pacts(struct fl_pact_list *l, int argc, char **argv, int first);

/* The subcommands: argv[0] is "contract", argv[1] the subcommand. Each
 * returns an exit code (enum fl_exit). */
int fl_cli_contract_verify(int argc, char **argv);
int fl_cli_contract_stub(int argc, char **argv);
int fl_cli_contract_generate(int argc, char **argv);
int fl_cli_contract_scaffold(int argc, char **argv);
int fl_cli_contract_record(int argc, char **argv);

#endif
