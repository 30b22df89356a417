#!/bin/bash
# snap_failover.sh - failover and failback of a replicated image between two
# `haven run` snap planes (nodes A and B) on loopback, everything on tmpfs,
# next to the anchors an operator would use without haven: restic (restore
# the newest backup on the standby) and rsync (resync the old primary).
#
# Each round, with a SIZE_MIB image of random data on A, snapshotted and
# replicated to B:
#   1. failover: `haven snap promote --to IMAGE` on B (the newest complete
#      snapshot becomes B's live image, a new generation) vs `restic
#      restore latest` of the same image from a repository on B's side;
#      and the same with a standby image: volume `warm` (the same data) is
#      received by B with `snap.standby`, which keeps B's warm.img at its
#      newest snapshot as snapshots arrive; its promote --to warm.img has
#      nothing left to write;
#   2. B writes 1 % (100 scattered writes) and snapshots; A is demoted with
#      its image (a final snapshot: nothing it wrote is lost); then
#      reprotect: `haven snap reprotect` B -> A (only the chunks A lacks
#      travel) vs `rsync --inplace --no-whole-file` of B's image onto A's,
#      time and bytes on the wire;
#   3. planned failback: demote B with its image, replicate to A, promote
#      A onto its old image (only the chunks that differ are written; with
#      INPLACE=1 into the image itself, else into a copy renamed over it):
#      the whole switch back.
# Prints medians and ratios (below 1: haven is faster or sends less).
#
# Usage: bench/snap_failover.sh   env: HAVEN_BIN (build-bench/haven, else
#                                 build/haven), SIZE_MIB (1024), ROUNDS (3),
#                                 INPLACE (0; 1: promote --inplace)
# Needs: restic rsync python3 (scripts/deps.sh bench).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/snap_common.sh"
bin=${HAVEN_BIN:-$here/../build-bench/haven}
[ -x "$bin" ] || bin=$here/../build/haven
size_mib=${SIZE_MIB:-1024}
rounds=${ROUNDS:-3}
inplace=""
[ "${INPLACE:-0}" = 1 ] && inplace=--inplace
port_a=17421
port_b=17422
rport=17874

for c in restic rsync python3; do
	command -v $c >/dev/null ||
		{ echo "snap_failover.sh: needs $c" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "snap_failover.sh: no haven binary at $bin" >&2; exit 1; }

