#!/bin/bash
# havip.sh - the VPC case (HAVIP + EIP), haven next to keepalived on the same
# emulated VPC in one run (../shared/reference/vip.md §5.1).
#
# Topology (namespaces hvh-*, addresses from 198.18.0.0/15):
#   vpc   the VPC router and its HAVIP controller: haven with a `havip:`
#         section; 198.18.0.1 on lo, proxy ARP and a /32 route per node
#         link, the HAVIP 198.18.0.100/32 routed to the owner's link, the
#         EIP 198.19.0.100 DNATed onto it;
#   n1,n2 the nodes, each on its own link (no shared L2): 198.18.0.11/.12,
#         unicast VRRP through the router, one instance holding the HAVIP;
#   in    the internet side, 198.19.0.2, pinging the EIP every 5 ms.
# The same controller serves both implementations, so the difference is
# the nodes': keepalived announces (GARP) and trusts that the address is
# its own; haven (takeover: havip) also verifies that the VPC routes the
# address to it and stops announcing when it does not.
#
# Two measurements per implementation:
#   kill     kill -9 of the owner node (and its address off its link: a
#            dead VM answers nothing) -> the longest gap between replies
#            through the EIP; median of ROUNDS;
#   split    a control-plane partition of PART seconds (iptables DROP of
#            IP protocol 112 in vpc's FORWARD chain): both nodes become
#            master. Reported: the controller's remaps during the
#            partition, the dual-master (contested) seconds, the flaps
#            after the hold-down, and the longest client gap. Run twice:
#            with the controller as the clouds behave (last announcer
#            wins after the hold-down) and as haven's witness.
#
# Usage: bench/havip.sh   env: HAVEN_BIN (build-bench/haven), ADVERT (0.1),
#                             ROUNDS (3), PART (60), HOLD (5),
#                             WHAT ("kill split": the measurements to run)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build-bench/haven}
adv=${ADVERT:-0.1}
rounds=${ROUNDS:-3}
part=${PART:-60}
hold=${HOLD:-5}
what=${WHAT:-kill split}
havip=198.18.0.100
eip=198.19.0.100
tmp=$(mktemp -d /tmp/bench-havip.XXXXXX)
chmod 755 "$tmp"
ns() { echo "hvh-$1"; }

command -v keepalived >/dev/null || { echo "needs keepalived" >&2; exit 1; }
[ -x "$bin" ] || { echo "no haven binary at $bin" >&2; exit 1; }

down() {
	for n in vpc n1 n2 in; do ip netns del "$(ns $n)" 2>/dev/null; done
}
up() {
	local i
	down
	for n in vpc n1 n2 in; do
		ip netns add "$(ns $n)" && ip -n "$(ns $n)" link set lo up || return 1
	done
	ip -n "$(ns vpc)" addr add 198.18.0.1/32 dev lo
	ip netns exec "$(ns vpc)" sysctl -qw net.ipv4.ip_forward=1
	for i in 1 2; do
		ip link add v-n$i netns "$(ns vpc)" type veth peer name eth0 \
		    netns "$(ns n$i)"
		ip -n "$(ns vpc)" link set v-n$i up
		ip netns exec "$(ns vpc)" sysctl -qw \
		    net.ipv4.conf.v-n$i.proxy_arp=1
		ip -n "$(ns vpc)" route add 198.18.0.1$i/32 dev v-n$i
		ip -n "$(ns n$i)" addr add 198.18.0.1$i/24 dev eth0
		ip -n "$(ns n$i)" link set eth0 up
		ip -n "$(ns n$i)" route add default via 198.18.0.1
	done
	ip link add v-in netns "$(ns vpc)" type veth peer name eth0 \
	    netns "$(ns in)"
	ip -n "$(ns vpc)" addr add 198.19.0.1/24 dev v-in
	ip -n "$(ns vpc)" addr add $eip/32 dev v-in
	ip -n "$(ns vpc)" link set v-in up
	ip -n "$(ns in)" addr add 198.19.0.2/24 dev eth0
	ip -n "$(ns in)" link set eth0 up
	ip -n "$(ns in)" route add default via 198.19.0.1
}
trap 'pkill -f "$tmp/" 2>/dev/null; pkill -f "vipprobe.py serve --name hvh-" 2>/dev/null; down; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# The controller (the VPC's control plane), one per measurement so its
# counters start at zero. $1: witness (true|false).
start_vpc() {
	local d=$tmp/vpc
	mkdir -p "$d" && chmod 777 "$d"
	rm -rf "$d/state"
	cat > "$d/haven.yaml" <<-EOF
	haven: { state_dir: $d/state }
	api: { socket: $d/haven.sock }
	havip:
	  hold_down: ${hold}s
	  witness: $1
	  instances:
	    - { name: n1, interface: v-n1, address: 198.18.0.11 }
	    - { name: n2, interface: v-n2, address: 198.18.0.12 }
	  addresses:
	    - { name: web, address: $havip, subnet: 198.18.0.0/24,
	        instances: [n1, n2], eip: $eip }
	EOF
	ip netns exec "$(ns vpc)" "$bin" run -c "$d/haven.yaml" \
	    > "$d/log" 2>&1 &
	echo $! > "$d.main"
	for _ in $(seq 1 100); do
		[ -S "$d/haven.sock" ] && vpc_get > /dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "controller did not start: $(tail -n 3 "$d/log")" >&2
	return 1
}
stop_vpc() {
	local m i
	[ -f "$tmp/vpc.main" ] || return 0
	m=$(cat "$tmp/vpc.main")
	kill -TERM "$m" 2>/dev/null
	# A graceful stop, then whatever is left: no controller of this
	# measurement may outlive it and fight the next one over the route.
	for i in $(seq 1 50); do kill -0 "$m" 2>/dev/null || break; sleep 0.1; done
	kill -9 $(pgrep -P "$m") "$m" 2>/dev/null
	pkill -9 -f "$tmp/vpc/" 2>/dev/null
	rm -f "$tmp/vpc.main"
	ip -n "$(ns vpc)" route del $havip/32 2>/dev/null
}
vpc_get() {
	curl -sf --max-time 2 --unix-socket "$tmp/vpc/haven.sock" \
	    http://haven/v1/havip/web
}
# A counter of the controller: haven_havip_$1 for our HAVIP.
vpc_metric() {
	curl -sf --max-time 2 --unix-socket "$tmp/vpc/haven.sock" \
	    http://haven/metrics | awk -v n="haven_havip_$1" '
	    index($0, n) == 1 && /havip="web"/ { s += $NF } END { print s + 0 }'
}
owner_link() { # the link the VPC routes the HAVIP to
	ip -n "$(ns vpc)" -o route show $havip/32 | sed -n 's/.* dev \([^ ]*\).*/\1/p'
}

