-- Crash recovery of the saga coordinator: remittance is restarted with
-- --crash-at at each label, dies in the middle of a saga, and is started
-- again; the saga must end terminal with money conserved and the expected
-- net effect. Also: /startupz holds (and business requests get 503) until
-- the recovered sagas are done.
local fl = require "faultline"
local http = fl.http

local sys

local function ended(id, within)
  return fl.eventually(function()
    local s = sys:saga(id)
    return (s.state == "COMPLETED" or s.state == "COMPENSATED" or s.state == "FAILED"
      or s.state == "STUCK") and s
  end, { within = within or 15 })
end

local function newest_saga_of(member)
  local list = http.get(sys:url("remittance", "/remittance/" .. member)).json.sagas
  return list[1]
end

local function crash_with(label)
  sys:kill("remittance")
  fl.eventually(function() return not sys:alive("remittance") end, { within = 3 })
  sys:restart("remittance", { "--crash-at", label })
end

local function wait_dead()
  fl.eventually(function() return not sys:alive("remittance") end, { within = 5 })
end

local cases = {
  { label = "after_log_before_call:debit", kind = "internal", state = "COMPLETED" },
  { label = "after_call_before_log:debit", kind = "internal", state = "COMPLETED" },
  { label = "after_log_before_call:credit", kind = "internal", state = "COMPLETED" },
  { label = "after_pivot", kind = "internal", state = "COMPLETED" },
  { label = "after_call_before_log", kind = "internal", state = "COMPLETED" },
  { label = "mid_compensation", kind = "closed", state = "COMPENSATED" },
  { label = "after_call_before_log:firmbank", kind = "external", state = "COMPLETED" },
  { label = "after_pivot", kind = "external", state = "COMPLETED" },
  { label = "after_log_before_call:firmbank", kind = "topup", state = "COMPLETED" },
}

describe("crash recovery", function()
  setup(function() sys = fl.ref.system() end)
  after_each(function()
    for _, svc in ipairs{ "remittance", "money" } do
      if not sys:alive(svc) then sys:restart(svc) end
    end
    local ok, why = sys:conserved()
    if not ok then fl.fail("money not conserved: " .. why) end
  end)

  for _, c in ipairs(cases) do
    it("a crash at " .. c.label .. " (" .. c.kind .. ") is recovered", function()
      local a, b = sys:member{ balance = 10000, bank_balance = 20000 }, sys:member{}
      if c.kind == "closed" then
        http.post(sys:url("money", "/money/close-member-money"), { json = { membershipId = b.id } })
      end
      local dest = "rec-" .. a.id
      if c.kind == "external" then
        http.post(sys:url("extbank", "/bank/accounts"),
          { json = { bankName = "SH", bankAccountNumber = dest, balance = 0 } })
      end
      crash_with(c.label)
      local body
      if c.kind == "topup" then
        local r = http.post(sys:url("remittance", "/topup/request"),
          { json = { membershipId = a.id, amount = 3000 }, raise = false, timeout = 5 })
        expect(r.status).to_be(0)
      else
        body = { fromMembershipId = a.id, amount = 3000, remittanceType = 0, toMembershipId = b.id }
        if c.kind == "external" then
          body = { fromMembershipId = a.id, amount = 3000, remittanceType = 1, toBankName = "SH",
                   toBankAccountNumber = dest }
        end
        local r = http.post(sys:url("remittance", "/remittance/request"), { json = body, raise = false, timeout = 5 })
        expect(r.status).to_be(0) -- the coordinator died before answering
      end
      wait_dead()
      sys:restart("remittance")
      local s = ended(newest_saga_of(a.id).saga_id)
      expect(s.state).to_be(c.state)
      if c.kind == "topup" then
        expect(sys:balance(a.id)).to_be(13000)
      elseif c.state == "COMPLETED" then
        expect(sys:balance(a.id)).to_be(7000)
      else
        expect(sys:balance(a.id)).to_be(10000)
      end
      if c.kind == "internal" then expect(sys:balance(b.id)).to_be(3000) end
      -- one debit entry at most, whatever was retried
      local e = http.get(sys:url("money", "/money/entries?key=" .. s.saga_id .. ":debit:fwd")).json
      expect(#e.entries <= 1).to_be(true)
    end)
  end

  it("a participant that dies after applying, before answering (money --crash-at before_reply)", function()
    local a, b = sys:member{ balance = 5000 }, sys:member{}
    sys:kill("money")
    fl.eventually(function() return not sys:alive("money") end)
    sys:restart("money", { "--crash-at", "before_reply" })
    local r = sys:transfer{ from = a.id, to = b.id, amount = 1000, wait = false }
    fl.eventually(function() return not sys:alive("money") end)
    sys:restart("money")
    local s = ended(r.json.saga_id)
    expect(s.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(4000)
    expect(sys:balance(b.id)).to_be(1000)
    local e = http.get(sys:url("money", "/money/entries?key=" .. s.saga_id .. ":debit:fwd")).json
    expect(#e.entries).to_be(1) -- retried with its key, applied once
  end)

  it("startup holds until recovery is done; no business traffic before", function()
    local a = sys:member{ balance = 10000 }
    local dest = "slow-" .. a.id
    http.post(sys:url("extbank", "/bank/accounts"), { json = { bankName = "SH", bankAccountNumber = dest, balance = 0 } })
    crash_with("after_log_before_call:firmbank")
    local r = http.post(sys:url("remittance", "/remittance/request"), { raise = false, timeout = 5,
      json = { fromMembershipId = a.id, amount = 1000, remittanceType = 1, toBankName = "SH", toBankAccountNumber = dest } })
    expect(r.status).to_be(0)
    wait_dead()
    sys:chaos{ latency_ms = 1200 }
    fl.defer(function() sys:chaos{ reset = true } end)
    sys:restart("remittance", nil, { wait = false })
    local st = http.get(sys:url("remittance", "/startupz"), { raise = false })
    expect(st.status).to_be(503)
    expect(http.get(sys:url("remittance", "/readyz"), { raise = false }).status).to_be(503)
    expect(http.get(sys:url("remittance", "/sagas"), { raise = false }).status).to_be(503)
    expect(http.get(sys:url("remittance", "/livez"), { raise = false }).status).to_be(200)
    fl.eventually(function() return http.get(sys:url("remittance", "/startupz"), { raise = false }).status == 200 end,
      { within = 10 })
    local s = newest_saga_of(a.id)
    expect(s.state).to_be("COMPLETED")
  end)
end)
