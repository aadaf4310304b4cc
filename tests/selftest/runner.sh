#!/bin/sh
# Self-test of `faultline run`: runs the scenarios in tests/scenarios/ and
# asserts their outcomes — exit codes, console text, JUnit XML (xmllint and
# contents), TAP 14 (parsed by prove), the JSON journal, seeds.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
SC=tests/scenarios
T=$(mktemp -d)
SRV_PID=""
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM

fails=0
check() { # description, then a command that must succeed
	d=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   $d"; else echo "FAIL $d"; fails=$((fails + 1)); fi
}
expect_exit() { # want, description, command...
	want=$1 d=$2; shift 2
	set +e; "$@" >"$T/out" 2>"$T/err"; got=$?; set -e
	if [ "$got" = "$want" ]; then echo "ok   $d (exit $got)"; else
		echo "FAIL $d: exit $got, want $want"; sed 's/^/     /' "$T/out" "$T/err" | head -30
		fails=$((fails + 1)); fi
}

# 1. one passing, one failing test: exit 1; JUnit lists both, failure with file:line
expect_exit 1 "pass_fail exits 1" "$FAULTLINE" run $SC/pass_fail.lua --report junit="$T/out.xml" --report tap="$T/out.tap" --report json="$T/out.json"
check "console names the failing line" grep -q "pass_fail.lua:11" "$T/out"
check "console shows expected and actual" grep -q "expected 42, got 41" "$T/out"
check "console summary" grep -q "2 passed, 1 failed, 0 skipped" "$T/out"
check "JUnit is well-formed XML" xmllint --noout "$T/out.xml"
check "JUnit has 3 testcases" test "$(grep -c '<testcase' "$T/out.xml")" = 3
check "JUnit counts 1 failure" grep -q 'failures="1"' "$T/out.xml"
check "JUnit failure names file:line" grep -q 'pass_fail.lua:11' "$T/out.xml"
check "TAP is version 14" grep -qx "TAP version 14" "$T/out.tap"
prove --exec cat "$T/out.tap" >"$T/prove.out" 2>&1 || true
check "prove counts the failure" grep -q "Failed 1/3 subtests" "$T/prove.out"
# Debian 12's prove predates TAP 14: tap13 is the same stream it parses cleanly
"$FAULTLINE" run $SC/pass_fail.lua -q --report tap13="$T/out13.tap" || true
prove --exec cat "$T/out13.tap" >"$T/prove13.out" 2>&1 || true
check "prove parses tap13 with no parse error" sh -c "! grep -q 'Parse errors' '$T/prove13.out'"
check "prove counts the tap13 failure" grep -q "Failed 1/3 subtests" "$T/prove13.out"
"$FAULTLINE" run $SC/filters.lua -q -e MODE=ci --report tap13="$T/pass13.tap"
check "prove passes an all-green tap13 run" prove --exec cat "$T/pass13.tap"
expect_exit 2 "two reports on stdout is a usage error" "$FAULTLINE" run $SC/filters.lua --report tap --report json
check "JSON journal summary" grep -q '"failed": *1' "$T/out.json"

# 2. syntax error: exit 2, file:line
expect_exit 2 "syntax error exits 2" "$FAULTLINE" run $SC/syntax_error.lua
check "syntax error names file:line" grep -q "syntax_error.lua:5:" "$T/out"

# 3. closed port: the test fails naming the address
PORT=$(awk 'BEGIN{srand(); print 20000 + int(rand()*20000)}')
expect_exit 1 "closed port fails the test" "$FAULTLINE" run $SC/closed_port.lua -e CLOSED_PORT=$PORT
check "closed port message names the address" grep -q "127.0.0.1:$PORT" "$T/out"
check "closed port message says refused" grep -qi "refused" "$T/out"

# 4. hooks, defers, timeouts
expect_exit 1 "hooks: only the timeout test fails" "$FAULTLINE" run $SC/hooks.lua
check "hooks ran in order" grep -q "✓ ran everything in order" "$T/out"
check "timeout message" grep -q "timed out after 0.2 s" "$T/out"
check "hooks summary" grep -q "3 passed, 1 failed" "$T/out"

# 5. filters, skips, -e
expect_exit 0 "filters with --tag ~slow and -e" "$FAULTLINE" run $SC/filters.lua -t '~slow' -e MODE=ci
check "filters summary" grep -q "2 passed, 0 failed, 2 skipped" "$T/out"
expect_exit 0 "--tag fast" "$FAULTLINE" run $SC/filters.lua -t fast
check "--tag selects 2" grep -q "2 passed, 0 failed, 0 skipped" "$T/out"
expect_exit 0 "--grep" "$FAULTLINE" run $SC/filters.lua -g 'fast one$'
check "--grep selects 1" grep -q "1 passed, 0 failed, 0 skipped" "$T/out"
expect_exit 1 "-e missing fails the env test" "$FAULTLINE" run $SC/filters.lua -g untagged

# 6. concurrency and seeds
expect_exit 0 "concurrency" "$FAULTLINE" run $SC/concurrency.lua --seed 42
grep '^draws' "$T/out" >"$T/d1"
"$FAULTLINE" run $SC/concurrency.lua --seed 42 2>/dev/null | grep '^draws' >"$T/d2" || true
"$FAULTLINE" run $SC/concurrency.lua --seed 43 2>/dev/null | grep '^draws' >"$T/d3" || true
check "same seed, same draws" cmp -s "$T/d1" "$T/d2"
check "other seed, other draws" sh -c "! cmp -s '$T/d1' '$T/d3'"

