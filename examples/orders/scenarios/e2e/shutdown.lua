-- End to end: graceful shutdown of orders under load, watched by a
-- kubelet-style prober. After SIGTERM readiness must fail at once (H2),
-- liveness stays up while it drains (H1), requests received before SIGTERM
-- get an answer (H4), and so do those sent in its drain delay (0.5 s, the
-- endpoint removal still propagating: H6). It starts orders again when it ends (faultline
-- restart; $FAULTLINE names the binary when it is not on the PATH).
local fl = require "faultline"
package.path = (fl.file:gsub("[^/]+/[^/]+$", "?.lua;")) .. package.path
local O = require "_orders"

local PROBE = { period = 0.1, timeout = 0.5, failure_threshold = 1, success_threshold = 1, grace = 10,
                drain = 0.5 } -- orders' --drain-delay

describe("orders shutdown", { tags = { "e2e", "probe" } }, function()
  it("fails readiness at once on SIGTERM and answers what it received", { timeout = 60 }, function()
    local sys = O.system()
    local h = O.history("shutdown")
    fl.defer(function()
      local bin = fl.env.FAULTLINE or os.getenv("FAULTLINE") or "faultline"
      os.execute(string.format("%q restart orders --data %q > /dev/null 2>&1", bin, sys.data))
    end)
    local customers, items = { O.customer(sys, 100000) }, { O.item(sys, 100000) }
    local p = fl.check.prober("orders", { liveness = sys:url("orders", "/livez"),
      readiness = sys:url("orders", "/readyz"), period = PROBE.period, timeout = PROBE.timeout,
      failure_threshold = PROBE.failure_threshold })
    fl.defer(function() p:stop() end)
    local load = fl.spawn(function()
      return O.clients(sys, { history = h, clients = 3, duration = 2.5, customers = customers, items = items })
    end)
    fl.sleep(1)
    local term = { event = "process", service = "orders", action = "sigterm",
                   t = math.floor(fl.now() * 1e9) }
    sys:terminate("orders")
    fl.join(load)
    -- the launcher records how it exited (code, signal): H4 needs it
    local exited = assert(fl.check.exited(sys, "orders", PROBE.grace + 2))
    fl.sleep(0.3)
    p:stop()
    local r = fl.check.probes("orders", { prober = p, history = h:path(), events = { term, exited },
      period = PROBE.period, timeout = PROBE.timeout, failure_threshold = PROBE.failure_threshold,
      success_threshold = PROBE.success_threshold, grace = PROBE.grace, drain = PROBE.drain })
    r:ok()
    expect(r.invariants.H2.state).to_be("passed")
    expect(r.invariants.H4.state).to_be("passed")
    expect(r.invariants.H6.state).to_be("passed")
  end)
end)
