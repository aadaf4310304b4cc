/* Private types of the fault injector, shared by its files. Everything here
 * runs on the engine's loop thread; nothing is locked.
 *
 * Data model: an engine holds links (Toxiproxy "proxies"), each with a
 * listener, an ordered toxic list and its live connections. A connection has
 * two directions (0 upstream: client -> server, 1 downstream: server ->
 * client). A direction moves bytes from its source socket through a chain of
 * stages (one per toxic of that stream, in the order added; on HTTP links an
 * HTTP stage first) to its output queue and the destination socket. Each
 * stage owns its input queue; what it releases goes to the next stage's
 * queue. With no stages a direction forwards straight from the read buffer. */
#ifndef FL_PROXY_INTERNAL_H
#define FL_PROXY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core/addr.h"
#include "core/prng.h"
#include "fault-injector/proxy.h"

struct event;
struct event_base;
struct evdns_base;
struct fl_history;
struct fl_http_server;

#define FL_DIR_UP 0
#define FL_DIR_DOWN 1

/* Memory a direction may hold in its stages and output (chunks at their
 * real cost, FL_CHUNK_COST) before it stops reading its source (backpressure). */
#define FL_DIR_CAP (8u << 20)
/* Memory all directions of an engine may hold together (same count). */
#define FL_ENGINE_CAP ((size_t)256 << 20)
/* Memory the kept events of one link may use (estimated); the oldest go first. */
#define FL_EVENTS_BUDGET (16u << 20)
/* Bytes read at once. */
#define FL_READ_SIZE (128u << 10)
/* A link with no connection and no event for this long is idle: its event
 * ring is compacted to text (events.c). */
#define FL_IDLE_MS 1000
/* Request/response bodies kept in HTTP exchange events. */
#define FL_BODY_CAP (64u << 10)

/* --- chunks ------------------------------------------------------------ */
struct fl_chunk {
	struct fl_chunk *next;
	size_t len;   /* bytes in data */
	size_t off;   /* bytes already consumed from the front */
	int64_t t_in; /* when it entered the current stage (mono ns) */
	int64_t due;  /* stage-specific release time */
	bool eof;     /* end-of-stream marker, no data */
	bool solo;    /* written by itself, never coalesced (slicer) */
	char data[];
};

struct fl_chunkq {
	struct fl_chunk *head, *tail;
	size_t bytes; /* unconsumed bytes */
	size_t mem;   /* what its chunks cost in memory (FL_CHUNK_COST), for the caps */
};

/* The memory a chunk really takes: its header and data rounded up as malloc
 * does, plus malloc's own header. The caps count this, not payload, so a
 * stream of 1-byte chunks cannot hold 60 times the cap. */
#define FL_CHUNK_COST(c) (((sizeof(struct fl_chunk) + (c)->len + 15) & ~(size_t)15) + 16)

struct fl_chunk *fl_chunk_new(const void *p, size_t n, int64_t now);
struct fl_chunk *fl_chunk_eof(int64_t now);
/* Append c (taken). An empty data chunk is freed instead: a queue never
 * holds one, so writers always make progress. */
void fl_chunkq_push(struct fl_chunkq *q, struct fl_chunk *c);
struct fl_chunk *fl_chunkq_pop(struct fl_chunkq *q);
/* Move every chunk of src to the tail of dst, stamping t_in = now. */
void fl_chunkq_move_all(struct fl_chunkq *dst, struct fl_chunkq *src, int64_t now);
/* Consume n bytes from the head chunk (freeing it when used up). */
void fl_chunkq_consume(struct fl_chunkq *q, size_t n);
/* Move n bytes from the head of src into a new chunk at dst's tail (the
 * whole head chunk when n covers it; an end marker moves with n = 0). */
int fl_chunkq_split_to(struct fl_chunkq *dst, struct fl_chunkq *src, size_t n, int64_t now);
void fl_chunkq_clear(struct fl_chunkq *q);

