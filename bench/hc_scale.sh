#!/bin/sh
# hc_scale.sh - the health engine with N tcp targets (default 5000) at
# interval 1 s against listeners on 127.0.0.1, next to HAProxy checking the
# same number of servers (`check inter 1s`) against the same kind of
# listeners. Prints each side's CPU (% of one core, utime+stime from
# /proc/<pid>/stat) and haven's probe latency p50/p90/p99, then the CPU
# ratio haven/haproxy. Goal: haven < 50 % of one core.
#
# Usage: bench/hc_scale.sh [N] [SECONDS] [RUNS]      (defaults 5000 20 1)
# Env: BUILD=build-bench (meson build dir holding libhavencore.a)
set -eu

N=${1:-5000}
SECS=${2:-20}
RUNS=${3:-1}
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
OUT=$(mktemp -d /tmp/hc_scale.XXXXXX)
trap 'kill $SRV 2>/dev/null || true; kill $HAP 2>/dev/null || true; rm -rf "$OUT"' EXIT INT TERM
SRV=""
HAP=""

[ -d "$BUILD" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" libhavencore.a >/dev/null
cc -O2 -D_GNU_SOURCE -DHAVEN_VERSION='"bench"' -Isrc bench/hc_scale.c \
    "$BUILD/libhavencore.a" $(pkg-config --cflags --libs libfyaml openssl) \
    -lm -o "$OUT/hc_scale"

# utime+stime of pid in seconds.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

haproxy_run() {
	"$OUT/hc_scale" -s -l 8 -p 22000 &
	SRV=$!
	{
		printf 'global\n  maxconn 2000\n  log stderr local0 emerg\n'
		printf 'defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout check 1s\n'
		printf 'frontend f\n  bind 127.0.0.1:22999\n  default_backend b\n'
		printf 'backend b\n'
		i=0
		while [ $i -lt "$N" ]; do
			printf '  server s%d 127.0.0.1:%d check inter 1s fall 2 rise 2\n' $i $((22000 + i % 8))
			i=$((i + 1))
		done
	} >"$OUT/haproxy.cfg"
	haproxy -f "$OUT/haproxy.cfg" -q &
	HAP=$!
	sleep 2
	c0=$(cpu_s $HAP)
	sleep "$SECS"
	c1=$(cpu_s $HAP)
	kill $HAP; wait $HAP 2>/dev/null || true
	kill $SRV; wait $SRV 2>/dev/null || true
	HAP=""; SRV=""
	awk -v a="$c0" -v b="$c1" -v s="$SECS" 'BEGIN { printf "%.1f\n", 100 * (b - a) / s }'
}

run=1
while [ $run -le "$RUNS" ]; do
	line=$("$OUT/hc_scale" -n "$N" -d "$SECS")
	echo "haven:   $line"
	hcpu=$(echo "$line" | sed -n 's/.*cpu_pct=\([0-9.]*\).*/\1/p')
	if command -v haproxy >/dev/null 2>&1; then
		acpu=$(haproxy_run)
		echo "haproxy: targets=$N cpu_pct=$acpu"
		awk -v h="$hcpu" -v a="$acpu" 'BEGIN { if (a > 0) printf "ratio haven/haproxy cpu: %.2f\n", h / a }'
	fi
	run=$((run + 1))
done
