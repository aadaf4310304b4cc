#!/bin/sh
# faultline report: a run's reports rebuilt from its JSON journal and its
# history (HTML with the timeline, JUnit equal to the run's own, TAP), an
# experiment's --journal as a run with its parts, --compare, and the errors
# (not a journal, unreadable, unwritable). The rendering in a browser is
# tests/selftest/report_html.sh.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
[ -x "$FAULTLINE" ] || { echo "skip: $FAULTLINE not built"; exit 77; }
T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
fails=0
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok   $d"; else echo "FAIL $d"; fails=$((fails + 1)); fi; }
expect_rc() { want=$1; shift; set +e; "$@" >"$T/out" 2>"$T/err"; got=$?; set -e
	if [ "$got" = "$want" ]; then echo "ok   exit $want: $*"; else
		echo "FAIL exit $got, want $want: $*"; sed 's/^/     /' "$T/err" | head -5; fails=$((fails + 1)); fi; }
count() { grep -o "$1" "$2" | wc -l | tr -d ' '; }

cat >"$T/w.lua" <<'LUA'
local fl = require "faultline"
it("a workload under a fault", function()
  local h = fl.history.default()
  h:event{ event = "fault", action = "added", what = "latency", target = "a->b", id = "f1",
           attributes = { latency = 50 } }
  fl.parallel(4, function(p)
    for i = 1, 10 do
      h:invoke(p, i % 2 == 0 and "read" or "write", { i = i })
      fl.sleep(0.002)
      if i % 5 == 0 then h:fail(p, "write", {}) else h:ok(p, "write", {}) end
    end
  end)
  h:event{ event = "fault", action = "removed", id = "f1" }
  h:event{ event = "process", action = "killed", service = "money" }
end)
it("fails", function() expect(1).to_be(2) end)
LUA
expect_rc 1 "$FAULTLINE" run "$T/w.lua" --seed 7 --history "$T/h.jsonl" --report json="$T/j.json" \
	--report junit="$T/run.xml"
check "journal names the command with its seed" grep -q '"command": "faultline run .*--seed 7' "$T/j.json"
check "journal names the history" grep -q "\"history\": \"$T/h.jsonl\"" "$T/j.json"

expect_rc 0 "$FAULTLINE" report "$T/j.json" -o "$T/r.html"
check "page: 40 operations, one fault window" grep -q "40 operations over [^,]*, 1 fault window," "$T/r.html"
check "page: the fault's window labelled with target and parameters" \
	grep -q "class='fl'>latency a-&gt;b latency=50</text>" "$T/r.html"
check "page: the process event marked" grep -q "class='mark proc'" "$T/r.html"
check "page: latency percentiles" grep -q "class='series p99'" "$T/r.html"
check "page: per operation type" grep -q "data-series='read'" "$T/r.html"
check "page: the failure expanded with its source line" grep -q "<pre class='src'>16│ " "$T/r.html"
check "page: the command to reproduce" grep -q "faultline run .*--seed 7" "$T/r.html"
check "page: no script" sh -c "! grep -qi '<script' '$T/r.html'"

expect_rc 0 "$FAULTLINE" report "$T/j.json" -o "$T/r.xml"
check "JUnit from the journal is valid" xmllint --noout "$T/r.xml"
check "JUnit from the journal has the run's test cases" \
	test "$(count '<testcase ' "$T/r.xml")" = "$(count '<testcase ' "$T/run.xml")"
expect_rc 0 "$FAULTLINE" report "$T/j.json" --format tap -o -
check "TAP from the journal" grep -q '^not ok 2 - .*fails' "$T/out"
# histories given on the command line replace the recorded one
head -3 "$T/h.jsonl" >"$T/short.jsonl"
expect_rc 0 "$FAULTLINE" report "$T/j.json" "$T/short.jsonl" -o "$T/short.html"
check "history given replaces the recorded one" grep -q "from 1 file" "$T/short.html"
check "... and is the one read" sh -c "! grep -q '40 operations' '$T/short.html'"

