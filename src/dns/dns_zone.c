/*
 * dns_zone.c - the master-file parser: entries from dns_zone_lex.c become
 * directives or records, records get their RDATA from dns_zone_rdata.c,
 * pass the zone checks and go to the caller. See dns_zone.h for the
 * contract. Pure: no I/O, clock or globals; it allocates (the RDATA
 * buffer, the check table) and frees all before returning.
 *
 * The checks that need the whole zone (one SOA; a CNAME alone at its
 * name) keep one small entry per owner name in an open-addressing hash
 * table, so a million-record zone costs a few tens of bytes per name, not
 * a copy of the records.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns_wire.h"
#include "dns/dns_zone.h"
#include "dns/dns_zone_priv.h"
#include "lib/util.h"

/* What the checks know of one owner name. */
struct dns_zone_owner {
	uint8_t *name; /* owned: wire name; NULL for an empty slot */
	bool cname;    /* has a CNAME */
	bool other;    /* has data a CNAME may not sit beside */
};

/* The state of one parse, across included files. */
struct dns_zone_parser {
	const struct dns_zone_conf *conf; /* borrowed */
	unsigned nerr;
	unsigned max_errors;
	bool stop;   /* max_errors reached or rr said so */
	int stop_rc; /* what rr returned, when it did */
	uint8_t origin[DNS_NAME_MAX];
	bool has_origin;
	uint8_t owner[DNS_NAME_MAX]; /* the previous record's */
	bool has_owner;
	uint32_t ttl_default; /* $TTL */
	bool has_ttl_default;
	uint32_t ttl_last; /* the last TTL written out */
	bool has_ttl_last;
	uint16_t zclass; /* the zone's class, 0 until known */
	uint16_t last_class;
	unsigned soa_count;
	uint8_t *rdata;                /* owned: DNS_RDATA_MAX bytes */
	struct dns_zone_owner *owners; /* owned: the check table */
	size_t owners_cap;             /* a power of two */
	size_t owners_used;
};

static const struct {
	uint16_t type;
	const char *name;
} dns_zone_types[] = {
	{ DNS_TYPE_A, "A" },
	{ DNS_TYPE_NS, "NS" },
	{ DNS_TYPE_CNAME, "CNAME" },
	{ DNS_TYPE_SOA, "SOA" },
	{ DNS_TYPE_PTR, "PTR" },
	{ DNS_TYPE_MX, "MX" },
	{ DNS_TYPE_TXT, "TXT" },
	{ DNS_TYPE_AAAA, "AAAA" },
	{ DNS_TYPE_SRV, "SRV" },
	{ DNS_TYPE_DNAME, "DNAME" },
	{ DNS_TYPE_CAA, "CAA" },
};

const char *
dns_zone_type_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dns_zone_types); i++)
		if (dns_zone_types[i].type == type)
			return dns_zone_types[i].name;
	return NULL;
}

/* "PREFIXnnn" with nnn in 0..65535: the number, or -EINVAL. */
static int
dns_zone_numbered(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix), i;
	uint32_t v = 0;

	if (len <= pl || len > pl + 5 || strncasecmp(s, prefix, pl) != 0)
		return -EINVAL;
	for (i = pl; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	return v > 0xffff ? -EINVAL : (int)v;
}

int
dns_zone_type_parse(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dns_zone_types); i++)
		if (strlen(dns_zone_types[i].name) == len &&
		    strncasecmp(s, dns_zone_types[i].name, len) == 0)
			return dns_zone_types[i].type;
	return dns_zone_numbered(s, len, "TYPE");
}

/* A class mnemonic (RFC 1035 §3.2.4) or CLASSnnn, or -EINVAL. */
static int
dns_zone_class_parse(const struct dns_zone_tok *t)
{
	if (t->quoted)
		return -EINVAL;
	if (t->len == 2 && strncasecmp(t->p, "IN", 2) == 0)
		return DNS_CLASS_IN;
	if (t->len == 2 && strncasecmp(t->p, "CH", 2) == 0)
		return DNS_CLASS_CH;
	if (t->len == 2 && strncasecmp(t->p, "HS", 2) == 0)
		return DNS_CLASS_HS;
	return dns_zone_numbered(t->p, t->len, "CLASS");
}

