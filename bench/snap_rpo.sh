#!/bin/bash
# snap_rpo.sh - the RPO continuous replication achieves: two `haven run`
# daemons on loopback (A with `snap.volumes`, B a receiver), everything on
# tmpfs, while a writer rewrites 1 % of A's SIZE_MIB image (random 64 KiB
# blocks) every 100 ms.
#
# For each interval in INTERVALS, after a warm-up of two intervals, A's
# measured lag to B (GET /v1/snap, lag_ms: now minus the capture time of
# the newest snapshot B acknowledged) is sampled every 100 ms for SECS
# seconds. Prints the lag's median, p95 and max, the median ship time,
# and max lag / (interval + max ship): the lag's theoretical worst case is
# one interval plus one cycle (capture + ship), so the ratio stays near or
# below 1 unless cycles overrun. There is no anchor here: zrepl or
# sanoid/syncoid would need ZFS, which this kernel does not have.
#
# With STALLED=1 each interval runs twice: B alone, then B plus a second
# peer that stalls (a TCP listener that never accepts: connects succeed,
# nothing is ever answered, as from a stopped daemon), and the lag printed
# is B's both times: what a stalled peer costs a healthy one.
#
# Usage: bench/snap_rpo.sh   env: HAVEN_BIN (build-bench/haven, else
#                                 build/haven), SIZE_MIB (64),
#                                 INTERVALS ("1s 2s"), SECS (20),
#                                 STALLED (0)
# Needs: python3.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/snap_common.sh"
bin=${HAVEN_BIN:-$here/../build-bench/haven}
[ -x "$bin" ] || bin=$here/../build/haven
size_mib=${SIZE_MIB:-64}
intervals=${INTERVALS:-"1s 2s"}
secs=${SECS:-20}
stalled=${STALLED:-0}
port=17412

[ -x "$bin" ] || { echo "snap_rpo.sh: no haven binary at $bin" >&2; exit 1; }
dir=$(mktemp -d /dev/shm/haven-snaprpo-bench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

snap_psk "$dir/psk"
snap_image "$dir/img" "$size_mib" random

cat >"$dir/b.yaml" <<EOF
haven:
  state_dir: $dir/state-b
  user: root
api:
  socket: $dir/b.sock
snap:
  listen: 127.0.0.1:$port
  store: $dir/dst
  psk_file: $dir/psk
EOF
"$bin" run -c "$dir/b.yaml" >"$dir/b.log" 2>&1 &
pids="$pids $!"

# The writer: 1 % of the image rewritten every 100 ms, until killed.
python3 - "$dir/img" "$size_mib" <<'EOF' &
import os, random, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
blocks = (int(sys.argv[2]) << 20) // 65536
rng = random.Random(1)
while True:
    for _ in range(max(1, blocks // 100)):
        os.pwrite(fd, rng.randbytes(65536), rng.randrange(blocks) * 65536)
    time.sleep(0.1)
EOF
pids="$pids $!"

if [ "$stalled" = 1 ]; then
	# The stalled peer: listens (the kernel completes the handshakes into
	# its backlog) and never accepts or reads.
	python3 - "$((port + 1))" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    time.sleep(3600)
EOF
	pids="$pids $!"
	modes="alone stalled"
else
	modes="alone"
fi

for run in $(for iv in $intervals; do for m in $modes; do
	echo "$iv/$m"; done; done); do
	iv=${run%/*}
	mode=${run#*/}
	# A volume of its own per run: B keeps the last run's snapshots, of
	# another lineage, which it would refuse as diverged.
	nrun=$((${nrun:-0} + 1))
	peers="\"127.0.0.1:$port\""
	[ "$mode" = stalled ] && peers="$peers, \"127.0.0.1:$((port + 1))\""
	rm -rf "$dir/src" "$dir/state-a" "$dir/a.sock"
	cat >"$dir/a.yaml" <<EOF
haven:
  state_dir: $dir/state-a
  user: root
api:
  socket: $dir/a.sock
snap:
  store: $dir/src
  psk_file: $dir/psk
  volumes:
    - name: vm$nrun
      source: $dir/img
      interval: $iv
      keep: 3
      peers: [$peers]
EOF
	"$bin" run -c "$dir/a.yaml" >"$dir/a.log" 2>&1 &
	apid=$!
	pids="$pids $apid"
	python3 - "$dir/a.sock" "$iv" "$secs" "$mode" <<'EOF'
import json, socket, statistics, sys, time
sock, iv, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
mode = sys.argv[4]
ivs = float(iv[:-2]) / 1000 if iv.endswith("ms") else float(iv[:-1])

def get():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(b"GET /v1/snap HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    v = json.loads(data.split(b"\r\n\r\n", 1)[1])["continuous"][0]
    return v, v["peers"][0]

t0 = time.time()
while True:
    try:
        v, p = get()
        if p["ok"] >= 1:
            break
    except (OSError, ValueError, KeyError, IndexError):
        pass
    if time.time() - t0 > 120:
        sys.exit("snap_rpo.sh: no snapshot acknowledged in 120 s")
    time.sleep(0.1)
time.sleep(2 * ivs)
lags, ships = [], []
t_end = time.time() + secs
while time.time() < t_end:
    v, p = get()
    lags.append(p["lag_ms"] / 1000)
    ships.append(p["ship_ms"] / 1000)
    time.sleep(0.1)
lags.sort()
worst = ivs + max(ships)
skipped = sum(q.get("skipped", 0) for q in v["peers"][1:])
print("%-7s " % mode, end="")
print("interval %-5s lag median %.3f s  p95 %.3f s  max %.3f s  "
      "ship median %.3f s  max/(interval+ship) %.2f  cycles %s "
      "overruns %d" % (iv, statistics.median(lags),
                       lags[int(0.95 * (len(lags) - 1))], lags[-1],
                       statistics.median(ships), lags[-1] / worst,
                       v["results"], v["overruns"]))
if mode == "stalled":
    print("        stalled peer: %d snapshots skipped, last error %r"
          % (skipped, v["peers"][1]["last_error"]))
EOF
	kill "$apid"
	wait "$apid" 2>/dev/null
	pids=${pids/ $apid/}
done
