/* Unit tests for namemap.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/namemap.h"
#include "runner.h"

/* Every name in one probe chain: the worst an attacker could do unkeyed. */
static uint64_t
test_hash_const(const void *p, size_t len)
{
	(void)p;
	(void)len;
	return 7;
}

/* Home slot from the first character: lets a test place chains by hand. */
static uint64_t
test_hash_first(const void *p, size_t len)
{
	return len > 0 ? (uint64_t)(*(const unsigned char *)p - 'a') : 0;
}

static void
test_siphash_vectors(void)
{
	/* The paper's key 00..0f over messages 00..(n-1) (its Appendix A). */
	const uint64_t k[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	unsigned char msg[15];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	T_ASSERT(namemap_siphash(msg, 0, k) == 0x726fdb47dd0e0e31ull);
	T_ASSERT(namemap_siphash(msg, 15, k) == 0xa129ca6149be45e5ull);
	/* A different key gives a different hash of the same name. */
	T_ASSERT(namemap_siphash("web/a1", 6, k) !=
	    namemap_siphash("web/a1", 6, (const uint64_t[2]){ 1, 2 }));
}

static void
test_add_get_del(void)
{
	struct namemap m;
	int a = 1, b = 2, c = 3;

	namemap_init(&m);
	T_ASSERT(namemap_get(&m, "a") == NULL);
	T_ASSERT(namemap_del(&m, "a") == NULL);
	T_EQ_INT(namemap_add(&m, "a", &a), 0);
	T_EQ_INT(namemap_add(&m, "b", &b), 0);
	T_EQ_INT(namemap_add(&m, "a", &c), -EEXIST);
	T_EQ_INT(namemap_add(&m, "c", NULL), -EINVAL);
	T_ASSERT(namemap_get(&m, "a") == &a);
	T_ASSERT(namemap_get(&m, "b") == &b);
	T_ASSERT(namemap_get(&m, "") == NULL);
	T_ASSERT(namemap_get(&m, "ab") == NULL);
	T_EQ_INT(namemap_count(&m), 2);
	T_ASSERT(namemap_del(&m, "a") == &a);
	T_ASSERT(namemap_del(&m, "a") == NULL);
	T_ASSERT(namemap_get(&m, "a") == NULL);
	T_ASSERT(namemap_get(&m, "b") == &b);
	T_EQ_INT(namemap_count(&m), 1);
	/* The empty name is a name like any other. */
	T_EQ_INT(namemap_add(&m, "", &c), 0);
	T_ASSERT(namemap_get(&m, "") == &c);
	namemap_fini(&m);
	T_EQ_INT(namemap_count(&m), 0);
	T_ASSERT(namemap_get(&m, "b") == NULL);
	/* A finished map is an empty map, ready for use. */
	T_EQ_INT(namemap_add(&m, "b", &b), 0);
	T_ASSERT(namemap_get(&m, "b") == &b);
	namemap_fini(&m);
}

/* A zeroed struct, as inside a struct parent = { 0 }, is an empty map. */
static void
test_zeroed_is_empty(void)
{
	struct namemap m = { 0 };
	int v = 1;

	T_ASSERT(namemap_get(&m, "a") == NULL);
	T_ASSERT(namemap_del(&m, "a") == NULL);
	T_ASSERT(!namemap_next(&m, &(size_t){ 0 }, NULL, NULL));
	T_EQ_INT(namemap_add(&m, "a", &v), 0);
	T_ASSERT(namemap_get(&m, "a") == &v);
	namemap_fini(&m);
}

static void
test_keys_copied(void)
{
	struct namemap m;
	char name[16];
	int v = 1;
	const char *key;

	namemap_init(&m);
	snprintf(name, sizeof(name), "pool/s1");
	T_EQ_INT(namemap_add(&m, name, &v), 0);
	memset(name, 'x', sizeof(name) - 1);
	T_ASSERT(namemap_get(&m, "pool/s1") == &v);
	T_ASSERT(namemap_next(&m, &(size_t){ 0 }, &key, NULL));
	T_EQ_STR(key, "pool/s1");
	T_ASSERT(key != name);
	namemap_fini(&m);
}

static void
test_collisions(void)
{
	struct namemap m;
	char name[32];
	static int vals[300];
	size_t i;

	namemap_init_hash(&m, test_hash_const);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		T_EQ_INT(namemap_add(&m, name, &vals[i]), 0);
	}
	/* Delete from the middle of the one chain, every third name. */
	for (i = 0; i < 300; i += 3) {
		snprintf(name, sizeof(name), "t%zu", i);
		T_ASSERT(namemap_del(&m, name) == &vals[i]);
	}
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		T_ASSERT(namemap_get(&m, name) == (i % 3 ? &vals[i] : NULL));
	}
	T_EQ_INT(namemap_count(&m), 200);
	for (i = 0; i < 300; i += 3) {
		snprintf(name, sizeof(name), "t%zu", i);
		T_EQ_INT(namemap_add(&m, name, &vals[i]), 0);
	}
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		T_ASSERT(namemap_get(&m, name) == &vals[i]);
	}
	namemap_fini(&m);
}

