-- Chaos experiment: orders keep every promise under a seeded random fault
-- schedule (latency, 500s, lost answers and partitions on orders' links;
-- payments or inventory paused) while four clients order. The hypothesis,
-- checked before and after: orders is ready, the ledger sums to zero, and
-- the checkers find nothing in what happened -- the saga checker (S1-S6,
-- M1, M3), the breaker checker on orders->payments (C1-C7) and the probe
-- checker on orders, probed throughout (H1: liveness never depends on a
-- dependency, H3).
--   faultline chaos examples/orders/scenarios/chaos/random-faults.lua -e FL_SYS=DATA --seed 7
--   (-e CHAOS_DURATION=S: how long the faults run, default 6)
local fl = require "faultline"
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

local DURATION = tonumber(fl.env.CHAOS_DURATION or "") or 6
local PROBE = { period = 0.2, timeout = 1, failure_threshold = 3, success_threshold = 1 }
local sys = O.system()
local h, since, prober, stats, faults
local customers, items = {}, {}

-- "valid", or the failed invariants with their first violation
local function verdict(r)
  if r.valid == true then return "valid" end
  local out = {}
  for id, v in pairs(r.invariants) do
    if (v.count or 0) > 0 then out[#out + 1] = id .. " " .. v.name .. ": " .. v.first.message end
  end
  table.sort(out)
  if #out == 0 then return "unknown: " .. (r.note or "") end
  print(r.text)
  return table.concat(out, "; ")
end

fl.chaos.experiment {
  title = "orders keep their promises under random faults",
  timeout = DURATION + 120,
  steady_state = {
    { name = "orders is ready", tolerance = 200,
      probe = function() return fl.http.get(sys:url("orders", "/readyz")).status end },
    { name = "the ledger sums to zero", tolerance = 0,
      probe = function()
        local sum = 0
        for _, v in pairs(O.snapshot(sys).accounts) do sum = sum + v end
        return sum
      end },
    { name = "saga invariants (S1-S6, M1, M3)", tolerance = "valid",
      probe = function() return h and verdict(O.check_sagas(sys, h, { since = since })) or "valid" end },
    { name = "breaker orders->payments (C1-C7)", tolerance = "valid",
      probe = function() return h and verdict(O.check_breaker(sys, h, since)) or "valid" end },
    { name = "probes of orders (H1-H3)", tolerance = "valid",
      probe = function()
        if not h then return "valid" end
        local cfg = { prober = prober, history = h:path() }
        for k, v in pairs(PROBE) do cfg[k] = v end
        return verdict(fl.check.probes("orders", cfg))
      end },
  },
  method = {
    { name = "customers and items", action = function()
        for i = 1, 4 do customers[i] = O.customer(sys, 100000) end
        -- two items run out at once: later orders for them are compensated
        items = { O.item(sys, 1), O.item(sys, 2), O.item(sys, 100000) }
        h, since = O.history("chaos")
      end },
    -- before any fault: each scarce item ordered once more than its stock,
    -- so every run has sagas that end in compensation whatever the random
    -- schedule draws (under a payments-heavy schedule the breaker can refuse
    -- every charge, and then nothing reaches inventory to run out)
    { name = "sold-out orders, compensated", action = function()
        for stock = 1, 2 do
          for _ = 1, stock + 1 do
            local key = O.unique("k0")
            h:invoke(0, "order", { key = key, amount = 10, service = "orders" })
            O.record(h, 0, O.order(sys, { customer = customers[1], item = items[stock], amount = 10,
                                          key = key, timeout = 12 }), key)
          end
        end
      end },
    { name = "orders under a random fault schedule", action = function()
        prober = fl.check.prober("orders", { liveness = sys:url("orders", "/livez"),
          readiness = sys:url("orders", "/readyz"), period = PROBE.period, timeout = PROBE.timeout,
          failure_threshold = PROBE.failure_threshold })
        local done = false
        local nem = fl.spawn(function() return O.nemesis(sys, h, DURATION, function() return done end) end)
        stats = O.clients(sys, { history = h, clients = 4, duration = DURATION, rate = 20,
                                 customers = customers, items = items, amount = 60 })
        done = true
        faults = fl.join(nem)
        print(string.format("  %d orders (%d ok, %d fail, %d info); faults: %s", stats.ops, stats.ok,
          stats.fail, stats.info, table.concat(faults, ", ")))
        O.quiet(sys, 30)
        prober:stop()
      end },
  },
}
