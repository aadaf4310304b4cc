-- Chaos: clients transfer, top up and read while seeded fault schedules
-- (fl.nemesis) break the reference system; then, with faults healed and the
-- system quiet, every checker: sagas and money (their step outcomes held
-- against the proxy's exchanges), each circuit breaker, and the probes of
-- the services that were probed throughout.
--
-- A prelude aims faults at saga paths one at a time while the breakers are
-- still closed; then four lanes of faults run side by side, each first
-- covering its share of the space once in a seeded order, then drawing at
-- random (docs/chaos.md): on every link a
-- failure before the request reaches the service (5xx, 4xx, partition),
-- slowness past the caller's timeout, a lost answer after the service
-- applied the request, a link that goes down with requests in flight;
-- late delivery of money requests after their saga decided; refunds
-- failing while the bank rejects (compensation under a long fault); kills
-- and pauses; money SIGTERMed while the clients keep sending (its drain
-- window checked: probe H2/H4/H6); the coordinator killed with sagas in
-- flight, and killed again while its restart recovers them. The clients resend a transfer refused
-- at the door (the service down) with its key, so they keep going. 35 % of
-- the sagas ask for a short deadline, so deadlines expire before and at
-- the pivot. At the end the run prints (and attaches to its report) a
-- coverage summary: the faults per link and process, and how many sagas
-- took each path; a path of the reference system's sagas that no saga took
-- is a warning (-e CHAOS_COVERAGE=strict makes it a failure).
--   faultline run scenarios/chaos -e FL_REF=DATA_DIR -e CHAOS_DURATION=16 --seed N
--   (-e CHAOS_FAULTS=kill,partition  -e CHAOS_KILL=remittance  narrow the
--   schedule to one random lane, as before)
local fl = require "faultline"
local http = fl.http
local W = fl.workload
local N = fl.nemesis

local DURATION = tonumber(fl.env.CHAOS_DURATION or "") or 16
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
-- drain: transferd's --drain-delay (2 s): reads sent to a SIGTERMed money
-- inside it must be answered (H6); grace: it must exit in time (H4)
local PROBE_CFG = { period = PERIOD, timeout = 1, failure_threshold = 3, success_threshold = 1,
                    drain = 2, grace = 15 }
-- the coordinator's startup probe must allow its recovery (transferd's
-- --recovery-timeout, 10 s): 48 periods, 12 s, before a restart
local REMIT_CFG = { period = PERIOD, timeout = 1, failure_threshold = 48, success_threshold = 1 }

-- The lanes: links, services and the kinds each covers first.
-- the lanes' random draws on links: every kind, lost answers included
local LINK_DRAWS = { latency = 3, slow = 1, http_abort = 2, client_error = 1, http_drop_response = 2,
                     partition = 2, flap = 1, bank = 2 }
