#!/bin/sh
# `make demo` must never fail: run it as the test suite builds it (same
# BUILD, so the sanitizer run checks the demo's processes too) and check
# that it stopped everything it started. The demo runs every e2e scenario
# and the chaos scenario (seed 1, 8 s) on the correct reference system:
# this suite is where make test checks that every checker's verdict there is
# valid (e2e/matrix.sh does it only with QUICK=0, not to run them twice).
set -eu
: "${BUILD:=build}"
out=$(mktemp)
v=$(mktemp)
trap 'rm -f "$out" "$v"' EXIT
FL_VERDICTS="$v" BUILD="$BUILD" NO_COLOR=1 sh ci/demo.sh >"$out" 2>&1 || {
	# what failed (the runs' failure lines), then the end of the output
	grep -E '^== |✗|^ *FAIL |first: ' "$out" | head -n 40
	echo "..."
	tail -n 15 "$out"
	echo "make demo failed"
	exit 1
}
tail -n 12 "$out"
if grep -q "faultline ref up" "$out"; then
	grep -q "stopping the reference system" "$out" || { echo "demo did not stop the system"; exit 1; }
	# `ref down` reports "  NAME  pid N   exited C" (or "killed by SIG") per process
	bad=$(grep -E '^  [a-z]+ +pid [0-9]+ +(exited|killed)' "$out" | grep -v 'exited 0$' || true)
	[ -z "$bad" ] || { echo "not every process exited 0:"; echo "$bad"; exit 1; }
	# the correct system: the e2e and chaos checkers ran, every verdict valid
	checks=$(grep -c . "$v" || true)
	invalid=$(grep -c -v '"valid":true' "$v" || true)
	echo "checker verdicts on the correct system: $checks, not valid: $invalid"
	[ "$checks" -gt 0 ] || { echo "no checker verdict recorded"; exit 1; }
	[ "$invalid" -eq 0 ] || { grep -v '"valid":true' "$v"; exit 1; }
fi
echo "make demo passed"
