#!/bin/sh
# The HTML page in a real browser: a deviating chaos experiment (a local
# service) and the demo's chaos run (the reference system under a random
# fault schedule, every checker) are rendered in headless Chromium, which
# saves a screenshot of each ($BUILD/report-pages/*.png) and dumps the DOM
# it built. The DOM must show the probe names and values, one shaded window
# per fault of the history, the latency percentile series and each
# checker's verdict. Also: the JUnit of the experiment names the probe that
# deviated, `faultline report` rebuilds the page from the journal and
# `--compare` renders. Skips (77) without chromium.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}" "${BUILD:=build}"
[ -x "$FAULTLINE" ] || { echo "skip: $FAULTLINE not built"; exit 77; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "skip: chromium not installed (ci/install-deps.sh installs it)"; exit 77; }
T=$(mktemp -d)
SHOTS="$BUILD/report-pages"
mkdir -p "$SHOTS"
SRV_PID="" REF=""
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
	[ -n "$REF" ] && "$FAULTLINE" ref down --data "$REF" >/dev/null 2>&1 </dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi; }

# render PAGE NAME HEIGHT: NAME.png in $SHOTS and NAME.dom in $T (no network,
# a throwaway profile, bounded in time)
render() {
	for what in "--screenshot=$SHOTS/$2.png --window-size=1160,$3 --hide-scrollbars" --dump-dom; do
		prof=$(mktemp -d)
		# shellcheck disable=SC2086
		timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$prof" $what "file://$(realpath "$1")" >"$T/$2.out" 2>"$T/$2.err" || true
		case $what in --dump-dom) mv "$T/$2.out" "$T/$2.dom" ;; esac
		rm -rf "$prof"
	done
	check "$2: chromium rendered the page (screenshot $SHOTS/$2.png)" test -s "$SHOTS/$2.png" -a -s "$T/$2.dom"
}
count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }

# --- 1. a deviating experiment ----------------------------------------------------
. "${ROOT:-.}/tests/lib/static_http.sh"
static_http_start
mkdir "$T/m"
rc=0
"$FAULTLINE" chaos tests/scenarios/chaos_experiment.lua -e BASE="$BASE" -e MODE=deviate -e MARKER="$T/m" \
	--seed 3 --report html="$T/exp.html" --report junit="$T/exp.xml" --report json="$T/exp.json" \
	>"$T/exp.log" 2>&1 || rc=$?
check "experiment deviates (exit 1)" test "$rc" = 1
render "$T/exp.html" experiment 1300
D="$T/experiment.dom"
check "experiment: verdict deviated" grep -q 'class="chip fail verdict">deviated' "$D"
check "experiment: probe 'answers 200' listed" grep -q '<td class="pname">answers 200</td>' "$D"
check "experiment: probe 'answers fast' listed" grep -q '<td class="pname">answers fast</td>' "$D"
check "experiment: 'answers 200' was 200 before and 503 after" \
	grep -q '<td class="pname">answers 200</td><td>200</td><td class="o-pass">200 <span class="chip pass">ok</span></td><td class="o-fail">503 <span class="chip fail">deviated</span>' "$D"
check "experiment: method steps with start and duration" grep -q '<td>break it</td><td>action</td><td>+[0-9.]* [mµ]*s</td>' "$D"
check "experiment: rollbacks with outcome" grep -q '<td>final cleanup</td><td>rollback</td>' "$D"
check "experiment: the step chart" test "$(count 'class="bar ' "$D")" -ge 6
check "experiment: no script in the page" sh -c "! grep -qi '<script' '$T/exp.html'"
check "experiment JUnit is valid XML" xmllint --noout "$T/exp.xml"
check "experiment JUnit names the deviated probe" \
	grep -q 'name="experiment: the service keeps answering &gt; steady state after: answers 200".*' "$T/exp.xml"
check "experiment JUnit: the probe's failure says what it got" grep -q '<failure message="deviated: 503, want 200"' "$T/exp.xml"
check "experiment JUnit: a test case per probe, step and rollback" test "$(count '<testcase ' "$T/exp.xml")" -ge 9

