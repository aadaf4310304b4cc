/* Lua contract tests scaffolded from a pact: one describe() per pact, one
 * it() per HTTP interaction that sends the pact's request to the provider
 * and checks the answer with fl.contract.check (the pact's own matching
 * rules). Meant to be read and edited by a person. */
#ifndef FL_CONTRACT_SCAFFOLD_H
#define FL_CONTRACT_SCAFFOLD_H

#include <stddef.h>

#include "contract/pact.h"
#include "core/buf.h"

/* Render the scenario for `p` (borrowed) into out. `pact_path` is named in
 * the header comment, `provider_url` is the default URL (NULL:
 * http://127.0.0.1:8080; "ref": the provider service of the running
 * reference system, tests skipped when none runs). $PROVIDER_URL always
 * wins. 0 or FL_ENOMEM. */
int fl_scaffold_render(const struct fl_pact *p, const char *pact_path, const char *provider_url,
		       struct fl_buf *out);

/* Render and write to `out_path`. 0 or a negative FL_E* with the reason in err. */
int fl_scaffold_write(const struct fl_pact *p, const char *pact_path, const char *provider_url,
		      const char *out_path, char *err, size_t errlen);

#endif
