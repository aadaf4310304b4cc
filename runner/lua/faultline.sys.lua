-- faultline.sys: a running system under test, whatever its topology (fl.sys).
--
--   local sys = fl.sys.open()              -- the system `faultline up` started
--   sys:url("orders", "/orders")           -- "http://127.0.0.1:PORT/orders"
--   sys:services()                         -- started services, in start order
--   sys:links()                            -- link names ("orders->payments", ...)
--   sys:link("orders->payments"):toxic{ type = "latency", latency = 200 }
--   sys:kill("payments"); sys:restart("payments")
--   sys:pause("inventory"); sys:resume("inventory")
--
-- open() finds DATA/topology.json through its argument (a data directory or
-- a topology.json path), else fl.env.FL_SYS, else FL_UP_DATA, else the one
-- system running under /tmp/faultline-up-UID. Link handles are fl.proxy
-- links on the system's fault injector, so every fault made through them is
-- undone when the test ends and held under the controller's lease.
local http = require "faultline.http"
local json = require "faultline.json"
local sys_c = require "faultline.sys_c"

local M = {}
local System = {}
System.__index = System
M.System = System

local function env(k)
  local ok, fl = pcall(require, "faultline")
  if ok and type(fl) == "table" and fl.env then return fl.env[k] end
  return os.getenv(k)
end

local function sleep(s)
  local ok, fl = pcall(require, "faultline")
  if ok and type(fl) == "table" and fl.sleep then fl.sleep(s) end
end

