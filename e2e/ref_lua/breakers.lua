-- Circuit breakers of the reference system under injected failures, seen
-- through /breakers and the breaker events; DEFERRED sagas complete after
-- recovery. Run by e2e/ref_breakers.sh (breaker wait 1 s).
local fl = require "faultline"
local http = fl.http

local sys

local function state(service, name) return sys:breaker(service, name).state end

local function transitions(service, name)
  local out = {}
  for _, e in ipairs(sys:events(service)) do
    if e.type == "breaker_transition" and e.breaker == name then out[#out + 1] = e.from .. ">" .. e.to end
  end
  return out
end

local function verify()
  return http.post(sys:url("banking", "/banking/account/verify"),
    { json = { bankName = "KB", bankAccountNumber = "nope" }, raise = false, timeout = 5 })
end

local function open_bank_breaker()
  sys:chaos{ down = true }
  for _ = 1, 5 do expect(verify().status >= 500).to_be(true) end
  expect(state("banking", "banking->extbank")).to_be("OPEN")
end

local function ended(id)
  return fl.eventually(function()
    local s = sys:saga(id)
    return (s.state == "COMPLETED" or s.state == "COMPENSATED" or s.state == "FAILED") and s
  end, { within = 10 })
end

describe("circuit breakers", function()
  setup(function() sys = fl.ref.system() end)
  after_each(function()
    sys:heal()
    sys:chaos{ reset = true }
    -- let every breaker close again before the next test
    fl.sleep(1.1)
    for _ = 1, 3 do verify() end
    fl.eventually(function() return state("banking", "banking->extbank") == "CLOSED" end, { within = 5 })
    expect(sys:quiesce{ within = 15 }).to_be(0)
    local ok, why = sys:conserved()
    if not ok then fl.fail("money not conserved: " .. why) end
  end)

  it("opens at the threshold, fails fast, half-opens after the wait, closes on good trials", function()
    local before = #transitions("banking", "banking->extbank")
    local b = sys:breaker("banking", "banking->extbank")
    expect(b.config.window).to_be(10)
    expect(b.config.minimum_calls).to_be(5)
    expect(b.config.permitted_calls_in_half_open).to_be(3)
    sys:chaos{ down = true }
    for i = 1, 4 do
      verify()
      expect(state("banking", "banking->extbank")).to_be("CLOSED") -- fewer than m outcomes
    end
    verify()
    expect(state("banking", "banking->extbank")).to_be("OPEN")
    local t0 = fl.now()
    local r = verify()
    expect(r.status).to_be(503)
    expect(r.json.result).to_be("CIRCUIT_OPEN")
    expect(fl.now() - t0 < 0.05).to_be(true)
    sys:chaos{ reset = true }
    fl.sleep(1.05)
    for _ = 1, 3 do expect(verify().status).to_be(200) end
    expect(state("banking", "banking->extbank")).to_be("CLOSED")
    local tr = transitions("banking", "banking->extbank")
    expect(table.concat(tr, " ", before + 1)).to_be("CLOSED>OPEN OPEN>HALF_OPEN HALF_OPEN>CLOSED")
  end)

  it("a failing half-open trial opens it again", function()
    open_bank_breaker()
    fl.sleep(1.05)
    verify()
    expect(state("banking", "banking->extbank")).to_be("HALF_OPEN")
    verify(); verify()
    expect(state("banking", "banking->extbank")).to_be("OPEN")
  end)

  it("bank transfers are DEFERRED while the bank's breaker is open and complete after recovery", function()
    local a = sys:member{ balance = 10000, bank_balance = 20000 }
    http.post(sys:url("extbank", "/bank/accounts"), { json = { bankName = "SH", bankAccountNumber = "def-" .. a.id } })
    open_bank_breaker()
    local r = sys:transfer{ from = a.id, bank = "SH", account = "def-" .. a.id, amount = 2500 }
    expect(r.status).to_be(200)
    expect(r.json.state).to_be("DEFERRED")
    expect(r.json.reason).to_be("circuit_open")
    local t = sys:topup{ member = a.id, amount = 1000 }
    expect(t.json.state).to_be("DEFERRED")
    expect(sys:balance(a.id)).to_be(10000) -- nothing taken while deferred
    sys:chaos{ reset = true }
    expect(ended(r.json.saga_id).state).to_be("COMPLETED")
    expect(ended(t.json.saga_id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(8500)
  end)

  it("remittance->banking opens when banking is unreachable; bank transfers defer at once", function()
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    http.post(sys:url("extbank", "/bank/accounts"), { json = { bankName = "SH", bankAccountNumber = "cut-" .. a.id } })
    sys:cut("remittance->banking")
    local first = sys:transfer{ from = a.id, bank = "SH", account = "cut-" .. a.id, amount = 1000 }
    expect(first.json.state).to_be("DEFERRED")
    expect(state("remittance", "remittance->banking")).to_be("OPEN")
    local t0 = fl.now()
    local second = sys:transfer{ from = a.id, bank = "SH", account = "cut-" .. a.id, amount = 500 }
    expect(second.json.state).to_be("DEFERRED")
    expect(fl.now() - t0 < 0.2).to_be(true)
    -- internal transfers do not need banking
    expect(sys:transfer{ from = a.id, to = b.id, amount = 100 }.json.state).to_be("COMPLETED")
    sys:mend("remittance->banking")
    expect(ended(first.json.saga_id).state).to_be("COMPLETED")
    expect(ended(second.json.saga_id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(8400)
    expect(state("remittance", "remittance->banking")).to_be("CLOSED")
  end)
end)
