#!/bin/bash
# dns.sh - the authoritative DNS traffic manager, haven next to gdnsd in one
# run, on loopback. Three parts (WHAT, default "qps switch big"):
#
#   qps     dnsperf (one thread, 4 sockets, -l SECS) against gdnsd (5301, one
#           UDP thread, dns/gdnsd.config), haven with one worker (5302) and
#           haven with two (5303), rounds interleaved. The query mix is the
#           anchor's (../shared/bench/dns/run.sh): the GSLB name
#           www.example.com, a static name and NXDOMAINs, one third each.
#           Prints median qps, latency, losses and the ratio to gdnsd, and
#           the server's CPU time per answered query (user + system of the
#           serving processes, from /proc): on two cores dnsperf itself
#           saturates one, so qps mostly measures the client and CPU per
#           query is what tells the servers apart.
#   switch  both servers watch the same backends (tcp 127.0.0.1:9001 and
#           127.0.0.2:9001); the primary's backend is killed, and one poller
#           asks both servers every 10 ms, so both see the same fault at the
#           same instant: seconds until each answers the backup address, then
#           (backend restarted) until each answers the primary again. Each at
#           its config's health timing: gdnsd at the anchor's tuned values
#           (interval 2 s, down_thresh 2), haven at its defaults.
#   big     a zone of BIG (1,000,000) A records: seconds from start until the
#           last record answers, and the resident memory of the serving
#           processes (haven: parent + dns worker; gdnsd: its one process).
#
#           With HAVEN_BASE_BIN set to another haven binary (say the build
#           before a change), it runs too (5306, 5307) as "base" and
#           "base-w2", in the same rounds: before and after in one run.
#           "user us/q" is the user-space part of the CPU per query; the
#           rest is the kernel's UDP path.
#
# Usage: bench/dns.sh   env: HAVEN_BIN (build-bench/haven), WHAT, ROUNDS (3),
#                            SECS (6), BIG (1000000), HAVEN_BASE_BIN (unset)
# Needs: gdnsd dnsperf python3-dnspython. Ports 5301-5307, 9001 on 127.0.0.1
# and 127.0.0.2 must be free. Everything started is killed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build-bench/haven}
what=${WHAT:-"qps switch big"}
rounds=${ROUNDS:-3}
secs=${SECS:-6}
big=${BIG:-1000000}
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/bench-dns.XXXXXX)
chmod 755 "$tmp"
pids=""

for p in gdnsd dnsperf; do
	command -v $p >/dev/null || { echo "needs $p" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "no haven binary at $bin" >&2; exit 1; }
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# backend IP: a TCP listener on IP:9001 (what both servers' checks probe).
backend() {
	$py -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9001)); s.listen(64)
while True: s.accept()[0].close()' "$1" > /dev/null 2>&1 &
	echo $! # (the listener must not hold the caller's $(...) pipe open)
}

# gdnsd_start PORT ZONEFILE CONFIG: a gdnsd on PORT serving example.com.
gdnsd_start() {
	local d=$tmp/gdnsd-$1
	mkdir -p $d/cfg/zones $d/run $d/state
	sed "s#/tmp/gdnsd-run#$d/run#; s#/tmp/gdnsd-state#$d/state#; \
	    s#127.0.0.1:5301#127.0.0.1:$1#" "$3" > $d/cfg/config
	cp "$2" $d/cfg/zones/example.com
	gdnsd -c $d/cfg start > $d/log 2>&1 &
	pids="$pids $!"
	echo $!
}

# haven_start PORT WORKERS YAML: a haven serving dns on PORT.
haven_start() {
	local d=$tmp/haven-$1
	mkdir -p $d/state
	# Once: a copy over the file while an earlier server reads it would
	# hand that server a torn zone.
	[ -e $tmp/example.com.zone ] || cp $here/dns/example.com.zone $tmp/
	sed "s#@DIR@#$tmp#g; s#@PORT@#$1#g; s#@WORKERS@#$2#g; \
	    s#$tmp/state#$d/state#" "$3" > $d/haven.yaml
	"$bin" run -c $d/haven.yaml > $d/log 2>&1 &
	pids="$pids $!"
	echo $!
}

# wait_answer PORT NAME WANT: until NAME A from PORT is WANT (30 s max).
wait_answer() {
	$py - "$@" <<-'PY'
	import sys, time, dns.message, dns.query
	port, name, want = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	end = time.monotonic() + 30
	while time.monotonic() < end:
	    try:
	        r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1",
	                          port=port, timeout=0.5)
	        if any(rr.to_text() == want for s in r.answer for rr in s):
	            sys.exit(0)
	    except Exception:
	        pass
	    time.sleep(0.05)
	sys.exit(1)
	PY
}

