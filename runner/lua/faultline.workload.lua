-- faultline.workload: clients running operations against any system while
-- recording a Jepsen history (fl.workload.clients), and, for the reference
-- transfer system, its transfer workload (one user of clients) and windows
-- that check what happened in them (fl.workload).
--
--   local W = fl.workload
--   W.clients{ history = h, clients = 4, rate = 20, duration = 10, ops = {
--     get = function(c) local r = fl.http.get(url, { raise = false })
--                       return r.status == 200 and "ok" or "fail", { status = r.status } end } }
--
-- On the reference system:
--   local win = W.window(sys, "chaos")         -- history file + feed positions now
--   local stats = W.run(sys, { members = ms, clients = 4, rate = 20,
--                              duration = 10, history = win.history })
--   W.verify("chaos", { saga = win:saga{}, breaker = win:breaker("remittance", "remittance->banking") })
--
-- Every random choice comes from fl.random (seeded by --seed). Operations go
-- into the history as invoke / ok / fail / info with the request's
-- Idempotency-Key and, when answered, the saga id, state and reason:
--   ok    the saga COMPLETED (or a read answered)
--   fail  the saga ended FAILED or COMPENSATED: it had no effect
--   info  anything else (timeout, reset, 5xx, still running, DEFERRED):
--         it may or may not take effect, and must converge
-- A transfer answered DEFERRED with no step attempted was refused at the
-- door by the breaker toward the bank: it carries reason "circuit_open" so
-- the breaker checker holds it to the fast-failure rule.
local fl = require "faultline"
local http = fl.http
local json = fl.json

local M = {}

-- ------------------------------------------------------------- small helpers
local function now_ns() return math.floor(fl.now() * 1e9) end

local function sanitize(name)
  return (tostring(name):gsub("[^%w%-_]+", "_")):sub(1, 80)
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- head(sys, service) -> the service's outbox head sequence number
function M.head(sys, service)
  local r = http.get(sys:url(service, "/events?after=0&limit=1"), { timeout = 10 })
  if r.status ~= 200 or not r.json then
    error("events of " .. service .. ": HTTP " .. r.status, 2)
  end
  return r.json.head or 0
end