expect_exit 0 "metrics and thresholds" "$FAULTLINE" run $SC/metrics.lua
expect_exit 0 "task edge cases: joins, deadlock, waits outside tasks" "$FAULTLINE" run $SC/tasks.lua

# 7. several files in parallel; exit code is the worst
expect_exit 2 "--jobs 3 over a directory with a syntax error" "$FAULTLINE" run $SC -j 3 -e MODE=ci -e CLOSED_PORT=$PORT -g '^(arithmetic|outer|tagged)'
check "--jobs summary counts every file" grep -q "($(ls $SC/*.lua | wc -l) files" "$T/out"

# 8. retries: flaky tests keep their failed tries
expect_exit 1 "flaky: one flaky pass, one failure after retries" "$FAULTLINE" run $SC/flaky.lua --report junit="$T/flaky.xml"
check "flaky JUnit valid" xmllint --noout "$T/flaky.xml"
check "flaky JUnit has flakyFailure" grep -q "<flakyFailure" "$T/flaky.xml"
check "failed JUnit has rerunFailure" grep -q "<rerunFailure" "$T/flaky.xml"

# 9. HTML report with workload charts from the history
cat >"$T/hist.lua" <<'LUA'
local fl = require "faultline"
it("records a workload under a fault", function()
  local h = fl.history.default()
  h:event{ event = "fault", action = "added", what = "latency 50ms" }
  fl.parallel(4, function(p)
    for i = 1, 10 do
      h:invoke(p, "transfer", { amount = i })
      fl.sleep(0.002)
      if i % 5 == 0 then h:fail(p, "transfer", {}) else h:ok(p, "transfer", {}) end
    end
  end)
  h:event{ event = "fault", action = "removed", what = "latency 50ms" }
end)
it("fails <visibly> & escaped", function() expect("<b>").to_be("&") end)
LUA
expect_exit 1 "html report run" "$FAULTLINE" run "$T/hist.lua" --history "$T/hist.jsonl" --report html="$T/r.html"
check "history has 40 invocations" test "$(grep -c '"type":"invoke"' "$T/hist.jsonl")" = 40
check "html: summary chips" grep -q "1 passed</span> <span class='chip fail'>1 failed" "$T/r.html"
check "html: workload charts from the history" grep -q "40 operations over [^,]*, 1 fault window," "$T/r.html"
check "html: failure text escaped" grep -q "fails &lt;visibly&gt; &amp; escaped" "$T/r.html"
check "html: no raw markup from test names" sh -c "! grep -q 'fails <visibly>' '$T/r.html'"

# 10. Ctrl-C: cleanups run, exit 130
"$FAULTLINE" run $SC/interrupt.lua -e MARKER="$T/marker" >"$T/int.out" 2>&1 &
RUN_PID=$!
i=0; while [ ! -f "$T/marker.started" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $RUN_PID
set +e; wait $RUN_PID; got=$?; set -e
if [ "$got" = 130 ]; then echo "ok   interrupted run exits 130"; else echo "FAIL interrupted run: exit $got"; fails=$((fails + 1)); fi
check "deferred cleanup (which waits) ran after Ctrl-C" grep -q "cleaned up" "$T/marker"
check "remaining tests did not start" test ! -f "$T/marker.second"
# a second Ctrl-C abandons a slow cleanup, and the report says so
rm -f "$T/marker" "$T/marker.started"
"$FAULTLINE" run $SC/interrupt.lua -e MARKER="$T/marker" -e CLEANUP_SLEEP=30 >"$T/int2.out" 2>&1 &
RUN_PID=$!
i=0; while [ ! -f "$T/marker.started" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $RUN_PID; sleep 0.5; kill -INT $RUN_PID
set +e; wait $RUN_PID; got=$?; set -e
if [ "$got" = 130 ]; then echo "ok   second Ctrl-C exits 130"; else echo "FAIL second Ctrl-C: exit $got"; fails=$((fails + 1)); fi
check "abandoned cleanup did not finish" test ! -f "$T/marker"
check "report says the cleanup was abandoned" grep -q "cleanups abandoned" "$T/int2.out"

# 11. usage errors
expect_exit 2 "unknown option" "$FAULTLINE" run --no-such-option
expect_exit 2 "missing path" "$FAULTLINE" run "$T/nope.lua"
expect_exit 2 "bad report format" "$FAULTLINE" run $SC/filters.lua --report xml
expect_exit 0 "run --help" "$FAULTLINE" run --help
expect_exit 0 "help run" "$FAULTLINE" help run

# 12. HTTP against a real server (the static server helper)
if [ -x "$FL_TEST_HELPERS/static_http" ]; then
	"$FL_TEST_HELPERS/static_http" 127.0.0.1:0 >"$T/srv.out" 2>&1 &
	SRV_PID=$!
	i=0; while ! grep -q listening "$T/srv.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	ADDR=$(sed -n 's/^listening \(.*\)/\1/p' "$T/srv.out")
	expect_exit 1 "http scenario: one deliberate failure" "$FAULTLINE" run $SC/http.lua -e BASE=http://$ADDR
	check "http: 3 passed" grep -q "3 passed, 1 failed" "$T/out"
	check "http failure shows the exchange" grep -q "HTTP: GET http://$ADDR/ -> 200" "$T/out"
	check "http failure shows the response body" grep -q "response: hello" "$T/out"
else
	echo "note: $FL_TEST_HELPERS/static_http not built; HTTP self-test not run"
fi

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all runner self-tests passed"
