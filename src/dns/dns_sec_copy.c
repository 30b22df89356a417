/*
 * dns_sec_copy.c - the saved copy of a secondary zone (dns_sec_copy.h):
 * the record list a transfer fills, its text in RFC 3597 generic form,
 * the checked atomic write and the read back at load time.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_conf.h"
#include "dns/dns_db.h"
#include "dns/dns_sec_copy.h"
#include "dns/dns_wire.h"
#include "lib/buf.h"
#include "lib/statefile.h"
#include "lib/util.h"

void
dns_sec_recs_add(struct dns_sec_recs *r, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t ol = dns_name_len(owner), need = ol + 8 + rdlen;
	uint8_t *p;

	if (r->len + need > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < r->len + need)
			cap *= 2;
		r->b = xrealloc(r->b, cap);
		r->cap = cap;
	}
	p = r->b + r->len;
	memcpy(p, owner, ol);
	p += ol;
	*p++ = (uint8_t)(type >> 8);
	*p++ = (uint8_t)type;
	*p++ = (uint8_t)(ttl >> 24);
	*p++ = (uint8_t)(ttl >> 16);
	*p++ = (uint8_t)(ttl >> 8);
	*p++ = (uint8_t)ttl;
	*p++ = (uint8_t)(rdlen >> 8);
	*p++ = (uint8_t)rdlen;
	memcpy(p, rdata, rdlen);
	r->len += need;
	r->n++;
}

void
dns_sec_recs_free(struct dns_sec_recs *r)
{
	free(r->b);
	memset(r, 0, sizeof(*r));
}

void
dns_sec_copy_name(
    const uint8_t *apex, const char *suffix, char *out, size_t size)
{
	char t[DNS_NAME_TEXT_MAX], f[3 * DNS_NAME_TEXT_MAX];
	size_t n, k = 0;

	if (apex[0] == 0) {
		snprintf(out, size, "root%s", suffix);
		return;
	}
	dns_name_to_text(apex, t, sizeof(t));
	n = strlen(t);
	if (n > 0 && t[n - 1] == '.')
		t[--n] = '\0';
	/* Lower case (names are case-blind), and '/', '\\', '%' and a
	 * leading '.' as %XX: distinct zones never share a file, and no
	 * name is hidden or leaves the directory. */
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch == '/' || ch == '\\' || ch == '%' ||
		    (i == 0 && ch == '.'))
			k += (size_t)snprintf(
			    f + k, sizeof(f) - k, "%%%02X", (unsigned char)ch);
		else
			f[k++] = ch;
	}
	f[k] = '\0';
	snprintf(out, size, "%s%s", f, suffix);
}

char *
dns_sec_copy_text(const struct dns_sec_recs *r, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	char owner[DNS_NAME_TEXT_MAX];
	struct buf b;
	size_t off = 0;

	buf_init(&b);
	buf_puts(&b, "; haven secondary zone copy: RFC 3597 generic form\n");
	while (off < r->len) {
		const uint8_t *p = r->b + off;
		size_t ol = dns_name_len(p);
		uint16_t type, rdlen;
		uint32_t ttl;

		dns_name_to_text(p, owner, sizeof(owner));
		p += ol;
		type = (uint16_t)(p[0] << 8 | p[1]);
		ttl = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
		    (uint32_t)p[4] << 8 | p[5];
		rdlen = (uint16_t)(p[6] << 8 | p[7]);
		p += 8;
		buf_printf(&b, "%s %u IN TYPE%u \\# %u ", owner, ttl,
		    (unsigned)type, (unsigned)rdlen);
		for (size_t i = 0; i < rdlen; i++) {
			char h[2] = { hex[p[i] >> 4], hex[p[i] & 15] };

			buf_append(&b, h, 2);
		}
		buf_putc(&b, '\n');
		off += ol + 8 + rdlen;
	}
	*len = b.len;
	return buf_steal(&b);
}

struct dns_sec_parse {
	const uint8_t *apex;
	dns_zone_rr_fn *rr;
	void *arg;
	struct dns_sec_soa *soa;
	struct dns_db *db; /* owned: scratch tables when rr is NULL */
	size_t nrecs, nsoa;
	bool bad;
};

