#!/bin/bash
# run-suites.sh - run every test suite of one build directory and total them.
#
# Usage: tests/run-suites.sh BUILD_DIR [--totals FILE] [--no-integ]
#
# Suites, in order: unit tests (test_*), simulated-clock scenarios (sim_*),
# fuzz corpus replays (replay_NAME over tests/fuzz/corpus/NAME), then the
# pytest integration suite with HAVEN_BIN=BUILD_DIR/haven. The list of
# binaries comes from meson's introspection of BUILD_DIR, not from a glob, so
# a stale binary of a test that was removed is never run and a test that did
# not build counts as failed instead of silently vanishing.
#
# Each suite's output goes to BUILD_DIR/test-logs/SUITE.log; the last
# "N passed, N failed, N skipped" line of it is the suite's result. A binary
# that dies without that line, or exits non-zero while claiming no failure,
# counts as 1 failed. A build dir with pending ninja work (a failed or stale
# build) adds 1 failed, because its binaries do not match the sources.
# pytest exit code 5 (no tests collected) is 0 passed, not a failure.
#
# Prints one line per suite, then "total BUILD_DIR: N passed, N failed,
# N skipped"; with --totals, writes "P F S" to FILE for the Makefile to sum.
# Exit status: 0 when nothing failed, 1 otherwise.
set -uo pipefail

usage() {
	echo "usage: $0 BUILD_DIR [--totals FILE] [--no-integ]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=${1%/}
shift
totals_file=""
integ=1
while [ $# -gt 0 ]; do
	case $1 in
	--totals) [ $# -ge 2 ] || usage; totals_file=$2; shift 2 ;;
	--no-integ) integ=0; shift ;;
	*) usage ;;
	esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2
[ -d "$build" ] || { echo "run-suites: no build dir $build" >&2; exit 2; }
build=$(cd "$build" && pwd)
logs=$build/test-logs
mkdir -p "$logs"
python=/usr/bin/python3
bin_timeout=${HAVEN_SUITE_TIMEOUT:-300}
# The integration suite takes about 6.5-7 min on 2 idle cores (plain and
# ASan builds alike); the bound only catches a hang, so it leaves room for a
# machine twice as slow.
integ_timeout=${HAVEN_INTEG_TIMEOUT:-1200}

# Sanitizers abort on the first report so a UBSan finding fails its test
# instead of scrolling by; harmless in a build without them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export HAVEN_BUILD=$build HAVEN_BIN=$build/haven
# A sanitizer build skips the integration tests marked `timing` (conftest).
if "$python" -c 'import json, sys
o = json.load(open(sys.argv[1] + "/meson-info/intro-buildoptions.json"))
sys.exit(0 if any(x["name"] == "b_sanitize" and x["value"] not in
                  ("none", "", []) for x in o) else 1)' "$build" 2>/dev/null; then
	export HAVEN_SANITIZED=1
else
	unset HAVEN_SANITIZED
fi

tp=0 tf=0 ts=0
summary_re='^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'

# suite_add NAME P F S SECONDS [NOTE]: record and print one suite's result.
suite_add() {
	local name=$1 p=$2 f=$3 s=$4 secs=$5 note=${6:-}
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
	printf '  %-28s %s passed, %s failed, %s skipped (%ss)%s\n' \
	    "$name" "$p" "$f" "$s" "$secs" "${note:+ - $note}"
}

# show_log FILE: the tail of a failed suite's log, indented.
show_log() {
	echo "    --- last lines of $1"
	tail -n 30 "$1" | sed 's/^/    | /'
}

