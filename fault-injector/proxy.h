/* The fault injector: a Toxiproxy-compatible TCP proxy engine with HTTP/1.x
 * faults, expiring faults, a controller lease, live metrics and recorded
 * events. See docs/fault-injector.md for the API and the toxics.
 *
 * An engine owns its own libevent event_base. It runs either in the calling
 * thread (fl_proxy_engine_run, used by `faultline proxy`) or on a thread of
 * its own (fl_proxy_engine_start_thread, used inside other programs). All
 * state is touched only on the loop thread; other threads reach it through
 * the HTTP control API or fl_proxy_engine_exec. */
#ifndef FL_PROXY_PROXY_H
#define FL_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct fl_proxy_engine;

struct fl_proxy_opts {
	bool seeded; /* use seed; otherwise a seed from the OS */
	uint64_t seed;
	const char *events_path; /* JSONL sink (created/truncated), or NULL */
	size_t events_keep;	 /* events kept per link for GET .../events; 0: 10000 */
	/* Where links may point and listen: host names, IPs and CIDR blocks,
	 * comma-separated (borrowed). allow_upstream NULL: anything while the
	 * API is on loopback, nothing once it is beyond; allow_listen NULL:
	 * loopback only. Self-loops are always refused. */
	const char *allow_upstream;
	const char *allow_listen;
};

/* Create an engine with its own event base. opts may be NULL. NULL on
 * failure with the reason in err. The caller frees with fl_proxy_engine_free.
 * The first call ignores SIGPIPE process-wide unless the program installed
 * its own handler. */
struct fl_proxy_engine *fl_proxy_engine_new(const struct fl_proxy_opts *opts, char *err,
					    size_t errlen);

/* The engine's event base (borrowed). */
struct event_base *fl_proxy_engine_base(struct fl_proxy_engine *e);

/* The seed in use (printed so a run can be replayed). */
uint64_t fl_proxy_engine_seed(const struct fl_proxy_engine *e);

/* Start the control API on the engine's loop at addr ("127.0.0.1:8474";
 * port 0 picks one). token (copied, may be NULL) makes every request need
 * "Authorization: Bearer TOKEN"; a non-loopback addr without a token is
 * refused (FL_EPERM). Call before the loop runs or on the loop thread.
 * Returns 0 or a negative FL_E* with the reason in err. */
int fl_proxy_api_start(struct fl_proxy_engine *e, const char *addr, const char *token, char *err,
		       size_t errlen);

/* Serve the control API over TLS (certificate, key, and with client_ca
 * mutual TLS: see core/tls.h; `o` is borrowed, its files read now). Call
 * after fl_proxy_api_start and before the loop runs. Returns 0, FL_ESTATE
 * without an API, or FL_EINVAL/FL_ENOENT naming the file in err. */
struct fl_tls_server_opts;
int fl_proxy_api_use_tls(struct fl_proxy_engine *e, const struct fl_tls_server_opts *o, char *err,
			 size_t errlen);

/* "http://127.0.0.1:PORT" ("https://" with TLS) of the running API
 * (borrowed), or "" before. */
const char *fl_proxy_api_url(const struct fl_proxy_engine *e);

/* An extra handler on the control API (the agent's /host routes): called
 * for every request that passed the token check, before the proxy's own
 * routes; it returns true when it replied (core/http_server.h), false to let
 * the proxy handle the request. fn NULL removes it. Call before the loop
 * runs or on the loop thread. */
struct fl_http_req;
typedef bool (*fl_proxy_api_hook_fn)(struct fl_http_req *r, void *arg);
void fl_proxy_api_set_hook(struct fl_proxy_engine *e, fl_proxy_api_hook_fn fn, void *arg);

/* The Prometheus text GET /metrics serves, with its length in *len; caller
 * frees; NULL when out of memory. On the loop thread. */
char *fl_proxy_metrics_text(struct fl_proxy_engine *e, size_t *len);

/* The API without HTTP: handle one request on the loop thread. method and
 * path as in HTTP ("POST", "/proxies/x/toxics"), query may be NULL, body
 * (borrowed, may be NULL) is the raw request body. Sets *status and
 * *reply (new reference, NULL for an empty body). */
void fl_proxy_api_handle(struct fl_proxy_engine *e, const char *method, const char *path,
			 const char *query, const char *body, size_t len, int *status,
			 json_t **reply);

/* Load a populate array (the --config file format: Toxiproxy's plus
 * "toxics") on the loop thread. Returns 0 or a negative FL_E* with err set. */
int fl_proxy_engine_populate(struct fl_proxy_engine *e, const json_t *array, char *err,
			     size_t errlen);

/* Run the loop in the calling thread until fl_proxy_engine_stop. Returns 0. */
int fl_proxy_engine_run(struct fl_proxy_engine *e);

/* Run the loop on a new thread. Returns 0 or a negative FL_E*. */
int fl_proxy_engine_start_thread(struct fl_proxy_engine *e, char *err, size_t errlen);

/* Stop the loop (any thread, also from a signal-free context) and, when it
 * runs on its own thread, join it. Live connections are closed. */
void fl_proxy_engine_stop(struct fl_proxy_engine *e);

/* Run fn(arg) on the loop thread and wait for it (runs it directly when
 * called on the loop thread or when no loop runs). Returns 0 or FL_ENOMEM. */
int fl_proxy_engine_exec(struct fl_proxy_engine *e, void (*fn)(void *arg), void *arg);

/* Stop (if running) and free everything; NULL is a no-op. */
void fl_proxy_engine_free(struct fl_proxy_engine *e);

/* ------------------------------------------------------------ allowlists */

/* A list of host names, IPs and CIDR blocks, the form --allow-upstream and
 * --allow-listen take and `faultline chaos --allow` reuses. */
struct fl_allow;

/* Parse "10.0.0.0/8,db.internal,::1" (commas or spaces; spec borrowed)
 * into *out (NULL for an empty spec), freed with fl_allow_free. 0 or
 * FL_EINVAL naming the bad entry. */
int fl_allow_parse(const char *spec, struct fl_allow **out, char *err, size_t errlen);

/* Free a list; NULL is a no-op. */
void fl_allow_free(struct fl_allow *list);

/* Is host (a bare name or IP literal, borrowed) in the list: a name
 * listed by name (case-insensitive), an IP inside an IP/CIDR entry? No
 * name is resolved. */
bool fl_allow_host(const struct fl_allow *list, const char *host);

#endif