# start_ka NODE PRIO PEER_IP: keepalived, unicast, announcing again every
# 2 s while master (vrrp_garp_master_refresh: what a cloud user sets so a
# lost announcement is repaired).
start_ka() {
	cat > "$tmp/ka-$1.conf" <<-EOF
	global_defs { router_id $1; vrrp_garp_master_delay 0
	  vrrp_garp_master_refresh 2 }
	vrrp_instance VI_1 {
	  state BACKUP
	  interface eth0
	  virtual_router_id 51
	  priority $2
	  advert_int $adv
	  version 3
	  unicast_src_ip 198.18.0.1${1#n}
	  unicast_peer { $3 }
	  virtual_ipaddress { $havip/32 }
	}
	EOF
	ip netns exec "$(ns $1)" keepalived -n -l -D -P -f "$tmp/ka-$1.conf" \
	    -p "$tmp/ka-$1.pid" -r "$tmp/ka-$1-vrrp.pid" \
	    > "$tmp/ka-$1.log" 2>&1 &
	echo $! > "$tmp/ka-$1.main"
}

# start_hv NODE PRIO PEER_IP: haven, unicast, takeover havip (ownership
# verified against the gateway), the same 2 s refresh.
start_hv() {
	local ms d=$tmp/hv-$1
	ms=$(awk -v a="$adv" 'BEGIN { printf "%d", a * 1000 + 0.5 }')
	mkdir -p "$d" && chmod 777 "$d"
	rm -rf "$d/state"
	cat > "$d/haven.yaml" <<-EOF
	haven: { state_dir: $d/state }
	api: { socket: $d/haven.sock }
	vrrp:
	  instances:
	    - { name: vi1, interface: eth0, vrid: 51, priority: $2,
	        advert_interval: ${ms}ms, virtual_addresses: [$havip],
	        unicast_src: 198.18.0.1${1#n}, unicast_peers: [$3],
	        takeover: havip, havip: { gateway: 198.18.0.1 },
	        garp: { master_delay: 0s, master_refresh: 2s } }
	EOF
	ip netns exec "$(ns $1)" "$bin" run -c "$d/haven.yaml" > "$d/log" 2>&1 &
	echo $! > "$d.main"
}

node_pids() { # impl node
	local m
	if [ "$1" = ka ]; then
		cat "$tmp/ka-$2.pid" "$tmp/ka-$2-vrrp.pid" 2>/dev/null
	else
		[ -f "$tmp/hv-$2.main" ] || return 0
		m=$(cat "$tmp/hv-$2.main")
		pgrep -P "$m"; echo "$m"
	fi
}

stop_nodes() {
	local n
	for n in n1 n2; do
		kill -TERM $(node_pids ka $n) $(node_pids hv $n) 2>/dev/null
	done
	sleep 1
	for n in n1 n2; do
		kill -9 $(node_pids ka $n) $(node_pids hv $n) 2>/dev/null
		ip -n "$(ns $n)" addr del $havip/32 dev eth0 2>/dev/null
	done
	rm -f "$tmp"/ka-*.pid "$tmp"/ka-*.main "$tmp"/hv-*.main
	ip netns exec "$(ns vpc)" iptables -D FORWARD -p 112 -j DROP 2>/dev/null
	sleep 0.3
}

wait_owner() { # link seconds
	local i
	for i in $(seq 1 $(( $2 * 20 ))); do
		[ "$(owner_link)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

start_pair() { # impl witness
	start_vpc "$2" || return 1
	"start_$1" n1 150 198.18.0.12
	sleep 0.3
	"start_$1" n2 100 198.18.0.11
	wait_owner v-n1 20 || { echo "n1 never owned the HAVIP" >&2; return 1; }
	# Settled, and past the hold-down of that first remap: a fault
	# inside it would measure the hold-down, not the failover.
	sleep "$(awk -v a="$adv" -v h="$hold" 'BEGIN {
		s = a * 4 + 1.5; if (s < h + 1) s = h + 1; print s }')"
}

probe() { # seconds outfile [mark]
	ip netns exec "$(ns in)" /usr/bin/python3 "$here/../tools/vipprobe.py" \
	    probe --to $eip --interval 0.005 --duration "$1" \
	    ${3:+--mark "$3"} > "$2"
}
jget() { /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("fail" if v is None else v)' "$1" "$2"; }

# kill -9 of the owner: the gap a client of the EIP saw, in ms.
measure_kill() { # impl
	local p out=$tmp/probe-kill.json mark=$tmp/mark
	rm -f "$mark"
	start_pair "$1" true || { echo fail; stop_nodes; stop_vpc; return; }
	probe "$(awk -v a="$adv" 'BEGIN { print a * 6 + 4 }')" "$out" "$mark" &
	p=$!
	# At a random point of the advert cycle (see bench/vrrp.sh).
	sleep "$(awk -v a="$adv" -v r="$RANDOM" 'BEGIN { print 1 + a * r / 32768 }')"
	kill -9 $(node_pids "$1" n1) 2>/dev/null
	ip -n "$(ns n1)" addr del $havip/32 dev eth0 2>/dev/null
	touch "$mark"
	wait $p
	if [ "$(owner_link)" = v-n2 ]; then jget "$out" fault_gap_ms; else echo fail; fi
	stop_nodes; stop_vpc
}

# A control-plane partition of $part seconds: prints
# "route_changes contested_s client_switches max_gap_ms".
measure_split() { # impl witness
	local p out=$tmp/probe-split.json rc0 rc1 cs0 cs1
	start_pair "$1" "$2" || { echo "fail fail fail fail"; stop_nodes; stop_vpc; return; }
	probe "$((part + 2))" "$out" &
	p=$!
	sleep 1
	rc0=$(vpc_metric route_changes_total)
	cs0=$(vpc_metric contested_seconds_total)
	ip netns exec "$(ns vpc)" iptables -I FORWARD -p 112 -j DROP
	sleep "$part"
	rc1=$(vpc_metric route_changes_total)
	cs1=$(vpc_metric contested_seconds_total)
	ip netns exec "$(ns vpc)" iptables -D FORWARD -p 112 -j DROP
	wait $p
	echo "$((rc1 - rc0)) $(awk -v a="$cs0" -v b="$cs1" 'BEGIN { printf "%.1f", b - a }')" \
	    "$(jget "$out" switches) $(jget "$out" max_gap_ms)"
	stop_nodes; stop_vpc
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '
	/fail/ { f = 1 } { v[NR] = $1 }
	END { if (f || NR == 0) print "fail"; else print v[int((NR + 1) / 2)] }'; }

up || { echo "cannot build the namespaces" >&2; exit 1; }
for n in n1 n2; do
	ip netns exec "$(ns $n)" /usr/bin/python3 "$here/../tools/vipprobe.py" \
	    serve --name "hvh-$n" > /dev/null 2>&1 &
done

case " $what " in *" kill "*)
echo "# kill -9 of the owner at advert ${adv}s: gap seen through the EIP (ms), median of $rounds"
ka="" hv=""
for r in $(seq 1 "$rounds"); do
	ka="$ka $(measure_kill ka)"
	hv="$hv $(measure_kill hv)"
done
mk=$(echo $ka | median); mh=$(echo $hv | median)
printf "%-12s %12s %12s %8s   ka:[%s ] hv:[%s ]\n" kill "$mk" "$mh" \
    "$(awk -v k="$mk" -v h="$mh" 'BEGIN { if (k == "fail" || h == "fail" || k == 0) print "-"; else printf "%.2f", h / k }')" "$ka" "$hv"
;; esac

case " $what " in *" split "*)
echo "# ${part}s control-plane partition (IP protocol 112 dropped in the VPC), hold-down ${hold}s"
printf "%-10s %-8s %14s %12s %16s %12s\n" nodes witness route_changes contested_s client_switches max_gap_ms
for w in false true; do
	for impl in ka hv; do
		printf "%-10s %-8s %14s %12s %16s %12s\n" \
		    "$([ $impl = ka ] && echo keepalived || echo haven)" "$w" \
		    $(measure_split "$impl" "$w")
	done
done
;; esac
