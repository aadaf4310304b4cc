#!/bin/sh
# Runs every test suite and prints one line per suite and a closing summary.
#   unit suites:   $BUILD/tests/test_*          (cmocka binaries from tests/unit/)
#   drivers:       tests/selftest/*.sh, e2e/*.sh (shell drivers starting real processes)
# A suite passes with exit 0, is skipped with exit 77, fails otherwise.
# Environment: BUILD (build dir), TEST_ONLY (substring filter on suite names),
# QUICK (1 default: drivers run their short variants), TEST_TIMEOUT (s per suite).
set -u
BUILD=${BUILD:-build}
QUICK=${QUICK:-1}
TEST_ONLY=${TEST_ONLY:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
ROOT=$(pwd)
LOGDIR="$BUILD/test-logs"
mkdir -p "$LOGDIR"
export FAULTLINE="$ROOT/$BUILD/faultline" TRANSFERD="$ROOT/$BUILD/transferd" BUILD QUICK ROOT
export FL_TEST_HELPERS="$ROOT/$BUILD/tests/helpers"
export CMOCKA_MESSAGE_OUTPUT=stdout
# Sanitizer runs: fail on the first report, and keep leak checks on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0 failed=0 skipped=0 failed_names=""
start=$(date +%s)

run_suite() { # name, command...
	name=$1; shift
	case "$name" in *"$TEST_ONLY"*) ;; *) return ;; esac
	log="$LOGDIR/$(echo "$name" | tr '/' '_').log"
	t0=$(date +%s.%N)
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
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

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for d in tests/selftest/*.sh e2e/*.sh; do
	[ -f "$d" ] || continue
	run_suite "${d%.sh}" sh "$d"
done

end=$(date +%s)
echo
[ -n "$failed_names" ] && echo "failed suites:$failed_names"
echo "duration: $((end - start)) s"
echo "summary: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