static void __printflike(5, 6) dns_zone_error(struct dns_zone_parser *zp,
    const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[DNS_ZONE_ERR_MAX], what[DNS_ZONE_ERR_MAX - 64];
	va_list ap;

	if (zp->stop)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s:%u:%u: %s", file, line, col, what);
	if (zp->conf->err != NULL)
		zp->conf->err(msg, zp->conf->arg);
	if (++zp->nerr >= zp->max_errors)
		zp->stop = true;
}

/* Owner-table slot of name: its entry, or the empty slot for it. */
static struct dns_zone_owner *
dns_zone_owner_slot(struct dns_zone_parser *zp, const uint8_t *name)
{
	size_t mask = zp->owners_cap - 1;
	size_t i = dns_name_hash(name) & mask;

	while (zp->owners[i].name != NULL &&
	    !dns_name_equal(zp->owners[i].name, name))
		i = (i + 1) & mask;
	return &zp->owners[i];
}

static struct dns_zone_owner *
dns_zone_owner_get(struct dns_zone_parser *zp, const uint8_t *name)
{
	struct dns_zone_owner *o;
	size_t len;

	/* Keep the load under a half so probes stay short. */
	if ((zp->owners_used + 1) * 2 > zp->owners_cap) {
		struct dns_zone_owner *old = zp->owners;
		size_t i, cap = zp->owners_cap;

		zp->owners_cap = cap ? cap * 2 : 64;
		zp->owners = xcalloc(zp->owners_cap, sizeof(*zp->owners));
		for (i = 0; i < cap; i++)
			if (old[i].name != NULL)
				*dns_zone_owner_slot(zp, old[i].name) = old[i];
		free(old);
	}
	o = dns_zone_owner_slot(zp, name);
	if (o->name == NULL) {
		len = dns_name_len(name);
		o->name = xmalloc(len);
		memcpy(o->name, name, len);
		zp->owners_used++;
	}
	return o;
}

/* Report a check failure; fmt has one %s, the owner's text form. */
static int
dns_zone_check_fail(struct dns_zone_parser *zp, const struct dns_zone_rr *rr,
    unsigned col, const char *fmt)
{
	char name[DNS_NAME_TEXT_MAX];

	dns_name_to_text(rr->owner, name, sizeof(name));
	dns_zone_error(zp, rr->file, rr->line, col, fmt, name);
	return -EINVAL;
}

/*
 * The zone checks for one record at file:line:col. Returns 0 to keep it,
 * -EINVAL (error reported) to drop it.
 */
static int
dns_zone_check(
    struct dns_zone_parser *zp, const struct dns_zone_rr *rr, unsigned col)
{
	const struct dns_zone_conf *c = zp->conf;
	struct dns_zone_owner *o;

	if ((c->checks & DNS_ZONE_CHECK_IN_ZONE) &&
	    !dns_name_is_sub(rr->owner, c->origin))
		return dns_zone_check_fail(
		    zp, rr, col, "%s is outside the zone");
	if ((c->checks & DNS_ZONE_CHECK_SOA) && rr->type == DNS_TYPE_SOA) {
		if (!dns_name_equal(rr->owner, c->origin))
			return dns_zone_check_fail(
			    zp, rr, col, "SOA at %s, not at the zone apex");
		if (zp->soa_count++ > 0)
			return dns_zone_check_fail(
			    zp, rr, col, "second SOA record%.0s");
	}
	if (!(c->checks & DNS_ZONE_CHECK_CNAME))
		return 0;
	o = dns_zone_owner_get(zp, rr->owner);
	if (rr->type == DNS_TYPE_CNAME) {
		if (o->cname)
			return dns_zone_check_fail(
			    zp, rr, col, "second CNAME at %s");
		if (o->other)
			return dns_zone_check_fail(
			    zp, rr, col, "CNAME beside other data at %s");
		o->cname = true;
	} else if (rr->type != DNS_TYPE_RRSIG && rr->type != DNS_TYPE_NSEC) {
		/* RFC 4035 §2.5: DNSSEC's own records may join a CNAME. */
		if (o->cname)
			return dns_zone_check_fail(
			    zp, rr, col, "data beside the CNAME at %s");
		o->other = true;
	}
	return 0;
}