/*
 * Chains that wrap past the end of the 16-slot index: deleting at the end
 * must pull the wrapped members back, and only those whose home allows.
 */
static void
test_wrap_backward_shift(void)
{
	/* Homes: 'o'=14, 'p'=15, 'a'=0, 'b'=1. */
	static const char *names[] = { "o1", "o2", "p1", "p2", "a1", "b1" };
	static int vals[6];
	struct namemap m;

	namemap_init_hash(&m, test_hash_first);
	for (size_t i = 0; i < 6; i++)
		T_EQ_INT(namemap_add(&m, names[i], &vals[i]), 0);
	T_EQ_INT(m.icap, 16);
	/* o1@14 o2@15 p1@0 p2@1 a1@2 b1@3 */
	T_ASSERT(namemap_del(&m, "o1") == &vals[0]);
	for (size_t i = 1; i < 6; i++)
		T_ASSERT(namemap_get(&m, names[i]) == &vals[i]);
	/* The chain moved back by one: o2@14 p1@15 p2@0 a1@1 b1@2. */
	T_ASSERT(m.idx[14] != 0 && m.idx[2] != 0 && m.idx[3] == 0);
	T_ASSERT(namemap_del(&m, "p1") == &vals[2]);
	T_ASSERT(namemap_del(&m, "o2") == &vals[1]);
	for (size_t i = 3; i < 6; i++)
		T_ASSERT(namemap_get(&m, names[i]) == &vals[i]);
	/* p2 is home at 15, a1 at 0, b1 at 1: nothing sits before its home. */
	T_ASSERT(m.idx[14] == 0);
	T_ASSERT(m.idx[15] != 0 && m.idx[0] != 0 && m.idx[1] != 0);
	namemap_fini(&m);
}

/* Random adds and deletes against a plain array, with a weak hash. */
static void
test_against_model(void)
{
	enum {
		NAMES = 64,
		OPS = 20000
	};
	static int vals[NAMES];
	uint64_t seq[NAMES] = { 0 }, next = 1, rng = 88172645463325252ull;
	bool in[NAMES] = { false };
	struct namemap m;
	char name[16];
	size_t live = 0;

	namemap_init_hash(&m, test_hash_first);
	for (int op = 0; op < OPS; op++) {
		size_t i, pos = 0, seen = 0;
		uint64_t last = 0;
		const char *key;
		void *val;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		i = (size_t)(rng % NAMES);
		/* Few first letters: long chains, many of them wrapping. */
		snprintf(name, sizeof(name), "%c%zu", 'a' + (int)(i % 5), i);
		if ((rng >> 32) % 2 == 0) {
			T_EQ_INT(namemap_add(&m, name, &vals[i]),
			    in[i] ? -EEXIST : 0);
			if (!in[i]) {
				in[i] = true;
				seq[i] = next++;
				live++;
			}
		} else {
			T_ASSERT(
			    namemap_del(&m, name) == (in[i] ? &vals[i] : NULL));
			if (in[i])
				live--;
			in[i] = false;
		}
		T_EQ_INT(namemap_count(&m), live);
		/* Iteration: each live name once, in insertion order. */
		while (namemap_next(&m, &pos, &key, &val)) {
			size_t j = (size_t)((int *)val - vals);

			T_ASSERT(j < NAMES && in[j] && seq[j] > last);
			T_ASSERT(namemap_get(&m, key) == val);
			last = seq[j];
			seen++;
		}
		T_EQ_INT(seen, live);
	}
	namemap_fini(&m);
}

