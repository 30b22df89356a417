/*
 * dns_conf.h - the `dns:` section: where the authoritative server listens,
 * how many worker processes serve, EDNS and TCP limits, response rate
 * limiting, the zones (one zone file each) and the GSLB lists (regions,
 * pools, names, plans, alarms) bound into an embedded dns_gslb_conf.
 *
 *   dns:
 *     listen: ["127.0.0.1:5300", "[::1]:5300"]  # one UDP + one TCP each
 *     workers: 1
 *     nsid: ns1                                  # RFC 5001; optional
 *     cookies: true                              # RFC 7873; default on
 *     edns_udp_size: 1232
 *     tcp: {idle_timeout: 10s, max_connections: 1000, max_queries: 0}
 *     rrl: {responses_per_second: 0, slip: 2, window: 15s,
 *           ipv4_prefix: 24, ipv6_prefix: 56}
 *     zones: [{name: example.com, file: zones/example.com.zone,
 *              dnssec: {key_file: keys/example.com.pem}},
 *             {name: example.net, primaries: ["198.18.0.1:53"]}]
 *
 * A zone has a file (we are its primary) or primaries (we are a
 * secondary that transfers it from them: dns_sec.h), never both. The
 * check appends one zone item per catalog (dns_catalog.h) after the
 * configured zones: it has neither, and its records are synthesized.
 *
 * Plain data bound by dns_conf_schema. The check hook fills the fields
 * marked "not bound" (parsed listen addresses, zone apexes, zone paths
 * resolved against the config file's directory) and parses every zone
 * file, so `haven check` reports a zone's errors at the zone file's own
 * file:line:col. After a successful bind those fields are set.
 */
#ifndef HAVEN_DNS_CONF_H
#define HAVEN_DNS_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_catalog.h"
#include "dns/dns_gslb_conf.h"
#include "dns/dns_name.h"
#include "dns/dns_xdp_conf.h"
#include "dns/dns_xfr_conf.h" /* dns-xfr */
#include "dns/dns_zone.h"
#include "lib/conf.h"

#define DNS_CONF_INCLUDE_DEPTH 8           /* $INCLUDE nesting we follow */
#define DNS_CONF_ZONE_FILE_MAX (64u << 20) /* bytes of one zone file */

/*
 * dns.tls (dns_conf_tls.c): TCP addresses served through TLS 1.3, for
 * zone transfers (XoT, RFC 9103) and queries (DoT, RFC 7858).
 *   tls: {listen: ["198.18.0.1:853"], cert: ns1.pem, key: ns1.key}
 */
struct dns_tls_conf {
	char **listen; /* owned, NULL-terminated: "ip:port" */
	size_t nlisten;
	char *cert; /* owned: PEM certificate chain as written */
	char *key;  /* owned: PEM private key as written */
	/* Not bound: set by the check. */
	struct sockaddr_storage *listen_addr; /* owned: nlisten */
	char *cert_path, *key_path;           /* owned: resolved */
};

/* The role of a DNSSEC key (RFC 6781 §3.1): what it signs when active. */
enum dns_key_role {
	DNS_KEY_ROLE_CSK, /* combined: the DNSKEY RRset and the data */
	DNS_KEY_ROLE_KSK, /* the DNSKEY RRset; the parent's DS points at it */
	DNS_KEY_ROLE_ZSK, /* every other RRset */
};

/* One of dnssec.keys[] (dns_conf_dnssec.c). */
struct dns_dnssec_key_conf {
	char *file;  /* owned: PEM ECDSA P-256 key as written */
	int role;    /* enum dns_key_role */
	bool active; /* signs; else only published in the DNSKEY RRset */
};

/* A zone's DNSSEC online signing (dns_sign.h): key_file or keys. */
struct dns_dnssec_conf {
	char *key_file; /* owned: one combined key as written; NULL: keys,
	                   or the zone is not signed */
	struct dns_dnssec_key_conf *keys; /* owned: nkeys, for rollovers */
	size_t nkeys;
};

#define DNS_ZONE_KEYS_MAX 8

/* A key of a signed zone, as the check hook bound it. */
struct dns_zone_key {
	char *path; /* owned: the file, resolved */
	/* owned: the file's text, read when the config is bound (as root at
	   start: the workers drop root before they load zones); NULL in a
	   worker that may not read it and has no earlier copy */
	char *pem;
	size_t pem_len;
	uint16_t flags;  /* DNSKEY flags: DNS_KEY_FLAGS_CSK or _ZSK */
	bool signs_keys; /* an active KSK or CSK: signs the DNSKEY RRset */
	bool signs_data; /* the active ZSK or CSK: signs every other set */
};

