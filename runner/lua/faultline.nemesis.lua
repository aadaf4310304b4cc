-- faultline.nemesis: a random, seeded fault schedule over the reference
-- system's proxy links and processes (fl.nemesis), Jepsen's nemesis.
--
--   local N = fl.nemesis
--   local nem = N.new(sys, { history = win.history, links = {...}, kill = {...} })
--   nem:plan(10)           -- draw the schedule now (deterministic by seed)
--   nem:run(10)            -- faults for 10 s, one at a time, then heals
--   nem:heal()             -- removes everything still in effect
--   nem.log                -- the faults applied, in order
--
-- Faults: latency, http_abort, http_drop_response and partitions (link
-- down) on proxy links; kill (SIGKILL, then a restart) and pause
-- (SIGSTOP/SIGCONT) of a service; the simulated bank's own chaos (errors,
-- rejections, answers lost after applying). Each fault window is recorded
-- in the history as {"event":"fault","action":"added"|"removed","what":..,
-- "target":..,"id":..}, and kills/restarts also as process events. Every
-- choice comes from fl.random, so --seed replays the schedule.
local fl = require "faultline"
local http = fl.http
local json = fl.json

local M = {}
local Nemesis = {}
Nemesis.__index = Nemesis

local DEFAULT_LINKS = { "remittance->money", "remittance->banking", "remittance->membership",
                        "banking->extbank" }
local DEFAULT_KINDS = { latency = 3, http_abort = 2, http_drop_response = 2, partition = 2,
                        kill = 1, pause = 1, bank = 2 }

local function now_ns() return math.floor(fl.now() * 1e9) end

