-- Sagas of the reference system against real processes: every happy path,
-- every compensation path, idempotency, concurrency, CQRS and the gateway.
-- Run by e2e/ref_sagas.sh (system started with --saga-deadline 2s).
local fl = require "faultline"
local http = fl.http

local sys

local function saga_events(id)
  local out = {}
  for _, e in ipairs(sys:events("remittance")) do
    if e.saga_id == id then out[#out + 1] = e end
  end
  return out
end

local function types(evs)
  local t = {}
  for _, e in ipairs(evs) do t[#t + 1] = e.type .. (e.step and (":" .. e.step .. ":" .. e.dir) or "") end
  return table.concat(t, " ")
end

local function has(evs, typ)
  for _, e in ipairs(evs) do if e.type == typ then return true end end
  return false
end

local function ended(id, within)
  return fl.eventually(function()
    local s = sys:saga(id)
    return (s.state == "COMPLETED" or s.state == "COMPENSATED" or s.state == "FAILED"
      or s.state == "STUCK") and s
  end, { within = within or 10 })
end

local function account_balance(bank, number)
  for _, a in ipairs(sys:bank().accounts) do
    if a.bankName == bank and a.bankAccountNumber == number then return a.balance end
  end
end

local function open_account(bank, number, balance)
  local r = http.post(sys:url("extbank", "/bank/accounts"),
    { json = { bankName = bank, bankAccountNumber = number, balance = balance or 0 } })
  expect(r.status).to_be(201)
end

describe("reference sagas", function()
  setup(function() sys = fl.ref.system() end)
  after_each(function()
    sys:heal()
    sys:chaos{ reset = true }
    local ok, why = sys:conserved()
    if not ok then fl.fail("money not conserved: " .. why) end
  end)

  it("internal transfer: debit, credit, COMPLETED, events in order", function()
    local a, b = sys:member{ balance = 50000 }, sys:member{}
    local r = sys:transfer{ from = a.id, to = b.id, amount = 20000 }
    expect(r.status).to_be(200)
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(30000)
    expect(sys:balance(b.id)).to_be(20000)
    expect(types(saga_events(r.json.saga_id))).to_be(
      "saga_started step_requested:validate:fwd step_succeeded:validate:fwd " ..
      "step_requested:debit:fwd step_succeeded:debit:fwd step_requested:credit:fwd " ..
      "step_succeeded:credit:fwd saga_ended")
    for _, e in ipairs(saga_events(r.json.saga_id)) do
      expect(e.trace_id).to_be(r.json.trace_id)
      expect(type(e.t)).to_be("number")
      expect(type(e.ts)).to_be("string")
    end
  end)

  it("top-up: bank account to CORP, then CORP to the wallet", function()
    local a = sys:member{ bank_balance = 70000 }
    local corp0 = sys:bank().corp
    local r = sys:topup{ member = a.id, amount = 30000 }
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(30000)
    expect(account_balance(a.bank, a.account)).to_be(40000)
    expect(sys:bank().corp).to_be(corp0 + 30000)
  end)

  it("external transfer: debit, firm banking, settle", function()
    local a = sys:member{ balance = 40000 }
    open_account("SH", "ext-" .. a.id, 0)
    local r = sys:transfer{ from = a.id, bank = "SH", account = "ext-" .. a.id, amount = 15000 }
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(25000)
    expect(account_balance("SH", "ext-" .. a.id)).to_be(15000)
  end)

  it("insufficient balance ends FAILED with nothing compensated", function()
    local a, b = sys:member{ balance = 1000 }, sys:member{}
    local r = sys:transfer{ from = a.id, to = b.id, amount = 5000 }
    expect(r.json.state).to_be("FAILED")
    expect(r.json.reason).to_be("INSUFFICIENT_BALANCE")
    local evs = saga_events(r.json.saga_id)
    expect(has(evs, "compensation_requested")).to_be(false)
    expect(sys:balance(a.id)).to_be(1000)
    expect(sys:balance(b.id)).to_be(0)
  end)

  it("destination closed: the credit fails and the sender is refunded", function()
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    http.post(sys:url("money", "/money/close-member-money"), { json = { membershipId = b.id } })
    local r = sys:transfer{ from = a.id, to = b.id, amount = 4000 }
    expect(r.json.state).to_be("COMPENSATED")
    expect(r.json.reason).to_be("WALLET_CLOSED")
    expect(sys:balance(a.id)).to_be(10000)
    expect(types(saga_events(r.json.saga_id))).to_match("step_failed:credit:fwd compensation_requested:debit:comp compensation_succeeded:debit:comp saga_ended")
  end)

  it("the bank rejects: the sender is refunded", function()
    local a = sys:member{ balance = 10000 }
    open_account("SH", "rej-" .. a.id, 0)
    sys:chaos{ reject_rate = 1 }
    local r = sys:transfer{ from = a.id, bank = "SH", account = "rej-" .. a.id, amount = 3000 }
    expect(r.json.state).to_be("COMPENSATED")
    expect(r.json.reason).to_be("BANK_REJECTED")
    expect(sys:balance(a.id)).to_be(10000)
    expect(account_balance("SH", "rej-" .. a.id)).to_be(0)
  end)

  it("the bank times out after applying: resolved by asking, never refunded", function()
    local a = sys:member{ balance = 10000 }
    open_account("SH", "lost-" .. a.id, 0)
    sys:chaos{ timeout_after_apply = 1 }
    local r = sys:transfer{ from = a.id, bank = "SH", account = "lost-" .. a.id, amount = 6000, wait = false }
    local id = r.json.saga_id
    fl.eventually(function() return has(saga_events(id), "step_unknown") end, { within = 5 })
    sys:chaos{ reset = true }
    local s = ended(id)
    expect(s.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(4000)
    expect(account_balance("SH", "lost-" .. a.id)).to_be(6000)
    local evs = saga_events(id)
    expect(has(evs, "step_resolved")).to_be(true)
    expect(has(evs, "compensation_requested")).to_be(false)
  end)

  it("money unreachable before the pivot until the deadline: compensated, nothing lost", function()
    local a, b = sys:member{ balance = 9000 }, sys:member{}
    local t0 = fl.now()
    local name = sys:fault("remittance->money", { type = "timeout", attributes = { timeout = 0 } })
    local r = sys:transfer{ from = a.id, to = b.id, amount = 2000, wait = false }
    local id = r.json.saga_id
    fl.eventually(function() return sys:saga(id).state == "COMPENSATING" end, { within = 6 })
    expect(fl.now() - t0 >= 1.9).to_be(true)
    sys:unfault("remittance->money", name)
    local s = ended(id)
    expect(s.reason).to_be("DEADLINE_EXCEEDED")
    expect(s.state == "COMPENSATED" or s.state == "FAILED").to_be(true)
    expect(sys:balance(a.id)).to_be(9000)
    expect(sys:balance(b.id)).to_be(0)
    local evs = saga_events(id)
    -- an unknown debit is resolved (fenced query) before any compensation
    local resolved_at, comp_at
    for i, e in ipairs(evs) do
      if e.type == "step_resolved" and e.step == "debit" then resolved_at = resolved_at or i end
      if e.type == "compensation_requested" then comp_at = comp_at or i end
    end
    if comp_at then expect(resolved_at ~= nil and resolved_at < comp_at).to_be(true) end
  end)

  it("saga_started carries the request's Idempotency-Key and the saga's deadline", function()
    local a, b = sys:member{ balance = 5000 }, sys:member{}
    local key = "started-" .. a.id
    local r = sys:transfer{ from = a.id, to = b.id, amount = 100, key = key }
    expect(r.status).to_be(200)
    local started
    for _, e in ipairs(saga_events(r.json.saga_id)) do
      if e.type == "saga_started" then started = e end
    end
    expect(started ~= nil).to_be(true)
    expect(started.request_key).to_be(key)
    expect(started.deadline_ms).to_be(2000) -- --saga-deadline 2s
    expect(r.json.deadlineMs).to_be(2000)
    -- without a key: no request_key, still a deadline
    local t = sys:topup{ member = a.id, amount = 100, deadline_ms = 4500 }
    expect(t.status).to_be(200)
    for _, e in ipairs(saga_events(t.json.saga_id)) do
      if e.type == "saga_started" then started = e end
    end
    expect(started.saga_id).to_be(t.json.saga_id)
    expect(started.request_key == nil).to_be(true)
    expect(started.deadline_ms).to_be(4500)
    expect(t.json.deadlineMs).to_be(4500)
    expect(t.json.deadline_ms - t.json.created_ms).to_be(4500)
  end)

  it("deadlineMs out of range or not an integer: 400 JSON, no saga", function()
    local a, b = sys:member{ balance = 5000 }, sys:member{}
    local before = #sys:sagas()
    for _, d in ipairs({ 99, 600001, 0, -5, 1.5, "1000", true }) do
      local r = sys:transfer{ from = a.id, to = b.id, amount = 100, deadline_ms = d }
      expect(r.status).to_be(400)
      expect(r.json.status).to_be(400)
      expect(tostring(r.json.error):find("deadlineMs", 1, true) ~= nil).to_be(true)
      local t = sys:topup{ member = a.id, amount = 100, deadline_ms = d }
      expect(t.status).to_be(400)
      expect(tostring(t.json.error):find("deadlineMs", 1, true) ~= nil).to_be(true)
    end
    expect(#sys:sagas()).to_be(before)
    expect(sys:transfer{ from = a.id, to = b.id, amount = 100, deadline_ms = 100 }.status).to_be(200)
    expect(sys:transfer{ from = a.id, to = b.id, amount = 100, deadline_ms = 600000 }.status).to_be(200)
  end)

  it("a request's deadlineMs overrides --saga-deadline, longer and shorter", function()
    local a, b = sys:member{ balance = 9000 }, sys:member{}
    local name = sys:fault("remittance->money", { type = "timeout", attributes = { timeout = 0 } })
    local t0 = fl.now()
    local long = sys:transfer{ from = a.id, to = b.id, amount = 1000, wait = false, deadline_ms = 6000 }
    local short = sys:transfer{ from = a.id, to = b.id, amount = 1000, wait = false, deadline_ms = 300 }
    expect(long.status).to_be(202)
    expect(short.status).to_be(202)
    -- the configured 2 s deadline has passed: the long saga still runs
    fl.eventually(function() return sys:saga(short.json.saga_id).state ~= "RUNNING" end, { within = 6 })
    fl.sleep(math.max(0, 3 - (fl.now() - t0)))
    expect(sys:saga(long.json.saga_id).state).to_be("RUNNING")
    sys:unfault("remittance->money", name)
    local s = ended(short.json.saga_id)
    expect(s.reason).to_be("DEADLINE_EXCEEDED")
    expect(ended(long.json.saga_id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(8000)
    expect(sys:balance(b.id)).to_be(1000)
  end)

  it("a replayed Idempotency-Key has one effect", function()
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    local key = "idem-" .. a.id
    local r1 = sys:transfer{ from = a.id, to = b.id, amount = 1000, key = key }
    local r2 = sys:transfer{ from = a.id, to = b.id, amount = 1000, key = key }
    expect(r2.json.saga_id).to_be(r1.json.saga_id)
    expect(r2.headers["idempotent-replayed"]).to_be("true")
    expect(sys:balance(a.id)).to_be(9000)
    local r3 = sys:transfer{ from = a.id, to = b.id, amount = 2000, key = key }
    expect(r3.status).to_be(422)
    -- the participant itself: the same debit key twice, one ledger entry
    local k = "direct-" .. a.id
    for _ = 1, 2 do
      local d = http.post(sys:url("money", "/money/debit"),
        { json = { membershipId = a.id, amount = 500 }, headers = { "Idempotency-Key: " .. k } })
      expect(d.json.result).to_be("OK")
    end
    local e = http.get(sys:url("money", "/money/entries?key=" .. k)).json
    expect(#e.entries).to_be(1)
    http.post(sys:url("money", "/money/refund"), { json = { membershipId = a.id, amount = 500, forwardKey = k },
      headers = { "Idempotency-Key: " .. k .. ":comp" } })
    expect(sys:balance(a.id)).to_be(9000)
  end)

  it("concurrent transfers from one member never overdraw", function()
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    local res = fl.parallel(20, function()
      return sys:transfer{ from = a.id, to = b.id, amount = 1000 }.json.state
    end)
    local done = 0
    for _, st in ipairs(res) do if st == "COMPLETED" then done = done + 1 end end
    expect(done).to_be(10)
    expect(sys:balance(a.id)).to_be(0)
    expect(sys:balance(b.id)).to_be(10000)
  end)

  it("traceparent is accepted and propagated into the saga", function()
    local a, b = sys:member{ balance = 1000 }, sys:member{}
    local trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    local r = http.post(sys:url("remittance", "/remittance/request"), {
      json = { fromMembershipId = a.id, toMembershipId = b.id, amount = 100, remittanceType = 0 },
      headers = { "traceparent: 00-" .. trace .. "-00f067aa0ba902b7-01" } })
    expect(r.json.trace_id).to_be(trace)
    for _, e in ipairs(sys:events("money")) do
      if e.key == r.json.saga_id .. ":debit:fwd" then expect(e.trace_id).to_be(trace) end
    end
  end)

  it("CQRS read model converges after a burst; gateway aggregation agrees", function()
    local addr = "동-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))
    local ms = {}
    for i = 1, 6 do ms[i] = sys:member{ balance = 20000, address = addr } end
    fl.parallel(12, function(k)
      for j = 1, 5 do
        local from, to = ms[(k + j) % 6 + 1], ms[(k + 2 * j) % 6 + 1]
        if from.id ~= to.id then sys:transfer{ from = from.id, to = to.id, amount = 700 + k } end
      end
      sys:topup{ member = ms[k % 6 + 1].id, amount = 100 }
    end)
    local truth = 0
    for _, m in ipairs(ms) do truth = truth + sys:balance(m.id) end
    fl.eventually(function()
      local q = http.get(sys:url("query", "/money/query/get-money-sum-by-address/" .. addr)).json
      return q.sum == truth and q.members == 6
    end, { within = 5 })
    local g = http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
      { json = { address = addr } }).json
    expect(g.sum).to_be(truth)
    expect(g.members).to_be(6)
  end)

  it("gateway: routing and aggregation for one member", function()
    local addr = "단독-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))
    local a = sys:member{ balance = 1234, address = addr }
    local r = http.get(sys:url("gateway", "/api/money/money/" .. a.id))
    expect(r.status).to_be(200)
    expect(r.json.balance).to_be(1234)
    local g = http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
      { json = { address = addr } }).json
    expect(g.sum).to_be(1234)
    expect(g.members).to_be(1)
    expect(http.get(sys:url("gateway", "/api/nosuch/x")).status).to_be(404)
  end)

  it("failure counters and CTR reports", function()
    local a, b = sys:member{ balance = 100 }, sys:member{}
    local before = http.get(sys:url("query", "/stats/failed-transfers?reason=INSUFFICIENT_BALANCE")).json.count
    sys:transfer{ from = a.id, to = b.id, amount = 1000 }
    fl.eventually(function()
      return http.get(sys:url("query", "/stats/failed-transfers?reason=INSUFFICIENT_BALANCE")).json.count == before + 1
    end)
    local big = sys:member{ balance = 10000000 }
    fl.eventually(function()
      for _, rep in ipairs(http.get(sys:url("query", "/compliance/ctr")).json.reports) do
        if rep.membershipId == big.id and rep.kind == "topup" then return true end
      end
      return false
    end)
  end)
end)
