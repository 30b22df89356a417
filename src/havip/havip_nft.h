/*
 * havip_nft.h - the EIPs: DNAT EIP -> HAVIP for what arrives from outside
 * and SNAT HAVIP -> EIP for what the owner starts towards outside the
 * subnet (replies are un-NATed by conntrack), in a table of our own,
 * `table ip haven_havip`, through libnftables.
 *
 * The table is rebuilt whole on each apply in one libnftables run, which
 * the kernel commits as one transaction: a reload never leaves half a
 * ruleset, and rules of a table someone else owns are never touched. The
 * ruleset text is built by a pure function so tests can read it.
 */
#ifndef HAVEN_HAVIP_NFT_H
#define HAVEN_HAVIP_NFT_H

#include "havip/havip_conf.h"
#include "lib/buf.h"

#define HAVIP_NFT_TABLE  "haven_havip"
#define HAVIP_NFT_ERRMAX 512

struct nft_ctx;

struct havip_nft {
	struct nft_ctx *ctx; /* owned */
	char err[HAVIP_NFT_ERRMAX];
};

int havip_nft_init(struct havip_nft *n);
void havip_nft_fini(struct havip_nft *n);
/* The commands that replace the table with c's EIP mappings; pure. */
void havip_nft_ruleset(const struct havip_conf *c, struct buf *out);
/* Replace the table (none when c maps no EIP). 0 or -EIO with err. */
int havip_nft_apply(struct havip_nft *n, const struct havip_conf *c);
/* Delete the table; absent is success. */
int havip_nft_remove(struct havip_nft *n);

#endif
