#!/bin/bash
# vrrp.sh - VIP failover, haven next to keepalived on the same topology in
# one run: two VRRP nodes and a client on one bridge (namespaces hvb-*,
# addresses from 198.18.0.0/15), the client pinging the VIP every 5 ms.
#
# For each advert interval (1s 100ms 50ms 10ms by default) and each
# implementation: start a pair (node 1 priority 150, node 2 priority 100,
# version 3, multicast), wait for node 1 to hold the VIP, start the pinger,
# then either kill -9 node 1's processes and take the VIP off its link (a
# dead host answers no ARP; ../shared/bench/vip does the same) or stop it
# gracefully (SIGTERM: priority 0), and report the largest gap between
# replies, i.e. the outage the client saw. Ratios haven/keepalived below 1
# mean haven recovered faster. Repeats ROUNDS times and prints medians.
#
# Usage: bench/vrrp.sh   env: HAVEN_BIN (build-bench/haven), ADVERTS
#                             ("1 0.1 0.05 0.01" seconds), ROUNDS (3)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build-bench/haven}
adverts=${ADVERTS:-"1 0.1 0.05 0.01"}
rounds=${ROUNDS:-3}
vip=198.18.40.100
tmp=$(mktemp -d /tmp/bench-vrrp.XXXXXX)
chmod 755 "$tmp"

command -v keepalived >/dev/null || { echo "needs keepalived" >&2; exit 1; }
[ -x "$bin" ] || { echo "no haven binary at $bin" >&2; exit 1; }

down() {
	for n in sw n1 n2 cl; do ip netns del hvb-$n 2>/dev/null; done
}
up() {
	down
	for n in sw n1 n2 cl; do
		ip netns add hvb-$n && ip -n hvb-$n link set lo up || return 1
	done
	ip -n hvb-sw link add br0 type bridge && ip -n hvb-sw link set br0 up
	local i=1
	for h in n1 n2 cl; do
		ip link add v-$h netns hvb-sw type veth peer name eth0 netns hvb-$h
		ip -n hvb-sw link set v-$h master br0
		ip -n hvb-sw link set v-$h up
		ip -n hvb-$h addr add 198.18.40.$i/24 dev eth0
		ip -n hvb-$h link set eth0 up
		i=$((i + 1))
	done
}
trap 'pkill -f "$tmp/" 2>/dev/null; down; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# start_ka NODE PRIO ADVERT_SECONDS
start_ka() {
	cat > "$tmp/ka-$1.conf" <<-EOF
	global_defs { router_id $1; vrrp_garp_master_delay 0 }
	vrrp_instance VI_1 {
	  state BACKUP
	  interface eth0
	  virtual_router_id 51
	  priority $2
	  advert_int $3
	  version 3
	  virtual_ipaddress { $vip/32 }
	}
	EOF
	ip netns exec hvb-$1 keepalived -n -l -D -P -f "$tmp/ka-$1.conf" \
	    -p "$tmp/ka-$1.pid" -r "$tmp/ka-$1-vrrp.pid" \
	    > "$tmp/ka-$1.log" 2>&1 &
	echo $! > "$tmp/ka-$1.main"
}

# start_hv NODE PRIO ADVERT_SECONDS
start_hv() {
	local ms d=$tmp/hv-$1
	ms=$(awk -v a="$3" 'BEGIN { printf "%d", a * 1000 + 0.5 }')
	mkdir -p "$d" && chmod 777 "$d"
	cat > "$d/haven.yaml" <<-EOF
	haven: { state_dir: $d/state }
	api: { socket: $d/haven.sock }
	vrrp:
	  instances:
	    - { name: vi1, interface: eth0, vrid: 51, priority: $2,
	        advert_interval: ${ms}ms, virtual_addresses: [$vip],
	        garp: { master_delay: 0s } }
	EOF
	ip netns exec hvb-$1 "$bin" run -c "$d/haven.yaml" > "$d/log" 2>&1 &
	echo $! > "$d.main"
}

# The pids of node $2's implementation $1 (main process and children).
node_pids() {
	local m
	if [ "$1" = ka ]; then
		cat "$tmp/ka-$2.pid" "$tmp/ka-$2-vrrp.pid" 2>/dev/null
	else
		m=$(cat "$tmp/hv-$2.main")
		pgrep -P "$m"; echo "$m"
	fi
}

