-- Circuit breakers of the reference system under failures: the breaker
-- toward the bank opens, requests are DEFERRED (answered fast), it goes
-- half-open after the wait, lets a bounded number of trials through, closes,
-- and every deferred top-up completes. Ends with the breaker checker
-- (Resilience4j semantics, C1-C7) over the calls the proxy saw reach banking,
-- and the saga checker.
local fl = require "faultline"
local W = fl.workload
local L = require "_lib"

local sys

local function state(name)
  local b = sys:breaker("remittance", name)
  return b and b.state
end

describe("breakers", { tags = { "e2e", "breaker" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function() sys:heal() end)

  it("toward the bank: opens, defers, half-opens, closes; deferred requests complete", function(t)
    local name = "remittance->banking"
    local cfg = sys:breaker("remittance", name).config
    local wait_open = cfg.wait_in_open_ms / 1000
    local ms = {}
    for i = 1, 6 do ms[i] = sys:member{ bank_balance = 100000 } end
    local sender = sys:member{ balance = 50000 }
    local dest = L.unique("brx")
    L.open_account(sys, "SH", dest, 0)
    -- a closed breaker to start from: earlier runs may have left it open
    L.wait_for(function()
      if state(name) == "CLOSED" then return true end
      sys:topup{ member = ms[1].id, amount = 100 }
      return false
    end, wait_open + 3, 0.3)
    local win = W.window(sys, t.name)
    local h = win.history
    local n, ids = 0, {}
    -- A top-up answered DEFERRED before any step ran was refused by the
    -- breaker at the door: the client saw a rejected call, recorded as such
    -- (the service itself records only the calls it attempts).
    local function topup(client, m, amount, wait)
      n = n + 1
      local t0 = math.floor(fl.now() * 1e9)
      local kind, r = W.topup(sys, h, client, { member = m.id, amount = amount, timeout = 3,
                                                key = string.format("br-%s-%d", m.id, n), wait = wait })
      local j = r.json or {}
      if j.saga_id then ids[#ids + 1] = j.saga_id end
      if j.state == "DEFERRED" and j.reason == "circuit_open" then
        local tried = false
        for _, st in ipairs(j.steps or {}) do tried = tried or (st.attempts or 0) > 0 end
        if not tried then
          win:event{ event = "breaker_call", breaker = name, outcome = "rejected", start = t0,
                     ["end"] = math.floor(fl.now() * 1e9), observed_by = "client", saga_id = j.saga_id }
        end
      end
      return kind, r
    end
    -- 1. banking answers 503: the breaker sees failures and opens
    local abort = fl.proxy.link(name):toxic{ type = "http_abort", status = 503 }
    for i = 1, 6 do topup(1, ms[i], 1000, false) end
    local opened = L.wait_for(function() return state(name) == "OPEN" end, 2.5)
    local t_open = fl.now()
    -- 2. while open: requests are deferred at the door, fast
    local deferred = 0
    fl.parallel(3, function(i)
      local _, r = topup(1 + i, ms[i], 500)
      if r.json and r.json.state == "DEFERRED" then deferred = deferred + 1 end
    end)
    -- an external transfer is deferred the same way
    local _, xr = W.transfer(sys, h, 5, { from = sender.id, bank = "SH", account = dest, amount = 7000,
                                         key = "brx-" .. sender.id, timeout = 3 })
    local xid = xr.json and xr.json.saga_id
    if xid then ids[#ids + 1] = xid end
    -- 3. banking heals; slow answers keep the half-open trials in flight
    abort:remove()
    local slow = fl.proxy.link(name):toxic{ type = "latency", latency = 300 }
    L.wait_for(function() return state(name) ~= "OPEN" end, wait_open + 2, 0.02)
    -- a burst right at half-open: only k trials may reach banking
    fl.parallel(5, function(k) topup(4 + k, ms[k], 200) end)
    L.wait_for(function() return state(name) == "CLOSED" end, 3)
    slow:remove()
    -- 4. afterwards everything deferred runs
    for i = 1, 2 do topup(10, ms[i], 300) end
    L.wait_for(function() return #sys:sagas("open") == 0 end, 5, 0.1)
    W.verify(t.name, {
      breaker = win:breaker("remittance", name),
      saga = win:saga{ wait = 2 },
    })
    expect(opened).to_be_truthy()
    expect(deferred).to_be(3)
    expect(fl.now() - t_open).to_be_greater_than(wait_open - 0.5)
    expect(state(name)).to_be("CLOSED")
    expect(xr.json.state).to_be("DEFERRED")
    expect(sys:balance(sender.id)).to_be(43000)
    expect(L.account_balance(sys, "SH", dest)).to_be(7000)
    for _, id in ipairs(ids) do
      local s = sys:saga(id)
      expect(s.state).to_be("COMPLETED")
    end
  end)
end)
