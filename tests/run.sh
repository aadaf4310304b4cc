#!/bin/sh
# Runs every test suite and prints one line per suite and a closing summary.
#   unit suites:   $BUILD/tests/test_*          (cmocka binaries from tests/unit/)
#   drivers:       tests/selftest/*.sh, e2e/*.sh (shell drivers starting real processes)
# A suite passes with exit 0, is skipped with exit 77, fails otherwise.
#
# The suites run one at a time, in this order, except the drivers marked
#   # test-lane: side
# in their first 20 lines: those run one at a time in a second lane beside
# the others, under nice 10 and told to use one core (FL_TEST_CORES=1), and
# are reported after them. A side-lane suite opens no socket, starts no
# system, shares no file with another suite and asserts no timing (builds,
# packaging, format checks, fuzzing); everything timed stays in the main lane,
# alone on the machine (docs/ci.md).
#
# Environment: BUILD (build dir), TEST_ONLY (substring filter on suite names),
# QUICK (1 default: drivers run their short variants), TEST_TIMEOUT (s per
# suite), TEST_JOBS (2 default: the side lane; 1 runs every suite in order).
set -u
BUILD=${BUILD:-build}
QUICK=${QUICK:-1}
TEST_ONLY=${TEST_ONLY:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
TEST_JOBS=${TEST_JOBS:-2}
ROOT=$(pwd)
LOGDIR="$BUILD/test-logs"
mkdir -p "$LOGDIR"
export FAULTLINE="$ROOT/$BUILD/faultline" TRANSFERD="$ROOT/$BUILD/transferd" BUILD QUICK ROOT
export FL_TEST_HELPERS="$ROOT/$BUILD/tests/helpers"
export CMOCKA_MESSAGE_OUTPUT=stdout
# Sanitizer runs: fail on the first report, and keep leak checks on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0 failed=0 skipped=0 failed_names="" suite_s=0
start=$(date +%s)

run_suite() { # name, command...
	name=$1; shift
	case "$name" in *"$TEST_ONLY"*) ;; *) return ;; esac
	log="$LOGDIR/$(echo "$name" | tr '/' '_').log"
	t0=$(date +%s.%N)
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	suite_s=$(awk -v a="$suite_s" -v b="$dt" 'BEGIN { print a + b }')
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); printf '  PASS  %-40s %6ss\n' "$name" "$dt"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1)); printf '  SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$log")"
	else
		failed=$((failed + 1)); failed_names="$failed_names $name"
		printf '  FAIL  %-40s %6ss (exit %d; log %s)\n' "$name" "$dt" "$rc" "$log"
		tail -n 30 "$log" | sed 's/^/        | /'
	fi
}

side_lane() { # driver -> true when it runs in the side lane
	[ "$TEST_JOBS" -ge 2 ] && head -n 20 "$1" | grep -q '^# test-lane: side'
}

# The side lane: its own counters, its output kept for the end.
side_pid=""
side_out="$LOGDIR/side-lane.out"
rm -f "$side_out" "$side_out.counts"
if [ "$TEST_JOBS" -ge 2 ]; then
	(
		export FL_TEST_CORES=1
		for d in tests/selftest/*.sh e2e/*.sh; do
			[ -f "$d" ] && side_lane "$d" || continue
			run_suite "${d%.sh}" nice -n 10 sh "$d"
		done
		echo "$passed $failed $skipped $suite_s$failed_names" >"$side_out.counts"
	) >"$side_out" 2>&1 </dev/null &
	side_pid=$!
	trap 'kill $side_pid 2>/dev/null; exit 130' INT TERM
fi

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for d in tests/selftest/*.sh e2e/*.sh; do
	[ -f "$d" ] || continue
	side_lane "$d" && continue
	run_suite "${d%.sh}" sh "$d"
done

if [ -n "$side_pid" ]; then
	wait "$side_pid"
	if [ -s "$side_out" ]; then
		echo "side lane (beside the suites above; nice 10, one core):"
		cat "$side_out"
	fi
	if [ -f "$side_out.counts" ]; then
		read -r p f s t names <"$side_out.counts"
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		suite_s=$(awk -v a="$suite_s" -v b="$t" 'BEGIN { print a + b }')
		failed_names="$failed_names${names:+ $names}"
	else
		failed=$((failed + 1)); failed_names="$failed_names side-lane"
		echo "the side lane did not finish (output: $side_out)"
	fi
fi

end=$(date +%s)
echo
[ -n "$failed_names" ] && echo "failed suites:$failed_names"
echo "duration: $((end - start)) s (the suites' own times add up to $(printf '%.0f' "$suite_s") s)"
echo "summary: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
