-- Traffic for the contracts: on a fresh orders system, the orders whose
-- calls orders->payments and orders->inventory record (through the links)
-- one of each kind of exchange: a charge, a reservation, OUT_OF_STOCK and
-- its refund, INSUFFICIENT_FUNDS, and the queries that resolve a step.
-- regenerate.sh turns the recording into pacts and tests; the scaffolded
-- tests replay it, so they run on the system this traffic ran on
-- (CONTRACT_FRESH=1, set by e2e/examples_orders.sh on a fresh system).
local fl = require "faultline"
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

describe("contract traffic", { tags = { "contract" } }, function()
  it("orders one of each outcome", function()
    if fl.env.CONTRACT_FRESH ~= "1" then
      fl.skip("makes the recorded data: run on a fresh system with -e CONTRACT_FRESH=1")
    end
    local sys = O.system()
    fl.http.post(sys:url("payments", "/payments/accounts"), { json = { customer = "ann", balance = 100 } })
    fl.http.post(sys:url("inventory", "/inventory/items"), { json = { item = "lamp", stock = 1 } })
    local function order(key, amount)
      return O.order(sys, { customer = "ann", item = "lamp", amount = amount, key = key }).json
    end
    expect(order("contract-1", 30).state).to_be("COMPLETED")
    local second = order("contract-2", 30)
    expect(second.state).to_be("COMPENSATED")
    expect(second.reason).to_be("OUT_OF_STOCK")
    expect(order("contract-3", 1000).reason).to_be("INSUFFICIENT_FUNDS")
  end)
end)
