/* faultline fleet: many agents at once (docs/agent.md "Fleets"): status,
 * one host fault applied on all or none, heal. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/command.h"
#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/token.h"

enum {
	O_AGENT = FL_OPT_LONG,
	O_INVENTORY,
	O_TOKEN_FILE,
	O_JSON,
	O_LEASE,
	O_HOLD,
	O_HOLDER,
	O_CACERT,
	O_CERT,
	O_KEY,
	O_INSECURE
};

static const struct fl_opt opts[] = {
	{ "inventory", O_INVENTORY, "FILE",
	  "the agents: one a line, 'URL' or 'NAME URL' ('#' comments)" },
	{ "agent", O_AGENT, "URL", "an agent (repeatable; with or without --inventory)" },
	{ "token-file", O_TOKEN_FILE, "FILE",
	  "the agents' token (else FAULTLINE_TOKEN or\n"
	  "FAULTLINE_PROXY_TOKEN)" },
	{ "cacert", O_CACERT, "FILE", "trust this CA (PEM) for https:// agents" },
	{ "cert", O_CERT, "FILE", "client certificate (PEM) for agents asking mutual TLS" },
	{ "key", O_KEY, "FILE", "its private key (PEM)" },
	{ "insecure", O_INSECURE, NULL, "do not verify the agents' certificates" },
	{ "json", O_JSON, NULL, "status: one JSON document" },
	{ "lease-ms", O_LEASE, "MS",
	  "apply --hold: the controller lease taken on every agent\n"
	  "and renewed every third of it (default 5000)" },
	{ "hold", O_HOLD, NULL,
	  "apply: stay, renewing the lease, until SIGINT/SIGTERM\n"
	  "(then heal) or the fault's TTL; killed, the fleet heals\n"
	  "when the lease lapses" },
	{ "holder", O_HOLDER, "NAME", "the lease holder's name (default faultline-fleet-PID)" },
	FL_OPT_HELP,
	FL_OPT_END,
};

static const struct fl_help help[] = {
	{ "Usage: faultline fleet status [--json] AGENTS\n"
	  "       faultline fleet apply SPEC [--hold [--lease-ms MS]] AGENTS\n"
	  "       faultline fleet heal AGENTS\n"
	  "AGENTS: --inventory FILE and/or --agent URL... [--token-file FILE]\n"
	  "        [--cacert FILE] [--cert FILE --key FILE] [--insecure]\n"
	  "\n"
	  "status  each agent: reachable, version, host faults with their remaining\n"
	  "        TTL, lease holders. Exit 0 when every agent answers, 3 otherwise.\n"
	  "apply   the host fault SPEC (JSON, docs/agent.md; ttl_ms required) on every\n"
	  "        agent, or on none: when one refuses, the others' are deleted (exit 1;\n"
	  "        3 when an agent is unreachable). Prints 'NAME ID' per agent.\n"
	  "heal    delete every host fault on every agent.\n"
	  "\n",
	  opts },
	{ NULL, NULL },
};

struct agent {
	char *name, *url;
	char id[32]; /* apply: the fault made here */
};

struct fleet {
	struct agent *a;
	size_t n;
	char *token;
	struct fl_http_tls tls;
};

static volatile sig_atomic_t stop_sig;
static void on_stop(int sig)
{
	stop_sig = sig;
}

static int add_agent(struct fleet *f, const char *name, const char *url)
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		fprintf(stderr, "faultline fleet: agent %s: expected an http(s):// URL, got '%s'\n",
			name ? name : "", url);
		return FL_EXIT_USAGE;
	}
	struct agent *n = realloc(f->a, (f->n + 1) * sizeof(*n));
	if (!n)
		return FL_EXIT_INFRA;
	f->a = n;
	n[f->n].url = strdup(url);
	n[f->n].name = strdup(name ? name : url + (url[4] == 's' ? 8 : 7));
	n[f->n].id[0] = 0;
	size_t l = strlen(n[f->n].url);
	while (l > 8 && n[f->n].url[l - 1] == '/')
		n[f->n].url[--l] = 0;
	f->n++;
	return 0;
}