/* --- toxics ------------------------------------------------------------ */
enum fl_toxic_kind {
	FL_TK_STREAM, /* a stage on the connection's byte stream */
	FL_TK_LISTEN, /* acts on the listener / at accept */
	FL_TK_HTTP,   /* acts on HTTP exchanges */
};

enum fl_attr_type { FL_AT_INT, FL_AT_NUM, FL_AT_STR };

struct fl_attr_spec {
	const char *name;
	enum fl_attr_type type;
	double def;	     /* INT and NUM */
	const char *def_str; /* STR */
	double min, max;     /* INT and NUM bounds */
};

#define FL_TOXIC_MAX_ATTRS 12

union fl_attr_val {
	int64_t i;
	double n;
	char *s;
};

/* Stage actions returned by process(). */
enum { FL_ACT_NONE = 0, FL_ACT_CLOSE = 1, FL_ACT_RESET = 2 };

struct fl_stage;
struct fl_toxic;
struct fl_link;

struct fl_toxic_type {
	const char *name;
	enum fl_toxic_kind kind;
	const struct fl_attr_spec *attrs;
	size_t nattrs;
	/* Stream toxics: (re)start per-connection state when the stage becomes
	 * active or its toxic is updated (update = true). */
	void (*start)(struct fl_stage *s, int64_t now, bool update);
	/* Move what may go now from s->in to out; set *wake to the next time
	 * it wants to run (left alone when it need not). Returns FL_ACT_*. */
	int (*process)(struct fl_stage *s, struct fl_chunkq *out, int64_t now, int64_t *wake);
	/* The toxic was removed while this stage ran: FL_ACT_* to apply. */
	int (*removed)(struct fl_stage *s);
	/* Validate/compile attributes after parsing (regexes). */
	int (*compile)(struct fl_toxic *t, char *err, size_t errlen);
};

struct fl_toxic {
	struct fl_toxic *next; /* in the link's list, in the order added */
	struct fl_link *link;
	char *name;
	const struct fl_toxic_type *type;
	int stream; /* FL_DIR_UP or FL_DIR_DOWN */
	double toxicity;
	union fl_attr_val a[FL_TOXIC_MAX_ATTRS];
	int64_t ttl_ms; /* 0: none */
	struct event *ttl_ev;
	uint64_t gen; /* bumped on each update */
	uint64_t activations;
	struct fl_regex *re; /* http toxics: path_regex, or NULL */
};

const struct fl_toxic_type *fl_toxic_type_find(const char *name);
int fl_toxic_attr_index(const struct fl_toxic_type *t, const char *name);
/* Integer / number / string attribute by name (type's spec must have it). */
int64_t fl_toxic_int(const struct fl_toxic *t, const char *name);
double fl_toxic_num(const struct fl_toxic *t, const char *name);
const char *fl_toxic_str(const struct fl_toxic *t, const char *name);
/* Parse a toxic from API JSON (j borrowed). Returns a new toxic with the
 * defaults applied, which the caller frees with fl_toxic_free or hands to
 * fl_link_add_toxic; NULL with the HTTP *status and the message in err. */
struct fl_toxic *fl_toxic_from_json(const json_t *j, int *status, char *err, size_t errlen);
/* Merge {attributes?, toxicity?, ttl_ms?} (j borrowed) into t; on failure t
 * is unchanged and *status/err say why. */
int fl_toxic_update_json(struct fl_toxic *t, const json_t *j, int *status, char *err,
			 size_t errlen);
/* New reference. */
json_t *fl_toxic_to_json(const struct fl_toxic *t);
void fl_toxic_free(struct fl_toxic *t);

extern const struct fl_toxic_type fl_toxic_latency, fl_toxic_bandwidth, fl_toxic_slow_close,
	fl_toxic_timeout, fl_toxic_reset_peer, fl_toxic_slicer, fl_toxic_limit_data,
	fl_toxic_corrupt, fl_toxic_refuse, fl_toxic_accept_reset, fl_toxic_http_abort,
	fl_toxic_http_delay, fl_toxic_http_drop_response;

