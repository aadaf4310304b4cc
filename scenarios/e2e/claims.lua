-- Claims against evidence: a breaker's recorded successes and failures
-- against what the proxy saw on its link for the same calls (breaker C8),
-- and its transitions against its own outcomes (C1-C7).
-- 1. One client, one call at a time, so each call's exchange is its own:
--    the bank answers 200, then client errors (4xx: successes by the
--    documented classification), then nothing in time (a timeout: the proxy
--    records the caller closing before the answer, a failure), then 200.
--    Few failures: the breaker stays closed, the outcomes are what is
--    checked.
-- 2. A short wait and a small minimum (banking restarted with
--    --breaker-wait 1s --breaker-min-calls 2): half-open trials that fail
--    must reopen the breaker; a trial still out when the others closed it
--    (a slow status query) must count in no window; timeouts must trip it.
local fl = require "faultline"
local http = fl.http
local W = fl.workload
local L = require "_lib"

local sys

describe("claims against the wire", { tags = { "e2e", "breaker" } }, function()
  setup(function() sys = L.sys() end)
  after_each(function() sys:heal() end)

  it("banking's breaker toward the bank records what the wire shows", function(t)
    local acct = L.unique("claims")
    L.open_account(sys, "SH", acct, 0)
    -- a fresh breaker: the replay starts from an empty window
    L.restart(sys, "banking")
    local name = "banking->extbank"
    local win = W.window(sys, t.name, { services = {} })
    local link = fl.proxy.link(name)
    local function verify(n)
      for _ = 1, n do
        http.post(sys:url("banking", "/banking/account/verify"),
          { json = { bankName = "SH", bankAccountNumber = acct }, timeout = 5, raise = false })
      end
    end
    verify(6)
    local c4 = link:toxic{ type = "http_abort", status = 404 }
    verify(3)
    c4:remove()
    local c4b = link:toxic{ type = "http_abort", status = 409 }
    verify(2)
    c4b:remove()
    verify(4)
    -- held longer than banking's call timeout (2 s): the caller gives up
    local slow = link:toxic{ type = "http_delay", delay = 2600 }
    verify(1)
    slow:remove()
    verify(6)
    W.verify(t.name, { breaker = win:breaker("banking", name, { claims = true, fresh = true }) })
  end)

  it("half-open trials that fail reopen; a trial out across the close counts nowhere", function(t)
    local acct = L.unique("trials")
    L.open_account(sys, "SH", acct, 0)
    local name = "banking->extbank"
    -- a new lifetime of banking: its breaker starts afresh (the replay too)
    L.restart(sys, "banking", { "--breaker-wait", "1s", "--breaker-min-calls", "2" })
    fl.defer(function() L.restart(sys, "banking", { "--breaker-wait", "5s", "--breaker-min-calls", "5" }) end)
    local win = W.window(sys, t.name, { services = {} })
    local W_OPEN = 1.15
    local link = fl.proxy.link(name)
    local function state()
      return sys:breaker("banking", name).state
    end
    local function verify(n)
      for _ = 1, n do
        http.post(sys:url("banking", "/banking/account/verify"),
          { json = { bankName = "SH", bankAccountNumber = acct }, timeout = 5, raise = false })
      end
    end
    -- trip it: two 503s
    local abort = link:toxic{ type = "http_abort", status = 503, path = "/bank/verify" }
    verify(2)
    local tripped = state()
    -- after W the trials fail too: it must open again, not close
    fl.sleep(W_OPEN)
    verify(3)
    local reopened = state()
    abort:remove()
    -- after W: a slow trial first (a status query held 700 ms), then two
    -- quick ones that close the breaker while the slow one is still out
    fl.sleep(W_OPEN)
    local held = link:toxic{ type = "http_delay", delay = 700, path = "/bank/transfer" }
    local slow = fl.spawn(function()
      http.get(sys:url("banking", "/banking/firmbanking/" .. L.unique("nokey")),
        { timeout = 5, raise = false })
    end)
    fl.sleep(0.15)
    verify(2)
    local closed = state()
    fl.join(slow)
    held:remove()
    -- one failure after the close is one outcome of two needed: still closed
    abort = link:toxic{ type = "http_abort", status = 503, path = "/bank/verify" }
    verify(1)
    local after_one = state()
    verify(1)
    abort:remove()
    W.verify(t.name, { breaker = win:breaker("banking", name, { claims = true, fresh = true }) })
    expect(tripped).to_be("OPEN")
    expect(reopened).to_be("OPEN")
    expect(closed).to_be("CLOSED")
    expect(after_one).to_be("CLOSED")
    expect(state()).to_be("OPEN")
  end)
end)
