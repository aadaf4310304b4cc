/* Pact contracts: the model (pacts, interactions, requests, responses,
 * messages), reading Pact V2/V3/V4 files, writing V3/V4, and matching an
 * actual request, response or message against an interaction's expectation
 * exactly as the Pact specification says (method, path, query, headers,
 * status, bodies in JSON, XML and text, matching rules with path weights).
 *
 * Ownership: every struct here owns the memory it points to (strings are
 * malloc'd, json_t references are owned); fl_pact_free releases a whole pact.
 * Readers keep warnings (unknown attributes) in the pact so that every
 * problem of a file is reported at once. */
#ifndef FL_CONTRACT_PACT_H
#define FL_CONTRACT_PACT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* A body, as the spec distinguishes it: absent from the file, present and
 * null, present and empty, or present. */
enum fl_pact_body_state {
	FL_PACT_BODY_MISSING,
	FL_PACT_BODY_NULL,
	FL_PACT_BODY_EMPTY,
	FL_PACT_BODY_PRESENT,
};

struct fl_pact_body {
	enum fl_pact_body_state state;
	char *content_type; /* declared (V4 "contentType") or NULL */
	/* The content: for JSON bodies the JSON value itself; for every other
	 * content type a JSON string holding the text (or base64 text when
	 * `encoded`). NULL unless state is PRESENT or EMPTY (then ""). */
	json_t *value;
	bool encoded; /* V4 "encoded": value is base64 of binary content */
};

/* Headers and query parameters are JSON objects: name -> array of strings.
 * Matching rules and generators are kept in the V3/V4 shape, normalised:
 * {"path": GROUP, "query": {NAME: GROUP}, "header": {NAME: GROUP},
 *  "body": {PATH: GROUP}, "status": GROUP, "metadata": {...}} where GROUP is
 * {"combine": "AND"|"OR", "matchers": [MATCHER...]}. */
struct fl_pact_request {
	char *method;
	char *path;
	json_t *query;	 /* object: name -> [values] (never NULL) */
	json_t *headers; /* object: name -> [values] (never NULL) */
	struct fl_pact_body body;
	json_t *rules;	    /* object, never NULL */
	json_t *generators; /* object, never NULL */
};

struct fl_pact_response {
	int status;
	json_t *headers;
	struct fl_pact_body body;
	json_t *rules;
	json_t *generators;
};

struct fl_pact_message {
	struct fl_pact_body contents;
	json_t *metadata; /* object (never NULL) */
	json_t *rules;	  /* body rules under "body" (V3) — V4 "content" is read into "body" */
	json_t *generators;
};

enum fl_pact_kind { FL_PACT_HTTP, FL_PACT_MESSAGE };

struct fl_pact_interaction {
	enum fl_pact_kind kind;
	char *description;
	char *key;	  /* V4 interaction key or NULL */
	json_t *states;	  /* array of {"name": S, "params": {...}} (never NULL) */
	bool pending;	  /* V4: reported, never failing */
	json_t *comments; /* V4 comments object or NULL */
	struct fl_pact_request request;
	struct fl_pact_response response;
	struct fl_pact_message message; /* for FL_PACT_MESSAGE */
};

struct fl_pact {
	char *consumer;
	char *provider;
	int spec_major; /* 2, 3 or 4: the version the file declared */
	char *source;	/* file it came from, or NULL */
	struct fl_pact_interaction *interactions;
	size_t ninteractions;
	json_t *metadata; /* the file's metadata object (owned), never NULL */
	json_t *warnings; /* array of strings: unknown attributes and oddities */
};

/* --- reading and writing ------------------------------------------------ */

/* Parse a pact document (any of V2, V3, V4). `doc` is borrowed; `source`
 * names it in messages (may be NULL). Returns a new pact (caller frees with
 * fl_pact_free) or NULL with "SOURCE: interactions[2].request: ..." in err. */
struct fl_pact *fl_pact_from_json(const json_t *doc, const char *source, char *err, size_t errlen);

/* Load a pact file. NULL with "FILE:LINE:COL: ..." or "FILE: ..." in err. */
struct fl_pact *fl_pact_load(const char *path, char *err, size_t errlen);

/* Pacts loaded together (the list owns them; fl_pact_list_free). */
struct fl_pact_list {
	struct fl_pact **v;
	size_t n;
};

/* Append the pact at `path`, or every *.json pact of the directory `path`
 * (by name; names starting with '.' left out), to l. Stops at the first
 * pact that cannot be read: returns 0, or a negative FL_E* with the reason
 * (naming the file) in err; a directory without pacts is FL_ENOENT. Each
 * pact keeps its warnings (p->warnings) for the caller to show. */
int fl_pact_list_load(struct fl_pact_list *l, const char *path, char *err, size_t errlen);

/* Append p to l; p is taken (freed on failure). Returns 0 or FL_ENOMEM. */
int fl_pact_list_add(struct fl_pact_list *l, struct fl_pact *p);

/* Free every pact and the array; l is empty again. */
void fl_pact_list_free(struct fl_pact_list *l);

/* Serialise as a V3 or V4 (`version` 3 or 4) document. New reference. */
json_t *fl_pact_to_json(const struct fl_pact *p, int version);

/* Write the pact to `path` (pretty, keys in a stable order, trailing
 * newline); 0 or a negative FL_E* with the reason in err. */
int fl_pact_save(const struct fl_pact *p, const char *path, int version, char *err, size_t errlen);

/* A new empty pact between consumer and provider (both copied). */
struct fl_pact *fl_pact_new(const char *consumer, const char *provider);

