# lb_common.sh - shared by bench/lb*.sh (sourced, not run): start and stop
# the two nginx backends (127.0.0.1:9001/9002), HAProxy, the nginx proxy and
# haven from the configs in bench/lb/, each in a private temp dir, and kill
# every one of them on exit. Everything is loopback; every wait is bounded.
#
# Env: HAVEN_BIN (default build/haven, else the first build-*/haven found).

bench_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
conf=$bench_dir/lb
if [ -z "${HAVEN_BIN:-}" ]; then
	HAVEN_BIN=$repo/build/haven
	[ -x "$HAVEN_BIN" ] || HAVEN_BIN=$(ls "$repo"/build*/haven 2>/dev/null | head -1)
fi
[ -x "${HAVEN_BIN:-}" ] || { echo "no haven binary: build first or set HAVEN_BIN" >&2; exit 2; }
for p in nginx haproxy wrk python3 curl; do
	command -v $p >/dev/null || { echo "missing $p: apt-get install -y nginx-light haproxy wrk curl" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/lbbench.XXXXXX)
haven_pid=""

lbc_cleanup() {
	for f in "$tmp"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ -n "$haven_pid" ] && kill "$haven_pid" 2>/dev/null && wait "$haven_pid" 2>/dev/null
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap lbc_cleanup EXIT
trap 'exit 130' INT TERM

# Wait (at most 10 s) until something listens on 127.0.0.1:$1.
lbc_wait_port() {
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# Wait (at most 10 s) until 127.0.0.1:$1 refuses connections.
lbc_wait_closed() {
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# backend N (1 or 2): nginx on 900N.
lbc_backend_start() {
	sed "s#/tmp/bench-backend-$1.pid#$tmp/b$1.pid#; s#/tmp/bench-backend-$1.err#$tmp/b$1.err#" \
	    "$conf/backend-$1.conf" > "$tmp/b$1.conf"
	nginx -c "$tmp/b$1.conf" && lbc_wait_port 900$1
}

# SIGTERM: nginx's fast stop, connections cut as in a crash of the service.
lbc_backend_kill() {
	kill -TERM "$(cat "$tmp/b$1.pid")" && rm -f "$tmp/b$1.pid"
	lbc_wait_closed 900$1
}

# HAProxy with bench/lb/$1 (default haproxy.cfg) on 8081.
lbc_haproxy_start() {
	sed "s#/tmp/bench-haproxy.pid#$tmp/hap.pid#" "$conf/${1:-haproxy.cfg}" > "$tmp/hap.cfg"
	haproxy -f "$tmp/hap.cfg" && lbc_wait_port ${2:-8081}
}

lbc_haproxy_stop() {
	kill "$(cat "$tmp/hap.pid")" 2>/dev/null; rm -f "$tmp/hap.pid"
	lbc_wait_closed ${1:-8081}
}

# nginx proxy on 8082.
lbc_nginxproxy_start() {
	sed "s#/tmp/bench-nginxproxy.pid#$tmp/ngp.pid#; s#/tmp/bench-nginxproxy.err#$tmp/ngp.err#" \
	    "$conf/nginx-proxy.conf" > "$tmp/ngp.conf"
	nginx -c "$tmp/ngp.conf" && lbc_wait_port 8082
}

# haven with bench/lb/$1 (@DIR@ replaced by the temp dir); waits until its
# listener $2 is up and, for http pools, both servers are usable.
lbc_haven_start() {
	mkdir -p "$tmp/haven"
	sed "s#@DIR@#$tmp/haven#g" "$conf/$1" > "$tmp/haven/haven.yaml"
	(ulimit -n 65536; exec "$HAVEN_BIN" run -c "$tmp/haven/haven.yaml") \
	    > "$tmp/haven/haven.log" 2>&1 &
	haven_pid=$!
	lbc_wait_port "$2" || { tail "$tmp/haven/haven.log" >&2; return 1; }
	for _ in $(seq 100); do
		n=$("$HAVEN_BIN" ctl -s "$tmp/haven/haven.sock" GET /v1/lb 2>/dev/null |
		    grep -o '"usable":true' | wc -l)
		[ "$n" -ge "${3:-2}" ] && return 0
		sleep 0.1
	done
	echo "haven: servers not usable within 10 s" >&2
	return 1
}

lbc_haven_stop() {
	[ -n "$haven_pid" ] && kill "$haven_pid" 2>/dev/null && wait "$haven_pid" 2>/dev/null
	haven_pid=""
}

# PID of haven's lb worker 0, from /v1/status.
lbc_haven_lb_pid() {
	"$HAVEN_BIN" ctl -s "$tmp/haven/haven.sock" GET /v1/status | python3 -c '
import json, sys
print([p["pid"] for p in json.load(sys.stdin)["processes"]
       if p["plane"] == "lb"][0])'
}

# Median of the numbers on stdin.
lbc_median() {
	python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.stdin.read().split()))'
}
