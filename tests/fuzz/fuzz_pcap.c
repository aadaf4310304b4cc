/* Fuzz target: the capture reader (contract/capture.c): a pcap or pcapng
 * file, TCP reassembly and HTTP parsing, then the pacts built from it. */
#include <jansson.h>

#include "contract/generate.h"
#include "contract/pact.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	const char *path = fuzz_file(data, size, ".pcap");
	struct fl_generate_opts o = { .out_dir = NULL, .version = 4, .quiet = 1 };
	struct fl_generator *g = fl_generator_new(&o, err, sizeof(err));
	if (!g)
		abort();
	if (fl_generator_add_pcap(g, path, err, sizeof(err)) == 0) {
		struct fl_pact **pacts = NULL;
		size_t n = fl_generator_build(g, &pacts);
		for (size_t i = 0; i < n; i++) {
			json_decref(fl_pact_to_json(pacts[i], 4));
			fl_pact_free(pacts[i]);
		}
		free(pacts);
	}
	fl_generator_free(g);
	return 0;
}
