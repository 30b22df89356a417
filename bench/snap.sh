#!/bin/bash
# snap.sh - image snapshots, haven snap next to restic (and rsync for the
# incremental) on the same file, in one run, everything on tmpfs.
#
# The image is SIZE_MIB of data where every fourth MiB is zeros and the
# rest is random (incompressible). Each round, with a fresh haven store and
# a fresh restic repository:
#   1. full: `haven snap create` vs `restic backup` of the image;
#   2. 1 % change: 100 in-place overwrites of SIZE/10000 bytes each at
#      random offsets (the scattered small writes of a VM or database image,
#      as in reference/data-dr.md 3.2), then `haven snap create` (incremental)
#      vs restic's second backup vs `rsync --inplace --no-whole-file` of the
#      changed image onto a copy of the old one.
# Prints medians of the times, the ratios (below 1: haven is faster), the
# bytes each added for the 1 % change, and store size vs repository size.
#
# Usage: bench/snap.sh   env: HAVEN_BIN (build-bench/haven, else build/haven),
#                             SIZE_MIB (512), ROUNDS (3)
# Needs: restic rsync python3 (scripts/deps.sh bench).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/snap_common.sh"
bin=${HAVEN_BIN:-$here/../build-bench/haven}
[ -x "$bin" ] || bin=$here/../build/haven
size_mib=${SIZE_MIB:-512}
rounds=${ROUNDS:-3}

for c in restic rsync python3; do
	command -v $c >/dev/null || { echo "snap.sh: needs $c" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "snap.sh: no haven binary at $bin" >&2; exit 1; }

tmp=$(mktemp -d /dev/shm/bench-snap.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$tmp/restic-cache

secs() { echo "$2 - $1" | bc -l; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 }
	END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { echo "$1 / $2" | bc -l | awk '{ printf "%.2f", $1 }'; }
du_b() { du -sb "$1" | awk '{ print $1 }'; }
mib() { echo "$1" | awk '{ printf "%.1f MiB", $1 / 1048576 }'; }

make_image() { snap_image "$1" "$size_mib"; }
change_image() { snap_change "$1" "$2"; }

echo "bench/snap.sh: ${size_mib} MiB image (3/4 random, 1/4 zero) on tmpfs, $rounds rounds"
echo "haven: $bin; $(restic version | cut -d' ' -f1-2); rsync $(rsync --version | head -1 | awk '{print $3}')"

full_h="" full_r="" inc_h="" inc_r="" inc_s=""
for r in $(seq 1 "$rounds"); do
	rm -rf "$tmp/img" "$tmp/old" "$tmp/store" "$tmp/repo"
	make_image "$tmp/img"
	cp "$tmp/img" "$tmp/old"
	restic -r "$tmp/repo" init -q >/dev/null || exit 1

	t0=$(now)
	"$bin" snap create --store "$tmp/store" --volume bench "$tmp/img" \
	    >"$tmp/h1.out" || exit 1
	t1=$(now)
	restic -r "$tmp/repo" backup -q "$tmp/img" >/dev/null || exit 1
	t2=$(now)
	full_h="$full_h $(secs "$t0" "$t1")"
	full_r="$full_r $(secs "$t1" "$t2")"
	store1=$(du_b "$tmp/store") repo1=$(du_b "$tmp/repo")

	change_image "$tmp/img" "$r"
	t0=$(now)
	"$bin" snap create --store "$tmp/store" --volume bench "$tmp/img" \
	    >"$tmp/h2.out" || exit 1
	t1=$(now)
	restic -r "$tmp/repo" backup -q "$tmp/img" >/dev/null || exit 1
	t2=$(now)
	rsync --inplace --no-whole-file --stats "$tmp/img" "$tmp/old" \
	    >"$tmp/rsync.out" || exit 1
	t3=$(now)
	cmp -s "$tmp/img" "$tmp/old" || { echo "rsync copy differs" >&2; exit 1; }
	inc_h="$inc_h $(secs "$t0" "$t1")"
	inc_r="$inc_r $(secs "$t1" "$t2")"
	inc_s="$inc_s $(secs "$t2" "$t3")"
	store2=$(du_b "$tmp/store") repo2=$(du_b "$tmp/repo")
	h_new=$(sed -n 's/.* stored_bytes=\([0-9]*\).*/\1/p' "$tmp/h2.out")
	s_lit=$(sed -n 's/^Literal data: \([0-9,]*\).*/\1/p' "$tmp/rsync.out" | tr -d ,)
	last() { echo "$1" | awk '{ print $NF }'; }
	echo "round $r: full haven $(last "$full_h")s restic $(last "$full_r")s;" \
	    "1% change: haven $(last "$inc_h")s restic $(last "$inc_r")s" \
	    "rsync $(last "$inc_s")s; added: haven $(mib "$h_new")" \
	    "(store +$(mib $((store2 - store1)))), restic +$(mib $((repo2 - repo1))), " \
	    "rsync literal $(mib "$s_lit")"

	# The last round's restore, so the numbers are of a store that works.
	if [ "$r" = "$rounds" ]; then
		id=$(sed -n 's/^snapshot //p' "$tmp/h2.out")
		"$bin" snap restore --store "$tmp/store" "$id" "$tmp/back" \
		    >/dev/null || exit 1
		cmp -s "$tmp/img" "$tmp/back" ||
		    { echo "haven restore differs" >&2; exit 1; }
		rm -f "$tmp/back"
	fi
done

fh=$(echo "$full_h" | median) fr=$(echo "$full_r" | median)
ih=$(echo "$inc_h" | median) ir=$(echo "$inc_r" | median)
is=$(echo "$inc_s" | median)
echo
echo "medians over $rounds rounds (time; ratio below 1 = haven faster):"
printf '  full snapshot      haven %6ss  restic %6ss  ratio haven/restic %s (throughput %sx restic)\n' \
    "$fh" "$fr" "$(ratio "$fh" "$fr")" "$(ratio "$fr" "$fh")"
printf '  after 1%% change    haven %6ss  restic %6ss  rsync %6ss  ratio haven/restic %s, haven/rsync %s\n' \
    "$ih" "$ir" "$is" "$(ratio "$ih" "$ir")" "$(ratio "$ih" "$is")"
printf '  size after both    haven store %s  restic repo %s  ratio %s\n' \
    "$(mib "$store2")" "$(mib "$repo2")" "$(ratio "$store2" "$repo2")"
