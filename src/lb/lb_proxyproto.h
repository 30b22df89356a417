/*
 * lb_proxyproto.h - PROXY protocol v1 (text) and v2 (binary) headers, as
 * specified by HAProxy's proxy-protocol.txt: parsed on accept when a
 * listener has accept_proxy, built on backend connect when a pool has
 * send_proxy.
 *
 * Pure: no I/O, no allocation, no clock, no globals. The parser is
 * restartable like http1.h: call it again with the same bytes plus more
 * until it stops answering "need more". It never reads past len and never
 * accepts a header longer than the spec allows (107 bytes for v1, 16 + 65535
 * for v2), so a client cannot make the proxy buffer without bound.
 */
#ifndef HAVEN_LB_PROXYPROTO_H
#define HAVEN_LB_PROXYPROTO_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_PROXYPROTO_V1_MAX    107 /* proxy-protocol.txt §2.1 */
#define LB_PROXYPROTO_V2_HDR    16  /* signature, ver/cmd, family, length */
#define LB_PROXYPROTO_V2_SIG    "\r\n\r\n\0\r\nQUIT\n"
#define LB_PROXYPROTO_SIG_LEN   12
/* Room for any header we build (v2 with IPv6 addresses is 52 bytes). */
#define LB_PROXYPROTO_BUILD_MAX 128

/* Why a header was rejected: one value per cause, counted by the listener. */
enum lb_proxyproto_err {
	LB_PROXYPROTO_E_NONE,
	LB_PROXYPROTO_E_SIGNATURE, /* neither "PROXY " nor the v2 signature */
	LB_PROXYPROTO_E_V1_SYNTAX, /* malformed v1 line */
	LB_PROXYPROTO_E_V1_TOO_LONG,
	LB_PROXYPROTO_E_V2_VERSION, /* version nibble not 2 */
	LB_PROXYPROTO_E_V2_COMMAND, /* command neither LOCAL nor PROXY */
	LB_PROXYPROTO_E_V2_FAMILY,  /* address block shorter than family */
	LB_PROXYPROTO_E__COUNT
};

struct lb_proxyproto_info {
	int version; /* 1 or 2 */
	/*
	 * true when the header carries no usable addresses (v1 UNKNOWN, v2
	 * LOCAL or UNSPEC/UNIX family): the connection keeps its own.
	 */
	bool local;
	struct sockaddr_storage src; /* the original client */
	struct sockaddr_storage dst; /* the address it connected to */
	enum lb_proxyproto_err err;
};

/*
 * Parse a header at the start of buf. Returns the header length (> 0) when
 * complete, 0 when more bytes are needed, -EPROTO when malformed (info->err
 * says why). Bytes after the header belong to the application.
 */
int lb_proxyproto_parse(
    const uint8_t *buf, size_t len, struct lb_proxyproto_info *info);

/*
 * Build a header announcing a connection from src to dst into out (at least
 * LB_PROXYPROTO_BUILD_MAX bytes). Families that differ or are not IPv4/IPv6
 * give "UNKNOWN" (v1) or LOCAL (v2), as the spec asks. Returns the length.
 */
size_t lb_proxyproto_build_v1(char *out, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst);
size_t lb_proxyproto_build_v2(uint8_t *out, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst);

const char *lb_proxyproto_err_name(enum lb_proxyproto_err e);

#endif