static int load_inventory(struct fleet *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "faultline fleet: --inventory %s: cannot read it\n", path);
		return FL_EXIT_USAGE;
	}
	char line[1024], a[512], b[512], extra[2];
	int n = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), fp)) {
		n++;
		line[strcspn(line, "#\n")] = 0;
		int k = sscanf(line, "%511s %511s %1s", a, b, extra);
		if (k <= 0)
			continue;
		if (k == 3) {
			fprintf(stderr, "faultline fleet: %s:%d: expected 'URL' or 'NAME URL'\n",
				path, n);
			rc = FL_EXIT_USAGE;
		} else {
			rc = add_agent(f, k == 2 ? a : NULL, k == 2 ? b : a);
		}
	}
	fclose(fp);
	return rc;
}

/* One request; *out (caller frees) the response, also on failure. */
static struct fl_http_response *call(const struct fleet *f, const struct agent *a,
				     const char *method, const char *path, const json_t *body)
{
	char url[1024], auth[600];
	snprintf(url, sizeof(url), "%s%s", a->url, path);
	const char *hdrs[1];
	size_t nh = 0;
	if (f->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", f->token);
		hdrs[nh++] = auth;
	}
	struct fl_http_request req = { .method = method,
				       .url = url,
				       .headers = hdrs,
				       .nheaders = nh,
				       .json = body,
				       .connect_timeout_ms = 2000,
				       .timeout_ms = 5000,
				       .tls = &f->tls };
	struct fl_http_response *r = NULL;
	fl_http_fetch(&req, &r);
	return r;
}

static const char *why(const struct fl_http_response *r)
{
	if (!r)
		return "out of memory";
	if (r->err)
		return r->errmsg;
	const char *e = json_string_value(json_object_get(r->json, "error"));
	return e ? e : "unexpected answer";
}

static json_t *status_json(const struct fleet *f, bool *all_up)
{
	json_t *out = json_array();
	*all_up = true;
	for (size_t i = 0; i < f->n; i++) {
		struct agent *a = &f->a[i];
		json_t *s = json_pack("{s:s, s:s, s:b}", "name", a->name, "url", a->url,
				      "reachable", 0);
		struct fl_http_response *h = call(f, a, "GET", "/healthz", NULL);
		if (h && !h->err && h->status == 200) {
			json_object_set_new(s, "reachable", json_true());
			json_object_set(s, "version", json_object_get(h->json, "version"));
			json_object_set(s, "hostname", json_object_get(h->json, "hostname"));
			json_object_set(s, "host_faults", json_object_get(h->json, "host_faults"));
			struct fl_http_response *host = call(f, a, "GET", "/host", NULL);
			if (host && host->status == 200) {
				json_object_set(s, "faults", json_object_get(host->json, "faults"));
				json_object_set(s, "leases", json_object_get(host->json, "leases"));
			} else {
				struct fl_http_response *l = call(f, a, "GET", "/lease", NULL);
				if (l && l->status == 200)
					json_object_set(s, "leases", l->json);
				fl_http_response_free(l);
			}
			fl_http_response_free(host);
		} else {
			*all_up = false;
			json_object_set_new(s, "error", json_string(why(h)));
		}
		fl_http_response_free(h);
		json_array_append_new(out, s);
	}
	return out;
}

static void print_status(const json_t *st)
{
	size_t i, j;
	json_t *s, *x;
	json_array_foreach(st, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *url = json_string_value(json_object_get(s, "url"));
		if (!json_is_true(json_object_get(s, "reachable"))) {
			printf("%-16s %s  UNREACHABLE: %s\n", name, url,
			       json_string_value(json_object_get(s, "error")));
			continue;
		}
		json_t *faults = json_object_get(s, "faults"), *leases = json_object_get(s, "lease"
											    "s");
		printf("%-16s %s  up, faultline %s on %s, %zu host fault%s, %zu lease%s\n", name,
		       url, fl_json_str(s, "version", "?"), fl_json_str(s, "hostname", "?"),
		       json_array_size(faults), json_array_size(faults) == 1 ? "" : "s",
		       json_array_size(leases), json_array_size(leases) == 1 ? "" : "s");
		json_array_foreach(faults, j, x)
			printf("    fault %-8s %-10s %.1f s left\n", fl_json_str(x, "id", "?"),
			       fl_json_str(x, "type", "?"),
			       (double)fl_json_int(x, "expires_in_ms", 0) / 1000.0);
		json_array_foreach(leases, j, x)
			printf("    lease %-30s %.1f s left\n", fl_json_str(x, "holder", "?"),
			       (double)fl_json_int(x, "expires_in_ms", 0) / 1000.0);
	}
}

