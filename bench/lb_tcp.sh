#!/bin/bash
# lb_tcp.sh - L4 bulk throughput: one TCP stream of GIB GiB from a source
# to a byte sink (127.0.0.1:9003), direct, through haven (mode tcp, 8090)
# and through HAProxy (mode tcp, 8091), one worker each. The sink reads to
# EOF and answers the byte count, so a run is timed from connect to the
# sink's answer: every byte crossed the proxy and the half-close did too.
# Rounds are interleaved; prints median Gbit/s and haven/HAProxy.
#
# Usage: bench/lb_tcp.sh    env: ROUNDS (5), GIB (2), HAVEN_BIN
set -u
. "$(dirname "$0")/lb_common.sh"
rounds=${ROUNDS:-5}; gib=${GIB:-2}

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
lbc_haproxy_start haproxy-tcp.cfg 8091 || exit 1
lbc_haven_start haven-tcp.yaml 8090 1 || exit 1

bytes=$((gib * 1024 * 1024 * 1024))
for r in $(seq "$rounds"); do
	for t in direct=9003 haven=8090 haproxy=8091; do
		name=${t%%=*}; port=${t#*=}
		gbps=$(timeout 120 python3 "$tmp/pump.py" source "$port" "$bytes") || gbps=0
		echo "round $r $name: $gbps Gbit/s" >&2
		echo "$name $gbps" >> "$tmp/results"
	done
done

echo "lb_tcp.sh: one stream of $gib GiB, medians over $rounds rounds"
hap=$(awk '$1=="haproxy"{print $2}' "$tmp/results" | lbc_median)
printf "%-8s %10s %12s\n" target Gbit/s vs_haproxy
for n in direct haproxy haven; do
	v=$(awk -v n=$n '$1==n{print $2}' "$tmp/results" | lbc_median)
	printf "%-8s %10.2f %12.2f\n" $n "$v" "$(python3 -c "print($v / $hap if $hap else 0)")"
done
