/*
 * havip_nft.c - the EIP mappings through libnftables (havip_nft.h).
 *
 * "add table" before "delete table" makes the pair valid whether or not
 * the table exists, inside the same transaction as the new table: the
 * kernel sees old ruleset, then new, never none in between.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "havip/havip_nft.h"

int
havip_nft_init(struct havip_nft *n)
{
	memset(n, 0, sizeof(*n));
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (n->ctx == NULL) {
		snprintf(n->err, sizeof(n->err), "nft_ctx_new failed");
		return -ENOMEM;
	}
	/* Messages into buffers we read, never to our stdout/stderr. */
	if (nft_ctx_buffer_output(n->ctx) != 0 ||
	    nft_ctx_buffer_error(n->ctx) != 0) {
		nft_ctx_free(n->ctx);
		n->ctx = NULL;
		snprintf(n->err, sizeof(n->err), "nft buffers failed");
		return -ENOMEM;
	}
	return 0;
}

void
havip_nft_fini(struct havip_nft *n)
{
	if (n->ctx != NULL)
		nft_ctx_free(n->ctx);
	n->ctx = NULL;
}

void
havip_nft_ruleset(const struct havip_conf *c, struct buf *out)
{
	char h[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];
	struct in_addr a;
	size_t i, neip = 0;

	buf_puts(out, "add table ip " HAVIP_NFT_TABLE "\n");
	buf_puts(out, "delete table ip " HAVIP_NFT_TABLE "\n");
	for (i = 0; i < c->naddresses; i++)
		neip += c->addresses[i].eip.ss_family == AF_INET;
	if (neip == 0)
		return;
	buf_puts(out,
	    "table ip " HAVIP_NFT_TABLE " {\n"
	    "\tchain prerouting {\n"
	    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
	for (i = 0; i < c->naddresses; i++) {
		const struct havip_addr_conf *ac = &c->addresses[i];

		if (ac->eip.ss_family != AF_INET)
			continue;
		a = havip_conf_in(&ac->address);
		inet_ntop(AF_INET, &a, h, sizeof(h));
		a = havip_conf_in(&ac->eip);
		inet_ntop(AF_INET, &a, e, sizeof(e));
		buf_printf(out, "\t\tip daddr %s counter dnat to %s\n", e, h);
	}
	buf_puts(out,
	    "\t}\n"
	    "\tchain postrouting {\n"
	    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (i = 0; i < c->naddresses; i++) {
		const struct havip_addr_conf *ac = &c->addresses[i];

		if (ac->eip.ss_family != AF_INET)
			continue;
		a = havip_conf_in(&ac->address);
		inet_ntop(AF_INET, &a, h, sizeof(h));
		a = havip_conf_in(&ac->eip);
		inet_ntop(AF_INET, &a, e, sizeof(e));
		inet_ntop(AF_INET, &ac->subnet.net, s, sizeof(s));
		/* Inside the subnet the HAVIP is its own address. */
		buf_printf(out,
		    "\t\tip saddr %s ip daddr != %s/%u counter snat to %s\n", h,
		    s, ac->subnet.prefix, e);
	}
	buf_puts(out, "\t}\n}\n");
}

static int
havip_nft_run(struct havip_nft *n, const char *cmds)
{
	const char *msg;
	size_t l;

	if (n->ctx == NULL) {
		snprintf(n->err, sizeof(n->err), "nft context closed");
		return -EBADF;
	}
	if (nft_run_cmd_from_buffer(n->ctx, cmds) == 0)
		return 0;
	msg = nft_ctx_get_error_buffer(n->ctx);
	snprintf(n->err, sizeof(n->err), "%s", msg ? msg : "nft failed");
	/* One log line: no trailing newline. */
	l = strlen(n->err);
	while (l > 0 && (n->err[l - 1] == '\n' || n->err[l - 1] == ' '))
		n->err[--l] = '\0';
	for (char *p = n->err; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return -EIO;
}

int
havip_nft_apply(struct havip_nft *n, const struct havip_conf *c)
{
	struct buf b;
	int rc;

	buf_init(&b);
	havip_nft_ruleset(c, &b);
	rc = havip_nft_run(n, (const char *)b.data);
	buf_fini(&b);
	return rc;
}

int
havip_nft_remove(struct havip_nft *n)
{
	return havip_nft_run(n,
	    "add table ip " HAVIP_NFT_TABLE "\n"
	    "delete table ip " HAVIP_NFT_TABLE "\n");
}
