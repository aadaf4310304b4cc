-- A soak under random faults: clients send internal and external transfers
-- and top-ups while a nemesis injects bank chaos, link toxics, cut links,
-- paused and killed services. After healing, every saga must end terminal
-- and money must be conserved (ledger 0, TRANSIT 0, CORP mirrored, no
-- negative wallet), and the saga checker (fl.check.saga) finds nothing.
-- SOAK_SECONDS (env) sets the duration.
local fl = require "faultline"
local http = fl.http

local seconds = tonumber(fl.env.SOAK_SECONDS or "10")

describe("soak under faults", function()
  it("every saga ends and money is conserved", { timeout = seconds + 120 }, function()
    local sys = fl.ref.system()
    local members = {}
    for i = 1, 8 do members[i] = sys:member{ balance = 100000, bank_balance = 1000000 } end
    for i = 1, 8 do
      http.post(sys:url("extbank", "/bank/accounts"),
        { json = { bankName = "SOAK", bankAccountNumber = "d" .. members[i].id } })
    end
    local stop = fl.now() + seconds
    local faults = { "bank", "toxic", "cut", "pause", "kill" }
    local nemesis = fl.spawn(function()
      local n = 0
      while fl.now() < stop - 1 do
        n = n + 1
        local f = fl.random.choice(faults)
        if f == "bank" then
          sys:chaos{ error_rate = 0.2, reject_rate = 0.2, timeout_after_apply = 0.2, latency_ms = 50 }
          fl.sleep(1.5)
          sys:chaos{ reset = true }
        elseif f == "toxic" then
          local link = fl.random.choice{ "remittance->money", "remittance->banking", "banking->extbank" }
          local name = sys:fault(link, { type = "timeout", attributes = { timeout = 0 }, toxicity = 0.5 })
          fl.sleep(1.0)
          sys:unfault(link, name)
        elseif f == "cut" then
          local link = fl.random.choice{ "remittance->money", "remittance->membership", "banking->extbank" }
          sys:cut(link)
          fl.sleep(0.8)
          sys:mend(link)
        elseif f == "pause" then
          sys:pause("money")
          fl.sleep(0.7)
          sys:resume("money")
        else
          sys:kill("remittance")
          fl.eventually(function() return not sys:alive("remittance") end)
          sys:restart("remittance")
        end
        fl.sleep(0.3)
      end
      return n
    end)
    local sent = fl.parallel(12, function(k)
      local n = 0
      while fl.now() < stop do
        local a = members[fl.random(#members)]
        local b = members[fl.random(#members)]
        local kind = fl.random(3)
        local body, path
        if kind == 1 and a.id ~= b.id then
          path, body = "/remittance/request", { fromMembershipId = a.id, toMembershipId = b.id, amount = fl.random(500), remittanceType = 0, wait = false }
        elseif kind == 2 then
          path, body = "/remittance/request", { fromMembershipId = a.id, toBankName = "SOAK", toBankAccountNumber = "d" .. b.id, amount = fl.random(500), remittanceType = 1, wait = false }
        else
          path, body = "/topup/request", { membershipId = a.id, amount = fl.random(500), wait = false }
        end
        http.post(sys:url("remittance", path), { json = body, raise = false, timeout = 3,
          headers = { "Idempotency-Key: soak-" .. k .. "-" .. n } })
        n = n + 1
        fl.sleep(0.02)
      end
      return n
    end)
    local faults_done = fl.join(nemesis)
    sys:heal()
    sys:chaos{ reset = true }
    for _, s in ipairs{ "money" } do sys:resume(s) end
    if not sys:alive("remittance") then sys:restart("remittance") end
    local total = 0
    for _, n in ipairs(sent) do total = total + n end
    print(string.format("soak: %d requests, %d faults injected", total, faults_done))
    expect(sys:quiesce{ within = 60 }).to_be(0)
    for _, st in ipairs{ "STUCK" } do expect(#sys:sagas(st)).to_be(0) end
    local ok, why = sys:conserved()
    if not ok then fl.fail("money not conserved: " .. why) end
    -- and the saga checker agrees (deferred sagas may wait out the faults:
    -- a generous grace)
    fl.check.saga(sys, { deadline_ms = 3000, grace_ms = seconds * 1000 + 30000 }):ok()
  end)
end)
