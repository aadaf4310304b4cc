#!/bin/sh
# Checker benchmark: generates a 1,000,000-line history per checker (saga,
# bank, breaker, probe; valid ones, so each check is a full pass) with
# tests/helpers/check_genhist, then times `faultline check` on each, reading
# and checking included, on one core. Target: under 2 s each.
# Env: BUILD (build dir), BENCH_LINES (default 1000000), BENCH_KEEP=1 keeps the files.
set -eu
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-"$BUILD/faultline"}
GEN="$BUILD/tests/helpers/check_genhist"
LINES=${BENCH_LINES:-1000000}
[ -x "$GEN" ] || { echo "  $GEN is not built (make tests)"; exit 1; }
T=$(mktemp -d)
cleanup() { [ -n "${BENCH_KEEP:-}" ] && echo "  kept $T" || rm -rf "$T"; }
trap cleanup EXIT INT TERM

echo '{"name":"b","window_size":10,"minimum_calls":5,"wait_open_ms":1000,"half_open_calls":3}' >"$T/breaker.json"
echo '{"total":10000}' >"$T/bank.json"
echo '{"service":"svc","period":0.01,"timeout":1}' >"$T/probe.json"
echo '{}' >"$T/saga.json"
ONE_CORE=""
command -v taskset >/dev/null 2>&1 && ONE_CORE="taskset -c 0"
status=0
for k in saga bank breaker probe; do
	"$GEN" "$k" "$LINES" "$T/$k.jsonl" >/dev/null
	size=$(wc -c <"$T/$k.jsonl")
	start=$(date +%s%N)
	rc=0
	$ONE_CORE "$FAULTLINE" check "$k" "$T/$k.jsonl" --config "$T/$k.json" >"$T/$k.out" || rc=$?
	end=$(date +%s%N)
	verdict=$(sed -n 's/^check [a-z]*: valid \([a-z]*\)$/\1/p' "$T/$k.out")
	awk -v k="$k" -v ns="$((end - start))" -v n="$LINES" -v mb="$size" -v v="$verdict" 'BEGIN {
		s = ns / 1e9
		printf "  %-8s %8d lines %6.0f MB  %6.2f s  %7.2f M lines/s  valid %-7s (target < 2 s: %s)\n",
			k, n, mb / 1e6, s, n / s / 1e6, v, (s < 2 ? "met" : "NOT met") }'
	[ "$rc" -eq 0 ] || { echo "  $k: the generated history did not check valid (exit $rc)"; status=1; }
done
exit $status
