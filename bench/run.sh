#!/bin/bash
# make bench: every side-by-side benchmark in turn, each against its anchor.
# Each script is bounded in time and prints its own table of medians and
# ratios; see bench/README.md. HAVEN_BIN defaults to build-bench/haven.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export HAVEN_BIN=${HAVEN_BIN:-$here/../build-bench/haven}
rc=0
for b in lb.sh lb_failover.sh lb_tcp.sh lb_workerkill.sh lb_idle.sh hc_scale.sh; do
	printf '\n### bench/%s\n' "$b"
	"$here/$b" || rc=1
done
exit $rc
