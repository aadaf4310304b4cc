-- Gateway fan-out aggregation and the CQRS read model for 1,000 members
-- living at one address (each topped up through a real saga).
local fl = require "faultline"
local http = fl.http

describe("aggregation at scale", function()
  it("the gateway and the read model agree with the wallets for 1,000 members", function()
    local sys = fl.ref.system()
    local addr = "천명-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))
    local n, clients = 1000, 32
    local ids = fl.parallel(clients, function(k)
      local mine = {}
      for i = k, n, clients do
        mine[#mine + 1] = sys:member{ balance = 1000 + i, address = addr }.id
      end
      return mine
    end)
    local truth, count = 0, 0
    for k = 1, clients do
      for _, id in ipairs(ids[k]) do count = count + 1 end
    end
    expect(count).to_be(n)
    for i = 1, n do truth = truth + 1000 + i end
    local g = http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
      { json = { address = addr }, timeout = 30 }).json
    expect(g.members).to_be(n)
    expect(g.counted).to_be(n)
    expect(g.sum).to_be(truth)
    fl.eventually(function()
      local q = http.get(sys:url("query", "/money/query/get-money-sum-by-address/" .. addr)).json
      return q.sum == truth and q.members == n
    end, { within = 10 })
  end)
end)
