/*
 * namemap.c - name -> pointer map; see namemap.h for the layout and the
 * rules a caller keeps.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/namemap.h"
#include "lib/util.h"

/* ---- SipHash-2-4 (Aumasson and Bernstein, 2012) ------------------------ */

#define NAMEMAP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void
namemap_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = NAMEMAP_ROTL(v[1], 13) ^ v[0];
	v[0] = NAMEMAP_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = NAMEMAP_ROTL(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = NAMEMAP_ROTL(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = NAMEMAP_ROTL(v[1], 17) ^ v[2];
	v[2] = NAMEMAP_ROTL(v[2], 32);
}

/* The 64-bit little-endian word of n <= 8 bytes at p. */
static uint64_t
namemap_le64(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static void
namemap_sipcompress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	namemap_sipround(v);
	namemap_sipround(v);
	v[0] ^= m;
}

uint64_t
namemap_siphash(const void *p, size_t len, const uint64_t k[2])
{
	const unsigned char *s = p;
	uint64_t v[4] = {
		k[0] ^ 0x736f6d6570736575ull,
		k[1] ^ 0x646f72616e646f6dull,
		k[0] ^ 0x6c7967656e657261ull,
		k[1] ^ 0x7465646279746573ull,
	};
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		namemap_sipcompress(v, namemap_le64(s + i, 8));
	namemap_sipcompress(
	    v, namemap_le64(s + i, len - i) | (uint64_t)(len & 0xff) << 56);
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		namemap_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * One key per process: drawn at the first map's init (each child is its own
 * exec'd process and draws its own). Without getrandom() the clock and pid
 * still make the key unknown to whoever writes the names.
 */
static uint64_t namemap_key[2];
static bool namemap_keyed;

static void
namemap_key_init(void)
{
	if (getrandom(namemap_key, sizeof(namemap_key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(namemap_key)) {
		namemap_key[0] = util_mono_us() ^ (uint64_t)getpid() << 32;
		namemap_key[1] =
		    util_wall_ms() ^ (uint64_t)(uintptr_t)&namemap_key;
	}
	namemap_keyed = true;
}

static uint64_t
namemap_hash(const struct namemap *m, const char *name, size_t len)
{
	if (m->hash != NULL)
		return m->hash(name, len);
	if (!namemap_keyed)
		namemap_key_init();
	return namemap_siphash(name, len, namemap_key);
}

/* ---- the map ------------------------------------------------------------ */

void
namemap_init_hash(struct namemap *m, namemap_hash_fn *fn)
{
	memset(m, 0, sizeof(*m));
	m->hash = fn;
}

void
namemap_init(struct namemap *m)
{
	namemap_init_hash(m, NULL);
}

void
namemap_fini(struct namemap *m)
{
	namemap_hash_fn *fn = m->hash;

	for (size_t i = 0; i < m->nent; i++)
		free(m->ent[i].name);
	free(m->ent);
	free(m->idx);
	namemap_init_hash(m, fn);
}

size_t
namemap_count(const struct namemap *m)
{
	return m->count;
}

/*
 * Compact the holes out of ent and rebuild the index with icap slots (a
 * power of two above twice the count) from the stored hashes.
 */
static void
namemap_rebuild(struct namemap *m, size_t icap)
{
	size_t n = 0, mask = icap - 1;

	for (size_t i = 0; i < m->nent; i++)
		if (m->ent[i].name != NULL)
			m->ent[n++] = m->ent[i];
	m->nent = n;
	free(m->idx);
	m->idx = xcalloc(icap, sizeof(*m->idx));
	m->icap = icap;
	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t)m->ent[i].hash & mask;

		while (m->idx[h] != 0)
			h = (h + 1) & mask;
		m->idx[h] = i + 1;
	}
}

/* The index slot holding name, or the empty slot where it would go. */
static size_t
namemap_slot(const struct namemap *m, const char *name, uint64_t hash)
{
	size_t mask = m->icap - 1, h = (size_t)hash & mask;

	while (m->idx[h] != 0) {
		const struct namemap_ent *e = &m->ent[m->idx[h] - 1];

		if (e->hash == hash && strcmp(e->name, name) == 0)
			break;
		h = (h + 1) & mask;
	}
	return h;
}

void *
namemap_get(const struct namemap *m, const char *name)
{
	uint64_t hash;
	size_t h;

	if (m->count == 0)
		return NULL;
	hash = namemap_hash(m, name, strlen(name));
	h = namemap_slot(m, name, hash);
	return m->idx[h] != 0 ? m->ent[m->idx[h] - 1].val : NULL;
}

int
namemap_add(struct namemap *m, const char *name, void *val)
{
	size_t len = strlen(name), h;
	uint64_t hash = namemap_hash(m, name, len);
	struct namemap_ent *e;

	if (val == NULL)
		return -EINVAL;
	if (m->icap != 0 && m->idx[namemap_slot(m, name, hash)] != 0)
		return -EEXIST;
	/* Keep the index at most half full. */
	if ((m->count + 1) * 2 > m->icap)
		namemap_rebuild(m, m->icap != 0 ? m->icap * 2 : 16);
	if (m->nent == m->ecap) {
		/* Holes first: a map that churns need not grow. */
		size_t holes = m->nent - m->count;

		if (holes > 0 && holes >= m->nent / 2)
			namemap_rebuild(m, m->icap);
		else {
			m->ecap = m->ecap != 0 ? m->ecap * 2 : 8;
			m->ent = xrealloc(m->ent, m->ecap * sizeof(*m->ent));
		}
	}
	h = namemap_slot(m, name, hash);
	e = &m->ent[m->nent];
	e->hash = hash;
	e->name = xstrndup(name, len);
	e->val = val;
	m->idx[h] = ++m->nent;
	m->count++;
	return 0;
}

/*
 * Backward shift: pull each later member of the probe run into the freed
 * slot unless its home lies cyclically in (i, j], where moving it would
 * put it before its home and out of reach of its own probe.
 */
static void
namemap_unslot(struct namemap *m, size_t i)
{
	size_t mask = m->icap - 1, j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (m->idx[j] == 0)
			break;
		k = (size_t)m->ent[m->idx[j] - 1].hash & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->idx[i] = m->idx[j];
		i = j;
	}
	m->idx[i] = 0;
}

void *
namemap_del(struct namemap *m, const char *name)
{
	struct namemap_ent *e;
	size_t h;
	void *val;

	if (m->count == 0)
		return NULL;
	h = namemap_slot(m, name, namemap_hash(m, name, strlen(name)));
	if (m->idx[h] == 0)
		return NULL;
	e = &m->ent[m->idx[h] - 1];
	val = e->val;
	free(e->name);
	e->name = NULL;
	e->val = NULL;
	namemap_unslot(m, h);
	m->count--;
	/* The tail holes can go now: iteration has passed or never gets there.
	 */
	while (m->nent > 0 && m->ent[m->nent - 1].name == NULL)
		m->nent--;
	return val;
}

bool
namemap_next(
    const struct namemap *m, size_t *pos, const char **name, void **val)
{
	for (; *pos < m->nent; (*pos)++) {
		const struct namemap_ent *e = &m->ent[*pos];

		if (e->name == NULL)
			continue;
		if (name != NULL)
			*name = e->name;
		if (val != NULL)
			*val = e->val;
		(*pos)++;
		return true;
	}
	return false;
}
