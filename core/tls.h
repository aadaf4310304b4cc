/* TLS for faultline's servers (OpenSSL): a server context from PEM files,
 * optionally requiring client certificates signed by a given CA (mutual
 * TLS). core/http_server.h uses it through fl_http_server_use_tls; clients
 * take their TLS options in struct fl_http_tls (core/http_client.h). */
#ifndef FL_CORE_TLS_H
#define FL_CORE_TLS_H

#include <stddef.h>

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

struct fl_tls_server_opts {
	const char *cert;      /* certificate chain (PEM), required */
	const char *key;       /* its private key (PEM), required */
	const char *client_ca; /* CA bundle (PEM): when set, every client must present
				 * a certificate it signed (mutual TLS); NULL: none asked */
};

/* A server context for TLS 1.2 and later. Files are read now (a missing or
 * unreadable file, a key that does not match the certificate, is an error
 * naming the file). NULL on failure with the reason in err. The caller
 * frees it with fl_tls_ctx_free. */
struct ssl_ctx_st *fl_tls_server_ctx(const struct fl_tls_server_opts *o, char *err, size_t errlen);

/* Release a context (servers hold their own reference); NULL is a no-op. */
void fl_tls_ctx_free(struct ssl_ctx_st *ctx);

#endif
