#!/bin/sh
# The planted-bug matrix: for every planted bug of the reference transfer
# system (docs: transfer-system.md), start it with `faultline ref up --bug
# NAME` on a fresh data directory, run the shipped scenario meant to catch
# it, and assert that the named checker reports the named invariant violated
# (faultline exits 1, the invariant id is in the JSON report) while no other
# checker fails. Then, on the correct system, every shipped e2e scenario and
# the chaos scenario pass with every checker valid, over 1 seed of the random
# fault schedule (QUICK=1, make test) or 5 (QUICK=0, make test-matrix).
#
# Environment (tests/run.sh): FAULTLINE, TRANSFERD, ROOT, QUICK;
# MATRIX_SEEDS overrides the number of chaos seeds, MATRIX_ONLY=BUG runs one
# row, CHAOS_DURATION the length of each chaos run (s).
set -eu

ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
FAULTLINE=${FAULTLINE:-$ROOT/build/faultline}
QUICK=${QUICK:-1}
if [ "$QUICK" = 1 ]; then SEEDS=${MATRIX_SEEDS:-1}; DUR=${CHAOS_DURATION:-8}
else SEEDS=${MATRIX_SEEDS:-5}; DUR=${CHAOS_DURATION:-10}; fi
ONLY=${MATRIX_ONLY:-}

if ! "$FAULTLINE" help ref >/dev/null 2>&1; then
	echo "skip: this faultline has no 'ref' command"
	exit 77
fi
TRANSFERD=${TRANSFERD:-$(dirname "$FAULTLINE")/transferd}
[ -x "$TRANSFERD" ] || { echo "skip: no transferd at $TRANSFERD"; exit 77; }
export TRANSFERD

T=$(mktemp -d)
UP=""
cleanup() {
	for d in $UP; do "$FAULTLINE" ref down --data "$d" >/dev/null 2>&1 || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

E2E="$ROOT/scenarios/e2e"
fails=0
rows=""

up() { # data-dir, ref up args...
	d=$1; shift
	UP="$UP $d"
	if ! "$FAULTLINE" ref up --data "$d" "$@" >"$d.up.log" 2>&1; then
		echo "ref up $* failed:"; sed 's/^/  | /' "$d.up.log"
		return 1
	fi
}

down() {
	"$FAULTLINE" ref down --data "$1" >"$1.down.log" 2>&1 || true
	UP=$(echo "$UP" | sed "s# $1##")
}

# One row: bug, scenario file, test name (ERE), checker, invariant.
row() {
	bug=$1 file=$2 grep=$3 checker=$4 inv=$5
	[ -z "$ONLY" ] || [ "$ONLY" = "$bug" ] || return 0
	d="$T/ref-$bug"
	v="$T/verdicts-$bug.jsonl"
	t0=$(date +%s)
	if ! up "$d" --bug "$bug" --seed 1; then
		fails=$((fails + 1)); rows="$rows\n$bug $checker $inv NO(ref-up)"; return 0
	fi
	rc=0
	"$FAULTLINE" run "$E2E/$file" --grep "$grep" -e FL_REF="$d" -e FL_VERDICTS="$v" \
		--seed 1 -q --report json="$T/report-$bug.json" >"$T/run-$bug.log" 2>&1 || rc=$?
	down "$d"
	caught=no why=""
	touch "$v"
	if [ $rc -ne 1 ]; then
		why="faultline exited $rc, not 1"
	elif ! grep "\"checker\":\"$checker\"" "$v" | grep -q "\"failed\":\[[^]]*\"$inv\""; then
		why="$checker did not report $inv"
	elif grep -v "\"checker\":\"$checker\"" "$v" | grep -qv '"failed":\[\]'; then
		why="another checker failed: $(grep -v "\"checker\":\"$checker\"" "$v" | grep -v '"failed":\[\]' | head -1)"
	elif ! grep -q "$inv" "$T/report-$bug.json"; then
		why="$inv not in the JSON report"
	else
		caught=yes
	fi
	dt=$(( $(date +%s) - t0 ))
	printf '%-26s %-8s %-4s caught=%-3s %3ss %s\n' "$bug" "$checker" "$inv" "$caught" "$dt" "$why"
	if [ "$caught" != yes ]; then
		fails=$((fails + 1))
		echo "  verdicts:"; sed 's/^/    /' "$v"
		echo "  run log (tail):"; tail -n 25 "$T/run-$bug.log" | sed 's/^/    | /'
	fi
}