static void release_all(const struct fleet *f, const char *holder)
{
	json_t *b = json_pack("{s:s}", "holder", holder);
	for (size_t i = 0; i < f->n; i++)
		fl_http_response_free(call(f, &f->a[i], "DELETE", "/lease", b));
	json_decref(b);
}

static int lease_all(const struct fleet *f, const char *holder, int64_t ms)
{
	json_t *b = json_pack("{s:I, s:s}", "ttl_ms", (json_int_t)ms, "holder", holder);
	int rc = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct fl_http_response *r = call(f, &f->a[i], "POST", "/lease", b);
		if (!r || r->err || r->status != 200) {
			fprintf(stderr, "faultline fleet: %s: lease: %s\n", f->a[i].name, why(r));
			rc = r && !r->err ? FL_EXIT_FAIL : FL_EXIT_INFRA;
		}
		fl_http_response_free(r);
	}
	json_decref(b);
	return rc;
}

static void delete_made(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (!f->a[i].id[0])
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/host/faults/%s", f->a[i].id);
		struct fl_http_response *r = call(f, &f->a[i], "DELETE", path, NULL);
		if (!r || (r->status != 204 && r->status != 404))
			fprintf(stderr, "faultline fleet: %s: deleting %s: %s\n", f->a[i].name,
				f->a[i].id, why(r));
		fl_http_response_free(r);
		f->a[i].id[0] = 0;
	}
}

/* Apply spec on every agent or on none. */
static int apply_all(struct fleet *f, const json_t *spec)
{
	for (size_t i = 0; i < f->n; i++) {
		struct fl_http_response *r = call(f, &f->a[i], "POST", "/host/faults", spec);
		if (!r || r->err || r->status != 201) {
			int rc = r && !r->err ? FL_EXIT_FAIL : FL_EXIT_INFRA;
			fprintf(stderr, "faultline fleet: %s: %s; rolling back on every agent\n",
				f->a[i].name, why(r));
			fl_http_response_free(r);
			delete_made(f);
			return rc;
		}
		snprintf(f->a[i].id, sizeof(f->a[i].id), "%s", fl_json_str(r->json, "id", "?"));
		fl_http_response_free(r);
	}
	for (size_t i = 0; i < f->n; i++)
		printf("%s %s\n", f->a[i].name, f->a[i].id);
	fflush(stdout);
	return 0;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int do_apply(struct fleet *f, const char *text, bool hold, int64_t lease_ms,
		    const char *holder)
{
	char err[300];
	json_t *spec = fl_json_parse(text, strlen(text), err, sizeof(err));
	if (!json_is_object(spec)) {
		json_decref(spec);
		return fl_cli_usage_error("fleet", "apply: SPEC is not a JSON object%s%s",
					  *err ? ": " : "", err);
	}
	int64_t ttl = fl_json_int(spec, "ttl_ms", 0);
	int rc = hold ? lease_all(f, holder, lease_ms) : 0;
	if (!rc)
		rc = apply_all(f, spec);
	if (rc || !hold) {
		if (hold)
			release_all(f, holder);
		json_decref(spec);
		return rc;
	}
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int64_t waited = 0, step = lease_ms / 3 > 0 ? lease_ms / 3 : 1;
	while (!stop_sig && (ttl <= 0 || waited < ttl)) {
		for (int64_t t = 0; t < step && !stop_sig; t += 20)
			sleep_ms(20);
		waited += step;
		if (!stop_sig)
			lease_all(f, holder, lease_ms);
	}
	delete_made(f);
	release_all(f, holder);
	json_decref(spec);
	return FL_EXIT_OK;
}

static int do_heal(struct fleet *f)
{
	int rc = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct fl_http_response *r = call(f, &f->a[i], "DELETE", "/host/faults", NULL);
		if (!r || r->err || r->status != 204) {
			fprintf(stderr, "faultline fleet: %s: %s\n", f->a[i].name, why(r));
			rc = r && !r->err ? FL_EXIT_FAIL : FL_EXIT_INFRA;
		}
		fl_http_response_free(r);
	}
	return rc;
}

