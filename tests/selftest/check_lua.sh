#!/bin/sh
# fl.check from scenarios: saga/bank/breaker/probes results with :ok() that
# passes on valid histories and fails the test with the evidence otherwise;
# fl.check.prober probing a real server on the scenario's event loop.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
FLIP="$FL_TEST_HELPERS/check_flipserver"
[ -x "$FLIP" ] || { echo "skip: $FLIP not built"; exit 77; }
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"; [ -z "${KEEP:-}" ] || echo "kept $tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$FLIP" --max 30 200:0.5 503:0.5 200 >"$tmp/srv.out" 2>&1 &
pids="$pids $!"
i=0
while ! grep -q '^port ' "$tmp/srv.out" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "server did not start"
	sleep 0.02
done
port=$(sed -n 's/^port //p' "$tmp/srv.out")

cat >"$tmp/check_test.lua" <<'LUA'
local fl = require "faultline"
local dir = fl.env.TMPDIR_CHECK

local function saga_events(refund)
  local ev = {
    { event = "saga_started", t = 1, saga_id = "s1", amount = 100, pivot_step = 2 },
    { event = "step_succeeded", t = 2, saga_id = "s1", step = 1, dir = "fwd", key = "s1:1:fwd" },
    { event = "step_failed", t = 3, saga_id = "s1", step = 2, dir = "fwd", key = "s1:2:fwd" },
  }
  if refund then
    ev[#ev + 1] = { event = "compensation_requested", t = 4, saga_id = "s1", step = 1, dir = "comp" }
    ev[#ev + 1] = { event = "compensation_succeeded", t = 5, saga_id = "s1", step = 1, dir = "comp" }
  end
  ev[#ev + 1] = { event = "saga_ended", t = 6, saga_id = "s1", state = "COMPENSATED" }
  return ev
end

describe("fl.check", function()
  it("saga: valid history passes", function()
    local r = fl.check.saga(nil, { history = saga_events(true) })
    expect(r.valid).to_be(true)
    expect(r.invariants.S2.state).to_be("passed")
    r:ok()
  end)

  it("saga: no refund is an S2 violation with evidence", function()
    local r = fl.check.saga(nil, { history = saga_events(false) })
    expect(r.valid).to_be(false)
    expect(r:failed("S2")).to_be(true)
    expect(r:violations("S2")).to_be(1)
    expect(r.invariants.S2.first.evidence.saga_id).to_be("s1")
    r:ok()   -- this test must fail, carrying the report
  end)

  it("saga: reads a recorded history file", function()
    local h = assert(fl.history.open(dir .. "/h.jsonl"))
    for _, e in ipairs(saga_events(true)) do h:event(e) end
    h:invoke(1, "transfer", { amount = 100 })
    h:fail(1, "transfer", { saga_id = "s1" })
    h:close()
    fl.check.saga(nil, { history = dir .. "/h.jsonl" }):ok()
  end)

  it("bank: totals and negatives", function()
    local ev = { { event = "bank_snapshot", t = 1, accounts = { a = 60, b = 40 } },
                 { event = "bank_snapshot", t = 2, accounts = { a = 110, b = -10 } } }
    local r = fl.check.bank{ total = 100, history = ev }
    expect(r.invariants.B1.state).to_be("passed")
    expect(r:failed("B2")).to_be(true)
    fl.check.bank{ total = 100, allow_negative = { "b" }, history = ev }:ok()
  end)

  it("breaker: a breaker that never opens", function()
    local ev = {}
    for i = 1, 8 do
      ev[#ev + 1] = { event = "http_exchange", link = "a->b", method = "GET", path = "/x",
                      status = 503, start = i * 100000000, ["end"] = i * 100000000 + 1000000 }
    end
    local cfg = { name = "a->b", config = { window = 10, minimum_calls = 5,
                  wait_in_open_ms = 5000, permitted_calls_in_half_open = 2 } }
    local r = fl.check.breaker("a->b", { name = cfg.name, config = cfg.config, history = ev })
    expect(r:failed("C3")).to_be(true)
  end)

  it("since: only what starts at or after it is reported", function()
    local ev = saga_events(false)     -- s1 undone at t 1..6
    ev[#ev + 1] = { event = "saga_started", t = 1000, saga_id = "s2", amount = 5 }
    ev[#ev + 1] = { event = "saga_ended", t = 1001, saga_id = "s2", state = "FAILED" }
    expect(fl.check.saga(nil, { history = ev }):failed("S2")).to_be(true)
    local r = fl.check.saga(nil, { history = ev, since = 1000 })
    expect(r.valid).to_be(true)
    expect(r.invariants.S1.checked).to_be(1)
    expect(fl.check.saga(nil, { history = ev, since = 999.5 }).valid).to_be(true)
    -- breaker: the never-opening breaker's calls before `since` fill the
    -- window; the violation shows at the calls after it
    local bev = {}
    for i = 1, 8 do
      bev[#bev + 1] = { event = "http_exchange", link = "a->b", method = "GET", path = "/x",
                        status = 503, start = i * 100000000, ["end"] = i * 100000000 + 1000000 }
    end
    local cfg = { window = 10, minimum_calls = 5, wait_in_open_ms = 5000 }
    local b = fl.check.breaker("a->b", { name = "a->b", config = cfg, history = bev,
                                         since = 650000000 })
    expect(b:failed("C3")).to_be(true)
    b = fl.check.breaker("a->b", { name = "a->b", config = cfg, history = bev, since = 2e9 })
    expect(b:failed("C3")).to_be(false)
    local ok = pcall(fl.check.saga, nil, { history = ev, since = "now" })
    expect(ok).to_be(false)
  end)

  it("prober on the scenario loop, then the probe checker", function()
    local url = "http://127.0.0.1:" .. fl.env.FLIP_PORT .. "/health"
    local p = fl.check.prober("svc", { readiness = url, liveness = url, period = 0.1,
                                       timeout = 0.5, failure_threshold = 2 })
    fl.sleep(1.6)
    local st = p:status()
    p:stop()
    expect(st.ready).to_be(true)
    expect(st.restarts >= 1).to_be(true)
    local actions = {}
    for _, e in ipairs(p:events()) do
      if e.event == "probe_transition" and e.kind == "readiness" then actions[#actions + 1] = e.action end
    end
    expect(table.concat(actions, ",")).to_match("^added,removed")
    fl.check.probes("svc", { prober = p, period = 0.1, timeout = 0.5 }):ok()
  end)

  it("run: a bad source is an error", function()
    local ok, err = pcall(fl.check.run, "saga", dir .. "/nope.jsonl")
    expect(ok).to_be(false)
    expect(tostring(err)).to_match("nope.jsonl")
  end)
end)
LUA
rc=0
"$FAULTLINE" run "$tmp/check_test.lua" -e "TMPDIR_CHECK=$tmp" -e "FLIP_PORT=$port" \
	--report "junit=$tmp/out.xml" >"$tmp/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "exit $rc, want 1 (one test fails on purpose): $(cat "$tmp/out")"
grep -q "7 passed, 1 failed" "$tmp/out" || fail "counts: $(cat "$tmp/out")"
grep -q "saga check failed" "$tmp/out" || fail "failure message: $(cat "$tmp/out")"
grep -q "COMPENSATED but step 1 was applied and never compensated" "$tmp/out" || fail "no evidence in the failure"
grep -q "saga check failed" "$tmp/out.xml" || fail "JUnit lacks the failure"
echo ok
