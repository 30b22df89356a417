#!/bin/bash
# dns_xdp.sh - the XDP fast path (dns.xdp) against gdnsd and haven's socket
# path, in one run, across a veth pair between two network namespaces
# (AF_XDP replies on lo are martian without sysctls haven does not change:
# README "XDP fast path"):
#
#     cli ns 198.18.0.2/24 --- veth --- srv ns 198.18.0.1/24
#       dnsperf                           gdnsd        198.18.0.1:5301
#                                         haven        198.18.0.1:5302 (sockets)
#                                         haven-xdp    198.18.0.1:5303 (dns.xdp)
#
# dnsperf (one thread, -c 4, -l SECS) in cli against each, rounds
# interleaved; haven-xdp runs only during its own rounds, so the other two
# never pay for an XDP program on the interface. The query mix and gdnsd's
# config are the anchor's (../shared/bench/dns, bench/dns/): the GSLB name
# www.example.com, a static name and NXDOMAINs, one third each; the health
# checks' backends (tcp 9001 on 127.0.0.1 and 127.0.0.2) run in srv.
# Prints per target the median qps, the server's CPU per answered query
# (user + system of the serving process from /proc; for haven its dns
# worker), the client's, and the whole machine's (busy time of /proc/stat
# over answered queries: it also counts softirq work charged to nobody),
# and the ratios to gdnsd.
#
# Usage: bench/dns_xdp.sh   env: HAVEN_BIN (build-bench/haven), ROUNDS (3),
#                                SECS (5)
# Needs root, gdnsd, dnsperf, python3-dnspython, a kernel with AF_XDP.
# Everything started (processes, namespaces) is removed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build-bench/haven}
rounds=${ROUNDS:-3}
secs=${SECS:-5}
py=/usr/bin/python3
srv=hvb$$-srv
cli=hvb$$-cli
tmp=$(mktemp -d /tmp/bench-dns-xdp.XXXXXX)
chmod 755 "$tmp"
pids=""

[ "$(id -u)" = 0 ] || { echo "needs root (namespaces, XDP)" >&2; exit 2; }
for p in gdnsd dnsperf ip; do
	command -v $p >/dev/null || { echo "needs $p" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "no haven binary at $bin" >&2; exit 2; }
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	ip netns del $srv 2>/dev/null
	ip netns del $cli 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ip netns add $srv && ip netns add $cli || exit 1
ip link add xb0 netns $srv type veth peer name xb1 netns $cli || exit 1
ip -n $srv addr add 198.18.0.1/24 dev xb0
ip -n $cli addr add 198.18.0.2/24 dev xb1
for n in $srv $cli; do ip -n $n link set lo up; done
ip -n $srv link set xb0 up
ip -n $cli link set xb1 up
S="ip netns exec $srv"
C="ip netns exec $cli"

# backends of the health checks, inside srv
for a in 127.0.0.1 127.0.0.2; do
	$S $py -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9001)); s.listen(64)
while True: s.accept()[0].close()' $a > /dev/null 2>&1 &
	pids="$pids $!"
done

mkdir -p $tmp/gdnsd/cfg/zones $tmp/gdnsd/run $tmp/gdnsd/state
sed "s#/tmp/gdnsd-run#$tmp/gdnsd/run#; s#/tmp/gdnsd-state#$tmp/gdnsd/state#; \
    s#127.0.0.1:5301#198.18.0.1:5301#" $here/dns/gdnsd.config \
    > $tmp/gdnsd/cfg/config
cp $here/dns/gdnsd-example.com $tmp/gdnsd/cfg/zones/example.com
$S gdnsd -c $tmp/gdnsd/cfg start > $tmp/gdnsd/log 2>&1 &
g=$!
pids="$pids $g"

cp $here/dns/example.com.zone $tmp/
# haven_conf NAME PORT XDP: a config serving what gdnsd serves on PORT
haven_conf() {
	mkdir -p $tmp/$1/state
	sed "s#@DIR@#$tmp#g; s#@PORT@#$2#g; s#@WORKERS@#1#g; \
	    s#$tmp/state#$tmp/$1/state#; s#127.0.0.1:$2#198.18.0.1:$2#" \
	    $here/dns/haven.yaml > $tmp/$1/haven.yaml
	[ "$3" = 1 ] && sed -i 's#^  workers: 1#  workers: 1\n  xdp: { interface: xb0 }#' \
	    $tmp/$1/haven.yaml
	$S "$bin" check -c $tmp/$1/haven.yaml > $tmp/$1/check 2>&1 ||
	    { cat $tmp/$1/check >&2; exit 1; }
}
haven_conf haven 5302 0
haven_conf haven-xdp 5303 1
$S "$bin" run -c $tmp/haven/haven.yaml > $tmp/haven/log 2>&1 &
h=$!
pids="$pids $h"

