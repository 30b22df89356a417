/*
 * fuzz_dns_cidr.c - arbitrary text as a region's network, and arbitrary
 * bytes as a client (ECS address and SOURCE) against a fixed map. Must
 * never crash; a network that parses formats to text that parses back to
 * the same network, and a lookup's scope never exceeds the bits given.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_cidr_nets[] = { "198.18.0.0/15", "198.18.4.0/24",
	"198.18.4.128/25", "198.19.255.255/32", "0.0.0.0/1", "2001:db8::/32",
	"2001:db8:1::/48", "::/0" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_cidr_map *m;
	char text[DNS_CIDR_TEXT_MAX + 8], back[DNS_CIDR_TEXT_MAX];
	struct dns_cidr c, c2;
	uint8_t addr[16] = { 0 }, scope;
	int fam;
	unsigned bits;

	if (m == NULL) {
		m = dns_cidr_map_new();
		for (size_t i = 0;
		     i < sizeof(fuzz_cidr_nets) / sizeof(fuzz_cidr_nets[0]);
		     i++)
			if (dns_cidr_parse(fuzz_cidr_nets[i], &c) != 0 ||
			    dns_cidr_map_add(m, &c, (int)i) != 0)
				abort();
	}
	/* the client: family bit, SOURCE, address */
	if (size >= 2) {
		fam = data[0] & 1 ? AF_INET6 : AF_INET;
		bits = data[1];
		memcpy(addr, data + 2, size - 2 < 16 ? size - 2 : 16);
		(void)dns_cidr_map_lookup(m, fam, addr, bits, &scope);
		if (scope > bits || scope > (fam == AF_INET ? 32 : 128))
			abort();
	}
	/* the text */
	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (dns_cidr_parse(text, &c) != 0)
		return 0;
	dns_cidr_format(&c, back, sizeof(back));
	if (dns_cidr_parse(back, &c2) != 0 || c2.family != c.family ||
	    c2.bits != c.bits || memcmp(c2.addr, c.addr, 16) != 0 ||
	    !dns_cidr_contains(&c, &c2))
		abort();
	return 0;
}