struct dns_zone_item {
	char *name;       /* owned: the apex as written */
	char *file;       /* owned: the zone file as written; NULL for a
	                     secondary zone */
	char **primaries; /* owned, NULL-terminated: "ip:port" of the
	                     primaries of a secondary zone (dns-sec) */
	size_t nprimaries;
	/* dns-sec: SOA queries and transfers from the primaries over TLS
	 * (XoT); with a CA file their certificate is verified (and its
	 * name, when given), else the channel is only encrypted. */
	bool primaries_tls;
	char *primaries_tls_ca;       /* owned: PEM file as written, or NULL */
	char *primaries_tls_name;     /* owned: the primaries' name, or NULL */
	struct dns_xfr_zone_conf xfr; /* dns-xfr: transfers, NOTIFY */
	struct dns_dnssec_conf dnssec;
	/* Not bound: set by the section's check hook. */
	char *path; /* owned: file, resolved; NULL for a secondary zone */
	char *primaries_tls_ca_path; /* owned: resolved, or NULL */
	struct dns_zone_key *keys;   /* owned: nkeys; 0: not signed */
	size_t nkeys;
	struct sockaddr_storage *primary_addr; /* owned: nprimaries */
	uint8_t apex[DNS_NAME_MAX];            /* wire form, lower case */
	/* borrowed, from dns_conf.catalogs: set on the zone item the check
	   appends for a catalog (no file, no primaries; dns_catalog.h);
	   NULL for a zone of the config */
	const struct dns_catalog_conf *catalog;
};

/* Whether z is transferred from primaries rather than read from a file. */
static inline bool
dns_zone_item_secondary(const struct dns_zone_item *z)
{
	return z->nprimaries > 0;
}

struct dns_tcp_conf {
	uint64_t idle_timeout_ms;
	uint32_t max_connections; /* per worker */
	uint32_t max_queries;     /* per connection; 0: unlimited */
};

struct dns_rrl_conf {
	uint32_t responses_per_second; /* 0: off */
	uint32_t slip;                 /* 0: drop all; 1: truncate all */
	uint64_t window_ms;
	uint32_t ipv4_prefix;
	uint32_t ipv6_prefix;
};

struct dns_conf {
	char **listen; /* owned, NULL-terminated: "ip:port" */
	size_t nlisten;
	uint32_t workers;
	char *nsid;   /* owned, may be NULL */
	bool cookies; /* answer DNS Cookies (RFC 7873, dns_cookie.h) */
	uint32_t edns_udp_size;
	struct dns_tcp_conf tcp;
	struct dns_rrl_conf rrl;
	/* owned array: the configured zones (nzones_conf, bound), then one
	   per catalog, appended by the check (dns_catalog.h) */
	struct dns_zone_item *zones;
	size_t nzones;      /* not bound: all of them, set by the check */
	size_t nzones_conf; /* the configured ones: what the config shows */
	struct dns_gslb_conf gslb;
	struct dns_tls_conf tls;
	struct dns_tsig_key_item *tsig_keys; /* owned array; dns-xfr */
	size_t ntsig_keys;
	struct dns_catalog_conf *catalogs; /* owned array; dns_catalog.h */
	size_t ncatalogs;
	struct dns_xdp_conf xdp; /* dns_xdp_conf.h */
	/* Not bound: listen parsed by the check hook. */
	struct sockaddr_storage *listen_addr; /* owned: nlisten entries */
};

extern const struct conf_schema dns_conf_schema;

/*
 * Read a zone file (at most DNS_CONF_ZONE_FILE_MAX bytes) into an
 * xmalloc'd NUL-terminated buffer. 0 or -errno.
 */
int dns_conf_read_file(const char *path, char **text, size_t *len);

/*
 * Parse zone item z's file with $INCLUDE confined to the zone file's
 * directory and below. Each record goes to rr (may be NULL), each error
 * to err as "file:line:col: message". Returns what dns_zone_parse does,
 * or -errno when the file cannot be read (reported to err first).
 */
int dns_conf_zone_parse(const struct dns_zone_item *z, dns_zone_rr_fn *rr,
    dns_zone_err_fn *err, void *arg);

/*
 * A dns worker's reload: a signed zone of next whose key file it could
 * not read (it runs as haven.user; the parent read and checked the key
 * as root) takes the key text prev had for the same file. Fills the
 * not-bound pem of next's keys; prev may be NULL. A key changed on disk
 * that haven.user may not read is therefore only loaded by a restart.
 */
void dns_conf_key_inherit(struct dns_conf *next, const struct dns_conf *prev);

/* dns_conf_tls.c: the schema of dns.tls, and its check (base: the
 * directory relative files are in; at: the section's node). */
extern const struct conf_schema dns_conf_tls_schema;
void dns_conf_tls_check(struct conf_ctx *ctx, struct conf_node *at,
    struct dns_conf *c, const char *base);

/* dns_conf_dnssec.c: the schema of a zone's dnssec section. */
extern const struct conf_schema dns_conf_dnssec_schema;
/*
 * Bind zone z's keys from its dnssec section (at: that section's node,
 * or the zone's when absent; base: the directory relative files are
 * in): read and check each key, and the roles' rules, with errors at
 * the keys' lines.
 */
struct conf_ctx;
void dns_conf_dnssec_check(struct conf_ctx *ctx, struct conf_node *at,
    bool present, struct dns_zone_item *z, const char *base);
/* Free what z->keys owns. */
void dns_conf_dnssec_fini(struct dns_zone_item *z);

/*
 * Split "file:line:col: message" into its parts: *line and *col 0 and
 * msg the whole text when it has no position. file is written into fbuf.
 */
void dns_conf_split_err(const char *text, char *fbuf, size_t fsize, int *line,
    int *col, const char **msg);

#endif