dir=$(mktemp -d /dev/shm/haven-snapfo-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT
export RESTIC_PASSWORD=bench RESTIC_CACHE_DIR=$dir/restic-cache

snap_psk "$dir/psk"
for n in a b; do
	mkdir -p "$dir/$n"
	port=$([ $n = a ] && echo $port_a || echo $port_b)
	# The planes run as root: the bench needs no chown.
	cat >"$dir/$n.yaml" <<EOF
haven:
  state_dir: $dir/$n/state
  user: root
api:
  socket: $dir/$n/haven.sock
snap:
  listen: 127.0.0.1:$port
  store: $dir/$n/store
  psk_file: $dir/psk
  standby:
    - volume: warm
      image: $dir/$n/warm.img
EOF
	"$bin" run -c "$dir/$n.yaml" >"$dir/$n.log" 2>&1 &
	pids+=($!)
done
cat >"$dir/rsyncd.conf" <<EOF
pid file = $dir/rsyncd.pid
use chroot = false
uid = $(id -u)
gid = $(id -g)
[a]
  path = $dir/rsync-a
  read only = false
EOF
mkdir -p "$dir/rsync-a"
rsync --daemon --no-detach --port=$rport --config="$dir/rsyncd.conf" \
	>"$dir/rsyncd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	[ -S "$dir/a/haven.sock" ] && [ -S "$dir/b/haven.sock" ] && break
	sleep 0.1
done

hs() { "$bin" snap "$1" --store "$dir/$2/store" "${@:3}"; }
send() { # send CMD FROM TO [extra]
	hs "$1" "$2" --to 127.0.0.1:$([ "$3" = a ] && echo $port_a ||
		echo $port_b) --psk-file "$dir/psk" "${@:4}" data
}

declare -a fo_h fo_r fo_w rp_h rp_r rp_hw rp_rw fb
for r in $(seq "$rounds"); do
	rm -rf "$dir"/a/store/* "$dir"/b/store/* "$dir/repo" "$dir"/rsync-a/*
	rm -rf "$dir"/a/img "$dir"/b/img "$dir"/b/restic
	snap_image "$dir/a/img" "$size_mib" random
	rm -f "$dir"/b/warm.img
	hs create a --volume data "$dir/a/img" >/dev/null || exit 1
	send replicate a b >/dev/null || { echo "replicate failed" >&2; exit 1; }
	hs create a --volume warm "$dir/a/img" >/dev/null || exit 1
	hs replicate a --to 127.0.0.1:$port_b --psk-file "$dir/psk" warm \
		>/dev/null || { echo "replicate failed" >&2; exit 1; }
	restic -r "$dir/repo" init -q >/dev/null || exit 1
	restic -r "$dir/repo" backup -q "$dir/a/img" >/dev/null || exit 1
	cp "$dir/a/img" "$dir/rsync-a/img" # A's image, as rsync sees it

	# 1. failover to B
	t0=$(now)
	hs promote b --to "$dir/b/img" data >/dev/null ||
		{ echo "promote failed" >&2; exit 1; }
	t1=$(now)
	restic -r "$dir/repo" restore -q latest --target "$dir/b/restic" \
		>/dev/null || exit 1
	t2=$(now)
	fo_h+=("$(elapsed "$t0" "$t1")")
	fo_r+=("$(elapsed "$t1" "$t2")")
	cmp -s "$dir/a/img" "$dir/b/img" || { echo "promoted image differs" >&2; exit 1; }
	# The plane applies in the background: fail over from a current one.
	for _ in $(seq 600); do
		"$bin" status -s "$dir/b/haven.sock" 2>/dev/null |
			grep -q "standby warm -> .*: at the head" && break
		sleep 0.1
	done
	t0=$(now)
	out=$(hs promote b --to "$dir/b/warm.img" warm) ||
		{ echo "promote failed" >&2; exit 1; }
	t1=$(now)
	grep -q "wrote 0 (the standby image was at the snapshot" <<<"$out" ||
		{ echo "standby image not used: $out" >&2; exit 1; }
	fo_w+=("$(elapsed "$t0" "$t1")")
	cmp -s "$dir/a/img" "$dir/b/warm.img" || { echo "standby image differs" >&2; exit 1; }

	# 2. B writes, A comes back as a replica, B reprotects it
	snap_change "$dir/b/img" "$r"
	hs create b --volume data "$dir/b/img" >/dev/null || exit 1
	hs demote a --from "$dir/a/img" data >/dev/null || exit 1
	t0=$(now)
	out=$(send reprotect b a) || { echo "reprotect failed" >&2; exit 1; }
	t1=$(now)
	rout=$(rsync --inplace --no-whole-file --ignore-times --stats \
		"$dir/b/img" rsync://127.0.0.1:$rport/a/img)
	t2=$(now)
	rp_h+=("$(elapsed "$t0" "$t1")")
	rp_r+=("$(elapsed "$t1" "$t2")")
	rp_hw+=("$(sed -n 's/.* wire=\([0-9]*\) .*/\1/p' <<<"$out")")
	rp_rw+=("$(sed -n 's/^Total bytes sent: \([0-9,]*\).*/\1/p' <<<"$rout" |
		tr -d ,)")

	# 3. planned failback to A
	t0=$(now)
	hs demote b --from "$dir/b/img" data >/dev/null || exit 1
	send replicate b a >/dev/null || exit 1
	hs promote a --to "$dir/a/img" $inplace data >/dev/null || exit 1
	t1=$(now)
	fb+=("$(elapsed "$t0" "$t1")")
	cmp -s "$dir/a/img" "$dir/b/img" || { echo "failback image differs" >&2; exit 1; }
	echo "round $r: failover haven $(elapsed 0 "${fo_h[-1]}")s restic" \
		"$(elapsed 0 "${fo_r[-1]}")s standby ${fo_w[-1]}s; reprotect haven ${rp_h[-1]}s" \
		"rsync ${rp_r[-1]}s; failback ${fb[-1]}s" >&2
done

python3 - "$size_mib" "${fo_h[*]}" "${fo_r[*]}" "${rp_h[*]}" "${rp_r[*]}" \
	"${rp_hw[*]}" "${rp_rw[*]}" "${fb[*]}" "${inplace:+ $inplace}" \
	"${fo_w[*]}" <<'EOF'
import statistics as st, sys
size = int(sys.argv[1])
fh, fr, rh, rr, hw, rw, fb = ([float(x) for x in a.split()]
                              for a in sys.argv[2:9])
m = st.median
print("snap_failover: %d MiB image, %d rounds, medians" % (size, len(fh)))
print("  failover (promote --to)  haven %.3f s  restic restore %.3f s  "
      "ratio %.2f" % (m(fh), m(fr), m(fh) / m(fr)))
fw = [float(x) for x in sys.argv[10].split()]
print("  failover, standby image  haven %.3f s  restic restore %.3f s  "
      "ratio %.3f" % (m(fw), m(fr), m(fw) / m(fr)))
print("  reprotect after 1 %%      haven %.3f s  rsync delta %.3f s  "
      "ratio %.2f" % (m(rh), m(rr), m(rh) / m(rr)))
print("  reprotect wire bytes     haven %.1f MiB  rsync %.1f MiB  ratio %.2f"
      % (m(hw) / 2**20, m(rw) / 2**20, m(hw) / m(rw)))
print("  planned failback         haven %.3f s (demote + replicate + "
      "promote%s)" % (m(fb), sys.argv[9]))
EOF