# wait_answer PORT: www.example.com answers 127.0.0.1 from cli (30 s max)
wait_answer() {
	$C $py - "$1" <<-'PY'
	import sys, time, dns.message, dns.query
	port = int(sys.argv[1])
	end = time.monotonic() + 30
	while time.monotonic() < end:
	    try:
	        r = dns.query.udp(dns.message.make_query("www.example.com", "A"),
	                          "198.18.0.1", port=port, timeout=0.5)
	        if any(rr.to_text() == "127.0.0.1" for s in r.answer for rr in s):
	            sys.exit(0)
	    except Exception:
	        pass
	    time.sleep(0.05)
	sys.exit(1)
	PY
}
cpu_ticks() { awk '{print $14 + $15}' /proc/$1/stat 2>/dev/null || echo 0; }
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
worker() { pgrep -P $1 -f '__child dns' | head -1; }

for t in 5301 5302; do
	wait_answer $t || { echo "port $t never answered www" >&2; exit 1; }
done
for i in $(seq 500); do
	echo "www.example.com A"; echo "static.example.com A"
	echo "nx$i.example.com A"
done > $tmp/q.txt
echo "== dnsperf -T 1 -c 4 -l $secs over a veth, $rounds rounds interleaved"
: > $tmp/res
for r in $(seq $rounds); do
	for t in gdnsd haven haven-xdp; do
		case $t in
		gdnsd) port=5301; sp=$g ;;
		haven) port=5302; sp=$(worker $h) ;;
		haven-xdp)
			port=5303
			$S "$bin" run -c $tmp/haven-xdp/haven.yaml \
			    > $tmp/haven-xdp/log.$r 2>&1 &
			x=$!
			pids="$pids $x"
			wait_answer 5303 || { echo "haven-xdp never answered" >&2
			    cat $tmp/haven-xdp/log.$r >&2; exit 1; }
			grep -q "xdp attached" $tmp/haven-xdp/log.$r || {
			    echo "haven-xdp: XDP not attached" >&2
			    cat $tmp/haven-xdp/log.$r >&2; exit 1; }
			sp=$(worker $x) ;;
		esac
		c0=$(cpu_ticks $sp); b0=$(busy_ticks)
		/usr/bin/time -f "%U %S" -o $tmp/dtime timeout $((secs + 20)) \
		    $C dnsperf -s 198.18.0.1 -p $port -d $tmp/q.txt -l $secs \
		    -c 4 -T 1 -Q 2000000 > $tmp/out 2>&1
		c1=$(cpu_ticks $sp); b1=$(busy_ticks)
		read -r du ds < $tmp/dtime
		echo "$t $(awk '/Queries per second/{print $4}' $tmp/out) \
$(awk '/Queries completed/{print $3}' $tmp/out) \
$(awk '/Queries lost/{print $3}' $tmp/out) $((c1 - c0)) $((b1 - b0)) \
$du $ds" >> $tmp/res
		if [ $t = haven-xdp ]; then
			kill $x; wait $x 2>/dev/null
		fi
	done
done
$py - $tmp/res $(getconf CLK_TCK) <<-'PY'
import sys, statistics as st
hz = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    n, q, done, lost, srv, busy, du, ds = line.split()
    d = max(int(done), 1)
    rows.setdefault(n, []).append((float(q), int(lost),
        int(srv) / hz * 1e6 / d, (float(du) + float(ds)) * 1e6 / d,
        int(busy) / hz * 1e6 / d))
med = {n: [st.median(r[i] for r in rs) for i in range(5)]
       for n, rs in rows.items()}
print(f"{'server':10} {'qps median':>11} {'lost':>6} {'srv us/q':>9} "
      f"{'client us/q':>12} {'system us/q':>12}")
for n, m in med.items():
    print(f"{n:10} {m[0]:11.0f} {sum(r[1] for r in rows[n]):6d} "
          f"{m[2]:9.3f} {m[3]:12.3f} {m[4]:12.3f}")
g = med["gdnsd"]
for n in ("haven-xdp", "haven"):
    m = med[n]
    print(f"{n}/gdnsd: qps {m[0] / g[0]:.2f}  server cpu/q "
          f"{m[2] / g[2]:.2f}  system cpu/q {m[4] / g[4]:.2f}")
x, s = med["haven-xdp"], med["haven"]
print(f"haven-xdp/haven: qps {x[0] / s[0]:.2f}  server cpu/q "
      f"{x[2] / s[2]:.2f}  system cpu/q {x[4] / s[4]:.2f}")
PY