--- new(sys, o) -> nemesis. o: history (recorder, required), links (names),
--- kill (services that may be killed), pause (services that may be paused),
--- kinds ({kind = weight}), min/max (s a fault lasts, 0.5/2), gap (s
--- between faults, 0.3)
function M.new(sys, o)
  o = o or {}
  assert(o.history, "nemesis.new: needs {history=}")
  return setmetatable({
    sys = sys, h = o.history, links = o.links or DEFAULT_LINKS,
    kill = o.kill or { "money", "extbank", "membership", "remittance" },
    pause = o.pause or { "money", "banking", "extbank" },
    kinds = o.kinds or DEFAULT_KINDS, min = o.min or 0.5, max = o.max or 2, gap = o.gap or 0.3,
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

local function api(self, method, path, body)
  local r = http.request(method, self.sys.proxy_api .. path, { json = body, timeout = 5, raise = false })
  return r
end

local function restart(self, service)
  local ref_c = require "faultline.ref_c"
  for _ = 1, 100 do
    if not self.sys:alive(service) then break end
    fl.sleep(0.02)
  end
  local ok, err = ref_c.restart(self.sys.data, service, nil, false)
  if not ok then return nil, err end
  local f = io.open(self.sys.data .. "/topology.json")
  if f then
    local t = json.decode(f:read("a"))
    f:close()
    self.sys.topology, self.sys.services = t, t.services
  end
  -- ready again (polled without blocking the loop)
  for _ = 1, 200 do
    local r = http.get(self.sys:url(service, "/readyz"), { timeout = 1, raise = false })
    if r.status == 200 then break end
    fl.sleep(0.05)
  end
  return true
end

-- Draw one fault of `kind`: what it is and where, nothing applied yet.
function Nemesis:draw(kind)
  if kind == "latency" or kind == "http_abort" or kind == "http_drop_response" then
    local link = self.links[fl.random(#self.links)]
    local attrs
    if kind == "latency" then
      attrs = { latency = fl.random(50, 400), jitter = fl.random(0, 50) }
    elseif kind == "http_abort" then
      attrs = { status = fl.random.choice({ 500, 502, 503 }), probability = fl.random(3, 10) / 10 }
    else
      attrs = { probability = fl.random(2, 6) / 10 }
    end
    return { kind = kind, link = link, attributes = attrs }
  elseif kind == "partition" then
    return { kind = kind, link = self.links[fl.random(#self.links)] }
  elseif kind == "kill" and #self.kill > 0 then
    return { kind = kind, service = self.kill[fl.random(#self.kill)] }
  elseif kind == "pause" and #self.pause > 0 then
    return { kind = kind, service = self.pause[fl.random(#self.pause)] }
  elseif kind == "bank" then
    return { kind = kind, chaos = fl.random.choice({
      { error_rate = 0.5 }, { reject_rate = 0.5 }, { timeout_after_apply = 0.5 },
      { latency_ms = 300 }, { timeout_before_apply = 0.5 },
    }) }
  end
  return nil
end

--- nem:plan(duration) -> the schedule: {fault, hold, gap} drawn now, so the
--- same seed gives the same faults however the workload's timing goes
function Nemesis:plan(duration)
  local plan, t = {}, 0
  for _ = 1, 10000 do
    if t >= duration then break end
    local spec = self:draw(pick(self.kinds))
    local hold = self.min + fl.random() * (self.max - self.min)
    local gap = self.gap * (0.5 + fl.random())
    if spec then plan[#plan + 1] = { spec = spec, hold = hold, gap = gap } end
    t = t + hold + gap
  end
  self.schedule = plan
  return plan
end

-- Apply one drawn fault; returns a function that removes it and a description.
function Nemesis:apply(spec)
  local sys = self.sys
  self.n = self.n + 1
  local id = "n" .. self.n
  local kind = spec.kind
  if kind == "latency" or kind == "http_abort" or kind == "http_drop_response" then
    local link = spec.link
    local t = { type = kind, attributes = spec.attributes, name = "nemesis-" .. id }
    local r = api(self, "POST", "/proxies/" .. link .. "/toxics", t)
    if r.status ~= 200 then return nil end
    self:record("added", kind, link, id, { attributes = t.attributes })
    return function()
      api(self, "DELETE", "/proxies/" .. link .. "/toxics/" .. t.name)
      self:record("removed", kind, link, id)
    end, kind .. " " .. link
  elseif kind == "partition" then
    local link = spec.link
    local r = api(self, "POST", "/proxies/" .. link, { enabled = false })
    if r.status ~= 200 then return nil end
    self:record("added", "partition", link, id)
    return function()
      api(self, "POST", "/proxies/" .. link, { enabled = true })
      self:record("removed", "partition", link, id)
    end, "partition " .. link
  elseif kind == "kill" then
    local svc = spec.service
    self:record("added", "kill", svc, id)
    self.h:event{ event = "process", service = svc, action = "killed", t = now_ns() }
    sys:kill(svc)
    return function()
      restart(self, svc)
      self.h:event{ event = "process", service = svc, action = "started", t = now_ns() }
      self:record("removed", "kill", svc, id)
    end, "kill " .. svc
  elseif kind == "pause" then
    local svc = spec.service
    self:record("added", "pause", svc, id)
    self.h:event{ event = "process", service = svc, action = "paused", t = now_ns() }
    sys:pause(svc)
    return function()
      sys:resume(svc)
      self.h:event{ event = "process", service = svc, action = "resumed", t = now_ns() }
      self:record("removed", "pause", svc, id)
    end, "pause " .. svc
  elseif kind == "bank" then
    local c = spec.chaos
    local ok = pcall(sys.chaos, sys, c)
    if not ok then return nil end
    local what = next(c)
    self:record("added", "bank_" .. what, "extbank", id, { chaos = c })
    return function()
      pcall(sys.chaos, sys, { reset = true })
      self:record("removed", "bank_" .. what, "extbank", id)
    end, "bank " .. what
  end
  return nil
end

--- nem:run(duration [, stop]) -> the list of faults applied (descriptions).
--- Runs the plan (drawn now unless nem:plan was called): one fault at a
--- time, on for its hold time, off, its gap; stops at duration; heals.
function Nemesis:run(duration, stop)
  local t_end = fl.now() + duration
  local plan = self.schedule or self:plan(duration)
  for _, step in ipairs(plan) do
    if fl.now() >= t_end or (stop and stop()) then break end
    local undo, desc = self:apply(step.spec)
    if undo then
      self.active = undo
      self.log[#self.log + 1] = desc
      fl.sleep(math.min(step.hold, math.max(0, t_end - fl.now())))
      self.active = nil
      undo()
    end
    fl.sleep(math.min(step.gap, math.max(0, t_end - fl.now())))
  end
  self:heal()
  return self.log
end

--- nem:heal(): removes the fault in effect (if any), every toxic, every
--- partition and the bank's chaos; resumes paused and restarts killed services
function Nemesis:heal()
  if self.active then
    local undo = self.active
    self.active = nil
    pcall(undo)
  end
  pcall(function() self.sys:heal() end)
  pcall(self.sys.chaos, self.sys, { reset = true })
  for svc in pairs(self.sys.services) do
    pcall(self.sys.resume, self.sys, svc)
    if not self.sys:alive(svc) then restart(self, svc) end
  end
end

return M