static int dns_zone_parse_text(struct dns_zone_parser *zp, const char *file,
    const char *text, size_t len, unsigned depth);

static void
dns_zone_include(struct dns_zone_parser *zp, const char *file,
    const struct dns_zone_entry *e, unsigned depth)
{
	const struct dns_zone_tok *t = &e->tok[1];
	uint8_t saved_origin[DNS_NAME_MAX], saved_owner[DNS_NAME_MAX];
	uint8_t name[DNS_NAME_MAX];
	bool had_origin = zp->has_origin, had_owner = zp->has_owner;
	char path[4096], *text = NULL;
	const char *why = NULL;
	size_t len = 0;
	int rc, n;

	if (e->ntok < 2 || e->ntok > 3) {
		dns_zone_error(zp, file, e->line, e->tok[0].col,
		    "$INCLUDE takes a file name and an optional origin");
		return;
	}
	if (zp->conf->include == NULL) {
		dns_zone_error(zp, file, e->line, e->tok[0].col,
		    "$INCLUDE is not allowed here");
		return;
	}
	if (depth + 1 > DNS_ZONE_INCLUDE_MAX) {
		dns_zone_error(zp, file, e->line, e->tok[0].col,
		    "$INCLUDE nested deeper than %d", DNS_ZONE_INCLUDE_MAX);
		return;
	}
	if (t->len == 0 || t->len >= sizeof(path) ||
	    memchr(t->p, '\0', t->len) != NULL) {
		dns_zone_error(zp, file, t->line, t->col, "bad file name");
		return;
	}
	memcpy(path, t->p, t->len);
	path[t->len] = '\0';
	memcpy(saved_origin, zp->origin, sizeof(saved_origin));
	memcpy(saved_owner, zp->owner, sizeof(saved_owner));
	if (e->ntok == 3) {
		/* Into its own buffer: the name is relative to the origin
		 * it replaces. */
		n = dns_zone_name(
		    &e->tok[2], zp->has_origin ? zp->origin : NULL, name, &why);
		if (n < 0) {
			dns_zone_error(
			    zp, file, e->tok[2].line, e->tok[2].col, "%s", why);
			return;
		}
		memcpy(zp->origin, name, (size_t)n);
		zp->has_origin = true;
	}
	rc = zp->conf->include(
	    path, file, depth + 1, &text, &len, zp->conf->arg);
	if (rc < 0)
		dns_zone_error(zp, file, t->line, t->col,
		    "cannot include \"%s\": %s", path, strerror(-rc));
	else
		dns_zone_parse_text(zp, path, text, len, depth + 1);
	free(text);
	memcpy(zp->origin, saved_origin, sizeof(saved_origin));
	memcpy(zp->owner, saved_owner, sizeof(saved_owner));
	zp->has_origin = had_origin;
	zp->has_owner = had_owner;
}

