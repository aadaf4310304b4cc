#!/bin/sh
# `faultline proxy` as a process: --help, usage errors, the startup line with
# port 0, --config with toxics, --events sink, token rule, SIGTERM/SIGINT exit
# 0, API port in use exit 3, and the lease: SIGKILL the controlling process
# and every fault is gone within the lease TTL.
set -eu
: "${FAULTLINE:=build/faultline}" "${FL_TEST_HELPERS:=build/tests/helpers}"
command -v curl >/dev/null 2>&1 || { echo "skip: curl is not installed"; exit 77; }
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }

wait_line() { # file
	i=0
	while ! grep -q "listening on" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "no startup line in $1"
		sleep 0.05
	done
}

# --help and usage errors
"$FAULTLINE" proxy --help | grep -q "Usage: faultline proxy" || fail "--help"
rc=0; "$FAULTLINE" proxy --bogus 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"
rc=0; "$FAULTLINE" proxy --seed xyz 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "bad seed: exit $rc, want 2"
rc=0; "$FAULTLINE" proxy --listen 0.0.0.0:0 2>"$tmp/tok.err" || rc=$?
[ $rc -eq 2 ] || fail "non-loopback without token: exit $rc, want 2"
grep -q -- "--token" "$tmp/tok.err" || fail "token refusal message: $(cat "$tmp/tok.err")"
# tokens from a file or the environment (never on the command line)
printf '  s3cret-file\n' >"$tmp/token"
"$FAULTLINE" proxy --listen 127.0.0.1:0 --token-file "$tmp/token" >"$tmp/t.out" 2>/dev/null &
tpid=$!; pids="$pids $tpid"
wait_line "$tmp/t.out"
tapi=$(sed -n 's/^faultline proxy: listening on //p' "$tmp/t.out")
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$tapi/proxies")" = 401 ] || fail "token-file: no 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-file' "http://$tapi/proxies")" = 200 ] ||
	fail "token-file: token refused"
kill "$tpid"; wait "$tpid" 2>/dev/null || true
FAULTLINE_TOKEN=s3cret-env "$FAULTLINE" proxy --listen 127.0.0.1:0 >"$tmp/t2.out" 2>/dev/null &
tpid=$!; pids="$pids $tpid"
wait_line "$tmp/t2.out"
tapi=$(sed -n 's/^faultline proxy: listening on //p' "$tmp/t2.out")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-env' "http://$tapi/proxies")" = 200 ] ||
	fail "FAULTLINE_TOKEN: token refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-enx' "http://$tapi/proxies")" = 401 ] ||
	fail "FAULTLINE_TOKEN: wrong token accepted"
# clients read the token the same way: contract record
FAULTLINE_TOKEN=s3cret-env "$FAULTLINE" contract record --proxy "http://$tapi" -o "$tmp/rec.jsonl" 2>/dev/null ||
	fail "contract record with FAULTLINE_TOKEN"
printf 's3cret-env\n' >"$tmp/token2"
"$FAULTLINE" contract record --proxy "http://$tapi" --token-file "$tmp/token2" -o "$tmp/rec.jsonl" 2>/dev/null ||
	fail "contract record --token-file"
rc=0; env -u FAULTLINE_TOKEN -u FAULTLINE_PROXY_TOKEN "$FAULTLINE" contract record --proxy "http://$tapi" \
	-o "$tmp/rec.jsonl" 2>"$tmp/rec.err" || rc=$?
[ $rc -ne 0 ] && grep -q 401 "$tmp/rec.err" || fail "contract record without a token: exit $rc"
kill "$tpid"; wait "$tpid" 2>/dev/null || true
: >"$tmp/empty"
rc=0; "$FAULTLINE" proxy --listen 127.0.0.1:0 --token-file "$tmp/empty" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "empty token file: exit $rc, want 2"
rc=0; "$FAULTLINE" proxy --listen 127.0.0.1:0 --allow-upstream 10.0.0.0/40 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "bad --allow-upstream: exit $rc, want 2"
echo '[{"name":"x"' >"$tmp/bad.json"
rc=0; "$FAULTLINE" proxy --listen 127.0.0.1:0 --config "$tmp/bad.json" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "malformed config: exit $rc, want 2"

"$FL_TEST_HELPERS/proxy_echo" >"$tmp/echo.port" & pids="$pids $!"
while [ ! -s "$tmp/echo.port" ]; do sleep 0.05; done
ep=$(cat "$tmp/echo.port")

