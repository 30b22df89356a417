#!/bin/bash
# vrrp_load.sh - false takeovers under load: a VRRP pair at 100 ms adverts
# while wrk saturates both cores through haven's load balancer on the
# master (two lb workers, nginx behind it, the client hitting the VIP).
# Counts transitions to master on either node during the run: any is a
# false takeover, since the master never fails. Runs keepalived (same
# timers, not real-time: its default) and haven one after the other on
# the same topology and load.
#
# Usage: bench/vrrp_load.sh   env: HAVEN_BIN (build-bench/haven),
#                                  SECS (300), ADVERT (0.1)
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${HAVEN_BIN:-$here/../build-bench/haven}
secs=${SECS:-300}
adv=${ADVERT:-0.1}
vip=198.18.41.100
tmp=$(mktemp -d /tmp/bench-vrrpload.XXXXXX)
chmod 755 "$tmp"
command -v keepalived >/dev/null && command -v wrk >/dev/null &&
    command -v nginx >/dev/null || { echo "needs keepalived wrk nginx" >&2; exit 1; }

down() { for n in sw n1 n2 cl; do ip netns del hvl-$n 2>/dev/null; done; }
trap 'pkill -f "$tmp/" 2>/dev/null; sleep 0.5; down; rm -rf "$tmp"' EXIT
down
for n in sw n1 n2 cl; do ip netns add hvl-$n; ip -n hvl-$n link set lo up; done
ip -n hvl-sw link add br0 type bridge && ip -n hvl-sw link set br0 up
i=1
for h in n1 n2 cl; do
	ip link add v-$h netns hvl-sw type veth peer name eth0 netns hvl-$h
	ip -n hvl-sw link set v-$h master br0 && ip -n hvl-sw link set v-$h up
	ip -n hvl-$h addr add 198.18.41.$i/24 dev eth0 && ip -n hvl-$h link set eth0 up
	i=$((i + 1))
done

# nginx backend on n1 (loopback of n1), 2 workers.
mkdir -p "$tmp/www" && echo ok > "$tmp/www/index.html"
cat > "$tmp/nginx.conf" <<EOF
daemon off; worker_processes 2; pid $tmp/nginx.pid; error_log $tmp/nginx.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:9000; root $tmp/www; } }
EOF
ip netns exec hvl-n1 nginx -c "$tmp/nginx.conf" &

# The lb on n1, listening on the VIP (freebind), in its own haven.
mkdir -p "$tmp/lb" && chmod 777 "$tmp/lb"
cat > "$tmp/lb/haven.yaml" <<EOF
haven: { state_dir: $tmp/lb/state }
api: { socket: $tmp/lb/haven.sock }
lb:
  workers: 2
  listeners: [{ name: web, bind: '$vip:8080', pool: web, freebind: true,
                access_log: false }]
  pools: [{ name: web, servers: [{ name: s1, address: '127.0.0.1:9000' }] }]
EOF
ip netns exec hvl-n1 "$bin" run -c "$tmp/lb/haven.yaml" > "$tmp/lb/log" 2>&1 &

ka_conf() { # node prio
	cat > "$tmp/ka-$1.conf" <<-EOF
	global_defs { router_id $1 }
	vrrp_instance VI_1 {
	  state BACKUP
	  interface eth0
	  virtual_router_id 52
	  priority $2
	  advert_int $adv
	  version 3
	  virtual_ipaddress { $vip/32 }
	}
	EOF
}
hv_conf() { # node prio
	local d=$tmp/hv-$1 ms
	ms=$(awk -v a="$adv" 'BEGIN { printf "%d", a * 1000 + 0.5 }')
	mkdir -p "$d" && chmod 777 "$d"
	cat > "$d/haven.yaml" <<-EOF
	haven: { state_dir: $d/state }
	api: { socket: $d/haven.sock }
	vrrp:
	  instances:
	    - { name: vi1, interface: eth0, vrid: 52, priority: $2,
	        advert_interval: ${ms}ms, virtual_addresses: [$vip] }
	EOF
}

# Transitions to MASTER in a log since line $2.
count_ka() { grep -c "Entering MASTER STATE" "$1" 2>/dev/null || true; }
count_hv() { grep -c 'to=master' "$1" 2>/dev/null || true; }

run() { # impl
	local impl=$1 l1 l2 c1 c2 w
	if [ "$impl" = ka ]; then
		for n in n1:150 n2:100; do
			ka_conf "${n%:*}" "${n#*:}"
			ip netns exec hvl-${n%:*} keepalived -n -l -D -P \
			    -f "$tmp/ka-${n%:*}.conf" -p "$tmp/ka-${n%:*}.pid" \
			    -r "$tmp/ka-${n%:*}-vrrp.pid" > "$tmp/ka-${n%:*}.log" 2>&1 &
			sleep 0.3
		done
		l1=$tmp/ka-n1.log l2=$tmp/ka-n2.log
	else
		for n in n1:150 n2:100; do
			hv_conf "${n%:*}" "${n#*:}"
			ip netns exec hvl-${n%:*} "$bin" run \
			    -c "$tmp/hv-${n%:*}/haven.yaml" > "$tmp/hv-${n%:*}/log" 2>&1 &
			sleep 0.3
		done
		l1=$tmp/hv-n1/log l2=$tmp/hv-n2/log
	fi
	sleep 3
	c1=$("count_$impl" "$l1"); c2=$("count_$impl" "$l2")
	w=$(ip netns exec hvl-cl wrk -t2 -c64 -d"${secs}s" "http://$vip:8080/" 2>&1 |
	    awk '/Requests\/sec/ { print $2 }')
	echo "$impl: master transitions during ${secs}s of load: n1 $(( $("count_$impl" "$l1") - c1 )) n2 $(( $("count_$impl" "$l2") - c2 )) (wrk ${w:-?} req/s)"
	if [ "$impl" = ka ]; then
		kill $(cat "$tmp"/ka-n*.pid 2>/dev/null) 2>/dev/null
	else
		pkill -f "$tmp/hv-" 2>/dev/null
	fi
	sleep 2
	ip -n hvl-n1 addr del $vip/32 dev eth0 2>/dev/null
	ip -n hvl-n2 addr del $vip/32 dev eth0 2>/dev/null
}

echo "advert ${adv}s, load: wrk -t2 -c64 through haven lb (2 workers) on the master"
run ka
run hv
