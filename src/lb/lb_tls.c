/*
 * lb_tls.c - TLS termination for listeners (OpenSSL 3, server side).
 *
 * One SSL_CTX per configured certificate; every connection starts on the
 * first (the default) and the servername callback moves it to the first
 * certificate whose SAN/CN matches the SNI name (X509_check_host, wildcards
 * included). Defaults are the modern ones: TLS 1.2 minimum (1.3 on request),
 * AEAD ciphers with forward secrecy only for 1.2, no compression, no
 * renegotiation, and no session tickets: a ticket key would have to be
 * shared and rotated across worker processes, so resumption uses each
 * worker's session cache instead. Handshakes are non-blocking; their
 * timeout is the listener's header_timeout (lb_conn.c).
 *
 * A struct lb_tls is counted: the listener holds one reference and every
 * connection with a live SSL holds one, because a reload may replace the
 * listener's certificates while handshakes still run on the old ones.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb_conn.h"
#include "lib/log.h"
#include "lib/util.h"

#define LB_TLS12_CIPHERS                                                       \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define LB_TLS_SID_CTX "haven-lb"

struct lb_tls {
	unsigned refs;
	SSL_CTX **ctx; /* owned: one per certificate, [0] the default */
	size_t nctx;
};

static int
lb_tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct lb_tls *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i;

	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK; /* default certificate */
	for (i = 0; i < t->nctx; i++) {
		X509 *x = SSL_CTX_get0_certificate(t->ctx[i]);

		if (x != NULL && X509_check_host(x, name, 0, 0, NULL) == 1) {
			if (i > 0)
				SSL_set_SSL_CTX(ssl, t->ctx[i]);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_OK; /* no match: the default certificate */
}

static void
lb_tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char reason[256];

	ERR_error_string_n(e, reason, sizeof(reason));
	snprintf(err, errlen, "%s %s: %s", what, path, reason);
	ERR_clear_error();
}

static SSL_CTX *
lb_tls_ctx(const struct lb_tls_conf *conf, const struct lb_cert_conf *cc,
    char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		lb_tls_err(err, errlen, "SSL_CTX_new", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx,
	    conf->min_version == LB_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	        SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)LB_TLS_SID_CTX, sizeof(LB_TLS_SID_CTX) - 1);
	if (SSL_CTX_set_cipher_list(ctx, LB_TLS12_CIPHERS) != 1) {
		lb_tls_err(err, errlen, "cipher list", "");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cc->cert) != 1) {
		lb_tls_err(err, errlen, "certificate", cc->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cc->key, SSL_FILETYPE_PEM) != 1) {
		lb_tls_err(err, errlen, "private key", cc->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		lb_tls_err(err, errlen, "key does not match", cc->cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct lb_tls *
lb_tls_new(const struct lb_tls_conf *conf, char *err, size_t errlen)
{
	struct lb_tls *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->refs = 1;
	t->ctx = xcalloc(conf->ncertificates, sizeof(*t->ctx));
	for (i = 0; i < conf->ncertificates; i++) {
		t->ctx[i] =
		    lb_tls_ctx(conf, &conf->certificates[i], err, errlen);
		if (t->ctx[i] == NULL) {
			lb_tls_unref(t);
			return NULL;
		}
		t->nctx++;
	}
	if (t->nctx == 0) {
		snprintf(err, errlen, "no certificate");
		lb_tls_unref(t);
		return NULL;
	}
	SSL_CTX_set_tlsext_servername_callback(t->ctx[0], lb_tls_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(t->ctx[0], t);
	return t;
}

void
lb_tls_ref(struct lb_tls *t)
{
	t->refs++;
}

void
lb_tls_unref(struct lb_tls *t)
{
	size_t i;

	if (t == NULL || --t->refs > 0)
		return;
	for (i = 0; i < t->nctx; i++)
		SSL_CTX_free(t->ctx[i]);
	free(t->ctx);
	free(t);
}

SSL *
lb_tls_ssl_new(struct lb_tls *t, int fd)
{
	SSL *ssl = SSL_new(t->ctx[0]);

	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

int
lb_tls_handshake(SSL *ssl, bool *want_write)
{
	char reason[160];
	int r, e;

	ERR_clear_error();
	if ((r = SSL_do_handshake(ssl)) == 1)
		return 0;
	e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return -EAGAIN;
	if (e == SSL_ERROR_WANT_WRITE) {
		*want_write = true;
		return -EAGAIN;
	}
	ERR_error_string_n(ERR_peek_error(), reason, sizeof(reason));
	log_info("tls handshake failed", "reason=%s", log_q(reason));
	ERR_clear_error();
	return -EPROTO;
}
