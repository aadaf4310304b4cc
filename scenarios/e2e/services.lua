-- The reference services' own promises, checked at their APIs: what the
-- sagas rely on but rarely exercise (a key reused for another amount, a
-- refund that overtakes its debit, the whole balance, a closed wallet that
-- still takes its own top-up), the read model's counts and its recovery,
-- the CTR threshold, and the gateway's aggregation across batches and under
-- a failing money link. Each is a mistake the saga tests alone would let
-- through (docs/mutation.md: the mutants these kill). Run against
-- `faultline ref up`:  faultline run scenarios/e2e -e FL_REF=DATA_DIR
local fl = require "faultline"
local http = fl.http
local W = fl.workload
local L = require "_lib"

local sys

local function link(name) return fl.proxy.link(name) end

local function get(service, path)
  local r = http.get(sys:url(service, path), { raise = false, timeout = 10 })
  expect(r.status).to_be(200)
  return r.json
end

local function failed_counts()
  local j = get("query", "/stats/failed-transfers")
  return { failed = j.failed, compensated = j.compensated }
end

local function caught_up()
  -- the read model has applied every event the three feeds have
  local st = get("query", "/query/status").feeds
  for _, f in ipairs({ "membership", "money", "remittance" }) do
    if not st[f] or not st[f].up then return false end
    local last = sys:events(f, st[f].last)
    if #last > 0 then return false end
  end
  return true
end

describe("money keeps its promises", { tags = { "e2e", "money" } }, function()
  setup(function() sys = L.sys() end)

  it("a key used again with another amount is refused, not replayed", function()
    local a = sys:member{ balance = 5000 }
    local key = L.unique("debit")
    local r1 = L.post(sys, "money", "/money/debit", { membershipId = a.id, amount = 1000 }, key)
    expect(r1.status).to_be(200)
    expect(r1.json.result).to_be("OK")
    local r2 = L.post(sys, "money", "/money/debit", { membershipId = a.id, amount = 2000 }, key)
    expect(r2.status).to_be(422)
    local r3 = L.post(sys, "money", "/money/debit", { membershipId = a.id, amount = 1000 }, key)
    expect(r3.status).to_be(200)
    expect(r3.headers["idempotent-replayed"]).to_be("true")
    expect(sys:balance(a.id)).to_be(4000)
    -- a debit outside a saga parks the money in TRANSIT: give it back
    local back = L.post(sys, "money", "/money/refund",
      { membershipId = a.id, amount = 1000, forwardKey = key }, key .. ":comp")
    expect(back.json.result).to_be("OK")
    expect(sys:balance(a.id)).to_be(5000)
  end)

  it("a transfer of the whole balance completes", function()
    local a, b = sys:member{ balance = 7000 }, sys:member{}
    local r = sys:transfer{ from = a.id, to = b.id, amount = 7000 }
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(0)
    expect(sys:balance(b.id)).to_be(7000)
  end)

  it("a refund of a debit that was refused gives nothing back", function()
    local a = sys:member{ balance = 1000 }
    local dkey = L.unique("poor")
    local d = L.post(sys, "money", "/money/debit", { membershipId = a.id, amount = 5000 }, dkey)
    expect(d.json.result).to_be("INSUFFICIENT_BALANCE")
    local r = L.post(sys, "money", "/money/refund",
      { membershipId = a.id, amount = 5000, forwardKey = dkey }, dkey .. ":comp")
    expect(r.status).to_be(200)
    expect(r.json.result).to_be("NOTHING_TO_REFUND")
    expect(sys:balance(a.id)).to_be(1000)
    expect(sys:conserved()).to_be(true)
  end)

  it("a refund that overtakes its debit fences the debit's key", function()
    local a = sys:member{ balance = 3000 }
    local dkey = L.unique("late")
    local r = L.post(sys, "money", "/money/refund",
      { membershipId = a.id, amount = 2000, forwardKey = dkey }, dkey .. ":comp")
    expect(r.json.result).to_be("NOTHING_TO_REFUND")
    -- the debit arrives after the compensation decided: it must not apply
    local d = L.post(sys, "money", "/money/debit", { membershipId = a.id, amount = 2000 }, dkey)
    expect(d.status).to_be(409)
    expect(d.json.result).to_be("CANCELLED")
    expect(sys:balance(a.id)).to_be(3000)
  end)

  it("a closed wallet still takes its owner's own top-up", function()
    local a = sys:member{ bank_balance = 9000 }
    L.post(sys, "money", "/money/close-member-money", { membershipId = a.id })
    local r = sys:topup{ member = a.id, amount = 4000, deadline_ms = 5000 }
    expect(r.json.state).to_be("COMPLETED")
    expect(sys:balance(a.id)).to_be(4000)
  end)
end)