rss_kb() { # PID...: summed VmRSS
	local t=0 v
	for p in "$@"; do
		v=$(awk '/VmRSS/{print $2}' /proc/$p/status 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}
children() { pgrep -P "$1" | tr '\n' ' '; }
cpu_ticks() { # PID...: summed user and system clock ticks (all threads)
	local u=0 s=0 v w
	for p in "$@"; do
		read -r v w < <(awk '{print $14, $15}' /proc/$p/stat 2>/dev/null)
		u=$((u + ${v:-0})); s=$((s + ${w:-0}))
	done
	echo $u $s
}

part_qps() {
	local b1 b2 g h1 h2 o1 o2 targets u0 s0 u1 s1
	echo "== qps: dnsperf -T 1 -c 4 -l $secs, $rounds rounds interleaved"
	b1=$(backend 127.0.0.1); b2=$(backend 127.0.0.2); pids="$pids $b1 $b2"
	g=$(gdnsd_start 5301 $here/dns/gdnsd-example.com $here/dns/gdnsd.config)
	h1=$(haven_start 5302 1 $here/dns/haven.yaml)
	h2=$(haven_start 5303 2 $here/dns/haven.yaml)
	targets="gdnsd=5301 haven=5302 haven-w2=5303"
	if [ -n "${HAVEN_BASE_BIN:-}" ]; then
		o1=$(bin=$HAVEN_BASE_BIN haven_start 5306 1 $here/dns/haven.yaml)
		o2=$(bin=$HAVEN_BASE_BIN haven_start 5307 2 $here/dns/haven.yaml)
		targets="$targets base=5306 base-w2=5307"
	fi
	# (started in subshells: the cleanup on exit learns of them here)
	pids="$pids $g $h1 $h2 ${o1:-} ${o2:-}"
	for t in $targets; do
		wait_answer ${t#*=} www.example.com 127.0.0.1 ||
		    { echo "port ${t#*=} never answered www" >&2; return 1; }
	done
	for i in $(seq 500); do
		echo "www.example.com A"; echo "static.example.com A"
		echo "nx$i.example.com A"
	done > $tmp/q.txt
	: > $tmp/qps
	for r in $(seq $rounds); do
		for t in $targets; do
			case $t in
			gdnsd*) sp=$g ;;
			haven=*) sp=$(pgrep -P $h1 -f '__child dns') ;;
			haven-w2=*) sp=$(pgrep -P $h2 -f '__child dns') ;;
			base=*) sp=$(pgrep -P $o1 -f '__child dns') ;;
			*) sp=$(pgrep -P $o2 -f '__child dns') ;;
			esac
			read -r u0 s0 < <(cpu_ticks $sp)
			dnsperf -s 127.0.0.1 -p ${t#*=} -d $tmp/q.txt -l $secs \
			    -c 4 -T 1 -Q 2000000 > $tmp/out 2>&1
			read -r u1 s1 < <(cpu_ticks $sp)
			echo "${t%%=*} $(awk '/Queries per second/{print $4}' \
			    $tmp/out) $(awk '/Average Latency/{print $4}' \
			    $tmp/out) $(awk '/Queries lost/{print $3}' \
			    $tmp/out) $(awk '/Queries completed/{print $3}' \
			    $tmp/out) $((u1 - u0)) $((s1 - s0))" >> $tmp/qps
		done
	done
	$py - $tmp/qps $(getconf CLK_TCK) <<-'PY'
	import sys, statistics as st
	rows = {}
	hz = int(sys.argv[2])
	for line in open(sys.argv[1]):
	    n, q, l, lost, done, ut, stt = line.split()
	    per = lambda t: int(t) / hz * 1e6 / max(int(done), 1)
	    rows.setdefault(n, []).append((float(q), float(l) * 1e6, int(lost),
	                                   per(int(ut) + int(stt)), per(ut)))
	base = st.median(r[0] for r in rows["gdnsd"])
	cbase = st.median(r[3] for r in rows["gdnsd"])
	print(f"{'server':10} {'qps median':>11} {'lat us':>7} {'vs gdnsd':>9} "
	      f"{'lost':>6} {'cpu us/q':>9} {'vs gdnsd':>9} {'user us/q':>10}")
	for n, rs in rows.items():
	    q = st.median(r[0] for r in rs)
	    c = st.median(r[3] for r in rs)
	    print(f"{n:10} {q:11.0f} {st.median(r[1] for r in rs):7.0f} "
	          f"{q / base:9.2f} {sum(r[2] for r in rs):6d} {c:9.2f} "
	          f"{c / cbase:9.2f} {st.median(r[4] for r in rs):10.2f}")
	PY
	kill $g $h1 $h2 $b1 $b2 ${o1:-} ${o2:-} 2>/dev/null
	sleep 1
}