# run_bin NAME CMD...: run one runner-style binary and parse its summary.
run_bin() {
	local name=$1 log=$logs/$1.log start rc line p f s pid note=""
	shift
	start=$SECONDS
	# timeout leads its own process group; whatever a test forked and
	# left behind is killed with it, so no stray peer outlives its suite.
	timeout -k 10 "$bin_timeout" "$@" >"$log" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	kill -KILL -- "-$pid" 2>/dev/null
	line=$(grep -E "$summary_re" "$log" | tail -n 1)
	if [ -z "$line" ]; then
		p=0 f=1 s=0
		note="no summary line (exit $rc)"
		[ $rc -eq 124 ] && note="timed out after ${bin_timeout}s"
	else
		read -r p _ f _ s _ <<<"${line//,/}"
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			note="exit $rc despite 0 failed"
		fi
	fi
	suite_add "$name" "$p" "$f" "$s" $((SECONDS - start)) "$note"
	[ "$f" -eq 0 ] || show_log "$log"
}

# intro_targets: "name<TAB>path" of every executable meson knows about.
intro_targets() {
	"$python" - "$build/meson-info/intro-targets.json" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    for t in json.load(f):
        if t.get("type") == "executable":
            print(t["name"] + "\t" + t["filename"][0])
PY
}

echo "suites of $build:"

# A failed or stale build leaves old binaries behind; say so loudly.
pending=$(ninja -C "$build" -n 2>&1 | tail -n 1)
case $pending in
*"no work to do"*) ;;
*) suite_add build 0 1 0 0 "ninja has pending work: build failed or stale" ;;
esac

if [ ! -f "$build/meson-info/intro-targets.json" ]; then
	suite_add introspection 0 1 0 0 "$build is not a configured meson dir"
	targets=""
else
	targets=$(intro_targets | sort)
fi

for kind in test_ sim_ replay_; do
	while IFS=$'\t' read -r name path; do
		[ -n "$name" ] || continue
		case $name in "$kind"*) ;; *) continue ;; esac
		if [ ! -x "$path" ]; then
			suite_add "$name" 0 1 0 0 "not built"
			continue
		fi
		if [ "$kind" = replay_ ]; then
			corpus=tests/fuzz/corpus/${name#replay_}
			if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
				# A target without a corpus tests nothing.
				suite_add "$name" 0 1 0 0 "empty or missing $corpus"
				continue
			fi
			run_bin "$name" "$path" "$corpus"
		else
			run_bin "$name" "$path"
		fi
	done <<<"$targets"
done

# run_integ: the pytest suite; its summary words come in any order.
run_integ() {
	local log=$logs/integ.log start=$SECONDS rc p=0 f=0 s=0 pid note="" words
	timeout -k 20 "$integ_timeout" "$python" -m pytest tests/integ -q \
	    -p no:cacheprovider -rfEs --durations=10 >"$log" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	kill -KILL -- "-$pid" 2>/dev/null
	words=$(grep -E '^(=+ )?[0-9]+ [a-z]+.* in [0-9.]+s' "$log" | tail -n 1)
	if [ $rc -eq 5 ]; then
		note="no tests collected"
	elif [ -z "$words" ]; then
		f=1
		note="no pytest summary (exit $rc)"
		[ $rc -eq 124 ] && note="timed out after ${integ_timeout}s"
	else
		while read -r n w; do
			case $w in
			passed | xpassed) p=$((p + n)) ;;
			failed | error | errors) f=$((f + n)) ;;
			skipped | xfailed) s=$((s + n)) ;;
			esac
		done < <(grep -Eo '[0-9]+ [a-z]+' <<<"$words")
		if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
			f=1
			note="exit $rc despite 0 failed"
		fi
	fi
	suite_add integ "$p" "$f" "$s" $((SECONDS - start)) "$note"
	[ $f -eq 0 ] || show_log "$log"
}

if [ $integ -eq 1 ]; then
	if [ -d tests/integ ]; then
		run_integ
	else
		suite_add integ 0 0 0 0 "no tests/integ"
	fi
fi

echo "total $build: $tp passed, $tf failed, $ts skipped"
[ -z "$totals_file" ] || echo "$tp $tf $ts" >"$totals_file"
[ $tf -eq 0 ]
