#!/bin/sh
# Exit codes and console output as pytest, k6 and Hurl users expect them:
#   - nothing run is an error (exit 2, "no tests matched"): `run` on an empty
#     directory, a --tag or --grep matching nothing, a chaos file that never
#     calls fl.chaos.experiment; --pass-with-no-tests allows it;
#   - `contract generate` with no exchanges exits 1 and says why;
#   - `contract verify` against an unreachable provider exits 3;
#   - the console summary is printed whatever --report asks for;
#   - run --bail (mocha/jest --bail, pytest -x) stops at the first failing
#     test: what is left does not run and is counted as not run, exit 1, and
#     the reports stay valid;
#   - the liveness prober starts its failure count afresh after a restart.
set -eu
FAULTLINE=${FAULTLINE:-build/faultline}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
rc_of() { set +e; "$@" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; set -e; cat "$T/rc"; }

# --- nothing run -------------------------------------------------------------
mkdir "$T/empty" "$T/sc"
cat > "$T/sc/one.lua" <<'LUA'
describe("one", { tags = { "smoke" } }, function()
  it("passes", function() expect(1).to_be(1) end)
end)
LUA
[ "$(rc_of "$FAULTLINE" run "$T/empty")" = 2 ] || fail "run on an empty directory: exit $(cat "$T/rc")"
grep -q "no tests matched" "$T/err" || fail "no 'no tests matched' message: $(cat "$T/err")"
[ "$(rc_of "$FAULTLINE" run "$T/sc" --tag nosuchtag)" = 2 ] || fail "--tag matching nothing: exit $(cat "$T/rc")"
[ "$(rc_of "$FAULTLINE" run "$T/sc" --grep 'no such test')" = 2 ] || fail "--grep matching nothing"
[ "$(rc_of "$FAULTLINE" run "$T/sc" --tag nosuchtag --pass-with-no-tests)" = 0 ] || fail "--pass-with-no-tests"
[ "$(rc_of "$FAULTLINE" run "$T/sc" --tag smoke)" = 0 ] || fail "a matching tag: exit $(cat "$T/rc")"
grep -q "1 passed" "$T/out" || fail "the matching run passed nothing"
echo 'local fl = require "faultline"; local x = 1' > "$T/notexp.lua"
[ "$(rc_of "$FAULTLINE" chaos "$T/notexp.lua")" = 2 ] || fail "chaos file without an experiment: exit $(cat "$T/rc")"
grep -q "no fl.chaos.experiment called" "$T/err" || fail "chaos message: $(cat "$T/err")"
# a skipped test still counts as matched (pytest: collected, skipped, exit 0)
cat > "$T/skip.lua" <<'LUA'
local fl = require "faultline"
it("waits for a provider", function() fl.skip("no provider") end)
LUA
[ "$(rc_of "$FAULTLINE" run "$T/skip.lua")" = 0 ] || fail "an all-skipped run: exit $(cat "$T/rc")"
echo "nothing run: exit 2 (run empty dir, --tag, --grep, chaos without experiment); --pass-with-no-tests 0"

