/* faultline contract generate: pacts from recorded traffic (captures or
 * the fault injector's exchanges), one per consumer/provider pair. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/contract_int.h"
#include "contract/generate.h"
#include "core/errors.h"

const struct fl_opt fl_cli_contract_generate_opts[] = {
	{ "pcap", O_PCAP, "FILE", "a pcap or pcapng capture (Ethernet, Linux cooked, loopback)" },
	{ "events", O_EVENTS, "FILE", "the fault injector's recorded exchanges (JSONL)" },
	{ "map", O_MAP, "ADDR:PORT=SERVICE",
	  "name the service listening at ADDR:PORT (repeatable;\n"
	  "unmapped endpoints are named by address)" },
	{ "only-mapped", O_ONLY_MAPPED, NULL,
	  "ignore connections to servers no --map names (captures)" },
	{ "out", 'o', "DIR", "where to write CONSUMER-PROVIDER.json (default .)" },
	{ "version", O_VERSION, "3|4", "pact specification to write (default 4)" },
	FL_OPT_END,
};

int fl_cli_contract_generate(int argc, char **argv)
{
	struct fl_generate_opts o = { .out_dir = ".", .version = 4 };
	const char *inputs[64];
	bool is_pcap[64];
	const char *maps[128];
	size_t nin = 0, nmaps = 0;
	struct fl_opts op;
	int c;
	fl_cli_contract_opts_init(&op, fl_cli_contract_generate_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		const char *v = op.arg;
		switch (c) {
		case O_ONLY_MAPPED: o.only_mapped = 1; break;
		case O_MAP:
			if (nmaps < 128)
				maps[nmaps++] = v;
			break;
		case 'o': o.out_dir = v; break;
		case O_VERSION:
			o.version = atoi(v);
			if (o.version != 3 && o.version != 4)
				return fl_cli_usage_error("contract",
							  "generate: --version must be 3 or 4");
			break;
		case O_PCAP:
		case O_EVENTS:
			if (nin < 64) {
				is_pcap[nin] = c == O_PCAP;
				inputs[nin++] = v;
			}
			break;
		}
	}
	if (c < 0)
		return op.exit;
	if (op.optind + 1 < argc)
		return fl_cli_usage_error("contract", "generate: unexpected argument '%s'",
					  argv[op.optind + 1]);
	if (!nin)
		return fl_cli_usage_error("contract",
					  "generate: give --pcap FILE or --events FILE");
	char err[1024];
	struct fl_generator *g = fl_generator_new(&o, err, sizeof(err));
	if (!g) {
		fprintf(stderr, "faultline contract generate: %s\n", err);
		return FL_EXIT_INFRA;
	}
	int rc = FL_EXIT_OK;
	for (size_t i = 0; i < nmaps && rc == FL_EXIT_OK; i++) {
		if (fl_generator_map(g, maps[i], err, sizeof(err))) {
			rc = fl_cli_usage_error("contract", "generate: %s", err);
		}
	}
	for (size_t i = 0; i < nin && rc == FL_EXIT_OK; i++) {
		int r = is_pcap[i] ? fl_generator_add_pcap(g, inputs[i], err, sizeof(err))
				   : fl_generator_add_events(g, inputs[i], err, sizeof(err));
		if (r) {
			fprintf(stderr, "faultline contract generate: %s\n", err);
			rc = r == FL_EPARSE || r == FL_EINVAL ? FL_EXIT_USAGE : FL_EXIT_INFRA;
		}
	}
	if (rc == FL_EXIT_OK) {
		struct fl_generate_stats st;
		if (fl_generator_write(g, &st, err, sizeof(err))) {
			fprintf(stderr, "faultline contract generate: %s\n", err);
			rc = FL_EXIT_INFRA;
		} else if (st.interactions == 0) {
			/* an empty recording (wrong link, wrong file, no traffic yet)
			 * must not look like a contract that holds */
			fprintf(stderr,
				"faultline contract generate: no HTTP exchange%s in the input%s: "
				"no pact written (record traffic first: faultline contract record)\n",
				st.exchanges ? " between a known consumer and provider" : "",
				st.exchanges ? "" : " (empty recording or capture)");
			rc = FL_EXIT_FAIL;
		} else {
			printf("faultline contract generate: %zu exchange%s, %zu interaction%s, %zu pact%s "
			       "written to %s\n",
			       st.exchanges, st.exchanges == 1 ? "" : "s", st.interactions,
			       st.interactions == 1 ? "" : "s", st.pacts, st.pacts == 1 ? "" : "s",
			       o.out_dir);
			for (size_t i = 0; i < st.nfiles; i++)
				printf("  %s\n", st.files[i]);
			if (st.warnings)
				fprintf(stderr,
					"faultline contract generate: %zu warning%s (see above)\n",
					st.warnings, st.warnings == 1 ? "" : "s");
		}
		fl_generate_stats_free(&st);
	}
	fl_generator_free(g);
	return rc;
}