local function read_file(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- The only system running under the default root, or nil.
local function only_running()
  local root = sys_c.default_data("")
  local p = io.popen("ls -1 '" .. root:gsub("'", "") .. "' 2>/dev/null")
  if not p then return nil end
  local found
  for name in p:lines() do
    if read_file(root .. name .. "/topology.json") then
      if found then p:close(); return nil end
      found = root .. name
    end
  end
  p:close()
  return found
end

--- load(path) -> the topology table in path (a data directory or a json file)
function M.load(path)
  local file = path:match("%.json$") and path or (path .. "/topology.json")
  local text, err = read_file(file)
  if not text then return nil, file .. ": " .. tostring(err) end
  return json.decode(text), file
end

--- open([path]) -> the running system, or raises with what to do
function M.open(path)
  path = path or env("FL_SYS") or env("FL_UP_DATA") or only_running()
  if not path then
    error("no running system found; start one with 'faultline up FILE' and pass -e FL_SYS=DATA_DIR", 2)
  end
  local t, file = M.load(path)
  if not t then
    error("no system topology at " .. file .. "; start one with 'faultline up FILE' or set FL_SYS", 2)
  end
  return M.wrap(t, System)
end

--- wrap(topology, metatable) -> a system object over a topology table
function M.wrap(t, mt)
  return setmetatable({
    topology = t, name = t.name, data = t.data, services_by_name = t.services,
    services = t.services, links_by_name = t.links or {},
    proxy_api = t.proxy ~= json.null and t.proxy and t.proxy.api or nil,
    direct = t.direct,
  }, mt or System)
end

--- sys:reload(): read topology.json again (after a restart elsewhere)
function System:reload()
  local t = assert(M.load(self.data))
  self.topology, self.services, self.services_by_name = t, t.services, t.services
  self.links_by_name = t.links or {}
  return self
end

--- sys:url(service [, path]) -> "http://host:port/path" (the service's own address)
function System:url(service, path)
  local s = self.services[service]
  if not s then error("no service '" .. tostring(service) .. "' in the topology", 2) end
  return s.url .. (path or "")
end

--- sys:service_names() -> every service (started and attached), in start order
function System:service_names()
  local out = {}
  if self.topology.order then
    for _, n in ipairs(self.topology.order) do out[#out + 1] = n end
  else
    for n in pairs(self.services) do out[#out + 1] = n end
    table.sort(out)
  end
  return out
end

--- sys:started() -> the services this system started (not attached), in start order
function System:started()
  local out = {}
  for _, n in ipairs(self:service_names()) do
    if not self.services[n].attach then out[#out + 1] = n end
  end
  return out
end

--- sys:link_names() -> every link name ("from->to"), sorted
function System:link_names()
  local out = {}
  for n in pairs(self.links_by_name) do out[#out + 1] = n end
  table.sort(out)
  return out
end

--- sys:agent() -> the fl.proxy agent of the system's fault injector
function System:agent()
  if not self.proxy_api then
    error("this system has no fault injector (no calls between its services)", 2)
  end
  if not self._agent then
    local proxy = require "faultline.proxy"
    local ok, fl = pcall(require, "faultline")
    self._agent = proxy.agent(self.proxy_api,
      { token = ok and fl.env and fl.env.FL_PROXY_TOKEN or nil })
  end
  return self._agent
end

--- sys:link(name) -> the fl.proxy link of edge "from->to" (faults through it
--- are leased and undone at the end of the test); raises for an unknown edge
function System:link(name)
  if not self.links_by_name[name] then
    error("no link '" .. tostring(name) .. "' in the topology (links: " ..
      table.concat(self:link_names(), ", ") .. ")", 2)
  end
  local l = self:agent():link(name)
  l.listen, l.upstream = self.links_by_name[name].listen, self.links_by_name[name].upstream
  return l
end

--- sys:heal(): every toxic removed and every link enabled
function System:heal()
  if self.proxy_api then self:agent():reset() end
end

local function sig(self, service, name)
  local ok, err = sys_c.signal(self.data, service, name)
  if not ok then error(err, 3) end
  return true
end

function System:kill(service) return sig(self, service, "KILL") end
function System:terminate(service) return sig(self, service, "TERM") end
System.term = System.terminate
function System:pause(service) return sig(self, service, "STOP") end
function System:resume(service) return sig(self, service, "CONT") end

--- sys:alive(service) -> whether the service's process exists
function System:alive(service)
  return sys_c.signal(self.data, service, "ZERO") == true
end

--- sys:pid(service) -> the service's pid
function System:pid(service)
  return self.services[service] and self.services[service].pid
end

--- sys:exit_status(service) -> {exit=code|nil, signal=name|nil} once the
--- service's process has ended, else nil
function System:exit_status(service)
  local s = self.services[service]
  local text = s and s.exit_file and read_file(s.exit_file)
  if not text or text == "" then return nil end
  local ok, x = pcall(json.decode, text)
  if not ok or x.pid ~= s.pid then return nil end
  return { exit = x.exit ~= json.null and x.exit or nil, signal = x.signal ~= json.null and x.signal or nil }
end

--- sys:ready(service) -> one readiness check (the topology's ready)
function System:ready(service)
  local s = self.services[service]
  if not s then error("no service '" .. tostring(service) .. "' in the topology", 2) end
  local path = s.ready and s.ready ~= json.null and s.ready.http
  if path then
    local r = http.get(s.url .. path, { timeout = 1, raise = false })
    return r.status >= 200 and r.status < 300
  end
  local t = sys_c.status(self.data)
  return t and t.services[service] and t.services[service].ready == true or false
end

--- sys:wait_ready(service [, within]) -> true once ready (polls without
--- blocking other tasks), false after `within` seconds (default 15)
function System:wait_ready(service, within)
  local deadline = os.time() + (within or 15)
  repeat
    if self:ready(service) then return true end
    sleep(0.05)
  until os.time() > deadline
  return false
end

--- sys:restart(service [, {wait = false}]) -> starts a stopped service again
--- (same command, environment and port); by default until it is ready
function System:restart(service, o)
  local ok, err = sys_c.restart(self.data, service, false)
  if not ok then error(err, 2) end
  self:reload()
  if not (o and o.wait == false) and not self:wait_ready(service, o and o.within) then
    error(service .. " restarted but is not ready", 2)
  end
  return true
end

--- sys:restart_nowait(service): restart, returning once the process runs
function System:restart_nowait(service) return self:restart(service, { wait = false }) end

--- sys:status() -> the topology with alive, ready and state per service
function System:status()
  local t, err = sys_c.status(self.data)
  if not t then error(err, 2) end
  return t
end

return M
