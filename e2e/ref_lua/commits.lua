-- Durable writes of the saga log per saga (fl_db_commits_total of
-- remittance): the answer of a step and the request of the next share one
-- transaction, so do a new saga and its first step, and the last answer and
-- the end. Internal transfer and top-up: 4; external transfer: 5 (the
-- bounds leave room for a batch of breaker events flushed on its own while
-- a call is slow; before the batching it was 8 to 10).
-- Run by e2e/ref_commits.sh.
local fl = require "faultline"
local http = fl.http

local sys

local function commits()
  local r = http.get(sys:url("remittance", "/metrics"))
  expect(r.status).to_be(200)
  local n = r.body:match("\nfl_db_commits_total (%d+)")
  expect(n ~= nil).to_be(true)
  return tonumber(n)
end

-- n sagas one after the other (each waited for): commits per saga
local function per_saga(n, run)
  local c0 = commits()
  for k = 1, n do
    local r = run(k)
    expect(r.status).to_be(200)
    expect(r.json.state).to_be("COMPLETED")
  end
  return (commits() - c0) / n
end

describe("saga log writes", function()
  setup(function() sys = fl.ref.system() end)

  it("an internal transfer: 4 durable writes", function()
    local a, b = sys:member{ balance = 100000 }, sys:member{}
    local c = per_saga(20, function() return sys:transfer{ from = a.id, to = b.id, amount = 10 } end)
    print("commits per internal transfer: " .. c)
    expect(c >= 4 and c <= 5).to_be(true)
    expect(sys:balance(b.id)).to_be(200)
  end)

  it("a top-up: 4 durable writes", function()
    local a = sys:member{ balance = 0, bank_balance = 100000 }
    local c = per_saga(20, function() return sys:topup{ member = a.id, amount = 10 } end)
    print("commits per top-up: " .. c)
    expect(c >= 4 and c <= 5).to_be(true)
    expect(sys:balance(a.id)).to_be(200)
  end)

  it("an external transfer: 5 durable writes", function()
    local a = sys:member{ balance = 100000 }
    local dest = "CM-" .. a.id
    local r = http.post(sys:url("extbank", "/bank/accounts"),
      { json = { bankName = "SH", bankAccountNumber = dest, balance = 0 } })
    expect(r.status).to_be(201)
    local c = per_saga(20, function()
      return sys:transfer{ from = a.id, bank = "SH", account = dest, amount = 10 }
    end)
    print("commits per external transfer: " .. c)
    expect(c >= 5 and c <= 6).to_be(true)
    expect(sys:balance(a.id)).to_be(100000 - 200)
  end)

  it("money is conserved", function()
    local ok, why = sys:conserved()
    if not ok then fl.fail("money not conserved: " .. why) end
  end)
end)
