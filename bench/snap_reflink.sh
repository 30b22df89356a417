#!/bin/bash
# snap_reflink.sh - incremental snapshots by change detection: haven with
# --detect reflink and with --detect rescan, next to restic and rsync, on
# the same 1 GiB image in one run. The image lives on a loop-mounted XFS
# (mkfs.xfs -m reflink=1) whose backing file is on tmpfs (/dev/shm); the
# stores, the restic repository and the receiver are on tmpfs.
#
# The image is SIZE_MIB of data where every fourth MiB is zeros and the
# rest is random (as bench/snap.sh). Each round, with fresh stores:
#   1. full snapshot of the image into two stores (one per method) and a
#      restic repository, each replicated once to a `haven run` snap plane
#      (volumes rl and rs), and an rsync copy of the image on the same XFS;
#   2. 1 % change: 100 in-place overwrites of SIZE/10000 bytes at random
#      offsets, then, timed: `snap create --detect reflink` and its
#      `snap replicate`; `snap create --detect rescan` and its replicate;
#      restic's second backup; `rsync --inplace --no-whole-file` of the
#      changed image onto the copy.
# The two haven manifests must have the same root hash (the reflink one is
# not allowed to be wrong to be fast), and the last round's reflink
# snapshot is restored and compared with the image.
# Prints medians, ratios (below 1: the first is faster) and how many chunks
# the reflink pass read vs reused. The issue 12 target: create + ship of
# a 1 % change of 1 GiB under 0.5 s with reflinks, under 1.5 s by rescan.
#
# Usage: bench/snap_reflink.sh   env: HAVEN_BIN (build-bench/haven, else
#                                 build/haven), SIZE_MIB (1024), ROUNDS (3)
# Needs: root (loop mount), xfsprogs, restic, rsync, python3.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/snap_common.sh"
bin=${HAVEN_BIN:-$here/../build-bench/haven}
[ -x "$bin" ] || bin=$here/../build/haven
size_mib=${SIZE_MIB:-1024}
rounds=${ROUNDS:-3}
hport=17419

for c in restic rsync python3 mkfs.xfs; do
	command -v $c >/dev/null || { echo "snap_reflink.sh: needs $c" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "snap_reflink.sh: no haven binary at $bin" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "snap_reflink.sh: needs root (loop mount)" >&2; exit 1; }

dir=$(mktemp -d /dev/shm/haven-reflink-bench.XXXXXX)
mnt=$dir/mnt
hpid=""
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
	mountpoint -q "$mnt" && { umount "$mnt" || umount -l "$mnt"; }
	rm -rf "$dir"
}
trap cleanup EXIT
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$dir/restic-cache

mkdir -p "$mnt" "$dir/dst"
truncate -s $((size_mib * 4 + 512))M "$dir/xfs.img"
mkfs.xfs -q -m reflink=1 "$dir/xfs.img" || exit 1
mount -o loop "$dir/xfs.img" "$mnt" || { echo "snap_reflink.sh: loop mount failed" >&2; exit 1; }

snap_psk "$dir/psk"
cat >"$dir/haven.yaml" <<YAML
haven:
  state_dir: $dir/state
  user: root
api:
  socket: $dir/haven.sock
snap:
  listen: 127.0.0.1:$hport
  store: $dir/dst
  psk_file: $dir/psk
YAML
"$bin" run -c "$dir/haven.yaml" >"$dir/haven.log" 2>&1 &
hpid=$!
for _ in $(seq 50); do
	[ -S "$dir/haven.sock" ] && break
	sleep 0.1
done

create() { # STORE VOLUME METHOD
	"$bin" snap create --store "$1" --volume "$2" --detect "$3" "$mnt/img"
}
replicate() { # STORE VOLUME
	"$bin" snap replicate --store "$1" --to 127.0.0.1:$hport \
		--psk-file "$dir/psk" "$2"
}
root_of() { # STORE NAME
	sed -n 's/^root //p' "$1/snapshots/$2"
}

echo "bench/snap_reflink.sh: ${size_mib} MiB image (3/4 random, 1/4 zero) on XFS (reflink=1) on a loop file on tmpfs, $rounds rounds"
echo "haven: $bin; $(restic version | cut -d' ' -f1-2); rsync $(rsync --version | head -1 | awk '{print $3}'); $(uname -r)"

