/*
 * dns_tls.c - the TLS layer of the dns TCP server (dns_tls.h), OpenSSL 3.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns_tls.h"
#include "lib/ev.h"
#include "lib/log.h"

/* ALPN "dot", in the wire form SSL_select_next_proto takes. */
static const unsigned char dns_tls_alpn[] = { 3, 'd', 'o', 't' };

static void
dns_tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	char reason[256];

	ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
	snprintf(err, errlen, "%s %s: %s", what, path, reason);
	ERR_clear_error();
}

/* A client offering ALPN must offer "dot" (RFC 9103 §7.1). */
static int
dns_tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, dns_tls_alpn,
	        sizeof(dns_tls_alpn), in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *
dns_tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		dns_tls_err(err, errlen, "SSL_CTX_new", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_alpn_select_cb(ctx, dns_tls_alpn_cb, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		dns_tls_err(err, errlen, "certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		dns_tls_err(err, errlen, "private key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		dns_tls_err(err, errlen, "key does not match", cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
dns_tls_client_ctx_new(const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		dns_tls_err(err, errlen, "SSL_CTX_new", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_alpn_protos(ctx, dns_tls_alpn, sizeof(dns_tls_alpn)) !=
	    0) {
		dns_tls_err(err, errlen, "ALPN", "");
		goto fail;
	}
	if (ca == NULL) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		dns_tls_err(err, errlen, "CA file", ca);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
dns_tls_client_new(SSL_CTX *ctx, int fd, const char *name)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1 ||
	    (name != NULL &&
	        (SSL_set_tlsext_host_name(ssl, name) != 1 ||
	            SSL_set1_host(ssl, name) != 1))) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

void
dns_tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

SSL *
dns_tls_new(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void
dns_tls_free(SSL *ssl)
{
	SSL_free(ssl);
}

/* The result of an SSL_read/SSL_write that returned r <= 0. */
static ssize_t
dns_tls_result(SSL *ssl, int r, unsigned *want)
{
	char reason[160];
	int e = SSL_get_error(ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = EV_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = EV_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0; /* close_notify */
	default:
		ERR_error_string_n(ERR_peek_error(), reason, sizeof(reason));
		if (!SSL_is_init_finished(ssl))
			log_info("dns tls handshake failed", "reason=%s",
			    log_q(reason));
		ERR_clear_error();
		return -EIO;
	}
}

ssize_t
dns_tls_recv(SSL *ssl, void *buf, size_t len, unsigned *want)
{
	size_t n = 0;
	int r;

	ERR_clear_error();
	if ((r = SSL_read_ex(ssl, buf, len, &n)) == 1)
		return (ssize_t)n;
	return dns_tls_result(ssl, r, want);
}

ssize_t
dns_tls_send(SSL *ssl, const void *buf, size_t len, unsigned *want)
{
	size_t n = 0;
	int r;

	ERR_clear_error();
	if ((r = SSL_write_ex(ssl, buf, len, &n)) == 1)
		return (ssize_t)n;
	return dns_tls_result(ssl, r, want);
}

size_t
dns_tls_pending(const SSL *ssl)
{
	return (size_t)SSL_pending(ssl);
}

void
dns_tls_close_notify(SSL *ssl)
{
	if (SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}