local LINK_COVER = { "slow", "http_abort", "client_error", "http_drop_response", "partition", "flap" }
-- The prelude: faults aimed at saga paths, one at a time, while every
-- breaker is still closed (once a caller's breaker is open, 5 s each time,
-- sagas no longer reach the steps these faults are about): the bank's 5xx
-- on transfers it never saw (a 5xx is no rejection; a status query finds
-- nothing and the transfer is sent again), lost answers of the pivot, the
-- compensation storm (refunds failing while sagas compensate), then late
-- deliveries of money requests, held past their sagas' decision.
--
-- Lost answers are drawn on every link by the lanes too: the HTTP client
-- resends a request whose kept-alive connection closed before any answer,
-- so one breaker call can be two exchanges on the wire; the breaker
-- checker counts such a pair as one call, the resend's answer being what
-- the caller saw (docs/checkers.md).
-- The storm refuses refunds with 4xx, which no breaker counts; late
-- deliveries come last and hold half the debits only, so the breaker to
-- money (50 % failures over 10 calls) stays closed and the short-deadline
-- sagas decide, with a fenced query, 2 s later, before the held requests
-- land (2.5-3 s).
local PRELUDE = {
  { "http_abort", "banking->extbank", { path = "/bank/transfer", method = "POST", probability = 1 } },
  { "http_drop_response", "remittance->banking",
    { path = "/banking/firmbanking/request", probability = 0.8 } },
  "compensation_storm",
  { "late", "remittance->money", { path = "/money/debit", probability = 0.5 } },
}
local PRELUDE_LINKS = { "remittance->money", "remittance->banking", "banking->extbank" }
-- Then four lanes side by side, each covering its kinds on its links and
-- services once, in a seeded order, then drawing at random.
local LANES = {
  { links = { "remittance->money" }, kill = {}, pause = {}, kinds = LINK_DRAWS, cover = LINK_COVER },
  { links = { "remittance->banking", "banking->extbank" }, kill = {}, pause = {}, kinds = LINK_DRAWS,
    cover = LINK_COVER },
  { links = { "remittance->membership" }, kill = { "extbank", "membership" },
    pause = { "extbank", "membership" },
    cover = { "slow", "http_abort", "client_error", "http_drop_response", "partition", "kill", "pause" },
    kinds = { latency = 3, slow = 1, http_abort = 2, client_error = 1, http_drop_response = 2,
              partition = 2, kill = 1, pause = 1, bank = 2 } },
  -- processes under the clients' load: money SIGTERMed (it drains for 2 s
  -- while clients still send: in-flight and drain-window requests must be
  -- answered, probe H4/H6) and killed; the coordinator killed with sagas in
  -- flight (its restart recovers them: the lane waits 3 s for it to be
  -- ready and goes on; the checks wait for a recovery still running), and
  -- killed again while it recovers them
  { links = {}, kill = { "money", "remittance" }, pause = {}, term = { "money" },
    recovery_restart = { "remittance" }, cover = { "term", "recovery_restart", "kill" },
    kinds = { term = 1, kill = 1 }, gap = 0.4, ready_wait = 3 },
}
-- every path a reference saga can take; the default seed reaches each
local PATHS = { "completed", "completed_after_doubt", "compensated", "failed",
                "deadline_exceeded", "in_doubt", "pivot_in_doubt", "resolved_applied",
                "resolved_not_applied", "deferred", "compensation_retry", "not_sent_retried" }

