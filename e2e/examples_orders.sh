#!/bin/sh
# The orders example (examples/orders/, three Python services) end to end:
# its unit, e2e and chaos scenarios pass on the correct system; each planted
# bug is caught by its named invariant (the run exits 1 naming it); the
# correct system raises no false alarm over seeds (1 seed here, 5 with
# QUICK=0). Each run starts a fresh system with faultline up
# examples/orders/topology.lua (the short-breaker scenarios on one started
# with ORDERS_BREAKER set); the two missing-compensation runs go at once,
# each on its own system.
#   missing-compensation   -> saga S2 (net effect), from e2e/sagas.lua and the chaos experiment
#   ready-while-draining   -> probe H2 (readiness after SIGTERM), from e2e/shutdown.lua
# EXAMPLES_PARTS (default all: "scenarios chaos planted") runs only those
# parts: 1 the scenarios and pacts on the correct system (and the
# short-breaker scenarios on one started with ORDERS_BREAKER), 2 the chaos
# experiment on it, 3 the planted bugs (mutation testing's control run
# reruns only the part that failed); BAIL=1 runs the scenarios with --bail,
# EXAMPLES_GREP with --grep (only those tests, and no pact verification).
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
ROOT=${ROOT:-$(pwd)}
QUICK=${QUICK:-1}
PARTS=" ${EXAMPLES_PARTS:-scenarios chaos planted} "
part() { case "$PARTS" in *" $1 "*) return 0 ;; esac; return 1; }
# the scenarios run's extra options, kept in "$@"
set --; [ "${BAIL:-0}" = 1 ] && set -- --bail
[ -n "${EXAMPLES_GREP:-}" ] && set -- "$@" --grep "$EXAMPLES_GREP"
command -v python3 > /dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
SC="$ROOT/examples/orders/scenarios"
WORK=$(mktemp -d)
JOBS=""
cleanup() {
	set +e
	for p in $JOBS; do kill "$p" 2> /dev/null; done
	for d in "$WORK"/sys-*; do
		[ -d "$d" ] && "$FAULTLINE" down --data "$d" > /dev/null 2>&1
	done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fresh() { # NAME [bugs] [breaker] -> a freshly started system, its data directory in $SYS
	SYS="$WORK/sys-$1"
	ORDERS_BUGS=${2:-} ORDERS_BREAKER=${3:-} "$FAULTLINE" up "$ROOT/examples/orders/topology.lua" --data "$SYS" > "$WORK/up-$1.log" 2>&1 \
		|| { cat "$WORK/up-$1.log"; exit 1; }
}
stop() { "$FAULTLINE" down --data "$SYS" > /dev/null 2>&1 || true; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
ROWS="$WORK/rows" # the summary's rows, in order
: > "$ROWS"
row() { printf '  %-22s %-34s %-16s %s\n' "$1" "$2" "$3" "$4" >> "$ROWS"; }
expect_rc() { # want name log cmd...
	want=$1 name=$2 log=$3; shift 3
	set +e; "$@" > "$log" 2>&1; rc=$?; set -e
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: $name exited $rc, want $want"; tail -40 "$log"; exit 1
	fi
}
T0=$(now)
SHORT_BREAKER='{"minimum_calls":2,"wait_open_ms":500,"slow_call_duration_ms":300}'

# 1. the correct system: contract (first: its tests replay the traffic of
#    00_traffic.lua on a fresh system), unit, e2e (shutdown.lua restarts orders)
if part scenarios; then
	t=$(now); fresh correct
	echo "faultline up examples/orders/topology.lua: $(sed -n 's/^orders up in \([0-9]* ms\).*/\1/p' "$WORK/up-correct.log")"
	expect_rc 0 "scenarios" "$WORK/scenarios.log" "$FAULTLINE" run "$SC/contract" "$SC/unit" "$SC/e2e" \
		-e FL_SYS="$SYS" -e ORDERS_OUT="$WORK" -e CONTRACT_FRESH=1 --seed 1 "$@"
	grep -q " 0 failed, 0 skipped" "$WORK/scenarios.log" || { tail -20 "$WORK/scenarios.log"; exit 1; }
	# the pacts' provider states need the whole run's traffic: not with a selection
	[ -n "${EXAMPLES_GREP:-}" ] && pacts="" || pacts="payments inventory"
	for p in $pacts; do
		url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["services"][sys.argv[2]]["url"])' \
			"$SYS/topology.json" "$p")
		expect_rc 0 "contract verify $p" "$WORK/verify-$p.log" "$FAULTLINE" contract verify \
			"$SC/contract/pacts/orders-$p.json" --provider-url "$url"
	done
	stop; echo "scenarios (contract, unit, e2e) and pacts on the correct system: passed ($(since "$t") s)"

fi
# a short breaker decided by two calls (a system of its own: orders reads
# ORDERS_BREAKER at start): a call out across a transition counts in no
# window (short-breaker/stale-calls.lua, breaker C4). Part of the scenarios,
# not of a rerun of the other scenarios' failing tests (EXAMPLES_GREP).
if part scenarios && [ -z "${EXAMPLES_GREP:-}" ]; then
	t=$(now); fresh short "" "$SHORT_BREAKER"
	expect_rc 0 "short-breaker scenarios" "$WORK/short.log" "$FAULTLINE" run "$SC/short-breaker" \
		-e FL_SYS="$SYS" -e ORDERS_OUT="$WORK" --seed 1 "$@"
	grep -q " 0 failed, 0 skipped" "$WORK/short.log" || { tail -20 "$WORK/short.log"; exit 1; }
	stop; echo "short-breaker scenarios on the correct system: passed ($(since "$t") s)"
fi

# 2. chaos with every checker, correct system, over seeds
seeds="1"; [ "$QUICK" = 0 ] && seeds="1 2 3 4 5"
part chaos || seeds=""
for s in $seeds; do
	t=$(now); fresh "chaos-$s"
	expect_rc 0 "chaos seed $s" "$WORK/chaos-$s.log" "$FAULTLINE" chaos "$SC/chaos/random-faults.lua" \
		-e FL_SYS="$SYS" -e ORDERS_OUT="$WORK" -e CHAOS_DURATION=4 --seed "$s"
	stop; echo "chaos seed $s, correct system: hypothesis held ($(since "$t") s)"
	row "(none)" "chaos seed $s" "no alarm" "$(sed -n 's/^ *\([0-9]* orders ([^)]*)\).*/\1/p' "$WORK/chaos-$s.log")"
done

# 3. planted bugs: each caught by its invariant, exit 1
caught() { # bug invariant-pattern scenario-label log
	grep -q "$2" "$4" || { echo "FAIL: $1 not caught by $2 in $3"; tail -40 "$4"; exit 1; }
	row "$1" "$3" "caught" "$(grep -o "$2" "$4" | head -1)"
}
# missing-compensation: e2e/sagas.lua and the chaos experiment each on a
# system of their own, at once (both assert the net effect the saga checker
# finds, not timings); their outputs and rows in order
mc_e2e() {
	fresh mc missing-compensation
	expect_rc 1 "missing-compensation e2e" "$WORK/bug-mc.log" "$FAULTLINE" run "$SC/e2e/sagas.lua" \
		-e FL_SYS="$SYS" -e ORDERS_OUT="$WORK" --seed 1
	caught missing-compensation "S2 net effect" "e2e/sagas.lua" "$WORK/bug-mc.log"
	stop
}
mc_chaos() {
	fresh mc-chaos missing-compensation
	expect_rc 1 "missing-compensation chaos" "$WORK/bug-mc-chaos.log" "$FAULTLINE" chaos "$SC/chaos/random-faults.lua" \
		-e FL_SYS="$SYS" -e ORDERS_OUT="$WORK" -e CHAOS_DURATION=4 --seed 1
	caught missing-compensation "S2 net effect" "chaos seed 1" "$WORK/bug-mc-chaos.log"
	stop
}
if part planted; then
	t=$(now)
	(ROWS="$WORK/rows-mc"; mc_e2e) > "$WORK/mc.out" 2>&1 < /dev/null &
	JOBS="$!"
	(ROWS="$WORK/rows-mc-chaos"; mc_chaos) > "$WORK/mc-chaos.out" 2>&1 < /dev/null &
	JOBS="$JOBS $!"
	r=0
	for p in $JOBS; do wait "$p" || r=1; done
	JOBS=""
	cat "$WORK/mc.out" "$WORK/mc-chaos.out"
	[ "$r" -eq 0 ] || exit 1
	cat "$WORK/rows-mc" "$WORK/rows-mc-chaos" >> "$ROWS"
	echo "missing-compensation: caught by S2 ($(since "$t") s)"

	t=$(now); fresh rwd ready-while-draining
	expect_rc 1 "ready-while-draining" "$WORK/bug-rwd.log" "$FAULTLINE" run "$SC/e2e/shutdown.lua" \
		-e FL_SYS="$SYS" -e ORDERS_OUT="$WORK" --seed 1
	caught ready-while-draining "H2 readiness follows SIGTERM" "e2e/shutdown.lua" "$WORK/bug-rwd.log"
	stop; echo "ready-while-draining: caught by H2 ($(since "$t") s)"
fi

printf '\nplanted-bug matrix (examples/orders):\n  %-22s %-34s %-16s %s\n' bug scenario verdict invariant
cat "$ROWS"
echo "examples_orders: all passed in $(since "$T0") s"
