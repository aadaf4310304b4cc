-- Graceful shutdown and restart as Kubernetes performs them, observed from
-- outside (probe checker H5, H6):
-- * the endpoint removal after SIGTERM takes a while to reach every client, so
--   requests keep arriving during the service's drain delay (2 s by default):
--   each of them must be served, not refused, and the last one, still in
--   flight when the delay ends, must be answered before the service stops;
-- * a service restarted with sagas to recover must not be ready while its
--   recovery runs: readiness is polled from outside (held results observed)
--   beside the startup probe, which says when recovery is over.
local fl = require "faultline"
local http = fl.http
local W = fl.workload
local L = require "_lib"

local sys
local PERIOD = 0.1
local DRAIN = 2 -- transferd's --drain-delay default (seconds)
local CFG = { period = PERIOD, timeout = 1, failure_threshold = 3, success_threshold = 1,
              grace = 15, drain = DRAIN }

describe("shutdown and restart seen from outside", { tags = { "e2e", "probe" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function()
    sys:heal()
    for _, svc in ipairs({ "extbank", "remittance" }) do
      if not sys:alive(svc) then sys:restart(svc) end
    end
    sys:chaos{ reset = true }
  end)

  it("requests sent after SIGTERM inside the drain delay are served", function(t)
    local acct = L.unique("drain")
    L.open_account(sys, "SH", acct, 0)
    local win = W.window(sys, t.name, { services = {} })
    local h = win.history
    local t_term
    -- clients that have not yet seen the endpoint removal: they keep sending
    -- until well inside the drain delay, then stop
    local stop_at = math.huge
    local load = fl.spawn(function()
      fl.parallel(2, function(c)
        local n = 0
        while fl.now() < stop_at and n < 400 do
          n = n + 1
          h:invoke(c, "verify", { service = "extbank", n = n })
          local r = http.post(sys:url("extbank", "/bank/verify"),
            { json = { bankName = "SH", bankAccountNumber = acct }, timeout = 3, raise = false })
          if r.status == 200 then
            h:ok(c, "verify", { service = "extbank", status = 200 })
          elseif r.status == 0 then
            h:info(c, "verify", { service = "extbank", error = r.error_code or r.error })
          else
            h:fail(c, "verify", { service = "extbank", status = r.status })
          end
          fl.sleep(0.05)
        end
      end)
    end)
    fl.sleep(0.3)
    win:process("extbank", "sigterm")
    t_term = fl.now()
    sys:terminate("extbank")
    stop_at = t_term + DRAIN / 2
    fl.join(load)
    -- then one slow request, the last one, still in flight when the drain
    -- delay ends: the service must wait for it, not stop with it unanswered
    sys:chaos{ latency_ms = 1200 }
    fl.sleep(math.max(0, t_term + DRAIN - 0.7 - fl.now()))
    h:invoke(3, "verify", { service = "extbank", last = true })
    local r = http.post(sys:url("extbank", "/bank/verify"),
      { json = { bankName = "SH", bankAccountNumber = acct }, timeout = 5, raise = false })
    if r.status == 200 then
      h:ok(3, "verify", { service = "extbank", status = 200 })
    elseif r.status == 0 then
      h:info(3, "verify", { service = "extbank", error = r.error_code or r.error })
    else
      h:fail(3, "verify", { service = "extbank", status = r.status })
    end
    local st = W.wait_exit(sys, "extbank", CFG.grace + 2)
    if st then
      win:process("extbank", "exited", { exit_code = st.exit ~= fl.json.null and st.exit or -1,
                                         signal = st.signal ~= fl.json.null and st.signal or nil })
    end
    W.verify(t.name, { probe = win:probes("extbank", CFG) })
    expect(st).to_be_truthy()
    expect(st.exit).to_be(0)
  end)

  it("a coordinator restarted with sagas to recover is not ready until recovered", function(t)
    local ms = {}
    for i = 1, 4 do ms[i] = sys:member{ balance = 100000 } end
    local win = W.window(sys, t.name)
    local h = win.history
    -- slow money: sagas are in flight at the kill, and resuming them is slow
    local money = fl.proxy.link("remittance->money")
    local slow = money:toxic{ type = "latency", latency = 400 }
    local killed = false
    local load = fl.spawn(function()
      fl.parallel(4, function(c)
        for n = 1, 20 do
          local from, to = ms[c], ms[c % 4 + 1]
          local kind = W.transfer(sys, h, c, { from = from.id, to = to.id, amount = 10 + n,
                                               key = string.format("rec-%s-%d", from.id, n), timeout = 5 })
          if killed or kind == "info" then break end
        end
      end)
    end)
    fl.sleep(1.0)
    win:process("remittance", "sigkill")
    sys:kill("remittance")
    killed = true
    L.wait_for(function() return not sys:alive("remittance") end, 3, 0.02)
    win:process("remittance", "exited", { exit_code = -1, signal = 9 })
    fl.join(load)
    -- a new container, probed from outside: readiness too while startup holds it
    win:process("remittance", "started")
    local p = fl.check.prober("remittance", {
      liveness = sys:url("remittance", "/livez"), readiness = sys:url("remittance", "/readyz"),
      startup = sys:url("remittance", "/startupz"), period = PERIOD, timeout = CFG.timeout,
      failure_threshold = 30, observe_held = true,
    })
    sys:restart("remittance", nil, { wait = false })
    local started = L.wait_for(function() return p:status().started end, 15, 0.05)
    fl.sleep(3 * PERIOD)
    p:stop()
    local recovering = 0
    for _, e in ipairs(p:events()) do
      if e.event == "probe" and e.kind == "startup" and not e.ok and e.status == 503 then
        recovering = recovering + 1
      end
    end
    slow:remove()
    W.verify(t.name, { probe = win:probes("remittance", CFG, p) })
    expect(started).to_be_truthy()
    -- the scenario only proves something if recovery was seen running
    expect(recovering > 0).to_be(true)
  end)
end)
