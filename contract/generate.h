/* Pacts generated from traffic: HTTP exchanges (from pcap/pcapng captures
 * through TCP reassembly and HTTP/1.x parsing, or from the fault injector's
 * recorded exchanges) grouped into one pact per consumer/provider pair and
 * generalised so the contract holds on the next run:
 *   - path segments that are identifiers (numbers, UUIDs, long hex, tokens
 *     with digits) become parameters: "/members/{id}" with a regex rule;
 *     so do literal segments that vary between requests answered with the
 *     same JSON shape ("/address/{address}");
 *   - one interaction per request shape (method, path template, query
 *     names, response status); duplicates merge into it;
 *   - values: UUIDs and ISO dates/times get regex or date matchers, values
 *     that are not seen constant across at least three exchanges get type
 *     matchers, arrays become "at least one like the first";
 *   - secrets are removed: Authorization, Cookie, Set-Cookie, API keys and
 *     token headers; only Content-Type is kept among headers; body fields
 *     named like tokens/passwords are redacted behind a type matcher.
 * Output is deterministic: the same input gives the same files. */
#ifndef FL_CONTRACT_GENERATE_H
#define FL_CONTRACT_GENERATE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "contract/pact.h"

struct fl_generate_opts {
	const char *out_dir; /* where CONSUMER-PROVIDER.json files go */
	int version;	     /* 3 or 4 */
	int quiet;	     /* count warnings without printing them */
	int only_mapped;     /* captures: ignore connections to servers not named by a map */
};

struct fl_http_pair {
	const char *name, *value;
};

/* One HTTP exchange, borrowed for the duration of fl_generator_add_exchange. */
struct fl_exchange {
	const char *consumer, *provider;
	const char *method;
	const char *target; /* "/path?query" as sent */
	const struct fl_http_pair *req_headers;
	size_t nreq_headers;
	const char *req_body;
	size_t req_body_len;
	int status;
	const struct fl_http_pair *resp_headers;
	size_t nresp_headers;
	const char *resp_body;
	size_t resp_body_len;
};

struct fl_generate_stats {
	size_t exchanges, interactions, pacts, warnings;
	char **files; /* paths written (owned) */
	size_t nfiles;
};

struct fl_generator;

struct fl_generator *fl_generator_new(const struct fl_generate_opts *o, char *err, size_t errlen);

/* Name a service: "ADDR:PORT=NAME" names the server at ADDR:PORT (provider
 * side); "ADDR=NAME" or "ADDR:*=NAME" names clients from ADDR (consumer
 * side). IPv6 as "[::1]:8080=NAME". 0 or FL_EINVAL with the reason in err. */
int fl_generator_map(struct fl_generator *g, const char *spec, char *err, size_t errlen);

/* The name for an endpoint: a mapped service or "ADDR:PORT" / "ADDR". The
 * returned string is owned by the generator. `server` selects the lookup.
 * With opts.only_mapped, an unmapped server gives NULL (ignore it). */
const char *fl_generator_name(struct fl_generator *g, const char *addr, int port, int server);

/* Add one exchange (copied as needed). 0 or FL_ENOMEM. */
int fl_generator_add_exchange(struct fl_generator *g, const struct fl_exchange *x);

/* Read a pcap or pcapng capture: TCP reassembly, HTTP/1.x parsing. Returns 0,
 * FL_ENOENT/FL_EIO for files that cannot be read, FL_EPARSE for a capture
 * that is not a capture (message names the file and the place). A truncated
 * capture keeps what was complete and counts a warning. */
int fl_generator_add_pcap(struct fl_generator *g, const char *path, char *err, size_t errlen);

/* Read recorded exchanges (JSONL: {"type":"http_exchange", "link":"a->b",
 * "method", "path", "status", request/response headers and bodies}). */
int fl_generator_add_events(struct fl_generator *g, const char *path, char *err, size_t errlen);

struct fl_record_stats {
	size_t links;	  /* links recorded */
	size_t exchanges; /* HTTP exchanges written */
};

/* Record for fl_generator_add_events: write the HTTP exchanges the fault
 * injector at `proxy` (its control API URL) recorded on `links` -- every
 * link it has when nlinks is 0 -- to out as JSON lines, each with its
 * "link". `ro` (borrowed, may be NULL) says how to reach the API. Returns 0,
 * or a negative FL_E* with the reason in err (the API unreachable, refusing
 * the token, or answering other than a list of events). Counts in *st. */
struct fl_http_tls;
struct fl_record_opts {
	const char *token;	       /* bearer token of the API, or NULL */
	const struct fl_http_tls *tls; /* https:// APIs: CA, client cert; NULL: system CAs */
};
int fl_contract_record(const char *proxy, const char *const *links, size_t nlinks,
		       const struct fl_record_opts *ro, FILE *out, struct fl_record_stats *st,
		       char *err, size_t errlen);

/* Count a problem met while reading (printed to stderr as "warning: ..."). */
void fl_generator_warn(struct fl_generator *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Build the pacts (new, caller frees each with fl_pact_free and the array
 * with free). Returns the count; *out NULL when none. */
size_t fl_generator_build(struct fl_generator *g, struct fl_pact ***out);

/* Build and write CONSUMER-PROVIDER.json files into opts.out_dir. */
int fl_generator_write(struct fl_generator *g, struct fl_generate_stats *st, char *err,
		       size_t errlen);

void fl_generate_stats_free(struct fl_generate_stats *st);
void fl_generator_free(struct fl_generator *g);

#endif
