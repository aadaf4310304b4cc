-- Every saga of the reference transfer system and each of its compensations,
-- under faults, each ending with the saga/money checker over what the test
-- did (M1-M3, S1-S8, Q1-Q2). Run against `faultline ref up`:
--   faultline run scenarios/e2e -e FL_REF=DATA_DIR
-- The checker runs before the test's own expectations, so a broken system
-- is reported by the invariant it breaks (e2e/matrix.sh relies on that).
local fl = require "faultline"
local W = fl.workload
local L = require "_lib"

local sys

local function link(name) return fl.proxy.link(name) end

describe("sagas", { tags = { "e2e", "saga" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function() sys:heal(); sys:chaos{ reset = true } end)

  it("internal transfer completes under latency on every hop", function(t)
    local a, b = sys:member{ balance = 50000 }, sys:member{}
    local win = W.window(sys, t.name)
    link("remittance->money"):toxic{ type = "latency", latency = 40, jitter = 20 }
    link("remittance->membership"):toxic{ type = "latency", latency = 40 }
    win.history:invoke(1, "transfer", { from = a.id, to = b.id, amount = 20000, key = "it-" .. a.id })
    local r = sys:transfer{ from = a.id, to = b.id, amount = 20000, key = "it-" .. a.id }
    win.history:ok(1, "transfer", { saga_id = r.json.saga_id, state = r.json.state, key = "it-" .. a.id })
    W.verify(t.name, { saga = win:saga() })
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(30000)
    expect(sys:balance(b.id)).to_be(20000)
  end)

  it("top-up completes under latency and a slow bank", function(t)
    local a = sys:member{ bank_balance = 70000 }
    local win = W.window(sys, t.name)
    link("banking->extbank"):toxic{ type = "latency", latency = 60, jitter = 30 }
    sys:chaos{ latency_ms = 50 }
    local r = sys:topup{ member = a.id, amount = 30000 }
    W.verify(t.name, { saga = win:saga() })
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(30000)
    expect(L.account_balance(sys, a.bank, a.account)).to_be(40000)
  end)

  it("external transfer completes when the settle answer is lost once", function(t)
    local a = sys:member{ balance = 40000 }
    local acct = L.unique("ext")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name)
    local drop = link("remittance->money"):toxic{ type = "http_drop_response", path = "/money/settle" }
    local r = sys:transfer{ from = a.id, bank = "SH", account = acct, amount = 15000, wait = false }
    local id = r.json.saga_id
    L.wait_for(function() return L.has(L.saga_events(sys, id), "step_unknown", "settle") end, 5)
    drop:remove()
    L.ended(sys, id)
    W.verify(t.name, { saga = win:saga() })
    expect(sys:saga(id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(25000)
    expect(L.account_balance(sys, "SH", acct)).to_be(15000)
  end)

  it("insufficient balance ends FAILED with nothing to compensate", function(t)
    local a, b = sys:member{ balance = 3000 }, sys:member{}
    local win = W.window(sys, t.name)
    link("remittance->money"):toxic{ type = "latency", latency = 30 }
    local r1 = sys:transfer{ from = a.id, to = b.id, amount = 2000 }
    local r = sys:transfer{ from = a.id, to = b.id, amount = 5000 }
    W.verify(t.name, { saga = win:saga{ counters = true } })
    expect(r1.json.state).to_be("COMPLETED")
    expect(r.json.state).to_be("FAILED")
    expect(r.json.reason).to_be("INSUFFICIENT_BALANCE")
    expect(L.has(L.saga_events(sys, r.json.saga_id), "compensation_requested")).to_be(false)
    expect(sys:balance(a.id)).to_be(1000)
  end)

  it("destination closed: the credit fails and the sender is refunded", function(t)
    local a, b = sys:member{ balance = 10000 }, sys:member{}
    L.post(sys, "money", "/money/close-member-money", { membershipId = b.id })
    local win = W.window(sys, t.name)
    link("remittance->money"):toxic{ type = "latency", latency = 30, jitter = 20 }
    local r = sys:transfer{ from = a.id, to = b.id, amount = 4000, wait = false }
    L.ended(sys, r.json.saga_id)
    W.verify(t.name, { saga = win:saga() })
    local s = sys:saga(r.json.saga_id)
    expect(s.state).to_be("COMPENSATED")
    expect(s.reason).to_be("WALLET_CLOSED")
    expect(sys:balance(a.id)).to_be(10000)
  end)

  it("the bank rejects an external transfer: the sender is refunded", function(t)
    local a = sys:member{ balance = 10000 }
    local acct = L.unique("rej")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name)
    sys:chaos{ reject_rate = 1 }
    link("banking->extbank"):toxic{ type = "latency", latency = 30 }
    local r = sys:transfer{ from = a.id, bank = "SH", account = acct, amount = 3000, wait = false }
    L.ended(sys, r.json.saga_id)
    W.verify(t.name, { saga = win:saga() })
    local s = sys:saga(r.json.saga_id)
    expect(s.state).to_be("COMPENSATED")
    expect(s.reason).to_be("BANK_REJECTED")
    expect(sys:balance(a.id)).to_be(10000)
    expect(L.account_balance(sys, "SH", acct)).to_be(0)
  end)

  it("the bank times out after applying: resolved by asking, never refunded", function(t)
    local a = sys:member{ balance = 10000 }
    local acct = L.unique("lost")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name)
    sys:chaos{ timeout_after_apply = 1 }
    local r = sys:transfer{ from = a.id, bank = "SH", account = acct, amount = 6000, wait = false }
    local id = r.json.saga_id
    L.wait_for(function() return L.has(L.saga_events(sys, id), "step_unknown") end, 8)
    sys:chaos{ reset = true }
    L.ended(sys, id, 15)
    W.verify(t.name, { saga = win:saga() })
    expect(sys:saga(id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(4000)
    expect(L.account_balance(sys, "SH", acct)).to_be(6000)
    local evs = L.saga_events(sys, id)
    expect(L.has(evs, "step_resolved")).to_be(true)
    expect(L.has(evs, "compensation_requested")).to_be(false)
  end)

  it("a credit whose answer is lost is retried with its key and pays once", function(t)
    local a, b = sys:member{ balance = 8000 }, sys:member{}
    local win = W.window(sys, t.name)
    local drop = link("remittance->money"):toxic{ type = "http_drop_response", path = "/money/credit" }
    local r = sys:transfer{ from = a.id, to = b.id, amount = 3000, wait = false }
    local id = r.json.saga_id
    L.wait_for(function() return L.has(L.saga_events(sys, id), "step_unknown", "credit") end, 5)
    drop:remove()
    L.ended(sys, id)
    W.verify(t.name, { saga = win:saga() })
    expect(sys:saga(id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(5000)
    expect(sys:balance(b.id)).to_be(3000)
  end)

  it("a debit whose answer is lost, then refused by a 4xx from in between, is not taken as never applied",
     function(t)
    -- the debit is applied, its answer lost (UNKNOWN); the retries with its
    -- key meet a 422 answered by the proxy, not by money: that proves
    -- nothing about the first attempt, so the saga must still complete
    local a, b = sys:member{ balance = 8000 }, sys:member{}
    local win = W.window(sys, t.name)
    local l = link("remittance->money")
    local drop = l:toxic{ type = "http_drop_response", path = "/money/debit" }
    local r = sys:transfer{ from = a.id, to = b.id, amount = 3000, wait = false }
    local id = r.json.saga_id
    L.wait_for(function() return L.has(L.saga_events(sys, id), "step_unknown", "debit") end, 5)
    local function debits() return L.count(L.saga_events(sys, id), "step_requested", "debit") end
    local before = debits()
    local reject = l:toxic{ type = "http_abort", status = 422, path = "/money/debit" }
    drop:remove()
    -- two retries answered 422 by the proxy (or the saga ended on the first)
    L.wait_for(function() return debits() >= before + 2 or sys:saga(id).state == "FAILED" end, 8)
    reject:remove()
    L.ended(sys, id)
    W.verify(t.name, { saga = win:saga() })
    expect(sys:saga(id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(5000)
    expect(sys:balance(b.id)).to_be(3000)
  end)

  it("money unreachable before the pivot until the deadline: compensated", function(t)
    local a, b = sys:member{ balance = 9000 }, sys:member{}
    -- a 2 s saga deadline for this test (remittance restarted with it)
    L.restart(sys, "remittance", { "--saga-deadline", "2s" })
    fl.defer(function() L.restart(sys, "remittance", { "--saga-deadline", "30s" }) end)
    local deadline, grace = 2.0, 2.0
    local win = W.window(sys, t.name)
    local cut = link("remittance->money"):toxic{ type = "timeout", timeout = 0 }
    local t0 = fl.now()
    local r = sys:transfer{ from = a.id, to = b.id, amount = 2000, wait = false }
    local id = r.json.saga_id
    -- a correct coordinator starts compensating at the deadline; heal then
    L.wait_for(function() return sys:saga(id).state == "COMPENSATING" end, deadline + grace + 0.5)
    local waited = fl.now() - t0
    cut:remove()
    L.ended(sys, id)
    W.verify(t.name, { saga = win:saga{ deadline_ms = deadline * 1000, grace_ms = grace * 1000, wait = 5 } })
    expect(waited).to_be_greater_than(deadline - 0.1)
    local s = sys:saga(id)
    expect(s.reason).to_be("DEADLINE_EXCEEDED")
    expect(sys:balance(a.id)).to_be(9000)
    expect(sys:balance(b.id)).to_be(0)
  end)

  it("a debit delivered, its resend refused: in doubt, not 'not sent'", function(t)
    -- The debit goes out on a kept-alive connection; the link applies it
    -- and drops the answer, and the client's resend on a new connection is
    -- refused (the link's listening socket closed). "Refused" proves
    -- nothing about the first send: the step is in doubt, never recorded
    -- as not sent (S7 compares that claim with the effect of its key).
    local a, b = sys:member{ balance = 9000 }, sys:member{}
    sys:transfer{ from = a.id, to = b.id, amount = 100 }   -- an idle connection to money to reuse
    local win = W.window(sys, t.name)
    local ln = link("remittance->money")
    local drop = ln:toxic{ type = "http_drop_response", path = "/money/debit" }
    local refuse = ln:toxic{ type = "refuse" }
    -- the toxics go as soon as the debit's outcome is recorded: before the
    -- saga's own resend (100 ms on), so that one refusal does not become
    -- enough failures to open the breaker toward money
    local head = fl.http.get(sys:url("remittance", "/events?after=0&limit=1")).json.head
    local r = sys:transfer{ from = a.id, to = b.id, amount = 2500, wait = false }
    local id = r.json.saga_id
    local seen = L.wait_for(function()
      for _, e in ipairs(W.feed(sys, "remittance", head)) do
        if e.saga_id == id and e.step == "debit" and (e.type == "step_unknown" or e.type == "step_failed") then
          return e
        end
      end
    end, 4, 0.01)
    local during = sys:balance(a.id)   -- the first send was applied (the test's premise)
    refuse:remove()
    drop:remove()
    L.ended(sys, id)
    W.verify(t.name, { saga = win:saga() })
    expect(seen and seen.reason or "no outcome").to_be("connection_refused")
    expect(seen.type).to_be("step_unknown")
    expect(during).to_be(6400)
    expect(sys:saga(id).state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(6400)
    expect(sys:balance(b.id)).to_be(2600)
  end)

  it("deferred on an open breaker only before the debit", function(t)
    -- An external transfer's debit is held on the link to money while other
    -- requests' failures open the breaker toward banking; its pivot is then
    -- refused by the breaker. With money taken it must keep trying (its
    -- deadline binding), not be deferred (S1).
    local name = "remittance->banking"
    -- a 2 s wait in OPEN for this test (remittance restarted with it):
    -- longer than the debit is held (the breaker opens after the debit is
    -- sent, so it is still open when the pivot comes), shorter than the default
    L.restart(sys, "remittance", { "--breaker-wait", "2s" })
    fl.defer(function() L.restart(sys, "remittance", { "--breaker-wait", "5s" }) end)
    local a = sys:member{ balance = 20000 }
    local ms = {}
    for i = 1, 4 do ms[i] = sys:member{ bank_balance = 10000 } end
    local acct = L.unique("dfx")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name)
    local hold = link("remittance->money"):toxic{ type = "http_delay", delay = 1500, path = "/money/debit" }
    local r = sys:transfer{ from = a.id, bank = "SH", account = acct, amount = 7000, wait = false }
    local id = r.json.saga_id
    L.wait_for(function() return L.has(L.saga_events(sys, id), "step_requested", "debit") end, 3, 0.02)
    -- top-ups' account checks answered 503: the breaker toward banking opens
    local abort = link(name):toxic{ type = "http_abort", status = 503, path = "/banking/account" }
    local ids = {}
    for i = 1, 4 do ids[i] = sys:topup{ member = ms[i].id, amount = 1000, wait = false }.json.saga_id end
    local opened = L.wait_for(function() return sys:breaker("remittance", name).state == "OPEN" end, 2, 0.02)
    local refused = L.wait_for(function()
      for _, e in ipairs(L.saga_events(sys, id)) do
        if e.step == "firmbank" and e.reason == "circuit_open" or e.type == "saga_deferred" then return true end
      end
    end, 3, 0.02)
    hold:remove()
    abort:remove()
    ids[#ids + 1] = id
    L.wait_for(function()
      for _, x in ipairs(ids) do
        if not L.terminal(sys:saga(x).state) then return false end
      end
      return true
    end, 15, 0.1)
    W.verify(t.name, { saga = win:saga() })
    expect(opened and "opened" or "not opened").to_be("opened")
    expect(refused and "refused" or "not refused").to_be("refused")
    expect(L.has(L.saga_events(sys, id), "saga_deferred")).to_be(false)
    for _, x in ipairs(ids) do expect(sys:saga(x).state).to_be("COMPLETED") end
    expect(sys:balance(a.id)).to_be(13000)
    expect(L.account_balance(sys, "SH", acct)).to_be(7000)
  end)

  it("the read model converges after a burst; failure counters agree", function(t)
    local addr = L.unique("동")
    local ms, ids = {}, {}
    for i = 1, 5 do
      ms[i] = sys:member{ balance = 20000, address = addr }
      ids[i] = ms[i].id
    end
    local acct = L.unique("cq")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name)
    link("remittance->money"):toxic{ type = "latency", latency = 10, jitter = 10 }
    fl.parallel(10, function(k)
      for j = 1, 3 do
        local from, to = ms[(k + j) % 5 + 1], ms[(k + 2 * j) % 5 + 1]
        if from.id ~= to.id then sys:transfer{ from = from.id, to = to.id, amount = 900 + k } end
      end
      sys:transfer{ from = ms[k % 5 + 1].id, bank = "SH", account = acct, amount = 500 }
      sys:transfer{ from = ms[k % 5 + 1].id, to = ms[(k + 1) % 5 + 1].id, amount = 90000 }
    end)
    W.verify(t.name, { saga = win:saga{ addresses = { [addr] = ids }, counters = true } })
  end)
end)
