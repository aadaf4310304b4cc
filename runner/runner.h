/* Running one scenario file: a Lua state, an event loop and a scheduler of
 * its own, so files can run in parallel threads (--jobs). The Lua side
 * (runner/lua/faultline.lua) walks the describe/it tree; every piece that may
 * wait runs as a scheduler group, and results go to the report set. */
#ifndef FL_RUNNER_RUNNER_H
#define FL_RUNNER_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <lua.h>

#include "report/report.h"

struct fl_http_tls;

struct fl_run_opts {
	const char *const *tags; /* run tests having any of these tags ("~T" excludes T) */
	int ntags;
	const char *grep;	/* PCRE2 pattern on "suite > name", or NULL */
	const char *const *env; /* "KEY=VAL" from -e */
	int nenv;
	uint64_t seed;
	double timeout_s;	  /* per test; <= 0: none */
	int retries;		  /* default retries of a failing test (it{retries=} overrides) */
	const char *history_path; /* default history file for fl.history, or NULL */
	struct fl_report_set *reports; /* borrowed */
	/* chaos experiments (faultline chaos) */
	int chaos;		  /* experiment mode: HTTP only to loopback and `allow` */
	int dry_run;		  /* print what an experiment would do, do nothing */
	const char *const *allow; /* hosts, IPs, CIDR blocks HTTP may reach besides
				   * loopback (each an fl_allow_parse list) */
	int nallow;
	const char *journal;	       /* experiment journal file (JSON), or NULL */
	const struct fl_http_tls *tls; /* fl.http's TLS defaults (--cacert, --cert, --key,
					 * --insecure), or NULL; a request's own override them */
	volatile int *interrupt;       /* set by the signal handler; borrowed */
	const char *command;	       /* the command line that reproduces the run, for
					 * the reports (borrowed), or NULL */
	/* --bail: NULL, or a flag (borrowed, 0 at the start) that the run sets
	 * at its first failing test or file error; once it is set no test and
	 * no file starts, and the selected tests left are counted as not run */
	int *bail;
};

struct fl_file_outcome {
	int passed, failed, skipped;
	int error_exit;	 /* 0, or 2 (script error) / 3 (infrastructure) */
	int file_errors; /* file-level errors reported */
	int interrupted;
	int not_run;	   /* selected tests left after --bail stopped the run */
	int files_not_run; /* files not started because of --bail (run_files only) */
};

/* Run every selected test of the scenario at `path`. Reports go to
 * opts->reports as they happen; counts to *out. Returns 0, or a negative
 * FL_E* when the runner itself could not work (out of memory, no event loop). */
int fl_runner_run_file(const char *path, const struct fl_run_opts *opts,
		       struct fl_file_outcome *out);

/* --- a run of many files (faultline run, faultline chaos) --- */

/* Scenario files, in the order they run. Owns its strings. */
struct fl_file_list {
	char **v;
	size_t n, cap;
};

/* Add the scenario files at `path` (borrowed) to l: a file as it is; for a
 * directory every *.lua below it, sorted level by level, leaving out names
 * that start with '.' or '_' (helpers). Returns 0 or a negative FL_E*
 * (errno-based when path cannot be read). */
int fl_runner_collect(struct fl_file_list *l, const char *path);

/* Free l's strings and array; l is empty again. */
void fl_file_list_free(struct fl_file_list *l);

/* A new report set (*out; fl_report_set_free) with a reporter per spec
 * ("FORMAT[=FILE]", borrowed), and the console as well unless `quiet` or a
 * spec asks for it: on standard error when another report writes to standard
 * output. Returns 0, or FL_EINVAL (a bad spec) or FL_EEXIST (two reports in
 * one place) -- usage errors -- or another negative FL_E* (a file could not
 * be opened), with "--report SPEC: reason" in err. */
int fl_runner_reports(const char *const *specs, int n, int quiet, struct fl_report_set **out,
		      char *err, size_t errlen);

/* Run every file, `jobs` at a time (each in its own thread, Lua state and
 * event loop), between fl_report_run_begin and fl_report_run_end on
 * opts->reports; no file starts once *opts->interrupt (or *opts->bail) is
 * set, and files already running stop after their current test when
 * *opts->bail is. The totals go to *out (`interrupted` set when the run
 * was). */
void fl_runner_run_files(const struct fl_file_list *files, int jobs, const struct fl_run_opts *opts,
			 struct fl_file_outcome *out);

/* For the Lua modules: the options and outcome of the file being run in L. */
struct fl_allow;
struct fl_runner_ctx {
	const char *path;
	const struct fl_run_opts *opts;
	struct fl_file_outcome *out;
	int test_index;
	struct fl_allow *allow; /* opts->allow, parsed once by fl_runner_state_open
				 * (NULL: none, or malformed), freed by its close */
};
struct fl_runner_ctx *fl_runner_ctx(lua_State *L);

/* The blast radius of an experiment: may it reach host (a bare name or IP
 * literal, borrowed)? Loopback always; otherwise a host in the --allow
 * lists of ctx's options (names by name, IPs inside an IP/CIDR entry: the
 * fault injector's allowlist, fl_allow_parse; names are never resolved),
 * parsed once per Lua state. A malformed list allows nothing (the CLI
 * refuses it before any run). */
bool fl_runner_allowed(const struct fl_runner_ctx *ctx, const char *host);

/* Evaluate the topology file at path (a Lua file returning a table; params,
 * borrowed, may be NULL, are its `...`) into its JSON model: {name
 * (default: the file's basename), services, file, dir (the file's
 * directory)}. *model is a new reference. 0, or FL_E* with err
 * ("FILE:LINE: ..." for Lua errors). The launcher checks the rest. */
int fl_runner_topology_load(const char *path, const json_t *params, json_t **model, char *err,
			    size_t errlen);

/* The same for a topology built into faultline (module, e.g.
 * "faultline.ref.topology", the reference system's); "dir" is `dir`. */
int fl_runner_topology_builtin(const char *module, const char *dir, const json_t *params,
			       json_t **model, char *err, size_t errlen);

/* Call fn(args) of the embedded Lua module `module` (e.g. "faultline.fleet")
 * as the one task of a Lua state, event loop and scheduler of its own, so it
 * may make HTTP requests (fl.http), sleep and spawn tasks. args (borrowed,
 * may be NULL) arrives as a Lua table; opts (borrowed) gives fl.env, the
 * seed, the TLS defaults and the interrupt flag, which the function polls
 * (the first interrupt does not cancel it; a second one does);
 * opts->reports may be NULL (nothing is reported then). *result: the function's first result as JSON (new reference;
 * JSON null when it returned nothing). Returns 0, or a negative FL_E* with
 * the Lua error message (with a traceback) in err. */
int fl_runner_call(const char *module, const char *fn, const json_t *args,
		   const struct fl_run_opts *opts, json_t **result, char *err, size_t errlen);

/* Install the embedded Lua modules and the C modules (faultline.*) into L. */
void fl_runner_open_modules(lua_State *L);

#endif
