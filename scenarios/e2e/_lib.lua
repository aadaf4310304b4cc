-- Helpers shared by the e2e scenarios (files starting with '_' are not run).
local fl = require "faultline"
local http = fl.http
local W = fl.workload

local L = {}

local TERMINAL = { COMPLETED = true, COMPENSATED = true, FAILED = true, STUCK = true }

--- the running reference system (FL_REF), cached per file
function L.sys()
  L._sys = L._sys or fl.ref.system()
  return L._sys
end

--- ended(sys, id [, within]) -> the saga once terminal, else its last state
--- (never raises: the checkers decide whether that is wrong)
function L.ended(sys, id, within)
  local deadline = fl.now() + (within or 10)
  local s
  repeat
    s = sys:saga(id)
    if TERMINAL[s.state] then return s end
    fl.sleep(0.05)
  until fl.now() > deadline
  return s
end

--- wait_for(fn, within) -> fn's first truthy result, or nil after `within` s
function L.wait_for(fn, within, every)
  local deadline = fl.now() + (within or 5)
  repeat
    local v = fn()
    if v then return v end
    fl.sleep(every or 0.05)
  until fl.now() > deadline
  return nil
end

--- open_account(sys, bank, number [, balance]) opens an account at extbank
function L.open_account(sys, bank, number, balance)
  local r = http.post(sys:url("extbank", "/bank/accounts"),
    { json = { bankName = bank, bankAccountNumber = number, balance = balance or 0 } })
  if r.status ~= 201 and r.status ~= 200 then
    error("open account " .. number .. ": HTTP " .. r.status .. " " .. (r.body or ""), 2)
  end
end

--- account_balance(sys, bank, number) -> balance at extbank
function L.account_balance(sys, bank, number)
  for _, a in ipairs(sys:bank().accounts) do
    if a.bankName == bank and a.bankAccountNumber == number then return a.balance end
  end
end

--- events(sys, service, saga_id) -> that saga's events in the outbox
function L.saga_events(sys, id)
  local out = {}
  for _, e in ipairs(W.feed(sys, "remittance", 0)) do
    if e.saga_id == id then out[#out + 1] = e end
  end
  return out
end

--- count(evs, type [, step]) -> how many of evs have that type (and step)
function L.count(evs, typ, step)
  local n = 0
  for _, e in ipairs(evs) do
    if e.type == typ and (not step or e.step == step) then n = n + 1 end
  end
  return n
end

function L.has(evs, typ, step)
  return L.count(evs, typ, step) > 0
end

--- terminal(state) -> whether a saga in that state has ended
function L.terminal(state)
  return TERMINAL[state] == true
end

--- unique(prefix) -> a string unique for this run (addresses, accounts)
function L.unique(prefix)
  L._n = (L._n or 0) + 1
  return string.format("%s-%d-%d-%d", prefix, os.time() % 100000, math.floor(fl.now() * 1000) % 100000, L._n)
end

--- restart(sys, service, extra): SIGKILL it and start it again with extra
--- arguments (appended: a later flag wins), waiting until it is ready
function L.restart(sys, service, extra)
  sys:kill(service)
  L.wait_for(function() return not sys:alive(service) end, 5, 0.02)
  sys:restart(service, extra)
end

--- post(sys, service, path, body [, key]) -> response (raise = false)
function L.post(sys, service, path, body, key, timeout)
  return http.post(sys:url(service, path), { json = body,
    headers = key and { ["Idempotency-Key"] = key } or nil, timeout = timeout or 30, raise = false })
end

return L
