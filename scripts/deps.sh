#!/bin/sh
# deps.sh - install the Debian 12 packages haven needs for one purpose.
#
# Usage: scripts/deps.sh [build|check|demo|bench]   (default: build)
#
# The package lists below are the single source of truth for what haven
# depends on; nothing is vendored. The check is dpkg-query only, so a run
# on a machine that has everything takes milliseconds and never touches the
# network. As root, missing packages are installed (apt-get update only when
# something is missing); otherwise the exact command to run is printed and
# the script exits 1.
set -eu

purpose=${1:-build}

BUILD="meson ninja-build pkg-config gcc clang libfyaml-dev libssl-dev
	libmnl-dev liburing-dev libjansson-dev libclang-rt-14-dev
	libnftables-dev libxxhash-dev libzstd-dev libsodium-dev"
CHECK="python3 python3-pytest python3-prometheus-client nginx-light curl
	wrk iproute2 iptables iputils-ping openssl procps psmisc dnsutils
	keepalived iputils-arping nftables nsd knot python3-dnspython
	knot-dnsutils e2fsprogs xfsprogs btrfs-progs util-linux mount
	python3-cryptography unbound bind9-dnsutils bind9"
BENCH="haproxy wrk nginx-light iperf3 keepalived dnsperf nsd gdnsd bc restic rsync"
DEMO="nginx-light curl"

case $purpose in
build) want="$BUILD" ;;
check) want="$BUILD $CHECK" ;;
bench) want="$BUILD $CHECK $BENCH" ;;
demo) want="$BUILD $DEMO" ;;
-h|--help|help)
	echo "usage: $0 [build|check|demo|bench]"
	exit 0
	;;
*)
	echo "deps.sh: unknown purpose '$purpose' (build|check|demo|bench)" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
missing=${missing# }

if [ -z "$missing" ]; then
	echo "deps.sh: all $purpose packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages for $purpose: $missing" >&2
	echo "run: sudo apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi

echo "deps.sh: installing: $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # word splitting of the list is intended
apt-get install -y --no-install-recommends $missing