# --- run --bail ----------------------------------------------------------------
# a.lua: a failing test, then one that leaves a mark; b.lua: another mark. The
# marks show what ran.
mkdir "$T/bail"
cat > "$T/bail/a.lua" <<'LUA'
local fl = require "faultline"
local function mark(n) local f = assert(io.open(fl.env.MARKS .. "/" .. n, "w")); f:close() end
describe("orders", function()
  it("fails first", function() expect(1).to_be(2) end)
  it("passes after", function() mark("a2") end)
  describe("nested", function()
    it("also after", function() mark("a3") end)
  end)
end)
LUA
cat > "$T/bail/b.lua" <<'LUA'
local fl = require "faultline"
it("another file", function() local f = assert(io.open(fl.env.MARKS .. "/b1", "w")); f:close() end)
LUA
mkdir "$T/marks"
[ "$(rc_of "$FAULTLINE" run "$T/bail" -e MARKS="$T/marks")" = 1 ] || fail "without --bail: exit $(cat "$T/rc")"
[ -e "$T/marks/a2" ] && [ -e "$T/marks/a3" ] && [ -e "$T/marks/b1" ] || fail "without --bail the later tests did not run"
grep -q "3 passed, 1 failed" "$T/out" || fail "without --bail: $(cat "$T/out")"
grep -q "not run" "$T/out" && fail "without --bail something is 'not run'"
rm -f "$T/marks"/*
[ "$(rc_of "$FAULTLINE" run "$T/bail" -e MARKS="$T/marks" --bail \
	--report json="$T/bail.json" --report junit="$T/bail.xml" --report tap="$T/bail.tap")" = 1 ] \
	|| fail "--bail: exit $(cat "$T/rc")"
[ -z "$(ls "$T/marks")" ] || fail "--bail: tests after the failure ran: $(ls "$T/marks")"
grep -q "0 passed, 1 failed, 0 skipped, 2 not run (--bail; 1 file not started)" "$T/out" \
	|| fail "--bail summary: $(cat "$T/out")"
python3 - "$T/bail.json" "$T/bail.xml" <<'PY' || fail "--bail reports"
import json, sys, xml.etree.ElementTree as ET
s = json.load(open(sys.argv[1]))["summary"]
assert (s["failed"], s["passed"], s["not_run"], s["files_not_run"]) == (1, 0, 2, 1), s
r = ET.parse(sys.argv[2]).getroot()
assert r.get("tests") == "1" and r.get("failures") == "1", r.attrib
PY
grep -q "^not ok 1 - " "$T/bail.tap" && grep -q "^1\.\.1$" "$T/bail.tap" \
	&& grep -q "^# 2 not run (--bail; 1 file not started)" "$T/bail.tap" || fail "--bail TAP: $(cat "$T/bail.tap")"
# two jobs: b.lua may already be running; a.lua's later tests still must not
[ "$(rc_of "$FAULTLINE" run "$T/bail" -e MARKS="$T/marks" --bail -j 2 --report json="$T/bail2.json")" = 1 ] \
	|| fail "--bail -j 2: exit $(cat "$T/rc")"
[ ! -e "$T/marks/a2" ] && [ ! -e "$T/marks/a3" ] || fail "--bail -j 2: a.lua went on after its failure"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; assert s["failed"] == 1 and s["not_run"] >= 2, s' \
	"$T/bail2.json" || fail "--bail -j 2 journal"
echo "run --bail: stops at the first failure (2 tests not run, 1 file not started), exit 1; json/junit/tap valid; -j 2"

# --- contract generate with nothing recorded ----------------------------------
: > "$T/none.jsonl"
[ "$(rc_of "$FAULTLINE" contract generate --events "$T/none.jsonl" -o "$T/pacts")" = 1 ] \
	|| fail "generate without exchanges: exit $(cat "$T/rc")"
grep -q "no pact written" "$T/err" || fail "generate message: $(cat "$T/err")"
[ ! -e "$T/pacts" ] || [ -z "$(ls "$T/pacts")" ] || fail "generate wrote a pact from nothing"
echo "contract generate, no exchanges: exit 1"

# --- contract verify: unreachable provider, console with --report -------------
cat > "$T/pact.json" <<'JSON'
{"consumer":{"name":"web"},"provider":{"name":"api"},"metadata":{"pactSpecification":{"version":"3.0.0"}},
 "interactions":[{"description":"health","request":{"method":"GET","path":"/livez"},
  "response":{"status":200}}]}
JSON
# a port nothing listens on: bind one, read it, close it
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
[ "$(rc_of "$FAULTLINE" contract verify "$T/pact.json" --provider-url "http://127.0.0.1:$PORT")" = 3 ] \
	|| fail "verify against an unreachable provider: exit $(cat "$T/rc")"
[ "$(rc_of "$FAULTLINE" contract verify "$T/pact.json" --provider-url "http://127.0.0.1:$PORT" \
	--report "junit=$T/verify.xml")" = 3 ] || fail "verify --report junit: exit $(cat "$T/rc")"
grep -q "0 passed, 1 failed" "$T/out" "$T/err" || fail "no console summary with --report junit=FILE"
grep -q "<testcase" "$T/verify.xml" || fail "no JUnit report"
[ "$(rc_of "$FAULTLINE" contract verify "$T/pact.json" --provider-url "http://127.0.0.1:$PORT" \
	--report junit=-)" = 3 ] || fail "verify --report junit=-"
grep -q "<testsuite" "$T/out" || fail "junit=- not on standard output"
grep -q "0 passed, 1 failed" "$T/err" || fail "console not moved to standard error beside junit=-"
echo "contract verify: unreachable provider exit 3; console summary with --report junit"

# --- the prober resets its failure count after a restart ---------------------
set +e
"$FAULTLINE" probe "http://127.0.0.1:$PORT/livez" --kind liveness --period 0.2 --timeout 0.1 \
	--failure-threshold 2 --duration 1.5 > "$T/probe.out" 2>&1
set -e
# threshold 2 x period 0.2 s: restarts 0.4 s apart (every period, 7 in 1.4 s, before the fix)
gaps=$(grep "container restarted" "$T/probe.out" | sed -n 's/.*+ *\([0-9.]*\)s.*/\1/p' \
	| awk 'NR > 1 { g = $1 - prev; if (min == "" || g < min) min = g } { prev = $1; n++ }
	       END { printf "%d %.3f", n, min == "" ? 0 : min }')
n=${gaps% *}; min=${gaps#* }
awk -v n="$n" -v m="$min" 'BEGIN { exit !(n >= 2 && m >= 0.3) }' \
	|| { cat "$T/probe.out"; fail "restarts: $n, closest $min s apart (want >= 0.3 s: the count must start afresh)"; }
echo "prober: $n restarts in 1.5 s, at least $min s apart (threshold 2, period 0.2 s)"
