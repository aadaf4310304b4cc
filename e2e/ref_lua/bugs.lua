-- The planted bugs of the reference system, one test each, asserting the
-- wrong behaviour the bug causes (the checkers catch them generically).
-- e2e/ref_bugs.sh starts a system per bug and runs the matching test
-- (--grep "bug: NAME "); every symptom asserted here is absent on the
-- correct system (e2e/ref_sagas.sh, ref_breakers.sh, ref_probes.sh).
local fl = require "faultline"
local http = fl.http

local sys

local function ended(id, within)
  return fl.eventually(function()
    local s = sys:saga(id)
    return (s.state == "COMPLETED" or s.state == "COMPENSATED" or s.state == "FAILED") and s
  end, { within = within or 15 })
end

local function verify(o)
  o = o or {}
  return http.post(sys:url("banking", "/banking/account/verify"),
    { json = { bankName = "KB", bankAccountNumber = "x" }, raise = false, timeout = o.timeout or 5 })
end

local function account(bank, number)
  for _, a in ipairs(sys:bank().accounts) do
    if a.bankName == bank and a.bankAccountNumber == number then return a.balance end
  end
end

local function dest(a)
  local n = "bug-" .. a.id
  http.post(sys:url("extbank", "/bank/accounts"), { json = { bankName = "SH", bankAccountNumber = n } })
  return n
end

describe("planted bugs", function()
  setup(function() sys = fl.ref.system() end)
  after_each(function()
    for _, s in ipairs{ "extbank", "banking", "query" } do
      if not sys:alive(s) then sys:restart(s) end
    end
    sys:heal()
    sys:chaos{ reset = true }
  end)

  it("bug: no-refund : a transfer the bank rejected is never refunded", function()
    local a = sys:member{ balance = 10000 }
    local n = dest(a)
    sys:chaos{ reject_rate = 1 }
    local r = sys:transfer{ from = a.id, bank = "SH", account = n, amount = 3000 }
    expect(r.json.reason).to_be("BANK_REJECTED")
    expect(sys:balance(a.id)).to_be(7000)      -- correct: 10000
    expect(sys:ledger().transit).to_be(3000)   -- the money is stuck in TRANSIT
  end)

  it("bug: refund-on-unknown : a deposit whose answer was lost is refunded although applied", function()
    local a = sys:member{ balance = 10000 }
    local n = dest(a)
    sys:chaos{ timeout_after_apply = 1 }
    local r = sys:transfer{ from = a.id, bank = "SH", account = n, amount = 6000, wait = false }
    local s = ended(r.json.saga_id)
    sys:chaos{ reset = true }
    expect(s.state).to_be("COMPENSATED")
    expect(sys:balance(a.id)).to_be(10000)     -- refunded ...
    expect(account("SH", n)).to_be(6000)       -- ... and paid out: money doubled
    local ok = sys:conserved()
    expect(ok).to_be(false)
  end)

  it("bug: non-idempotent-credit : a retried credit pays twice", function()
    local a = sys:member{}
    for _ = 1, 2 do
      http.post(sys:url("money", "/money/credit"), { json = { membershipId = a.id, amount = 1000, source = "CORP" },
        headers = { "Idempotency-Key: retried-credit-" .. a.id } })
    end
    expect(sys:balance(a.id)).to_be(2000)      -- correct: 1000
    local e = http.get(sys:url("money", "/money/entries?key=retried-credit-" .. a.id)).json
    expect(#e.entries).to_be(2)
  end)

  it("bug: internal-no-compensation : the sender is not refunded when the credit fails", function()
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    http.post(sys:url("money", "/money/close-member-money"), { json = { membershipId = b.id } })
    local r = sys:transfer{ from = a.id, to = b.id, amount = 4000 }
    expect(r.json.state).to_be("FAILED")
    expect(sys:balance(a.id)).to_be(6000)      -- correct: 10000 (COMPENSATED)
    expect(sys:ledger().transit).to_be(4000)
  end)

  it("bug: no-saga-deadline : a saga whose participant never answers stays open", function()
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    local tox = sys:fault("remittance->money", { type = "timeout", attributes = { timeout = 0 } })
    local r = sys:transfer{ from = a.id, to = b.id, amount = 1000, wait = false }
    fl.sleep(5) -- deadline 2 s, calls time out after 1 s
    expect(sys:saga(r.json.saga_id).state).to_be("RUNNING")   -- correct: COMPENSATING/FAILED
    sys:unfault("remittance->money", tox)
    ended(r.json.saga_id)
  end)

  it("bug: breaker-never-opens : every call reaches the failing bank", function()
    sys:chaos{ down = true }
    for _ = 1, 10 do verify() end
    local b = sys:breaker("banking", "banking->extbank")
    expect(b.state).to_be("CLOSED")            -- correct: OPEN after 5
    expect(b.totals.failures).to_be(10)
    expect(b.totals.rejected).to_be(0)
  end)

  it("bug: breaker-stuck-open : the breaker never half-opens", function()
    sys:chaos{ down = true }
    for _ = 1, 5 do verify() end
    expect(sys:breaker("banking", "banking->extbank").state).to_be("OPEN")
    sys:chaos{ reset = true }
    fl.sleep(2.2)                              -- twice the wait in open state
    expect(verify().json.result).to_be("CIRCUIT_OPEN")
    expect(sys:breaker("banking", "banking->extbank").state).to_be("OPEN")
  end)

  it("bug: breaker-halfopen-flood : half-open lets every call through", function()
    sys:chaos{ down = true }
    for _ = 1, 5 do verify() end
    sys:chaos{ reset = true }
    sys:chaos{ latency_ms = 300 }
    fl.sleep(1.05)
    local res = fl.parallel(8, function() return verify().status end)
    local through = 0
    for _, st in ipairs(res) do if st == 200 then through = through + 1 end end
    expect(through).to_be(8)                   -- correct: 3 trials, 5 rejected
  end)

  it("bug: liveness-checks-deps : /livez fails when the bank is down", function()
    sys:kill("extbank")
    fl.eventually(function() return not sys:alive("extbank") end)
    for _ = 1, 6 do verify() end
    expect(http.get(sys:url("banking", "/livez"), { raise = false }).status).to_be(503) -- correct: 200
  end)

  it("bug: ready-while-draining : /readyz stays 200 after SIGTERM", function()
    sys:terminate("query")
    fl.sleep(0.2)
    expect(http.get(sys:url("query", "/readyz"), { raise = false }).status).to_be(200) -- correct: 503
    fl.eventually(function() return not sys:alive("query") end, { within = 5 })
  end)

  it("bug: drop-inflight-on-sigterm : SIGTERM drops the requests in flight", function()
    sys:chaos{ latency_ms = 1500 }
    local slow = fl.spawn(function() return verify() end)
    fl.sleep(0.2)
    sys:terminate("banking")
    local r = fl.join(slow)
    expect(r.status).to_be(0)                  -- correct: 200 after the drain
    fl.eventually(function() return not sys:alive("banking") end, { within = 2 })
  end)

  it("bug: query-increases-only : the read model adds and never subtracts", function()
    local addr = "bug-q-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))
    local a = sys:member{ balance = 10000, address = addr }
    local b = sys:member{}
    sys:transfer{ from = a.id, to = b.id, amount = 4000 }
    expect(sys:balance(a.id)).to_be(6000)
    fl.sleep(0.5)
    local q = http.get(sys:url("query", "/money/query/get-money-sum-by-address/" .. addr)).json
    expect(q.sum).to_be(10000)                 -- correct: 6000
  end)
end)
