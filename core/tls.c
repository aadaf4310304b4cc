/* TLS server contexts on OpenSSL. Errors name the file and carry OpenSSL's
 * own reason ("key.pem: no start line"). */
#include "core/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/errors.h"

/* Fill err with "WHAT FILE: <OpenSSL's last reason>" and clear the queue. */
static void ssl_fail(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_peek_last_error();
	char reason[256] = "unknown error";
	if (e) {
		const char *r = ERR_reason_error_string(e);
		if (r)
			snprintf(reason, sizeof(reason), "%s", r);
		else
			ERR_error_string_n(e, reason, sizeof(reason));
	}
	ERR_clear_error();
	fl_err_set(err, errlen, FL_EINVAL, "%s %s: %s", what, file, reason);
}

/* Readable now, so a typo is reported as the file, not as a TLS failure. */
static int check_file(const char *what, const char *file, char *err, size_t errlen)
{
	if (!file || !*file)
		return fl_err_set(err, errlen, FL_EINVAL, "TLS needs a %s file", what);
	if (access(file, R_OK) != 0)
		return fl_err_set(err, errlen, FL_ENOENT, "%s %s: %s", what, file, strerror(errno));
	return 0;
}

struct ssl_ctx_st *fl_tls_server_ctx(const struct fl_tls_server_opts *o, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	if (!o || check_file("certificate", o->cert, err, errlen) ||
	    check_file("key", o->key, err, errlen) ||
	    (o->client_ca && check_file("client CA", o->client_ca, err, errlen)))
		return NULL;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		fl_err_set(err, errlen, FL_ENOMEM, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
		ssl_fail(err, errlen, "certificate", o->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
		ssl_fail(err, errlen, "key", o->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		fl_err_set(err, errlen, FL_EINVAL, "key %s does not match certificate %s", o->key,
			   o->cert);
		goto fail;
	}
	if (o->client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_ca);
		if (!names || SSL_CTX_load_verify_locations(ctx, o->client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			ssl_fail(err, errlen, "client CA", o->client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void fl_tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}
