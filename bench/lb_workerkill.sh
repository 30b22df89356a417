#!/bin/bash
# lb_workerkill.sh - kill -9 of one of two proxy workers every 2 s during a
# wrk run, haven next to nginx (two workers, the master respawns them, the
# listening sockets are shared) and, with HAVEN_BASE_BIN, an older haven
# build. Two nginx backends on 9001/9002; nginx proxy on 8082, haven on
# 8086, base on 8087, each with two workers.
#
# Two client modes per target, one run each: keep-alive (wrk's default: a
# kill cuts the connections the dead worker had accepted, which no proxy can
# save) and "Connection: close" (every request is a new connection, so each
# one passes through an accept queue: errors beyond the in-flight requests
# of the killed worker are connections reset in its queue). Prints per
# target and mode the requests, wrk's error counts and the kills done.
#
# Usage: bench/lb_workerkill.sh   env: SECS (20), CONNS (64), EVERY (2),
#                                      HAVEN_BIN, HAVEN_BASE_BIN
set -u
. "$(dirname "$0")/lb_common.sh"
secs=${SECS:-20}; conns=${CONNS:-64}; every=${EVERY:-2}

lbc_backend_start 1 && lbc_backend_start 2 || exit 1

# nginx as a proxy with two workers (the anchor's conf, one key changed).
sed -e "s#/tmp/bench-nginxproxy.pid#$tmp/ngp.pid#" \
    -e "s#/tmp/bench-nginxproxy.err#$tmp/ngp.err#" \
    -e "s#^worker_processes 1;#worker_processes 2;#" \
    "$conf/nginx-proxy.conf" > "$tmp/ngp.conf"
nginx -c "$tmp/ngp.conf" && lbc_wait_port 8082 || exit 1

# haven (and base) with two lb workers on their own ports.
hv_start() { # name bin port
	mkdir -p "$tmp/$1"
	sed -e "s#@DIR@#$tmp/$1#g" -e "s#127.0.0.1:8080#127.0.0.1:$3#" \
	    -e "s#workers: 1#workers: 2#" "$conf/haven.yaml" > "$tmp/$1/haven.yaml"
	(ulimit -n 65536; exec "$2" run -c "$tmp/$1/haven.yaml") \
	    > "$tmp/$1/haven.log" 2>&1 &
	echo $! > "$tmp/$1.pid"
	lbc_wait_port "$3" || { tail "$tmp/$1/haven.log" >&2; return 1; }
	sleep 3 # its servers pass their first checks
}
hv_start haven "$HAVEN_BIN" 8086 || exit 1
targets="nginx=8082 haven=8086"
if [ -n "${HAVEN_BASE_BIN:-}" ]; then
	hv_start base "$HAVEN_BASE_BIN" 8087 || exit 1
	targets="$targets base=8087"
fi

# The two worker pids of a target, one per line.
workers() {
	case $1 in
	nginx) pgrep -P "$(cat "$tmp/ngp.pid")" ;;
	*) "$HAVEN_BIN" ctl -s "$tmp/$1/haven.sock" GET /v1/status 2>/dev/null |
	    python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    if p["plane"] == "lb" and p["pid"]:
        print(p["pid"])' ;;
	esac
}

# Kill worker (i mod 2) every $every s for $secs s; prints the kill count.
killer() {
	local n=0 i=0 end=$((SECONDS + secs)) pids
	sleep "$every"
	while [ $SECONDS -lt $end ]; do
		pids=($(workers "$1"))
		if [ ${#pids[@]} -ge 1 ]; then
			kill -9 "${pids[$((i % ${#pids[@]}))]}" 2>/dev/null && n=$((n + 1))
		fi
		i=$((i + 1))
		sleep "$every"
	done
	echo $n
}

for mode in keepalive close; do
	for t in $targets; do
		name=${t%%=*}; port=${t#*=}
		hdr=()
		[ $mode = close ] && hdr=(-H "Connection: close")
		killer "$name" > "$tmp/kills" &
		kpid=$!
		timeout $((secs + 30)) wrk -t2 -c"$conns" -d"${secs}s" "${hdr[@]}" \
		    "http://127.0.0.1:$port/" > "$tmp/out" 2>&1
		wait $kpid
		req=$(awk '/requests in/{print $1}' "$tmp/out")
		se=$(awk '/Socket errors/{gsub(",", ""); print $4, $6, $8, $10}' "$tmp/out")
		n2=$(awk '/Non-2xx/{print $5}' "$tmp/out")
		set -- ${se:-0 0 0 0}
		printf '%-6s %-9s requests=%-8s connect=%s read=%s write=%s timeout=%s non2xx=%s kills=%s\n' \
		    "$name" "$mode" "${req:-0}" "$1" "$2" "$3" "$4" "${n2:-0}" \
		    "$(cat "$tmp/kills")"
		sleep 1 # respawned workers settle
	done
done
