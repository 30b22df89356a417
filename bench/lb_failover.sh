#!/bin/bash
# lb_failover.sh - what clients see when one of two backends dies under
# load. For each proxy (haven on 8080; HAProxy on 8081 with its default
# config: retries 3, redispatch, no retry-on; HAProxy with retry-on
# all-retryable-errors; nginx on 8082 with proxy_next_upstream error
# timeout): fresh backends and proxy, wrk -t1 -c64 for SECS seconds,
# backend 2 stopped with SIGTERM (nginx fast stop: open connections are
# cut) after KILL_AT seconds. Prints per proxy and round the requests,
# socket errors and non-2xx answers, then the medians.
#
# Usage: bench/lb_failover.sh   env: ROUNDS (3), SECS (10), KILL_AT (3),
#                                    CONNS (64), HAVEN_BIN
set -u
. "$(dirname "$0")/lb_common.sh"
rounds=${ROUNDS:-3}; secs=${SECS:-10}; kill_at=${KILL_AT:-3}; conns=${CONNS:-64}

proxy_start() {
	case $1 in
	haven) lbc_haven_start haven.yaml 8080 ;;
	haproxy) lbc_haproxy_start haproxy.cfg ;;
	haproxy-retry) lbc_haproxy_start haproxy-retry.cfg ;;
	nginx) lbc_nginxproxy_start ;;
	esac
}

proxy_stop() {
	case $1 in
	haven) lbc_haven_stop; lbc_wait_closed 8080 ;;
	haproxy | haproxy-retry) lbc_haproxy_stop ;;
	nginx) kill "$(cat "$tmp/ngp.pid")"; rm -f "$tmp/ngp.pid"; lbc_wait_closed 8082 ;;
	esac
}

port_of() {
	case $1 in haven) echo 8080 ;; nginx) echo 8082 ;; *) echo 8081 ;; esac
}

for r in $(seq "$rounds"); do
	for p in haven haproxy haproxy-retry nginx; do
		lbc_backend_start 1 && lbc_backend_start 2 || exit 1
		proxy_start $p || exit 1
		timeout $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" \
		    "http://127.0.0.1:$(port_of $p)/" > "$tmp/wrk.out" 2>&1 &
		w=$!
		sleep "$kill_at"
		lbc_backend_kill 2
		wait $w
		reqs=$(awk '/requests in/{print $1}' "$tmp/wrk.out")
		sock=$(awk '/Socket errors/{gsub(",", ""); print $4 + $6 + $8 + $10}' "$tmp/wrk.out")
		non2xx=$(awk '/Non-2xx/{print $NF}' "$tmp/wrk.out")
		echo "round $r $p: ${reqs:-0} requests, socket errors ${sock:-0}, non-2xx ${non2xx:-0}"
		echo "$p ${reqs:-0} ${sock:-0} ${non2xx:-0}" >> "$tmp/results"
		proxy_stop $p
		lbc_backend_kill 1
	done
done

echo "lb_failover.sh: medians over $rounds rounds (wrk -c$conns ${secs}s, backend 2 stopped at ${kill_at}s)"
printf "%-14s %10s %14s %8s\n" proxy requests socket_errors non2xx
for p in haven haproxy haproxy-retry nginx; do
	req=$(awk -v p=$p '$1==p{print $2}' "$tmp/results" | lbc_median)
	se=$(awk -v p=$p '$1==p{print $3}' "$tmp/results" | lbc_median)
	nx=$(awk -v p=$p '$1==p{print $4}' "$tmp/results" | lbc_median)
	printf "%-14s %10.0f %14.0f %8.0f\n" $p "$req" "$se" "$nx"
done