declare -a cl cs sl ss rr rs rd
for r in $(seq "$rounds"); do
	rm -rf "$dir/a" "$dir/b" "$dir/repo" "$dir/dst"/* "$mnt"/img "$mnt"/old \
		"$mnt"/.haven-snap
	snap_image "$mnt/img" "$size_mib"
	cp --reflink=never "$mnt/img" "$mnt/old"
	create "$dir/a" rl reflink >/dev/null || exit 1
	create "$dir/b" rs rescan >/dev/null || exit 1
	replicate "$dir/a" rl >/dev/null || { echo "replicate failed" >&2; exit 1; }
	replicate "$dir/b" rs >/dev/null || { echo "replicate failed" >&2; exit 1; }
	restic -r "$dir/repo" init -q >/dev/null || exit 1
	restic -r "$dir/repo" backup -q "$mnt/img" >/dev/null || exit 1
	sync

	snap_change "$mnt/img" "$r"
	# Odd rounds reflink first, even rounds rescan first: neither always
	# pays for the other's leftovers (XFS writeback of the loop device).
	sync
	if [ $((r % 2)) = 1 ]; then
		t0=$(now)
		outa=$(create "$dir/a" rl reflink) || exit 1
		t1=$(now)
		replicate "$dir/a" rl >/dev/null || { echo "replicate failed" >&2; exit 1; }
		t2=$(now)
		outb=$(create "$dir/b" rs rescan) || exit 1
		t3=$(now)
		replicate "$dir/b" rs >/dev/null || { echo "replicate failed" >&2; exit 1; }
		t4=$(now)
	else
		t2=$(now)
		outb=$(create "$dir/b" rs rescan) || exit 1
		t3=$(now)
		replicate "$dir/b" rs >/dev/null || { echo "replicate failed" >&2; exit 1; }
		t0=$(now)
		outa=$(create "$dir/a" rl reflink) || exit 1
		t1=$(now)
		replicate "$dir/a" rl >/dev/null || { echo "replicate failed" >&2; exit 1; }
		t4=$(now)
	fi
	restic -r "$dir/repo" backup -q "$mnt/img" >/dev/null || exit 1
	t5=$(now)
	rsync --inplace --no-whole-file "$mnt/img" "$mnt/old" || exit 1
	t6=$(now)
	cmp -s "$mnt/img" "$mnt/old" || { echo "rsync copy differs" >&2; exit 1; }
	ida=$(sed -n 's/^snapshot //p' <<<"$outa")
	idb=$(sed -n 's/^snapshot //p' <<<"$outb")
	grep -q ' detect=reflink ' <<<"$outa" ||
		{ echo "reflink was not used: $outa" >&2; exit 1; }
	[ "$(root_of "$dir/a" "$ida")" = "$(root_of "$dir/b" "$idb")" ] ||
		{ echo "reflink and rescan manifests differ" >&2; exit 1; }
	cl+=("$(elapsed "$t0" "$t1")")
	cs+=("$(elapsed "$t2" "$t3")")
	if [ $((r % 2)) = 1 ]; then
		sl+=("$(elapsed "$t1" "$t2")")
		ss+=("$(elapsed "$t3" "$t4")")
	else
		sl+=("$(elapsed "$t1" "$t4")")
		ss+=("$(elapsed "$t3" "$t0")")
	fi
	rr+=("$(elapsed "$t4" "$t5")")
	rs+=("$(elapsed "$t5" "$t6")")
	rd+=("$(sed -n 's/.* read_chunks=\([0-9]*\) reused=\([0-9]*\) .*/\1\/\2/p' <<<"$outa" | tail -1)")
	echo "round $r: reflink create ${cl[-1]}s + ship ${sl[-1]}s (read/reused ${rd[-1]});" \
	    "rescan create ${cs[-1]}s + ship ${ss[-1]}s; restic ${rr[-1]}s; rsync ${rs[-1]}s"
	if [ "$r" = "$rounds" ]; then
		"$bin" snap restore --store "$dir/a" "$ida" "$dir/back" >/dev/null || exit 1
		cmp -s "$mnt/img" "$dir/back" || { echo "haven restore differs" >&2; exit 1; }
		rm -f "$dir/back"
	fi
done

python3 - "$size_mib" "${cl[*]}" "${sl[*]}" "${cs[*]}" "${ss[*]}" \
	"${rr[*]}" "${rs[*]}" "${rd[-1]}" <<'PY'
import statistics as st, sys
size = int(sys.argv[1])
cl, sl, cs, ss, rr, rs = ([float(x) for x in a.split()] for a in sys.argv[2:8])
m = st.median
tl, ts = m([a + b for a, b in zip(cl, sl)]), m([a + b for a, b in zip(cs, ss)])
print("\nmedians over %d rounds, %d MiB image, 1 %% changed (ratio below 1 = "
      "the first is faster):" % (len(cl), size))
print("  create   reflink %.3f s  rescan %.3f s  restic %.3f s  rsync %.3f s"
      % (m(cl), m(cs), m(rr), m(rs)))
print("  ship     reflink %.3f s  rescan %.3f s (same chunks: same work)"
      % (m(sl), m(ss)))
print("  create+ship  reflink %.3f s (target < 0.5)  rescan %.3f s "
      "(target < 1.5)" % (tl, ts))
print("  ratios   reflink/rescan %.2f  reflink/restic %.2f  reflink/rsync "
      "%.2f  rescan/restic %.2f  rescan/rsync %.2f (create only)"
      % (m(cl) / m(cs), m(cl) / m(rr), m(cl) / m(rs), m(cs) / m(rr),
         m(cs) / m(rs)))
print("  reflink pass, last round: chunks read/reused %s" % sys.argv[8])
PY
