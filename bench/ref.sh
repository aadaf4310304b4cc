#!/bin/sh
# Benchmark of the reference transfer system: end-to-end sagas per second
# and p50/p99 latency with 32 concurrent clients, internal and external
# transfers (and top-ups), with a fault-injector link on every edge.
# Target: >= 200 internal transfers/s on 2 cores.
set -eu
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-"$BUILD/faultline"}
LOAD="$BUILD/tests/helpers/ref_load"
DURATION=${BENCH_DURATION:-5}
CLIENTS=${BENCH_CLIENTS:-32}
T=$(mktemp -d)
cleanup() { "$FAULTLINE" ref down --data "$T/ref" >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT INT TERM

start=$(date +%s%N)
"$FAULTLINE" ref up --data "$T/ref" >"$T/up.out"
end=$(date +%s%N)
awk -v ns="$((end - start))" 'BEGIN { ms = ns / 1e6; printf "  faultline ref up (7 services, 13 links): %.0f ms  (target < 2000 ms: %s)\n", ms, (ms < 2000 ? "met" : "NOT met") }'
for kind in internal external topup; do
	"$LOAD" "$T/ref/topology.json" --kind "$kind" --clients "$CLIENTS" --duration "$DURATION" >"$T/$kind.out"
	line=$(cat "$T/$kind.out")
	rate=$(echo "$line" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
	p50=$(echo "$line" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')
	p99=$(echo "$line" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')
	done_n=$(echo "$line" | sed -n 's/.* completed=\([0-9]*\).*/\1/p')
	printf '  %-8s %3d clients: %7.1f sagas/s  p50 %6.1f ms  p99 %6.1f ms  (%s completed)' "$kind" "$CLIENTS" "$rate" "$p50" "$p99" "$done_n"
	if [ "$kind" = internal ]; then
		awk -v r="$rate" 'BEGIN { printf "  (target >= 200/s: %s)", (r >= 200 ? "met" : "NOT met") }'
	fi
	echo
done
"$FAULTLINE" ref down --data "$T/ref" >"$T/down.out" || { cat "$T/down.out"; exit 1; }
echo "  shutdown: every process exited 0"
