#!/bin/sh
# `make demo` must never fail: run it as the test suite builds it (same
# BUILD, so the sanitizer run checks the demo's processes too) and check
# that it stopped everything it started.
set -eu
: "${BUILD:=build}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
BUILD="$BUILD" NO_COLOR=1 sh ci/demo.sh >"$out" 2>&1 || { tail -n 40 "$out"; echo "make demo failed"; exit 1; }
tail -n 12 "$out"
if grep -q "faultline ref up" "$out"; then
	grep -q "stopping the reference system" "$out" || { echo "demo did not stop the system"; exit 1; }
	# `ref down` reports "  NAME  pid N   exited C" (or "killed by SIG") per process
	bad=$(grep -E '^  [a-z]+ +pid [0-9]+ +(exited|killed)' "$out" | grep -v 'exited 0$' || true)
	[ -z "$bad" ] || { echo "not every process exited 0:"; echo "$bad"; exit 1; }
fi
echo "make demo passed"
