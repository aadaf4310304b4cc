#!/bin/sh
# Pacts from a capture: faultline contract generate versus tshark's own HTTP
# dissection of the same file, in the same run.
#   BUILD=build MB=100 sh bench/contract.sh
# Targets (docs/contracts.md): at least 10x faster than
# `tshark -r FILE -Y http -T json`, and over 100 MB/s of capture on one core.
# The capture is synthetic (many keep-alive connections of JSON API traffic,
# segmented like a real stack) and is written by the contract test binary.
set -eu
BUILD=${BUILD:-build}
MB=${MB:-100}
FAULTLINE=${FAULTLINE:-$BUILD/faultline}
WRITER=$BUILD/tests/test_contract_pcap
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
[ -x "$WRITER" ] || { echo "bench/contract: build $WRITER first (make tests)"; exit 77; }
FL_WRITE_BENCH_PCAP="$T/bench.pcap" FL_BENCH_MB="$MB" "$WRITER"
size=$(wc -c < "$T/bench.pcap")
now() { date +%s.%N; }
t0=$(now)
"$FAULTLINE" contract generate --pcap "$T/bench.pcap" --map 10.0.0.2:8080=money --map 10.0.0.1=web \
	-o "$T/pacts" > "$T/gen.log"
t1=$(now)
fl=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
echo "faultline contract generate: ${fl} s for $((size / 1048576)) MB ($(awk -v s="$size" -v t="$fl" 'BEGIN { printf "%.0f", s / 1048576 / t }') MB/s); $(head -1 "$T/gen.log" | sed 's/.*: //')"
if command -v tshark > /dev/null 2>&1; then
	t0=$(now)
	tshark -r "$T/bench.pcap" -Y http -T json > /dev/null 2>&1
	t1=$(now)
	ts=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	ratio=$(awk -v a="$ts" -v b="$fl" 'BEGIN { printf "%.1f", a / b }')
	echo "tshark -Y http -T json: ${ts} s; faultline is ${ratio}x faster (target: 10x)"
	awk -v r="$ratio" 'BEGIN { exit !(r >= 10) }' || { echo "bench/contract: below the 10x target"; exit 1; }
else
	echo "tshark not installed: no comparison"
fi
awk -v s="$size" -v t="$fl" 'BEGIN { exit !(s / 1048576 / t >= 100) }' || { echo "bench/contract: below 100 MB/s"; exit 1; }
