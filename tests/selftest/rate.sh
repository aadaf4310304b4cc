#!/bin/sh
# Self-test of fl.rate (open-model load): a rate that is held, one that is
# not (the run fails and says so, or reports it with allow_miss), latency
# from the intended send time, and a p99 threshold failing the run.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
X=tests/scenarios/rate_open.lua
T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
fails=0

. "${ROOT:-.}/tests/lib/static_http.sh"
static_http_start

run() { # mode, expected exit, text expected in the output
	set +e
	"$FAULTLINE" run $X -e BASE="$BASE" -e MODE="$1" >"$T/out" 2>&1
	got=$?
	set -e
	if [ "$got" = "$2" ] && grep -q "$3" "$T/out"; then echo "ok   $1 exits $2 ($3)"; else
		echo "FAIL $1: exit $got, want $2 and '$3'"; sed 's/^/     /' "$T/out" | head -20; fails=$((fails + 1)); fi
}

run hold 0 "planned 200 sent 200"
run slow 1 "cannot hold 100 req/s"
run miss 0 "cannot hold 100 req/s"
run threshold 1 "thresholds crossed"
[ $fails -eq 0 ]
