-- End to end: a call out across a transition of the breaker orders->payments
-- counts in no window. Needs orders' breaker short and decided by two calls:
--   ORDERS_BREAKER='{"minimum_calls":2,"wait_open_ms":500,"slow_call_duration_ms":300}' \
--     faultline up examples/orders/topology.lua --data DIR
-- (e2e/examples_orders.sh starts such a system for it). With the default
-- configuration (5 calls, 3 trials, a 2 s call timeout and a 2 s wait) no
-- call can be out when the breaker decides, so it would show nothing.
--
-- Two orders whose charges are held past the slow-call duration open the
-- breaker (slow calls, 100 %). After its wait: an order for an item out of
-- stock takes the first trial (its charge) and the second (its refund, held
-- 800 ms); an order in stock takes the third, and the two charges close the
-- breaker while the refund is still out. Then two slow charges: the first
-- is one outcome of the two needed, so the breaker stays CLOSED; the second
-- opens it. A breaker that counted the stale refund in its new window
-- opens at the first: the breaker checker's C4 (it opened with fewer than
-- m_eff outcomes in its window).
local fl = require "faultline"
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

describe("breaker orders->payments, short", { tags = { "e2e", "breaker" } }, function()
  it("an outcome of a call out across a transition counts in no window", { timeout = 60 }, function()
    local sys = O.system()
    local b0 = O.breaker(sys)
    local cfg = b0.config
    local m_eff = math.min(cfg.minimum_calls, cfg.half_open_calls)
    if m_eff ~= 2 or cfg.half_open_calls < 3 or cfg.window_type ~= "COUNT_BASED"
        or cfg.wait_open_ms > 1000 or cfg.slow_call_duration_ms > 500 or b0.state ~= "CLOSED"
        or b0.window.n > 0 then
      fl.skip("needs a fresh orders with ORDERS_BREAKER='{\"minimum_calls\":2,\"wait_open_ms\":500,"
        .. "\"slow_call_duration_ms\":300}' (see this file's head)")
    end
    local h, since = O.history("breaker-stale")
    local c, item, none = O.customer(sys, 10000), O.item(sys, 1000), O.item(sys, 0)
    local link = sys.proxy:link("orders->payments")
    local slow_ms = cfg.slow_call_duration_ms
    local function one(p, it)
      local key = O.unique("s")
      h:invoke(p, "order", { key = key, service = "orders" })
      local r = O.order(sys, { customer = c, item = it or item, amount = 1, key = key })
      return O.record(h, p, r, key)
    end
    local function slow_charges(n)
      local held = link:toxic{ type = "http_delay", delay = slow_ms + 200, method = "POST",
                               path = "/payments/charge" }
      local states = {}
      for i = 1, n do
        states[i] = { one(1), O.breaker(sys).state }
      end
      held:remove()
      return states
    end
    -- two slow charges open it
    local tripped = slow_charges(2)
    -- after its wait: the out-of-stock order's charge, then its refund held
    -- (trials 1 and 2); once the refund is out, an order in stock (trial 3)
    fl.sleep(cfg.wait_open_ms / 1000 + 0.2)
    local refund = link:toxic{ type = "http_delay", delay = slow_ms + 500, method = "POST",
                               path = "/payments/refund" }
    local out_of_stock = fl.spawn(function() return one(2, none) end)
    fl.eventually(function()
      for _, s in ipairs(fl.http.get(sys:url("orders", "/sagas?state=open")).json.sagas) do
        if s.steps.refund == "REQUESTED" then return true end
      end
      return false
    end, { within = 10, every = 0.02 })
    fl.sleep(0.1) -- the refund is written REQUESTED just before it is sent
    expect(one(1)).to_be("COMPLETED")
    local closed = O.breaker(sys).state
    expect(fl.join(out_of_stock)).to_be("COMPENSATED")
    refund:remove()
    -- two slow charges again: one outcome of two keeps it closed, the second opens it
    local after = slow_charges(2)
    O.quiet(sys, 30)
    O.check_breaker(sys, h, since):ok()
    O.check_sagas(sys, h, { since = since }):ok()
    expect(tripped[1][1] .. " " .. tripped[1][2]).to_be("COMPLETED CLOSED")
    expect(tripped[2][1] .. " " .. tripped[2][2]).to_be("COMPLETED OPEN")
    expect(closed).to_be("CLOSED")
    expect(after[1][1] .. " " .. after[1][2]).to_be("COMPLETED CLOSED")
    expect(after[2][1] .. " " .. after[2][2]).to_be("COMPLETED OPEN")
  end)
end)