static void
dns_zone_directive(struct dns_zone_parser *zp, const char *file,
    const struct dns_zone_entry *e, unsigned depth)
{
	const struct dns_zone_tok *d = &e->tok[0];
	uint8_t name[DNS_NAME_MAX];
	const char *why = NULL;

	if (d->len == 7 && strncasecmp(d->p, "$ORIGIN", 7) == 0) {
		if (e->ntok != 2) {
			dns_zone_error(zp, file, d->line, d->col,
			    "$ORIGIN takes one name");
			return;
		}
		if (dns_zone_name(&e->tok[1],
		        zp->has_origin ? zp->origin : NULL, name, &why) < 0) {
			dns_zone_error(
			    zp, file, e->tok[1].line, e->tok[1].col, "%s", why);
			return;
		}
		memcpy(zp->origin, name, sizeof(name));
		zp->has_origin = true;
	} else if (d->len == 4 && strncasecmp(d->p, "$TTL", 4) == 0) {
		if (e->ntok != 2) {
			dns_zone_error(
			    zp, file, d->line, d->col, "$TTL takes one TTL");
			return;
		}
		if (dns_zone_ttl(&e->tok[1], &zp->ttl_default) < 0) {
			dns_zone_error(zp, file, e->tok[1].line, e->tok[1].col,
			    "bad TTL (0..2147483647 s, units w d h m s)");
			return;
		}
		zp->has_ttl_default = true;
	} else if (d->len == 8 && strncasecmp(d->p, "$INCLUDE", 8) == 0) {
		dns_zone_include(zp, file, e, depth);
	} else {
		dns_zone_error(zp, file, d->line, d->col,
		    "unknown directive %.*s", (int)(d->len > 32 ? 32 : d->len),
		    d->p);
	}
}

/* Owner, then TTL and class in either order, then the type: the index
 * of the first RDATA token, or -EINVAL (reported). */
static int
dns_zone_rr_head(struct dns_zone_parser *zp, const char *file,
    const struct dns_zone_entry *e, struct dns_zone_rr *rr)
{
	const struct dns_zone_tok *t;
	bool has_ttl = false, has_class = false;
	const char *why = NULL;
	unsigned i = 0;
	int v;

	if (!e->blank_owner) {
		t = &e->tok[i++];
		if (dns_zone_name(t, zp->has_origin ? zp->origin : NULL,
		        zp->owner, &why) < 0) {
			zp->has_owner = false;
			dns_zone_error(zp, file, t->line, t->col, "%s", why);
			return -EINVAL;
		}
		zp->has_owner = true;
	} else if (!zp->has_owner) {
		dns_zone_error(zp, file, e->tok[0].line, 1,
		    "no owner: the line starts blank and no record came before");
		return -EINVAL;
	}
	for (; i < e->ntok && !(has_ttl && has_class); i++) {
		t = &e->tok[i];
		if (!has_ttl && dns_zone_ttl(t, &rr->ttl) == 0) {
			has_ttl = true;
		} else if (!has_ttl && !t->quoted && t->len > 0 &&
		    t->p[0] >= '0' && t->p[0] <= '9') {
			dns_zone_error(zp, file, t->line, t->col,
			    "bad TTL (0..2147483647 s, units w d h m s)");
			return -EINVAL;
		} else if (!has_class && (v = dns_zone_class_parse(t)) >= 0) {
			rr->rclass = (uint16_t)v;
			has_class = true;
		} else {
			break;
		}
	}
	if (i == e->ntok) {
		dns_zone_error(zp, file, e->tok[e->ntok - 1].line,
		    e->tok[e->ntok - 1].col, "no record type");
		return -EINVAL;
	}
	t = &e->tok[i];
	v = t->quoted ? -EINVAL : dns_zone_type_parse(t->p, t->len);
	if (v < 0) {
		dns_zone_error(zp, file, t->line, t->col,
		    "unknown record type %.*s",
		    (int)(t->len > 32 ? 32 : t->len), t->p);
		return -EINVAL;
	}
	/* RFC 6895 §3.1: OPT and the meta/query types are no data. */
	if (v == 0 || v == DNS_TYPE_OPT || (v >= 128 && v <= 255)) {
		dns_zone_error(zp, file, t->line, t->col,
		    "type %d cannot appear in a zone", v);
		return -EINVAL;
	}
	rr->type = (uint16_t)v;
	if (!has_class)
		rr->rclass = zp->last_class ? zp->last_class : DNS_CLASS_IN;
	if (has_ttl) {
		zp->ttl_last = rr->ttl;
		zp->has_ttl_last = true;
	} else if (zp->has_ttl_default) {
		rr->ttl = zp->ttl_default;
	} else if (zp->has_ttl_last) {
		rr->ttl = zp->ttl_last;
	} else {
		dns_zone_error(zp, file, e->tok[0].line, e->tok[0].col,
		    "no TTL: give one or set $TTL");
		return -EINVAL;
	}
	return (int)i + 1;
}

