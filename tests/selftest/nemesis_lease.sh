#!/bin/sh
# fl.nemesis on a system faultline did not write (tests/selftest/up/): the
# same seed draws the same schedule, a schedule with a workload runs and
# heals (tests/selftest/up/chaos.lua), and every fault it makes is leased:
# a runner SIGKILLed while a nemesis latency toxic is on a link leaves no
# fault behind once its lease (here 1 s) lapses.
set -eu
: "${FAULTLINE:=build/faultline}"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
tmp=$(mktemp -d)
FL=$(cd "$(dirname "$FAULTLINE")" && pwd)/$(basename "$FAULTLINE")
S=tests/selftest/up/chaos.lua
runner=""
cleanup() {
	[ -n "$runner" ] && kill -9 "$runner" 2>/dev/null || true
	"$FL" down --data "$tmp/d" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$FL" up tests/selftest/up/pair.lua --data "$tmp/d" >"$tmp/up.out" 2>&1 || fail "up: $(cat "$tmp/up.out")"
api=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['proxy']['api'])" "$tmp/d/topology.json")

# --- same seed, same schedule; another seed, another ---
for run in a:7 b:7 c:8; do
	"$FL" run "$S" -e FL_SYS="$tmp/d" -e PLAN="$tmp/plan-${run%%:*}" --grep "draws" --seed "${run#*:}" \
		>"$tmp/run.out" 2>&1 || fail "plan run: $(cat "$tmp/run.out")"
done
cmp -s "$tmp/plan-a" "$tmp/plan-b" || fail "seed 7 drew two schedules"
! cmp -s "$tmp/plan-a" "$tmp/plan-c" || fail "seeds 7 and 8 drew the same schedule"

# --- a schedule with clients: history with fault windows, healed after ---
"$FL" run "$S" -e FL_SYS="$tmp/d" -e DURATION=3 --seed 7 >"$tmp/run.out" 2>&1 || fail "chaos run: $(cat "$tmp/run.out")"
grep -q "ops (.*faults: " "$tmp/run.out" || fail "no workload line: $(cat "$tmp/run.out")"

# --- SIGKILL of the runner with a 30 s latency fault on the link ---
"$FL" run "$S" -e FL_SYS="$tmp/d" -e DURATION=60 -e HOLD=30 -e KINDS=latency \
	-e FL_PROXY_LEASE_MS=1000 --grep "clients record" --seed 7 >"$tmp/kill.out" 2>&1 &
runner=$!
i=0
until curl -sf "$api/proxies/front-%3Eback/toxics" | grep -q nemesis; do
	i=$((i+1)); [ $i -lt 300 ] || fail "no nemesis toxic appeared: $(cat "$tmp/kill.out")"; sleep 0.05
done
kill -9 "$runner"; runner=""
t0=$(date +%s)
i=0
while curl -sf "$api/proxies/front-%3Eback/toxics" | grep -q nemesis; do
	i=$((i+1)); [ $i -lt 100 ] || fail "the nemesis fault outlived its runner's lease: $(curl -s "$api/proxies/front-%3Eback/toxics")"
	sleep 0.05
done
echo "ok: schedules by seed, workload under a nemesis, fault removed $(( $(date +%s) - t0 )) s after the runner's SIGKILL"
