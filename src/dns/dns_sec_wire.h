/*
 * dns_sec_wire.h - the messages of the secondary role (dns-sec) that are
 * not zone transfers: the NOTIFY a primary sends us (RFC 1996 §3), our
 * answer to it, the SOA query we send a primary to learn its serial
 * (RFC 1035 §4.3.5) and its answer. Pure: no I/O, clock or globals;
 * every byte comes from outside, so fuzz_dns_sec covers both parsers.
 * TSIG is the caller's (dns_tsig.h): these functions read and write the
 * message without its TSIG record.
 */
#ifndef HAVEN_DNS_SEC_WIRE_H
#define HAVEN_DNS_SEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns_name.h"

/*
 * Parse the len-byte message msg as a NOTIFY request: QR clear, opcode
 * NOTIFY, exactly one question (of class IN; QTYPE SOA, §3.7). Returns 0
 * with the question's name in apex (lower case) and *qend where the
 * question ends, or -EBADMSG.
 */
int dns_sec_notify_parse(
    const uint8_t *msg, size_t len, uint8_t apex[DNS_NAME_MAX], size_t *qend);

/*
 * Write the answer to a NOTIFY parsed as above: the same ID, opcode and
 * question, QR set, AA with NOERROR (§4.7), rcode, no records. Returns its
 * length (qend), or 0 when it does not fit size.
 */
size_t dns_sec_notify_answer(
    const uint8_t *msg, size_t qend, int rcode, uint8_t *out, size_t size);

/* An SOA query for apex with id (no RD) into buf. Returns its length or
 * -EMSGSIZE. */
int dns_sec_soa_query(
    uint8_t *buf, size_t size, const uint8_t *apex, uint16_t id);

/*
 * Read the answer (len bytes, its TSIG record cut off by the caller) to
 * our SOA query for apex with id. Returns 0 with the serial of the SOA of
 * apex in the answer section, 1 when truncated (TC: ask again over TCP),
 * -EPROTO for anything else: another ID, not an answer, an RCODE, no SOA
 * of apex, a malformed message.
 */
int dns_sec_soa_parse(const uint8_t *msg, size_t len, uint16_t id,
    const uint8_t *apex, uint32_t *serial);

/* RFC 1982 §3.2: whether serial a is greater than b. */
static inline int
dns_sec_serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

#endif
