/*
 * dns_catalog_serial.c - the SOA serial of a synthesized catalog zone
 * (dns_catalog.h).
 *
 * A catalog has no file whose serial an operator bumps, yet its serial
 * must rise when the member set changes, only then, and never go back:
 * a consumer that sees a lower serial keeps the members it had, and one
 * that sees a new serial for the same records transfers for nothing. So
 * the serial is kept with what it stands for: dir/<catalog>.serial holds
 * "serial digest" (the digest of every record, the serial left out). A load
 * whose records hash to the stored digest takes the stored serial; one that
 * differs takes a new serial, the greater by RFC 1982 of the stored one
 * plus one and the wall clock in seconds, and stores it.
 *
 * Why the clock as a floor: a state directory lost (a new machine, a
 * wiped disk) must still not send the serial back. The clock in seconds
 * is ahead of any serial we gave before, unless members changed more
 * than once a second for a long time. Without a state directory (the
 * sim tests) every load takes the clock, which still never goes back.
 *
 * Every worker loads the same config at about the same time and must
 * serve the same serial (the NOTIFY waits until all serve it): the read,
 * compare and write happen under an flock of dir, so the first worker to
 * see a new member set decides its serial and the others read it.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns/dns_catalog.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/statefile.h"

#define DNS_CATALOG_FILE_MAX 256 /* bytes of "serial digest\n" and more */

/* RFC 1982 §3.2: whether serial a is greater than b. */
static int
dns_catalog_serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

/* The file name of apex: its text without the final dot, each byte
 * outside [a-z0-9-_] but the label dots as %XX, so no name escapes dir. */
static void
dns_catalog_serial_name(const uint8_t *apex, char *out, size_t size)
{
	char text[DNS_NAME_TEXT_MAX];
	size_t n = 0;

	if (dns_name_to_text(apex, text, sizeof(text)) < 0)
		text[0] = '\0';
	for (const char *p = text; *p != '\0' && n + 4 < size; p++) {
		unsigned char ch = (unsigned char)*p;

		if (p[1] == '\0' && ch == '.')
			break;
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || (ch == '.' && p != text))
			out[n++] = (char)ch;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", ch);
	}
	snprintf(out + n, size - n, ".serial");
}

/* "serial hex-digest" into *serial and dig; -EINVAL when malformed. */
static int
dns_catalog_serial_parse(
    const char *text, uint32_t *serial, uint8_t dig[DNS_CATALOG_DIGEST_BYTES])
{
	char hex[2 * DNS_CATALOG_DIGEST_BYTES + 1];
	unsigned long long v;
	size_t len;

	if (sscanf(text, "%llu %64s", &v, hex) != 2 || v > UINT32_MAX)
		return -EINVAL;
	if (sodium_hex2bin(dig, DNS_CATALOG_DIGEST_BYTES, hex, strlen(hex),
	        NULL, &len, NULL) != 0 ||
	    len != DNS_CATALOG_DIGEST_BYTES)
		return -EINVAL;
	*serial = (uint32_t)v;
	return 0;
}

uint32_t
dns_catalog_serial(const char *dir, const uint8_t *apex,
    const uint8_t digest[DNS_CATALOG_DIGEST_BYTES], uint64_t now)
{
	uint8_t old_dig[DNS_CATALOG_DIGEST_BYTES];
	char name[DNS_NAME_TEXT_MAX * 3 + 16];
	char hex[2 * DNS_CATALOG_DIGEST_BYTES + 1], text[DNS_CATALOG_FILE_MAX];
	uint32_t clock = (uint32_t)now, old = 0, serial;
	struct buf b;
	int dfd = -1, rc, len;
	bool known = false;

	if (dir == NULL || dir[0] == '\0')
		return clock;
	dns_catalog_serial_name(apex, name, sizeof(name));
	if ((rc = statefile_mkdir(dir)) != 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(dfd, LOCK_EX) == -1) {
		log_warn("dns catalog serial not kept", "dir=%s errno=%d",
		    log_q(dir), rc != 0 ? -rc : errno);
		if (dfd != -1)
			close(dfd);
		return clock;
	}
	buf_init(&b);
	rc = statefile_read(dir, name, &b);
	if (rc == 0) {
		buf_putc(&b, '\0');
		if (dns_catalog_serial_parse(
		        (const char *)b.data, &old, old_dig) == 0)
			known = true;
		else
			log_warn("dns catalog serial file unreadable",
			    "file=%s", log_q(name));
	}
	buf_fini(&b);
	if (known && memcmp(old_dig, digest, sizeof(old_dig)) == 0) {
		serial = old;
		goto out;
	}
	serial = known && !dns_catalog_serial_gt(clock, old) ? old + 1 : clock;
	sodium_bin2hex(hex, sizeof(hex), digest, DNS_CATALOG_DIGEST_BYTES);
	len = snprintf(text, sizeof(text), "%" PRIu32 " %s\n", serial, hex);
	if ((rc = statefile_write(dir, name, text, (size_t)len)) != 0)
		log_warn("dns catalog serial not saved", "file=%s errno=%d",
		    log_q(name), -rc);
out:
	(void)flock(dfd, LOCK_UN);
	close(dfd);
	return serial;
}
