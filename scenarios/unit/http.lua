-- fl.http against a service: the URL comes from -e BASE=http://host:port
-- (make demo starts a small server and passes it).
local fl = require "faultline"

describe("an HTTP service", { tags = { "unit", "example", "http" } }, function()
  before_each(function()
    if not fl.env.BASE then fl.skip("set -e BASE=http://host:port to run") end
  end)

  it("answers", function()
    local r = fl.http.get(fl.env.BASE .. "/")
    expect(r.status).to_be(200)
    expect(r.time).to_be_less_than(1)
  end)

  it("keeps answering 32 clients at once, fast", function()
    local statuses = {}
    local latency = fl.metrics.trend("latency")
    fl.parallel(32, function(i)
      for _ = 1, 5 do
        local r = fl.http.get(fl.env.BASE .. "/")
        statuses[r.status] = (statuses[r.status] or 0) + 1
        latency:add(r.time)
      end
    end)
    expect(statuses).to_equal({ [200] = 160 })
    fl.metrics.check{ latency = { "p(99) < 0.5", "count == 160" } }
  end)
end)
