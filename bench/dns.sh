#!/bin/bash
# dns.sh - authoritative UDP throughput, haven next to NSD and gdnsd in one
# run, on loopback: the same zone file (examples/zones/example.com.zone),
# one server process or thread each (haven workers: 1, NSD server-count: 1
# with RRL off, gdnsd udp_threads: 1), dnsperf sending a mix of answers
# (positive, CNAME chain, wildcard, NXDOMAIN, NODATA, referral) for SECS
# seconds with CLIENTS sockets. Rounds are interleaved so drift hits every
# server alike; prints the median queries/s and lost queries of each, and
# the ratio to NSD (above 1: haven answered more).
#
# dnsperf shares the machine's cores with the server under test: on a
# small machine the figure is the pair's, so quote the ratio.
#
# Usage: bench/dns.sh   env: HAVEN_BIN (build/haven), ROUNDS (3),
#                            SECS (5), CLIENTS (8)
# Ports 15301 (haven), 15302 (NSD), 15303 (gdnsd) on 127.0.0.1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build/haven}
rounds=${ROUNDS:-3}
secs=${SECS:-5}
clients=${CLIENTS:-8}
zone=$here/../examples/zones/example.com.zone
tmp=$(mktemp -d /tmp/bench-dns.XXXXXX)
chmod 755 "$tmp"
pids=()

for t in dnsperf nsd gdnsd; do
	command -v $t >/dev/null || [ -x /usr/sbin/$t ] ||
	    { echo "needs $t" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "no haven binary at $bin" >&2; exit 1; }
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done;
      [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

cp "$zone" "$tmp/example.com.zone"
cat > "$tmp/q.txt" <<EOF
api.example.com A
api.example.com AAAA
chain.example.com A
x.apps.example.com A
nope.example.com A
mail.example.com MX
host.sub.example.com A
example.com MX
EOF

cat > "$tmp/haven.yaml" <<EOF
haven: { state_dir: $tmp/state, log_level: warn }
api: { socket: $tmp/haven.sock }
dns:
  listen: ["127.0.0.1:15301"]
  workers: 1
  zones: [{ name: example.com, file: example.com.zone }]
EOF
"$bin" run -c "$tmp/haven.yaml" >"$tmp/haven.log" 2>&1 &
pids+=($!)

cat > "$tmp/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@15302
  port: 15302
  zonesdir: $tmp
  database: ""
  pidfile: $tmp/nsd.pid
  username: ""
  chroot: ""
  xfrdfile: $tmp/xfrd.state
  zonelistfile: $tmp/zone.list
  logfile: $tmp/nsd.log
  server-count: 1
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.com
  zonefile: example.com.zone
EOF
nsd -d -c "$tmp/nsd.conf" >"$tmp/nsd.out" 2>&1 &
pids+=($!)

mkdir -p "$tmp/gdnsd/zones"
cp "$zone" "$tmp/gdnsd/zones/example.com"
cat > "$tmp/gdnsd/config" <<EOF
options => {
  listen => [ 127.0.0.1:15303 ]
  udp_threads => 1
  tcp_threads => 1
}
EOF
gdnsd -f -c "$tmp/gdnsd" -R start >"$tmp/gdnsd.out" 2>&1 &
pids+=($!)

sleep 2
for p in 15301 15302 15303; do
	dig +short +tries=3 @127.0.0.1 -p $p api.example.com A | grep -q . ||
	    { echo "server on $p does not answer" >&2; exit 1; }
done

declare -A qps lost
for r in $(seq "$rounds"); do
	for s in haven:15301 nsd:15302 gdnsd:15303; do
		name=${s%%:*} port=${s##*:}
		out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/q.txt" \
		    -l "$secs" -c "$clients" -q 200 2>&1)
		qps[$name]+="$(echo "$out" | awk '/Queries per second/ {print $4}') "
		lost[$name]+="$(echo "$out" | awk '/Queries lost/ {print $3}') "
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
nsd_q=$(echo ${qps[nsd]} | median)
printf "%-8s %14s %10s %10s\n" server "median qps" lost "vs NSD"
for name in haven nsd gdnsd; do
	q=$(echo ${qps[$name]} | median)
	l=$(echo ${lost[$name]} | median)
	printf "%-8s %14.0f %10s %10.2f\n" $name "$q" "$l" \
	    "$(echo "$q / $nsd_q" | bc -l)"
done
