-- Chaos: clients transfer, top up and read while a seeded random fault
-- schedule (fl.nemesis) adds latency, HTTP errors, lost answers, partitions,
-- kills and pauses on the reference system; then, with faults healed and the
-- system quiet, every checker: sagas and money, each circuit breaker, and the
-- probes of the services that were probed throughout.
--   faultline run scenarios/chaos -e FL_REF=DATA_DIR -e CHAOS_DURATION=10 --seed N
--   (-e CHAOS_FAULTS=kill,partition  -e CHAOS_KILL=remittance  narrow the schedule)
local fl = require "faultline"
local http = fl.http
local W = fl.workload
local N = fl.nemesis

local DURATION = tonumber(fl.env.CHAOS_DURATION or "") or 10
-- CHAOS_FAULTS=kill,pause,...: only these kinds of faults (equal weights);
-- CHAOS_KILL=svc,...: which services may be killed
local function list(s)
  if not s or s == "" then return nil end
  local out = {}
  for x in s:gmatch("[^,%s]+") do out[#out + 1] = x end
  return out
end
local KINDS
if list(fl.env.CHAOS_FAULTS) then
  KINDS = {}
  for _, k in ipairs(list(fl.env.CHAOS_FAULTS)) do KINDS[k] = 1 end
end
local PERIOD = 0.25
local PROBED = { "banking", "money" }
local PROBE_CFG = { period = PERIOD, timeout = 1, failure_threshold = 3, success_threshold = 1 }

describe("chaos", { tags = { "chaos" } }, function()
  it("transfers under a random fault schedule keep every invariant",
     { timeout = DURATION + 120 }, function(t)
    local sys = fl.ref.system()
    sys:heal()
    sys:chaos{ reset = true }
    -- members with money and bank accounts, external destinations
    local addr = string.format("chaos-%d-%d", os.time() % 100000, fl.random(1e6))
    local members, ids = {}, {}
    for i = 1, 6 do
      members[i] = sys:member{ balance = 200000, bank_balance = 400000, address = addr }
      ids[i] = members[i].id
    end
    local accounts = {}
    for i = 1, 2 do
      local number = string.format("%s-ext-%d", addr, i)
      local r = http.post(sys:url("extbank", "/bank/accounts"),
        { json = { bankName = "SH", bankAccountNumber = number, balance = 0 } })
      expect(r.status < 300).to_be(true)
      accounts[i] = { bank = "SH", account = number }
    end
    -- -e CHAOS_HISTORY=FILE keeps the history where a person can find it
    -- (make demo passes it with --history FILE, so the HTML report charts it)
    local win = W.window(sys, t.name, { path = fl.env.CHAOS_HISTORY })
    fl.defer(function() win.history:close() end)
    -- probers on services whose dependencies the schedule breaks
    local probers = {}
    for _, svc in ipairs(PROBED) do
      probers[svc] = fl.check.prober(svc, { liveness = sys:url(svc, "/livez"),
        readiness = sys:url(svc, "/readyz"), period = PERIOD, timeout = 1, failure_threshold = 3 })
    end
    local nem = N.new(sys, { history = win.history, kinds = KINDS,
                             kill = list(fl.env.CHAOS_KILL) or { "money", "extbank", "membership", "remittance" },
                             pause = { "extbank", "membership" } })
    fl.defer(function() nem:heal() end)
    nem:plan(DURATION)
    local done = false
    local chaos = fl.spawn(function()
      local log = nem:run(DURATION, function() return done end)
      return log
    end)
    local stats = W.run(sys, { members = members, accounts = accounts, clients = 8, rate = 30,
                               duration = DURATION, history = win.history, timeout = 5,
                               snapshot_every = 1, bank_total = win.bank_total })
    done = true
    local log = fl.join(chaos)
    nem:heal()
    print(string.format("  workload: %d ops (%d ok, %d fail, %d info); faults: %s",
      stats.ops, stats.ok, stats.fail, stats.info, table.concat(log, ", ")))
    -- quiet: breakers half-open after their wait, deferred sagas run
    win:quiesce(30)
    for _, p in pairs(probers) do p:stop() end
    local results = { saga = win:saga{ wait = 5, addresses = { [addr] = ids }, counters = true } }
    for _, b in ipairs(sys:breakers("remittance")) do
      results["breaker " .. b.name] = win:breaker("remittance", b.name)
    end
    results["breaker banking->extbank"] = win:breaker("banking", "banking->extbank")
    for svc, p in pairs(probers) do
      results["probe " .. svc] = win:probes(svc, PROBE_CFG, p)
    end
    W.verify(t.name, results)
    expect(stats.ops).to_be_greater_than(0)
  end)
end)
