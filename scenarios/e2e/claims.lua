-- Claims against evidence: a breaker's recorded successes and failures
-- against what the proxy saw on its link for the same calls (breaker C8).
-- One client, one call at a time, so each call's exchange is its own: the
-- bank answers 200, then client errors (4xx: successes by the documented
-- classification), then nothing in time (timeouts: failures), then 200.
-- Few failures: the breaker stays closed, the outcomes are what is checked.
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
    W.verify(t.name, { breaker = win:breaker("banking", name, { claims = true }) })
  end)
end)
