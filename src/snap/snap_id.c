/*
 * snap_id.c - see snap_id.h.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_id.h"

void
snap_id_of(const void *p, size_t len, struct snap_id *id)
{
	unsigned int n = 0;

	/* EVP_Digest fails only on allocation failure inside OpenSSL. */
	if (EVP_Digest(p, len, id->b, &n, EVP_sha256(), NULL) != 1 ||
	    n != SNAP_ID_LEN)
		fatal("snap: SHA-256 failed");
}

void
snap_id_keyed(const uint8_t *key, const void *p, size_t len, struct snap_id *id)
{
	crypto_generichash(id->b, SNAP_ID_LEN, p, len, key, 32);
}

bool
snap_id_is_zero(const struct snap_id *id)
{
	static const struct snap_id zero;

	return memcmp(id->b, zero.b, SNAP_ID_LEN) == 0;
}

void
snap_id_hex(const struct snap_id *id, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < SNAP_ID_LEN; i++) {
		out[2 * i] = hex[id->b[i] >> 4];
		out[2 * i + 1] = hex[id->b[i] & 15];
	}
	out[SNAP_HEX_LEN] = '\0';
}

static int
snap_id_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
snap_id_parse(const char *s, size_t len, struct snap_id *id)
{
	if (len != SNAP_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SNAP_ID_LEN; i++) {
		int hi = snap_id_nibble(s[2 * i]);
		int lo = snap_id_nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		id->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
snap_id_cmp(const struct snap_id *a, const struct snap_id *b)
{
	return memcmp(a->b, b->b, SNAP_ID_LEN);
}

bool
snap_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > SNAP_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return false;
	}
	return true;
}
