-- Chaos experiment: transfers to other banks survive a slow, flaky external
-- bank, and no money is created or lost.
--
--   faultline ref up --data /tmp/ref
--   faultline chaos scenarios/experiments/slow-bank.lua -e FL_REF=/tmp/ref --journal j.json
--
-- The method adds 300 ms of latency and 30 % HTTP 503s on the
-- banking->extbank link (through the reference system's fault injector),
-- sends external transfers through it, and removes the faults again (the
-- rollbacks run whatever happens, and the proxy's lease heals them even if
-- this process is killed).
local fl = require "faultline"

local sys = fl.ref.system()
local sender, receiver
local toxics = {}

local function transfer(amount)
  local r = sys:transfer{ from = sender.id, bank = receiver.bank, account = receiver.account,
                          amount = amount, wait = true }
  return r.json and r.json.state or ("HTTP " .. r.status)
end

fl.chaos.experiment {
  title = "external transfers survive a slow, flaky bank",
  timeout = 60,
  steady_state = {
    { name = "remittance is ready", tolerance = 200,
      probe = function() return fl.http.get(sys:url("remittance", "/readyz")).status end },
    { name = "money is conserved", tolerance = true,
      probe = function() return (sys:conserved()) end },
  },
  method = {
    { name = "open two accounts", action = function()
        sender = sys:member{ balance = 100000 }
        receiver = sys:member{ balance = 0 }
      end },
    { name = "slow and flaky bank (300 ms, 30 % 503)", action = function()
        local link = fl.proxy.link("banking->extbank")
        toxics[#toxics + 1] = link:toxic{ type = "latency", latency = 300 }
        toxics[#toxics + 1] = link:toxic{ type = "http_abort", status = 503, probability = 0.3 }
      end,
      -- fl.proxy also removes a test's toxics by itself; removing twice is harmless
      rollback = function()
        for _, t in ipairs(toxics) do pcall(t.remove, t) end
        expect(#fl.proxy.link("banking->extbank"):toxics()).to_be(0)
      end },
    { name = "five external transfers under the fault", probe = function()
        local states = {}
        for i = 1, 5 do states[i] = transfer(1000 * i) end
        return table.concat(states, ",")
      end },
    { name = "every saga ends", action = function()
        fl.eventually(function() return #sys:sagas("open") == 0 end, { within = 30, every = 0.5 })
      end },
  },
}