static void
test_growth_100k(void)
{
	enum {
		N = 100000
	};
	int *vals = calloc(N, sizeof(*vals));
	struct namemap m;
	char name[64];
	size_t i, pos = 0, n = 0;
	const char *key;
	void *val;

	namemap_init(&m);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "pool%zu/server%zu", i % 97, i);
		T_EQ_INT(namemap_add(&m, name, &vals[i]), 0);
	}
	T_EQ_INT(namemap_count(&m), N);
	T_ASSERT(m.icap >= 2 * N);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "pool%zu/server%zu", i % 97, i);
		T_ASSERT(namemap_get(&m, name) == &vals[i]);
	}
	for (i = 0; i < N; i += 2) {
		snprintf(name, sizeof(name), "pool%zu/server%zu", i % 97, i);
		T_ASSERT(namemap_del(&m, name) == &vals[i]);
	}
	T_EQ_INT(namemap_count(&m), N / 2);
	/* The odd ones remain, in the order they were added. */
	while (namemap_next(&m, &pos, &key, &val)) {
		T_ASSERT(val == &vals[2 * n + 1]);
		snprintf(name, sizeof(name), "pool%zu/server%zu",
		    (2 * n + 1) % 97, 2 * n + 1);
		T_EQ_STR(key, name);
		n++;
	}
	T_EQ_INT(n, N / 2);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "pool%zu/server%zu", i % 97, i);
		T_ASSERT(namemap_get(&m, name) == (i % 2 ? &vals[i] : NULL));
	}
	namemap_fini(&m);
	free(vals);
}

static void
test_delete_while_iterating(void)
{
	static int vals[50];
	struct namemap m;
	char name[16];
	size_t pos = 0, n = 0, ecap;
	const char *key;
	void *val;

	namemap_init(&m);
	for (size_t i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		T_EQ_INT(namemap_add(&m, name, &vals[i]), 0);
	}
	/* Delete every entry as it is returned: none skipped, none twice. */
	while (namemap_next(&m, &pos, &key, &val)) {
		T_ASSERT(val == &vals[n]);
		snprintf(name, sizeof(name), "%s", key);
		T_ASSERT(namemap_del(&m, name) == val);
		n++;
	}
	T_EQ_INT(n, 50);
	T_EQ_INT(namemap_count(&m), 0);
	pos = 0;
	T_ASSERT(!namemap_next(&m, &pos, &key, &val));
	/* Churn: adds after many deletes reuse the holes, order holds. */
	ecap = m.ecap;
	for (size_t r = 0; r < 1000; r++) {
		snprintf(name, sizeof(name), "r%zu", r);
		T_EQ_INT(namemap_add(&m, name, &vals[r % 50]), 0);
		if (r >= 3) {
			snprintf(name, sizeof(name), "r%zu", r - 3);
			T_ASSERT(namemap_del(&m, name) == &vals[(r - 3) % 50]);
		}
	}
	T_EQ_INT(namemap_count(&m), 3);
	T_ASSERT(m.ecap == ecap);
	pos = 0;
	for (size_t r = 997; r < 1000; r++) {
		T_ASSERT(namemap_next(&m, &pos, &key, NULL));
		snprintf(name, sizeof(name), "r%zu", r);
		T_EQ_STR(key, name);
	}
	T_ASSERT(!namemap_next(&m, &pos, NULL, NULL));
	namemap_fini(&m);
}

static const struct test tests[] = {
	TEST(test_siphash_vectors),
	TEST(test_add_get_del),
	TEST(test_zeroed_is_empty),
	TEST(test_keys_copied),
	TEST(test_collisions),
	TEST(test_wrap_backward_shift),
	TEST(test_against_model),
	TEST(test_growth_100k),
	TEST(test_delete_while_iterating),
};

TEST_MAIN(tests)
