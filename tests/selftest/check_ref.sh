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
stops="" jobs=""
cleanup() {
	for p in $jobs; do kill "$p" 2>/dev/null || true; done
	for p in $stops; do wait "$p" 2>/dev/null || true; done
	for d in "$tmp"/ref-*; do # every system still up
		[ -f "$d/topology.json" ] && "$FAULTLINE" ref down --data "$d" >/dev/null 2>&1 </dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; exit 1; }

down() { "$FAULTLINE" ref down --data "$1" >/dev/null 2>&1 </dev/null || true; }
# stop a system whose checks are over in the background (its services drain
# for their default 2 s) while the next one starts; cleanup waits for it
down_bg() {
	"$FAULTLINE" ref down --data "$1" >/dev/null 2>&1 </dev/null &
	stops="$stops $!"
}

# up NAME [--bug B] [-- ARGS] -> $data
up() {
	name=$1; shift
	data="$tmp/ref-$name"
	# one retry: a start can fail when the binary is being rebuilt meanwhile
	if ! timeout 60 "$FAULTLINE" ref up --data "$data" --lease 10 --driver $$ "$@" >"$tmp/up-$name.log" 2>&1 </dev/null &&
	   ! { down "$data"; rm -rf "$data"; sleep 1
	       timeout 60 "$FAULTLINE" ref up --data "$data" --lease 10 --driver $$ "$@" >"$tmp/up-$name.log" 2>&1 </dev/null; }; then
		case "$name" in correct*)
			echo "skip: the reference system does not start: $(tail -2 "$tmp/up-$name.log")"
			exit 77
		esac
		fail "ref up $name: $(tail -5 "$tmp/up-$name.log")"
	fi
}

# run SCENARIO DATA WANT_EXIT [GREP...]: run one scenario file against a system
run() {
	sc=$1 data=$2 want=$3; shift 3
	out="$tmp/out-$sc-$(basename "$data")"
	rc=0 t0=$(date +%s.%N)
	timeout 120 "$FAULTLINE" run "$tmp/$sc.lua" -e "FL_REF=$data" >"$out" 2>&1 </dev/null || rc=$?
	[ "$rc" -eq "$want" ] || fail "$sc on $(basename "$data"): exit $rc, want $want: $(grep -E 'FAIL|✗|error' "$out" | head -8)"
	for g in "$@"; do
		grep -q -- "$g" "$out" || fail "$sc on $(basename "$data"): no '$g' in: $(grep -E '^check|FAIL' "$out" | head -12)"
	done
	echo "ok   $sc on $(basename "$data") (exit $rc, $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
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

# both F G: the shell functions F and G at once, each in a subshell of its
# own with its own systems; their outputs in order; fails when either failed.
# For the saga sequences, which check what the coordinator did, not how fast.
both() {
	("$1") >"$tmp/job-1" 2>&1 </dev/null &
	jobs="$!"
	("$2") >"$tmp/job-2" 2>&1 </dev/null &
	jobs="$jobs $!"
	r=0
	for p in $jobs; do wait "$p" || r=1; done
	jobs=""
	cat "$tmp/job-1" "$tmp/job-2"
	[ "$r" -eq 0 ] || exit 1
}

# ---- the correct system passes (two systems: the bank's chaos settings and
# ---- the checker's history are a system's own) ----
up correct-a
up correct-b
correct_a() { for sc in reject dupcredit; do run "$sc" "$tmp/ref-correct-a" 0 "valid true"; done; }
correct_b() { for sc in unknown nocomp cqrs; do run "$sc" "$tmp/ref-correct-b" 0 "valid true"; done; }
both correct_a correct_b
if [ "$QUICK" = 0 ]; then
	run trip "$tmp/ref-correct-a" 0 "valid true"
	run verify "$tmp/ref-correct-a" 0 "ok   C2" "ok   C6"
	run liveness "$tmp/ref-correct-a" 0 "ok   H1"
	run drain "$tmp/ref-correct-a" 0 "ok   H2" "ok   H4"
	up correct-deadline -- --saga-deadline 2s
	run deadline "$tmp/ref-correct-deadline" 0 "ok   S1"
	down_bg "$tmp/ref-correct-deadline"
fi
down_bg "$tmp/ref-correct-a"
down_bg "$tmp/ref-correct-b"

# ---- each planted bug is caught by its invariant ----
bug() { # name scenario greps...
	b=$1 sc=$2; shift 2
	up "$b" --bug "$b"
	run "$sc" "$tmp/ref-$b" 1 "$@"
	down_bg "$tmp/ref-$b"
}
bug_no_refund() { up no-refund --bug no-refund; run reject "$tmp/ref-no-refund" 1 "FAIL S2"; }
bug_dupcredit() {
	up non-idempotent-credit --bug non-idempotent-credit
	run dupcredit "$tmp/ref-non-idempotent-credit" 1 "FAIL S4"
}
both bug_no_refund bug_dupcredit
down_bg "$tmp/ref-no-refund"
down_bg "$tmp/ref-non-idempotent-credit"
bug breaker-halfopen-flood verify "FAIL C2"
bug ready-while-draining drain "FAIL H2"
if [ "$QUICK" = 0 ]; then
	bug_unknown() { up refund-on-unknown --bug refund-on-unknown; run unknown "$tmp/ref-refund-on-unknown" 1 "FAIL S5"; }
	bug_nocomp() {
		up internal-no-compensation --bug internal-no-compensation
		run nocomp "$tmp/ref-internal-no-compensation" 1 "FAIL S2"
	}
	both bug_unknown bug_nocomp
	down_bg "$tmp/ref-refund-on-unknown"
	down_bg "$tmp/ref-internal-no-compensation"
	bug query-increases-only cqrs "FAIL Q1"
	bug breaker-never-opens trip "FAIL C3"
	bug breaker-stuck-open verify "FAIL C6"
	bug liveness-checks-deps liveness "FAIL H1"
	bug drop-inflight-on-sigterm drain "FAIL H4"
	up no-saga-deadline --bug no-saga-deadline -- --saga-deadline 2s
	run deadline "$tmp/ref-no-saga-deadline" 1 "FAIL S1"
	down_bg "$tmp/ref-no-saga-deadline"
fi
for p in $stops; do wait "$p" || true; done
stops=""
echo ok