/* Append an interaction (zeroed, kind HTTP, empty headers/query/rules);
 * the pointer is valid until the next append. NULL on out of memory. */
struct fl_pact_interaction *fl_pact_add_interaction(struct fl_pact *p);

/* Initialise an empty request/response/message in place; the _clear
 * functions release what one holds (the struct itself is the caller's). */
void fl_pact_request_init(struct fl_pact_request *r);
void fl_pact_response_init(struct fl_pact_response *r);
void fl_pact_message_init(struct fl_pact_message *m);
void fl_pact_request_clear(struct fl_pact_request *r);
void fl_pact_response_clear(struct fl_pact_response *r);
void fl_pact_message_clear(struct fl_pact_message *m);
void fl_pact_body_clear(struct fl_pact_body *b);

/* Read one request, response or message object as a pact file of `version`
 * (2, 3 or 4) holds it. `where` prefixes messages ("interactions[0].request");
 * unknown attributes are appended to `warnings` (borrowed, may be NULL).
 * `out` is initialised here and must be cleared by the caller whatever the
 * result. 0, or FL_EINVAL with "WHERE...: reason" in err. */
int fl_pact_request_read(const json_t *v, int version, const char *where,
			 struct fl_pact_request *out, json_t *warnings, char *err, size_t errlen);
int fl_pact_response_read(const json_t *v, int version, const char *where,
			  struct fl_pact_response *out, json_t *warnings, char *err, size_t errlen);
int fl_pact_message_read(const json_t *v, int version, const char *where,
			 struct fl_pact_message *out, json_t *warnings, char *err, size_t errlen);

/* Normalise matching rules from any version (V2's flat "$.body.x" keys,
 * V3/V4 categories) into the shape described above. New reference, or NULL
 * with the reason (unknown matcher type, bad path) in err. */
json_t *fl_pact_rules_normalise(const json_t *rules, const char *where, char *err, size_t errlen);

void fl_pact_free(struct fl_pact *p);

/* Parse one body from its pact representation (V3 value or V4 object with
 * contentType/encoded/content). `present` says whether the key existed. */
void fl_pact_body_read(struct fl_pact_body *out, const json_t *v, bool present, int version);

/* The body's content type: declared, else from `headers` (Content-Type,
 * may be NULL), else detected from the content ("application/json",
 * "application/xml", "text/plain"). Borrowed or static. */
const char *fl_pact_body_content_type(const struct fl_pact_body *b, const json_t *headers);

/* The body as bytes to send: JSON serialised compactly, text as is, base64
 * decoded. Returns a malloc'd buffer (caller frees) and its length; NULL
 * with *len 0 when the body is missing or null. */
char *fl_pact_body_bytes(const struct fl_pact_body *b, size_t *len);

/* Build a body from bytes received on the wire, given their content type
 * (may be NULL): JSON content types are parsed (falling back to text). */
void fl_pact_body_from_bytes(struct fl_pact_body *out, const char *data, size_t len,
			     const char *content_type);

/* Header helpers: first value of a header (case-insensitive), borrowed. */
const char *fl_pact_header_get(const json_t *headers, const char *name);

/* Add a value to a headers/query object (name -> [values]). */
int fl_pact_multimap_add(json_t *obj, const char *name, const char *value);

/* Parse a query string "a=1&b=2&a=3" (URL-decoded) into name -> [values]. New reference. */
json_t *fl_pact_query_parse(const char *qs);

/* --- matching --------------------------------------------------------------- */

/* One difference between the expectation and what was seen. */
struct fl_pact_mismatch {
	char *kind;	/* "method", "path", "query", "header", "status", "body",
				 * "body-type", "metadata" */
	char *path;	/* "$.body.amount", "$.header.Accept", "$.query.page", "$.status" */
	char *expected; /* printable (JSON for values), may be NULL */
	char *actual;	/* printable, may be NULL */
	char *message;	/* "Expected 100 (integer) but received \"100\" (string)" */
};

struct fl_pact_mismatches {
	struct fl_pact_mismatch *v;
	size_t n, cap;
};

/* Append a mismatch (strings copied; any may be NULL). */
void fl_pact_mismatch_add(struct fl_pact_mismatches *m, const char *kind, const char *path,
			  const char *expected, const char *actual, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Release every mismatch; the list is left empty and reusable. */
void fl_pact_mismatches_clear(struct fl_pact_mismatches *m);

/* Match an actual request against the expected one (request rules: strict
 * bodies, unexpected query parameters fail). Mismatches are appended to
 * `out`; returns the number appended (0: match). */
size_t fl_pact_match_request(const struct fl_pact_request *expected,
			     const struct fl_pact_request *actual, struct fl_pact_mismatches *out);

/* Match an actual response (lenient bodies: extra keys allowed). */
size_t fl_pact_match_response(const struct fl_pact_response *expected,
			      const struct fl_pact_response *actual,
			      struct fl_pact_mismatches *out);

/* Match an actual message (contents as a lenient body, then metadata). */
size_t fl_pact_match_message(const struct fl_pact_message *expected,
			     const struct fl_pact_message *actual, struct fl_pact_mismatches *out);

/* Render the mismatches as text, one "  - PATH: MESSAGE" line each.
 * malloc'd (caller frees). */
char *fl_pact_mismatches_text(const struct fl_pact_mismatches *m);

/* The mismatches as a JSON array of {kind, path, expected, actual, message}. New reference. */
json_t *fl_pact_mismatches_json(const struct fl_pact_mismatches *m);

#endif