# --- 2. the demo's chaos run ---------------------------------------------------------
if [ ! -x "$BUILD/transferd" ]; then
	echo "skip the chaos run: no $BUILD/transferd"
else
	REF="$T/ref"
	timeout 60 "$FAULTLINE" ref up --data "$REF" --lease 10 --driver $$ --seed 1 >"$T/up.log" 2>&1 </dev/null || {
		cat "$T/up.log"; bad "ref up"; exit 1; }
	rc=0
	"$FAULTLINE" run scenarios/chaos -e FL_REF="$REF" -e CHAOS_DURATION=5 --seed 1 \
		--history "$T/h.jsonl" -e CHAOS_HISTORY="$T/h.jsonl" \
		--report html="$T/chaos.html" --report json="$T/chaos.json" >"$T/chaos.log" 2>&1 || rc=$?
	check "chaos run passes" test "$rc" = 0 || sed 's/^/     /' "$T/chaos.log" | tail -20
	render "$T/chaos.html" chaos-run 2600
	D="$T/chaos-run.dom"
	faults=$(grep -c '"event":"fault".*"action":"added"\|"action":"added".*"event":"fault"' "$T/h.jsonl" || true)
	check "chaos: the history has faults ($faults)" test "$faults" -gt 0
	check "chaos: one shaded window per fault ($(count 'class="fault"' "$D") for $faults)" \
		test "$(count 'class="fault"' "$D")" = "$faults"
	for p in p50 p95 p99; do
		check "chaos: latency $p series" grep -q "<polyline class=\"series $p\"" "$D"
	done
	check "chaos: throughput per operation type" grep -q '<polyline class="series ops" data-series="transfer"' "$D"
	check "chaos: process events marked" grep -q 'class="mark proc"' "$D"
	check "chaos: fault labels carry parameters" grep -q 'class="fl">[a-z_]* [^<]*=[^<]*</text>' "$D"
	labels=$(sed -n 's/.*"label": "\([^"]*\)".*/\1/p' "$T/chaos.json" | sort -u)
	echo "$labels" | while read -r l; do
		[ -n "$l" ] || continue
		text=$(printf '%s' "$l" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
		# (Chromium serializes < and > in attribute values as entities too)
		if grep -qF "data-check=\"$text\"><h3>$text <span class=\"chip " "$D" ||
		   grep -qF "data-check=\"$l\"><h3>$text <span class=\"chip " "$D"; then
			echo "ok   chaos: verdict of $l"
		else
			echo "FAIL chaos: verdict of $l"; echo x >>"$T/verdict-fails"
		fi
	done
	[ -f "$T/verdict-fails" ] && fails=$((fails + $(wc -l <"$T/verdict-fails")))
	n=$(echo "$labels" | grep -c . || true)
	check "chaos: every checker ($n) has its verdict on the page" test "$(count 'verdict">' "$D")" -ge "$n"
	check "chaos: invariants listed" test "$(count 'class="inv inv-' "$D")" -ge 20
	check "chaos: the coverage summary (faults per target, sagas per path)" \
		grep -q '<h2>Coverage: .*<th>saga path</th>.*<td>completed</td>' "$D"

	# --- 3. after the fact ---------------------------------------------------------
	"$FAULTLINE" report "$T/chaos.json" "$T/h.jsonl" -o "$T/again.html"
	check "report from the journal: the same fault windows" \
		test "$(count "class='fault'" "$T/again.html")" = "$faults"
	check "report from the journal: the verdicts" \
		test "$(count "verdict'>" "$T/again.html")" = "$(count "verdict'>" "$T/chaos.html")"
	"$FAULTLINE" report --compare "$T/chaos.json" "$T/exp.json" -o "$T/cmp.html"
	render "$T/cmp.html" compare 1400
	check "compare: invariants side by side" grep -q '<th>A</th><th>B</th>' "$T/compare.dom"
fi

[ "$fails" = 0 ] || { echo "$fails failed"; exit 1; }
echo ok
