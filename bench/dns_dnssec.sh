#!/bin/bash
# dns_dnssec.sh - the cost of online DNSSEC signing: one haven dns worker
# serving a signed zone, dnsperf asking the same queries without and with
# the DO bit (-D), rounds interleaved. Prints median qps and the worker's
# CPU time per answered query (user + system from /proc: on two cores
# dnsperf saturates one, so qps mostly measures the client, and CPU per
# query is the server's cost), and the DO=1 / DO=0 ratios.
#
# Two query mixes:
#   warm  a static name, a NODATA and NXDOMAINs drawn from 1,000 names, one
#         third each: after the first pass every signature is cached (the
#         static sets by index, the NSECs by content), as for a zone's
#         usual traffic.
#   cold  NXDOMAINs, every name different (200,000 of them): each answer
#         needs a fresh NSEC signature, an online signer's worst case (a
#         random-subdomain flood).
#
# Usage: bench/dns_dnssec.sh   env: HAVEN_BIN (build/haven), ROUNDS (3),
#                                   SECS (5)
# Needs: dnsperf, openssl. Port 5310 on 127.0.0.1 must be free.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build/haven}
rounds=${ROUNDS:-3}
secs=${SECS:-5}
port=5310
dir=$(mktemp -d /tmp/dns_dnssec.XXXXXX)
chmod 755 "$dir"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

cat > "$dir/example.com.zone" <<'ZONE'
$ORIGIN example.com.
$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 604800 60
        IN NS  ns1
ns1     IN A    198.18.0.53
www     IN A    198.18.0.80
        IN AAAA 2001:db8::80
ZONE
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$dir/k.pem" 2>/dev/null
cat > "$dir/haven.yaml" <<CONF
haven:
  state_dir: $dir/state
api:
  socket: $dir/haven.sock
dns:
  listen: ["127.0.0.1:$port"]
  workers: 1
  zones:
    - { name: example.com, file: example.com.zone,
        dnssec: { key_file: k.pem } }
CONF
for i in $(seq 1 1000); do
	echo "www.example.com A"
	echo "www.example.com MX"
	echo "nx$i.example.com A"
done > "$dir/warm.txt"
seq 1 200000 | sed 's/.*/c&.example.com A/' > "$dir/cold.txt"

"$bin" run -c "$dir/haven.yaml" > "$dir/haven.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	dig +short +time=1 +tries=1 -p $port @127.0.0.1 www.example.com A \
	    2>/dev/null | grep -q 198.18.0.80 && break
	sleep 0.1
done
worker=$(pgrep -P "$pid" | head -1)
[ -n "$worker" ] || { echo "no dns worker" >&2; exit 1; }

cpu() { awk '{print $14 + $15}' "/proc/$worker/stat"; }
tck=$(getconf CLK_TCK)

# run MIX DOFLAG: prints "qps us_per_query"
run() {
	local c0 c1 out qps n
	c0=$(cpu)
	out=$(nice dnsperf -s 127.0.0.1 -p $port -d "$dir/$1.txt" -l "$secs" \
	    -c 4 -T 1 $2 2>&1)
	c1=$(cpu)
	qps=$(echo "$out" | awk '/Queries per second/ {print $4}')
	n=$(echo "$out" | awk '/Queries completed/ {print $3}')
	awk -v a="$c0" -v b="$c1" -v n="$n" -v q="$qps" -v t="$tck" \
	    'BEGIN { printf "%.0f %.2f\n", q, (b - a) / t * 1e6 / n }'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for mix in warm cold; do
	: > "$dir/$mix.do0"
	: > "$dir/$mix.do1"
	for r in $(seq 1 "$rounds"); do
		run $mix "" >> "$dir/$mix.do0"
		run $mix "-D" >> "$dir/$mix.do1"
	done
	q0=$(cut -d' ' -f1 "$dir/$mix.do0" | median)
	q1=$(cut -d' ' -f1 "$dir/$mix.do1" | median)
	u0=$(cut -d' ' -f2 "$dir/$mix.do0" | median)
	u1=$(cut -d' ' -f2 "$dir/$mix.do1" | median)
	printf "%-5s DO=0 %8s qps %7s us/q   DO=1 %8s qps %7s us/q   " \
	    $mix "$q0" "$u0" "$q1" "$u1"
	awk -v a="$q0" -v b="$q1" -v c="$u0" -v d="$u1" \
	    'BEGIN { printf "qps ratio %.2f, CPU/query ratio %.1f\n", b / a, d / c }'
done
