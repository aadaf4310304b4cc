/* Links through the fault injector: the launcher starts `faultline proxy`
 * and is a client of its control API (one link per edge, created before
 * the caller starts).
 *
 * Tokens (docs/security.md): the agent's API is on loopback only. When the
 * operator has a token in the environment ($FAULTLINE_TOKEN), the agent
 * inherits it (never on its command line) and the launcher sends it, as
 * every client of the system does; without one the agent runs without a
 * token, as a loopback agent may. */
#include "launcher/launcher_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/token.h"

int fl_links_start_proxy(const char *faultline, const char *data, const char *seed,
			 const char *allow_listen, long timeout_ms, json_t **proxy, char *err,
			 size_t errlen)
{
	char log[PATH_MAX + 64], exitf[PATH_MAX + 64];
	snprintf(log, sizeof(log), "%s/logs/proxy.log", data);
	snprintf(exitf, sizeof(exitf), "%s/run/proxy.exit", data);
	char *argv[9] = { (char *)faultline, "proxy", "--listen", "127.0.0.1:0" };
	int n = 4;
	if (allow_listen) {
		argv[n++] = "--allow-listen";
		argv[n++] = (char *)allow_listen;
	}
	if (seed) {
		argv[n++] = "--seed";
		argv[n++] = (char *)seed;
	}
	argv[n] = NULL;
	struct fl_spawn s = { .argv = argv,
			      .log = log,
			      .exit_file = exitf,
			      .marker = "listening on",
			      .timeout_ms = timeout_ms };
	pid_t pid;
	char line[512], abuf[128], url[200];
	int rc = fl_sup_spawn(&s, &pid, line, sizeof(line), err, errlen);
	if (rc)
		return rc;
	snprintf(url, sizeof(url), "http://%s",
		 fl_sup_listen_addr(line, abuf, sizeof(abuf)) ? abuf : "?");
	*proxy = json_pack("{s:s, s:i, s:s, s:s}", "api", url, "pid", (int)pid, "log", log,
			   "exit_file", exitf);
	return 0;
}

int fl_links_create(const char *api, const char *name, const char *host, const char *upstream,
		    char *listen, size_t n, char *err, size_t errlen)
{
	char url[256], at[64];
	snprintf(url, sizeof(url), "%s/proxies", api);
	snprintf(at, sizeof(at), "%s:0", host ? host : "127.0.0.1");
	json_t *body = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "listen", at, "upstream",
				 upstream, "enabled", 1);
	char *token = NULL, auth[4200];
	const char *hdr[1] = { auth };
	int rc = fl_token_load(NULL, &token, err, errlen);
	if (rc) {
		json_decref(body);
		return rc;
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
	struct fl_http_request req = { .method = "POST",
				       .url = url,
				       .headers = token ? hdr : NULL,
				       .nheaders = token ? 1 : 0,
				       .json = body,
				       .timeout_ms = 3000 };
	struct fl_http_response *resp = NULL;
	rc = fl_http_fetch(&req, &resp);
	json_decref(body);
	free(token);
	if (rc == 0 && resp && !resp->err && resp->status == 201 && resp->json &&
	    fl_json_str(resp->json, "listen", NULL)) {
		snprintf(listen, n, "%s", fl_json_str(resp->json, "listen", ""));
		fl_http_response_free(resp);
		return 0;
	}
	rc = fl_err_set(err, errlen, FL_EPROTO, "creating link %s at %s failed: %s", name, api,
			resp ? (resp->err	  ? resp->errmsg
				: resp->body.data ? resp->body.data
						  : "?")
			     : "?");
	fl_http_response_free(resp);
	return rc;
}
