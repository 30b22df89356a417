#!/bin/bash
# snap_tree.sh - incremental snapshots of a directory tree of many small
# files: haven from an inotify dirty set next to haven's full walk, rsync
# -a and restic, on the same tree in one run, everything on tmpfs
# (/dev/shm).
#
# The tree is NFILES files of 200-2000 random bytes in NFILES/1000
# directories. First, untimed: a full snapshot into two haven stores (A
# through a watcher, B by a walk; bench/snap_tree_bench.c holds the
# watcher, as the snap plane does in continuous mode), a restic
# repository's first backup and an rsync -a copy. Then each round appends
# to CHANGED random files and times:
#   - haven, dirty set: take the watcher's set, create from it (store A);
#   - haven, full walk: stat every path, unchanged files' chunks taken
#     from the parent by size/mtime/ctime/inode (store B);
#   - rsync -a --delete of the tree onto the copy;
#   - restic backup (its second and later: unchanged files by metadata).
# Both haven snapshots must hold the same index and chunk list each round
# (the dirty set is not allowed to be wrong to be fast).
# Prints medians and ratios (below 1: the first is faster).
#
# Usage: bench/snap_tree.sh   env: NFILES (100000), CHANGED (10), ROUNDS (5),
#                             BUILD (build-bench, set up --buildtype=release)
# Needs: restic, rsync, python3, pkg-config and the libraries haven links.
set -u
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
nfiles=${NFILES:-100000}
changed=${CHANGED:-10}
rounds=${ROUNDS:-5}

for c in restic rsync python3 pkg-config cc; do
	command -v $c >/dev/null || { echo "snap_tree.sh: needs $c" >&2; exit 1; }
done
dir=$(mktemp -d /dev/shm/haven-tree-bench.XXXXXX)
bpid=""
cleanup() {
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$dir/restic-cache

[ -d "$build" ] || meson setup "$build" --buildtype=release >/dev/null
ninja -C "$build" libhavencore.a >/dev/null || exit 1
cc -O2 -D_GNU_SOURCE -DHAVEN_VERSION='"bench"' -Isrc bench/snap_tree_bench.c \
	"$build/libhavencore.a" $(pkg-config --cflags --libs libfyaml openssl \
	liburing jansson libmnl libnftables libxxhash libzstd libsodium) -lm \
	-o "$dir/snap_tree_bench" || exit 1

python3 - "$dir/tree" "$nfiles" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(rng.randbytes(rng.randrange(200, 2000)))
PY

echo "bench/snap_tree.sh: $nfiles files in $((nfiles / 1000)) directories on tmpfs, $changed changed per round, $rounds rounds"
echo "$(restic version | cut -d' ' -f1-2); rsync $(rsync --version | head -1 | awk '{print $3}'); $(uname -r)"

now() { date +%s.%N; }
elapsed() { python3 -c "print('%.4f' % ($2 - $1))"; }

t0=$(now)
restic -r "$dir/repo" init -q >/dev/null || exit 1
restic -r "$dir/repo" backup -q "$dir/tree" >/dev/null || exit 1
t1=$(now)
rsync -a "$dir/tree/" "$dir/copy/" || exit 1
t2=$(now)
coproc BENCH { "$dir/snap_tree_bench" "$dir/tree" "$dir/a" "$dir/b"; }
bpid=$BENCH_PID
read -r line <&"${BENCH[0]}" || { echo "snap_tree_bench failed" >&2; exit 1; }
t3=$(now)
[ "$line" = ready ] || { echo "snap_tree_bench: $line" >&2; exit 1; }
echo "first full copies: restic $(elapsed "$t0" "$t1") s, rsync $(elapsed "$t1" "$t2") s, haven (two stores) $(elapsed "$t2" "$t3") s"

declare -a hd hw rs rr np
for r in $(seq "$rounds"); do
	python3 - "$dir/tree" "$nfiles" "$changed" "$r" <<'PY'
import os, random, sys
root, n, k, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
for i in rng.sample(range(n), k):
    p = os.path.join(root, "d%03d" % (i // 1000), "f%06d" % i)
    with open(p, "ab") as f:
        f.write(rng.randbytes(100))
PY
	echo go >&"${BENCH[1]}"
	read -r line <&"${BENCH[0]}" || { echo "snap_tree_bench died" >&2; exit 1; }
	case "$line" in
	*" detect=inotify same=1") ;;
	*) echo "snap_tree_bench: $line" >&2; exit 1 ;;
	esac
	t0=$(now)
	rsync -a --delete "$dir/tree/" "$dir/copy/" || exit 1
	t1=$(now)
	restic -r "$dir/repo" backup -q "$dir/tree" >/dev/null || exit 1
	t2=$(now)
	hd+=("$(sed 's/.*dirty_s=\([0-9.]*\).*/\1/' <<<"$line")")
	hw+=("$(sed 's/.*walk_s=\([0-9.]*\).*/\1/' <<<"$line")")
	np+=("$(sed 's/.*paths=\([0-9]*\).*/\1/' <<<"$line")")
	rs+=("$(elapsed "$t0" "$t1")")
	rr+=("$(elapsed "$t1" "$t2")")
	echo "round $r: haven dirty set ${hd[-1]} s (${np[-1]} dirty paths), full walk ${hw[-1]} s; rsync ${rs[-1]} s; restic ${rr[-1]} s"
done
exec {BENCH[1]}>&-

python3 - "$nfiles" "$changed" "${hd[*]}" "${hw[*]}" "${rs[*]}" "${rr[*]}" <<'PY'
import statistics as st, sys
n, k = int(sys.argv[1]), int(sys.argv[2])
hd, hw, rs, rr = ([float(x) for x in a.split()] for a in sys.argv[3:7])
m = st.median
print("\nmedians over %d rounds, %d files, %d changed (ratio below 1 = the "
      "first is faster):" % (len(hd), n, k))
print("  haven dirty set %.4f s  haven full walk %.4f s  rsync -a %.4f s  "
      "restic %.4f s" % (m(hd), m(hw), m(rs), m(rr)))
print("  ratios  dirty/walk %.3f  dirty/rsync %.3f  dirty/restic %.3f  "
      "walk/rsync %.3f  walk/restic %.3f"
      % (m(hd) / m(hw), m(hd) / m(rs), m(hd) / m(rr), m(hw) / m(rs),
         m(hw) / m(rr)))
PY