echo "planted bugs (bug, checker, invariant):"
row no-refund                sagas.lua    "bank rejects"               saga    S2
row refund-on-unknown        sagas.lua    "times out after applying"   saga    S5
row non-idempotent-credit    sagas.lua    "answer is lost is retried"  saga    S4
row internal-no-compensation sagas.lua    "destination closed"         saga    S2
row no-saga-deadline         sagas.lua    "until the deadline"         saga    S1
row query-increases-only     sagas.lua    "read model converges"       saga    Q1
row breaker-never-opens      breakers.lua "toward the bank"            breaker C3
row breaker-stuck-open       breakers.lua "toward the bank"            breaker C6
row breaker-halfopen-flood   breakers.lua "toward the bank"            breaker C2
row liveness-checks-deps     probes.lua   "liveness of banking"        probe   H1
row ready-while-draining     probes.lua   "SIGTERM under load"         probe   H2
row drop-inflight-on-sigterm probes.lua   "SIGTERM under load"         probe   H4

# The correct system: every e2e scenario, then the chaos scenario per seed.
if [ -z "$ONLY" ] || [ "$ONLY" = correct ]; then
	echo "correct system (e2e scenarios, then chaos over $SEEDS seed(s), ${DUR}s each):"
	d="$T/ref-correct"
	v="$T/verdicts-correct.jsonl"
	if up "$d" --seed 1; then
		t0=$(date +%s)
		rc=0
		"$FAULTLINE" run "$E2E" -e FL_REF="$d" -e FL_VERDICTS="$v" --seed 1 -q \
			--report json="$T/report-e2e.json" >"$T/run-e2e.log" 2>&1 || rc=$?
		printf '  %-34s exit %d %4ss\n' "scenarios/e2e" "$rc" "$(( $(date +%s) - t0 ))"
		if [ $rc -ne 0 ]; then
			fails=$((fails + 1)); tail -n 40 "$T/run-e2e.log" | sed 's/^/    | /'
		fi
		s=1
		while [ $s -le "$SEEDS" ]; do
			t0=$(date +%s)
			rc=0
			"$FAULTLINE" run "$ROOT/scenarios/chaos" -e FL_REF="$d" -e FL_VERDICTS="$v" \
				-e CHAOS_DURATION="$DUR" --seed "$s" >"$T/run-chaos-$s.log" 2>&1 || rc=$?
			printf '  %-34s exit %d %4ss  %s\n' "scenarios/chaos --seed $s" "$rc" \
				"$(( $(date +%s) - t0 ))" "$(grep -o 'workload: .*' "$T/run-chaos-$s.log" | head -1)"
			if [ $rc -ne 0 ]; then
				fails=$((fails + 1)); tail -n 40 "$T/run-chaos-$s.log" | sed 's/^/    | /'
			fi
			s=$((s + 1))
		done
		checks=$(wc -l <"$v" 2>/dev/null || echo 0)
		bad=$(grep -c -v '"valid":true' "$v" 2>/dev/null || true)
		echo "  checker verdicts: $checks, not valid: ${bad:-0}"
		if [ "${bad:-0}" != 0 ]; then
			fails=$((fails + 1)); grep -v '"valid":true' "$v" | sed 's/^/    /'
		fi
		down "$d"
	else
		fails=$((fails + 1))
	fi
fi

if [ $fails -ne 0 ]; then
	echo "matrix: $fails failure(s)"
	exit 1
fi
if [ -n "$ONLY" ]; then echo "matrix: $ONLY passed"
else echo "matrix: every planted bug caught by its checker; the correct system passes"; fi
