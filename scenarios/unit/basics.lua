-- Examples of the scenario API that need no service: expectations, tasks,
-- retries until a condition holds, seeded randomness, JSON.
local fl = require "faultline"

describe("the scenario API", { tags = { "unit", "example" } }, function()
  it("compares values and tables", function()
    expect(2 + 2).to_be(4)
    expect({ id = 7, tags = { "a", "b" } }).to_equal({ id = 7, tags = { "a", "b" } })
    expect("transfer-42").to_match("^transfer%-%d+$")
    expect({ "KRW", "USD" }).to_contain("KRW")
    expect(0.1 + 0.2).to_be_close_to(0.3, 1e-9)
  end)

  it("runs clients concurrently without callbacks", function()
    local started = fl.now()
    local results = fl.parallel(100, function(i)
      fl.sleep(0.05)           -- every client waits at once
      return i
    end)
    expect(#results).to_be(100)
    expect(fl.now() - started).to_be_less_than(1)
  end)

  it("waits for a condition", function()
    local ready_at = fl.now() + 0.2
    fl.eventually(function() return fl.now() >= ready_at end, { within = 2, every = 0.05 })
  end)

  it("draws repeatable random numbers from --seed", function()
    local amount = fl.random(1000, 50000)
    expect(amount).to_be_at_least(1000)
    expect(amount).to_be_at_most(50000)
    expect(fl.random.choice({ "internal", "external" })).to_be_a("string")
  end)

  it("encodes and decodes JSON", function()
    local doc = fl.json.decode('{"amount": 20000, "to": null, "steps": []}')
    expect(doc.amount).to_be(20000)
    expect(doc.to).to_be(fl.json.null)
    expect(fl.json.encode(doc)).to_be('{"amount":20000,"steps":[],"to":null}')
  end)
end)
