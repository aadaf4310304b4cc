-- Unit-level API tests of the three services, called directly (no links):
-- probes, validation, idempotency, fencing, and each end of the order saga.
--   faultline run examples/orders/scenarios/unit -e FL_SYS=DATA
local fl = require "faultline"
-- the shared helpers sit one directory up (scenarios/_orders.lua)
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

local sys
setup(function() sys = O.system() end)

describe("probes", { tags = { "unit" } }, function()
  for _, svc in ipairs({ "orders", "payments", "inventory" }) do
    it(svc .. " is live, started and ready", function()
      for _, p in ipairs({ "/livez", "/startupz", "/readyz" }) do
        expect(fl.http.get(sys:url(svc, p)).status).to_be(200)
      end
    end)
  end
end)

describe("payments", { tags = { "unit" } }, function()
  local url = function(p) return sys:url("payments", p) end

  it("charges once per idempotency key", function()
    local c = O.customer(sys, 100)
    local key = O.unique("charge")
    local r = fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 30 },
                                                       headers = { ["Idempotency-Key"] = key } })
    expect(r.status).to_be(200)
    expect(r.json.result).to_be("CHARGED")
    local again = fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 30 },
                                                           headers = { ["Idempotency-Key"] = key } })
    expect(again.status).to_be(200)
    expect(again.headers["idempotent-replayed"]).to_be("true")
    expect(O.balance(sys, c)).to_be(70)
    local other = fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 31 },
                                                           headers = { ["Idempotency-Key"] = key } })
    expect(other.status).to_be(422)
  end)

  it("refuses a charge above the balance, and one without a key; takes exactly the balance", function()
    local c = O.customer(sys, 10)
    local r = fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 11 },
                                                       headers = { ["Idempotency-Key"] = O.unique("k") } })
    expect(r.status).to_be(402)
    expect(r.json.result).to_be("INSUFFICIENT_FUNDS")
    local all = fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 10 },
                                                         headers = { ["Idempotency-Key"] = O.unique("k") } })
    expect(all.status).to_be(200)
    expect(O.balance(sys, c)).to_be(0)
    expect(fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 1 } }).status).to_be(400)
  end)

  it("refunds a charge once, and fences a charge that never arrived", function()
    local c = O.customer(sys, 100)
    local fwd = O.unique("fwd")
    fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 40 },
                                            headers = { ["Idempotency-Key"] = fwd } })
    for _ = 1, 2 do
      local r = fl.http.post(url("/payments/refund"), { json = { forward_key = fwd },
                                                         headers = { ["Idempotency-Key"] = fwd .. ":comp" } })
      expect(r.json.result).to_be("REFUNDED")
    end
    expect(O.balance(sys, c)).to_be(100)
    local lost = O.unique("lost")
    local r = fl.http.post(url("/payments/refund"), { json = { forward_key = lost },
                                                       headers = { ["Idempotency-Key"] = lost .. ":comp" } })
    expect(r.json.result).to_be("NOTHING_TO_REFUND")
    local late = fl.http.post(url("/payments/charge"), { json = { customer = c, amount = 5 },
                                                          headers = { ["Idempotency-Key"] = lost } })
    expect(late.status).to_be(409)
    expect(O.balance(sys, c)).to_be(100)
  end)

  it("answers malformed requests with a JSON 400", function()
    for _, body in ipairs({ "{", "[]", '{"customer":"x","amount":"1"}', '{"customer":"x","amount":0}' }) do
      local r = fl.http.post(url("/payments/charge"), { body = body,
                                                         headers = { ["Idempotency-Key"] = O.unique("k") } })
      expect(r.status).to_be(400)
      expect(r.json.error).to_be_a("string")
    end
  end)

  it("keeps the ledger summing to zero", function()
    local s = O.snapshot(sys)
    local sum = 0
    for _, v in pairs(s.accounts) do sum = sum + v end
    expect(sum).to_be(0)
  end)
end)

