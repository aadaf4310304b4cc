-- Metrics and thresholds: values are computed right, crossed thresholds fail
-- the test naming the metric, its value and the limit.
local fl = require "faultline"

it("computes trends, counters and rates", function()
  local t = fl.metrics.trend("latency")
  for i = 1, 100 do t:add(i / 1000) end
  expect(t:count()).to_be(100)
  expect(t:p(99)).to_be(0.099)
  expect(t:p(50)).to_be(0.05)
  expect(t:avg()).to_be_close_to(0.0505, 1e-9)
  expect(t:max()).to_be(0.1)
  local r = fl.metrics.rate("errors")
  for i = 1, 10 do r:add(i == 3) end
  expect(r:rate()).to_be(0.1)
  fl.metrics.counter("requests"):add(5):add(2)
  expect(fl.metrics.get("requests"):count()).to_be(7)
  fl.metrics.check{ latency = { "p(99) < 0.1", "avg <= 0.06" }, errors = "rate < 0.2", requests = "count == 7" }
  expect(fl.metrics.summary()).to_contain("p(99)=0.099")
end)

it("fails when a threshold is crossed", function()
  expect(function()
    fl.metrics.check{ latency = { "p(95) < 0.01" }, errors = { "rate < 0.05" } }
  end).to_fail("thresholds crossed: errors rate = 0.1 %(want < 0.05%); latency p%(95%) = 0.095 %(want < 0.01%)")
end)

it("rejects a threshold it cannot read", function()
  expect(function() fl.metrics.check{ latency = { "p99 less than 1" } } end).to_fail("cannot read threshold")
  expect(function() fl.metrics.check{ nothing = { "count > 0" } } end).to_fail("no such metric")
end)