static int cmd_fleet(int argc, char **argv)
{
	struct fleet f = { 0 };
	struct fl_opts o;
	const char *token_file = NULL;
	bool json = false, hold = false;
	int64_t lease_ms = 5000;
	char holder[64], err[300];
	int c, rc = 0;
	snprintf(holder, sizeof(holder), "faultline-fleet-%d", (int)getpid());
	fl_opts_init(&o, &fl_cmd_fleet, opts, argc, argv);
	while (!rc && (c = fl_opts_next(&o)) > 0) {
		switch (c) {
		case O_INVENTORY: rc = load_inventory(&f, o.arg); break;
		case O_AGENT: rc = add_agent(&f, NULL, o.arg); break;
		case O_TOKEN_FILE: token_file = o.arg; break;
		case O_JSON: json = true; break;
		case O_CACERT: f.tls.cacert = o.arg; break;
		case O_CERT: f.tls.cert = o.arg; break;
		case O_KEY: f.tls.key = o.arg; break;
		case O_INSECURE: f.tls.insecure = 1; break;
		case O_HOLD: hold = true; break;
		case O_HOLDER: snprintf(holder, sizeof(holder), "%s", o.arg); break;
		case O_LEASE: {
			char *end;
			lease_ms = strtoll(o.arg, &end, 10);
			if (!*o.arg || *end || lease_ms < 100 || lease_ms > 600000)
				rc = fl_opts_error(&o, "must be 100..600000 ms: '%s'", o.arg);
			break;
		}
		}
	}
	if (!rc && c < 0)
		rc = o.exit == FL_EXIT_OK ? -1 : o.exit;
	const char *sub = o.optind < argc ? argv[o.optind] : NULL;
	if (!rc && !sub)
		rc = fl_cli_usage_error("fleet", "which: status, apply or heal?");
	if (!rc && !f.n)
		rc = fl_cli_usage_error("fleet", "no agents: give --inventory FILE or --agent URL");
	if (!rc && fl_token_load(token_file, &f.token, err, sizeof(err))) {
		fprintf(stderr, "faultline fleet: %s\n", err);
		rc = FL_EXIT_USAGE;
	}
	if (rc)
		goto out;
	int nops = argc - o.optind - 1;
	if (strcmp(sub, "status") == 0 && nops == 0) {
		bool up;
		json_t *st = status_json(&f, &up);
		if (json) {
			char *s = fl_json_dumps(st);
			printf("%s\n", s ? s : "[]");
			free(s);
		} else {
			print_status(st);
		}
		json_decref(st);
		rc = up ? FL_EXIT_OK : FL_EXIT_INFRA;
	} else if (strcmp(sub, "apply") == 0 && nops == 1) {
		rc = do_apply(&f, argv[o.optind + 1], hold, lease_ms, holder);
	} else if (strcmp(sub, "heal") == 0 && nops == 0) {
		rc = do_heal(&f);
	} else {
		rc = fl_cli_usage_error("fleet", "unknown subcommand or arguments: '%s'", sub);
	}
out:
	for (size_t i = 0; i < f.n; i++) {
		free(f.a[i].name);
		free(f.a[i].url);
	}
	free(f.a);
	free(f.token);
	return rc < 0 ? FL_EXIT_OK : rc;
}

const struct fl_command fl_cmd_fleet = {
	.name = "fleet",
	.summary = "many agents at once: status, a host fault on all or none, heal",
	.help = help,
	.order = 22,
	.run = cmd_fleet,
};
