-- faultline.proxy: the fault injector from scenarios (fl.proxy).
--
--   local agent = fl.proxy.agent("http://127.0.0.1:8474")   -- a running agent
--   local agent = fl.proxy.local_agent()                      -- in-process engine
--   local db = agent:create{ name = "db", upstream = "127.0.0.1:5432" }
--   db.listen                                                 -- "127.0.0.1:PORT"
--   local t = db:toxic{ type = "latency", latency = 100, jitter = 10 }
--   t:update{ latency = 200 }; t:remove()
--   fl.proxy.link("banking->extbank"):toxic{ type = "http_abort", status = 500 }
--   db:disable(); db:enable(); db:events{ since = 0 }
--
-- Every toxic added and every disable made inside a test is undone when the
-- test ends, however it ends (fl.defer). Talks HTTP (fl.http) to the agent's
-- Toxiproxy-compatible API; the in-process engine runs on its own thread
-- with the same API. docs/fault-injector.md documents the toxics.
local http = require "faultline.http"

local M = {}
local Agent, Link, Toxic = {}, {}, {}
Agent.__index, Link.__index, Toxic.__index = Agent, Link, Toxic

local TOXIC_KEYS = { type = true, name = true, stream = true, toxicity = true,
                     ttl_ms = true, attributes = true }

local function fl()
  local ok, mod = pcall(require, "faultline")
  return ok and type(mod) == "table" and mod or nil
end

-- Register fn to run when the current test ends; silently does nothing
-- outside a test (setup code, plain scripts).
local function defer(fn)
  local f = fl()
  if f and f.defer then pcall(f.defer, fn) end
end

-- The controller lease: the first fault a test adds takes a lease on the
-- agent (TTL -e FL_PROXY_LEASE_MS, default 10000; 0 turns it off) and a
-- task renews it every third of the TTL. The task ends with the test and the
-- lease is released after the test's faults are removed. If the runner dies
-- (SIGKILL, crash), the lease lapses and the agent removes every fault.
local function ensure_lease(agent)
  local f = fl()
  if agent._leased or not (f and f.spawn and f.defer and f.sleep) then return end
  local ttl = tonumber(f.env and f.env.FL_PROXY_LEASE_MS or "10000") or 10000
  if ttl <= 0 then return end
  agent._holder = agent._holder or
    string.format("faultline-run-%s-%d", tostring(agent):match("(%x+)$") or "x", os.time())
  local holder = agent._holder
  local in_test = pcall(f.defer, function()
    agent._leased = false
    pcall(agent.release, agent, holder)
  end)
  if not in_test then return end
  agent:lease(ttl, holder)
  agent._leased = true
  f.spawn(function()
    while true do
      f.sleep(ttl / 3000)
      pcall(agent.lease, agent, ttl, holder)
    end
  end)
end

local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- The options of a request to agent, t plus its token and its TLS settings.
local function to_agent(agent, t)
  if agent.token then
    t.headers = t.headers or {}
    t.headers.Authorization = "Bearer " .. agent.token
  end
  t.cacert, t.cert, t.key, t.insecure = agent.cacert, agent.cert, agent.key, agent.insecure
  return t
end

local function call(agent, method, path, body, ok_status)
  local r = http.request(method, agent.url .. path,
    to_agent(agent, { json = body, timeout = agent.timeout }))
  if r.status ~= ok_status then
    local msg = r.json and r.json.error or r.body
    error(string.format("proxy API %s %s: %d %s", method, path, r.status, tostring(msg)), 3)
  end
  return r.json, r
end

--- agent(url [, {token=, timeout=, cacert=, cert=, key=, insecure=}]) -> an
--- agent handle (no request made); the token defaults to $FAULTLINE_TOKEN;
--- the TLS options are fl.http's, for https:// agents
function M.agent(url, o)
  if type(url) ~= "string" or not url:match("^https?://") then
    error("bad argument #1 to 'agent' (expected an http:// or https:// URL)", 2)
  end
  o = o or {}
  -- the token: given, else the environment every client reads (docs/security.md)
  local token = o.token or os.getenv("FAULTLINE_TOKEN") or os.getenv("FAULTLINE_PROXY_TOKEN")
  if token == "" then token = nil end
  return setmetatable({ url = url:gsub("/+$", ""), token = token,
                        timeout = o.timeout or 10, cacert = o.cacert, cert = o.cert,
                        key = o.key, insecure = o.insecure }, Agent)