/* HTTP toxics: does t apply to this request? Draws toxicity and probability. */
bool fl_http_toxic_matches(const struct fl_toxic *t, const char *method, const char *path,
			   const json_t *headers, struct fl_prng *rng);

/* --- stages, directions, connections ------------------------------------ */
struct fl_dir;
struct fl_http_state;

struct fl_stage {
	struct fl_toxic *toxic; /* NULL for the HTTP stage */
	const struct fl_toxic_type *type;
	struct fl_dir *dir;
	bool active; /* toxicity drawn for this connection */
	uint64_t gen;
	struct fl_chunkq in;
	int64_t st[4]; /* per-type state */
	double stn;
};

struct fl_dir {
	struct fl_conn *c;
	int idx;
	int src, dst;
	struct event *rev, *wev, *timer;
	int pipe[2];	     /* splice fast path: -1 when not held */
	size_t piped;	     /* bytes in the pipe */
	bool eof_after_pipe; /* source ended while the pipe held bytes */
	size_t accounted;    /* this direction's share of the engine's queued */
	struct fl_stage *stages;
	size_t nstages;
	struct fl_chunkq out;
	bool reading, writing, eof_in, eof_out;
	bool stamped;	   /* SO_TIMESTAMPNS is on for src (it has stages) */
	int64_t read_from; /* when reading was last turned on (mono ns) */
	uint64_t bytes_in, bytes_out;
	struct fl_prng rng;
	int64_t timer_at; /* deadline in the engine's timer heap, 0: none */
	size_t heap_idx;  /* SIZE_MAX when not in the heap */
};

struct fl_conn {
	struct fl_conn *prev, *next; /* in the link's list */
	struct fl_link *link;
	uint64_t id;
	int cfd, ufd;
	bool connected, closed, http_checked;
	struct event *cev; /* connect wait */
	struct fl_dir d[2];
	char peer[64];
	int64_t t_open;
	struct fl_http_state *http; /* NULL unless the link speaks HTTP */
	void *dns_req;
};

/* --- links and engine ---------------------------------------------------- */
enum fl_http_mode { FL_HTTP_AUTO, FL_HTTP_ON, FL_HTTP_OFF };

struct fl_link_metrics {
	uint64_t conns_total, bytes[2], http_exchanges, http_faults, refused, resets;
};

struct fl_link {
	struct fl_link *next;
	struct fl_proxy_engine *e;
	char *name, *listen, *upstream; /* listen: the address actually bound */
	bool enabled;
	enum fl_http_mode http;
	bool header_faults; /* x-faultline-* request headers honoured (opt-in) */
	int lfd;
	struct event *lev;
	struct event *resume_ev; /* accepting paused (out of descriptors) */
	struct fl_toxic *toxics;
	struct fl_conn *conns;
	size_t nconns;
	int64_t disable_ttl_ms;
	struct event *enable_ev; /* ttl of enabled:false */
	struct fl_link_metrics m;
	/* events ring */
	json_t **ev;
	size_t *ev_size;			  /* estimated bytes of each kept event */
	size_t ev_cap, ev_len, ev_head, ev_bytes; /* ev_cap: slots allocated */
	size_t ev_keep;				  /* slots at most (grown on use, from 0) */
	uint64_t ev_seq;
	int64_t ev_last; /* mono ns of the latest event */
	/* the events of before the last idle spell, as text (events.c) */
	char *frz;
	size_t frz_len, frz_off, frz_n; /* bytes, offset of the oldest, events */
	struct event *idle_ev;
};

struct fl_lease {
	char *holder;
	int64_t ttl_ms;
	int64_t expires; /* mono ns */
};

