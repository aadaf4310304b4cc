#!/bin/sh
# make bench: benchmarks that print ratios against baselines measured in the
# same run. Not part of make test. Each component may add bench/<name>.sh;
# this script runs the runner's own benchmarks, then every other bench/*.sh.
set -eu
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-"$BUILD/faultline"}
HELPERS="$BUILD/tests/helpers"
DURATION=${BENCH_DURATION:-5}
T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM

echo "== faultline run: fl.parallel(64) GETs vs wrk -c 64, same static server, ${DURATION} s each =="
"$HELPERS/static_http" 127.0.0.1:0 >"$T/srv.out" 2>&1 &
SRV_PID=$!
i=0; while ! grep -q '^listening' "$T/srv.out" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
ADDR=$(sed -n 's/^listening \(.*\)/\1/p' "$T/srv.out")
wrk -t 1 -c 64 -d "${DURATION}s" "http://$ADDR/" >"$T/wrk.out"
wrk_rate=$(awk '/Requests\/sec/ { print $2 }' "$T/wrk.out")
"$FAULTLINE" run bench/http_rate.lua -q -e BASE="http://$ADDR" -e CLIENTS=64 -e DURATION="$DURATION" >"$T/fl.out"
fl_rate=$(sed -n 's/^rate: \([0-9.]*\) req\/s.*/\1/p' "$T/fl.out")
printf '  wrk -t1 -c64:           %10.0f req/s\n' "$wrk_rate"
printf '  faultline parallel(64): %10.0f req/s\n' "$fl_rate"
awk -v a="$fl_rate" -v b="$wrk_rate" 'BEGIN { r = a / b; printf "  ratio faultline/wrk:    %10.2f  (target >= 0.50: %s)\n", r, (r >= 0.5 ? "met" : "NOT met") }'
kill "$SRV_PID"; SRV_PID=""

echo "== faultline run: wall time of an empty scenario (50 runs) =="
"$FAULTLINE" run bench/empty.lua -q >/dev/null
start=$(date +%s%N)
n=0; while [ $n -lt 50 ]; do "$FAULTLINE" run bench/empty.lua -q >/dev/null; n=$((n + 1)); done
end=$(date +%s%N)
awk -v ns="$((end - start))" 'BEGIN { ms = ns / 50 / 1e6; printf "  mean wall time: %.1f ms  (target < 20 ms: %s)\n", ms, (ms < 20 ? "met" : "NOT met") }'

for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo
	echo "== $b =="
	BUILD="$BUILD" sh "$b" || echo "  $b failed (exit $?)"
done