holds() { ip -n hvb-$1 -o addr show dev eth0 | grep -q "$vip/"; }

wait_holds() { # node seconds
	local i
	for i in $(seq 1 $(( $2 * 50 ))); do holds "$1" && return 0; sleep 0.02; done
	return 1
}

# One measurement: impl advert mode -> prints the gap in ms (or "fail").
measure() {
	local impl=$1 adv=$2 mode=$3 settle p gap
	settle=$(awk -v a="$adv" 'BEGIN { print a * 4 + 1 }')
	"start_$impl" n1 150 "$adv"
	sleep 0.3
	"start_$impl" n2 100 "$adv"
	if ! wait_holds n1 20; then
		echo fail; stop_all; return
	fi
	sleep "$settle"
	ip netns exec hvb-cl ping -n -D -i 0.005 -W 0.05 $vip \
	    > "$tmp/ping.log" 2>&1 &
	p=$!
	# At a random point of the advert cycle: everything before is
	# paced by the same timers in every round, so a fixed sleep would
	# hit the same phase each time and bias one side.
	sleep "$(awk -v a="$adv" -v r="$RANDOM" 'BEGIN { print 0.5 + a * r / 32768 }')"
	if [ "$mode" = kill ]; then
		kill -9 $(node_pids "$impl" n1) 2>/dev/null
		ip -n hvb-n1 addr del $vip/32 dev eth0 2>/dev/null
	else
		kill -TERM $(node_pids "$impl" n1 | tail -n 1) 2>/dev/null
	fi
	wait_holds n2 $(awk -v a="$adv" 'BEGIN { printf "%d", a * 5 + 3 }')
	sleep 0.5
	kill -INT $p; wait $p 2>/dev/null
	gap=$(/usr/bin/python3 - "$tmp/ping.log" <<-'PY'
	import re, sys
	ts = [float(m.group(1)) for m in
	      (re.match(r"\[(\d+\.\d+)\]", l) for l in open(sys.argv[1])) if m]
	g = [b - a for a, b in zip(ts, ts[1:])]
	print("%.0f" % (max(g) * 1000) if g else "fail")
	PY
	)
	holds n2 || gap=fail
	echo "$gap"
	stop_all
}

stop_all() {
	local n
	for n in n1 n2; do
		kill -TERM $(node_pids ka $n 2>/dev/null) 2>/dev/null
		[ -f "$tmp/hv-$n.main" ] && kill -TERM "$(cat "$tmp/hv-$n.main")" 2>/dev/null
	done
	sleep 1
	for n in n1 n2; do
		kill -9 $(node_pids ka $n 2>/dev/null) 2>/dev/null
		[ -f "$tmp/hv-$n.main" ] && kill -9 $(node_pids hv $n) 2>/dev/null
		ip -n hvb-$n addr del $vip/32 dev eth0 2>/dev/null
	done
	rm -f "$tmp"/*.pid "$tmp"/*.main
	sleep 0.3
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '
	/fail/ { f = 1 } { v[NR] = $1 }
	END { if (f || NR == 0) print "fail"; else print v[int((NR + 1) / 2)] }'; }

up || { echo "cannot build the namespaces" >&2; exit 1; }
printf "%-8s %-8s %12s %12s %8s   (outage seen by the client, ms; median of %d)\n" \
    advert mode keepalived haven ratio "$rounds"
for adv in $adverts; do
	for mode in kill stop; do
		ka="" hv=""
		for r in $(seq 1 "$rounds"); do
			ka="$ka $(measure ka "$adv" "$mode")"
			hv="$hv $(measure hv "$adv" "$mode")"
		done
		mk=$(echo $ka | median); mh=$(echo $hv | median)
		ratio=$(awk -v k="$mk" -v h="$mh" 'BEGIN {
			if (k == "fail" || h == "fail" || k == 0) print "-";
			else printf "%.2f", h / k }')
		printf "%-8s %-8s %12s %12s %8s   ka:[%s ] hv:[%s ]\n" \
		    "${adv}s" "$mode" "$mk" "$mh" "$ratio" "$ka" "$hv"
	done
done
