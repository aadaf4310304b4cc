-- Helpers the orders scenarios share (files starting with "_" are not run).
--
--   local O = require "_orders"
--   local sys = O.system()                 -- the running system (FL_SYS=DATA)
--   local c = O.customer(sys, 500)         -- a payments account with 500
--   local item = O.item(sys, 3)            -- an item with 3 in stock
--   local r = O.order(sys, { customer = c, item = item, amount = 20 })
--   O.clients(sys, { history = h, clients = 4, duration = 3, ... })
--   O.check_sagas(sys, h):ok(); O.check_breaker(sys, h):ok()
local fl = require "faultline"

local M = {}

--- system() -> the running orders system (faultline up): its services' URLs and pids,
--- its links and the fault injector's API (DATA/topology.json, where DATA
--- is -e FL_SYS=DATA, else $FL_UP_DATA)
function M.system()
  local data = fl.env.FL_SYS
  if not data or data == "" then
    data = fl.env.FL_UP_DATA
    if not data or data == "" then
      fl.skip("no orders system: faultline up examples/orders/topology.lua --data DIR, then -e FL_SYS=DIR")
    end
  end
  local sys = fl.ref.system(data)
  sys.proxy = fl.proxy.agent(sys.proxy_api)
  return sys
end

local n = 0
local function unique(prefix)
  n = n + 1
  return string.format("%s-%d-%d-%d", prefix, os.time() % 100000, fl.random(1e6), n)
end
M.unique = unique

--- customer(sys, balance) -> a new customer's name (payments account)
function M.customer(sys, balance)
  local name = unique("c")
  local r = fl.http.post(sys:url("payments", "/payments/accounts"),
    { json = { customer = name, balance = balance } })
  expect(r.status).to_be(201)
  return name
end

--- item(sys, stock) -> a new item's name (inventory)
function M.item(sys, stock)
  local name = unique("item")
  local r = fl.http.post(sys:url("inventory", "/inventory/items"), { json = { item = name, stock = stock } })
  expect(r.status).to_be(200)
  return name
end

--- order(sys, {customer=, item=, qty=1, amount=, key=, deadline_ms=, timeout=}) -> response
function M.order(sys, o)
  return fl.http.post(sys:url("orders", "/orders"), {
    json = { customer = o.customer, item = o.item, qty = o.qty or 1, amount = o.amount,
             deadline_ms = o.deadline_ms },
    headers = { ["Idempotency-Key"] = o.key or unique("k") },
    timeout = o.timeout or 15, raise = false })
end

--- balance(sys, customer) -> the customer's balance
function M.balance(sys, customer)
  return fl.http.get(sys:url("payments", "/payments/accounts/" .. customer)).json.balance
end

--- quiet(sys [, within]) -> waits until no saga is open (fails after `within` s)
function M.quiet(sys, within)
  fl.eventually(function()
    local r = fl.http.get(sys:url("orders", "/sagas?state=open"))
    return r.status == 200 and #r.json.sagas == 0
  end, { within = within or 30, every = 0.1 })
end

--- snapshot(sys) -> a money_snapshot event of payments' ledger, taken now
function M.snapshot(sys, quiescent)
  local s = fl.http.get(sys:url("payments", "/payments/snapshot")).json
  return { event = "money_snapshot", t = s.t, accounts = s.accounts, quiescent = quiescent }
end

--- record(h, process, response, key, amount): the client's view of one order
--- ok    COMPLETED
--- fail  FAILED or COMPENSATED (no effect), or refused (4xx, circuit_open)
--- info  anything else: timeout, reset, 5xx, still running
--- Returns the saga's state, "circuit_open", or the error.
function M.record(h, p, r, key)
  local j = type(r.json) == "table" and r.json or {}
  local v = { key = key, saga_id = j.saga_id, state = j.state, reason = j.reason,
              status = r.status, service = "orders" }
  if r.status == 200 and j.state == "COMPLETED" then
    h:ok(p, "order", v)
  elseif r.status == 503 and j.error == "circuit_open" then
    v.error = "circuit_open"; v.breaker = "orders->payments"
    h:fail(p, "order", v)
    return "circuit_open"
  elseif (r.status == 200 and (j.state == "FAILED" or j.state == "COMPENSATED"))
      or (r.status >= 400 and r.status < 500) then
    h:fail(p, "order", v)
  else
    v.error = r.error or ("HTTP " .. r.status)
    h:info(p, "order", v)
  end
  return j.state or v.error
end

