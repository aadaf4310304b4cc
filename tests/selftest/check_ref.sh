#!/bin/sh
# The checkers against the real reference system: for each planted bug, the
# fault sequence that reveals it (docs/checkers.md) makes the named checker
# report the named invariant violated; on the correct system the same
# sequences pass. QUICK=1 (make test): a few bugs and the correct system's
# saga sequences; QUICK=0: every bug.
set -eu
: "${FAULTLINE:=build/faultline}" "${QUICK:=1}"
[ -x "$FAULTLINE" ] || { echo "skip: $FAULTLINE not built"; exit 77; }
tmp=$(mktemp -d)
systems=""
cleanup() {
	for d in $systems; do "$FAULTLINE" ref down --data "$d" >/dev/null 2>&1 </dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

down() { "$FAULTLINE" ref down --data "$1" >/dev/null 2>&1 </dev/null || true; }

# up NAME [--bug B] [-- ARGS] -> $data
up() {
	name=$1; shift
	data="$tmp/ref-$name"
	systems="$systems $data"
	# one retry: a start can fail when the binary is being rebuilt meanwhile
	if ! timeout 60 "$FAULTLINE" ref up --data "$data" "$@" >"$tmp/up-$name.log" 2>&1 </dev/null &&
	   ! { down "$data"; rm -rf "$data"; sleep 1
	       timeout 60 "$FAULTLINE" ref up --data "$data" "$@" >"$tmp/up-$name.log" 2>&1 </dev/null; }; then
		if [ "$name" = correct ]; then
			echo "skip: the reference system does not start: $(tail -2 "$tmp/up-$name.log")"
			exit 77
		fi
		fail "ref up $name: $(tail -5 "$tmp/up-$name.log")"
	fi
}

# run SCENARIO DATA WANT_EXIT [GREP...]: run one scenario file against a system
run() {
	sc=$1 data=$2 want=$3; shift 3
	rc=0
	timeout 120 "$FAULTLINE" run "$tmp/$sc.lua" -e "FL_REF=$data" >"$tmp/out" 2>&1 </dev/null || rc=$?
	[ "$rc" -eq "$want" ] || fail "$sc on $(basename "$data"): exit $rc, want $want: $(grep -E 'FAIL|✗|error' "$tmp/out" | head -8)"
	for g in "$@"; do
		grep -q -- "$g" "$tmp/out" || fail "$sc on $(basename "$data"): no '$g' in: $(grep -E '^check|FAIL' "$tmp/out" | head -12)"
	done
	echo "ok   $sc on $(basename "$data") (exit $rc)"
}

# ---- the scenarios ----
head='local fl = require "faultline"
local sys = fl.ref.system(fl.env.FL_REF)
local function now() return math.floor(fl.now() * 1e9) end
describe("check", function() it("'
cat >"$tmp/reject.lua" <<EOF2
$head external transfer rejected by the bank", function()
  local a = sys:member{ balance = 5000 }
  sys:chaos{ reject_rate = 1 }
  sys:transfer{ from = a.id, bank = "KB", account = a.account, amount = 700 }
  sys:chaos{ reject_rate = 0 }
  sys:transfer{ from = a.id, bank = "KB", account = a.account, amount = 300 }
  local r = fl.check.saga(sys, { wait = 10 }); print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/unknown.lua" <<EOF2
$head deposit applied, answer lost", function()
  local a = sys:member{ balance = 5000 }
  sys:chaos{ timeout_after_apply = 1 }
  sys:transfer{ from = a.id, bank = "KB", account = a.account, amount = 700, wait = false }
  fl.sleep(3)
  sys:chaos{ timeout_after_apply = 0 }
  local r = fl.check.saga(sys, { wait = 20 }); print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/dupcredit.lua" <<EOF2
$head credit answers lost, retried", function()
  local a = sys:member{ balance = 5000 }
  local b = sys:member{ balance = 100 }
  local t = fl.proxy.link("remittance->money"):toxic{ type = "http_drop_response", path = "/money/credit" }
  for i = 1, 3 do sys:transfer{ from = a.id, to = b.id, amount = 100 + i, wait = false } end
  fl.sleep(1)
  t:remove()
  local r = fl.check.saga(sys, { wait = 30 }); print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/nocomp.lua" <<EOF2
$head credit refused for good", function()
  local a = sys:member{ balance = 5000 }
  local b = sys:member{ balance = 100 }
  local t = fl.proxy.link("remittance->money"):toxic{ type = "http_abort", path = "/money/credit",
    status = 400, body = '{"error":"ACCOUNT_CLOSED","status":400}' }
  for i = 1, 3 do sys:transfer{ from = a.id, to = b.id, amount = 100 + i, wait = false } end
  fl.sleep(1)
  t:remove()
  local r = fl.check.saga(sys, { wait = 30 }); print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/cqrs.lua" <<EOF2
$head read model by address", function()
  local a = sys:member{ balance = 50000, address = "강남구" }
  local b = sys:member{ balance = 1000, address = "강남구" }
  for i = 1, 3 do sys:transfer{ from = a.id, to = b.id, amount = 100 + i } end
  sys:transfer{ from = a.id, bank = "KB", account = b.account, amount = 700 }
  local r = fl.check.saga(sys, { wait = 10, addresses = { "강남구" } }); print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/deadline.lua" <<EOF2
$head participant never answers", function()
  local a = sys:member{ balance = 5000 }
  local b = sys:member{ balance = 100 }
  local t = fl.proxy.link("remittance->money"):toxic{ type = "http_delay", path = "/money/debit", delay = 20000 }
  sys:transfer{ from = a.id, to = b.id, amount = 100, wait = false }
  fl.sleep(5)
  local r = fl.check.saga(sys, { wait = 3, deadline_ms = 2000, grace_ms = 1000 })
  print(r.text)
  t:remove()
  r:ok()
end) end)
EOF2
cat >"$tmp/trip.lua" <<EOF2
$head bank down under concurrent transfers", function()
  local a = sys:member{ balance = 50000 }
  sys:chaos{ error_rate = 1 }
  fl.parallel(4, function()
    for i = 1, 6 do
      sys:transfer{ from = a.id, bank = "KB", account = a.account, amount = 10 + i, wait = false }
      fl.sleep(0.05)
    end
  end)
  fl.sleep(1)
  sys:chaos{ error_rate = 0 }
  fl.sleep(0.5)
  local b = sys:breaker("banking", "banking->extbank")
  local r = fl.check.breaker(fl.proxy.link("banking->extbank"),
    { name = b.name, config = b.config, sys = sys, service = "banking" })
  print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/verify.lua" <<EOF2
$head trip, wait, then concurrent trial calls", function()
  local url = sys:url("banking", "/banking/account/verify")
  local body = { bankName = "KB", bankAccountNumber = "x" }
  sys:chaos{ error_rate = 1 }
  for i = 1, 8 do fl.http.post(url, { json = body, timeout = 5, raise = false }) end
  sys:chaos{ error_rate = 0, latency_ms = 300 }
  fl.sleep(5.3)
  fl.parallel(10, function() fl.http.post(url, { json = body, timeout = 5, raise = false }) end)
  sys:chaos{ latency_ms = 0 }
  fl.sleep(0.3)
  local b = sys:breaker("banking", "banking->extbank")
  local r = fl.check.breaker(fl.proxy.link("banking->extbank"),
    { name = b.name, config = b.config, sys = sys, service = "banking" })
  print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/liveness.lua" <<EOF2
$head kill a dependency under load", function()
  local p = fl.check.prober("banking", { liveness = sys:url("banking", "/livez"),
    readiness = sys:url("banking", "/readyz"), period = 0.1, timeout = 1 })
  local ev = {}
  fl.sleep(0.5)
  ev[#ev + 1] = { event = "fault", action = "added", id = "k", what = "kill", target = "extbank", t = now() }
  sys:kill("extbank")
  fl.parallel(2, function()
    local stop = fl.now() + 1.5
    while fl.now() < stop do
      fl.http.post(sys:url("banking", "/banking/account/verify"),
        { json = { bankName = "KB", bankAccountNumber = "x" }, timeout = 0.5, raise = false })
      fl.sleep(0.05)
    end
  end)
  sys:restart("extbank")
  ev[#ev + 1] = { event = "fault", action = "removed", id = "k", what = "kill", target = "extbank", t = now() }
  fl.sleep(0.5)
  p:stop()
  local r = fl.check.probes("banking", { prober = p, events = ev, period = 0.1, timeout = 1 })
  print(r.text); r:ok()
end) end)
EOF2
cat >"$tmp/drain.lua" <<EOF2
$head SIGTERM under load", function()
  local svc = "banking"
  local p = fl.check.prober(svc, { readiness = sys:url(svc, "/readyz"), period = 0.1, timeout = 1 })
  local ev = {}
  fl.sleep(0.4)
  sys:chaos{ latency_ms = 400 }
  local tasks = {}
  for k = 1, 4 do
    tasks[k] = fl.spawn(function()
      for i = 1, 3 do
        ev[#ev + 1] = { t = now(), process = k, type = "invoke", f = "verify", value = { service = svc } }
        local r = fl.http.post(sys:url(svc, "/banking/account/verify"),
          { json = { bankName = "KB", bankAccountNumber = "x" }, timeout = 3, raise = false })
        ev[#ev + 1] = { t = now(), process = k, type = r.error and "info" or "ok", f = "verify",
                        value = { service = svc, error = r.error, status = r.status } }
      end
    end)
  end
  fl.sleep(0.2)
  ev[#ev + 1] = { event = "process", action = "sigterm", service = svc, t = now() }
  sys:terminate(svc)
  fl.join(table.unpack(tasks))
  ev[#ev + 1] = assert(fl.check.exited(sys, svc, 20))
  p:stop()
  sys:chaos{ latency_ms = 0 }
  local r = fl.check.probes(svc, { prober = p, events = ev, period = 0.1, timeout = 1, grace = 15 })
  print(r.text)
  r:ok()
end) end)
EOF2

# ---- the correct system passes ----
up correct
for sc in reject unknown dupcredit nocomp cqrs; do
	run "$sc" "$tmp/ref-correct" 0 "valid true"
done
if [ "$QUICK" = 0 ]; then
	run trip "$tmp/ref-correct" 0 "valid true"
	run verify "$tmp/ref-correct" 0 "ok   C2" "ok   C6"
	run liveness "$tmp/ref-correct" 0 "ok   H1"
	run drain "$tmp/ref-correct" 0 "ok   H2" "ok   H4"
	up correct-deadline -- --saga-deadline 2s
	run deadline "$tmp/ref-correct-deadline" 0 "ok   S1"
	down "$tmp/ref-correct-deadline"
fi
down "$tmp/ref-correct"

# ---- each planted bug is caught by its invariant ----
bug() { # name scenario greps...
	b=$1 sc=$2; shift 2
	up "$b" --bug "$b"
	run "$sc" "$tmp/ref-$b" 1 "$@"
	down "$tmp/ref-$b"
}
bug no-refund reject "FAIL S2"
bug non-idempotent-credit dupcredit "FAIL S4"
bug breaker-halfopen-flood verify "FAIL C2"
bug ready-while-draining drain "FAIL H2"
if [ "$QUICK" = 0 ]; then
	bug refund-on-unknown unknown "FAIL S5"
	bug internal-no-compensation nocomp "FAIL S2"
	bug query-increases-only cqrs "FAIL Q1"
	bug breaker-never-opens trip "FAIL C3"
	bug breaker-stuck-open verify "FAIL C6"
	bug liveness-checks-deps liveness "FAIL H1"
	bug drop-inflight-on-sigterm drain "FAIL H4"
	up no-saga-deadline --bug no-saga-deadline -- --saga-deadline 2s
	run deadline "$tmp/ref-no-saga-deadline" 1 "FAIL S1"
fi
echo ok