expect_rc 0 "$FAULTLINE" report --compare "$T/j.json" "$T/j.json" -o "$T/c.html"
check "compare: the change table" grep -q "Change from A to B" "$T/c.html"
check "compare: a run against itself changes nothing" grep -q "latency p50</td><td>[^<]*</td><td>[^<]*</td><td class='n '>+0.0 %" "$T/c.html"
check "compare: shared axes, A solid and B dashed" grep -q "stroke-dasharray" "$T/c.html"

# an experiment's own journal: a run of one test with its parts
. "${ROOT:-.}/tests/lib/static_http.sh"
static_http_start
mkdir "$T/m"
expect_rc 1 "$FAULTLINE" chaos tests/scenarios/chaos_experiment.lua -e BASE="$BASE" -e MODE=deviate \
	-e MARKER="$T/m" --journal "$T/exp.json"
expect_rc 0 "$FAULTLINE" report "$T/exp.json" -o "$T/exp.xml"
check "experiment journal: JUnit valid" xmllint --noout "$T/exp.xml"
check "experiment journal: the deviated probe is a failing test case" \
	grep -q 'steady state after: answers 200" .*>' "$T/exp.xml"
check "experiment journal: ... saying what it got" grep -q 'failure message="deviated: 503, want 200"' "$T/exp.xml"
expect_rc 0 "$FAULTLINE" report "$T/exp.json" -o "$T/exp.html"
check "experiment page: probes before and after" grep -q "<td class='pname'>answers 200</td>" "$T/exp.html"

# fl.hist: the histogram a workload records latencies into
cat >"$T/hist.lua" <<'LUA'
local fl = require "faultline"
it("percentiles within 1/128 of a sorted oracle, merge, misuse", function()
  local a, b, all, v = fl.hist(), fl.hist(), fl.hist(), {}
  for i = 1, 20000 do
    local x = (fl.random() ^ 3) * 2   -- seconds, skewed to short
    v[#v + 1] = x
    all:record(x)
    if i % 2 == 0 then a:record(x) else b:record(x) end
  end
  table.sort(v)
  for _, p in ipairs({ 1, 50, 90, 99, 99.9 }) do
    local want = v[math.ceil(p / 100 * #v)]
    local got = all:percentile(p)
    assert(math.abs(got - want) <= want / 128 + 1e-9, string.format("p%g: %g vs %g", p, got, want))
  end
  a:merge(b)
  expect(a:count()).to_be(20000)
  expect(a:percentile_ns(99)).to_be(all:percentile_ns(99))
  expect(a:max()).to_be(all:max())
  expect(pcall(all.record, all, -1)).to_be(false)
  expect(pcall(all.percentile, all, 101)).to_be(false)
  expect(tostring(all):match("^hist%(20000 values")).to_be("hist(20000 values")
end)
LUA
expect_rc 0 "$FAULTLINE" run "$T/hist.lua" --seed 5

# errors
echo '{"version":1}' >"$T/not.json"
expect_rc 2 "$FAULTLINE" report "$T/not.json"
check "not a journal: says so" grep -q "not a faultline journal" "$T/err"
echo 'nonsense' >"$T/bad.json"
expect_rc 2 "$FAULTLINE" report "$T/bad.json"
check "unreadable journal: names file and line" grep -q "bad.json:1:" "$T/err"
expect_rc 2 "$FAULTLINE" report "$T/missing.json"
expect_rc 2 "$FAULTLINE" report
expect_rc 2 "$FAULTLINE" report --compare "$T/j.json"
expect_rc 2 "$FAULTLINE" report "$T/j.json" --format xml
expect_rc 3 "$FAULTLINE" report "$T/j.json" -o /proc/version/x.html
expect_rc 0 "$FAULTLINE" report --help

[ "$fails" = 0 ] || { echo "$fails failed"; exit 1; }
echo ok
