/* faultline contract record: the fault injector's recorded HTTP exchanges
 * of some links as JSONL, for `contract generate --events`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/contract_int.h"
#include "contract/generate.h"
#include "core/http_client.h"
#include "core/token.h"

const struct fl_opt fl_cli_contract_record_opts[] = {
	{ "proxy", O_PROXY, "URL",
	  "the proxy's control API (default http://127.0.0.1:8474,\n"
	  "or $FAULTLINE_PROXY_URL)" },
	{ "link", O_LINK, "NAME", "a link (proxy) name, e.g. remittance->money (repeatable)" },
	{ "out", 'o', "FILE", "the JSONL file to write (- for stdout)" },
	{ "token", O_TOKEN, "T",
	  "the API's bearer token (shows in the process list: prefer\n"
	  "--token-file or FAULTLINE_TOKEN)" },
	{ "token-file", O_TOKEN_FILE, "FILE",
	  "read the token from FILE's first line (default:\n"
	  "$FAULTLINE_TOKEN, then $FAULTLINE_PROXY_TOKEN)" },
	FL_OPTS_CLIENT_TLS,
	FL_OPT_END,
};

int fl_cli_contract_record(int argc, char **argv)
{
	const char *proxy = getenv("FAULTLINE_PROXY_URL"), *out = NULL;
	const char *links[64], *token = NULL, *token_file = NULL;
	size_t nlinks = 0;
	struct fl_http_tls tls = { 0 };
	if (!proxy)
		proxy = "http://127.0.0.1:8474";
	struct fl_opts op;
	int c;
	fl_cli_contract_opts_init(&op, fl_cli_contract_record_opts, argc, argv);
	while ((c = fl_opts_next(&op)) > 0) {
		if (c == O_PROXY)
			proxy = op.arg;
		else if (c == 'o')
			out = op.arg;
		else if (c == O_TOKEN)
			token = op.arg;
		else if (c == O_TOKEN_FILE)
			token_file = op.arg;
		else if (fl_cli_tls_take(&tls, c, op.arg))
			continue;
		else if (nlinks < 64)
			links[nlinks++] = op.arg;
	}
	if (c < 0)
		return op.exit;
	if (op.optind + 1 < argc)
		return fl_cli_usage_error("contract", "record: unexpected argument '%s'",
					  argv[op.optind + 1]);
	if (!out)
		return fl_cli_usage_error("contract", "record: -o FILE.jsonl is required");
	if (token && token_file)
		return fl_cli_usage_error("contract", "record: --token and --token-file: give one");
	int rc = fl_cli_tls_check("contract", &tls);
	if (rc >= 0)
		return rc;
	char err[512];
	char *loaded = NULL;
	if (!token && fl_token_load(token_file, &loaded, err, sizeof(err))) {
		fprintf(stderr, "faultline contract record: %s\n", err);
		return FL_EXIT_USAGE;
	}
	FILE *f = strcmp(out, "-") ? fopen(out, "w") : stdout;
	if (!f) {
		fprintf(stderr, "faultline contract record: %s: %s\n", out, strerror(errno));
		free(loaded);
		return FL_EXIT_INFRA;
	}
	struct fl_record_stats st;
	struct fl_record_opts ro = { .token = token ? token : loaded, .tls = &tls };
	rc = FL_EXIT_OK;
	if (fl_contract_record(proxy, links, nlinks, &ro, f, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "faultline contract record: %s\n", err);
		rc = FL_EXIT_INFRA;
	}
	if (f != stdout && fclose(f)) {
		fprintf(stderr, "faultline contract record: %s: write failed\n", out);
		rc = FL_EXIT_INFRA;
	}
	if (rc == FL_EXIT_OK)
		fprintf(stderr,
			"faultline contract record: %zu HTTP exchange%s from %zu link%s written to %s\n",
			st.exchanges, st.exchanges == 1 ? "" : "s", st.links,
			st.links == 1 ? "" : "s", out);
	free(loaded);
	return rc;
}
