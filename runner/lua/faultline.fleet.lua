-- faultline.fleet: many agents at once from scenarios and experiments (fl.fleet).
--
--   local fleet = fl.fleet.load("agents.txt")              -- an inventory file
--   local fleet = fl.fleet.new{ "http://10.0.0.1:8474", db = "http://10.0.0.2:8474" }
--   local fleet = fl.fleet.of(fl.sys.open())               -- `faultline up --netns`'s hosts
--   fleet:names()                                          -- { "10.0.0.1:8474", "db" }
--   local f = fleet:fault{ type = "partition", peer = "10.0.0.9", ttl_ms = 20000 }
--   f.ids["db"]                                            -- "hf-3"
--   f:heal()                                               -- or at the end of the test
--   fleet:only("db"):fault{ type = "bandwidth", dev = "eth0", rate_bps = 1e6, ttl_ms = 5000 }
--   fleet:fault{ type = "partition", peer = "10.42.1.7", ttl_ms = 5000,  -- inside pods: each
--                targets = { ["node-a"] = { pid = 4242 } } }             -- agent's own target
--   fleet:status()                                         -- per agent: reachable, version,
--                                                          -- faults with TTL left, leases
--   fleet:heal()                                           -- every host fault on every agent
--
-- A fault on several agents is applied to all or rolled back on all: when one
-- agent refuses, the faults already made on the others are deleted before
-- the error is raised. Inside a test, the first fault takes the controller
-- lease on every agent of the fleet (TTL -e FL_PROXY_LEASE_MS, default
-- 10000), renewed every third of it; a runner that dies leaves every agent to
-- heal itself when the lease lapses. Every fault is healed when the test
-- ends, however it ends. Host faults are docs/agent.md's; the token is
-- -e FAULTLINE_TOKEN (or the environment's FAULTLINE_TOKEN /
-- FAULTLINE_PROXY_TOKEN), or new{..., token = }.
--
-- `faultline fleet` is this module too (M._cli, called through
-- fl_runner_call): the all-or-nothing apply, the leases and the status have
-- this one home for the CLI and for scenarios.
local http = require "faultline.http"

local M = {}
local Fleet, Group = {}, {}
Fleet.__index, Group.__index = Fleet, Group

local function fl()
  local ok, mod = pcall(require, "faultline")
  return ok and type(mod) == "table" and mod or nil
end

local function env(k)
  local f = fl()
  return (f and f.env and f.env[k]) or os.getenv(k)
end

local function call(agent, method, path, body, ok_status, timeout)
  local headers = {}
  if agent.token then headers["Authorization"] = "Bearer " .. agent.token end
  local o = { json = body, headers = headers, timeout = timeout or agent.timeout }
  for k, v in pairs(agent.tls) do o[k] = v end
  local ok, r = pcall(http.request, method, agent.url .. path, o)
  if not ok then return nil, agent.name .. ": " .. tostring(r):gsub("^.-:%d+: ", "") end
  if r.status ~= ok_status then
    local msg = r.json and r.json.error or r.body
    return nil, string.format("%s: %s (%s %s: %d)", agent.name, tostring(msg), method, path,
                              r.status or 0), r
  end
  return r.json or true, nil, r
end

local TLS_KEYS = { cacert = true, cert = true, key = true, insecure = true }

