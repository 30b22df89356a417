/*
 * snap_vol.c - a volume's role on this node (snap_vol.h).
 */
#include <sys/file.h>
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/statefile.h"
#include "lib/util.h"
#include "snap/snap_text.h"
#include "snap/snap_vol.h"

#define SNAP_VOL_MAX 4096 /* a state file is about 200 bytes */

const char *
snap_role_name(enum snap_role r)
{
	switch (r) {
	case SNAP_ROLE_PRIMARY:
		return "primary";
	case SNAP_ROLE_REPLICA:
		return "replica";
	case SNAP_ROLE_NONE:
		break;
	}
	return "none";
}

static const char *
snap_vol_dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

void
snap_vol_format(const struct snap_vol *v, struct buf *out)
{
	buf_printf(out,
	    "haven-volume 1\nrole %s\ngeneration %s\nhead %s\n"
	    "head_generation %s\nhead_seq %" PRIu64 "\n",
	    v->role == SNAP_ROLE_PRIMARY ? "primary" : "replica",
	    snap_vol_dash(v->generation), snap_vol_dash(v->head),
	    snap_vol_dash(v->head_gen), v->head_seq);
}

/* A generation ID or "-" (out = ""). */
static int
snap_vol_gen(struct snap_text *c, const char *key, char *out)
{
	const char *v = NULL;
	size_t n = 0;
	int e;

	if ((e = snap_text_field(c, key, &v, &n)) != 0)
		return e;
	out[0] = '\0';
	if (n == 1 && v[0] == '-')
		return 0;
	return snap_text_gen(c, key, v, n, out);
}

static int
snap_vol_fields(struct snap_text *c, struct snap_vol *v)
{
	const char *val = NULL;
	size_t n = 0;
	uint64_t version = 0;
	int e;

	if ((e = snap_text_u64(c, "haven-volume", 1, &version)) != 0 ||
	    version != 1)
		return snap_text_fail(
		    c, "not a haven volume state of version 1");
	if ((e = snap_text_field(c, "role", &val, &n)) != 0)
		return e;
	if (n == 7 && memcmp(val, "primary", 7) == 0)
		v->role = SNAP_ROLE_PRIMARY;
	else if (n == 7 && memcmp(val, "replica", 7) == 0)
		v->role = SNAP_ROLE_REPLICA;
	else
		return snap_text_fail(c, "role: want primary or replica");
	if ((e = snap_vol_gen(c, "generation", v->generation)) != 0)
		return e;
	if ((v->role == SNAP_ROLE_PRIMARY) != (v->generation[0] != '\0'))
		return snap_text_fail(c,
		    "generation: a primary has one, "
		    "a replica none");
	if ((e = snap_text_field(c, "head", &val, &n)) != 0)
		return e;
	if (!(n == 1 && val[0] == '-')) {
		if (!snap_name_ok(val, n))
			return snap_text_fail(c, "head: bad snapshot ID");
		memcpy(v->head, val, n);
		v->head[n] = '\0';
	}
	if ((e = snap_vol_gen(c, "head_generation", v->head_gen)) != 0 ||
	    (e = snap_text_u64(c, "head_seq", UINT64_MAX, &v->head_seq)) != 0)
		return e;
	if ((v->head[0] != '\0') != (v->head_gen[0] != '\0') ||
	    (v->head[0] != '\0') != (v->head_seq != 0))
		return snap_text_fail(c,
		    "head, head_generation and head_seq "
		    "are all set or all unset");
	if (c->pos != c->len)
		return snap_text_fail(c, "data after head_seq");
	return 0;
}

int
snap_vol_parse(
    const char *p, size_t len, struct snap_vol *v, char *err, size_t errlen)
{
	struct snap_text c = {
		.p = p, .len = len, .err = err, .errlen = errlen
	};
	int e;

	memset(v, 0, sizeof(*v));
	if (errlen > 0)
		err[0] = '\0';
	if ((e = snap_vol_fields(&c, v)) != 0)
		memset(v, 0, sizeof(*v));
	return e;
}

void
snap_vol_set_head(struct snap_vol *v, const struct snap_manifest *m)
{
	snprintf(v->head, sizeof(v->head), "%s", m->id);
	snprintf(v->head_gen, sizeof(v->head_gen), "%s", m->generation);
	v->head_seq = m->seq;
}

void
snap_vol_new_gen(char *gen)
{
	uint8_t g[SNAP_GEN_HEX / 2];
	size_t got = 0;

	while (got < sizeof(g)) {
		ssize_t r = getrandom(g + got, sizeof(g) - got, 0);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			fatal("snap: getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	for (size_t i = 0; i < sizeof(g); i++)
		snprintf(gen + 2 * i, 3, "%02x", g[i]);
}

static char *
snap_vol_dir(struct snap_store *s, const char *volume)
{
	return xasprintf("%s/volumes/%s", s->root, volume);
}

int
snap_vol_read(struct snap_store *s, const char *volume, struct snap_vol *v,
    char *err, size_t errlen)
{
	char *dir = snap_vol_dir(s, volume);
	struct buf b;
	int e;

	buf_init(&b);
	memset(v, 0, sizeof(*v));
	e = statefile_read(dir, "state", &b);
	if (e == -ENOENT) {
		e = 0; /* no role yet */
	} else if (e != 0) {
		snprintf(err, errlen, "%s/state: %s", dir, strerror(-e));
	} else if (b.len > SNAP_VOL_MAX) {
		snprintf(err, errlen, "%s/state: too large", dir);
		e = -EBADMSG;
	} else if ((e = snap_vol_parse(
	                b.data ? b.data : "", b.len, v, err, errlen)) != 0) {
		char why[160];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s/state: %s", dir, why);
	}
	buf_fini(&b);
	free(dir);
	return e;
}

int
snap_vol_lock(struct snap_store *s, const char *volume, int wait_ms,
    int *lockfd, struct snap_vol *v, char *err, size_t errlen)
{
	char *dir = snap_vol_dir(s, volume);
	char *path = xasprintf("%s/lock", dir);
	int fd = -1, e;

	*lockfd = -1;
	if ((e = statefile_mkdir(dir)) != 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		e = e != 0 ? e : -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		goto out;
	}
	if ((e = util_flock_wait(fd, LOCK_EX, wait_ms)) != 0) {
		snprintf(err, errlen,
		    "volume %s is busy (another create, "
		    "promote or replication holds it)",
		    volume);
		goto out;
	}
	if ((e = snap_vol_read(s, volume, v, err, errlen)) != 0)
		goto out;
	*lockfd = fd;
	fd = -1;
out:
	if (fd != -1)
		close(fd);
	free(path);
	free(dir);
	return e;
}

void
snap_vol_unlock(int lockfd)
{
	if (lockfd != -1)
		close(lockfd); /* drops the flock */
}

int
snap_vol_write(
    struct snap_store *s, const char *volume, const struct snap_vol *v)
{
	char *dir = snap_vol_dir(s, volume);
	struct buf b;
	int e;

	buf_init(&b);
	snap_vol_format(v, &b);
	e = statefile_write(dir, "state", b.data, b.len);
	buf_fini(&b);
	free(dir);
	return e;
}
