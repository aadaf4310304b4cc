-- Traffic for the reference system's contracts. It drives every
-- service-to-service edge (each a fault-injector link that records HTTP
-- exchanges) and, on a fresh system, always creates the same data: members
-- 1-3 with bank accounts CT-1..CT-3, the same idempotency keys, the same
-- sagas. So the pacts generated from one run (scenarios/contract/regenerate.sh)
-- verify against any fresh `faultline ref up` after this file has run; the
-- scaffolded contract tests beside it (run after it: files run in name order)
-- rely on that data. Run again on the same system it is harmless: existing
-- members and accounts are reused and replayed keys return the first result;
-- CT_RUN=N (-e CT_RUN=N) gives the transfers fresh keys, for a second run.
-- It runs only when asked (CONTRACT_REF=1 or CONTRACT_RECORD=1), so that
-- `faultline run scenarios/` on a used system leaves it alone.
local fl = require "faultline"
local http = fl.http

local function ok(r, what)
  if r.status < 200 or r.status >= 300 then
    error(string.format("%s: HTTP %d %s", what, r.status, r.body or ""), 2)
  end
  return r.json
end

-- Member n (1-based) with a wallet, a bank account CT-n and a balance. On a
-- fresh system member n gets id n; on a used one the existing member n is
-- completed (wallet, account CT-n) so the recorded requests find their data.
local function member(sys, n, address, balance)
  local id = n
  if http.get(sys:url("membership", "/membership/" .. n)).status ~= 200 then
    local m = ok(http.post(sys:url("membership", "/membership/register"), {
      json = { name = "contract-" .. n, address = address },
      headers = { "Idempotency-Key: ct-member-" .. n } }), "register")
    id = m.membershipId
  end
  -- each of these is a no-op when it was done before
  http.post(sys:url("money", "/money/create-member-money"), { json = { membershipId = id } })
  http.post(sys:url("extbank", "/bank/accounts"), { json = {
    bankName = "KB", bankAccountNumber = "CT-" .. id, owner = "contract-" .. n, balance = balance } })
  http.post(sys:url("banking", "/banking/account/register"), {
    json = { membershipId = id, bankName = "KB", bankAccountNumber = "CT-" .. id },
    headers = { "Idempotency-Key: ct-bank-" .. id } })
  local s = ok(sys:topup{ member = id, amount = balance, key = "ct-seed-" .. id }, "top-up")
  assert(s.state == "COMPLETED", "top-up of member " .. tostring(id) .. " ended " .. tostring(s.state))
  return { id = id, bank = "KB", account = "CT-" .. id }
end

describe("traffic for contracts", { tags = { "contract", "record" } }, function()
  it("drives transfers, top-ups and gateway reads", function()
    if fl.env.CONTRACT_REF ~= "1" and fl.env.CONTRACT_RECORD ~= "1" then
      fl.skip("contract traffic: set CONTRACT_REF=1 (or CONTRACT_RECORD=1) on a fresh reference system")
    end
    local found, sys = pcall(fl.ref.system)
    if not found then fl.skip("no reference system running (faultline ref up)") end
    local run = fl.env.CT_RUN and ("-" .. fl.env.CT_RUN) or ""
    local a = member(sys, 1, "강남구", 50000)
    local b = member(sys, 2, "서초구", 20000)
    local c = member(sys, 3, "강남구", 5000)
    -- internal transfers: remittance -> membership, money
    for i, to in ipairs({ b, c, b }) do
      expect(sys:transfer{ from = a.id, to = to.id, amount = 1000 + i, key = "ct-int-" .. i .. run }.status).to_be(200)
    end
    -- bank transfers: remittance -> banking -> extbank
    for i, m in ipairs({ b, c, a }) do
      expect(sys:transfer{ from = m.id, bank = m.bank, account = m.account, amount = 100 + i,
                           key = "ct-bank-" .. i .. run }.status).to_be(200)
    end
    -- top-ups
    for i, m in ipairs({ a, b, c }) do
      expect(sys:topup{ member = m.id, amount = 700 + i, key = "ct-top-" .. i .. run }.status).to_be(200)
    end
    -- gateway: routed reads and the fan-out aggregation
    for _, m in ipairs({ a, b, c }) do
      expect(http.get(sys:url("gateway", "/api/membership/membership/" .. m.id)).status).to_be(200)
      expect(http.get(sys:url("gateway", "/api/money/money/" .. m.id)).status).to_be(200)
      expect(http.get(sys:url("gateway", "/api/remittance/remittance/" .. m.id)).status).to_be(200)
    end
    for _, addr in ipairs({ "강남구", "서초구", "강남구" }) do
      expect(http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
                       { json = { address = addr } }).status).to_be(200)
      -- the CQRS read model through the gateway: gateway -> query
      expect(http.get(sys:url("gateway", "/api/query/money/query/get-money-sum-by-address/" .. addr)).status)
        .to_be(200)
    end
    expect(http.get(sys:url("gateway", "/api/query/stats/failed-transfers")).status).to_be(200)
  end)
end)
