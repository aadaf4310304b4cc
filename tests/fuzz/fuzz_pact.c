/* Fuzz target: the pact reader and the matcher. The input is a pact file;
 * when it reads, it is written back and read again, and every interaction's
 * expectation is matched against itself and against the next interaction's
 * request, response and message (so the rules meet values they were not
 * written for). */
#include <string.h>
#include <jansson.h>

#include "contract/pact.h"
#include "tests/fuzz/fuzz.h"

static void match_pair(const struct fl_pact_interaction *exp, const struct fl_pact_interaction *act)
{
	struct fl_pact_mismatches m = { 0 };
	fl_pact_match_request(&exp->request, &act->request, &m);
	fl_pact_match_response(&exp->response, &act->response, &m);
	fl_pact_match_message(&exp->message, &act->message, &m);
	free(fl_pact_mismatches_text(&m));
	fl_pact_mismatches_clear(&m);
	free(m.v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!doc)
		return 0;
	struct fl_pact *p = fl_pact_from_json(doc, "fuzz.json", err, sizeof(err));
	json_decref(doc);
	if (!p)
		return 0;
	for (size_t i = 0; i < p->ninteractions; i++) {
		match_pair(&p->interactions[i], &p->interactions[i]);
		match_pair(&p->interactions[i], &p->interactions[(i + 1) % p->ninteractions]);
	}
	for (int v = 2; v <= 4; v++) {
		json_t *out = fl_pact_to_json(p, v);
		if (!out)
			continue;
		struct fl_pact *q = fl_pact_from_json(out, "fuzz.json", err, sizeof(err));
		fl_pact_free(q);
		json_decref(out);
	}
	fl_pact_free(p);
	return 0;
}
