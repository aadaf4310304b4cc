/* Provider verification: for each interaction of a pact, set up its
 * provider states through the state-change URL (the Pact verifier's
 * protocol: POST {"state", "params", "action": "setup"}, with the older
 * {"consumer", "state", "states", "params"} fields in the same body), replay
 * the request (request generators applied, ProviderState values taken from
 * the state-change reply), match the response, tear the states down when
 * asked. Message interactions go through the HTTP shim the Pact verifier
 * uses: POST {"description", "providerStates"} to the provider URL, the
 * reply body is the message, metadata in the "Pact-Message-Metadata"
 * header (base64 JSON). Requests run one after another with blocking
 * fl_http_fetch. */
#ifndef FL_CONTRACT_VERIFY_H
#define FL_CONTRACT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "contract/pact.h"

struct fl_http_tls;

struct fl_verify_opts {
	const char *provider_url;     /* "http://127.0.0.1:8080" (required) */
	const char *state_change_url; /* NULL: states are not set up */
	bool state_teardown;	      /* also POST action "teardown" after each interaction */
	const char *filter_consumer;  /* extended regexes, unanchored; NULL: all */
	const char *filter_description;
	const char *filter_state;
	const char *exclude_description; /* skip interactions whose description matches */
	long timeout_ms;		 /* per request; 0: 10000 */
	uint64_t seed;			 /* generators */
	const struct fl_http_tls *tls;	 /* https:// providers: CA, client cert; NULL: system CAs */
};

enum fl_verify_status {
	FL_VERIFY_PASS,
	FL_VERIFY_FAIL,	 /* mismatches (or pending and mismatching: see `pending`) */
	FL_VERIFY_SKIP,	 /* filtered out */
	FL_VERIFY_ERROR, /* could not verify: state change failed, provider unreachable */
};

/* The outcome of one interaction, handed to the callback (borrowed). */
struct fl_verify_result {
	const struct fl_pact *pact;
	const struct fl_pact_interaction *interaction;
	size_t index;
	enum fl_verify_status status;
	bool pending; /* failures of pending interactions do not fail the run */
	struct fl_pact_mismatches mismatches;
	char error[512]; /* for FL_VERIFY_ERROR */
	bool infra;	 /* the error was the provider being unreachable */
	int64_t start_wall_ns, duration_ns;
	json_t *sent;	  /* {"method","url","headers","body"} as sent, or NULL */
	json_t *received; /* {"status","headers","body"}, or NULL */
};

struct fl_verify_summary {
	int passed, failed, pending_failed, skipped, errors, infra_errors;
};

typedef void (*fl_verify_cb)(const struct fl_verify_result *r, void *arg);

/* Verify every interaction of `p` (borrowed) against the provider; `cb`
 * (may be NULL) is called once per interaction, skipped ones included.
 * Counts are added to *sum. Returns 0, or FL_EINVAL for bad options. */
int fl_verify_pact(const struct fl_pact *p, const struct fl_verify_opts *o, fl_verify_cb cb,
		   void *arg, struct fl_verify_summary *sum, char *err, size_t errlen);

/* A readable description of an interaction's states ("given a member with
 * balance 500 and ..."), malloc'd; "" when it has none. */
char *fl_verify_states_text(const struct fl_pact_interaction *it);

#endif
