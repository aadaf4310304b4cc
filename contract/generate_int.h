/* Private to contract/: what the generator keeps of the traffic. Exchanges
 * are grouped by consumer/provider pair, then by request shape; each shape
 * keeps its first GEN_SAMPLES exchanges (enough to see what varies) and a
 * count of the rest. */
#ifndef FL_CONTRACT_GENERATE_INT_H
#define FL_CONTRACT_GENERATE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "contract/generate.h"

#define GEN_SAMPLES 24

struct gen_sample {
	char *path;		/* decoded path, no query */
	json_t *query;		/* name -> [values] */
	char *req_ct, *resp_ct; /* Content-Type or NULL */
	json_t *req_headers;	/* the request headers worth keeping: name -> [values] */
	char *req_body, *resp_body;
	size_t req_len, resp_len;
};

struct gen_shape {
	struct gen_shape *hnext; /* hash chain */
	char *key;		 /* "GET /members/{id} ?page 200" */
	char *method;
	char *templ;	  /* "/members/{id}" */
	char *path_regex; /* NULL when the path has no parameters */
	int status;
	uint64_t count;
	struct gen_sample samples[GEN_SAMPLES];
	size_t nsamples;
};

struct gen_pair {
	char *consumer, *provider;
	struct gen_shape **shapes;
	size_t nshapes, cap;
	struct gen_shape *hash[1024];
};

/* Classify a path: the template ("/members/{id}") and the regex for it
 * ("/members/[0-9]+"), or NULL regex when nothing varies. Both malloc'd. */
void fl_gen_path_template(const char *path, char **templ, char **regex);

/* Is this name (header, query parameter, JSON key) a secret? */
int fl_gen_is_secret(const char *name);

/* Should a request header go into the contract? (Not a secret, not about
 * the transport or tracing: Host, Content-Length, User-Agent, traceparent...) */
int fl_gen_keep_request_header(const char *name);

/* Build the interaction for a shape into `it` (already added to its pact). */
void fl_gen_build_interaction(const struct gen_shape *s, struct fl_pact_interaction *it);

#endif
