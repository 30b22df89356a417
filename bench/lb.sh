#!/bin/bash
# lb.sh - HTTP/1.1 keep-alive throughput and latency on loopback, haven side
# by side with HAProxy and nginx (the anchors of bench/lb/, copied from the
# shared benchmark so the repo runs them on its own). Two nginx backends on
# 9001/9002; HAProxy on 8081, nginx proxy on 8082, haven on 8080, each
# proxy with one worker. wrk hits: the backend directly, HAProxy, nginx,
# haven; rounds are interleaved so drift hits everyone alike. Prints median
# req/s and p99 per target with the ratio to HAProxy (req/s: higher is
# better; p99: lower is better) and any error counts wrk saw.
#
# HAVEN_BASE_BIN: a second haven binary (an older build) run the same way on
# 8083 as target "base", so a change is measured against what it replaces in
# the same run.
#
# Usage: bench/lb.sh     env: ROUNDS (3), SECS (6), CONNS (64), HAVEN_BIN,
#                             HAVEN_BASE_BIN
set -u
. "$(dirname "$0")/lb_common.sh"
rounds=${ROUNDS:-3}; secs=${SECS:-6}; conns=${CONNS:-64}

lbc_backend_start 1 && lbc_backend_start 2 || exit 1
lbc_haproxy_start || exit 1
lbc_nginxproxy_start || exit 1
lbc_haven_start haven.yaml 8080 || exit 1

targets="direct=9001 haproxy=8081 nginx=8082 haven=8080"
if [ -n "${HAVEN_BASE_BIN:-}" ]; then
	mkdir -p "$tmp/base"
	sed -e "s#@DIR@#$tmp/base#g" -e "s#127.0.0.1:8080#127.0.0.1:8083#" \
	    "$conf/haven.yaml" > "$tmp/base/haven.yaml"
	(ulimit -n 65536; exec "$HAVEN_BASE_BIN" run -c "$tmp/base/haven.yaml") \
	    > "$tmp/base/haven.log" 2>&1 &
	lbc_wait_port 8083 || { tail "$tmp/base/haven.log" >&2; exit 1; }
	sleep 3 # its servers pass their first checks
	targets="$targets base=8083"
fi
for r in $(seq "$rounds"); do
	for t in $targets; do
		name=${t%%=*}; port=${t#*=}
		timeout $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" --latency \
		    "http://127.0.0.1:$port/" > "$tmp/out" 2>&1
		rps=$(awk '/Requests\/sec/{print $2}' "$tmp/out")
		p99=$(awk '$1=="99%"{print $2}' "$tmp/out")
		err=$(awk '/Socket errors|Non-2xx/{s=s" "$0} END{print s}' "$tmp/out")
		echo "$name ${rps:-0} ${p99:-0us} $err" >> "$tmp/results"
		echo "round $r $name: ${rps:-0} req/s p99 ${p99:-?} $err" >&2
	done
done

python3 - "$tmp/results" "$rounds" "$secs" "$conns" <<'PY'
import re
import statistics
import sys


def us(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)] \
        if m else float("nan")


rows = {}
for line in open(sys.argv[1]):
    parts = line.split(None, 3)
    rows.setdefault(parts[0], []).append(
        (float(parts[1]), us(parts[2]), parts[3].strip() if len(parts) > 3
         else ""))
med = {n: (statistics.median(r[0] for r in rs),
           statistics.median(r[1] for r in rs)) for n, rs in rows.items()}
base_rps, base_p99 = med["haproxy"]
print("lb.sh: %s rounds x %ss, wrk -t1 -c%s, medians" % tuple(sys.argv[2:5]))
print("%-8s %12s %12s %14s %14s  errors" % (
    "target", "req/s", "p99 us", "req/s/haproxy", "p99/haproxy"))
for name, rs in rows.items():
    rps, p99 = med[name]
    errs = "; ".join(sorted(set(r[2] for r in rs if r[2])))
    print("%-8s %12.0f %12.0f %14.2f %14.2f  %s" % (
        name, rps, p99, rps / base_rps, p99 / base_p99, errs))
PY
