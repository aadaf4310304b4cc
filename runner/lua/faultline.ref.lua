-- faultline.ref: the running reference transfer system (fl.ref).
--
--   local sys = fl.ref.system()          -- reads DATA/topology.json
--   sys:url("remittance", "/sagas")      -- "http://127.0.0.1:PORT/sagas"
--   sys.links["banking->extbank"]        -- {name, listen, upstream, from, to}
--   local a = sys:member{ balance = 50000, address = "강남구" }
--   sys:balance(a.id), sys:saga(id), sys:ledger(), sys:bank()
--   sys:kill("remittance"); sys:restart("remittance")
--
-- The topology file is found through fl.env.FL_REF (a data directory or a
-- topology.json path), else FL_REF_DATA, else the default data directory of
-- `faultline ref up`.
local http = require "faultline.http"
local json = require "faultline.json"
local ref_c = require "faultline.ref_c"
local sysmod = require "faultline.sys"

local M = {}
-- The reference system is a system like any other (fl.sys) with its own
-- domain helpers: members, transfers, ledgers, breakers.
local System = setmetatable({}, { __index = sysmod.System })
System.__index = System

local function env(k)
  local ok, fl = pcall(require, "faultline")
  if ok and type(fl) == "table" and fl.env then return fl.env[k] end
  return os.getenv(k)
end

