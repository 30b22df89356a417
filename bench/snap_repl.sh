#!/bin/bash
# snap_repl.sh - snapshot replication, `haven snap replicate` into a
# `haven run` snap plane next to an rsync daemon, same image, same run,
# over loopback, everything on tmpfs.
#
# The image is SIZE_MIB of random data. Each round:
#   1. full: replicate the first snapshot to a fresh receiver store vs
#      `rsync --whole-file` of the image to a fresh rsync module;
#   2. 1 % change: 100 in-place overwrites of SIZE/10000 bytes at random
#      offsets, a new (incremental) snapshot, then replicate it vs
#      `rsync --inplace --no-whole-file --ignore-times` of the changed image
#      onto the copy (without -I, a copy made in the same second is skipped).
# Prints medians of the times, the ratios (below 1: haven is faster) and
# the bytes on the wire for the 1 % change. haven encrypts and
# authenticates every byte (XChaCha20-Poly1305) and hashes each chunk on
# both ends; the rsync daemon protocol does neither: read the full-copy
# ratio with that in mind. The time of `haven snap create` is not counted
# (bench/snap.sh measures it).
#
# Usage: bench/snap_repl.sh   env: HAVEN_BIN (build-bench/haven, else
#                                  build/haven), SIZE_MIB (256), ROUNDS (3)
# Needs: rsync python3.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/snap_common.sh"
bin=${HAVEN_BIN:-$here/../build-bench/haven}
[ -x "$bin" ] || bin=$here/../build/haven
size_mib=${SIZE_MIB:-256}
rounds=${ROUNDS:-3}
hport=17411
rport=17873

for c in rsync python3; do
	command -v $c >/dev/null || { echo "snap_repl.sh: needs $c" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "snap_repl.sh: no haven binary at $bin" >&2; exit 1; }

dir=$(mktemp -d /dev/shm/haven-snaprepl-bench.XXXXXX)
hpid=""
rpid=""
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

snap_psk "$dir/psk"
mkdir -p "$dir/dst" "$dir/rdst"
# The plane runs as haven.user; root keeps the bench free of chowns.
cat >"$dir/haven.yaml" <<EOF
haven:
  state_dir: $dir/state
  user: root
api:
  socket: $dir/haven.sock
snap:
  listen: 127.0.0.1:$hport
  store: $dir/dst
  psk_file: $dir/psk
EOF
cat >"$dir/rsyncd.conf" <<EOF
pid file = $dir/rsyncd.pid
use chroot = false
uid = $(id -u)
gid = $(id -g)
[m]
  path = $dir/rdst
  read only = false
EOF
"$bin" run -c "$dir/haven.yaml" >"$dir/haven.log" 2>&1 &
hpid=$!
rsync --daemon --no-detach --port=$rport --config="$dir/rsyncd.conf" \
	>"$dir/rsyncd.log" 2>&1 &
rpid=$!
for _ in $(seq 50); do
	[ -S "$dir/haven.sock" ] && break
	sleep 0.1
done


replicate() {
	"$bin" snap replicate --store "$dir/src" --to 127.0.0.1:$hport \
		--psk-file "$dir/psk" vm1
}

declare -a hf hi rf ri hw rw
for r in $(seq "$rounds"); do
	rm -rf "$dir/src" "$dir/dst"/* "$dir/rdst"/*
	snap_image "$dir/img" "$size_mib" random
	"$bin" snap create --store "$dir/src" --volume vm1 "$dir/img" >/dev/null
	t0=$(now)
	replicate >/dev/null || { echo "replicate failed" >&2; exit 1; }
	t1=$(now)
	rsync --whole-file "$dir/img" rsync://127.0.0.1:$rport/m/img
	t2=$(now)
	hf+=("$(elapsed "$t0" "$t1")")
	rf+=("$(elapsed "$t1" "$t2")")

	snap_change "$dir/img" "$r"
	"$bin" snap create --store "$dir/src" --volume vm1 "$dir/img" >/dev/null
	t0=$(now)
	out=$(replicate) || { echo "replicate failed" >&2; exit 1; }
	t1=$(now)
	rout=$(rsync --inplace --no-whole-file --ignore-times --stats "$dir/img" \
		rsync://127.0.0.1:$rport/m/img)
	t2=$(now)
	hi+=("$(elapsed "$t0" "$t1")")
	ri+=("$(elapsed "$t1" "$t2")")
	hw+=("$(sed -n 's/.* wire=\([0-9]*\) .*/\1/p' <<<"$out")")
	rw+=("$(sed -n 's/^Total bytes sent: \([0-9,]*\).*/\1/p' <<<"$rout" |
		tr -d ,)")
	cmp -s "$dir/img" "$dir/rdst/img" || { echo "rsync copy differs" >&2; exit 1; }
done

python3 - "$size_mib" "${hf[*]}" "${rf[*]}" "${hi[*]}" "${ri[*]}" \
	"${hw[*]}" "${rw[*]}" <<'EOF'
import statistics as st, sys
size = int(sys.argv[1])
hf, rf, hi, ri, hw, rw = ([float(x) for x in a.split()] for a in sys.argv[2:8])
m = st.median
print("snap_repl: %d MiB image, %d rounds, medians" % (size, len(hf)))
print("  full copy      haven %.3f s (%.0f MB/s)  rsync daemon %.3f s  "
      "ratio %.2f" % (m(hf), size * 1.048576 / m(hf), m(rf), m(hf) / m(rf)))
print("  1 %% change     haven %.3f s  rsync --no-whole-file %.3f s  "
      "ratio %.2f" % (m(hi), m(ri), m(hi) / m(ri)))
print("  wire bytes     haven %.1f MiB  rsync %.1f MiB  ratio %.2f"
      % (m(hw) / 2**20, m(rw) / 2**20, m(hw) / m(rw)))
EOF