describe("the saga door", { tags = { "e2e", "saga" } }, function()
  setup(function() sys = L.sys() end)

  it("a retried request with its key is the same saga, once", function()
    local a, b = sys:member{ balance = 6000 }, sys:member{}
    local key = L.unique("req")
    local r1 = sys:transfer{ from = a.id, to = b.id, amount = 2500, key = key }
    local r2 = sys:transfer{ from = a.id, to = b.id, amount = 2500, key = key }
    expect(r2.json.saga_id).to_be(r1.json.saga_id)
    expect(sys:balance(a.id)).to_be(3500)
    expect(sys:balance(b.id)).to_be(2500)
    local r3 = sys:transfer{ from = a.id, to = b.id, amount = 999, key = key }
    expect(r3.status).to_be(422)
  end)
end)

describe("the read model", { tags = { "e2e", "query" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function() sys:heal() end)

  it("counts compensated and failed transfers once each, also across a restart", function(t)
    local a, b, c = sys:member{ balance = 10000 }, sys:member{}, sys:member{ balance = 100 }
    L.post(sys, "money", "/money/close-member-money", { membershipId = b.id })
    expect(L.wait_for(caught_up, 10)).to_be(true)
    local before = failed_counts()
    local win = W.window(sys, t.name)
    local comp = sys:transfer{ from = a.id, to = b.id, amount = 3000 }   -- credit refused: compensated
    local fail = sys:transfer{ from = c.id, to = a.id, amount = 5000 }   -- insufficient: failed
    expect(comp.json.state).to_be("COMPENSATED")
    expect(fail.json.state).to_be("FAILED")
    W.verify(t.name, { saga = win:saga{ counters = true } })
    expect(L.wait_for(caught_up, 10)).to_be(true)
    local after = failed_counts()
    expect(after.compensated - before.compensated).to_be(1)
    expect(after.failed - before.failed).to_be(1)
    -- a restart replays nothing it already applied
    L.restart(sys, "query")
    expect(L.wait_for(caught_up, 15)).to_be(true)
    local again = failed_counts()
    expect(again.compensated).to_be(after.compensated)
    expect(again.failed).to_be(after.failed)
  end)

  it("catches up after its feed link failed", function(t)
    local addr = L.unique("dong")
    local a = sys:member{ balance = 8000, address = addr }
    local b = sys:member{ address = L.unique("elsewhere") }
    expect(L.wait_for(caught_up, 10)).to_be(true)
    local win = W.window(sys, t.name)
    local cut = link("query->money"):toxic{ type = "reset_peer", timeout = 0 }
    sys:transfer{ from = a.id, to = b.id, amount = 3000 }
    fl.sleep(0.5)
    cut:remove()
    W.verify(t.name, { saga = win:saga{ addresses = { [addr] = { a.id } } } })
    -- the money left the address: the read model must see it once its feed is back
    local sum = L.wait_for(function()
      local j = get("query", "/money/query/get-money-sum-by-address/" .. addr)
      return j.sum == 5000 and j
    end, 10)
    expect(sum and sum.sum).to_be(5000)
  end)

  it("reports a top-up of exactly the CTR threshold", function()
    local a = sys:member{ bank_balance = 10000000 }
    local r = sys:topup{ member = a.id, amount = 10000000 }
    expect(r.json.state).to_be("COMPLETED")
    local rep = L.wait_for(function()
      for _, x in ipairs(get("query", "/compliance/ctr").reports) do
        if tostring(x.membershipId) == tostring(a.id) then return x end
      end
    end, 10)
    expect(rep and rep.total).to_be(10000000)
  end)
end)

describe("the gateway's aggregation", { tags = { "e2e", "gateway" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function() sys:heal() end)

  it("sums every member of an address across batches", function()
    local addr = L.unique("gu")
    local n = 203   -- the gateway asks money in batches of 200
    local ids = fl.parallel(16, function(k)
      local mine = {}
      for i = k, n, 16 do mine[#mine + 1] = sys:member{ address = addr, balance = (i % 101 == 0) and 1000 or 0 } end
      return mine
    end)
    local want = 0
    local count = 0
    for _, list in ipairs(ids) do
      for _, m in ipairs(list) do want = want + sys:balance(m.id); count = count + 1 end
    end
    expect(count).to_be(n)
    local r = L.post(sys, "gateway", "/money/aggregation/get-money-sum-by-address", { address = addr })
    expect(r.status).to_be(200)
    expect(r.json.members).to_be(n)
    expect(r.json.counted).to_be(n)
    expect(r.json.sum).to_be(want)
  end)

  it("answers an error, never a partial sum, when money fails", function()
    local addr = L.unique("gu")
    sys:member{ address = addr, balance = 500 }
    link("gateway->money"):toxic{ type = "http_abort", status = 503 }
    local r = L.post(sys, "gateway", "/money/aggregation/get-money-sum-by-address", { address = addr })
    expect(r.status).to_be_greater_than(499)
  end)
end)
