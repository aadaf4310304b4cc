-- Probes and graceful shutdown of the reference services (Kubernetes
-- semantics): liveness independent of dependencies, readiness off at
-- SIGTERM, in-flight requests answered during the drain, exit 0.
-- Run by e2e/ref_probes.sh (drain delay 1 s, grace 5 s).
local fl = require "faultline"
local http = fl.http

local sys

local function status(service, path)
  return http.get(sys:url(service, path), { raise = false, timeout = 2 }).status
end

local function wait_exit(service)
  return fl.eventually(function() return sys:exit_status(service) or false end, { within = 10 })
end

describe("probes and shutdown", function()
  setup(function() sys = fl.ref.system() end)
  after_each(function()
    for _, s in ipairs{ "extbank", "banking", "query" } do
      if not sys:alive(s) then sys:restart(s) end
    end
    sys:chaos{ reset = true }
  end)

  it("liveness stays 200 with the bank down and its breaker open", function()
    sys:kill("extbank")
    fl.eventually(function() return not sys:alive("extbank") end)
    for _ = 1, 6 do
      http.post(sys:url("banking", "/banking/account/verify"),
        { json = { bankName = "KB", bankAccountNumber = "x" }, raise = false })
    end
    expect(sys:breaker("banking", "banking->extbank").state).to_be("OPEN")
    for _, s in ipairs{ "banking", "remittance", "gateway" } do
      expect(status(s, "/livez")).to_be(200)
      expect(status(s, "/readyz")).to_be(200) -- readiness does not follow dependencies either
    end
  end)

  it("readiness turns 503 at SIGTERM while the service keeps serving, then exits 0", function()
    expect(status("query", "/readyz")).to_be(200)
    sys:terminate("query")
    -- the signal is handled on the next loop turn: well within one probe period
    fl.eventually(function() return status("query", "/readyz") == 503 end, { within = 0.3, every = 0.01 })
    expect(status("query", "/livez")).to_be(200)
    expect(status("query", "/query/status")).to_be(200)
    local x = wait_exit("query")
    expect(x.exit).to_be(0)
  end)

  it("readiness follows the service's own database; liveness does not", function()
    local db = sys.services.query.data .. "/query.db"
    assert(os.rename(db, db .. ".away"))
    fl.defer(function() os.rename(db .. ".away", db) end)
    expect(status("query", "/readyz")).to_be(503)
    expect(status("query", "/livez")).to_be(200)
    assert(os.rename(db .. ".away", db))
    expect(status("query", "/readyz")).to_be(200)
  end)

  it("in-flight requests finish during shutdown", function()
    -- the bank's breaker may still be open from an earlier test
    fl.eventually(function()
      return http.post(sys:url("banking", "/banking/account/verify"),
        { json = { bankName = "KB", bankAccountNumber = "x" }, raise = false }).status == 200
    end, { within = 5, every = 0.3 })
    sys:chaos{ latency_ms = 1800 }
    local slow = fl.spawn(function()
      return http.post(sys:url("banking", "/banking/account/verify"),
        { json = { bankName = "KB", bankAccountNumber = "x" }, raise = false, timeout = 10 })
    end)
    fl.sleep(0.2)
    local t0 = fl.now()
    sys:terminate("banking")
    local r = fl.join(slow)
    expect(r.status).to_be(200) -- answered although SIGTERM came while it waited
    expect(fl.now() - t0 > 1.2).to_be(true)
    local x = wait_exit("banking")
    expect(x.exit).to_be(0)
  end)
end)
