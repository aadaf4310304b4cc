#!/bin/sh
# fl.proxy from scenarios: the in-process engine and a remote agent
# (`faultline proxy`), links created from Lua, toxics with measured effect,
# HTTP faults, events, and every toxic removed when its test ends, also when
# the test fails.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; sed 's/^/    | /' "$tmp/out" 2>/dev/null | tail -n 40; exit 1; }

"$FL_TEST_HELPERS/proxy_echo" --http >"$tmp/http.port" & pids="$pids $!"
"$FAULTLINE" proxy --listen 127.0.0.1:0 >"$tmp/api.out" 2>"$tmp/api.err" & pids="$pids $!"
i=0
while ! grep -q "listening on" "$tmp/api.out" 2>/dev/null || [ ! -s "$tmp/http.port" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "helpers did not start"
	sleep 0.05
done
api="http://$(sed -n 's/^faultline proxy: listening on //p' "$tmp/api.out")"
up="127.0.0.1:$(cat "$tmp/http.port")"

cat >"$tmp/proxy_test.lua" <<'LUA'
local fl = require "faultline"

local function suite(label, get_agent)
  describe(label, function()
    local agent, link
    setup(function()
      agent = get_agent()
      link = agent:create{ name = "svc-" .. label, upstream = fl.env.UP, keep = true }
    end)

    it("forwards, then adds latency that is measured", function()
      local r = fl.http.get(link:url("/hello"))
      expect(r.status).to_be(200)
      expect(r.time).to_be_less_than(0.1)
      link:toxic{ type = "latency", latency = 150 }
      r = fl.http.get(link:url("/hello"))
      expect(r.status).to_be(200)
      expect(r.time).to_be_greater_than(0.149)
    end)

    it("holds a lease while its faults are in place", function()
      link:toxic{ type = "latency", latency = 1 }
      local l = fl.http.get(agent.url .. "/lease").json
      expect(#l).to_be(1)
      expect(l[1].holder).to_match("^faultline%-run%-")
    end)

    it("starts clean: the previous test's toxic was removed", function()
      expect(#link:toxics()).to_be(0)
      expect(#fl.http.get(agent.url .. "/lease").json).to_be(0)
      local r = fl.http.get(link:url("/hello"))
      expect(r.time).to_be_less_than(0.1)
    end)

    it("aborts matching requests and records the exchanges", function()
      local t = link:toxic{ type = "http_abort", status = 503, path = "/pay" }
      expect(fl.http.get(link:url("/pay/1")).status).to_be(503)
      expect(fl.http.get(link:url("/other")).status).to_be(200)
      t:update{ status = 504 }
      expect(fl.http.get(link:url("/pay/2")).status).to_be(504)
      local xs = link:exchanges()
      local last = xs[#xs]
      expect(last.path).to_be("/pay/2")
      expect(last.fault).to_be("http_abort")
      expect(last.status).to_be(504)
    end)

    it("fails on purpose after adding a toxic", function()
      link:toxic{ type = "timeout", name = "left-behind", timeout = 0 }
      link:disable()
      error("deliberate failure")
    end)

    it("starts clean after a failing test too", function()
      expect(#link:toxics()).to_be(0)
      expect(link:info().enabled).to_be(true)
      expect(fl.http.get(link:url("/x")).status).to_be(200)
    end)

    teardown(function() link:delete() end)
  end)
end

suite("remote", function() return fl.proxy.agent(fl.env.API) end)
suite("inproc", function() return fl.proxy.local_agent() end)
LUA

rc=0
"$FAULTLINE" run "$tmp/proxy_test.lua" -e API="$api" -e UP="$up" --seed 5 >"$tmp/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "want exit 1 (two deliberate failures), got $rc"
grep -q "10 passed, 2 failed" "$tmp/out" || fail "want 10 passed, 2 failed"
grep -q "deliberate failure" "$tmp/out" || fail "the deliberate failure is not reported"
# nothing left on the remote agent
left=$(curl -sf "$api/proxies")
[ "$left" = "{}" ] || fail "links left on the agent: $left"
cat "$tmp/out"

# A runner killed mid-test leaves faults behind only until its lease lapses.
cat >"$tmp/crash.lua" <<'LUA'
local fl = require "faultline"
it("adds faults and hangs", function()
  local agent = fl.proxy.agent(fl.env.API)
  local l = agent:create{ name = "crash", upstream = fl.env.UP, keep = true }
  l:toxic{ type = "latency", latency = 500 }
  l:disable()
  fl.sleep(30)
end)
LUA
"$FAULTLINE" run "$tmp/crash.lua" -e API="$api" -e UP="$up" -e FL_PROXY_LEASE_MS=600 \
	>"$tmp/crash.out" 2>&1 & rpid=$!; pids="$pids $rpid"
i=0
until curl -sf "$api/proxies/crash" 2>/dev/null | grep -q '"enabled":false'; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "the crash scenario did not add its faults"
	sleep 0.05
done
sleep 1	# longer than the TTL: the runner's heartbeats keep the faults
curl -sf "$api/proxies/crash" | grep -q '"latency_downstream"' || fail "faults lapsed while the runner lived"
kill -9 $rpid
t0=$(date +%s%3N)
until curl -sf "$api/proxies/crash" | grep -q '"enabled":true,"toxics":\[\]'; do
	[ $(($(date +%s%3N) - t0)) -lt 3000 ] || fail "faults still there 3 s after the runner was killed"
	sleep 0.02
done
echo "runner SIGKILLed: faults gone after $(($(date +%s%3N) - t0)) ms (lease 600 ms)"
curl -sf -XDELETE "$api/proxies/crash" >/dev/null
echo "ok"
