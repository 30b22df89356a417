#!/bin/bash
# make demo: haven's load balancer in front of two nginx backends, then one
# backend is stopped under traffic and brought back. Runs on loopback only and
# stops everything it started on exit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
haven=${HAVEN_BIN:-$top/build/haven}
conf=$top/examples/quickstart.yaml
dir=/tmp/haven-quickstart
mkdir -p "$dir/state"
pids=()
cleanup() {
	[ -n "${hpid:-}" ] && kill -TERM "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
	for i in 1 2; do [ -f "$dir/app$i.pid" ] && kill "$(cat "$dir/app$i.pid")" 2>/dev/null; done
	true
}
trap cleanup EXIT

backend() {	# backend N: nginx on 127.0.0.1:910N answering "appN"
	cat > "$dir/app$1.conf" <<NGX
worker_processes 1;
daemon on;
pid $dir/app$1.pid;
error_log $dir/app$1.err;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:910$1;
    location = /healthz { return 200 "ok\n"; }
    location / { return 200 "hello from app$1\n"; }
  }
}
NGX
	nginx -c "$dir/app$1.conf"
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_for() {	# wait_for SECONDS CMD...: poll until CMD succeeds
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
target_state() {	# target_state NAME STATE
	"$haven" status -c "$conf" | awk -v n="$1" -v s="$2" '$1==n && $2==s {f=1} END {exit !f}'
}
load() {	# load N: N requests through the balancer; prints the tally
	local out
	for _ in $(seq "$1"); do
		if out=$(curl -s -m 2 -f http://127.0.0.1:8080/); then echo "$out"; else echo "ERROR: request failed"; fi
	done | sort | uniq -c
}

say "starting two backends (nginx on 127.0.0.1:9101 and :9102)"
backend 1; backend 2
say "starting haven: $haven run -c examples/quickstart.yaml"
"$haven" run -c "$conf" 2> "$dir/haven.log" &
hpid=$!
wait_for 10 target_state web/app1 up && wait_for 10 target_state web/app2 up || {
	echo "haven did not come up; log:"; cat "$dir/haven.log"; exit 1; }
"$haven" status -c "$conf"

say "10 requests through the balancer on 127.0.0.1:8080 (round-robin)"
load 10

say "stopping app2 while 300 requests run"
( sleep 0.5; kill "$(cat "$dir/app2.pid")" ) &
load 300
wait_for 10 target_state web/app2 down
"$haven" status -c "$conf"
echo "(every request above succeeded: the failed ones were retried on app1)"

say "starting app2 again: the health engine readmits it after 2 good probes"
backend 2
wait_for 10 target_state web/app2 up
"$haven" status -c "$conf"
load 10

say "haven's log (logfmt, one line per event)"
grep -E 'msg="?(check|target|verdict|child|haven)' "$dir/haven.log" | tail -15
say "done; stopping"
