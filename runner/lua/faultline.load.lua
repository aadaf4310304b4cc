-- faultline.load: load on every core. N worker threads, each with its own
-- Lua state, event loop and scheduler, run the same client code; their
-- results come back to the calling task. fl.parallel.load, and the threads=
-- option of fl.rate and fl.workload.clients, are built on it.
--
--   local counts = fl.parallel.load{ threads = 2, clients = 64, fn = function(i)
--     local n = 0
--     while fl.now() < deadline do fl.http.get(base .. "/"); n = n + 1 end
--     return n
--   end }
--
-- A Lua function cannot cross states, so the function is sent as code
-- (string.dump, with its debug information: errors keep their file:line)
-- and its upvalues -- the locals of the scenario it uses -- are rebuilt in
-- every worker:
--   * data (nil, booleans, numbers, strings, tables without metatables) is
--     copied: a worker's changes stay in that worker;
--   * loaded modules and their fields (fl, fl.http, fl.json, require'd
--     helpers, a local `get = fl.http.get`) are required again in the worker;
--   * other Lua functions go the same way, recursively (upvalues shared
--     between them stay shared within a worker);
--   * an fl.history recorder writes to the same file (histories are
--     thread-safe and stamped under their lock, so the file stays in time
--     order);
--   * anything else (a C function, a coroutine, a userdata, a table with a
--     metatable such as an fl.sys system) is refused with the upvalue's name.
-- Globals of the scenario file are not there in a worker (expect is, and
-- fl.history.default() is the main thread's recorder); use locals.
local core = require "faultline.core"
local workers = require "faultline.workers_c"
require "faultline.hist" -- histograms travel back as data
local history_mt = debug.getregistry()["faultline.history"]

local M = {}

local MARK = "\0fl" -- key of a packed value that is not plain data

-- ------------------------------------------------------------------ packing
-- Where every loaded module and each of its fields can be found again.
local function module_index()
  local idx = {}
  for name, v in pairs(package.loaded) do
    if (type(v) == "table" or type(v) == "function") and idx[v] == nil then
      idx[v] = { name }
    end
  end
  for name, v in pairs(package.loaded) do
    if type(v) == "table" then
      for k, f in pairs(v) do
        if (type(k) == "string") and (type(f) == "function" or type(f) == "table") and idx[f] == nil then
          idx[f] = { name, k }
        end
      end
    end
  end
  return idx
end

local function describe_fn(f)
  local i = debug.getinfo(f, "S")
  return string.format("%s:%d", (i.source or "?"):gsub("^@", ""), i.linedefined or 0)
end

local pack

local function pack_function(f, c, where)
  if c.fn_ids[f] then return { [MARK] = "fnref", id = c.fn_ids[f] } end
  local info = debug.getinfo(f, "Su")
  if info.what == "C" then
    error(where .. " is a C function that is not part of a loaded module", 0)
  end
  c.nfn = c.nfn + 1
  local id = c.nfn
  c.fn_ids[f] = id
  local p = { code = string.dump(f), ups = {} }
  c.fns[id] = p -- every function once, in a flat table: references are by id
  for i = 1, info.nups do
    local name, v = debug.getupvalue(f, i)
    local uid = debug.upvalueid(f, i)
    local up = { name = name }
    if c.up_ids[uid] then
      up.join = c.up_ids[uid] -- {fn id, upvalue index} that already holds it
    else
      c.up_ids[uid] = { id, i }
      if name == "_ENV" and v == _G then up.env = true
      else up.value = pack(v, c, string.format("upvalue '%s' of the function at %s", name, describe_fn(f))) end
    end
    p.ups[i] = up
  end
  return { [MARK] = "fnref", id = id }
end

function pack(v, c, where)
  local t = type(v)
  if t == "nil" or t == "boolean" or t == "number" or t == "string" then return v end
  local m = c.modules[v]
  if m then return { [MARK] = "module", name = m[1], key = m[2] } end
  if t == "function" then return pack_function(v, c, where) end
  if t == "userdata" then
    local mt = getmetatable(v)
    if mt == history_mt then return { [MARK] = "history", ptr = v:_share() } end
    if mt == debug.getregistry()["faultline.hist"] then return v end
  end
  if t ~= "table" then
    error(string.format("%s is a %s", where, t), 0)
  end
  if getmetatable(v) ~= nil then
    error(where .. " is a table with a metatable (an object of a module: create it in the worker)", 0)
  end
  if c.active[v] then error(where .. " is a table that contains itself", 0) end
  c.active[v] = true
  local out = {}
  for k, x in pairs(v) do
    local pk = pack(k, c, where .. " (a key)")
    out[pk] = pack(x, c, where .. "." .. tostring(k))
  end
  c.active[v] = nil
  return out
end

--- pack(v, what) -> v as data that faultline.workers_c can copy to a
--- worker: {v = v with its functions as references, fns = {id = {code,
--- ups}}}; M.unpack rebuilds it there
function M.pack(v, what)
  local c = { modules = module_index(), fn_ids = {}, nfn = 0, fns = {}, up_ids = {}, active = {} }
  local ok, res = pcall(pack, v, c, what or "the value")
  if not ok then
    error("cannot go to a worker thread: " .. tostring(res) .. " (only data, Lua functions, " ..
      "loaded modules and fl.history recorders cross; docs/lua-api.md, \"Load on every core\")", 0)
  end
  return { v = res, fns = c.fns }
end

-- ---------------------------------------------------------------- unpacking
local function unpack(v, fns)
  if type(v) ~= "table" then return v end
  local kind = v[MARK]
  if kind == "fnref" then return fns[v.id] end
  if kind == "module" then
    local m = require(v.name)
    if v.key ~= nil then return m[v.key] end
    return m
  end
  if kind == "history" then return require("faultline.history")._borrow(v.ptr) end
  local out = {}
  for k, x in pairs(v) do out[unpack(k, fns)] = unpack(x, fns) end
  return out
end

--- unpack(bundle) -> the value M.pack packed, rebuilt in this state: every
--- function is loaded first, then the upvalues are set (values, which may
--- refer to any of the functions) and joined (where two shared one)
function M.unpack(b)
  local fns = {}
  for id, p in pairs(b.fns) do fns[id] = assert(load(p.code, nil, "b")) end
  for id, p in pairs(b.fns) do
    for i, up in ipairs(p.ups) do
      if up.env then debug.setupvalue(fns[id], i, _G)
      elseif not up.join then debug.setupvalue(fns[id], i, unpack(up.value, fns)) end
    end
  end
  for id, p in pairs(b.fns) do
    for i, up in ipairs(p.ups) do
      if up.join then debug.upvaluejoin(fns[id], i, fns[up.join[1]], up.join[2]) end
    end
  end
  return unpack(b.v, fns)
end

-- The root of every worker (faultline.workers_c): entry(i, n, arg).
function M._worker(payload, i, n)
  local fl = require "faultline"
  _G.expect = fl.expect
  if payload.default_history then
    -- --history FILE: the main thread's recorder, not a second handle on the file
    fl.history._default = M.unpack(payload.default_history)
  end
  local entry = M.unpack(payload.entry)
  local arg = M.unpack(payload.arg)
  return entry(i, n, arg)
end

-- -------------------------------------------------------------------- run

--- stopping() -> true in a worker whose run was asked to stop (its stop()
--- turned true in the main thread); false elsewhere
M.stopping = workers.stopping

--- worker() -> i, n in a worker thread; nil in the main thread
M.worker = workers.index

--- count(ops [, errors]) in a worker: adds to the run's counters, which
--- run's o.progress(ops, errors) sees in the main thread; a no-op elsewhere
M.count = workers.count

--- run(threads, entry, arg [, {stop = fn, progress = fn, every = s}]) ->
--- {entry's result per worker}: entry(i, threads, arg) runs in worker i
--- (entry and arg are packed). While they run, every o.every s (0.05)
--- o.progress(ops, errors) gets the sums of the workers' M.count() and
--- o.stop() is polled; once it is true, M.stopping() turns true in the
--- workers. The first worker
--- that raised (lowest index) has its error raised, prefixed "worker i: ".
function M.run(threads, entry, arg, o)
  o = o or {}
  assert(math.type(threads) == "integer" and threads >= 1, "threads must be a positive integer")
  local payload = { entry = M.pack(entry, o.what or "the function"), arg = M.pack(arg, o.what_arg or "the options") }
  local dh = require("faultline").history.default()
  if dh then payload.default_history = M.pack(dh) end
  local pool <close> = workers.start(threads, payload)
  local poller, finished = nil, false
  if o.stop or o.progress then
    poller = core.spawn(function()
      while not finished do
        if o.progress then o.progress(pool:counts()) end
        if o.stop and o.stop() then pool:stop(); return end
        core.sleep(o.every or 0.05)
      end
    end)
  end
  local rs = pool:wait()
  finished = true
  if poller then core.join(poller) end
  local out = {}
  for i = 1, threads do
    local r = rs[i]
    if not r.ok then
      local e = r[1]
      if type(e) == "table" and e.message then
        e.message = "worker " .. i .. ": " .. tostring(e.message)
        error(e, 0)
      end
      error("worker " .. i .. ": " .. tostring(e), 0)
    end
    out[i] = r[1]
  end
  return out
end

--- split(total, n, i) -> first, last: worker i's share of 1..total (contiguous)
function M.split(total, n, i)
  local base, extra = total // n, total % n
  local first = (i - 1) * base + math.min(i - 1, extra) + 1
  local last = first + base - 1 + (i <= extra and 1 or 0)
  return first, last
end

-- fl.parallel.load in a worker: its clients, results by client number.
function M._parallel_worker(i, n, a)
  local first, last = M.split(a.clients, n, i)
  if last < first then return {} end
  local fl = require "faultline"
  local fn, on_error = a.fn, fl._on_error
  local res = fl.parallel(last - first + 1, function(k)
    local ok, r = xpcall(fn, on_error, first + k - 1)
    if not ok then
      if type(r) == "table" and r.fl_record then r.client = r.client or first + k - 1 end
      error(r, 0)
    end
    return r
  end)
  local out = {}
  for k = 1, last - first + 1 do out[first + k - 1] = res[k] end
  return out
end

--- parallel{threads = N (default: the CPUs online), clients = C, fn = function(i) ... end} ->
--- {fn(1), ..., fn(C)}: C clients spread over N worker threads (contiguous
--- shares), each worker running its clients as fl.parallel does. Results
--- must be data (copied back).
function M.parallel(o)
  assert(type(o) == "table", "parallel.load: expected {threads=, clients=, fn=}")
  local threads, clients = o.threads or workers.cpus(), o.clients
  assert(math.type(threads) == "integer" and threads >= 1, "parallel.load: threads must be a positive integer")
  assert(math.type(clients) == "integer" and clients >= 0, "parallel.load: clients must be a non-negative integer")
  assert(type(o.fn) == "function", "parallel.load: fn must be a function")
  if clients == 0 then return {} end
  threads = math.min(threads, clients)
  local per = M.run(threads, M._parallel_worker, { fn = o.fn, clients = clients },
    { what = "the worker", what_arg = "fn" })
  local out = {}
  for _, r in ipairs(per) do
    for k, v in pairs(r) do out[k] = v end
  end
  return out
end

return M
