/*
 * dns_sec_wire.c - NOTIFY in and SOA query codecs of the secondary role
 * (dns_sec_wire.h). Pure.
 */
#include <errno.h>
#include <string.h>

#include "dns/dns_sec_wire.h"
#include "dns/dns_wire.h"

static uint16_t
dns_sec_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int
dns_sec_notify_parse(
    const uint8_t *msg, size_t len, uint8_t apex[DNS_NAME_MAX], size_t *qend)
{
	size_t off = DNS_HDR_LEN;
	uint16_t flags;

	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	flags = dns_sec_u16(msg + 2);
	if ((flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != DNS_OPCODE_NOTIFY ||
	    dns_sec_u16(msg + 4) != 1)
		return -EBADMSG;
	if (dns_wire_name_read(msg, len, &off, apex) != DNS_WIRE_OK ||
	    len - off < 4)
		return -EBADMSG;
	if (dns_sec_u16(msg + off) != DNS_TYPE_SOA ||
	    dns_sec_u16(msg + off + 2) != DNS_CLASS_IN)
		return -EBADMSG;
	dns_name_lower(apex);
	*qend = off + 4;
	return 0;
}

size_t
dns_sec_notify_answer(
    const uint8_t *msg, size_t qend, int rcode, uint8_t *out, size_t size)
{
	uint16_t flags;

	if (qend > size || qend < DNS_HDR_LEN)
		return 0;
	memmove(out, msg, qend);
	flags =
	    (uint16_t)(DNS_FLAG_QR | DNS_OPCODE_NOTIFY << 11 | (rcode & 0xf));
	if (rcode == 0)
		flags |= DNS_FLAG_AA;
	out[2] = (uint8_t)(flags >> 8);
	out[3] = (uint8_t)flags;
	out[4] = 0;
	out[5] = 1;
	memset(out + 6, 0, 6);
	/* A compressed question name in the request points into its own
	 * header or question: the bytes are kept, so it still does. */
	return qend;
}

int
dns_sec_soa_query(uint8_t *buf, size_t size, const uint8_t *apex, uint16_t id)
{
	size_t k = dns_name_len(apex);

	if (DNS_HDR_LEN + k + 4 > size)
		return -EMSGSIZE;
	memset(buf, 0, DNS_HDR_LEN);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[5] = 1; /* QDCOUNT */
	memcpy(buf + DNS_HDR_LEN, apex, k);
	buf[DNS_HDR_LEN + k] = 0;
	buf[DNS_HDR_LEN + k + 1] = DNS_TYPE_SOA;
	buf[DNS_HDR_LEN + k + 2] = 0;
	buf[DNS_HDR_LEN + k + 3] = DNS_CLASS_IN;
	return (int)(DNS_HDR_LEN + k + 4);
}

int
dns_sec_soa_parse(const uint8_t *msg, size_t len, uint16_t id,
    const uint8_t *apex, uint32_t *serial)
{
	uint8_t name[DNS_NAME_MAX];
	size_t off = DNS_HDR_LEN, rd;
	uint16_t flags, an, type, rdlen;

	if (len < DNS_HDR_LEN || dns_sec_u16(msg) != id)
		return -EPROTO;
	flags = dns_sec_u16(msg + 2);
	if (!(flags & DNS_FLAG_QR) || DNS_OPCODE(flags) != DNS_OPCODE_QUERY)
		return -EPROTO;
	if (flags & DNS_FLAG_TC)
		return 1;
	if ((flags & 0xf) != DNS_RCODE_NOERROR || dns_sec_u16(msg + 4) != 1)
		return -EPROTO;
	if (dns_wire_name_read(msg, len, &off, name) != DNS_WIRE_OK ||
	    len - off < 4 || !dns_name_equal(name, apex) ||
	    dns_sec_u16(msg + off) != DNS_TYPE_SOA)
		return -EPROTO;
	off += 4;
	an = dns_sec_u16(msg + 6);
	for (unsigned i = 0; i < an; i++) {
		if (dns_wire_name_read(msg, len, &off, name) != DNS_WIRE_OK ||
		    len - off < 10)
			return -EPROTO;
		type = dns_sec_u16(msg + off);
		rdlen = dns_sec_u16(msg + off + 8);
		off += 10;
		if (len - off < rdlen)
			return -EPROTO;
		rd = off;
		off += rdlen;
		if (type != DNS_TYPE_SOA ||
		    dns_sec_u16(msg + rd - 8) != DNS_CLASS_IN ||
		    !dns_name_equal(name, apex))
			continue;
		/* MNAME and RNAME, maybe compressed, then the serial. */
		if (dns_wire_name_read(msg, off, &rd, name) != DNS_WIRE_OK ||
		    dns_wire_name_read(msg, off, &rd, name) != DNS_WIRE_OK ||
		    off - rd != 20)
			return -EPROTO;
		*serial = (uint32_t)msg[rd] << 24 |
		    (uint32_t)msg[rd + 1] << 16 | (uint32_t)msg[rd + 2] << 8 |
		    msg[rd + 3];
		return 0;
	}
	return -EPROTO;
}