struct fl_proxy_engine {
	struct event_base *base;
	struct evdns_base *dns;
	struct fl_link *links;
	struct fl_prng rng;
	uint64_t seed;
	uint64_t next_conn;
	char *scratch;
	int pipes[64][2]; /* idle splice pipes */
	size_t npipes;
	size_t pipe_size;
	size_t queued;	       /* bytes held by every direction (FL_ENGINE_CAP) */
	struct event *trim_ev; /* a malloc_trim soon (fl_engine_trim_soon) */
	bool no_splice;	       /* FAULTLINE_PROXY_SPLICE=0 */
	/* stage timers (timers.c) */
	int tfd;
	struct event *tev;
	struct fl_dir **heap;
	size_t nheap, heap_cap;
	int64_t armed_at;
	struct fl_history *sink;
	size_t events_keep;
	struct event *lease_ev;
	struct fl_lease *leases;
	size_t nleases;
	struct fl_http_server *api;
	char api_url[96];
	char *token;
	bool api_loopback;		 /* the API's bound address is loopback */
	struct fl_allow *allow_upstream; /* NULL: the default rule (policy.c) */
	struct fl_allow *allow_listen;
	fl_proxy_api_hook_fn api_hook; /* fl_proxy_api_set_hook (the agent's routes) */
	void *api_hook_arg;
	int64_t started;
	/* thread */
	void *thread;		   /* pthread_t * (start_thread) */
	unsigned long loop_thread; /* pthread_t of the thread running the loop */
	bool running;
	struct event *stop_ev;
};

/* policy.c: where faults may point */
struct sockaddr;
/* fl_allow_parse, fl_allow_free, fl_allow_host: proxy.h */
/* May a link point at upstream / listen on listen? 0, FL_EINVAL (malformed,
 * empty host) or FL_EPERM (not allowed, self-loop), with the reason. */
int fl_policy_upstream(const struct fl_proxy_engine *e, const char *upstream, char *err,
		       size_t errlen);
int fl_policy_listen(const struct fl_proxy_engine *e, const char *listen, char *err, size_t errlen);
/* Is upstream a name whose verdict depends on where it resolves (an
 * allowlist with IP/CIDR entries that does not list the name itself)? */
bool fl_policy_upstream_needs_resolve(const struct fl_proxy_engine *e, const char *upstream);
/* May a connection to upstream go to sa, the address its host resolved to?
 * 0, or FL_EPERM naming the address (outside --allow-upstream). */
int fl_policy_upstream_addr(const struct fl_proxy_engine *e, const char *upstream,
			    const struct sockaddr *sa, char *err, size_t errlen);
/* Is sa one of the agent's own listeners (API or link)? */
bool fl_policy_is_self(const struct fl_proxy_engine *e, const struct sockaddr *sa);
/* Are x-faultline-* request headers honoured on l (opted in, and l listens
 * on loopback or the agent has a token)? */
bool fl_policy_header_faults(const struct fl_link *l);

/* engine.c */
struct fl_link *fl_link_find(struct fl_proxy_engine *e, const char *name);
/* Create a link (binds when enabled). Returns 0 or negative; status/err set. */
int fl_link_create(struct fl_proxy_engine *e, const char *name, const char *listen,
		   const char *upstream, bool enabled, enum fl_http_mode http, struct fl_link **out,
		   int *status, char *err, size_t errlen);
int fl_link_set_enabled(struct fl_link *l, bool enabled, char *err, size_t errlen);
int fl_link_set_listen(struct fl_link *l, const char *listen, char *err, size_t errlen);
void fl_link_set_upstream(struct fl_link *l, const char *upstream);
/* Close every connection and the listener, free the link and its toxics. */
void fl_link_delete(struct fl_link *l);
/* New reference: the Proxy JSON object. */
json_t *fl_link_to_json(const struct fl_link *l);
/* Toxic list changes: keep listener and every live connection in step. */
void fl_link_toxics_changed(struct fl_link *l);
/* Append t (taken: the link frees it) and apply it to live connections. */
void fl_link_add_toxic(struct fl_link *l, struct fl_toxic *t);
struct fl_toxic *fl_link_find_toxic(struct fl_link *l, const char *name);
/* Unlink t from live connections and the list, then free it. */
void fl_link_remove_toxic(struct fl_link *l, struct fl_toxic *t);
void fl_link_arm_ttl(struct fl_link *l, struct fl_toxic *t);
/* Remove every toxic and enable (reset / lease lapse). */
void fl_link_heal(struct fl_link *l);
void fl_engine_heal_all(struct fl_proxy_engine *e);
/* Give freed memory back to the system shortly (one malloc_trim for many
 * callers); with no connection left, the read buffer's pages too. */
