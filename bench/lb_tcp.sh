#!/bin/bash
# lb_tcp.sh - L4 bulk throughput, direct, through haven (mode tcp) and
# through HAProxy (mode tcp), one worker each, with two load generators:
#  - pump: one TCP stream of GIB GiB from a Python source into a Python
#    sink (127.0.0.1:9003; haven 8090, HAProxy 8091) that reads to EOF and
#    answers the byte count, so a run is timed from connect to the answer:
#    every byte crossed the proxy and the half-close did too;
#  - iperf3 for SECS seconds (127.0.0.1:9004; haven 8092, HAProxy 8093),
#    client to server and, with -R, server to client.
# The Python sink is slow enough to be the bottleneck and copies every byte
# itself, so it rewards a proxy that hands it cache-warm data; iperf3's C
# endpoints show the proxy's own cost. Both are printed, never one alone.
# Rounds are interleaved; prints median Gbit/s and the ratio to HAProxy.
#
# HAVEN_BASE_BIN: a second haven binary (an older build) run the same way
# on 8094/8096 as target "base", measured in the same rounds.
#
# Usage: bench/lb_tcp.sh    env: ROUNDS (5), GIB (2), SECS (4), HAVEN_BIN,
#                                HAVEN_BASE_BIN
set -u
. "$(dirname "$0")/lb_common.sh"
command -v iperf3 >/dev/null ||
	{ echo "missing iperf3: apt-get install -y iperf3" >&2; exit 2; }
rounds=${ROUNDS:-5}; gib=${GIB:-2}; secs=${SECS:-4}

# sink: one connection at a time, recv_into a 1 MiB buffer, answer count;
# a reset connection is skipped.
cat > "$tmp/pump.py" <<'PY'
import socket
import sys
import time

CHUNK = 1 << 20


def sink(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    buf = memoryview(bytearray(CHUNK))
    while True:
        c, _ = srv.accept()
        n = 0
        # A port probe relayed by HAProxy arrives reset (it aborts its
        # server side with RST): skip it, the sink must outlive it.
        try:
            while True:
                k = c.recv_into(buf)
                if k == 0:
                    break
                n += k
            c.sendall(b"%d\n" % n)
        except OSError:
            pass
        c.close()


def source(port, total):
    data = memoryview(b"\xa5" * CHUNK)
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    left = total
    while left > 0:
        k = min(left, CHUNK)
        s.sendall(data[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    got = int(s.makefile().readline() or 0)
    dt = time.monotonic() - t0
    if got != total:
        sys.exit("sink got %d of %d bytes" % (got, total))
    print("%.3f" % (total * 8 / dt / 1e9))


if sys.argv[1] == "sink":
    sink(int(sys.argv[2]))
else:
    source(int(sys.argv[2]), int(sys.argv[3]))
PY

python3 "$tmp/pump.py" sink 9003 &
lbc_wait_port 9003 || exit 1
iperf3 -s -p 9004 -D --logfile "$tmp/iperf.log" --pidfile "$tmp/iperf.pid" ||
    exit 1
lbc_wait_port 9004 || exit 1
lbc_haproxy_start haproxy-tcp.cfg 8091 || exit 1
lbc_haven_start haven-tcp.yaml 8090 1 || exit 1
targets="direct=9003:9004 haven=8090:8092 haproxy=8091:8093"
if [ -n "${HAVEN_BASE_BIN:-}" ]; then
	mkdir -p "$tmp/base"
	sed -e "s#@DIR@#$tmp/base#g" -e "s#127.0.0.1:8090#127.0.0.1:8094#" \
	    -e "s#127.0.0.1:8092#127.0.0.1:8096#" \
	    "$conf/haven-tcp.yaml" > "$tmp/base/haven.yaml"
	(ulimit -n 65536; exec "$HAVEN_BASE_BIN" run -c "$tmp/base/haven.yaml") \
	    > "$tmp/base/haven.log" 2>&1 &
	lbc_wait_port 8094 || { tail "$tmp/base/haven.log" >&2; exit 1; }
	sleep 2
	targets="$targets base=8094:8096"
fi

# iperf3 Gbit/s as its receiver measured it; $2 -R: server to client.
iperf() {
	timeout 60 iperf3 -c 127.0.0.1 -p "$1" -t "$secs" -J ${2:-} 2>/dev/null |
	    python3 -c 'import json, sys
print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]
                ["bits_per_second"] / 1e9))' 2>/dev/null || echo 0
}

bytes=$((gib * 1024 * 1024 * 1024))
for r in $(seq "$rounds"); do
	for t in $targets; do
		name=${t%%=*}; ports=${t#*=}
		p1=${ports%%:*}; p2=${ports#*:}
		g1=$(timeout 120 python3 "$tmp/pump.py" source "$p1" "$bytes") || g1=0
		g2=$(iperf "$p2")
		g3=$(iperf "$p2" -R)
		echo "round $r $name: pump $g1, iperf3 $g2, iperf3 -R $g3 Gbit/s" >&2
		echo "$name $g1 $g2 $g3" >> "$tmp/results"
	done
done

echo "lb_tcp.sh: medians over $rounds rounds, Gbit/s and ratio to HAProxy"
python3 - "$tmp/results" <<'PY'
import statistics
import sys

cols = ["pump (py sink)", "iperf3", "iperf3 -R"]
rows = {}
for line in open(sys.argv[1]):
    name, *vals = line.split()
    rows.setdefault(name, []).append([float(v) for v in vals])
med = {n: [statistics.median(r[i] for r in rs) for i in range(3)]
       for n, rs in rows.items()}
print("%-8s" % "target" + "".join("%22s" % c for c in cols))
for n in ("direct", "haproxy", "haven", "base"):
    if n not in med:
        continue
    print("%-8s" % n + "".join(
        "%12.2f (%5.2fx)" % (v, v / h if h else 0)
        for v, h in zip(med[n], med["haproxy"])))
PY
