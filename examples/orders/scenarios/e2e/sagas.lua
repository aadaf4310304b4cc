-- End to end: orders under faults on their links, then the saga checker
-- (M1, M3, S1-S6) over the clients' history, orders' saga events,
-- payments' effects and a quiescent ledger snapshot.
--   faultline run examples/orders/scenarios/e2e -e FL_SYS=DATA
local fl = require "faultline"
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

describe("order sagas", { tags = { "e2e", "saga" } }, function()
  it("end with the right net effect despite lost answers and failed calls", { timeout = 90 }, function()
    local sys = O.system()
    local h, since = O.history("sagas-faults")
    local customers, items = {}, {}
    for i = 1, 4 do customers[i] = O.customer(sys, 100000) end
    -- two items run out during the run: those orders are compensated
    items = { O.item(sys, 3), O.item(sys, 3), O.item(sys, 1000) }
    local pay, inv = sys.proxy:link("orders->payments"), sys.proxy:link("orders->inventory")
    local toxics = {
      -- a charge applied whose answer is lost: UNKNOWN, retried with its key
      pay:toxic{ type = "http_drop_response", method = "POST", path = "/payments/charge", probability = 0.1 },
      -- a reservation refused before it reached inventory, and one applied but unanswered
      inv:toxic{ type = "http_abort", status = 500, path = "/inventory/reserve", probability = 0.15 },
      inv:toxic{ type = "http_drop_response", path = "/inventory/reserve", probability = 0.15 },
    }
    local stats = O.clients(sys, { history = h, clients = 4, duration = 3, rate = 25,
                                   customers = customers, items = items, amount = 60 })
    for _, t in ipairs(toxics) do t:remove() end
    print(string.format("  %d orders: %d ok, %d fail, %d info", stats.ops, stats.ok, stats.fail, stats.info))
    O.check_sagas(sys, h, { since = since }):ok()
    expect(stats.ops).to_be_greater_than(10)
  end)

  it("compensates an order whose reservation never answers, at its deadline", { timeout = 60 }, function()
    local sys = O.system()
    local h, since = O.history("sagas-deadline")
    local c, item = O.customer(sys, 100), O.item(sys, 5)
    -- the reservation (not the query that resolves it) is held longer than orders' call timeout (2 s) and than the saga's deadline
    local slow = sys.proxy:link("orders->inventory"):toxic{ type = "http_delay", delay = 2500,
                                                                   method = "POST", path = "/inventory/reserve" }
    local key = O.unique("k")
    h:invoke(1, "order", { key = key, service = "orders" })
    local r = O.order(sys, { customer = c, item = item, amount = 30, key = key, deadline_ms = 1500 })
    O.record(h, 1, r, key)
    slow:remove()
    expect(r.json.state).to_be("COMPENSATED")
    expect(r.json.reason).to_be("DEADLINE")
    expect(O.balance(sys, c)).to_be(100)
    -- the delayed reservation arrives after the key was fenced: nothing reserved
    fl.sleep(1)
    expect(fl.http.get(sys:url("inventory", "/inventory/items/" .. item)).json.stock).to_be(5)
    O.check_sagas(sys, h, { since = since }):ok()
  end)

  -- The chaos run draws a lost refund answer only now and then: here the
  -- first refund of an out-of-stock order is applied and its answer lost;
  -- the retry must carry the same key, so the customer is refunded once (S2).
  it("refunds once when a refund's answer is lost", { timeout = 60 }, function()
    local sys = O.system()
    local h, since = O.history("sagas-refund-lost")
    local c, none = O.customer(sys, 100), O.item(sys, 0)
    local pay = sys.proxy:link("orders->payments")
    local lost = pay:toxic{ type = "http_drop_response", method = "POST", path = "/payments/refund" }
    local key = O.unique("k")
    h:invoke(1, "order", { key = key, service = "orders" })
    local order = fl.spawn(function()
      return O.order(sys, { customer = c, item = none, amount = 30, key = key })
    end)
    fl.eventually(function()
      for _, e in ipairs(pay:events{ since = 0 }) do
        if e.event == "http_exchange" and e.path == "/payments/refund" and e.fault == "http_drop_response" then
          return true
        end
      end
      return false
    end, { within = 10, every = 0.02 })
    lost:remove()
    local r = fl.join(order)
    O.record(h, 1, r, key)
    O.check_sagas(sys, h, { since = since }):ok()
    expect(r.json.state).to_be("COMPENSATED")
    expect(O.balance(sys, c)).to_be(100)
  end)
end)
