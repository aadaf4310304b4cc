#!/bin/sh
# make demo: start the reference transfer system with a fault-injector link
# on every edge, run the scenario suite and a short chaos experiment, print
# the report, stop everything. Where this build has no reference system yet,
# runs the example scenarios against a small local HTTP server instead.
set -eu
BUILD=${BUILD:-build}
FAULTLINE="$BUILD/faultline"
T=$(mktemp -d)
SRV_PID=""
REF_UP=""
cleanup() {
	[ -n "$REF_UP" ] && "$FAULTLINE" ref down --data "$T/ref" >/dev/null 2>&1 || true
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	banner() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
else
	banner() { printf '\n== %s ==\n' "$*"; }
fi

if "$FAULTLINE" help ref >/dev/null 2>&1 && [ -x "$BUILD/transferd" ] && [ -d scenarios/e2e ]; then
	banner "starting the reference transfer system (faultline ref up)"
	"$FAULTLINE" ref up --data "$T/ref" --seed 1
	REF_UP=1
	"$FAULTLINE" ref status --data "$T/ref"
	banner "scenario suite (scenarios/e2e)"
	rc=0
	"$FAULTLINE" run scenarios/e2e -e FL_REF="$T/ref" --seed 1 --report junit="$T/e2e.xml" || rc=$?
	if [ -d scenarios/chaos ]; then
		banner "short chaos experiment (scenarios/chaos)"
		"$FAULTLINE" run scenarios/chaos -e FL_REF="$T/ref" -e CHAOS_DURATION=10 --seed 1 || rc=$?
	fi
	banner "stopping the reference system"
	"$FAULTLINE" ref down --data "$T/ref"
	REF_UP=""
	exit $rc
fi

banner "example scenarios (scenarios/unit) against a local HTTP server"
"$BUILD/tests/helpers/static_http" 127.0.0.1:0 >"$T/srv.out" 2>&1 &
SRV_PID=$!
i=0
while ! grep -q '^listening' "$T/srv.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "demo: the example server did not start" >&2; exit 3; }
	sleep 0.05
done
ADDR=$(sed -n 's/^listening \(.*\)/\1/p' "$T/srv.out")
"$FAULTLINE" run scenarios/unit -e BASE="http://$ADDR" --seed 1 --report junit="$T/unit.xml"
echo "JUnit report: $(grep -o 'tests="[0-9]*"' "$T/unit.xml" | head -1) written and checked"
