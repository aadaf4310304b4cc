-- End to end: the circuit breaker orders->payments. payments' link answers
-- every charge with a 500 until the breaker opens; orders then refuses at once (503
-- circuit_open) without calling payments; after its wait the breaker lets
-- trial calls through and closes. The breaker checker (C1-C7) replays
-- Resilience4j's state machine over the breaker's events and the exchanges
-- the link recorded.
local fl = require "faultline"
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

describe("breaker orders->payments", { tags = { "e2e", "breaker" } }, function()
  it("opens on failures, fails fast while open, and closes after its trials", { timeout = 60 }, function()
    local sys = O.system()
    local h, since = O.history("breaker")
    local c, item = O.customer(sys, 10000), O.item(sys, 1000)
    local cfg = O.breaker(sys).config
    local abort = sys.proxy:link("orders->payments"):toxic{ type = "http_abort", status = 500,
                                                                 method = "POST", path = "/payments/charge" }
    local refused = 0
    local function one(deadline, p)
      local key = O.unique("k")
      h:invoke(p or 1, "order", { key = key, service = "orders" })
      local r = O.order(sys, { customer = c, item = item, amount = 1, key = key, deadline_ms = deadline })
      return O.record(h, p or 1, r, key), r
    end
    -- a client whose orders trip the breaker; once it is OPEN, a new order
    -- is refused at once (the client's own order waits: its charge is in
    -- doubt and the query that resolves it waits for the breaker)
    local tripping = true
    local bg = fl.spawn(function()
      while tripping do one(300, 2) end
    end)
    local function state() return O.breaker(sys).state end
    fl.eventually(function() return state() == "OPEN" end, { within = 15, every = 0.02 })
    local st, r = one(1000)
    expect(st).to_be("circuit_open")
    expect(r.time).to_be_less_than(1)
    refused = refused + 1
    tripping = false
    fl.join(bg)
    abort:remove()
    -- after the wait in OPEN, trial orders go through and close it again
    fl.sleep(cfg.wait_open_ms / 1000 + 0.2)
    fl.eventually(function()
      return one(3000) == "COMPLETED"
        and O.breaker(sys).state == "CLOSED"
    end, { within = 15, every = 0.1 })
    O.quiet(sys, 30)
    O.check_breaker(sys, h, since):ok()
    O.check_sagas(sys, h, { since = since }):ok()
  end)

  -- Claims against the wire and the half-open limit: orders refused for
  -- funds (payments answers 402, a success by the breaker's documented
  -- classification: C8), then, once it is open again and its wait is over,
  -- a burst of orders whose charges are held 400 ms: at most k trial calls
  -- may reach payments (C2), the others are refused at once.
  it("a refusal for funds is a success; half-open lets k trials through a burst", { timeout = 60 }, function()
    local sys = O.system()
    local h, since = O.history("breaker-trials")
    local c, poor, item = O.customer(sys, 10000), O.customer(sys, 1), O.item(sys, 1000)
    local cfg = O.breaker(sys).config
    local function state() return O.breaker(sys).state end
    local function one(who, p, deadline)
      local key = O.unique("t")
      h:invoke(p, "order", { key = key, service = "orders" })
      local r = O.order(sys, { customer = who, item = item, amount = 5, key = key, deadline_ms = deadline })
      return O.record(h, p, r, key)
    end
    fl.eventually(function() return state() == "CLOSED" end, { within = 15, every = 0.1 })
    for _ = 1, 2 do expect(one(poor, 1)).to_be("FAILED") end
    local link = sys.proxy:link("orders->payments")
    local abort = link:toxic{ type = "http_abort", status = 500, method = "POST", path = "/payments/charge" }
    -- as above: a client whose orders trip it (its last order waits for
    -- its in-doubt charge to be resolved through the breaker)
    local tripping = true
    local bg = fl.spawn(function()
      while tripping do one(c, 2, 300) end
    end)
    fl.eventually(function() return state() == "OPEN" end, { within = 15, every = 0.02 })
    tripping = false
    abort:remove()
    fl.join(bg)
    local held = link:toxic{ type = "http_delay", delay = 400, method = "POST", path = "/payments/charge" }
    fl.sleep(cfg.wait_open_ms / 1000 + 0.2)
    local refused = 0
    fl.parallel(6, function(p)
      if one(c, 2 + p, 3000) == "circuit_open" then refused = refused + 1 end
    end)
    held:remove()
    O.quiet(sys, 30)
    O.check_breaker(sys, h, since):ok()
    O.check_sagas(sys, h, { since = since }):ok()
    expect(refused >= 3).to_be(true)
  end)
end)
