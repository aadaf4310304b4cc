-- Traffic for contract generation: drives every service-to-service edge of the
-- reference system (through its fault-injector links, which record each HTTP
-- exchange) so that `faultline contract record` + `generate` can turn the
-- recording into pacts. Run by scenarios/contract/regenerate.sh; also a
-- smoke test of the happy paths on its own:
--   faultline ref up && faultline run scenarios/contract/traffic.lua
local fl = require "faultline"
local http = fl.http

describe("traffic for contracts", { tags = { "contract", "record" } }, function()
  it("drives transfers, top-ups and gateway reads", function()
    local sys = fl.ref.system()
    local stamp = tostring(fl.now()):gsub("%.", "")
    local a = sys:member{ balance = 50000, address = "강남구" }
    local b = sys:member{ balance = 20000, address = "서초구" }
    local c = sys:member{ balance = 5000, address = "강남구" }
    -- internal transfers: remittance -> membership, money
    for i, to in ipairs({ b, c, b }) do
      local r = sys:transfer{ from = a.id, to = to.id, amount = 1000 + i, key = "c-int-" .. stamp .. i }
      expect(r.status).to_be(200)
    end
    -- bank transfers: remittance -> banking -> extbank
    for i, m in ipairs({ b, c, a }) do
      local r = sys:transfer{ from = m.id, bank = m.bank, account = m.account, amount = 100 + i,
                              key = "c-bank-" .. stamp .. i }
      expect(r.status).to_be(200)
    end
    -- top-ups and saga reads
    for i, m in ipairs({ a, b, c }) do
      local r = sys:topup{ member = m.id, amount = 700 + i, key = "c-top-" .. stamp .. i }
      expect(r.status).to_be(200)
    end
    -- gateway: routed reads and the fan-out aggregation
    for _, m in ipairs({ a, b, c }) do
      expect(http.get(sys:url("gateway", "/api/membership/membership/" .. m.id)).status).to_be(200)
      expect(http.get(sys:url("gateway", "/api/money/money/" .. m.id)).status).to_be(200)
      expect(http.get(sys:url("gateway", "/api/remittance/remittance/" .. m.id)).status).to_be(200)
    end
    for _, addr in ipairs({ "강남구", "서초구", "강남구" }) do
      local r = http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
                          { json = { address = addr } })
      expect(r.status).to_be(200)
    end
  end)
end)