-- The coverage summary: faults per target (from the lanes' logs) and the
-- sagas per path (the saga checker's stats.paths).
local function coverage(lanes, result)
  local faults, targets = {}, {}
  for _, nem in ipairs(lanes) do
    for _, desc in ipairs(nem.log) do
      local kind, target = desc:match("^(%S+) (.+)$")
      if kind == "bank" then kind, target = "bank_" .. target, "extbank" end
      if kind then
        if not faults[target] then faults[target] = {}; targets[#targets + 1] = target end
        faults[target][kind] = (faults[target][kind] or 0) + 1
      end
    end
  end
  table.sort(targets)
  local paths = (result.stats or {}).paths or {}
  local missing = {}
  for _, p in ipairs(PATHS) do
    if (paths[p] or 0) == 0 then missing[#missing + 1] = p end
  end
  local lines = {}
  for _, target in ipairs(targets) do
    local ks = {}
    for k, n in pairs(faults[target]) do ks[#ks + 1] = n > 1 and (k .. " x" .. n) or k end
    table.sort(ks)
    lines[#lines + 1] = string.format("  coverage: %-24s %s", target, table.concat(ks, ", "))
  end
  local ps = {}
  for _, p in ipairs(PATHS) do ps[#ps + 1] = string.format("%s %d", p, paths[p] or 0) end
  for _, p in ipairs({ "running", "stuck_or_other", "after_pivot_retry" }) do
    if (paths[p] or 0) > 0 then ps[#ps + 1] = string.format("%s %d", p, paths[p]) end
  end
  lines[#lines + 1] = "  coverage: sagas " .. table.concat(ps, ", ")
  if #missing > 0 then
    lines[#lines + 1] = "  coverage: WARNING: no saga took " .. table.concat(missing, ", ")
  end
  return { faults = faults, paths = paths, missing = missing, required = PATHS }, lines
end

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
    -- the coordinator, restarted while it recovers: its readiness, held
    -- results included, beside its startup probe (H5: not ready while the
    -- startup probe says it is still recovering)
    probers.remittance = fl.check.prober("remittance", { liveness = sys:url("remittance", "/livez"),
      readiness = sys:url("remittance", "/readyz"), startup = sys:url("remittance", "/startupz"),
      period = PERIOD, timeout = 1, failure_threshold = 48, observe_held = true })
    -- the prelude, then the lanes (one random lane instead when
    -- CHAOS_FAULTS / CHAOS_KILL narrow the schedule)
    local nems, prelude = {}, nil
    local lane_time = DURATION
    if KINDS or fl.env.CHAOS_KILL then
      nems[1] = N.new(sys, { history = win.history, kinds = KINDS,
                             kill = list(fl.env.CHAOS_KILL) or { "money", "extbank", "membership", "remittance" },
                             pause = { "extbank", "membership" } })
      nems[1]:plan(DURATION)
    else
      -- (a run shorter than 12 s is all lanes: the prelude and its late
      -- deliveries would take most of it)
      if DURATION >= 12 then
        prelude = N.new(sys, { history = win.history, links = PRELUDE_LINKS, kill = {},
                               pause = {}, term = {}, min = 0.5, max = 0.8, gap = 0.1 })
        for _, step in ipairs(prelude:plan(0, { first = PRELUDE })) do
          lane_time = lane_time - step.hold - step.gap
        end
      end
      for _, lane in ipairs(LANES) do
        local nem = N.new(sys, { history = win.history, links = lane.links, kill = lane.kill,
                                 pause = lane.pause, term = lane.term or {},
                                 recovery_restart = lane.recovery_restart or {},
                                 kinds = lane.kinds, min = 0.4, max = 0.9, gap = lane.gap or 0.15,
                                 ready_wait = lane.ready_wait })
        nem:plan(lane_time, { cover = lane.cover })
        nems[#nems + 1] = nem
      end
    end
    local all = { prelude, table.unpack(nems) }
    fl.defer(function() for _, nem in pairs(all) do nem:heal() end end)
    local done = false
    local tasks = {}
    -- late deliveries land up to 3 s after the late fault ends: the lanes
    -- (whose partitions would close the held requests' connections) and
    -- the checks wait for them
    local t0, t_late = fl.now(), 0
    if prelude then
      local at = t0
      for _, step in ipairs(prelude.schedule) do
        if step.spec.kind == "late" then t_late = at + step.hold + 3.3; break end
        at = at + step.hold + step.gap
      end
      tasks[1] = fl.spawn(function() return prelude:run(DURATION, function() return done end) end)
    end
    local t_lanes = math.max(t0 + DURATION - lane_time, t_late)
    lane_time = t0 + DURATION - t_lanes
    for _, nem in ipairs(nems) do
      tasks[#tasks + 1] = fl.spawn(function()
        fl.sleep(math.max(0, t_lanes - fl.now()))
        return nem:run(lane_time, function() return done end)
      end)
    end
    local stats = W.run(sys, { members = members, accounts = accounts, clients = 16, rate = 30,
                               duration = DURATION, history = win.history, timeout = 5,
                               snapshot_every = 1, bank_total = win.bank_total, poll = 3,
                               short = { share = 0.35, ms = { 150, 1500 } }, resend = true })
    done = true
    fl.join(table.unpack(tasks))
    if prelude then table.insert(nems, 1, prelude) end
    local log = {}
    for _, nem in ipairs(nems) do
      nem:heal()
      for _, d in ipairs(nem.log) do log[#log + 1] = d end
    end
    print(string.format("  workload: %d ops (%d ok, %d fail, %d info); %d faults",
      stats.ops, stats.ok, stats.fail, stats.info, #log))
    -- a coordinator restarted late in the run may still be recovering
    -- (its recovery ends once every recovered saga settled, 10 s at most)
    sys:wait_ready("remittance", 15)
    -- quiet: breakers half-open after their wait, deferred sagas run;
    -- the requests held by the prelude's late fault have arrived
    win:quiesce(30)
    if fl.now() < t_late then fl.sleep(t_late - fl.now()) end
    for _, p in pairs(probers) do p:stop() end
    -- grace 30 s: under four lanes of faults (breakers open for 5 s each
    -- time, fenced queries failing) a short-deadline saga may decide well
    -- after its deadline; it must still decide and end
    local results = { saga = win:saga{ wait = 5, addresses = { [addr] = ids }, counters = true,
                                       links = true, grace_ms = 30000 } }
    local cov, lines = coverage(nems, results.saga)
    for _, l in ipairs(lines) do print(l) end
    fl.attach("coverage", cov)
    for _, b in ipairs(sys:breakers("remittance")) do
      results["breaker " .. b.name] = win:breaker("remittance", b.name)
    end
    results["breaker banking->extbank"] = win:breaker("banking", "banking->extbank")
    for svc, p in pairs(probers) do
      results["probe " .. svc] = win:probes(svc, svc == "remittance" and REMIT_CFG or PROBE_CFG, p)
    end
    W.verify(t.name, results)
    expect(stats.ops).to_be_greater_than(0)
    if fl.env.CHAOS_COVERAGE == "strict" and #cov.missing > 0 then
      fl.fail("coverage: no saga took " .. table.concat(cov.missing, ", "))
    end
  end)
end)
