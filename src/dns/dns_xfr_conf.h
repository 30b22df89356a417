/*
 * dns_xfr_conf.h - the config of zone transfers and NOTIFY inside the
 * `dns:` section: the TSIG keys, and per zone who may transfer it, whom to
 * NOTIFY and which key both use.
 *
 *   dns:
 *     tsig_keys: [{name: xfr-key, algorithm: hmac-sha256,
 *                  secret: "base64..."}]
 *     zones: [{name: example.com, file: ...,
 *              allow_transfer: ["198.18.0.0/15"],
 *              notify: ["198.18.0.2:53"], transfer_key: xfr-key,
 *              ixfr_versions: 20, ixfr_journal_size: 4m}]
 *
 * Plain data: dns_conf.c binds it with the tables here; the dns section's
 * check hook calls dns_xfr_conf_check, which fills the "not bound" fields
 * (decoded keys, parsed prefixes and addresses) or reports each problem.
 */
#ifndef HAVEN_DNS_XFR_CONF_H
#define HAVEN_DNS_XFR_CONF_H

#include <sys/socket.h>

#include <stddef.h>

#include "dns/dns_journal.h"
#include "dns/dns_tsig.h"
#include "dns/dns_xfr_out.h"
#include "lib/conf.h"

struct dns_conf;

struct dns_tsig_key_item {
	char *name;      /* owned */
	char *algorithm; /* owned */
	char *secret;    /* owned: base64 */
	/* Not bound: decoded by the check. */
	struct dns_tsig_key key;
};

/* Embedded in struct dns_zone_item as `xfr`. */
struct dns_xfr_zone_conf {
	char **allow_transfer; /* owned, NULL-terminated: prefixes */
	size_t nallow_transfer;
	char **notify; /* owned, NULL-terminated: "ip:port" */
	size_t nnotify;
	char *transfer_key;         /* owned: a tsig_keys name, or NULL */
	uint32_t ixfr_versions;     /* IXFR journal: steps kept; 0: off */
	uint64_t ixfr_journal_size; /* IXFR journal: bytes kept */
	bool transfer_tls_only;     /* transfers over dns.tls alone (XoT) */
	/* Not bound: set by the check. */
	struct dns_xfr_prefix *allow;         /* owned: nallow_transfer */
	struct sockaddr_storage *notify_addr; /* owned: nnotify */
	const struct dns_tsig_key *key;       /* borrowed: from tsig_keys */
};

extern const struct conf_schema dns_xfr_key_schema;

/* The zone item keys, for dns_conf.c's table (offsets within the zone
 * item given by base). */
#define DNS_XFR_ZONE_KEYS(base)                                                \
	{ .name = "allow_transfer",                                            \
		.type = CT_STRLIST,                                            \
		.off = (base) +                                                \
		    offsetof(struct dns_xfr_zone_conf, allow_transfer),        \
		.count_off = (base) +                                          \
		    offsetof(struct dns_xfr_zone_conf, nallow_transfer),       \
		.help = "prefixes that may AXFR/IXFR the zone (with "          \
		        "transfer_key: both needed)" },                        \
	    { .name = "notify",                                                \
		    .type = CT_STRLIST,                                        \
		    .off =                                                     \
		        (base) + offsetof(struct dns_xfr_zone_conf, notify),   \
		    .count_off =                                               \
		        (base) + offsetof(struct dns_xfr_zone_conf, nnotify),  \
		    .help =                                                    \
		        "secondaries (\"ip:port\") sent a NOTIFY when the "    \
		        "serial changes (RFC 1996)" },                         \
	    { .name = "transfer_key",                                          \
		    .type = CT_STRING,                                         \
		    .off = (base) +                                            \
		        offsetof(struct dns_xfr_zone_conf, transfer_key),      \
		    .help =                                                    \
		        "a tsig_keys name: transfers must be signed with it, " \
		        "NOTIFYs are" },                                       \
	    { .name = "ixfr_versions",                                         \
		    .type = CT_UINT,                                           \
		    .off = (base) +                                            \
		        offsetof(struct dns_xfr_zone_conf, ixfr_versions),     \
		    .dflt = DNS_JOURNAL_VERSIONS_DEFAULT,                      \
		    .min = 0,                                                  \
		    .max = DNS_JOURNAL_VERSIONS_MAX,                           \
		    .help = "IXFR journal: serial changes kept for "           \
		            "incremental transfers (0: off)" },                \
	    { .name = "ixfr_journal_size",                                     \
		    .type = CT_SIZE,                                           \
		    .off = (base) +                                            \
		        offsetof(struct dns_xfr_zone_conf, ixfr_journal_size), \
		    .dflt = DNS_JOURNAL_BYTES_DEFAULT,                         \
		    .help = "IXFR journal: bytes of changes kept (oldest "     \
		            "dropped first)" },                                \
	{                                                                      \
		.name = "transfer_tls_only", .type = CT_BOOL,                  \
		.off = (base) +                                                \
		    offsetof(struct dns_xfr_zone_conf, transfer_tls_only),     \
		.help = "refuse transfers but over dns.tls (XoT, RFC 9103): "  \
		        "the zone's data never crosses the network in clear"   \
	}

/* Check and fill the not-bound fields of c's keys and zones. */
void dns_xfr_conf_check(
    struct conf_ctx *ctx, struct conf_node *node, struct dns_conf *c);

/* Free what the check allocated in z. */
void dns_xfr_conf_zone_fini(struct dns_xfr_zone_conf *z);

/* Decode base64 text into out (size bytes). Returns the length or
 * -EINVAL. Pure. */
int dns_xfr_conf_base64(const char *text, uint8_t *out, size_t size);

#endif