static void
dns_zone_record(struct dns_zone_parser *zp, const char *file,
    const struct dns_zone_entry *e)
{
	struct dns_zone_rr rr = { 0 };
	struct dns_zone_fail f;
	unsigned col = e->tok[0].col;
	int first, n, rc;

	if ((first = dns_zone_rr_head(zp, file, e, &rr)) < 0)
		return;
	n = dns_zone_rdata(rr.type, e->tok + first, e->ntok - (unsigned)first,
	    zp->has_origin ? zp->origin : NULL, zp->rdata, &f);
	if (n < 0) {
		const struct dns_zone_tok *t =
		    f.tok ? f.tok : &e->tok[e->ntok - 1];
		unsigned c = f.tok ?
		    t->col :
		    t->col + (unsigned)t->len + (t->quoted ? 2 : 0);

		dns_zone_error(zp, file, t->line, c, "%s", f.why);
		return;
	}
	if (zp->zclass == 0)
		zp->zclass = rr.rclass;
	zp->last_class = rr.rclass;
	if (rr.rclass != zp->zclass) {
		dns_zone_error(zp, file, e->line, col,
		    "class %u differs from the zone's (%u)", rr.rclass,
		    zp->zclass);
		return;
	}
	rr.owner = zp->owner;
	rr.rdata = zp->rdata;
	rr.rdlen = (uint16_t)n;
	rr.file = file;
	rr.line = e->line;
	if (dns_zone_check(zp, &rr, col) < 0)
		return;
	if ((rc = zp->conf->rr(&rr, zp->conf->arg)) < 0) {
		zp->stop = true;
		zp->stop_rc = rc;
	}
}

static int
dns_zone_parse_text(struct dns_zone_parser *zp, const char *file,
    const char *text, size_t len, unsigned depth)
{
	struct dns_zone_lex lx = { text, len, 0, 1, 0 };
	struct dns_zone_entry e = { 0 };
	const char *why;
	unsigned line, col;
	int rc;

	while (!zp->stop) {
		rc = dns_zone_lex_entry(&lx, &e, &why, &line, &col);
		if (rc == 0)
			break;
		if (rc < 0) {
			dns_zone_error(zp, file, line, col, "%s", why);
			continue;
		}
		if (!e.blank_owner && e.tok[0].len > 0 && !e.tok[0].quoted &&
		    e.tok[0].p[0] == '$')
			dns_zone_directive(zp, file, &e, depth);
		else
			dns_zone_record(zp, file, &e);
	}
	dns_zone_entry_fini(&e);
	return 0;
}

int
dns_zone_parse(const struct dns_zone_conf *conf, const char *file,
    const char *text, size_t len, unsigned *nerr)
{
	struct dns_zone_parser zp;
	size_t i;
	int rc;

	if (nerr != NULL)
		*nerr = 0;
	if (conf->rr == NULL || (conf->checks != 0 && conf->origin == NULL))
		return -EINVAL;
	memset(&zp, 0, sizeof(zp));
	zp.conf = conf;
	zp.max_errors = conf->max_errors ? conf->max_errors : 100;
	if (conf->origin != NULL) {
		memcpy(zp.origin, conf->origin, dns_name_len(conf->origin));
		zp.has_origin = true;
	}
	zp.rdata = xmalloc(DNS_RDATA_MAX);
	dns_zone_parse_text(&zp, file, text, len, 0);
	if ((conf->checks & DNS_ZONE_CHECK_SOA) && zp.soa_count == 0 &&
	    zp.stop_rc == 0)
		dns_zone_error(&zp, file, 1, 1, "no SOA record at the apex");
	for (i = 0; i < zp.owners_cap; i++)
		free(zp.owners[i].name);
	free(zp.owners);
	free(zp.rdata);
	if (nerr != NULL)
		*nerr = zp.nerr;
	if (zp.stop_rc < 0)
		rc = zp.stop_rc;
	else
		rc = zp.nerr > 0 ? -EINVAL : 0;
	return rc;
}
