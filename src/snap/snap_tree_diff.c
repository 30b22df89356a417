/*
 * snap_tree_diff.c - the paths that differ between two tree snapshots
 * (snap_tree_io.h): both indexes are loaded and walked side by side in
 * their common path order; a file's data compares by its chunk IDs, so
 * no data chunk is read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "snap/snap_tree_io.h"

/* p with C escapes for what is not printable ASCII, and for '\'. */
static void
snap_tree_diff_path(FILE *out, const char *p)
{
	if (*p == '\0') {
		fputc('.', out);
		return;
	}
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\')
			fputs("\\\\", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static bool
snap_tree_diff_xattrs(
    const struct snap_tree_entry *a, const struct snap_tree_entry *b)
{
	if (a->nxattrs != b->nxattrs)
		return false;
	for (uint32_t k = 0; k < a->nxattrs; k++) {
		const struct snap_tree_xattr *x = &a->xattrs[k],
		                             *y = &b->xattrs[k];

		if (strcmp(x->name, y->name) != 0 || x->len != y->len ||
		    (x->len > 0 && memcmp(x->value, y->value, x->len) != 0))
			return false;
	}
	return true;
}

/* "changed", "meta" or NULL for two entries of one path. */
static const char *
snap_tree_diff_one(const struct snap_manifest *ma,
    const struct snap_tree_entry *a, const struct snap_manifest *mb,
    const struct snap_tree_entry *b)
{
	if (a->type != b->type)
		return "changed";
	if (a->type == SNAP_TREE_FILE &&
	    (a->size != b->size || a->nchunks != b->nchunks ||
	        (a->nchunks > 0 &&
	            memcmp(&ma->chunks[ma->nindex + a->first],
	                &mb->chunks[mb->nindex + b->first],
	                a->nchunks * sizeof(struct snap_id)) != 0)))
		return "changed";
	if ((a->type == SNAP_TREE_SYMLINK || a->type == SNAP_TREE_HARDLINK) &&
	    strcmp(a->target, b->target) != 0)
		return "changed";
	if (a->type == SNAP_TREE_HARDLINK)
		return NULL;
	if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->mtime_ns != b->mtime_ns || !snap_tree_diff_xattrs(a, b))
		return "meta";
	return NULL;
}

int
snap_tree_diff(struct snap_store *s, const struct snap_manifest *ma,
    const struct snap_manifest *mb, FILE *out, struct snap_tree_diff_stats *st,
    char *err, size_t errlen)
{
	struct snap_tree a, b;
	size_t i = 0, j = 0;
	int e;

	memset(st, 0, sizeof(*st));
	if ((e = snap_tree_load(s, ma, &a, err, errlen)) != 0)
		return e;
	if ((e = snap_tree_load(s, mb, &b, err, errlen)) != 0) {
		snap_tree_fini(&a);
		return e;
	}
	while (i < a.n || j < b.n) {
		const char *what;
		const char *path;
		int c = i == a.n ? 1 :
		    j == b.n     ? -1 :
		                   snap_tree_path_cmp(a.e[i].path, b.e[j].path);

		if (c < 0) {
			what = "removed";
			path = a.e[i++].path;
			st->removed++;
		} else if (c > 0) {
			what = "added";
			path = b.e[j++].path;
			st->added++;
		} else {
			what = snap_tree_diff_one(ma, &a.e[i], mb, &b.e[j]);
			path = a.e[i].path;
			i++;
			j++;
			if (what == NULL)
				continue;
			if (what[0] == 'c')
				st->changed++;
			else
				st->meta++;
		}
		fprintf(out, "%s ", what);
		snap_tree_diff_path(out, path);
		fputc('\n', out);
	}
	snap_tree_fini(&a);
	snap_tree_fini(&b);
	return 0;
}
