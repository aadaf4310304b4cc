#!/bin/sh
# make demo: start the reference transfer system with a fault-injector link
# on every edge, run the scenario suite (contracts, end-to-end sagas), a
# chaos run checked by every checker and a short chaos experiment, print the
# report, stop everything. Where this build has no reference system yet,
# runs the example scenarios against a small local HTTP server instead.
# FL_VERDICTS=FILE: every checker verdict of the e2e and chaos runs is
# appended to FILE (tests/selftest/demo.sh checks them).
set -eu
BUILD=${BUILD:-build}
FAULTLINE="$BUILD/faultline"
T=$(mktemp -d)
OUT="$BUILD/demo"	# reports kept after the demo
mkdir -p "$OUT"
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

if "$FAULTLINE" help ref >/dev/null 2>&1 && [ -x "$BUILD/transferd" ]; then
	banner "starting the reference transfer system (faultline ref up)"
	"$FAULTLINE" ref up --data "$T/ref" --lease 10 --driver $$ --seed 1
	REF_UP=1
	rc=0
	# the scenario suite: the committed contracts of every edge (they replay a
	# fresh system's ids, so they run first), then the end-to-end sagas
	if [ -d scenarios/contract ]; then
		banner "contract tests (scenarios/contract)"
		"$FAULTLINE" run scenarios/contract -e FL_REF="$T/ref" -e CONTRACT_REF=1 --seed 1 \
			--report junit="$OUT/contract.xml" || rc=$?
	fi
	if [ -d scenarios/e2e ]; then
		banner "end-to-end scenarios (scenarios/e2e)"
		"$FAULTLINE" run scenarios/e2e -e FL_REF="$T/ref" ${FL_VERDICTS:+-e FL_VERDICTS="$FL_VERDICTS"} \
			--seed 1 --report junit="$OUT/e2e.xml" || rc=$?
	fi
	if [ -d scenarios/chaos ]; then
		banner "chaos run: clients transfer under a random fault schedule, then every checker"
		rm -f "$OUT/history.jsonl"	# histories append: one run per page
		"$FAULTLINE" run scenarios/chaos -e FL_REF="$T/ref" -e CHAOS_DURATION=8 --seed 1 \
			${FL_VERDICTS:+-e FL_VERDICTS="$FL_VERDICTS"} \
			-e CHAOS_HISTORY="$OUT/history.jsonl" --history "$OUT/history.jsonl" \
			--report html="$OUT/chaos.html" --report json="$OUT/chaos.json" || rc=$?
	fi
	banner "short chaos experiment (faultline chaos scenarios/experiments/slow-bank.lua)"
	"$FAULTLINE" chaos scenarios/experiments/slow-bank.lua -e FL_REF="$T/ref" --seed 1 \
		--journal "$OUT/journal.json" --report html="$OUT/experiment.html" \
		--report junit="$OUT/experiment.xml" || rc=$?
	banner "report"
	"$FAULTLINE" ref status --data "$T/ref" || true
	echo "experiment journal: status $(sed -n 's/^  "status": "\(.*\)",*$/\1/p' "$OUT/journal.json" | tail -1)"
	echo "reports kept in $OUT/: chaos.html (timeline with fault windows, percentiles, every"
	echo "  checker's verdict), experiment.html (probes, steps, rollbacks), chaos.json (the run's"
	echo "  journal: faultline report $OUT/chaos.json -o again.html), history-*.jsonl (re-check"
	echo "  offline: faultline check saga $OUT/history-saga-all.jsonl --report html=check.html),"
	echo "  e2e.xml, contract.xml, experiment.xml (JUnit), journal.json (the experiment's journal)"
	banner "stopping the reference system (faultline ref down)"
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
"$FAULTLINE" run scenarios/unit -e BASE="http://$ADDR" --seed 1 --report junit="$OUT/unit.xml"
echo "JUnit report: $OUT/unit.xml ($(grep -o 'tests="[0-9]*"' "$OUT/unit.xml" | head -1))"
