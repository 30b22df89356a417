/*
 * namemap.h - the one map from a name (a NUL-terminated string) to a
 * pointer, for every table of named objects: the parent's last verdicts,
 * the health engine's targets, an lb worker's pools and each pool's servers.
 *
 * Keys are copied: the map owns its copy, so a caller may pass a name from a
 * message, an API path or a stack buffer, and may rewrite or free the object
 * the name came from without leaving the map a dangling key. Values are
 * borrowed: the map never frees them, and a value is never NULL (NULL is how
 * namemap_get says "absent").
 *
 * Layout: entries in a dense array in insertion order, plus an index of
 * entry positions, open-addressed with linear probing and kept at most half
 * full. A lookup hashes the name once and compares the stored 64-bit hash
 * before the string. A delete turns its entry into a hole (compacted by the
 * next growth) and removes the index slot by backward shift, so there are no
 * tombstones and a probe stops at the first empty slot. Iteration walks the
 * dense array: insertion order, holes skipped; deleting the entry just
 * returned is allowed during iteration, adding is not.
 *
 * The hash is SipHash-2-4 keyed once per process from getrandom(): names
 * come from configs and the control API, and an unkeyed hash would let
 * whoever picks them pile every name into one probe chain.
 *
 * No limit but memory. Pure apart from that one getrandom() call.
 */
#ifndef HAVEN_NAMEMAP_H
#define HAVEN_NAMEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hash of len bytes at p; the default is namemap_siphash, keyed. */
typedef uint64_t namemap_hash_fn(const void *p, size_t len);

struct namemap_ent {
	uint64_t hash;
	char *name; /* owned copy; NULL: a hole left by a delete */
	void *val;  /* borrowed: the caller's object */
};

struct namemap {
	struct namemap_ent *ent; /* owned: dense, in insertion order */
	size_t nent;             /* used positions of ent, holes included */
	size_t ecap;
	size_t count;          /* live entries */
	size_t *idx;           /* owned: ent position + 1, 0: empty slot */
	size_t icap;           /* a power of two, 0 before the first add */
	namemap_hash_fn *hash; /* borrowed: a static function; NULL: SipHash */
};

/* An all-zero struct namemap is an empty map too, as namemap_init makes. */
void namemap_init(struct namemap *m);
/* As namemap_init with another hash: tests force collisions with it. */
void namemap_init_hash(struct namemap *m, namemap_hash_fn *fn);
/* Free the keys and the arrays, never the values; m is then empty. */
void namemap_fini(struct namemap *m);

/* The value stored under name, or NULL. */
void *namemap_get(const struct namemap *m, const char *name);
/* Add name -> val: 0, -EEXIST (the old value stays) or -EINVAL (val NULL). */
int namemap_add(struct namemap *m, const char *name, void *val);
/* Remove name; its value (for the caller to free) or NULL if absent. */
void *namemap_del(struct namemap *m, const char *name);
size_t namemap_count(const struct namemap *m);

/*
 * Iterate: start with *pos = 0; each call that returns true sets *name
 * (the map's copy, valid until that entry is deleted) and *val (either
 * may be NULL) and advances *pos.
 */
bool namemap_next(
    const struct namemap *m, size_t *pos, const char **name, void **val);

/* SipHash-2-4 of len bytes at p under the 128-bit key k. */
uint64_t namemap_siphash(const void *p, size_t len, const uint64_t k[2]);

#endif