describe("inventory", { tags = { "unit" } }, function()
  it("reserves stock once per key and says OUT_OF_STOCK after", function()
    local item = O.item(sys, 1)
    local k1 = O.unique("r")
    for _ = 1, 2 do
      local r = fl.http.post(sys:url("inventory", "/inventory/reserve"),
        { json = { item = item, qty = 1 }, headers = { ["Idempotency-Key"] = k1 } })
      expect(r.status).to_be(200)
    end
    local r = fl.http.post(sys:url("inventory", "/inventory/reserve"),
      { json = { item = item, qty = 1 }, headers = { ["Idempotency-Key"] = O.unique("r") } })
    expect(r.status).to_be(409)
    expect(r.json.result).to_be("OUT_OF_STOCK")
    expect(fl.http.get(sys:url("inventory", "/inventory/items/" .. item)).json.stock).to_be(0)
  end)
end)

describe("orders", { tags = { "unit" } }, function()
  it("completes an order: charged and reserved", function()
    local c, item = O.customer(sys, 100), O.item(sys, 5)
    local r = O.order(sys, { customer = c, item = item, amount = 25 })
    expect(r.status).to_be(200)
    expect(r.json.state).to_be("COMPLETED")
    expect(O.balance(sys, c)).to_be(75)
  end)

  it("refunds the charge when the item is out of stock", function()
    local c, item = O.customer(sys, 100), O.item(sys, 0)
    local r = O.order(sys, { customer = c, item = item, amount = 25 })
    expect(r.json.state).to_be("COMPENSATED")
    expect(r.json.reason).to_be("OUT_OF_STOCK")
    expect(O.balance(sys, c)).to_be(100)
  end)

  it("fails without effect when the balance is short", function()
    local c, item = O.customer(sys, 10), O.item(sys, 5)
    local r = O.order(sys, { customer = c, item = item, amount = 25 })
    expect(r.json.state).to_be("FAILED")
    expect(r.json.reason).to_be("INSUFFICIENT_FUNDS")
    expect(fl.http.get(sys:url("inventory", "/inventory/items/" .. item)).json.stock).to_be(5)
  end)

  it("replays an order by its idempotency key, and refuses another body", function()
    local c, item = O.customer(sys, 100), O.item(sys, 5)
    local key = O.unique("order")
    local a = O.order(sys, { customer = c, item = item, amount = 10, key = key })
    local b = O.order(sys, { customer = c, item = item, amount = 10, key = key })
    expect(b.json.saga_id).to_be(a.json.saga_id)
    expect(b.headers["idempotent-replayed"]).to_be("true")
    expect(O.balance(sys, c)).to_be(90)
    expect(O.order(sys, { customer = c, item = item, amount = 11, key = key }).status).to_be(422)
  end)

  it("rejects malformed orders with a JSON 400", function()
    for _, body in ipairs({ "", "{", '{"customer":"a"}', '{"customer":"a","item":"b","qty":0,"amount":1}',
                            '{"customer":"a","item":"b","qty":1,"amount":1,"deadline_ms":5}' }) do
      local r = fl.http.post(sys:url("orders", "/orders"), { body = body })
      expect(r.status).to_be(400)
      expect(r.json.error).to_be_a("string")
    end
    expect(fl.http.get(sys:url("orders", "/orders/nope")).status).to_be(400)
    expect(fl.http.get(sys:url("orders", "/orders/O999999999")).status).to_be(404)
  end)

  it("writes the saga's events in the history format", function()
    local c, item = O.customer(sys, 100), O.item(sys, 0)
    local id = O.order(sys, { customer = c, item = item, amount = 5 }).json.saga_id
    local seen = {}
    for _, e in ipairs(sys:events("orders", 0)) do
      if e.saga_id == id then
        expect(e.t).to_be_a("integer")
        seen[#seen + 1] = e.event .. (e.step and (":" .. e.step) or "")
      end
    end
    expect(seen).to_equal({ "saga_started", "step_requested:charge", "step_succeeded:charge",
      "step_requested:reserve", "step_failed:reserve", "compensation_requested:charge",
      "compensation_succeeded:charge", "saga_ended" })
  end)

  it("shows its breaker with a Resilience4j configuration", function()
    local b = fl.http.get(sys:url("orders", "/breakers")).json.breakers[1]
    expect(b.name).to_be("orders->payments")
    expect(b.config.window_type).to_be("COUNT_BASED")
    expect(b.config.half_open_calls).to_be_a("integer")
  end)
end)