local function read_file(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

--- system([path]) -> the running system, or raises with what to do
function M.system(path)
  path = path or env("FL_REF") or env("FL_REF_DATA") or ref_c.default_data()
  local file = path
  if not file:match("%.json$") then file = path .. "/topology.json" end
  local text, err = read_file(file)
  if not text then
    error("no reference system topology at " .. file .. " (" .. tostring(err) ..
      "); start one with 'faultline ref up' or set FL_REF", 2)
  end
  local sys = sysmod.wrap(json.decode(text), System)
  sys.bugs, sys._n = sys.topology.bugs or {}, 0
  sys.links = sys.links_by_name
  return sys
end

--- sys:ready(service) -> whether the service's /readyz answers 200
function System:ready(service)
  return http.get(self:url(service, "/readyz"), { timeout = 1, raise = false }).status == 200
end

--- sys:restart_nowait(service): restart, returning once the process listens
function System:restart_nowait(service) return self:restart(service, nil, { wait = false }) end

--- sys:link(name) -> the link of edge "caller->callee" (an fl.proxy link with
--- its listen and upstream addresses), nil in direct mode or for no such edge
function System:link(name)
  if not self.links_by_name[name] then return nil end
  return sysmod.System.link(self, name)
end

local function check(r, what)
  if r.status < 200 or r.status >= 300 then
    error(string.format("%s: HTTP %d %s", what, r.status, r.body or ""), 3)
  end
  return r.json
end

local function post(self, service, path, body, key)
  local headers = key and { "Idempotency-Key: " .. key } or nil
  return http.post(self:url(service, path), { json = body, headers = headers, timeout = 30 })
end

--- sys:member{balance=, address=, name=, bank=, bank_balance=} -> {id, account, bank, ...}
-- Registers a member, opens a money wallet and a bank account at extbank
-- (bank_balance, default = balance), registers it with banking, and tops
-- the wallet up with `balance` through a real top-up saga.
function System:member(o)
  o = o or {}
  self._n = self._n + 1
  local m = check(post(self, "membership", "/membership/register", {
    name = o.name or ("member-" .. self._n), address = o.address or "강남구",
  }), "register member")
  local id = m.membershipId
  check(post(self, "money", "/money/create-member-money", { membershipId = id }), "create wallet")
  local bank = o.bank or "KB"
  local account = string.format("%s-%d-%d", id, os.time() % 100000, self._n)
  local bal = o.bank_balance or o.balance or 0
  check(post(self, "extbank", "/bank/accounts", {
    bankName = bank, bankAccountNumber = account, owner = m.name, balance = bal,
  }), "open bank account")
  check(post(self, "banking", "/banking/account/register", {
    membershipId = id, bankName = bank, bankAccountNumber = account,
  }), "register bank account")
  if (o.balance or 0) > 0 then
    local s = check(post(self, "remittance", "/topup/request", { membershipId = id, amount = o.balance }),
      "top-up")
    if s.state ~= "COMPLETED" then
      error("top-up of member " .. id .. " ended " .. tostring(s.state) .. " " .. tostring(s.reason), 2)
    end
  end
  return { id = id, name = m.name, address = m.address, bank = bank, account = account }
end

--- sys:balance(id) -> wallet balance (KRW)
function System:balance(id)
  local r = http.get(self:url("money", "/money/" .. tostring(id)))
  return check(r, "balance").balance
end

--- sys:saga(id) -> the saga with its steps
function System:saga(id)
  return check(http.get(self:url("remittance", "/remittance/request/" .. tostring(id))), "saga")
end

--- sys:sagas([state]) -> list of sagas ("open" for every non-terminal one)
function System:sagas(state)
  local q = state and ("?state=" .. state) or ""
  return check(http.get(self:url("remittance", "/sagas" .. q)), "sagas").sagas
end

--- sys:transfer{from=, to=, amount=, key=, deadline_ms=} / {from=, bank=, account=, amount=, ...} -> response
-- deadline_ms: this saga's pre-pivot deadline (100..600000; default: --saga-deadline)
function System:transfer(o)
  local body = { fromMembershipId = o.from, amount = o.amount, wait = o.wait, deadlineMs = o.deadline_ms }
  if o.to then
    body.toMembershipId = o.to; body.remittanceType = 0
  else
    body.toBankName = o.bank; body.toBankAccountNumber = o.account; body.remittanceType = 1
  end
  return post(self, "remittance", "/remittance/request", body, o.key)
end

--- sys:topup{member=, amount=, key=, deadline_ms=} -> response
function System:topup(o)
  return post(self, "remittance", "/topup/request",
    { membershipId = o.member, amount = o.amount, wait = o.wait, deadlineMs = o.deadline_ms }, o.key)
end

--- sys:ledger() -> money snapshot {accounts, sum, wallets, transit, corp}
function System:ledger()
  return check(http.get(self:url("money", "/money/snapshot")), "ledger")
end

--- sys:bank() -> extbank snapshot {accounts, total, corp}
function System:bank()
  return check(http.get(self:url("extbank", "/bank/accounts")), "bank")
end

--- sys:chaos{down=, latency_ms=, error_rate=, reject_rate=, timeout_after_apply=, ...}
function System:chaos(o)
  return check(post(self, "extbank", "/bank/chaos", o), "chaos")
end

--- sys:breakers(service) -> list of breakers with state and config
function System:breakers(service)
  return check(http.get(self:url(service, "/breakers")), "breakers").breakers
end

--- sys:breaker(service, name) -> one breaker ("remittance->banking")
function System:breaker(service, name)
  for _, b in ipairs(self:breakers(service)) do
    if b.name == name then return b end
  end
  return nil
end

--- sys:events(service [, after]) -> events of the service's outbox after seq
function System:events(service, after)
  local r = http.get(self:url(service, "/events?after=" .. (after or 0) .. "&limit=10000"))
  return check(r, "events").events
end

--- sys:conserved() -> true, or false and what is wrong (ledger sum 0, TRANSIT 0,
-- no negative wallet, bank CORP mirrors money CORP)
function System:conserved()
  local l, b = self:ledger(), self:bank()
  if l.sum ~= 0 then return false, "ledger sums to " .. l.sum end
  if l.transit ~= 0 then return false, "TRANSIT holds " .. l.transit end
  for _, a in ipairs(l.accounts) do
    if a.membershipId and a.balance < 0 then return false, a.account .. " is negative" end
  end
  if b.corp ~= -l.corp then
    return false, string.format("bank CORP %d does not mirror money CORP %d", b.corp, l.corp)
  end
  return true
end

-- ------------------------------------- faults on links (through fl.proxy)
local function need_link(self, link)
  if not self.proxy_api then
    error("this reference system runs with direct edges (no fault-injector links)", 3)
  end
  if not self.links_by_name[link] then error("no link '" .. tostring(link) .. "'", 3) end
  return sysmod.System.link(self, link)
end

--- sys:fault(link, toxic) -> toxic name. toxic = {type=, attributes=, stream=, name=, toxicity=}
--- (leased, and removed when the test ends if not before)
function System:fault(link, toxic)
  local t = {}
  for k, v in pairs(toxic) do t[k] = v end
  t.attributes = t.attributes or {}
  return need_link(self, link):toxic(t).name
end

--- sys:unfault(link, name) removes one toxic
function System:unfault(link, name)
  need_link(self, link):toxic_handle(name):remove(true)
end

--- sys:cut(link) / sys:mend(link): the link refuses connections / works again
function System:cut(link) need_link(self, link):disable() end
function System:mend(link) need_link(self, link):enable() end

--- sys:quiesce{within=} waits until no saga is open; returns the open count
function System:quiesce(o)
  o = o or {}
  local deadline = os.time() + (o.within or 20)
  local open
  repeat
    open = #self:sagas("open")
    if open == 0 then return 0 end
    local ok, fl = pcall(require, "faultline")
    if ok and fl.sleep then fl.sleep(0.1) end
  until os.time() > deadline
  return open
end

--- sys:restart(service [, {extra transferd args} [, {wait = false}]]) -> by
-- default waits until /startupz and /readyz pass; wait = false returns once
-- the process listens
function System:restart(service, extra, o)
  local ok, err = ref_c.restart(self.data, service, extra, not (o and o.wait == false))
  if not ok then error(err, 2) end
  self:reload()
  self.links = self.links_by_name
  return true
end

return M