# config with toxics, events sink
cat >"$tmp/config.json" <<JSON
[{"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:$ep",
  "toxics": [{"type": "latency", "attributes": {"latency": 50}}]},
 {"name": "cache", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:$ep", "enabled": false}]
JSON
"$FAULTLINE" proxy --listen 127.0.0.1:0 --config "$tmp/config.json" --events "$tmp/ev.jsonl" \
	--seed 9 >"$tmp/a.out" 2>"$tmp/a.err" & ppid=$!; pids="$pids $ppid"
wait_line "$tmp/a.out"
line=$(head -n 1 "$tmp/a.out")
echo "$line" | grep -Eq '^faultline proxy: listening on 127\.0\.0\.1:[1-9][0-9]*$' || fail "line: $line"
api=${line#faultline proxy: listening on }
curl -sf "http://$api/proxies/db" | grep -q '"latency":50' || fail "config toxics not loaded"
curl -sf "http://$api/proxies/cache" | grep -q '"enabled":false' || fail "config enabled:false"
grep -q "seed 9" "$tmp/a.err" || fail "seed not printed"
# port in use: exit 3
rc=0; "$FAULTLINE" proxy --listen "$api" 2>/dev/null || rc=$?
[ $rc -eq 3 ] || fail "API address in use: exit $rc, want 3"
# traffic through db lands in the sink
dbl=$(curl -sf "http://$api/proxies/db" | sed 's/.*"listen":"\([^"]*\)".*/\1/')
printf 'hello' | timeout 5 curl -s "telnet://$dbl" --max-time 1 >/dev/null 2>&1 || true
i=0
while ! grep -q '"connection_close"' "$tmp/ev.jsonl" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 60 ] || fail "no connection events in the sink"
	sleep 0.05
done
grep -q '"toxic_added"' "$tmp/ev.jsonl" || fail "no toxic_added event"
kill -TERM $ppid
rc=0; wait $ppid || rc=$?
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc, want 0"

# SIGINT and the lease
"$FAULTLINE" proxy --listen 127.0.0.1:0 >"$tmp/b.out" 2>"$tmp/b.err" & ppid=$!; pids="$pids $ppid"
wait_line "$tmp/b.out"
api=$(sed -n 's/^faultline proxy: listening on //p' "$tmp/b.out")
curl -sf -XPOST "http://$api/proxies" -d "{\"name\":\"l\",\"upstream\":\"127.0.0.1:$ep\",\"listen\":\"127.0.0.1:0\"}" >/dev/null
# the controller: takes a 600 ms lease, adds faults, heartbeats every 100 ms
(
	curl -sf -XPOST "http://$api/lease" -d '{"ttl_ms":600,"holder":"runner"}' >/dev/null
	curl -sf -XPOST "http://$api/proxies/l/toxics" -d '{"type":"latency","attributes":{"latency":100}}' >/dev/null
	curl -sf -XPOST "http://$api/proxies/l/toxics" -d '{"type":"http_abort","attributes":{"status":500}}' >/dev/null
	curl -sf -XPOST "http://$api/proxies/l" -d '{"enabled":false}' >/dev/null
	echo ready >"$tmp/ctl.ready"
	while :; do
		curl -sf -XPOST "http://$api/lease" -d '{"ttl_ms":600,"holder":"runner"}' >/dev/null
		sleep 0.1
	done
) & ctl=$!; pids="$pids $ctl"
while [ ! -f "$tmp/ctl.ready" ]; do sleep 0.05; done
sleep 1	# longer than the TTL: heartbeats keep the faults
curl -sf "http://$api/proxies/l" | grep -q '"latency_downstream"' || fail "faults lapsed while renewed"
# SIGKILL the controller (and its curl children): the lease lapses
kill -9 $ctl $(pgrep -P $ctl) 2>/dev/null || true
t0=$(now_ms)
while curl -sf "http://$api/proxies/l" | grep -q '"toxics":\[{'; do
	[ $(($(now_ms) - t0)) -lt 2000 ] || fail "faults still present 2 s after the controller died"
	sleep 0.02
done
dt=$(($(now_ms) - t0))
[ $dt -le 800 ] || fail "faults removed after $dt ms, lease TTL 600 ms"
curl -sf "http://$api/proxies/l" | grep -q '"enabled":true' || fail "proxy not re-enabled"
echo "lease: faults removed $dt ms after SIGKILL (TTL 600 ms)"
kill -INT $ppid
rc=0; wait $ppid || rc=$?
[ $rc -eq 0 ] || fail "SIGINT: exit $rc, want 0"
echo "ok"
