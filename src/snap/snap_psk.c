/*
 * snap_psk.c - reading the replication pre-shared key (snap_proto.h):
 * both ends of a replication read the same file, so its format and its
 * permission rule are kept in one place.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "snap/snap_proto.h"

static int
snap_psk_hex(const uint8_t *p, size_t n, uint8_t psk[SNAP_PROTO_PSK_LEN])
{
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n != 2 * SNAP_PROTO_PSK_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SNAP_PROTO_PSK_LEN; i++) {
		int v = 0;

		for (int j = 0; j < 2; j++) {
			uint8_t c = p[2 * i + (size_t)j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				return -EINVAL;
		}
		psk[i] = (uint8_t)v;
	}
	return 0;
}

int
snap_proto_psk_load(
    const char *path, uint8_t psk[SNAP_PROTO_PSK_LEN], char *err, size_t errlen)
{
	uint8_t b[2 * SNAP_PROTO_PSK_LEN + 3];
	struct stat st;
	ssize_t n;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		e = errno;
		snprintf(err, errlen, "psk_file %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "psk_file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		close(fd);
		snprintf(err, errlen,
		    "psk_file %s: readable or writable by others (chmod 0600 "
		    "or 0640)",
		    path);
		return -EPERM;
	}
	n = read(fd, b, sizeof(b));
	e = errno;
	close(fd);
	if (n == -1) {
		snprintf(err, errlen, "psk_file %s: %s", path, strerror(e));
		return -e;
	}
	if (n == SNAP_PROTO_PSK_LEN) {
		memcpy(psk, b, SNAP_PROTO_PSK_LEN);
	} else if (snap_psk_hex(b, (size_t)n, psk) != 0) {
		snprintf(err, errlen,
		    "psk_file %s: expected 32 raw bytes or 64 hex digits",
		    path);
		sodium_memzero(b, sizeof(b));
		return -EINVAL;
	}
	sodium_memzero(b, sizeof(b));
	return 0;
}