--- new{ [name =] url, ..., token =, cacert =, cert =, key =, insecure = } -> a
--- fleet (no request made); the TLS options are fl.http's, for https:// agents
function M.new(list)
  if type(list) ~= "table" then error("bad argument #1 to 'new' (expected a table)", 2) end
  local token = list.token or env("FAULTLINE_TOKEN") or env("FAULTLINE_PROXY_TOKEN")
  local tls = {}
  for k in pairs(TLS_KEYS) do tls[k] = list[k] end
  local self = setmetatable({ agents = {}, token = token, _groups = {} }, Fleet)
  local function add(name, url)
    if type(url) ~= "string" or not url:match("^https?://") then
      error(string.format("fleet: %sexpected an http(s):// URL, got %s",
                          name and ("agent " .. tostring(name) .. ": ") or "", tostring(url)), 3)
    end
    url = url:gsub("/+$", "")
    name = name or url:gsub("^https?://", "")
    for _, a in ipairs(self.agents) do
      if a.name == name then error("fleet: agent named twice: " .. name, 3) end
    end
    self.agents[#self.agents + 1] = { name = name, url = url, token = token, timeout = 5,
                                      tls = tls }
  end
  for _, url in ipairs(list) do add(nil, url) end
  local named = {}
  for k in pairs(list) do
    if type(k) == "string" and k ~= "token" and not TLS_KEYS[k] then named[#named + 1] = k end
  end
  table.sort(named)
  for _, k in ipairs(named) do add(k, list[k]) end
  if #self.agents == 0 then error("fleet: no agents", 2) end
  return self
end

-- The lines of an inventory file into list (a new{} table): "URL" or
-- "NAME URL", '#' comments. Raises "path:line: ..." on a bad line.
local function read_inventory(path, list, level)
  local fh, err = io.open(path or "", "r")
  if not fh then error("fleet: cannot read inventory: " .. tostring(err), level + 1) end
  local n = 0
  for line in fh:lines() do
    n = n + 1
    line = line:gsub("#.*", ""):match("^%s*(.-)%s*$")
    if line ~= "" then
      local a, b = line:match("^(%S+)%s+(%S+)$")
      if a then
        if list[a] then fh:close(); error(string.format("%s:%d: agent %s named twice", path, n, a), level + 1) end
        list[a] = b
      elseif line:match("^%S+$") then list[#list + 1] = line
      else fh:close(); error(string.format("%s:%d: expected 'URL' or 'NAME URL'", path, n), level + 1) end
    end
  end
  fh:close()
  return list
end

--- load(path [, {token=, cacert=, cert=, key=, insecure=}]) -> a fleet from an
--- inventory file: one agent a line, "URL" or "NAME URL"; '#' starts a comment
function M.load(path, o)
  local list = { token = o and o.token }
  for k in pairs(TLS_KEYS) do list[k] = o and o[k] end
  read_inventory(path, list, 2)
  local ok, f = pcall(M.new, list)
  if not ok then error(path .. ": " .. tostring(f):gsub("^.-fleet: ", "fleet: "), 2) end
  return f
end

--- of(sys [, {cacert=, ...}]) -> the fleet of a system started with
--- `faultline up --netns` (an fl.sys system): the agent of each host, named
--- by its service, with the token the launcher wrote for them
function M.of(sys, o)
  local net = type(sys) == "table" and sys.topology and sys.topology.netns
  if type(net) ~= "table" or type(net.hosts) ~= "table" then
    error("fleet.of: system " .. tostring(type(sys) == "table" and sys.name) ..
          " has no hosts: start it with 'faultline up FILE --netns'", 2)
  end
  local list = {}
  for k, v in pairs(o or {}) do list[k] = v end
  if not list.token and net.token_file then
    local fh, err = io.open(net.token_file, "r")
    if not fh then error("fleet.of: the agents' token: " .. tostring(err), 2) end
    list.token = fh:read("l")
    fh:close()
  end
  for name, h in pairs(net.hosts) do
    if type(h.agent) == "table" and h.agent.url then list[name] = h.agent.url end
  end
  local ok, f = pcall(M.new, list)
  if not ok then error(tostring(f):gsub("^.-fleet: ", "fleet.of: "), 2) end
  return f
end

--- names() -> the agents' names, in inventory order
function Fleet:names()
  local t = {}
  for i, a in ipairs(self.agents) do t[i] = a.name end
  return t
end

--- address(name) -> the host part of that agent's URL (its address, for a
--- partition toward it from another agent), or nil for no such agent
function Fleet:address(name)
  for _, a in ipairs(self.agents) do
    if a.name == name then
      return a.url:match("^https?://%[([^%]]+)%]") or a.url:match("^https?://([^/:]+)")
    end
  end
  return nil
end

--- only(name, ...) -> a fleet of those agents (sharing this fleet's leases)
function Fleet:only(...)
  local want, sub = {}, setmetatable({ agents = {}, token = self.token, _groups = self._groups,
                                       _parent = self._parent or self }, Fleet)
  for _, n in ipairs({ ... }) do want[n] = true end
  for _, a in ipairs(self.agents) do
    if want[a.name] then sub.agents[#sub.agents + 1] = a; want[a.name] = nil end
  end
  local missing = next(want)
  if missing then error("fleet: no agent named " .. tostring(missing), 2) end
  return sub
end

-- The controller lease `holder` taken (or renewed) on every agent: true, or
-- nil and the errors ("; "-joined) and whether an agent did not answer.
local function lease_all(agents, holder, ttl)
  local errs, unreachable = {}, false
  for _, a in ipairs(agents) do
    local ok, err, r = call(a, "POST", "/lease", { ttl_ms = ttl, holder = holder }, 200)
    if not ok then errs[#errs + 1] = err; unreachable = unreachable or r == nil end
  end
  if #errs > 0 then return nil, table.concat(errs, "; "), unreachable end
  return true
end

local function release_all(agents, holder)
  for _, a in ipairs(agents) do call(a, "DELETE", "/lease", { holder = holder }, 204) end
end

-- The controller lease on every agent of the (root) fleet, renewed by a task
-- until the test ends.
local function ensure_lease(self)
  local root = self._parent or self
  local f = fl()
  if root._leased or not (f and f.spawn and f.defer and f.sleep) then return end
  local ttl = tonumber(env("FL_PROXY_LEASE_MS") or "10000") or 10000
  if ttl <= 0 then return end
  local holder = string.format("faultline-fleet-%s-%d", tostring(root):match("(%x+)$") or "x",
                               os.time())
  local in_test = pcall(f.defer, function()
    root._leased = false
    release_all(root.agents, holder)
  end)
  if not in_test then return end
  local ok, err = lease_all(root.agents, holder, ttl)
  if not ok then error("fleet: taking the lease: " .. err, 3) end
  root._leased = true
  f.spawn(function()
    while root._leased do
      f.sleep(ttl / 3000)
      if root._leased then lease_all(root.agents, holder, ttl) end
    end
  end)
end

-- The fault on every agent of self, or on none: a group, or nil, the error
-- (naming the agent, saying what the rollback did) and whether the refusing
-- agent did not answer at all.
-- spec.targets ({agent name = {pid = N} | {netns = "NAME"}}) gives each
-- agent its own "target" (a pod's network namespace on that node); every
-- agent of self needs one.
local function spec_for(spec, name)
  if spec.targets == nil then return spec end
  local s = {}
  for k, v in pairs(spec) do if k ~= "targets" then s[k] = v end end
  s.target = spec.targets[name]
  return s
end

local function apply_all(self, spec)
  local g = setmetatable({ ids = {}, faults = {}, fleet = self }, Group)
  if spec.targets ~= nil then
    if type(spec.targets) ~= "table" then return nil, "targets: a table {agent = target}", false end
    if spec.target ~= nil then return nil, "give target or targets, not both", false end
    for _, a in ipairs(self.agents) do
      if type(spec.targets[a.name]) ~= "table" then
        return nil, a.name .. ": no entry in targets (each agent needs its {pid=} or {netns=})", false
      end
    end
  end
  for _, a in ipairs(self.agents) do
    local j, err, r = call(a, "POST", "/host/faults", spec_for(spec, a.name), 201)
    if not j then
      local undo = g:heal()
      return nil, err .. (#undo > 0 and ("; rolling back also failed: " .. table.concat(undo, "; "))
                          or "; rolled back on every other agent"), r == nil
    end
    g.ids[a.name], g.faults[a.name] = j.id, j
  end
  return g
end

--- fault(spec) -> a group: the host fault spec applied on every agent, all or
--- none. group.ids[name] is each agent's fault id; group:heal() removes them.
function Fleet:fault(spec)
  if type(spec) ~= "table" then error("bad argument #1 to 'fault' (expected a table)", 2) end
  ensure_lease(self)
  local g, err = apply_all(self, spec)
  if not g then error("fleet: " .. err, 2) end
  local f = fl()
  if f and f.defer then pcall(f.defer, function() g:heal() end) end
  return g
end

--- group:heal() -> list of errors (empty when every fault was removed or had
--- already expired)
function Group:heal()
  local errs = {}
  for _, a in ipairs(self.fleet.agents) do
    local id = self.ids[a.name]
    if id then
      local ok, err, r = call(a, "DELETE", "/host/faults/" .. id, nil, 204)
      if ok or (r and r.status == 404) then self.ids[a.name] = nil
      else errs[#errs + 1] = err end
    end
  end
  return errs
end

--- heal() -> heal every host fault on every agent of the fleet (DELETE /host/faults)
function Fleet:heal()
  local errs = {}
  for _, a in ipairs(self.agents) do
    local ok, err = call(a, "DELETE", "/host/faults", nil, 204)
    if not ok then errs[#errs + 1] = err end
  end
  if #errs > 0 then error("fleet: " .. table.concat(errs, "; "), 2) end
end

--- status() -> { {name, url, reachable, version, hostname, host_faults, faults,
--- leases, error}, ... }; an agent with host faults off still shows its leases
function Fleet:status()
  local out = {}
  for i, a in ipairs(self.agents) do
    local s = { name = a.name, url = a.url, reachable = false }
    local h, err = call(a, "GET", "/healthz", nil, 200, 2)
    if h then
      s.reachable, s.version, s.hostname, s.host_faults = true, h.version, h.hostname,
                                                          h.host_faults
      local host = call(a, "GET", "/host", nil, 200, 2)
      s.faults = host and host.faults or {}
      s.leases = host and host.leases or call(a, "GET", "/lease", nil, 200, 2) or {}
    else
      s.error = err:sub(1, #a.name + 2) == a.name .. ": " and err:sub(#a.name + 3) or err
    end
    out[i] = s
  end
  return out
end

-- ------------------------------------------------------- faultline fleet
-- The command's work, called from cli/cmd_fleet.c with its options as a
-- table: op ("status", "apply", "heal"), inventory, agents (URLs), token,
-- cacert, cert, key, insecure, json, spec (a table), hold, lease_ms, holder.
-- Prints what the command prints; returns {exit = "ok" | "fail" | "usage" |
-- "infra"}.

local function say(fmt, ...) io.stdout:write(string.format(fmt, ...)); io.stdout:flush() end
local function complain(msg) io.stderr:write("faultline fleet: ", msg, "\n") end

local function print_status(st)
  for _, s in ipairs(st) do
    if not s.reachable then
      say("%-16s %s  UNREACHABLE: %s\n", s.name, s.url, tostring(s.error))
    else
      local nf, nl = #(s.faults or {}), #(s.leases or {})
      say("%-16s %s  up, faultline %s on %s, %d host fault%s, %d lease%s\n", s.name, s.url,
          tostring(s.version or "?"), tostring(s.hostname or "?"), nf, nf == 1 and "" or "s",
          nl, nl == 1 and "" or "s")
      for _, x in ipairs(s.faults or {}) do
        say("    fault %-8s %-10s %.1f s left%s\n", tostring(x.id or "?"), tostring(x.type or "?"),
            (tonumber(x.expires_in_ms) or 0) / 1000,
            type(x.netns) == "table" and ("  in " .. tostring(x.netns.target)) or "")
      end
      for _, x in ipairs(s.leases or {}) do
        say("    lease %-30s %.1f s left\n", tostring(x.holder or "?"),
            (tonumber(x.expires_in_ms) or 0) / 1000)
      end
    end
  end
end

-- apply --hold: renew the lease every third of it until an interrupt
-- (SIGINT/SIGTERM) or the fault's TTL, then heal and release.
local function hold(self, g, spec, lease_ms, holder)
  local core = require "faultline.core"
  local ttl, step, waited = tonumber(spec.ttl_ms) or 0, math.max(1, lease_ms // 3), 0
  while not core.interrupted() and (ttl <= 0 or waited < ttl) do
    local t = 0
    while t < step and not core.interrupted() do core.sleep(0.02); t = t + 20 end
    waited = waited + step
    if not core.interrupted() then
      local ok, err = lease_all(self.agents, holder, lease_ms)
      if not ok then complain("lease: " .. err) end
    end
  end
  for _, err in ipairs(g:heal()) do complain(err) end
  release_all(self.agents, holder)
end

function M._cli(o)
  local list = { token = o.token }
  for k in pairs(TLS_KEYS) do list[k] = o[k] end
  local ok, err = pcall(function()
    if o.inventory then read_inventory(o.inventory, list, -1) end
    for _, url in ipairs(o.agents or {}) do list[#list + 1] = url end
  end)
  local self
  if ok then ok, self = pcall(M.new, list) end
  if not ok then
    complain((o.inventory and not tostring(err or self):find(o.inventory, 1, true)
              and (o.inventory .. ": ") or "") .. tostring(err or self):gsub("^.-fleet: ", ""))
    return { exit = "usage" }
  end
  if o.op == "status" then
    local st = self:status()
    if o.json then say("%s\n", require("faultline.json").encode(st)) else print_status(st) end
    for _, s in ipairs(st) do if not s.reachable then return { exit = "infra" } end end
    return { exit = "ok" }
  elseif o.op == "heal" then
    local errs, unreachable = {}, false
    for _, a in ipairs(self.agents) do
      local done, e, r = call(a, "DELETE", "/host/faults", nil, 204)
      if not done then errs[#errs + 1] = e; unreachable = unreachable or r == nil end
    end
    for _, e in ipairs(errs) do complain(e) end
    return { exit = #errs == 0 and "ok" or unreachable and "infra" or "fail" }
  end
  -- apply
  if o.hold then
    local leased, e, unreachable = lease_all(self.agents, o.holder, o.lease_ms)
    if not leased then
      complain("lease: " .. e)
      release_all(self.agents, o.holder)
      return { exit = unreachable and "infra" or "fail" }
    end
  end
  local g, e, unreachable = apply_all(self, o.spec)
  if not g then
    complain(e)
    if o.hold then release_all(self.agents, o.holder) end
    return { exit = unreachable and "infra" or "fail" }
  end
  for _, a in ipairs(self.agents) do say("%s %s\n", a.name, g.ids[a.name]) end
  if o.hold then hold(self, g, o.spec, o.lease_ms, o.holder) end
  return { exit = "ok" }
end

return M
