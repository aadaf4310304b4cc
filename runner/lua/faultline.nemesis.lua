-- faultline.nemesis: a random, seeded fault schedule over any system's
-- links and processes (fl.nemesis), Jepsen's nemesis.
--
--   local sys = fl.sys.open()                -- or fl.ref.system()
--   local nem = fl.nemesis.new(sys, { history = h })
--   nem:plan(10)           -- draw the schedule now (deterministic by seed)
--   nem:run(10)            -- faults for 10 s, one at a time, then heals
--   nem:heal()             -- removes everything still in effect
--   nem.log                -- the faults applied, in order
--
-- Faults: latency, slow (latency past the caller's timeout), http_abort
-- (5xx) and client_error (4xx) before the request reaches the service,
-- http_drop_response (the answer lost after it was applied), late (the
-- request held past the caller's timeout, then delivered), reset
-- (reset_peer), partitions (link down) and flaps (down while requests are
-- in flight) on the system's fault-injector links; kill
-- (SIGKILL, then a restart), term (SIGTERM under the clients' load: the
-- service drains and exits, its exit is recorded, then a restart),
-- recovery_restart (killed, started, killed again while its startup
-- recovery runs, then started) and pause (SIGSTOP/SIGCONT) of a service; on the reference system also the
-- simulated bank's own chaos. Every link fault goes through fl.proxy, so it
-- is held under the controller's lease: if the runner dies, the agent
-- removes it once the lease lapses. Each fault window is recorded in the
-- history as {"event":"fault","action":"added"|"removed","what":..,
-- "target":..,"id":..}, and kills/terms/pauses also as process events.
-- Every choice comes from fl.random, so --seed replays the schedule.
--
-- Host faults (kernel-level, docs/agent.md) come from a fleet of agents,
-- one per host, given as {fleet = fl.fleet...}: partitions between two hosts
-- (two-way or one-way), packet loss toward a host, a bandwidth limit (tbf)
-- and kill/term/pause of a host's processes by name. A step is
-- fleet:only(host):fault{..., ttl_ms = the step's hold} when it starts and
-- group:heal() when it ends; the fleet's lease heals every agent if the
-- runner dies. nem:plan records the schedule in the history (one
-- "nemesis_plan" event a step, no clock in it), so two runs compare.
local fl = require "faultline"

local M = {}
local Nemesis = {}
Nemesis.__index = Nemesis

-- the reference system's defaults (its schedules stay what they were)
local REF_LINKS = { "remittance->money", "remittance->banking", "remittance->membership",
                    "banking->extbank" }
local REF_KINDS = { latency = 3, http_abort = 2, http_drop_response = 2, partition = 2,
                    kill = 1, pause = 1, bank = 2 }
-- recovery_restart on the reference system: the coordinator, whose
-- startup probe says when its recovery of in-doubt sagas is over, with
-- its calls to money slowed while it recovers (so recovery takes a while).
local REF_RECOVERY = { remittance = { startup = "/startupz", slow = "remittance->money" } }

-- any other system's
local KINDS = { latency = 3, http_abort = 2, http_drop_response = 1, reset = 1, partition = 2,
                kill = 1, term = 1, pause = 1 }
M.KINDS = KINDS
-- host faults, on a fleet's agents ({fleet =})
local HOST_KINDS = { host_partition = 3, host_loss = 2, host_bandwidth = 2, host_pause = 1,
                     host_kill = 1, host_term = 1 }
M.HOST_KINDS = HOST_KINDS
-- the process actions of the host_ kinds; kill and term hold nothing
local HOST_PROCESS = { host_kill = "kill", host_term = "term", host_pause = "pause" }

local function now_ns() return math.floor(fl.now() * 1e9) end

local function is_ref(sys) return sys ~= nil and type(sys.chaos) == "function" end

local function default_kinds(sys, fleet)
  local base = (sys == nil and {}) or (is_ref(sys) and REF_KINDS) or KINDS
  if not fleet then return base end
  local k = {}
  for n, w in pairs(base) do k[n] = w end
  for n, w in pairs(HOST_KINDS) do k[n] = w end
  return k
end

--- new(sys, o) -> nemesis. sys may be nil when o.fleet is given. o: history
--- (recorder, required), links (names; default: every link of the system),
--- kill, term, pause (services that may be killed, terminated, paused;
--- default: every started service), recovery_restart (services that may be
--- killed and restarted while recovering; on the reference system
--- remittance, else none), recovery ({service = {startup = path of its
--- startup probe, slow = a link slowed while it recovers}}), kinds ({kind = weight}; default KINDS,
--- plus HOST_KINDS with a fleet; link kinds: latency, slow, http_abort,
--- client_error, http_drop_response, late, reset, partition, flap; on the
--- reference system also bank and compensation_storm), min/max (s a fault
--- lasts, 0.5/2), gap (s between faults, 0.3), ready_wait (s a restarted
--- service is waited for to be ready before the fault ends, 10), refund_link ({link=, path=,
--- reject=}: compensation_storm refuses the compensations, path, with 409
--- or 423 and reject with 422 on that link); host faults: fleet (an fl.fleet), hosts (agent
--- names; default: all), addresses ({host = address}; default: the host of
--- each agent's URL), dev (the interface of bandwidth faults, "eth0"),
--- processes ({host = {comm, ...}}: what host_kill/term/pause may signal),
--- targets ({host = {pid=} | {netns=}}: network faults act in that namespace)
function M.new(sys, o)
  o = o or {}
  assert(o.history, "nemesis.new: needs {history=}")
  assert(sys or o.fleet, "nemesis.new: needs a system or {fleet=}")
  local ref = is_ref(sys)
  local started = sys and sys.started and sys:started() or {}
  local hosts = o.hosts or (o.fleet and o.fleet:names()) or {}
  local addresses = {}
  for _, h in ipairs(hosts) do
    addresses[h] = o.addresses and o.addresses[h] or o.fleet:address(h)
  end
  return setmetatable({
    sys = sys, h = o.history,
    links = o.links or (ref and REF_LINKS) or (sys and sys:link_names()) or {},
    kill = o.kill or (ref and { "money", "extbank", "membership", "remittance" }) or started,
    term = o.term or started,
    pause = o.pause or (ref and { "money", "banking", "extbank" }) or started,
    recovery_restart = o.recovery_restart or (ref and { "remittance" }) or {},
    recovery = o.recovery or (ref and REF_RECOVERY) or {},
    kinds = o.kinds or default_kinds(sys, o.fleet),
    fleet = o.fleet, hosts = hosts, addresses = addresses, dev = o.dev or "eth0",
    processes = o.processes or {}, targets = o.targets or {},
    min = o.min or 0.5, max = o.max or 2, gap = o.gap or 0.3,
    ready_wait = o.ready_wait or 10,
    -- compensation_storm's refunds (the reference system's by default)
    refund_link = o.refund_link or (ref and { link = "remittance->money", path = "/money/refund",
                                              reject = "/money/credit" }) or nil,
    log = {}, n = 0, active = nil,
  }, Nemesis)
end

local function pick(weights)
  local names, total = {}, 0
  for k, w in pairs(weights) do
    if w > 0 then names[#names + 1] = k; total = total + w end
  end
  table.sort(names)
  local x = fl.random() * total
  for _, k in ipairs(names) do
    x = x - weights[k]
    if x < 0 then return k end
  end
  return names[#names]
end

function Nemesis:record(action, what, target, id, extra)
  local ev = { event = "fault", action = action, what = what, target = target, id = id, t = now_ns() }
  for k, v in pairs(extra or {}) do ev[k] = v end
  self.h:event(ev)
end

-- The process faults: the signal sent (a fl.sys method), the action the
-- history records, and how the fault ends (a restart, or SIGCONT). A kill
-- is recorded once the process is gone (a breaker checker starts the
-- service's next lifetime there: nothing the dying process wrote may come
-- after it), with `signalled`, when the signal was sent (the probe checker
-- counts the process down from there); a SIGTERM before it is sent, and its exit ("exited", with the
-- code) once the process has drained and ended, before the restart.
local PROCESS = {
  kill = { send = "kill", sent = "killed", after = true },
  term = { send = "terminate", sent = "sigterm", drain = true },
  pause = { send = "pause", sent = "paused", resume = true },
}
M.GRACE = 15 -- s a SIGTERMed service may take to drain and exit

-- Wait (without blocking other tasks) up to `within` s until the service's
-- process is gone; with `exited`, record its exit in the history.
local function wait_gone(self, service, within, exited)
  local sys = self.sys
  local deadline = fl.now() + within
  while sys:alive(service) do
    if fl.now() > deadline then return false end
    fl.sleep(0.02)
  end
  if exited then
    local st
    for _ = 1, 25 do
      local ok, x = pcall(sys.exit_status, sys, service)
      st = ok and x or nil
      if st then break end
      fl.sleep(0.02)
    end
    st = st or {}
    self.h:event{ event = "process", service = service, action = "exited",
                  exit_code = st.exit or -1, signal = st.signal, t = now_ns() }
  end
  return true
end

-- Start a stopped service again ("started" recorded just before: what the
-- new process writes belongs to its lifetime) and wait (without blocking
-- other tasks) until it is ready, unless nowait.
local function restart(self, service, nowait)
  local sys = self.sys
  wait_gone(self, service, 2)
  self.h:event{ event = "process", service = service, action = "started", t = now_ns() }
  local ok, err = pcall(sys.restart_nowait, sys, service)
  if not ok then return nil, err end
  if not nowait then sys:wait_ready(service, self.ready_wait) end
  return true
end

-- The HTTP toxics a link fault kind adds, by kind: its toxic type and
-- attributes (drawn). Besides Toxiproxy's, the kinds name where the call
-- fails: before the request reaches the service (http_abort: 5xx, or
-- client_error: 4xx, answered by the proxy; reset; partition), after it
-- was applied (http_drop_response: the answer is lost), slowness beyond the
-- caller's timeout (slow), and late delivery (late: a request that arrives
-- while the fault is on is held 2.5-3 s, past its caller's 2 s timeout,
-- and then delivered, whenever the fault ends).
local LINK_KINDS = {
  latency = function() return "latency", { latency = fl.random(50, 400), jitter = fl.random(0, 50) } end,
  slow = function() return "latency", { latency = fl.random(2500, 3500) } end,
  http_abort = function()
    return "http_abort", { status = fl.random.choice({ 500, 502, 503 }), probability = fl.random(3, 10) / 10 }
  end,
  client_error = function()
    return "http_abort", { status = fl.random.choice({ 400, 409, 422 }), probability = fl.random(5, 10) / 10 }
  end,
  http_drop_response = function() return "http_drop_response", { probability = fl.random(2, 6) / 10 } end,
  late = function() return "http_delay", { delay = fl.random(2500, 3000), method = "POST" } end,
  reset = function() return "reset_peer", { timeout = fl.random(0, 200) } end,
}
M.LINK_KINDS = LINK_KINDS

local BANK_CHAOS = { { error_rate = 0.5 }, { reject_rate = 0.5 }, { timeout_after_apply = 0.5 },
                     { latency_ms = 300 }, { timeout_before_apply = 0.5 } }

-- Draw one fault of `kind`: what it is and where, nothing applied yet.
-- `at` picks the link or service instead of drawing it; `attributes`
-- override a link fault's drawn ones (a path to match, a probability).
function Nemesis:draw(kind, at, attributes)
  if LINK_KINDS[kind] and #self.links > 0 then
    local link = at or self.links[fl.random(#self.links)]
    local toxic, attrs = LINK_KINDS[kind]()
    for k, v in pairs(attributes or {}) do attrs[k] = v end
    return { kind = kind, link = link, toxic = toxic, attributes = attrs }
  elseif kind == "partition" and #self.links > 0 then
    return { kind = kind, link = at or self.links[fl.random(#self.links)] }
  elseif kind == "flap" and #self.links > 0 then
    -- the link goes down while requests are in flight on kept-alive
    -- connections (answers held back by a latency first): delivered
    -- requests whose callers then see "connection refused" on the retry
    return { kind = kind, link = at or self.links[fl.random(#self.links)],
             latency = fl.random(300, 600), after = fl.random(100, 250) / 1000 }
  elseif (kind == "kill" or kind == "term" or kind == "pause" or kind == "recovery_restart")
         and #self[kind] > 0 then
    return { kind = kind, service = at or self[kind][fl.random(#self[kind])] }
  elseif kind == "bank" then
    return { kind = kind, chaos = at or fl.random.choice(BANK_CHAOS) }
  elseif kind == "compensation_storm" and self.refund_link then
    -- (reference system) the bank rejects every transfer and the pivot of
    -- internal transfers is refused (4xx), so sagas compensate, while the
    -- refunds are refused for the hold (409/423: "try again", which the
    -- callers' breakers do not count as failures, so they stay closed)
    return { kind = kind, link = self.refund_link.link, path = self.refund_link.path,
             reject = self.refund_link.reject, status = fl.random.choice({ 409, 423 }) }
  elseif kind:sub(1, 5) == "host_" and self.fleet then
    return self:draw_host(kind)
  end
  return nil
end

-- A host fault: the agent it goes to (host), the fault spec it is given
-- (its ttl_ms is the step's hold, set by plan) and a target for the history.
function Nemesis:draw_host(kind)
  local s = self:draw_host_spec(kind)
  if s and s.fault.type ~= "process" then s.fault.target = self.targets[s.host] end
  return s
end

function Nemesis:draw_host_spec(kind)
  local hosts = self.hosts
  if kind == "host_partition" or kind == "host_loss" then
    if #hosts < 2 then return nil end
    local host = hosts[fl.random(#hosts)]
    local peer = hosts[fl.random(#hosts - 1)]
    if peer == host then peer = hosts[#hosts] end
    local fault = { type = kind == "host_loss" and "loss" or "partition", peer = self.addresses[peer] }
    local target
    if kind == "host_loss" then
      fault.probability = fl.random(1, 5) / 10
      target = host .. "<->" .. peer
    else
      fault.direction = fl.random.choice({ "both", "out", "in" })
      target = fault.direction == "both" and (host .. "<->" .. peer)
               or fault.direction == "out" and (host .. "->" .. peer) or (peer .. "->" .. host)
    end
    return { kind = kind, host = host, fault = fault, target = target }
  elseif kind == "host_bandwidth" then
    if #hosts == 0 then return nil end
    local host = hosts[fl.random(#hosts)]
    return { kind = kind, host = host, target = host .. ":" .. self.dev,
             fault = { type = "bandwidth", dev = self.dev, rate_bps = fl.random(1, 10) * 500000 } }
  elseif HOST_PROCESS[kind] then
    local with = {}
    for _, h in ipairs(hosts) do
      if self.processes[h] and #self.processes[h] > 0 then with[#with + 1] = h end
    end
    if #with == 0 then return nil end
    local host = with[fl.random(#with)]
    local name = fl.random.choice(self.processes[host])
    return { kind = kind, host = host, target = host .. ":" .. name,
             fault = { type = "process", action = HOST_PROCESS[kind], name = name } }
  end
  return nil
end

-- One line a step: the same seed gives the same lines.
local function step_line(i, step)
  local sp = step.spec
  return string.format("%d %s %s %s hold=%.3f gap=%.3f", i, sp.kind,
    sp.target or sp.link or sp.service or "extbank",
    fl.json.encode(sp.fault or sp.attributes or sp.chaos or {}), step.hold, step.gap)
end

--- nem:describe([plan]) -> the schedule (default: the one drawn) as text, a
--- line a step: "N KIND TARGET {spec} hold=S gap=S"
function Nemesis:describe(plan)
  local lines = {}
  for i, step in ipairs(plan or self.schedule or {}) do lines[i] = step_line(i, step) end
  return table.concat(lines, "\n") .. (#lines > 0 and "\n" or "")
end

local function shuffle(list)
  for i = #list, 2, -1 do
    local j = fl.random(i)
    list[i], list[j] = list[j], list[i]
  end
  return list
end

--- nem:plan(duration [, {cover = {kind, ...}}]) -> the schedule: {fault,
--- hold, gap} drawn now, so the same seed gives the same faults however the
--- workload's timing goes. With cover, the plan starts with every listed
--- kind once on every link (link kinds) or service (process kinds) it
--- applies to, in a random order, then draws at random as before; o.first
--- = {kind or {kind, link or service, attributes}, ...} go before
--- everything, in order.
function Nemesis:plan(duration, o)
  local plan, t = {}, 0
  local function add(spec)
    local hold = self.min + fl.random() * (self.max - self.min)
    local gap = self.gap * (0.5 + fl.random())
    -- compensations need time to fail more than once
    if spec and spec.kind == "compensation_storm" then hold = math.max(hold, 1.2) end
    if spec then
      if spec.fault and not (spec.fault.type == "process" and spec.fault.action ~= "pause") then
        spec.fault.ttl_ms = math.max(1, math.floor(hold * 1000 + 0.5))
      end
      plan[#plan + 1] = { spec = spec, hold = hold, gap = gap }
    end
    t = t + hold + gap
  end
  local cover = {}
  for _, kind in ipairs(o and o.cover or {}) do
    local targets = (LINK_KINDS[kind] or kind == "partition" or kind == "flap") and self.links
      or (kind == "bank" and BANK_CHAOS) or self[kind] or { false }
    for _, at in ipairs(targets) do cover[#cover + 1] = { kind, at or nil } end
  end
  for _, f in ipairs(o and o.first or {}) do
    if type(f) == "table" then add(self:draw(f[1], f[2], f[3])) else add(self:draw(f)) end
  end
  for _, c in ipairs(shuffle(cover)) do add(self:draw(c[1], c[2])) end
  for _ = 1, 10000 do
    if t >= duration then break end
    add(self:draw(pick(self.kinds)))
  end
  self.schedule = plan
  for i, step in ipairs(plan) do
    local sp = step.spec
    self.h:event{ event = "nemesis_plan", step = i, what = sp.kind, seed = fl.seed,
                  target = sp.target or sp.link or sp.service or "extbank",
                  spec = sp.fault or sp.attributes or sp.chaos,
                  hold_ms = math.floor(step.hold * 1000 + 0.5),
                  gap_ms = math.floor(step.gap * 1000 + 0.5) }
  end
  return plan
end

-- A toxic on a link under the nemesis' name; nil when it cannot be added.
local function add_toxic(self, link, type_, attrs, id)
  local l = self.sys:link(link)
  if not l then return nil end
  local ok, tx = pcall(l.toxic, l, { type = type_, attributes = attrs, name = "nemesis-" .. id })
  return ok and tx or nil
end

-- Apply one drawn fault; returns a function that removes it and a description.
function Nemesis:apply(spec)
  local sys = self.sys
  self.n = self.n + 1
  local id = "n" .. self.n
  local kind = spec.kind
  if LINK_KINDS[kind] then
    local link = spec.link
    local tx = add_toxic(self, link, spec.toxic or (kind == "reset" and "reset_peer" or kind),
                         spec.attributes, id)
    if not tx then return nil end
    self:record("added", kind, link, id, { attributes = spec.attributes })
    return function()
      tx:remove(true)
      self:record("removed", kind, link, id)
    end, kind .. " " .. link
  elseif kind == "partition" or kind == "flap" then
    local link = spec.link
    local l = sys:link(link)
    if not l then return nil end
    local tx
    if kind == "flap" then
      tx = add_toxic(self, link, "latency", { latency = spec.latency }, id)
      if not tx then return nil end
      self:record("added", kind, link, id, { latency = spec.latency })
      fl.sleep(spec.after)
    end
    if not pcall(l.disable, l) then
      if tx then tx:remove(true) end
      return nil
    end
    if kind == "partition" then self:record("added", "partition", link, id) end
    return function()
      l:enable(true)
      if tx then tx:remove(true) end
      self:record("removed", kind, link, id)
    end, kind .. " " .. link
  elseif PROCESS[kind] then
    local p, svc = PROCESS[kind], spec.service
    self:record("added", kind, svc, id)
    local signalled = now_ns()
    if not p.after then self.h:event{ event = "process", service = svc, action = p.sent, t = signalled } end
    sys[p.send](sys, svc)
    if p.after then
      wait_gone(self, svc, 2)
      self.h:event{ event = "process", service = svc, action = p.sent, t = now_ns(), signalled = signalled }
    end
    return function()
      if p.resume then
        sys:resume(svc)
        self.h:event{ event = "process", service = svc, action = "resumed", t = now_ns() }
      else
        -- a SIGTERMed service serves its drain window under the clients'
        -- load, then exits (code 0 expected): wait for that first
        if p.drain then wait_gone(self, svc, M.GRACE, true) end
        restart(self, svc)
      end
      self:record("removed", kind, svc, id)
    end, kind .. " " .. svc
  elseif kind == "recovery_restart" then
    return self:apply_recovery_restart(spec, id)
  elseif spec.host then
    local sub = self.fleet:only(spec.host)
    local ok, g = pcall(sub.fault, sub, spec.fault)
    if not ok then
      self.h:event{ event = "nemesis_skipped", what = kind, target = spec.target,
                    error = tostring(g), t = now_ns() }
      return nil
    end
    local made = g.faults[spec.host] or {}
    self:record("added", kind, spec.target, id, { host = spec.host, fault = spec.fault,
                                                 fault_id = made.id, apply_us = made.apply_us })
    return function()
      local errs = g:heal()
      self:record("removed", kind, spec.target, id,
                  #errs > 0 and { error = table.concat(errs, "; ") } or nil)
    end, kind .. " " .. spec.target
  elseif kind == "bank" then
    local c = spec.chaos
    if not pcall(sys.chaos, sys, c) then return nil end
    local what = next(c)
    self:record("added", "bank_" .. what, "extbank", id, { chaos = c })
    return function()
      pcall(sys.chaos, sys, { reset = true })
      self:record("removed", "bank_" .. what, "extbank", id)
    end, "bank " .. what
  elseif kind == "compensation_storm" then
    local tx = add_toxic(self, spec.link, "http_abort", { status = spec.status, path = spec.path }, id)
    if not tx then return nil end
    local rx = spec.reject and add_toxic(self, spec.link, "http_abort",
                                         { status = 422, path = spec.reject }, id .. "r")
    if not pcall(sys.chaos, sys, { reject_rate = 1 }) then
      tx:remove(true)
      if rx then rx:remove(true) end
      return nil
    end
    self:record("added", kind, spec.link, id, { status = spec.status, path = spec.path })
    return function()
      pcall(sys.chaos, sys, { reset = true })
      if rx then rx:remove(true) end
      tx:remove(true)
      self:record("removed", kind, spec.link, id)
    end, kind .. " " .. spec.link
  end
  return nil
end

-- recovery_restart: the service is killed (with work in flight: the
-- clients keep sending), started again, and killed again as soon as its
-- startup probe says it is recovering (or once it answers at all, when
-- it has none or recovered first); the fault ends with a restart that
-- must recover what both runs left. The log says "recovery_restart SVC"
-- when the second kill hit a recovery in progress, "restart_recovered SVC"
-- when the first run had already recovered.
function Nemesis:apply_recovery_restart(spec, id)
  local sys, svc = self.sys, spec.service
  local rc = self.recovery[svc] or {}
  self:record("added", "recovery_restart", svc, id, { startup = rc.startup, slow = rc.slow })
  local slow = rc.slow and add_toxic(self, rc.slow, "latency", { latency = 400 }, id)
  local function kill()
    local signalled = now_ns()
    pcall(sys.kill, sys, svc)
    wait_gone(self, svc, 2)
    self.h:event{ event = "process", service = svc, action = "killed", t = now_ns(), signalled = signalled }
  end
  kill()
  restart(self, svc, true)
  local recovering = false
  local deadline = fl.now() + 3
  while fl.now() < deadline do
    local r = rc.startup and fl.http.get(sys:url(svc, rc.startup), { timeout = 0.5, raise = false })
    if r and r.status == 503 then recovering = true; break end
    if not r or (r.status >= 200 and r.status < 400) then break end
    fl.sleep(0.01)
  end
  kill()
  self.h:event{ event = "nemesis_observed", what = "recovery_restart", target = svc,
                recovering = recovering, t = now_ns() }
  return function()
    -- the last start recovers behind the slowed link too (so its recovery
    -- is seen from outside), which is healed once it is ready
    restart(self, svc)
    if slow then slow:remove(true) end
    self:record("removed", "recovery_restart", svc, id)
  end, (recovering and "recovery_restart " or "restart_recovered ") .. svc
end

--- nem:run(duration [, stop]) -> the list of faults applied (descriptions).
--- Runs the plan (drawn now unless nem:plan was called): one fault at a
--- time, on for its hold time, off, its gap; stops at duration; heals.
--- While a fault is on, nem.current is {spec, hold, started} (fl.now()).
function Nemesis:run(duration, stop)
  local t_end = fl.now() + duration
  local plan = self.schedule or self:plan(duration)
  for _, step in ipairs(plan) do
    if fl.now() >= t_end or (stop and stop()) then break end
    local undo, desc = self:apply(step.spec)
    if undo then
      self.active = undo
      self.current = { spec = step.spec, hold = step.hold, started = fl.now() }
      self.log[#self.log + 1] = desc
      fl.sleep(math.min(step.hold, math.max(0, t_end - fl.now())))
      self.active, self.current = nil, nil
      undo()
    end
    fl.sleep(math.min(step.gap, math.max(0, t_end - fl.now())))
  end
  self:heal()
  return self.log
end

--- nem:heal(): removes the fault in effect (if any), every toxic, every
--- partition (and the reference bank's chaos); resumes paused and restarts
--- stopped services
function Nemesis:heal()
  if self.active then
    local undo = self.active
    self.active = nil
    pcall(undo)
  end
  local sys = self.sys
  if not sys then return end
  pcall(sys.heal, sys)
  if is_ref(sys) then pcall(sys.chaos, sys, { reset = true }) end
  for _, svc in ipairs(sys:started()) do
    pcall(sys.resume, sys, svc)
    if not sys:alive(svc) then restart(self, svc) end
  end
end

return M