--- feed(sys, service, after [, into]) -> every outbox event after seq `after`
function M.feed(sys, service, after, into)
  into = into or {}
  for _ = 1, 1000 do
    local r = http.get(sys:url(service, "/events?after=" .. math.tointeger(after) .. "&limit=5000"),
      { timeout = 15 })
    if r.status ~= 200 or not r.json then
      error("events of " .. service .. ": HTTP " .. r.status, 2)
    end
    local evs = r.json.events or {}
    for _, e in ipairs(evs) do into[#into + 1] = e end
    if #evs == 0 or (r.json.last or after) <= after then break end
    after = r.json.last
    if after >= (r.json.head or after) then break end
  end
  return into
end

--- failure_counts(sys) -> {reason = FAILED count} from the query read model
function M.failure_counts(sys)
  local r = http.get(sys:url("query", "/stats/failed-transfers"), { timeout = 10 })
  if r.status ~= 200 or not r.json then error("failure counters: HTTP " .. r.status, 2) end
  local out = {}
  for reason, v in pairs(r.json.by_reason or {}) do out[reason] = v.failed or 0 end
  return out
end

--- snapshots(sys [, {quiescent=, bank_total=}]) -> money_snapshot, bank_snapshot events
function M.snapshots(sys, o)
  o = o or {}
  local l, b = sys:ledger(), sys:bank()
  local ms = { event = "money_snapshot", t = l.t or now_ns(), accounts = l.accounts,
               quiescent = o.quiescent or nil }
  local bs = { event = "bank_snapshot", t = b.t or now_ns(),
               accounts = { CORP = b.corp, OTHERS = b.total - b.corp },
               initial_total = o.bank_total, quiescent = o.quiescent or nil }
  return ms, bs, l, b
end

-- The window's history plus the extra events, as one JSONL file beside the
-- history (so `faultline check KIND FILE` re-runs the check offline and
-- evidence line numbers point into it). Returns the path.
local function combined(self, kind, label, evs)
  local out = string.format("%s-%s-%s.jsonl", self.path:gsub("%.jsonl$", ""), kind, sanitize(label))
  local f = assert(io.open(out, "w"))
  local src = io.open(self.path, "r")
  if src then
    for line in src:lines() do if line ~= "" then f:write(line, "\n") end end
    src:close()
  end
  for _, e in ipairs(evs) do f:write(json.encode(e), "\n") end
  f:close()
  return out
end

-- ------------------------------------------------------------------ windows
local Window = {}
Window.__index = Window

--- window(sys, name [, {services=, path=}]) -> a window: a fresh history
--- file (DATA/history-NAME.jsonl, or path) and the outbox positions now, so
--- checks look only at what happened from here on
function M.window(sys, name, o)
  o = o or {}
  local path = o.path or string.format("%s/history-%s.jsonl", sys.data, sanitize(name))
  os.remove(path)
  local h = assert(fl.history.open(path))
  local w = setmetatable({ sys = sys, name = name, history = h, path = path, marks = {},
                           events = {}, t0 = now_ns() }, Window)
  for _, svc in ipairs(o.services or { "remittance", "money", "banking" }) do
    w.marks[svc] = M.head(sys, svc)
  end
  local ok, counts = pcall(M.failure_counts, sys)
  w.counts0 = ok and counts or nil
  local okb, bank = pcall(sys.bank, sys)
  w.bank_total = okb and bank.total or nil
  return w
end

--- win:event(ev): record an event (fault window, process event, sample)
function Window:event(ev)
  ev.t = ev.t or now_ns()
  self.history:event(ev)
  return ev
end

--- win:feed(service) -> the service's events since the window opened
function Window:feed(service, into)
  return M.feed(self.sys, service, self.marks[service] or 0, into)
end

--- win:quiesce([within]) -> true when no saga is open (waits up to within s)
function Window:quiesce(within)
  local deadline = fl.now() + (within or 15)
  repeat
    if #self.sys:sagas("open") == 0 then return true end
    fl.sleep(0.1)
  until fl.now() > deadline
  return false
end

--- win:saga{wait=, deadline_ms=, grace_ms=, addresses={addr={ids}}, counters=,
---          bank_total=, cqrs_lag_ms=, links=, ...} -> saga checker result over the
--- window: waits for quiescence, adds the saga and ledger events since the
--- window opened, snapshots at quiescence, read-model samples of the given
--- addresses and the failure counters' change over the window.
function Window:saga(o)
  o = o or {}
  local sys = self.sys
  local quiet = self:quiesce(o.wait or 15)
  local evs = {}
  self:feed("remittance", evs)
  self:feed("money", evs)
  if o.bank_total == nil then o.bank_total = self.bank_total end
  local ms, bs = M.snapshots(sys, { quiescent = quiet, bank_total = o.bank_total })
  evs[#evs + 1] = ms
  evs[#evs + 1] = bs
  local cfg = { deadline_ms = o.deadline_ms, grace_ms = o.grace_ms, cqrs_lag_ms = o.cqrs_lag_ms or 1000,
                bank_total = o.bank_total, bank_corp_initial = o.bank_corp_initial }
  if quiet and (o.addresses or o.counters) then
    local tq = now_ns()
    evs[#evs + 1] = { event = "quiescence", t = tq }
    local lag = cfg.cqrs_lag_ms / 1000
    fl.sleep(lag + 0.05)
    for addr, ids in pairs(o.addresses or {}) do
      local q = http.get(sys:url("query", "/money/query/get-money-sum-by-address/" .. addr)).json
      local sum = 0
      for _, id in ipairs(ids) do sum = sum + sys:balance(id) end
      local g = http.post(sys:url("gateway", "/money/aggregation/get-money-sum-by-address"),
        { json = { address = addr } }).json
      evs[#evs + 1] = { event = "cqrs_sample", t = now_ns(), address = addr,
                        read_model = q and q.sum or -1, wallet_sum = sum,
                        aggregation = g and g.sum or nil }
    end
    if o.counters and self.counts0 then
      local now = M.failure_counts(sys)
      local delta = {}
      for reason, n in pairs(now) do
        local d = n - (self.counts0[reason] or 0)
        if d ~= 0 then delta[reason] = d end
      end
      evs[#evs + 1] = { event = "failure_counts", t = now_ns(), counts = delta }
    end
  end
  -- o.links: the proxy's exchanges on these links (names, or true: every
  -- link) since the window opened, for S7 (step outcomes against the wire)
  local links = o.links == true and sys.links or {}
  if type(o.links) == "table" then
    for _, name in ipairs(o.links) do links[name] = true end
  end
  for name in pairs(links) do
    local ok, xs = pcall(function() return sys:link(name):events{ since = 0, limit = 100000 } end)
    for _, e in ipairs(ok and xs or {}) do
      if e.event == "http_exchange" and (e.start or 0) >= self.t0 then
        e.link = name
        evs[#evs + 1] = e
      end
    end
  end
  for _, e in ipairs(self.events) do evs[#evs + 1] = e end
  local file = combined(self, "saga", "all", evs)
  self.files = self.files or {}
  self.files.saga = file
  return fl.check.run("saga", file, cfg)
end

--- win:breaker(service, name [, {link=, fresh=, overrides...}]) -> breaker checker
--- result for breaker `name` of `service` over the window: the service's
--- breaker events, the proxy link's exchanges (the calls that reached the
--- downstream) and the clients' operations; configuration from /breakers.
--- fresh = true: the service was restarted right before the window opened,
--- so the replay starts at the window (an empty breaker).
function Window:breaker(service, name, o)
  o = o or {}
  local sys = self.sys
  local b = sys:breaker(service, name)
  if not b then error("no breaker " .. name .. " on " .. service, 2) end
  local cfg = {}
  for k, v in pairs(b.config) do cfg[k] = v end
  for k, v in pairs(o) do if k ~= "link" and k ~= "fresh" then cfg[k] = v end end
  -- The replay must start where the service's window was empty: at the
  -- breaker's last transition to CLOSED before the window opened (or at
  -- the beginning), not in the middle of a CLOSED episode whose earlier
  -- outcomes the breaker still counts.
  local mine = {}
  for _, e in ipairs(M.feed(sys, service, 0)) do
    if (e.type == "breaker_call" or e.type == "breaker_transition") and e.breaker == name then
      mine[#mine + 1] = e
    end
  end
  -- A restarted service has a fresh breaker: its epoch (bumped at every
  -- transition, carried by every event but a stale call's) starts over.
  -- Each lifetime is replayed on its own, from its first event.
  local lives, maxep = {}, nil
  local from_t, first = 0, 1
  for i, e in ipairs(mine) do
    local ep = math.tointeger(e.epoch)
    if ep and e.stale ~= true then
      if maxep and ep < maxep then
        local t_life = (e.t or 0) - math.floor((e.duration_ms or 0) * 1e6) - 1
        lives[#lives + 1] = t_life
        if t_life < self.t0 and not o.fresh then from_t, first = t_life, i end
      end
      maxep = ep
    end
    if o.fresh then
      -- the service was (re)started just before the window opened: its
      -- breaker starts empty, and earlier lifetimes are not this one's
      if (e.t or 0) < self.t0 then from_t, first = self.t0, i + 1 end
    elseif e.type == "breaker_transition" and e.to == "CLOSED" and (e.t or 0) < self.t0 then
      from_t, first = e.t, i + 1
    end
  end
  local link = o.link ~= false and (o.link or name) or nil
  local exchanges, toxics = {}, {}
  if link and sys.links[link] and sys.proxy_api then
    local ok, evs = pcall(function() return sys:link(link):events{ since = 0, limit = 10000 } end)
    for _, e in ipairs(ok and evs or {}) do
      if e.event == "http_exchange" and (e.start or 0) > from_t then
        e.link = link
        exchanges[#exchanges + 1] = e
      elseif e.event == "toxic_added" or e.event == "toxic_removed" then
        -- the link's own fault records (C8 judges no call under a fault
        -- below HTTP): every one, also from before the replay starts
        toxics[#toxics + 1] = e
      end
    end
    cfg.link = link
  end
  cfg.name = name
  -- A killed service comes back with fresh breakers: each lifetime of the
  -- process is replayed on its own (split at the kills in the history and
  -- where the breaker's epoch started over).
  local cuts = {}
  local hf = io.open(self.path, "r")
  if hf then
    for line in hf:lines() do
      if line:find('"event":"process"', 1, true) and line:find('"action":"killed"', 1, true) then
        local ok, e = pcall(json.decode, line)
        if ok and e.service == service and e.t then cuts[#cuts + 1] = e.t end
      end
    end
    hf:close()
  end
  for _, c in ipairs(lives) do cuts[#cuts + 1] = c end
  table.sort(cuts)
  local bounds = { from_t }
  for _, c in ipairs(cuts) do if c > from_t then bounds[#bounds + 1] = c end end
  bounds[#bounds + 1] = math.maxinteger
  local result
  self.files = self.files or {}
  for seg = 1, #bounds - 1 do
    local a, b = bounds[seg], bounds[seg + 1]
    local evs = {}
    for i = first, #mine do
      local t = mine[i].t or 0
      if t >= a and t < b then evs[#evs + 1] = mine[i] end
    end
    for _, e in ipairs(exchanges) do
      if e.start >= a and e.start < b then evs[#evs + 1] = e end
    end
    -- (a segment with neither is the service's down time between a kill
    -- recorded once the process was gone and its next lifetime's first
    -- event: nothing to check there)
    local empty = #evs == 0
    for _, e in ipairs(toxics) do evs[#evs + 1] = e end
    for _, e in ipairs(self.events) do evs[#evs + 1] = e end
    local label = #bounds > 2 and (name .. "-life" .. seg) or name
    if not (empty and (result or seg < #bounds - 1)) then
      local file = combined(self, "breaker", label, evs)
      self.files["breaker " .. label] = file
      local cf = io.open(file:gsub("%.jsonl$", ".config.json"), "w")
      if cf then cf:write(json.encode(cfg)); cf:close() end
      local r = fl.check.run("breaker", file, cfg, name)
      -- a lifetime too short to check anything (a coordinator killed again
      -- while it recovered: a call or two) decides nothing either way
      local nothing = r.valid ~= true and r.valid ~= false
      for _, v in pairs(r.invariants or {}) do
        if v.state ~= "not checked" then nothing = false end
      end
      if not result or (result.valid == true and r.valid ~= true and not nothing)
         or (result.valid ~= true and result.valid ~= false and r.valid == false) then
        result = r
      end
    end
  end
  return result
end

--- win:probes(service, cfg [, prober]) -> probe checker result over the
--- window's history plus the prober's events
function Window:probes(service, cfg, prober)
  local evs = {}
  if prober then for _, e in ipairs(prober:events()) do evs[#evs + 1] = e end end
  for _, e in ipairs(self.events) do evs[#evs + 1] = e end
  local c = {}
  for k, v in pairs(cfg or {}) do c[k] = v end
  c.service = service
  local file = combined(self, "probe", service, evs)
  self.files = self.files or {}
  self.files["probe " .. service] = file
  return fl.check.run("probe", file, c)
end

--- win:process(service, action [, extra]) records a process event
--- ("sigterm", "exited", "started", "killed", "paused", "resumed")
function Window:process(service, action, extra)
  local ev = { event = "process", service = service, action = action }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return self:event(ev)
end

--- win:fault(action, what, target [, id]) records a fault window edge
function Window:fault(action, what, target, id)
  return self:event{ event = "fault", action = action, what = what, target = target, id = id }
end

--- exit_status(sys, service) -> {exit=, signal=} of the service's last run, or nil
function M.exit_status(sys, service)
  local s = sys.services[service]
  local text = s and s.exit_file and read_file(s.exit_file)
  if not text or text == "" then return nil end
  local ok, v = pcall(json.decode, text)
  return ok and v or nil
end

--- wait_exit(sys, service [, within]) -> exit status once the process is gone
function M.wait_exit(sys, service, within)
  local deadline = fl.now() + (within or 20)
  repeat
    if not sys:alive(service) then
      for _ = 1, 50 do
        local st = M.exit_status(sys, service)
        if st then return st end
        fl.sleep(0.02)
      end
      return {}
    end
    fl.sleep(0.02)
  until fl.now() > deadline
  return nil
end

-- ------------------------------------------------------------------ verdicts
local function append_line(path, obj)
  local f = io.open(path, "a")
  if not f then return end
  f:write(json.encode(obj), "\n")
  f:close()
end

--- verify(test, {label = result, ...}) -> raises one failure naming every
--- checker that is not valid with its failed invariants; with
--- -e FL_VERDICTS=FILE appends {test, label, checker, valid, failed, unknown}
--- per checker to FILE (the planted-bug matrix reads it)
function M.verify(test, results)
  local labels = {}
  for label in pairs(results) do labels[#labels + 1] = label end
  table.sort(labels)
  local bad = {}
  for _, label in ipairs(labels) do
    local r = results[label]
    local failed, unknown = {}, {}
    for id, v in pairs(r.invariants or {}) do
      if (v.count or 0) > 0 then failed[#failed + 1] = id end
      if v.state == "unknown" then unknown[#unknown + 1] = id end
    end
    table.sort(failed)
    table.sort(unknown)
    if fl.env.FL_VERDICTS then
      append_line(fl.env.FL_VERDICTS, { file = fl.file, test = test, label = label,
        checker = r.checker, valid = r.valid, failed = json.array(failed),
        unknown = json.array(unknown) })
    end
    if r.valid ~= true then
      local ok, err = pcall(r.ok, r)
      local msg = ok and "" or (type(err) == "table" and err.message or tostring(err))
      bad[#bad + 1] = string.format("[%s] %s", label, msg)
      io.stderr:write(r.text or "", "\n")
    end
  end
  if #bad > 0 then fl.fail(table.concat(bad, "\n")) end
end

-- ------------------------------------------------------------------ workload
local DEFAULT_MIX = { transfer = 5, external = 2, topup = 2, read = 2 }

local function pick(mix)
  local total = 0
  for _, w in pairs(mix) do total = total + w end
  local x = fl.random() * total
  local names = {}
  for k in pairs(mix) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    x = x - mix[k]
    if x < 0 then return k end
  end
  return names[#names]
end

local function no_step_attempted(j)
  for _, s in ipairs(j.steps or {}) do
    if (s.attempts or 0) > 0 then return false end
  end
  return true
end

-- Classify a saga answer into a history op type and value.
local TERMINAL = { COMPLETED = true, COMPENSATED = true, FAILED = true, STUCK = true }

-- With o.poll (s): the request was sent without waiting; poll the saga until
-- it is terminal or the time is up, and answer as if the service had waited.
local function settle(sys, r, o)
  if not o.poll or r.status == 0 or not r.json or not r.json.saga_id then return r end
  local deadline = fl.now() + o.poll
  local j = r.json
  while not TERMINAL[j.state] and fl.now() < deadline do
    fl.sleep(0.1)
    local q = http.get(sys:url("remittance", "/remittance/request/" .. j.saga_id),
      { timeout = 2, raise = false })
    if q.status == 200 and q.json then j = q.json end
  end
  return { status = TERMINAL[j.state] and 200 or 202, json = j, polled = true }
end

-- Classify a saga answer into an operation kind ("ok"|"fail"|"info"),
-- filling value with what the service said.
local function classify(value, r)
  if r.status == 0 then
    value.error = r.error_code or r.error or "transport"
    return "info"
  end
  value.status = r.status
  local j = r.json or {}
  value.saga_id, value.state = j.saga_id, j.state
  if j.reason and j.reason ~= "" then value.reason = j.reason end
  if r.status == 200 and j.state == "COMPLETED" then
    return "ok"
  elseif r.status == 200 and (j.state == "FAILED" or j.state == "COMPENSATED") then
    return "fail"
  elseif r.status >= 400 and r.status < 500 then
    value.error = j.error or ("HTTP " .. r.status)
    return "fail"
  end
  if j.state == "DEFERRED" and (r.polled or not no_step_attempted(j)) then value.reason = "deferred" end
  return "info"
end

-- POST a saga request. With o.resend, a request whose connection was
-- refused (it never reached the service: down, restarting, drained) is
-- sent again, same Idempotency-Key, every 0.1 s until its timeout is
-- spent: the client keeps going through a restart instead of giving up at
-- the first refusal. Any other outcome (an answer, a reset, a timeout) is
-- the call's.
local function post_saga(url, req, o)
  local budget = o.timeout or 6
  local deadline = fl.now() + budget
  local r
  repeat
    req.timeout = math.max(0.5, deadline - fl.now())
    r = http.post(url, req)
    if not o.resend or r.status ~= 0 or r.error_code ~= "ECONNREFUSED" then return r end
    fl.sleep(0.1)
  until fl.now() + 0.6 >= deadline
  return r
end

local function transfer_call(sys, o)
  local body = { fromMembershipId = o.from, amount = o.amount, wait = o.wait,
                 deadlineMs = o.deadline_ms }
  if o.poll then body.wait = false end
  if o.to then
    body.toMembershipId, body.remittanceType = o.to, 0
  else
    body.toBankName, body.toBankAccountNumber, body.remittanceType = o.bank, o.account, 1
  end
  local r = post_saga(sys:url("remittance", "/remittance/request"),
    { json = body, headers = o.key and { ["Idempotency-Key"] = o.key } or nil, raise = false }, o)
  r = settle(sys, r, o)
  local v = { key = o.key, from = o.from, to = o.to, amount = o.amount }
  return classify(v, r), v, r
end

local function topup_call(sys, o)
  local wait = o.wait
  if o.poll then wait = false end
  local r = post_saga(sys:url("remittance", "/topup/request"),
    { json = { membershipId = o.member, amount = o.amount, wait = wait, deadlineMs = o.deadline_ms },
      headers = o.key and { ["Idempotency-Key"] = o.key } or nil, raise = false }, o)
  r = settle(sys, r, o)
  local v = { key = o.key, member = o.member, amount = o.amount }
  return classify(v, r), v, r
end

local function read_call(sys, member, timeout)
  local r = http.get(sys:url("money", "/money/" .. member), { timeout = timeout, raise = false })
  if r.status == 200 and r.json then
    return "ok", { member = member, service = "money", status = 200, balance = r.json.balance }
  elseif r.status == 0 then
    return "info", { member = member, service = "money", error = r.error_code or r.error }
  end
  return "fail", { member = member, service = "money", status = r.status }
end

--- transfer(sys, h, client, {from=, to= | bank=, account=, amount=, key=,
--- timeout=, wait=, poll=}) -> kind ("ok"|"fail"|"info"), response: one client
--- operation recorded in history h; with poll = s the request does not wait
--- and the saga is polled for up to s seconds
function M.transfer(sys, h, client, o)
  local v = { key = o.key, from = o.from, amount = o.amount }
  if o.to then v.to = o.to else v.bank, v.account = o.bank, o.account end
  h:invoke(client, "transfer", v)
  local kind, value, r = transfer_call(sys, o)
  h[kind](h, client, "transfer", value)
  return kind, r
end

--- topup(sys, h, client, {member=, amount=, key=, timeout=, wait=, poll=}) -> kind, response
function M.topup(sys, h, client, o)
  h:invoke(client, "topup", { key = o.key, member = o.member, amount = o.amount })
  local kind, value, r = topup_call(sys, o)
  h[kind](h, client, "topup", value)
  return kind, r
end

-- ------------------------------------------------------- clients (any system)
local KINDS = { ok = true, fail = true, info = true }

--- clients(o) -> stats {ops, ok, fail, info, by_f, per_client, latency,
--- latency_all, planned, sent, dropped, target_rate, achieved_rate, held,
--- lag_p99}: o.clients (4) clients run operations at o.rate per second over
--- all clients (20) for o.duration seconds (10) -- or ramped by o.stages
--- ({{duration=, target=}, ...}, k6's ramping arrival rate, from
--- o.start_rate or 0) -- or until o.stop() is true, recording each in
--- o.history (required) as invoke, then ok / fail / info. An open model
--- (faultline.rate): operation k is due at its planned time whatever the
--- earlier ones did, and its latency is counted from that time, so a slow
--- system's queueing shows (coordinated omission corrected); a rate that
--- could not be held is said on stderr (stats.held false), or fails the run
--- with o.allow_miss = false. o.ops: {name = op}, an op either function(c)
--- -> kind, value, or {invoke = function(c) -> input, run = function(c,
--- input) -> kind, value, name = the f recorded (default: its key)}; c is
--- {client=, n=, f=}. An op that raises is recorded as info with the error
--- (it may or may not have taken effect). o.mix: {name = weight} (default 1
--- each); every draw comes from fl.random, so --seed replays the choices.
--- Latency over all operations also goes into the fl.metrics histogram
--- o.name ("workload_latency"); o.thresholds ({"p(99) < 0.5", ...}) fail
--- the test when crossed, as fl.rate's do.
--- o.threads = N (1): the clients spread over N worker threads
--- (faultline.load: the ops travel as code, their upvalues as data;
--- each worker draws from its own seeded stream); results merge.
function M.clients(o)
  assert(type(o) == "table" and o.history and type(o.ops) == "table",
    "workload.clients: needs {history=, ops={name = function(c) ... end}}")
  local mix = o.mix
  if not mix then
    mix = {}
    for name in pairs(o.ops) do mix[name] = 1 end
  end
  for name in pairs(mix) do
    if not o.ops[name] then error("workload.clients: mix names no op '" .. tostring(name) .. "'", 2) end
  end
  local rate = require "faultline.rate"
  local clients = o.clients or 4
  assert(math.type(clients) == "integer" and clients > 0, "workload.clients: clients must be a positive integer")
  local threads = o.threads or 1
  assert(math.type(threads) == "integer" and threads >= 1, "workload.clients: threads must be a positive integer")
  threads = math.min(threads, clients)
  local sched = rate.schedule(o.stages and { stages = o.stages, start_rate = o.start_rate }
    or { rate = o.rate or 20, duration = o.duration or 10 })
  local start = fl.now() + (threads > 1 and 0.05 or 0.01) -- time for the workers to start
  local spec = { history = o.history, ops = o.ops, mix = mix, clients = clients, sched = sched,
                 start = start }
  local stats
  if threads > 1 then
    local per = require("faultline.load").run(threads, M._clients_worker, spec,
      { stop = o.stop, what = "the worker", what_arg = "the workload's ops", every = 0.1,
        progress = function(ops, errors)
          fl.progress{ what = "workload", total = sched.T, ops = ops, errors = errors }
        end })
    stats = per[1]
    for i = 2, #per do M._merge_stats(stats, per[i]) end
  else
    stats = M._clients_run(spec, 1, clients, o.stop, true)
  end
  fl.progress(nil)
  local acc = stats.acc
  stats.acc = nil
  local name = o.name or "workload_latency"
  require("faultline.metrics").hist(name).hist:merge(stats.latency_all)
  if stats.stopped then
    stats.planned, stats.sent = sched.planned, acc.sent
  else
    local v = rate.verdict(sched, start, acc, { allow_miss = o.allow_miss ~= false }, "workload")
    for _, k in ipairs{ "planned", "sent", "dropped", "target_rate", "achieved_rate", "held", "lag_p99" } do
      stats[k] = v[k]
    end
  end
  if o.thresholds then require("faultline.metrics").check{ [name] = o.thresholds } end
  return stats
end

-- Clients first..last of a workload (spec from clients): stats with the
-- sender tally in stats.acc. In the main thread or a worker.
function M._clients_run(spec, first, last, stop, progress)
  local rate = require "faultline.rate"
  local h, ops, mix = spec.history, spec.ops, spec.mix
  local count = require("faultline.load").count
  -- latency recorded as the workload runs: one HDR-style histogram per
  -- operation and one over all (stats.latency[name], stats.latency_all)
  local acc = rate.tally()
  local stats = { ok = 0, fail = 0, info = 0, ops = 0, by_f = {}, latency = {}, latency_all = fl.hist(),
                  per_client = {}, acc = acc }
  local total = spec.sched.T
  local function stopped()
    if stop and stop() then stats.stopped = true end
    return stats.stopped
  end

  local function one(client, n, intended)
    local f = pick(mix)
    local op = ops[f]
    local c = { client = client, n = n, f = f }
    local input = type(op) == "table" and op.invoke and op.invoke(c) or nil
    local name = type(op) == "table" and op.name or f
    h:invoke(client, name, input or {})
    local run = type(op) == "table" and op.run or op
    local ok, kind, value = pcall(run, c, input)
    local dt = math.max(0, fl.now() - intended)
    if not ok then
      kind, value = "info", { error = tostring(kind) }
    elseif not KINDS[kind] then
      value = { error = "op returned " .. tostring(kind) .. " (want ok, fail or info)", value = value }
      kind = "info"
    end
    h[kind](h, client, name, value or {})
    stats.ops = stats.ops + 1
    stats[kind] = stats[kind] + 1
    stats.by_f[name] = (stats.by_f[name] or 0) + 1
    stats.latency[name] = stats.latency[name] or fl.hist()
    stats.latency[name]:record(dt)
    stats.latency_all:record(dt)
    if progress then
      fl.progress{ what = "workload", total = total, ops = stats.ops, errors = stats.fail + stats.info }
    else
      count(1, kind == "ok" and 0 or 1) -- the main thread's progress display
    end
  end

  local tasks = {}
  for j = first, last do
    stats.per_client[j] = 0
    tasks[#tasks + 1] = fl.spawn(function()
      rate.client(spec.sched, spec.start, j, spec.clients, function(_, intended)
        local n = stats.per_client[j] + 1
        stats.per_client[j] = n
        one(j, n, intended)
      end, acc, stopped)
    end)
  end
  if #tasks > 0 then fl.join(table.unpack(tasks)) end
  return stats
end

-- A worker thread's share of the clients (faultline.load).
function M._clients_worker(i, n, spec)
  local load = require "faultline.load"
  local first, last = load.split(spec.clients, n, i)
  return M._clients_run(spec, first, last, load.stopping, false)
end

-- Worker b's stats added to a's.
function M._merge_stats(a, b)
  for _, k in ipairs{ "ok", "fail", "info", "ops" } do a[k] = a[k] + b[k] end
  for f, c in pairs(b.by_f) do a.by_f[f] = (a.by_f[f] or 0) + c end
  for f, hb in pairs(b.latency) do
    if a.latency[f] then a.latency[f]:merge(hb) else a.latency[f] = hb end
  end
  for j, c in pairs(b.per_client) do a.per_client[j] = c end
  a.stopped = a.stopped or b.stopped
  a.latency_all:merge(b.latency_all)
  require("faultline.rate").add(a.acc, b.acc)
end

--- run(sys, o) -> stats. o: members (list from sys:member, at least 2),
--- clients (4), duration (s, 10), rate (operations per second over all
--- clients, 20), mix ({transfer=, external=, topup=, read=} weights),
--- amount ({min, max}), big (share of requests for 100 times the amount,
--- which the sender or the bank usually cannot cover; 0.1), accounts (external destinations {bank=, account=}),
--- history (a recorder; required), tag (key prefix), timeout (s per request,
--- 6), poll (s a client follows its saga after a non-waiting request, 4;
--- false: the service waits), snapshot_every (s between money/bank snapshots into the history;
--- 0 = none), bank_total (initial total for bank snapshots), short
--- ({share=, ms={min, max}}: that share of sagas asks for a deadlineMs in
--- that range), stop (a function returning true to stop early), resend
--- (true: a transfer or top-up whose connection was refused is sent again
--- with its key until its timeout is spent, so clients keep going through
--- restarts; reads are not resent: a refused read is the service's answer)
function M.run(sys, o)
  assert(type(o) == "table" and o.history, "workload.run: needs {history=, members=}")
  local members = assert(o.members, "workload.run: needs members")
  assert(#members >= 2, "workload.run: needs at least 2 members")
  local h = o.history
  local mix = o.mix or DEFAULT_MIX
  local amin, amax = (o.amount or {})[1] or 1000, (o.amount or {})[2] or 30000
  local timeout = o.timeout or 6
  local poll = o.poll == nil and 4 or o.poll
  local big = o.big or 0.1
  if poll == false then poll = nil end
  local tag = o.tag or ("wl" .. tostring(fl.seed or 0))
  local accounts = o.accounts or {}
  -- the draws of one operation, in the order they always were made
  local function draw(c, f)
    local amount = fl.random(amin, amax)
    if f ~= "read" and fl.random() < big then amount = amount * 100 end
    local fi = fl.random(#members)
    local in_ = { key = string.format("%s-%d-%d", tag, c.client, c.n), amount = amount,
                  from = members[fi].id, timeout = timeout, poll = poll, resend = o.resend }
    -- o.short = {share=, ms={min, max}}: that share of sagas asks for a
    -- short deadline (deadlineMs), so deadlines expire under the faults
    if o.short and f ~= "read" and fl.random() < (o.short.share or 0.2) then
      in_.deadline_ms = fl.random(o.short.ms[1], o.short.ms[2])
    end
    if f == "transfer" then
      local ti = fl.random(#members - 1)
      if ti >= fi then ti = ti + 1 end
      in_.to = members[ti].id
    elseif f == "external" then
      local acct = accounts[fl.random(#accounts)]
      in_.bank, in_.account = acct.bank, acct.account
    end
    return in_
  end
  local function invoke_value(f, i)
    if f == "read" then return { member = i.from, service = "money" } end
    if f == "topup" then return { key = i.key, member = i.from, amount = i.amount } end
    local v = { key = i.key, from = i.from, amount = i.amount }
    if i.to then v.to = i.to else v.bank, v.account = i.bank, i.account end
    return v
  end
  local inputs = {}
  local function op(f)
    if f == "external" and #accounts == 0 then f = "transfer" end
    return {
      name = (f == "external") and "transfer" or f,
      invoke = function(c)
        local i = draw(c, f)
        inputs[c] = i
        return invoke_value(f, i)
      end,
      run = function(c)
        local i = inputs[c]
        inputs[c] = nil
        if f == "read" then return read_call(sys, i.from, timeout) end
        if f == "topup" then
          local kind, v = topup_call(sys, { key = i.key, member = i.from, amount = i.amount,
                                            timeout = timeout, poll = poll, resend = i.resend,
                                            deadline_ms = i.deadline_ms })
          return kind, v
        end
        local kind, v = transfer_call(sys, i)
        return kind, v
      end,
    }
  end
  local ops = { transfer = op("transfer"), external = op("external"), topup = op("topup"),
                read = op("read") }

  local stop_all = false
  local tasks = {}
  if (o.snapshot_every or 0) > 0 then
    local t_end = fl.now() + (o.duration or 10)
    tasks[#tasks + 1] = fl.spawn(function()
      while not (stop_all or fl.now() >= t_end or (o.stop and o.stop())) do
        fl.sleep(o.snapshot_every)
        local ok, ms, bs = pcall(M.snapshots, sys, { bank_total = o.bank_total })
        if ok then h:event(ms); h:event(bs) end
      end
    end)
  end
  local stats = M.clients{ history = h, clients = o.clients, duration = o.duration, rate = o.rate,
                           mix = mix, ops = ops, stop = o.stop }
  stop_all = true
  if #tasks > 0 then fl.join(table.unpack(tasks)) end
  return stats
end

return M