--- clients(sys, {history=, clients=4, duration=, rate=, customers=, items=,
--- amount=}) -> {ops, ok, fail, info}: each client orders in a loop (a
--- random customer, item and amount) until `duration` s have passed,
--- recording every order in the history
function M.clients(sys, o)
  local stats = { ops = 0, ok = 0, fail = 0, info = 0 }
  local stop = fl.now() + o.duration
  local gap = o.rate and (o.clients or 4) / o.rate or 0
  fl.parallel(o.clients or 4, function(p)
    while fl.now() < stop do
      local key = unique("k" .. p)
      local c, item = fl.random.choice(o.customers), fl.random.choice(o.items)
      local amount = fl.random(1, o.amount or 50)
      o.history:invoke(p, "order", { key = key, amount = amount, service = "orders" })
      local r = M.order(sys, { customer = c, item = item, amount = amount, key = key, timeout = 12 })
      local st = M.record(o.history, p, r, key)
      stats.ops = stats.ops + 1
      local kind = (st == "COMPLETED") and "ok" or
        ((st == "FAILED" or st == "COMPENSATED" or st == "circuit_open") and "fail" or "info")
      stats[kind] = stats[kind] + 1
      if gap > 0 then fl.sleep(gap) end
    end
  end)
  return stats
end

--- history(name) -> a recorder in a fresh file (under -e ORDERS_OUT=DIR,
--- else /tmp), and the time it was opened (ns, for the checkers' `since`:
--- the outboxes keep earlier runs' events too)
function M.history(name)
  local dir = fl.env.ORDERS_OUT or os.getenv("TMPDIR") or "/tmp"
  local path = string.format("%s/orders-%s-%s.jsonl", dir, name:gsub("[^%w]+", "_"), unique("h"))
  local h = assert(fl.history.open(path))
  fl.defer(function() h:close() end)
  return h, math.floor(fl.now() * 1e9)
end

local function outbox(sys, service, into)
  for _, e in ipairs(sys:events(service, 0)) do into[#into + 1] = e end
  return into
end

--- check_sagas(sys, h [, config]) -> saga checker result over the client
--- history h, orders' saga events, payments' effects and a quiescent ledger
--- snapshot (M1, M3, S1-S6); config.since: check only sagas from then on
function M.check_sagas(sys, h, config)
  M.quiet(sys, 30)
  local events = outbox(sys, "orders", {})
  outbox(sys, "payments", events)
  events[#events + 1] = { event = "quiescence", t = math.floor(fl.now() * 1e9) }
  events[#events + 1] = M.snapshot(sys, true)
  local c = { grace_ms = 10000 }
  for k, v in pairs(config or {}) do c[k] = v end
  return fl.check.run("saga", { files = { h:path() }, events = events }, c)
end

--- breaker(sys) -> orders' breaker toward payments as GET /breakers shows
--- it: {name, state, config, window}
function M.breaker(sys)
  return fl.http.get(sys:url("orders", "/breakers")).json.breakers[1]
end

--- check_breaker(sys, h [, since]) -> breaker checker result (C1-C7) for
--- orders->payments: the breaker's own events, its configuration from
--- /breakers, and the exchanges the link recorded
function M.check_breaker(sys, h, since)
  local b = M.breaker(sys)
  local events = outbox(sys, "orders", {})
  for _, e in ipairs(sys.proxy:link("orders->payments"):events{ since = 0 }) do
    events[#events + 1] = e
  end
  local c = { name = b.name, config = b.config, since = since, history = h:path(), events = events }
  -- orders records a refusal in a durable write: allow more than the default 50 ms
  c.config.fast_fail_ms = 1000
  c.config.link = "orders->payments"
  return fl.check.breaker("orders->payments", c)
end

--- nemesis(sys, h, duration [, stop]) -> list of faults applied: fl.nemesis,
--- the generic seeded schedule (--seed replays it), over orders' links
--- (latency, 500s before the call, answers lost after it, resets,
--- partitions) and the processes behind them (payments or inventory
--- paused), one fault at a time for 0.3-1.2 s, recorded in h as fault
--- windows and process events. Every link fault goes through fl.proxy's
--- lease. Ends healed. (kill and term are not drawn yet: a terminated
--- inventory left sagas UNKNOWN past the quiet wait; see the notes.)
function M.nemesis(sys, h, duration, stop)
  local nem = fl.nemesis.new(sys, {
    history = h,
    links = { "orders->payments", "orders->inventory" },
    pause = { "payments", "inventory" }, kill = {}, term = {},
    kinds = { latency = 2, http_abort = 2, http_drop_response = 2, reset = 1, partition = 2, pause = 1 },
    min = 0.3, max = 1.2, gap = 0.2,
  })
  fl.defer(function() nem:heal() end)
  nem:run(duration, stop)
  nem:heal()
  return nem.log
end

return M