end

--- local_agent([seed]) -> the in-process engine (started on first use)
function M.local_agent(seed)
  if M._local then return M._local end
  local c = require "faultline.proxy_c"
  local f = fl()
  local url, err = c.start(seed or (f and f.seed))
  if not url then error(err, 2) end
  M._local = M.agent(url)
  return M._local
end

--- default() -> the agent fl.proxy.link uses: -e FL_PROXY_API=URL, else the
--- reference system's proxy agent, else the in-process engine
function M.default()
  if M._default then return M._default end
  local f = fl()
  local url = (f and f.env and (f.env.FL_PROXY_API or f.env.FL_PROXY)) or os.getenv("FL_PROXY_API")
  if not url then
    local ok, ref = pcall(require, "faultline.ref")
    if ok then
      local ok2, sys = pcall(ref.system)
      if ok2 and sys and sys.proxy_api then url = sys.proxy_api end
    end
  end
  if url and not url:match("^https?://") then url = "http://" .. url end
  M._default = url and M.agent(url, { token = f and f.env and f.env.FL_PROXY_TOKEN })
    or M.local_agent()
  return M._default
end

--- link(name) -> a handle on link `name` of the default agent
function M.link(name) return M.default():link(name) end

--- version() -> the agent's version string
function Agent:version() return call(self, "GET", "/version", nil, 200).version end

--- links() -> { name = proxy table, ... }
function Agent:links() return call(self, "GET", "/proxies", nil, 200) end

--- link(name) -> handle on an existing link (no request made)
function Agent:link(name)
  if type(name) ~= "string" or name == "" then
    error("bad argument #1 to 'link' (expected a link name)", 2)
  end
  return setmetatable({ agent = self, name = name }, Link)
end

--- create{name=, upstream=, listen="127.0.0.1:0", enabled=true, http=} -> link
--- (inside a test the link is deleted when the test ends)
function Agent:create(o)
  if type(o) ~= "table" or not o.name or not o.upstream then
    error("bad argument #1 to 'create' (expected {name=, upstream=})", 2)
  end
  local body = { name = o.name, upstream = o.upstream, listen = o.listen or "127.0.0.1:0",
                 enabled = o.enabled, http = o.http, toxics = o.toxics }
  local p = call(self, "POST", "/proxies", body, 201)
  local l = self:link(p.name)
  l.listen, l.upstream = p.listen, p.upstream
  if o.keep ~= true then defer(function() l:delete(true) end) end
  return l
end

--- populate{proxy, ...} -> { proxies = {...} }
function Agent:populate(list) return call(self, "POST", "/populate", list, 201) end

--- reset(): every toxic removed, every link enabled
function Agent:reset() call(self, "POST", "/reset", nil, 204) end

--- lease(ttl_ms [, holder]): take or renew the controller lease; when it
--- lapses without renewal the agent removes every fault
function Agent:lease(ttl_ms, holder)
  return call(self, "POST", "/lease", { ttl_ms = ttl_ms, holder = holder }, 200)
end

--- release([holder]): give the lease up without healing
function Agent:release(holder)
  call(self, "DELETE", "/lease", { holder = holder }, 204)
end

--- metrics() -> the Prometheus text
function Agent:metrics()
  local r = http.get(self.url .. "/metrics", to_agent(self, {}))
  return r.body
end

local function path(l, rest) return "/proxies/" .. escape(l.name) .. (rest or "") end

--- info() -> the link as the API shows it (name, listen, upstream, enabled, toxics)
function Link:info()
  local p = call(self.agent, "GET", path(self), nil, 200)
  self.listen, self.upstream = p.listen, p.upstream
  return p
end

--- address() -> "host:port" clients should connect to
function Link:address()
  if not self.listen then self:info() end
  return self.listen
end

--- url([path]) -> "http://host:port/path" through the link
function Link:url(p) return "http://" .. self:address() .. (p or "") end

--- update{upstream=, listen=, enabled=, ttl_ms=} -> proxy table
function Link:update(o) return call(self.agent, "POST", path(self), o, 200) end

