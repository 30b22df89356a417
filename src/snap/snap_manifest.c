/*
 * snap_manifest.c - see snap_manifest.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "snap/snap_cdc.h"
#include "snap/snap_chunker.h"
#include "snap/snap_manifest.h"
#include "snap/snap_text.h"

void
snap_manifest_fini(struct snap_manifest *m)
{
	free(m->chunks);
	memset(m, 0, sizeof(*m));
}

static void
snap_mf_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void
snap_manifest_root(const struct snap_manifest *m, struct snap_id *root)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t head[4 + 12 + 8] = "tree";
	size_t hl = 12, at = 0;
	unsigned int n = 0;

	if (m->kind == SNAP_KIND_TREE) {
		at = 4;
		hl = sizeof(head);
		snap_mf_le(head + 16, m->nindex, 8);
	}
	snap_mf_le(head + at, m->size, 8);
	snap_mf_le(head + at + 8, m->chunk_size, 4);
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, head, hl) != 1 ||
	    (m->nchunks > 0 &&
	        EVP_DigestUpdate(
	            ctx, m->chunks, m->nchunks * sizeof(m->chunks[0])) != 1) ||
	    EVP_DigestFinal_ex(ctx, root->b, &n) != 1 || n != SNAP_ID_LEN)
		fatal("snap: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
}

void
snap_manifest_format(const struct snap_manifest *m, struct buf *out)
{
	char hex[SNAP_HEX_LEN + 1];

	bool tree = m->kind == SNAP_KIND_TREE;

	buf_printf(out,
	    "haven-snapshot %d\nid %s\nparent %s\ngeneration %s\n"
	    "seq %" PRIu64 "\nhistory %" PRIu32 "\n",
	    tree ? SNAP_MANIFEST_VERSION_TREE : SNAP_MANIFEST_VERSION, m->id,
	    m->parent[0] ? m->parent : "-", m->generation, m->seq, m->nhistory);
	for (uint32_t i = 0; i < m->nhistory; i++)
		buf_printf(out, "%s %" PRIu64 "\n", m->history[i].gen,
		    m->history[i].seq);
	buf_printf(out, "created %" PRId64 "\nvolume %s\n%s", m->created,
	    m->volume, tree ? "kind tree\n" : "");
	buf_printf(out, "size %" PRIu64 "\nchunk_size %" PRIu32 "\nids %s\n",
	    m->size, m->chunk_size, m->ids[0] ? m->ids : "sha256");
	if (tree)
		buf_printf(out, "index %" PRIu64 "\n", m->nindex);
	buf_printf(out, "chunks %" PRIu64 "\n", m->nchunks);
	for (uint64_t i = 0; i < m->nchunks; i++) {
		if (snap_id_is_zero(&m->chunks[i])) {
			buf_puts(out, "zero\n");
			continue;
		}
		snap_id_hex(&m->chunks[i], hex);
		buf_append(out, hex, SNAP_HEX_LEN);
		buf_putc(out, '\n');
	}
	snap_id_hex(&m->root, hex);
	buf_printf(out, "root %s\nend\n", hex);
}

/* A name field (snap_name_ok) into out[SNAP_NAME_MAX + 1]. */
static int
snap_mf_name(struct snap_text *c, const char *key, bool dash_ok, char *out)
{
	const char *v = NULL;
	size_t n = 0;
	int e;

	if ((e = snap_text_field(c, key, &v, &n)) != 0)
		return e;
	if (dash_ok && n == 1 && v[0] == '-') {
		out[0] = '\0';
		return 0;
	}
	if (!snap_name_ok(v, n))
		return snap_text_fail(c, "%s: bad name", key);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/*
 * "history K" then K lines "GEN SEQ": seqs strictly increasing and below
 * the snapshot's own, generations distinct from each other and from the
 * snapshot's (each generation is one run of the lineage).
 */
static int
snap_mf_history(struct snap_text *c, struct snap_manifest *m)
{
	uint64_t k;
	int e;

	if ((e = snap_text_u64(c, "history", SNAP_HISTORY_MAX, &k)) != 0)
		return e;
	for (uint64_t i = 0; i < k; i++) {
		struct snap_gen_point *h = &m->history[i];
		const char *sp, *q;
		char *end;

		if ((e = snap_text_next(c)) != 0)
			return e;
		sp = memchr(c->line, ' ', c->llen);
		if (sp == NULL)
			return snap_text_fail(c, "history: want 'GEN SEQ'");
		if ((e = snap_text_gen(c, "history", c->line,
		         (size_t)(sp - c->line), h->gen)) != 0)
			return e;
		q = sp + 1;
		if (q == c->line + c->llen || q[0] < '0' || q[0] > '9' ||
		    (q[0] == '0') || c->line + c->llen - q > 20)
			return snap_text_fail(c, "history: bad seq");
		errno = 0;
		h->seq = strtoull(q, &end, 10);
		if (errno != 0 || end != c->line + c->llen)
			return snap_text_fail(c, "history: bad seq");
		if (i > 0 && h->seq <= m->history[i - 1].seq)
			return snap_text_fail(c, "history: seqs must increase");
		if (strcmp(h->gen, m->generation) == 0)
			return snap_text_fail(
			    c, "history: repeats a generation");
		for (uint64_t j = 0; j < i; j++)
			if (strcmp(h->gen, m->history[j].gen) == 0)
				return snap_text_fail(
				    c, "history: repeats a generation");
	}
	m->nhistory = (uint32_t)k;
	if (k > 0 && m->history[k - 1].seq >= m->seq)
		return snap_text_fail(c, "history: a fork at or past seq");
	return 0;
}

/* "sha256" or "keyed-" and 16 lowercase hex digits. */
static int
snap_mf_ids(struct snap_text *c, const char *v, size_t n, char *out)
{
	bool ok = n == 6 && memcmp(v, "sha256", 6) == 0;

	if (!ok && n == 22 && memcmp(v, "keyed-", 6) == 0) {
		ok = true;
		for (size_t i = 6; i < n; i++)
			ok = ok &&
			    ((v[i] >= '0' && v[i] <= '9') ||
			        (v[i] >= 'a' && v[i] <= 'f'));
	}
	if (!ok)
		return snap_text_fail(c, "ids: want sha256 or keyed-HEX16");
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/*
 * A tree's chunk_size, index and chunks: chunks are variable, so the
 * count is bounded instead of implied: at least one index chunk, and no
 * more data chunks than bytes of data (every chunk holds one or more).
 */
static int
snap_mf_tree_counts(struct snap_text *c, struct snap_manifest *m)
{
	int e;

	if (m->chunk_size != SNAP_CDC_MAX)
		return snap_text_fail(
		    c, "chunk_size: a tree's is %u", SNAP_CDC_MAX);
	if ((e = snap_text_u64(c, "index", UINT64_MAX, &m->nindex)) != 0)
		return e;
	if (m->nindex == 0)
		return snap_text_fail(c, "index: a tree has one chunk or more");
	if ((e = snap_text_u64(c, "chunks", UINT64_MAX, &m->nchunks)) != 0)
		return e;
	if (m->nchunks < m->nindex || m->nchunks - m->nindex > m->size)
		return snap_text_fail(c,
		    "chunks: %" PRIu64
		    " chunks cannot hold an index of %" PRIu64 " and %" PRIu64
		    " bytes of data",
		    m->nchunks, m->nindex, m->size);
	return 0;
}

static int
snap_mf_header(struct snap_text *c, struct snap_manifest *m)
{
	const char *v = NULL;
	size_t n = 0;
	uint64_t x;
	int e;

	if ((e = snap_text_field(c, "haven-snapshot", &v, &n)) != 0)
		return snap_text_fail(c, "not a haven snapshot manifest");
	if (n == 1 && v[0] == '0' + SNAP_MANIFEST_VERSION_TREE)
		m->kind = SNAP_KIND_TREE;
	else if (n != 1 || v[0] != '0' + SNAP_MANIFEST_VERSION)
		return snap_text_fail(c, "unsupported manifest version '%.*s'",
		    (int)MIN(n, 16), v);
	if ((e = snap_mf_name(c, "id", false, m->id)) != 0 ||
	    (e = snap_mf_name(c, "parent", true, m->parent)) != 0)
		return e;
	if ((e = snap_text_field(c, "generation", &v, &n)) != 0 ||
	    (e = snap_text_gen(c, "generation", v, n, m->generation)) != 0 ||
	    (e = snap_text_u64(c, "seq", UINT64_MAX, &m->seq)) != 0)
		return e;
	if (m->seq == 0)
		return snap_text_fail(c, "seq: must be at least 1");
	if ((e = snap_mf_history(c, m)) != 0)
		return e;
	if ((e = snap_text_u64(c, "created", INT64_MAX, &x)) != 0)
		return e;
	m->created = (int64_t)x;
	if ((e = snap_mf_name(c, "volume", false, m->volume)) != 0)
		return e;
	if (m->kind == SNAP_KIND_TREE) {
		if ((e = snap_text_field(c, "kind", &v, &n)) != 0)
			return e;
		if (n != 4 || memcmp(v, "tree", 4) != 0)
			return snap_text_fail(c, "kind: version 3 is 'tree'");
	}
	if ((e = snap_text_u64(c, "size", SNAP_SIZE_MAX, &m->size)) != 0)
		return e;
	if ((e = snap_text_u64(c, "chunk_size", SNAP_CHUNK_MAX, &x)) != 0)
		return e;
	if (!snap_chunker_size_ok(x))
		return snap_text_fail(c,
		    "chunk_size: not a power of two "
		    "in [4 KiB, 4 MiB]");
	m->chunk_size = (uint32_t)x;
	if ((e = snap_text_field(c, "ids", &v, &n)) != 0 ||
	    (e = snap_mf_ids(c, v, n, m->ids)) != 0)
		return e;
	if (m->kind == SNAP_KIND_TREE)
		return snap_mf_tree_counts(c, m);
	if ((e = snap_text_u64(c, "chunks", UINT64_MAX, &m->nchunks)) != 0)
		return e;
	if (m->nchunks != snap_chunker_count(m->size, m->chunk_size))
		return snap_text_fail(c,
		    "chunks: %" PRIu64 " chunks cannot "
		    "cover size %" PRIu64,
		    m->nchunks, m->size);
	return 0;
}

/* The chunk lines; the array grows only with lines actually present. */
static int
snap_mf_chunks(struct snap_text *c, struct snap_manifest *m)
{
	size_t cap = 0;
	int e;

	for (uint64_t i = 0; i < m->nchunks; i++) {
		if ((e = snap_text_next(c)) != 0)
			return e;
		if (i == cap) {
			cap = cap ? 2 * cap : 256;
			m->chunks =
			    xrealloc(m->chunks, cap * sizeof(m->chunks[0]));
		}
		if (c->llen == 4 && memcmp(c->line, "zero", 4) == 0 &&
		    m->kind == SNAP_KIND_TREE)
			return snap_text_fail(c,
			    "chunk %" PRIu64 ": a tree has "
			    "no zero chunks",
			    i);
		if (c->llen == 4 && memcmp(c->line, "zero", 4) == 0) {
			memset(&m->chunks[i], 0, sizeof(m->chunks[i]));
			continue;
		}
		if (snap_id_parse(c->line, c->llen, &m->chunks[i]) != 0)
			return snap_text_fail(c,
			    "chunk %" PRIu64 ": want 64 "
			    "lowercase hex digits or 'zero'",
			    i);
		if (snap_id_is_zero(&m->chunks[i]))
			return snap_text_fail(c,
			    "chunk %" PRIu64 ": the zero "
			    "ID is spelled 'zero'",
			    i);
	}
	return 0;
}

int
snap_manifest_parse(const char *p, size_t len, struct snap_manifest *m,
    char *err, size_t errlen)
{
	struct snap_text c = {
		.p = p, .len = len, .err = err, .errlen = errlen
	};
	struct snap_id root;
	const char *v = NULL;
	size_t n = 0;
	int e;

	memset(m, 0, sizeof(*m));
	if (errlen > 0)
		err[0] = '\0';
	if ((e = snap_mf_header(&c, m)) != 0 ||
	    (e = snap_mf_chunks(&c, m)) != 0 ||
	    (e = snap_text_field(&c, "root", &v, &n)) != 0)
		goto fail;
	if (snap_id_parse(v, n, &m->root) != 0) {
		e = snap_text_fail(&c, "root: want 64 lowercase hex digits");
		goto fail;
	}
	snap_manifest_root(m, &root);
	if (snap_id_cmp(&root, &m->root) != 0) {
		char hex[SNAP_HEX_LEN + 1];

		snap_id_hex(&root, hex);
		e = snap_text_fail(&c,
		    "root hash does not match the chunk list (manifest "
		    "damaged; computed %s)",
		    hex);
		goto fail;
	}
	if ((e = snap_text_next(&c)) != 0)
		goto fail;
	if (c.llen != 3 || memcmp(c.line, "end", 3) != 0) {
		e = snap_text_fail(&c, "expected 'end'");
		goto fail;
	}
	if (c.pos != len) {
		c.lineno++;
		e = snap_text_fail(&c, "data after 'end'");
		goto fail;
	}
	return 0;
fail:
	snap_manifest_fini(m);
	return e;
}

static bool
snap_mf_same(
    const struct snap_manifest *a, const struct snap_manifest *b, uint64_t i)
{
	uint64_t off;
	uint32_t la, lb;

	if (i >= a->nchunks || i >= b->nchunks)
		return false;
	/* The last chunk of images of different sizes may differ in length. */
	snap_chunker_range(a->size, a->chunk_size, i, &off, &la);
	snap_chunker_range(b->size, b->chunk_size, i, &off, &lb);
	return la == lb && snap_id_cmp(&a->chunks[i], &b->chunks[i]) == 0;
}

int64_t
snap_manifest_diff(const struct snap_manifest *a, const struct snap_manifest *b,
    snap_manifest_range_fn *fn, void *arg)
{
	uint64_t n = MAX(a->nchunks, b->nchunks), size = MAX(a->size, b->size);
	uint64_t run = 0, changed = 0;
	bool in_run = false;

	if (a->chunk_size != b->chunk_size || a->kind != SNAP_KIND_IMAGE ||
	    b->kind != SNAP_KIND_IMAGE)
		return -EINVAL;
	for (uint64_t i = 0; i <= n; i++) {
		bool diff = i < n && !snap_mf_same(a, b, i);

		if (diff) {
			changed++;
			if (!in_run) {
				run = i;
				in_run = true;
			}
		} else if (in_run) {
			uint64_t off = run * a->chunk_size;
			uint64_t end = MIN(i * (uint64_t)a->chunk_size, size);

			fn(off, end - off, arg);
			in_run = false;
		}
	}
	return (int64_t)changed;
}

bool
snap_manifest_descends(
    const struct snap_manifest *m, const char *gen, uint64_t seq)
{
	if (strcmp(m->generation, gen) == 0)
		return seq <= m->seq;
	for (uint32_t i = 0; i < m->nhistory; i++)
		if (strcmp(m->history[i].gen, gen) == 0)
			return seq <= m->history[i].seq;
	return false;
}

void
snap_manifest_lineage(struct snap_manifest *child,
    const struct snap_manifest *parent, const char *gen)
{
	snprintf(child->generation, sizeof(child->generation), "%s", gen);
	if (parent == NULL) {
		child->parent[0] = '\0';
		child->seq = 1;
		child->nhistory = 0;
		return;
	}
	snprintf(child->parent, sizeof(child->parent), "%s", parent->id);
	child->seq = parent->seq + 1;
	child->nhistory = parent->nhistory;
	memcpy(child->history, parent->history, sizeof(child->history));
	if (strcmp(parent->generation, gen) == 0)
		return;
	if (child->nhistory == SNAP_HISTORY_MAX) {
		memmove(&child->history[0], &child->history[1],
		    (SNAP_HISTORY_MAX - 1) * sizeof(child->history[0]));
		child->nhistory--;
	}
	child->history[child->nhistory].seq = parent->seq;
	memcpy(child->history[child->nhistory].gen, parent->generation,
	    sizeof(child->history[0].gen));
	child->nhistory++;
}