part_switch() {
	local b1 b2 g h
	echo "== switch: primary backend killed, then restarted; $rounds rounds"
	b2=$(backend 127.0.0.2); pids="$pids $b2"
	b1=$(backend 127.0.0.1); pids="$pids $b1"
	g=$(gdnsd_start 5304 $here/dns/gdnsd-example.com $here/dns/gdnsd.config)
	h=$(haven_start 5305 1 $here/dns/haven.yaml)
	: > $tmp/switch
	for r in $(seq $rounds); do
		wait_answer 5304 www.example.com 127.0.0.1 &&
		    wait_answer 5305 www.example.com 127.0.0.1 ||
		    { echo "not both on the primary" >&2; return 1; }
		sleep 1
		kill $b1; wait $b1 2>/dev/null
		$py $here/dns/switchwatch.py down 127.0.0.2 >> $tmp/switch
		b1=$(backend 127.0.0.1); pids="$pids $b1"
		$py $here/dns/switchwatch.py up 127.0.0.1 >> $tmp/switch
	done
	$py - $tmp/switch <<-'PY'
	import sys, statistics as st
	rows = {}
	for line in open(sys.argv[1]):
	    phase, name, s = line.split()
	    rows.setdefault((phase, name), []).append(float(s))
	for phase in ("down", "up"):
	    g, h = rows.get((phase, "gdnsd"), []), rows.get((phase, "haven"), [])
	    if not g or not h:
	        print(phase, "incomplete", g, h)
	        continue
	    gm, hm = st.median(g), st.median(h)
	    what = "switch to backup" if phase == "down" else "failback"
	    print(f"{what:17} gdnsd {gm:6.2f} s  haven {hm:6.2f} s  ratio {hm / gm:5.2f}"
	          f"  (haven samples {', '.join(f'{x:.2f}' for x in h)})")
	PY
	kill $g $h $b1 $b2 2>/dev/null
	sleep 1
}

part_big() {
	local g h t0 t1 gl gm hl hp hd ha n=$big
	echo "== big: a zone of $n A records"
	$py - $tmp/big.zone $n <<-'PY'
	import sys
	n = int(sys.argv[2])
	with open(sys.argv[1], "w") as f:
	    f.write("$TTL 60\n@ SOA ns1 hostmaster 1 7200 1800 259200 900\n")
	    f.write("@ NS ns1\nns1 A 127.0.0.1\nstatic A 192.0.2.10\n")
	    for i in range(n):
	        f.write(f"r{i} A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
	PY
	last="r$((n - 1)).example.com"
	want="10.$(((n - 1) >> 16 & 255)).$(((n - 1) >> 8 & 255)).$(((n - 1) & 255))"
	t0=$(date +%s.%N)
	g=$(gdnsd_start 5304 $tmp/big.zone $here/dns/gdnsd.config)
	wait_answer 5304 $last $want || echo "gdnsd never answered $last"
	t1=$(date +%s.%N)
	gl=$(echo "$t1 - $t0" | bc); gm=$(rss_kb $g)
	echo "gdnsd load $gl s rss $gm KiB"
	kill $g; sleep 1
	sed "s#@DIR@/example.com.zone#@DIR@/big.zone#" $here/dns/haven.yaml \
	    > $tmp/big.yaml
	t0=$(date +%s.%N)
	h=$(haven_start 5305 1 $tmp/big.yaml)
	wait_answer 5305 $last $want || echo "haven never answered $last"
	t1=$(date +%s.%N)
	hl=$(echo "$t1 - $t0" | bc)
	hp=$(rss_kb $h); hd=$(rss_kb $(pgrep -P $h -f '__child dns'))
	ha=$(rss_kb $h $(children $h))
	echo "haven load $hl s rss parent $hp KiB, dns worker $hd KiB," \
	    "all processes $ha KiB"
	echo "ratios haven/gdnsd: load time $(echo "scale=2; $hl / $gl" | bc)," \
	    "memory (all haven processes) $(echo "scale=2; $ha / $gm" | bc)," \
	    "memory (dns worker) $(echo "scale=2; $hd / $gm" | bc)"
	kill $h
}

for w in $what; do
	part_$w
done
