#!/bin/sh
# faultline up/status/logs/kill/restart/down on a small system that is not
# the reference one (two python3 one-file services, tests/selftest/up/):
# readiness in dependency order through a fault-injector link, a failed
# start naming the service with its log tail, a call without a link refused,
# status --json, logs, kill and restart, the down report, and the lease:
# the system is torn down once its driver is SIGKILLed, unless --keep.
set -eu
: "${FAULTLINE:=build/faultline}"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
tmp=$(mktemp -d)
FL=$(cd "$(dirname "$FAULTLINE")" && pwd)/$(basename "$FAULTLINE")
TOPO=$(pwd)/tests/selftest/up/pair.lua
drivers=""
cleanup() {
	for d in "$tmp"/d*; do
		[ -f "$d/topology.json" ] && "$FL" down --data "$d" >/dev/null 2>&1 || true
	done
	for p in $drivers; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { # want, command...
	want=$1; shift
	rc=0; "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ $rc -eq "$want" ] || fail "$*: exit $rc, want $want; $(cat "$tmp/out" "$tmp/err" | head -20)"
}
field() { # file, python expression on t
	python3 -c "import json,sys; t=json.load(open(sys.argv[1])); print($2)" "$1"
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# --- up: both ready, front calls back through its link ---
D=$tmp/d1
expect_rc 0 "$FL" up "$TOPO" --data "$D"
grep -q "^pair up in" "$tmp/out" || fail "up line: $(cat "$tmp/out")"
grep -q "front->back" "$tmp/out" || fail "link not listed: $(cat "$tmp/out")"
front=$(field "$D/topology.json" "t['services']['front']['url']")
link=$(field "$D/topology.json" "t['links']['front->back']['listen']")
env_link=$(field "$D/topology.json" "t['services']['front']['env']['FL_LINK_BACK']")
[ "$env_link" = "http://$link" ] || fail "FL_LINK_BACK $env_link, link listens on $link"
[ "$(field "$D/topology.json" "t['services']['front']['env']['BACK_URL']")" = "http://$link" ] || fail "{link:back} not expanded"
curl -sf "$front/call" | grep -q '"FL_LINK_BACK": "back"' || fail "front did not reach back through its link"
# the link is a real fault-injector link: a partition breaks the call
api=$(field "$D/topology.json" "t['proxy']['api']")
curl -sf -XPOST "$api/proxies/front-%3Eback" -d '{"enabled":false}' >/dev/null || fail "disable link"
curl -sf "$front/call" | grep -q '"FL_LINK_BACK": "error' || fail "call went around the disabled link"
curl -sf -XPOST "$api/proxies/front-%3Eback" -d '{"enabled":true}' >/dev/null

# --- status --json, logs ---
expect_rc 0 "$FL" status --data "$D" --json
python3 -c "
import json,sys
t=json.load(open(sys.argv[1]))
for n in ('back','front'):
    s=t['services'][n]
    assert s['alive'] is True and s['ready'] is True and s['state']=='ready', (n, s)
" "$tmp/out" || fail "status --json: $(cat "$tmp/out")"
expect_rc 0 "$FL" logs back --data "$D"
grep -q "back listening on" "$tmp/out" || fail "logs back: $(cat "$tmp/out")"
expect_rc 2 "$FL" logs nosuch --data "$D"

# --- kill, status, restart on the same port ---
back_pid=$(field "$D/topology.json" "t['services']['back']['pid']")
back_url=$(field "$D/topology.json" "t['services']['back']['url']")
expect_rc 0 "$FL" kill back --data "$D"
i=0; until gone "$back_pid"; do i=$((i+1)); [ $i -lt 200 ] || fail "back survived kill"; sleep 0.05; done
expect_rc 1 "$FL" status --data "$D"
grep -q "back .* down" "$tmp/out" || fail "status after kill: $(cat "$tmp/out")"
expect_rc 0 "$FL" restart back --data "$D"
[ "$(field "$D/topology.json" "t['services']['back']['url']")" = "$back_url" ] || fail "restart moved back"
[ "$(field "$D/topology.json" "t['services']['back']['pid']")" != "$back_pid" ] || fail "restart kept the pid"
curl -sf "$front/call" | grep -q '"FL_LINK_BACK": "back"' || fail "front cannot reach the restarted back"
expect_rc 0 "$FL" logs back --data "$D"
[ "$(grep -c "back listening on" "$tmp/out")" -eq 2 ] || fail "log of both runs: $(cat "$tmp/out")"
expect_rc 2 "$FL" kill nosuch --data "$D"

# --- down reports each exit (a paused and a killed service included) ---
expect_rc 0 "$FL" pause front --data "$D"
expect_rc 0 "$FL" kill back --data "$D"
expect_rc 1 "$FL" down --data "$D"
grep -q "back .*killed by SIGKILL" "$tmp/out" || fail "down report: $(cat "$tmp/out")"
grep -q "front .*exited 0" "$tmp/out" || fail "down report (paused front): $(cat "$tmp/out")"
grep -q "proxy .*exited 0" "$tmp/out" || fail "down report (proxy): $(cat "$tmp/out")"
[ ! -f "$D/topology.json" ] && [ -f "$D/topology.down.json" ] || fail "topology.json not retired"
expect_rc 2 "$FL" status --data "$D"

# --- a service that does not become ready: named, with its log tail; nothing left ---
cat >"$tmp/bad.lua" <<LUA
return { name = "bad", services = {
  { name = "ok", command = "python3", args = { "$(pwd)/tests/selftest/up/svc.py", "--port", "{port}" },
    ready = { http = "/readyz" } },
  { name = "broken", command = "python3",
    args = { "$(pwd)/tests/selftest/up/svc.py", "--port", "{port}", "--fail-start" },
    after = { "ok" }, ready = { http = "/readyz" }, timeout = 5 },
} }
LUA
expect_rc 3 "$FL" up "$tmp/bad.lua" --data "$tmp/d2"
grep -q "service 'broken' is not ready" "$tmp/err" || fail "readiness failure: $(cat "$tmp/err")"
grep -q "exited 3" "$tmp/err" || fail "exit status not named: $(cat "$tmp/err")"
grep -q "cannot start: --fail-start given" "$tmp/err" || fail "log tail missing: $(cat "$tmp/err")"
ok_pid=$(grep -o '"pid":[0-9]*' "$tmp/d2/run/ok.exit" 2>/dev/null | grep -o '[0-9]*' || true)
[ -n "$ok_pid" ] || fail "the started service was not stopped (no exit record)"

# --- a call without a link is an error, never a direct edge ---
cat >"$tmp/nolink.lua" <<'LUA'
return { services = {
  { name = "a", command = "true" },
  { name = "b", command = "true", env = { A_URL = "{link:a}" } },
} }
LUA
expect_rc 2 "$FL" up "$tmp/nolink.lua" --data "$tmp/d3"
grep -q "service 'b': env.A_URL: {link:a}, but 'a' is not in its calls" "$tmp/err" || fail "missing link: $(cat "$tmp/err")"
[ ! -f "$tmp/d3/topology.json" ] || fail "something started"
printf 'return { services = { { name = "a" command = "x" } } }\n' >"$tmp/syntax.lua"
expect_rc 2 "$FL" up "$tmp/syntax.lua" --data "$tmp/d3"
grep -q "syntax.lua:1:" "$tmp/err" || fail "syntax error without file:line: $(cat "$tmp/err")"

# --- the lease: SIGKILL of the driver tears the system down ---
sh -c "\"$FL\" up \"$TOPO\" --data \"$tmp/d4\" --lease 1 >\"$tmp/d4.out\" 2>&1 && exec sleep 60" &
drv=$!; drivers="$drivers $drv"
i=0; until [ -f "$tmp/d4/topology.json" ] && grep -q "lease" "$tmp/d4.out" 2>/dev/null; do
	i=$((i+1)); [ $i -lt 400 ] || fail "up under a driver: $(cat "$tmp/d4.out")"; sleep 0.05
done
p1=$(field "$tmp/d4/topology.json" "t['services']['back']['pid']")
p2=$(field "$tmp/d4/topology.json" "t['proxy']['pid']")
[ "$(field "$tmp/d4/topology.json" "t['warden']['driver']")" = "$drv" ] || fail "driver is not the caller"
kill -9 "$drv"
i=0; until gone "$p1" && gone "$p2" && [ -f "$tmp/d4/down.json" ]; do
	i=$((i+1)); [ $i -lt 300 ] || fail "system outlived its driver's lease"; sleep 0.05
done
grep -q "lease ended" "$tmp/d4/down.json" || fail "down.json: $(cat "$tmp/d4/down.json")"

# --- --keep: no lease, the system outlives its driver ---
sh -c "\"$FL\" up \"$TOPO\" --data \"$tmp/d5\" --keep --lease 1 >\"$tmp/d5.out\" 2>&1 && exec sleep 60" &
drv=$!; drivers="$drivers $drv"
i=0; until grep -q "kept" "$tmp/d5.out" 2>/dev/null; do
	i=$((i+1)); [ $i -lt 400 ] || fail "up --keep: $(cat "$tmp/d5.out")"; sleep 0.05
done
kill -9 "$drv"
sleep 2
expect_rc 0 "$FL" status --data "$tmp/d5"
expect_rc 0 "$FL" down --data "$tmp/d5"
echo "ok: up/status/logs/kill/restart/down, readiness failure, missing link, lease"
