/*
 * dns_tls.h - DNS over TLS on the dns plane's TCP server: zone transfers
 * over TLS (XoT, RFC 9103) and queries over TLS (DoT, RFC 7858) on the
 * addresses of dns.tls.listen, with the same framing, limits and answers
 * as plain TCP (dns_tcp.c); only the bytes are encrypted.
 *
 * TLS 1.3 only (RFC 9103 §9: XoT MUST use TLS 1.3), ALPN "dot" (RFC 9103
 * §7.1): a client that offers ALPN without it is refused in the
 * handshake; one that offers none is served, as DoT clients predate it.
 * No session tickets (a ticket key would have to be shared and rotated
 * across worker processes) and no renegotiation.
 *
 * The I/O calls map OpenSSL's results onto the ones dns_tcp.c handles
 * for a plain socket: bytes moved, 0 at the peer's close, -EAGAIN with
 * *want telling which readiness the TLS layer waits for (a read may
 * have to write during the handshake), or -EIO.
 */
#ifndef HAVEN_DNS_TLS_H
#define HAVEN_DNS_TLS_H

#include <sys/types.h>

#include <stddef.h>

struct ssl_ctx_st;
struct ssl_st;

/*
 * A server context from the PEM files cert (chain) and key. NULL with a
 * reason in err (errlen bytes): unreadable, not PEM, key not matching.
 */
struct ssl_ctx_st *dns_tls_ctx_new(
    const char *cert, const char *key, char *err, size_t errlen);
void dns_tls_ctx_free(struct ssl_ctx_st *ctx);

/*
 * A client context for zone transfers from a primary over TLS (XoT, the
 * secondary side): TLS 1.3, ALPN "dot". With ca (a PEM file of trusted
 * certificates) the primary's certificate must verify against it (and
 * match name, when not NULL: dns_tls_client_new); without, the channel is
 * encrypted but the primary not authenticated (RFC 9103 §9.3.1's
 * opportunistic profile). NULL with a reason in err.
 */
struct ssl_ctx_st *dns_tls_client_ctx_new(
    const char *ca, char *err, size_t errlen);
/* A client connection on fd (connected or connecting) to name (SNI and
 * the host checked; NULL: none). */
struct ssl_st *dns_tls_client_new(
    struct ssl_ctx_st *ctx, int fd, const char *name);

/* A server connection on fd; NULL when OpenSSL cannot make one. */
struct ssl_st *dns_tls_new(struct ssl_ctx_st *ctx, int fd);
void dns_tls_free(struct ssl_st *ssl);

/* want: EV_READ or EV_WRITE (lib/ev.h), set with -EAGAIN. */
ssize_t dns_tls_recv(struct ssl_st *ssl, void *buf, size_t len, unsigned *want);
ssize_t dns_tls_send(
    struct ssl_st *ssl, const void *buf, size_t len, unsigned *want);
/* Bytes already decrypted and waiting: the socket may not wake for them. */
size_t dns_tls_pending(const struct ssl_st *ssl);
/* Send close_notify if the handshake is over and it goes out at once;
 * a client that sees none after its last answer lost nothing. */
void dns_tls_close_notify(struct ssl_st *ssl);

#endif
