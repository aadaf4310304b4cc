-- Health probes and graceful shutdown of the reference system, with a
-- kubelet prober simulation (fl.check.prober) and the probe checker (H1-H5):
-- liveness must not depend on dependencies, readiness must turn failing at
-- SIGTERM and while the service's own database is gone (and come back after
-- it), a shutdown under load must answer everything it accepted and
-- exit 0 in time, and nothing is ready before startup passed.
local fl = require "faultline"
local http = fl.http
local W = fl.workload
local L = require "_lib"

local sys
local PERIOD = 0.2
local CFG = { period = PERIOD, timeout = 1, failure_threshold = 3, success_threshold = 1, grace = 15 }

local function prober(service, with_startup)
  return fl.check.prober(service, {
    liveness = sys:url(service, "/livez"), readiness = sys:url(service, "/readyz"),
    startup = with_startup and sys:url(service, "/startupz") or nil,
    period = PERIOD, timeout = CFG.timeout, failure_threshold = CFG.failure_threshold,
  })
end

describe("probes and shutdown", { tags = { "e2e", "probe" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function()
    sys:heal()
    for _, svc in ipairs({ "extbank", "banking", "remittance" }) do
      if not sys:alive(svc) then sys:restart(svc) end
    end
    sys:chaos{ reset = true }
  end)

  it("liveness of banking holds while extbank is partitioned or killed", function(t)
    local acct = L.unique("live")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name, { services = {} })
    local p = prober("banking")
    -- banking's breaker toward the bank will open: start it fresh afterwards
    fl.defer(function() L.restart(sys, "banking") end)
    -- traffic through banking to the bank, so banking notices the bank is gone
    local running = true
    local traffic = fl.spawn(function()
      while running do
        http.post(sys:url("banking", "/banking/account/verify"),
          { json = { bankName = "SH", bankAccountNumber = acct }, timeout = 2, raise = false })
        fl.sleep(0.05)
      end
    end)
    fl.sleep(3 * PERIOD)
    -- partition: the link from banking to the bank refuses connections
    local bank_link = fl.proxy.link("banking->extbank")
    win:fault("added", "partition", "banking->extbank", "p1")
    bank_link:disable()
    fl.sleep(6 * PERIOD)
    bank_link:enable()
    win:fault("removed", "partition", "banking->extbank", "p1")
    fl.sleep(2 * PERIOD)
    -- the bank process itself is killed, then started again
    win:fault("added", "kill", "extbank", "k1")
    sys:kill("extbank")
    L.wait_for(function() return not sys:alive("extbank") end, 3, 0.02)
    fl.sleep(6 * PERIOD)
    sys:restart("extbank")
    win:fault("removed", "kill", "extbank", "k1")
    fl.sleep(2 * PERIOD)
    running = false
    fl.join(traffic)
    local st = p:status()
    p:stop()
    W.verify(t.name, { probe = win:probes("banking", CFG, p) })
    expect(st.restarts).to_be(0)
    expect(st.live).to_be(true)
  end)

  it("its database gone: membership turns unready, stays live, and recovers", function(t)
    local svc = "membership"
    local db = string.format("%s/%s/%s.db", sys.data, svc, svc)
    local away = db .. ".away"
    local win = W.window(sys, t.name, { services = {} })
    local p = prober(svc)
    fl.defer(function() if not io.open(db, "r") then os.rename(away, db) end end)
    fl.sleep(3 * PERIOD)
    -- the file the service stats and reads is moved away (as when a volume
    -- is unmounted): the window is recorded only while it really is gone
    assert(os.rename(db, away))
    win:fault("added", "db_down", svc, "db1")
    fl.sleep(6 * PERIOD)
    win:fault("removed", "db_down", svc, "db1")
    assert(os.rename(away, db))
    fl.sleep(4 * PERIOD)
    local st = p:status()
    p:stop()
    local unready = 0
    for _, e in ipairs(p:events()) do
      if e.event == "probe" and e.kind == "readiness" and not e.ok and e.status == 503 then
        unready = unready + 1
      end
    end
    W.verify(t.name, { probe = win:probes(svc, CFG, p) })
    expect(st.restarts).to_be(0)
    expect(st.ready).to_be(true)
    -- the scenario proves something only if the service said so from outside
    expect(unready > 0).to_be(true)
  end)

  it("SIGTERM under load: unready at once, every accepted request answered, exit 0", function(t)
    local acct = L.unique("probe")
    L.open_account(sys, "SH", acct, 0)
    sys:chaos{ latency_ms = 300 }
    local win = W.window(sys, t.name, { services = {} })
    local h = win.history
    local p = prober("extbank")
    fl.sleep(3 * PERIOD)
    local t_term
    local stop_at = math.huge
    local load = fl.spawn(function()
      fl.parallel(4, function(c)
        local n = 0
        while fl.now() < stop_at do
          n = n + 1
          h:invoke(c, "verify", { service = "extbank", n = n })
          local r = http.post(sys:url("extbank", "/bank/verify"),
            { json = { bankName = "SH", bankAccountNumber = acct }, timeout = 5, raise = false })
          if r.status == 200 then
            h:ok(c, "verify", { service = "extbank", status = 200 })
          elseif r.status == 0 then
            h:info(c, "verify", { service = "extbank", error = r.error_code or r.error })
            if t_term then break end
          else
            h:fail(c, "verify", { service = "extbank", status = r.status })
          end
          fl.sleep(0.02)
        end
      end)
    end)
    fl.sleep(0.7)
    win:process("extbank", "sigterm")
    t_term = fl.now()
    sys:terminate("extbank")
    -- endpoints are removed at SIGTERM; clients stop within the drain delay
    stop_at = t_term + 1.0
    local st = W.wait_exit(sys, "extbank", CFG.grace + 2)
    if st then
      win:process("extbank", "exited", { exit_code = st.exit ~= fl.json.null and st.exit or -1,
                                         signal = st.signal ~= fl.json.null and st.signal or nil })
    end
    fl.join(load)
    p:stop()
    -- a new container: startup first, then readiness
    win:process("extbank", "started")
    local p2 = prober("extbank", true)
    sys:restart("extbank")
    fl.sleep(4 * PERIOD)
    p2:stop()
    local evs = {}
    for _, e in ipairs(p2:events()) do evs[#evs + 1] = e end
    for _, e in ipairs(evs) do win.events[#win.events + 1] = e end
    W.verify(t.name, { probe = win:probes("extbank", CFG, p) })
    expect(st).to_be_truthy()
    expect(st.exit).to_be(0)
  end)

  it("SIGTERM on the saga coordinator mid-transfer: drains, exits 0, every saga ends", function(t)
    local ms = {}
    for i = 1, 4 do ms[i] = sys:member{ balance = 100000 } end
    local win = W.window(sys, t.name)
    local h = win.history
    local p = prober("remittance")
    fl.sleep(3 * PERIOD)
    -- slow money: sagas are in flight when the signal comes
    fl.proxy.link("remittance->money"):toxic{ type = "latency", latency = 150 }
    local t_term
    local load = fl.spawn(function()
      fl.parallel(4, function(c)
        local n = 0
        while not t_term or fl.now() < t_term + 0.8 do
          n = n + 1
          local from, to = ms[c], ms[c % 4 + 1]
          local kind = W.transfer(sys, h, c, { from = from.id, to = to.id, amount = 100 + n,
                                               key = string.format("term-%s-%d", from.id, n), timeout = 10 })
          if kind == "info" and t_term then break end
        end
      end)
    end)
    fl.sleep(0.8)
    win:process("remittance", "sigterm")
    t_term = fl.now()
    sys:terminate("remittance")
    local st = W.wait_exit(sys, "remittance", CFG.grace + 2)
    if st then
      win:process("remittance", "exited", { exit_code = st.exit ~= fl.json.null and st.exit or -1,
                                            signal = st.signal ~= fl.json.null and st.signal or nil })
    end
    fl.join(load)
    p:stop()
    -- a new container: sagas left open are resumed before startup passes
    win:process("remittance", "started")
    local p2 = prober("remittance", true)
    sys:restart("remittance")
    fl.sleep(4 * PERIOD)
    p2:stop()
    for _, e in ipairs(p2:events()) do win.events[#win.events + 1] = e end
    W.verify(t.name, { probe = win:probes("remittance", CFG, p), saga = win:saga() })
    expect(st).to_be_truthy()
    expect(st.exit).to_be(0)
  end)
end)
