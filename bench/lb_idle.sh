#!/bin/bash
# lb_idle.sh - memory cost of idle keep-alive connections: N (10,000)
# clients each make one request through haven (8080, one lb worker) and
# then stay connected and idle. Prints the lb worker's RSS before, with the
# N connections open, and the cost per connection, plus how many the
# listener reports open (haven_lb_listener_connections). The client is a
# Python asyncio program with RLIMIT_NOFILE raised; haven runs with
# `ulimit -n 65536` (lb_common.sh).
#
# Usage: bench/lb_idle.sh   env: CONNS (10000), HOLD (3 s), HAVEN_BIN
set -u
. "$(dirname "$0")/lb_common.sh"
conns=${CONNS:-10000}; hold=${HOLD:-3}

cat > "$tmp/idle.py" <<'PY'
import asyncio
import resource
import sys

N, HOLD = int(sys.argv[1]), float(sys.argv[2])
REQ = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


async def one(sem, ok):
    async with sem:
        r, w = await asyncio.open_connection("127.0.0.1", 8080)
        w.write(REQ)
        head = await r.readuntil(b"\r\n\r\n")
        n = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                 if ln.lower().startswith(b"content-length")][0])
        await r.readexactly(n)
        ok.append(w)


async def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (N + 1024, N + 1024))
    sem, ok = asyncio.Semaphore(256), []
    res = await asyncio.wait_for(asyncio.gather(
        *(one(sem, ok) for _ in range(N)), return_exceptions=True), 120)
    errs = [e for e in res if isinstance(e, Exception)]
    print("open %d failed %d %s" % (len(ok), len(errs),
                                    repr(errs[0]) if errs else ""),
          flush=True)
    await asyncio.sleep(HOLD)  # the idle period being measured
    for w in ok:
        w.close()


asyncio.run(main())
PY

rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
open_conns() {
	"$HAVEN_BIN" ctl -s "$tmp/haven/haven.sock" GET /metrics |
	    awk '/^haven_lb_listener_connections\{/{s+=$2} END{print s+0}'
}

lbc_backend_start 1 && lbc_backend_start 2 || exit 1
lbc_haven_start haven.yaml 8080 || exit 1
pid=$(lbc_haven_lb_pid)
curl -s -o /dev/null http://127.0.0.1:8080/   # warm: buffers, pools
before=$(rss_kib "$pid")

timeout 200 python3 "$tmp/idle.py" "$conns" "$hold" > "$tmp/idle.out" 2>&1 &
cl=$!
for _ in $(seq 1200); do
	grep -q '^open' "$tmp/idle.out" && break
	kill -0 $cl 2>/dev/null || break
	sleep 0.1
done
sleep 1   # let the last responses' buffers return to the pool
during=$(rss_kib "$pid"); n=$(open_conns)
cat "$tmp/idle.out"
wait $cl
after=$(rss_kib "$pid")

echo "lb_idle.sh: $conns idle keep-alive connections through haven (1 lb worker)"
echo "listener open connections while idle: $n"
echo "lb worker RSS: before ${before} KiB, with connections ${during} KiB, after close ${after} KiB"
python3 -c "print('per connection: %.2f KiB' % ((${during} - ${before}) / max(${n}, 1)))"
