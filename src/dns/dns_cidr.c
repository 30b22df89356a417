/*
 * dns_cidr.c - CIDR text and the longest-prefix map with ECS scopes. Pure.
 *
 * The map is a plain binary trie per family, its nodes in one array so
 * that indexes, not pointers, link them (index 0 is "none"): a map is
 * built once per config from tens of networks, then only read, and a
 * lookup walks at most 32 or 128 nodes. Every node knows whether a
 * network lies at or below it (any), which is what the scope needs: a
 * subtree beside the client's path that holds a network is a network the
 * client's block must stay apart from.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_cidr.h"
#include "lib/util.h"

struct dns_cidr_node {
	uint32_t child[2]; /* node indexes; 0: none */
	int32_t value;     /* -1: no network ends here */
	bool any;          /* a network at or below this node */
};

struct dns_cidr_map {
	struct dns_cidr_node *nodes; /* owned; [0] unused */
	size_t nnodes, cap;
	uint32_t root[2]; /* AF_INET, AF_INET6; 0 until the first network */
	size_t count;
};

static unsigned
dns_cidr_width(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static int
dns_cidr_bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

int
dns_cidr_parse(const char *s, struct dns_cidr *out)
{
	char text[DNS_CIDR_TEXT_MAX], *slash, *end;
	unsigned long bits;
	unsigned width, i;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(text))
		return -EINVAL;
	memcpy(text, s, n + 1);
	if ((slash = strchr(text, '/')) == NULL || slash[1] < '0' ||
	    slash[1] > '9')
		return -EINVAL;
	*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, text, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	width = dns_cidr_width(out->family);
	errno = 0;
	bits = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || bits > width ||
	    (slash[1] == '0' && slash[2] != '\0'))
		return -EINVAL;
	out->bits = (uint8_t)bits;
	for (i = out->bits; i < width; i++)
		if (dns_cidr_bit(out->addr, i))
			return -EBADMSG;
	return 0;
}

const char *
dns_cidr_format(const struct dns_cidr *c, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(out, len, "%s/%u", a, c->bits);
	return out;
}

bool
dns_cidr_contains(const struct dns_cidr *outer, const struct dns_cidr *inner)
{
	unsigned i;

	if (outer->family != inner->family || outer->bits > inner->bits)
		return false;
	for (i = 0; i < outer->bits; i++)
		if (dns_cidr_bit(outer->addr, i) !=
		    dns_cidr_bit(inner->addr, i))
			return false;
	return true;
}

struct dns_cidr_map *
dns_cidr_map_new(void)
{
	struct dns_cidr_map *m = xcalloc(1, sizeof(*m));

	m->cap = 64;
	m->nodes = xcalloc(m->cap, sizeof(*m->nodes));
	m->nnodes = 1;
	return m;
}

void
dns_cidr_map_free(struct dns_cidr_map *m)
{
	if (m == NULL)
		return;
	free(m->nodes);
	free(m);
}

static uint32_t
dns_cidr_node_new(struct dns_cidr_map *m)
{
	if (m->nnodes == m->cap) {
		m->cap *= 2;
		m->nodes = xrealloc(m->nodes, m->cap * sizeof(*m->nodes));
	}
	m->nodes[m->nnodes] = (struct dns_cidr_node){ .value = -1 };
	return (uint32_t)m->nnodes++;
}

int
dns_cidr_map_add(struct dns_cidr_map *m, const struct dns_cidr *net, int value)
{
	int fi = net->family == AF_INET6 ? 1 : 0;
	unsigned width = dns_cidr_width(net->family), d;
	uint32_t n, c;

	if (width == 0 || value < 0 || net->bits > width)
		return -EINVAL;
	if (m->root[fi] == 0)
		m->root[fi] = dns_cidr_node_new(m);
	n = m->root[fi];
	for (d = 0; d < net->bits; d++) {
		int b = dns_cidr_bit(net->addr, d);

		if ((c = m->nodes[n].child[b]) == 0) {
			/* m->nodes may move: index, then store */
			c = dns_cidr_node_new(m);
			m->nodes[n].child[b] = c;
		}
		n = c;
	}
	if (m->nodes[n].value >= 0)
		return -EEXIST;
	m->nodes[n].value = value;
	/* mark the path: every node above now has a network below it */
	n = m->root[fi];
	m->nodes[n].any = true;
	for (d = 0; d < net->bits; d++) {
		n = m->nodes[n].child[dns_cidr_bit(net->addr, d)];
		m->nodes[n].any = true;
	}
	m->count++;
	return 0;
}

size_t
dns_cidr_map_count(const struct dns_cidr_map *m)
{
	return m->count;
}

static bool
dns_cidr_any(const struct dns_cidr_map *m, uint32_t n)
{
	return n != 0 && m->nodes[n].any;
}

int
dns_cidr_map_lookup(const struct dns_cidr_map *m, int family,
    const uint8_t *addr, unsigned bits, uint8_t *scope)
{
	unsigned width = dns_cidr_width(family), d = 0, need = 0;
	uint32_t n;
	int match = -1;

	*scope = 0;
	if (width == 0)
		return -1;
	if (bits > width)
		bits = width;
	n = m->root[family == AF_INET6 ? 1 : 0];
	while (n != 0) {
		const struct dns_cidr_node *nd = &m->nodes[n];
		int b;

		if (nd->value >= 0) {
			match = nd->value;
			need = d;
		}
		if (d == bits) {
			/* more specific networks below: the answer depends
			 * on bits we were not given; the most we can say */
			if (dns_cidr_any(m, nd->child[0]) ||
			    dns_cidr_any(m, nd->child[1]))
				need = bits;
			break;
		}
		b = dns_cidr_bit(addr, d);
		/* a network off the client's path here: its block must
		 * be told apart at bit d */
		if (dns_cidr_any(m, nd->child[!b]) && need < d + 1)
			need = d + 1;
		n = nd->child[b];
		d++;
	}
	*scope = (uint8_t)need;
	return match;
}
