/* The options every command that talks HTTP(S) shares: --cacert, --cert,
 * --key and --insecure (FL_OPTS_CLIENT_TLS in command.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/command.h"
#include "core/http_client.h"

int fl_cli_tls_take(struct fl_http_tls *t, int c, const char *arg)
{
	switch (c) {
	case FL_CLIENT_CACERT: t->cacert = arg; return 1;
	case FL_CLIENT_CERT: t->cert = arg; return 1;
	case FL_CLIENT_KEY: t->key = arg; return 1;
	case FL_CLIENT_INSECURE: t->insecure = 1; return 1;
	}
	return 0;
}

static int readable(const char *cmd, const char *opt, const char *file)
{
	if (!file || access(file, R_OK) == 0)
		return -1;
	return fl_cli_usage_error(cmd, "%s %s: %s", opt, file, strerror(errno));
}

int fl_cli_tls_check(const char *cmd, const struct fl_http_tls *t)
{
	int rc;
	if (t->key && !t->cert)
		return fl_cli_usage_error(cmd,
					  "--key needs --cert (the certificate it belongs to)");
	if ((rc = readable(cmd, "--cacert", t->cacert)) >= 0 ||
	    (rc = readable(cmd, "--cert", t->cert)) >= 0 ||
	    (rc = readable(cmd, "--key", t->key)) >= 0)
		return rc;
	return -1;
}