void fl_engine_trim_soon(struct fl_proxy_engine *e);

/* conn.c */
/* Take over accepted socket cfd (the connection closes it) and connect upstream. */
void fl_conn_start(struct fl_link *l, int cfd, const char *peer);
/* Bring the connection's stages in line with the link's toxics. Returns 1
 * when the connection closed (it is freed then), else 0. */
int fl_conn_sync(struct fl_conn *c);
/* Close both sockets (FL_ACT_RESET: with RST), record the close, free c. */
void fl_conn_close(struct fl_conn *c, int how, const char *reason);

/* timers.c: wake direction d (its d->timer event is activated) at mono
 * time `at` (INT64_MAX or 0: never). */
int fl_timers_init(struct fl_proxy_engine *e);
void fl_timers_free(struct fl_proxy_engine *e);
void fl_timer_set(struct fl_dir *d, int64_t at);
void fl_timer_clear(struct fl_dir *d);
/* On the loop thread: ask the scheduler for a short slice, so due timers
 * are served promptly on a busy machine (FAULTLINE_PROXY_SLICE_US). */
void fl_timers_thread_setup(void);

/* splice.c */
int fl_pipe_get(struct fl_proxy_engine *e, int p[2]);
void fl_pipe_put(struct fl_proxy_engine *e, int p[2], bool empty);
void fl_pipe_pool_free(struct fl_proxy_engine *e);
/* socket -> pipe, at most max bytes (the splice result). */
long fl_splice_in(struct fl_dir *d, size_t max);
/* pipe -> socket until empty or EAGAIN; -1 on a write error. */
int fl_splice_out(struct fl_dir *d);
/* Move what the pipe holds into d->out as chunks (leaving the fast path). */
int fl_splice_drain(struct fl_dir *d, char *buf, size_t buflen, int64_t now);

/* http_stage.c */
extern const struct fl_toxic_type fl_http_stage_type;
bool fl_http_looks_like_request(const char *p, size_t n);
struct fl_http_state *fl_http_state_new(struct fl_conn *c);
/* Record exchanges still open (the connection is closing). */
void fl_http_state_close(struct fl_http_state *h);
/* The client sent EOF at now: its unanswered exchanges are recorded. */
void fl_http_client_eof(struct fl_http_state *h, int64_t now);
void fl_http_state_free(struct fl_http_state *h);

/* events.c */
void fl_events_init(struct fl_link *l, size_t keep);
void fl_events_free(struct fl_link *l);
/* Record an event (takes the reference). Adds link, seq and ts. Once the
 * link is idle (FL_IDLE_MS), its events are compacted to text. */
void fl_events_emit(struct fl_link *l, json_t *ev);
/* New array of the kept events with seq > since (at most limit; 0: all),
 * only those whose "event" is kind when kind is not NULL or empty. */
json_t *fl_events_list(struct fl_link *l, uint64_t since, size_t limit, const char *kind);

/* metrics.c */
/* The Prometheus text (malloc'd, the caller frees) and its length. */
char *fl_metrics_text(struct fl_proxy_engine *e, size_t *len);

/* api_http.c: close the API server (engine teardown). */
void fl_proxy_api_stop(struct fl_proxy_engine *e);

/* lease.c */
int fl_lease_set(struct fl_proxy_engine *e, const char *holder, int64_t ttl_ms);
int fl_lease_drop(struct fl_proxy_engine *e, const char *holder);
json_t *fl_lease_json(struct fl_proxy_engine *e);
void fl_lease_free_all(struct fl_proxy_engine *e);

#endif
