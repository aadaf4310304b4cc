-- fl.rate against BASE (tests/selftest/rate.sh): MODE=hold (200 req/s for
-- 1 s: every planned request sent, on time), MODE=slow (a 50 ms answer on one
-- client cannot carry 100 req/s: the run fails saying so), MODE=threshold
-- (p99 below 1 us cannot hold: thresholds fail the run), MODE=miss (the same
-- as slow with allow_miss: held = false, the run passes).
local fl = require "faultline"

it("rate " .. fl.env.MODE, { timeout = 30 }, function()
  local base, mode = fl.env.BASE, fl.env.MODE
  if mode == "hold" then
    local res = fl.rate{ rate = 200, duration = 1, clients = 16,
      fn = function() assert(fl.http.get(base .. "/").status == 200) end }
    print(string.format("planned %d sent %d achieved %.1f held %s p99 %.4f count %d",
      res.planned, res.sent, res.achieved_rate, tostring(res.held), res.p99,
      fl.metrics.get("rate_latency"):count()))
    assert(res.planned == 200 and res.sent == 200 and res.errors == 0, "not every request sent")
    assert(res.held and math.abs(res.achieved_rate / 200 - 1) <= 0.01, "rate not held")
    assert(fl.metrics.get("rate_latency"):count() == 200, "latency not recorded")
    assert(res.p99 > 0 and res.p99 < 1, "odd p99")
  elseif mode == "slow" or mode == "miss" then
    local res = fl.rate{ rate = 100, duration = 1, clients = 1, allow_miss = mode == "miss",
      fn = function() fl.sleep(0.05) end }
    print(string.format("held %s sent %d of %d, p99 %.3f", tostring(res.held), res.sent,
      res.planned, res.p99))
    assert(not res.held and res.sent < res.planned)
    -- latency from the intended send time: the queue behind the slow client counts
    assert(res.p99 > 0.3, "coordinated omission: p99 " .. res.p99)
  elseif mode == "threshold" then
    fl.rate{ rate = 50, duration = 0.5, name = "tight", thresholds = { "p(99) < 0.000001" },
      fn = function() fl.http.get(base .. "/") end }
  end
end)