static uint32_t
dns_sec_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
dns_sec_parse_rr(const struct dns_zone_rr *rr, void *arg)
{
	struct dns_sec_parse *ps = arg;
	int l1, l2;

	ps->nrecs++;
	if (rr->type == DNS_TYPE_SOA && dns_name_equal(rr->owner, ps->apex)) {
		ps->nsoa++;
		l1 = dns_name_check(rr->rdata, rr->rdlen);
		l2 = l1 < 0 ?
		    -1 :
		    dns_name_check(rr->rdata + l1, rr->rdlen - (size_t)l1);
		if (l1 < 0 || l2 < 0 ||
		    (size_t)l1 + (size_t)l2 + 20 != rr->rdlen) {
			ps->bad = true;
		} else {
			const uint8_t *p = rr->rdata + l1 + l2;

			ps->soa->serial = dns_sec_u32(p);
			ps->soa->refresh = dns_sec_u32(p + 4);
			ps->soa->retry = dns_sec_u32(p + 8);
			ps->soa->expire = dns_sec_u32(p + 12);
			ps->soa->minimum = dns_sec_u32(p + 16);
		}
	}
	if (ps->db != NULL)
		return dns_db_add_rr(ps->db, 0, rr->owner, rr->type, rr->ttl,
		    rr->rdata, rr->rdlen);
	return ps->rr != NULL ? ps->rr(rr, ps->arg) : 0;
}

int
dns_sec_copy_parse(const char *file, const char *text, size_t len,
    const uint8_t *apex, dns_zone_rr_fn *rr, void *arg, struct dns_sec_soa *soa,
    size_t *nrecs)
{
	struct dns_sec_parse ps = { .apex = apex, .rr = rr, .arg = arg };
	struct dns_sec_soa tmp;
	struct dns_zone_conf zc = { 0 };
	int rc;

	ps.soa = soa != NULL ? soa : &tmp;
	/* Without a callback, check that the records would load: the zone
	 * alone built into scratch tables (dns_db_finish's checks). */
	if (rr == NULL) {
		ps.db = dns_db_new();
		if (dns_db_zone_begin(ps.db, apex) != 0)
			ps.bad = true;
	}
	zc.origin = apex;
	zc.checks = DNS_ZONE_CHECK_ALL;
	zc.max_errors = 1;
	zc.rr = dns_sec_parse_rr;
	zc.arg = &ps;
	rc = dns_zone_parse(&zc, file, text, len, NULL);
	if (nrecs != NULL)
		*nrecs = ps.nrecs;
	if (rc == 0 && ps.db != NULL && !ps.bad &&
	    dns_db_finish(ps.db, NULL, NULL) != 0)
		ps.bad = true;
	dns_db_free(ps.db);
	if (rc != 0)
		return rc < 0 ? rc : -EINVAL;
	if (ps.nsoa != 1 || ps.bad)
		return -EINVAL;
	return 0;
}

int
dns_sec_copy_write(
    const char *dir, const uint8_t *apex, const struct dns_sec_recs *r)
{
	char name[DNS_SEC_FILE_MAX], tmp[PATH_MAX], path[PATH_MAX];
	char *text, *back = NULL;
	size_t len, blen = 0, n = 0;
	int fd, dfd, rc;

	if ((rc = statefile_mkdir(dir)) != 0)
		return rc;
	dns_sec_copy_name(apex, ".zone", name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* A dot name: the watchers ignore the temp file. */
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	text = dns_sec_copy_text(r, &len);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = -errno;
		free(text);
		return rc;
	}
	rc = util_write_all(fd, text, len);
	free(text);
	if (rc == 0 && fsync(fd) == -1)
		rc = -errno;
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	/* Read back what the disk holds and parse it as a load would. */
	if (rc == 0)
		rc = dns_conf_read_file(tmp, &back, &blen);
	if (rc == 0) {
		rc = dns_sec_copy_parse(
		    tmp, back, blen, apex, NULL, NULL, NULL, &n);
		if (rc == 0 && n != r->n)
			rc = -EINVAL;
		free(back);
	}
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -errno;
	if (rc != 0) {
		(void)unlink(tmp);
		return rc;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int
dns_sec_copy_read(const char *dir, const uint8_t *apex, dns_zone_rr_fn *rr,
    void *arg, struct dns_sec_soa *soa, time_t *mtime)
{
	char name[DNS_SEC_FILE_MAX], path[PATH_MAX];
	struct stat st;
	char *text;
	size_t len;
	int rc;

	dns_sec_copy_name(apex, ".zone", name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) == -1)
		return -errno;
	if ((rc = dns_conf_read_file(path, &text, &len)) != 0)
		return rc;
	rc = dns_sec_copy_parse(path, text, len, apex, rr, arg, soa, NULL);
	free(text);
	if (rc == 0)
		*mtime = st.st_mtime;
	return rc < 0 && rc != -ENOENT ? -EINVAL : rc;
}

bool
dns_sec_copy_expired(const struct dns_sec_soa *soa, time_t mtime, time_t now)
{
	/* RFC 1035 §3.3.13: expire counts from the last good refresh. */
	return (int64_t)now - (int64_t)mtime >= (int64_t)soa->expire;
}
