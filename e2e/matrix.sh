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
ROWS="" DOWNS=""
cleanup() {
	for p in $ROWS; do kill "$p" 2>/dev/null || true; done
	for p in $DOWNS; do wait "$p" 2>/dev/null || true; done
	for d in "$T"/ref-*; do
		[ -f "$d/topology.json" ] && "$FAULTLINE" ref down --data "$d" >/dev/null 2>&1
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

E2E="$ROOT/scenarios/e2e"
fails=0

up() { # data-dir, ref up args...
	d=$1; shift
	if ! "$FAULTLINE" ref up --data "$d" --lease 10 --driver $$ "$@" >"$d.up.log" 2>&1; then
		echo "ref up $* failed:"; sed 's/^/  | /' "$d.up.log"
		return 1
	fi
}

# One row: bug, scenario file, test name (ERE), checker, invariant. Prints
# its line (and on failure the verdicts and the run's log) to stdout; leaves
# $T/fail-BUG when the bug was not caught. Runs in a subshell of its own.
row() {
	bug=$1 file=$2 grep=$3 checker=$4 inv=$5
	d="$T/ref-$bug"
	v="$T/verdicts-$bug.jsonl"
	t0=$(date +%s)
	if ! up "$d" --bug "$bug" --seed 1; then
		echo "$bug $checker $inv NO(ref-up)"; : >"$T/fail-$bug"; return 0
	fi
	rc=0
	"$FAULTLINE" run "$E2E/$file" --grep "$grep" -e FL_REF="$d" -e FL_VERDICTS="$v" \
		--seed 1 -q --report json="$T/report-$bug.json" >"$T/run-$bug.log" 2>&1 || rc=$?
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
		: >"$T/fail-$bug"
		echo "  verdicts:"; sed 's/^/    /' "$v"
		echo "  run log (tail):"; tail -n 25 "$T/run-$bug.log" | sed 's/^/    | /'
	fi
}

# rows JOBS < table: the table's rows (bug|file|test|checker|invariant),
# JOBS at a time, each printed whole in the table's order once its batch
# ends. A row's system is stopped in the background (every service drains
# for its default 2 s) while the next rows start: its checks are over and
# every system has ports of its own. The script waits for every stop.
rows() {
	jobs=$1 batch="" ROWS=""
	while IFS='|' read -r bug file grep checker inv; do
		[ -n "$bug" ] || continue
		[ -z "$ONLY" ] || [ "$ONLY" = "$bug" ] || continue
		row "$bug" "$file" "$grep" "$checker" "$inv" >"$T/row-$bug.out" 2>&1 </dev/null &
		ROWS="$ROWS $!" batch="$batch $bug"
		[ "$(echo $batch | wc -w)" -lt "$jobs" ] || rows_end
	done
	rows_end
}
rows_end() {
	for p in $ROWS; do wait "$p" || true; done
	for b in $batch; do
		cat "$T/row-$b.out"
		[ -f "$T/ref-$b/topology.json" ] || continue
		"$FAULTLINE" ref down --data "$T/ref-$b" >"$T/ref-$b.down.log" 2>&1 &
		DOWNS="$DOWNS $!"
	done
	batch="" ROWS=""
}

echo "planted bugs (bug, checker, invariant):"
# The saga rows check what the coordinator did (compensations, idempotency,
# the read model), not how fast: two systems run at once (MATRIX_JOBS).
# The breaker and probe rows time calls and probes: one system at a time.
rows "${MATRIX_JOBS:-2}" <<'EOF2'
no-refund|sagas.lua|bank rejects|saga|S2
refund-on-unknown|sagas.lua|times out after applying|saga|S5
non-idempotent-credit|sagas.lua|answer is lost is retried|saga|S4
internal-no-compensation|sagas.lua|destination closed|saga|S2
no-saga-deadline|sagas.lua|until the deadline|saga|S1
query-increases-only|sagas.lua|read model converges|saga|Q1
EOF2
rows 1 <<'EOF2'
breaker-never-opens|breakers.lua|toward the bank|breaker|C3
breaker-stuck-open|breakers.lua|toward the bank|breaker|C6
breaker-halfopen-flood|breakers.lua|toward the bank|breaker|C2
liveness-checks-deps|probes.lua|liveness of banking|probe|H1
ready-while-draining|probes.lua|SIGTERM under load|probe|H2
drop-inflight-on-sigterm|probes.lua|SIGTERM under load|probe|H4
EOF2
for p in $DOWNS; do wait "$p" || true; done
DOWNS=""
for f in "$T"/fail-*; do [ -e "$f" ] && fails=$((fails + 1)); done

# The correct system: every e2e scenario, then the chaos scenario per seed.
# make test (QUICK=1) leaves it to tests/selftest/demo.sh, which runs the
# same scenarios with the same seed and chaos duration on the correct system
# (make demo) and checks every checker's verdict the same way;
# MATRIX_ONLY=correct or QUICK=0 runs it here.
if [ "$ONLY" = correct ] || { [ -z "$ONLY" ] && [ "$QUICK" != 1 ]; }; then
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
		if [ "${bad:-0}" != 0 ] || [ "$checks" -eq 0 ]; then
			fails=$((fails + 1)); grep -v '"valid":true' "$v" | sed 's/^/    /'
		fi
		"$FAULTLINE" ref down --data "$d" >"$d.down.log" 2>&1 || true
	else
		fails=$((fails + 1))
	fi
elif [ -z "$ONLY" ]; then
	echo "correct system: checked by tests/selftest/demo.sh (make demo) in make test; QUICK=0 or MATRIX_ONLY=correct here"
fi

if [ $fails -ne 0 ]; then
	echo "matrix: $fails failure(s)"
	exit 1
fi
if [ -n "$ONLY" ]; then echo "matrix: $ONLY passed"
elif [ "$QUICK" = 1 ]; then echo "matrix: every planted bug caught by its checker"
else echo "matrix: every planted bug caught by its checker; the correct system passes"; fi