--- disable([{ttl_ms=}]): down (listener closed, connections cut); undone at test end
function Link:disable(o)
  ensure_lease(self.agent)
  local p = call(self.agent, "POST", path(self),
    { enabled = false, ttl_ms = o and o.ttl_ms }, 200)
  defer(function() self:enable(true) end)
  return p
end

--- enable()
function Link:enable(quiet)
  local r = http.request("POST", self.agent.url .. path(self),
    to_agent(self.agent, { json = { enabled = true }, raise = not quiet }))
  if not quiet and r.status ~= 200 then error("enable " .. self.name .. ": " .. r.status, 2) end
end

--- delete()
function Link:delete(quiet)
  local r = http.request("DELETE", self.agent.url .. path(self),
    to_agent(self.agent, { raise = not quiet }))
  if not quiet and r.status ~= 204 then error("delete " .. self.name .. ": " .. r.status, 2) end
end

--- toxic{type=, name=, stream=, toxicity=, ttl_ms=, <attributes>...} -> toxic
--- Attributes may be given flat (latency = 100) or as attributes = {...}.
--- Inside a test the toxic is removed when the test ends.
function Link:toxic(o)
  if type(o) ~= "table" or type(o.type) ~= "string" then
    error("bad argument #1 to 'toxic' (expected {type=, ...})", 2)
  end
  local body = { type = o.type, name = o.name, stream = o.stream, toxicity = o.toxicity,
                 ttl_ms = o.ttl_ms }
  local attrs = {}
  for k, v in pairs(o.attributes or {}) do attrs[k] = v end
  for k, v in pairs(o) do if not TOXIC_KEYS[k] then attrs[k] = v end end
  if next(attrs) then body.attributes = attrs end
  ensure_lease(self.agent)
  local t = call(self.agent, "POST", path(self, "/toxics"), body, 200)
  local tx = setmetatable({ link = self, name = t.name, type = t.type, stream = t.stream,
                            toxicity = t.toxicity, attributes = t.attributes }, Toxic)
  defer(function() tx:remove(true) end)
  return tx
end

--- toxic_handle(name) -> handle on a toxic already on the link (no request made)
function Link:toxic_handle(name) return setmetatable({ link = self, name = name }, Toxic) end

--- toxics() -> list of toxic tables
function Link:toxics() return call(self.agent, "GET", path(self, "/toxics"), nil, 200) end

--- events([{since=seq, limit=n, event=kind}]) -> list of recorded events (connection_open,
--- connection_close, http_exchange, toxic_added, ...), oldest first
function Link:events(o)
  local q = {}
  if o and o.since then q[#q + 1] = "since=" .. math.tointeger(o.since) end
  if o and o.limit then q[#q + 1] = "limit=" .. math.tointeger(o.limit) end
  if o and o.event then q[#q + 1] = "event=" .. escape(o.event) end
  local qs = #q > 0 and ("?" .. table.concat(q, "&")) or ""
  return call(self.agent, "GET", path(self, "/events") .. qs, nil, 200)
end

--- exchanges([{since=}]) -> the http_exchange events only
function Link:exchanges(o)
  return self:events{ since = o and o.since, limit = o and o.limit, event = "http_exchange" }
end

--- update{toxicity=, ttl_ms=, <attributes>...} -> toxic (attributes merged)
function Toxic:update(o)
  local body = { toxicity = o.toxicity, ttl_ms = o.ttl_ms }
  local attrs = {}
  for k, v in pairs(o.attributes or {}) do attrs[k] = v end
  for k, v in pairs(o) do if not TOXIC_KEYS[k] then attrs[k] = v end end
  if next(attrs) then body.attributes = attrs end
  local t = call(self.link.agent, "POST",
    path(self.link, "/toxics/" .. escape(self.name)), body, 200)
  self.toxicity, self.attributes = t.toxicity, t.attributes
  return self
end

--- remove(): idempotent (a toxic already gone is fine)
function Toxic:remove(quiet)
  local a = self.link.agent
  local r = http.request("DELETE", a.url .. path(self.link, "/toxics/" .. escape(self.name)),
    to_agent(a, { raise = not quiet }))
  if not quiet and r.status ~= 204 and r.status ~= 404 then
    error("remove toxic " .. self.name .. ": " .. r.status, 2)
  end
end

return M
