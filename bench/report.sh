#!/bin/sh
# Report benchmark: the HTML page of a 1,000,000-operation history
# (tests/helpers/check_genhist ops: 64 clients, fault windows, process
# events). Prints the page's size, the time `faultline report` takes to
# write it (reading the history included) beside the time `cat` takes to
# read the file (the floor), and the time headless Chromium takes to render
# the page against a one-line page, in alternating rounds (median and
# range). Skips the render without chromium.
# Env: BUILD, BENCH_OPS (default 1000000), BENCH_ROUNDS (default 5).
set -eu
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-"$BUILD/faultline"}
GEN="$BUILD/tests/helpers/check_genhist"
OPS=${BENCH_OPS:-1000000}
ROUNDS=${BENCH_ROUNDS:-5}
. bench/lib.sh
[ -x "$GEN" ] || { echo "  $GEN is not built (make tests)"; exit 1; }
T=$(mktemp -d)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT INT TERM
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

echo "== report: the page of a $OPS-operation history, $ROUNDS alternating rounds =="
"$GEN" ops "$OPS" "$T/h.jsonl" >/dev/null
echo 'it("nothing", function() end)' >"$T/nop.lua"
"$FAULTLINE" run "$T/nop.lua" -q --report json="$T/j.json" >/dev/null
echo "  history: $(wc -l <"$T/h.jsonl") lines, $(($(wc -c <"$T/h.jsonl") / 1048576)) MiB"
gen="" cat_t="" r=0
while [ $r -lt "$ROUNDS" ]; do
	a=$(now); cat "$T/h.jsonl" >/dev/null; b=$(now)
	"$FAULTLINE" report "$T/j.json" "$T/h.jsonl" -o "$T/page.html"; c=$(now)
	cat_t="$cat_t $(secs "$a" "$b")" gen="$gen $(secs "$b" "$c")"
	r=$((r + 1))
done
echo "  page: $(wc -c <"$T/page.html") bytes"
echo "  write the page: $(stats $gen) s; reading the file (cat): $(stats $cat_t) s"

CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	echo "  render: skipped (no chromium)"
	exit 0
fi
echo '<!DOCTYPE html><title>x</title><p>x' >"$T/blank.html"
render() {
	prof=$(mktemp -d)
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --dump-dom "file://$1" >/dev/null 2>&1
	rm -rf "$prof"
}
page="" blank="" diff="" r=0
while [ $r -lt "$ROUNDS" ]; do
	a=$(now); render "$T/blank.html"; b=$(now); render "$T/page.html"; c=$(now)
	blank="$blank $(secs "$a" "$b")" page="$page $(secs "$b" "$c")"
	diff="$diff $(awk -v x="$(secs "$b" "$c")" -v y="$(secs "$a" "$b")" 'BEGIN { printf "%.3f", x - y }')"
	r=$((r + 1))
done
echo "  chromium --dump-dom: the page $(stats $page) s, a one-line page $(stats $blank) s;"
echo "  the page's own cost: $(stats $diff) s"
