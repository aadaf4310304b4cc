#!/bin/sh
# Fault-injector benchmarks, side by side in one run (not part of make test).
# Every comparison runs in alternating rounds (ROUNDS, default 5) and prints
# the median and range of each figure and of the ratios, round by round:
#   1. throughput, no toxics: direct vs HAProxy (TCP mode) vs faultline, iperf3
#      with 1 and 8 streams, as ratios to direct and faultline/HAProxy
#   2. added round-trip latency, 64-byte request/response, no toxics, through
#      faultline and through HAProxy: p50, p99
#   3. latency toxic 100 ms: measured added p50 and p99, as the client sees
#      them and by the kernel's receive timestamp of the reply (without the
#      client's own wakeup), against a bare timer's lateness in the same
#      rounds (the machine's floor: no program wakes more precisely)
#   4. bandwidth toxic accuracy from 10 KB/s to 100 MB/s
#   5. RSS of the proxy with 10,000 concurrent proxied connections
#   6. idle proxies: RSS per idle proxy with 1,000 created; after 10
#      connections through each and the traffic stopped, RSS per proxy once
#      they are idle (their event rings freed, the events kept as text); and
#      RSS after all 1,000 are deleted, against the RSS before
# Targets: throughput >= HAProxy; added p50 < 30 us, p99 < 200 us; latency
# toxic p50 within 1 ms, p99 within 1.55 ms (Toxiproxy 2.4's measured p99
# error); bandwidth within 2 %; RSS < 100 MB; an idle proxy <= 16 KB and RSS
# back within 1 MB of the baseline after 1,000 proxies are deleted.
# Env: BUILD (build), FAULTLINE, FL_TEST_HELPERS ($BUILD/tests/helpers), SECS (iperf3 seconds,
# default 3), CONNS (default 10000), ONLY ("2 3": run only those sections).
set -eu
: "${BUILD:=build}"
: "${FAULTLINE:=$BUILD/faultline}" "${FL_TEST_HELPERS:=$BUILD/tests/helpers}"
SECS=${SECS:-3}
ROUNDS=${ROUNDS:-5}
. bench/lib.sh
CONNS=${CONNS:-10000}
H=$FL_TEST_HELPERS
for tool in iperf3 haproxy curl python3; do
	command -v $tool >/dev/null 2>&1 || { echo "bench/proxy.sh: $tool is not installed (skip)"; exit 77; }
done
# 10,000 connections need ~20,000 descriptors in the proxy alone (a client
# and an upstream socket each). Raise the limit as far as allowed; where the
# hard limit is lower, run as many connections as fit and say so.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ $((CONNS * 2 + 200)) -gt "$NOFILE" ]; then
	WANT=$CONNS
	CONNS=$(((NOFILE - 200) / 2))
	LIMITED="(RLIMIT_NOFILE is $NOFILE here and cannot be raised: $CONNS of $WANT fit; per-connection cost extrapolated)"
fi

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

wait_file() { i=0; while [ ! -s "$1" ]; do i=$((i+1)); [ $i -lt 200 ] || { echo "timeout waiting for $1"; exit 1; }; sleep 0.05; done; }
jget() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
want() { [ -z "${ONLY:-}" ] || case " $ONLY " in *" $1 "*) ;; *) return 1 ;; esac; }
verdict() { if [ "$1" = 1 ]; then echo "ok"; else echo "MISS"; fi; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; } # NAME "k=v k=v ..." -> v

echo "faultline proxy benchmarks ($(nproc) CPUs, $(uname -r))"

# --- processes -------------------------------------------------------------
"$FAULTLINE" proxy --listen 127.0.0.1:0 --log-level warn >"$tmp/api.out" 2>"$tmp/api.err" & FPID=$!
pids="$pids $FPID"
wait_file "$tmp/api.out"
sleep 0.1
API="http://$(sed -n 's/^faultline proxy: listening on //p' "$tmp/api.out")"
"$H/proxy_echo" >"$tmp/echo.port" & pids="$pids $!"
wait_file "$tmp/echo.port"
EP=$(cat "$tmp/echo.port")
IPORT=$(free_port)
iperf3 -s -p "$IPORT" >/dev/null 2>&1 & pids="$pids $!"
HPORT=$(free_port)
HEPORT=$(free_port)
cat >"$tmp/haproxy.cfg" <<EOF
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend f
  bind 127.0.0.1:$HPORT
  default_backend b
backend b
  server s1 127.0.0.1:$IPORT
frontend fe
  bind 127.0.0.1:$HEPORT
  default_backend be
backend be
  server s2 127.0.0.1:$EP
EOF
haproxy -f "$tmp/haproxy.cfg" -db >"$tmp/haproxy.log" 2>&1 & pids="$pids $!"

link() { # name upstream [toxic-json] -> listen port
	curl -sf -XPOST "$API/proxies" -d "{\"name\":\"$1\",\"upstream\":\"$2\",\"listen\":\"127.0.0.1:0\"}" \
		| jget 'd["listen"].split(":")[1]'
	if [ $# -ge 3 ]; then curl -sf -XPOST "$API/proxies/$1/toxics" -d "$3" >/dev/null; fi
}
FL_IPERF=$(link iperf "127.0.0.1:$IPORT")
FL_ECHO=$(link echo "127.0.0.1:$EP")
sleep 0.3

# --- 1. throughput ---------------------------------------------------------
if want 1; then
echo
echo "1. throughput, no toxics (iperf3 -t $SECS, $ROUNDS alternating rounds)"
iperf() { # port streams -> Gbit/s
	iperf3 -c 127.0.0.1 -p "$1" -t "$SECS" -P "$2" -J 2>/dev/null \
		| jget 'round(d["end"]["sum_received"]["bits_per_second"]/1e9, 3)'
}
for P in 1 8; do
	D="" HA="" FL="" FH="" r=0
	while [ $r -lt "$ROUNDS" ]; do
		d=$(iperf "$IPORT" $P); h=$(iperf "$HPORT" $P); f=$(iperf "$FL_IPERF" $P)
		D="$D $d" HA="$HA $h" FL="$FL $f" FH="$FH $(ratio "$f" "$h")"
		r=$((r + 1))
	done
	# shellcheck disable=SC2086
	{
	echo "   $P stream(s), Gbit/s: direct $(stats $D)"
	echo "                         HAProxy $(stats $HA)"
	echo "                         faultline $(stats $FL)"
	echo "      faultline/HAProxy: $(stats $FH)  $(verdict "$(python3 -c "print(int($(median $FH) >= 1))")")"
	}
done
fi

# --- 2. added latency --------------------------------------------------------
if want 2; then
echo
echo "2. added round-trip latency, 64 B request/response, no toxics ($ROUNDS alternating rounds of 5000 each: direct, faultline, HAProxy)"
p50() { field p50_us "$1"; }
p99() { field p99_us "$1"; }
F50="" F99="" H50="" H99="" FH50="" r=0
while [ $r -lt "$ROUNDS" ]; do
	dr=$("$H/proxy_load" rtt "$EP" 5000 64); fr=$("$H/proxy_load" rtt "$FL_ECHO" 5000 64)
	hr=$("$H/proxy_load" rtt "$HEPORT" 5000 64)
	f50=$(python3 -c "print(round($(p50 "$fr") - $(p50 "$dr"), 1))"); f99=$(python3 -c "print(round($(p99 "$fr") - $(p99 "$dr"), 1))")
	h50=$(python3 -c "print(round($(p50 "$hr") - $(p50 "$dr"), 1))"); h99=$(python3 -c "print(round($(p99 "$hr") - $(p99 "$dr"), 1))")
	F50="$F50 $f50" F99="$F99 $f99" H50="$H50 $h50" H99="$H99 $h99"
	r=$((r + 1))
done
# shellcheck disable=SC2086
{
echo "   added by faultline: p50 $(stats $F50) us (target < 30) $(verdict "$(python3 -c "print(int($(median $F50) < 30))")")"
echo "                       p99 $(stats $F99) us (target < 200) $(verdict "$(python3 -c "print(int($(median $F99) < 200))")")"
echo "   added by HAProxy:   p50 $(stats $H50) us"
echo "                       p99 $(stats $H99) us"
}
fi

# --- 3. latency toxic accuracy -----------------------------------------------
if want 3; then
LN=${LAT_N:-200}
echo
echo "3. latency toxic 100 ms ($ROUNDS alternating rounds: $LN direct round trips, $LN through the toxic, $LN waits of 100 ms on a bare timer)"
LAT=$(link lat "127.0.0.1:$EP" '{"type":"latency","attributes":{"latency":100}}')
E50="" E99="" K50="" K99="" T50="" T99="" LOADS="" r=0
while [ $r -lt "$ROUNDS" ]; do
	LOADS="$LOADS $(cut -d' ' -f1 /proc/loadavg)"
	dr=$("$H/proxy_load" rtt "$EP" "$LN" 64); lt=$("$H/proxy_load" rtt "$LAT" "$LN" 64)
	tm=$("$H/proxy_load" timer "$LN" 100)
	dp50=$(field p50_us "$dr"); dk50=$(field kp50_us "$dr")
	E50="$E50 $(python3 -c "print(round(($(field p50_us "$lt")-$dp50)/1000-100,3))")"
	E99="$E99 $(python3 -c "print(round(($(field p99_us "$lt")-$dp50)/1000-100,3))")"
	K50="$K50 $(python3 -c "print(round(($(field kp50_us "$lt")-$dk50)/1000-100,3))")"
	K99="$K99 $(python3 -c "print(round(($(field kp99_us "$lt")-$dk50)/1000-100,3))")"
	T50="$T50 $(python3 -c "print(round($(field p50_us "$tm")/1000,3))")"
	T99="$T99 $(python3 -c "print(round($(field p99_us "$tm")/1000,3))")"
	r=$((r + 1))
done
# shellcheck disable=SC2086
{
echo "   error p50 $(stats $E50) ms (target within 1) $(verdict "$(python3 -c "print(int(abs($(median $E50)) <= 1))")")"
echo "   error p99 $(stats $E99) ms (target <= 1.55, Toxiproxy 2.4's) $(verdict "$(python3 -c "print(int($(median $E99) <= 1.55))")")"
echo "   by the reply's kernel receive time: error p50 $(stats $K50) ms, p99 $(stats $K99) ms"
echo "   floor, a bare timer's lateness: p50 $(stats $T50) ms, p99 $(stats $T99) ms"
echo "   load average (1 min) at each round: $LOADS"
}
fi

# --- 4. bandwidth accuracy -----------------------------------------------------
if want 4; then
echo
echo "4. bandwidth toxic accuracy (downstream, ~2 s per rate)"
for rate in 10 100 1000 10000 100000; do
	BW=$(link "bw$rate" "127.0.0.1:$EP" "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":$rate}}")
	bytes=$((rate * 1000 * 2))
	[ $bytes -ge 20000 ] || bytes=20000
	m=$("$H/proxy_load" stream "$BW" "$bytes" | sed 's/.*rate_kBps=\([0-9.]*\).*/\1/')
	err=$(python3 -c "print(round(($m/$rate-1)*100,2))")
	printf '   asked %7d KB/s  measured %12.2f KB/s  error %6.2f %%  %s\n' "$rate" "$m" "$err" \
		"$(verdict "$(python3 -c "print(int(abs($err) <= 2))")")"
done
fi

# --- 5. 10k connections --------------------------------------------------------
if want 5; then
echo
echo "5. $CONNS concurrent proxied connections ${LIMITED:-}"
rss0=$(awk '/VmRSS/ {print $2}' /proc/$FPID/status)
"$H/proxy_load" conns "$FL_ECHO" "$CONNS" 15 >"$tmp/conns.out" 2>"$tmp/conns.err" & LPID=$!
pids="$pids $LPID"
i=0
while ! grep -q "open=" "$tmp/conns.out" 2>/dev/null; do
	i=$((i+1)); [ $i -lt 1200 ] || break; sleep 0.05
done
opened=$(sed -n 's/open=//p' "$tmp/conns.out")
live=$(curl -sf "$API/metrics" | sed -n 's/^faultline_proxy_connections_open{proxy="echo"} //p')
rss=$(awk '/VmRSS/ {print $2}' /proc/$FPID/status)
echo "   connections open: client $opened, proxy $live"
per=$(python3 -c "print(round(($rss-$rss0)/max(1,int('${opened:-0}' or 0)),2))")
x10k=$(python3 -c "print(round(($rss0 + $per*10000)/1024,1))")
echo "   proxy RSS: idle $((rss0 / 1024)) MB, with connections $((rss / 1024)) MB, $per KB per connection"
echo "   at 10,000 connections: $x10k MB (target < 100 MB) $(verdict "$(python3 -c "print(int($x10k < 100 and '${opened:-0}' == '$CONNS'))")")"
kill $LPID 2>/dev/null || true
cat "$tmp/conns.err" 2>/dev/null | head -3
fi


# --- 6. idle proxies -------------------------------------------------------------
if want 6; then
NP=${IDLE_PROXIES:-1000}
echo
TC=${IDLE_CONNS:-10}
echo "6. $NP idle proxies: RSS per idle proxy, once idle again after $TC connections through each, and after deleting them all"
rssof() { awk '/VmRSS/ {print $2}' /proc/$FPID/status; }
proxies() { # create|delete|traffic|textbytes N TAG [CONNS]: over one keep-alive API connection
	python3 - "$API" "$EP" "$@" <<'PY'
import http.client, json, socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); ep = sys.argv[2]; op = sys.argv[3]; n = int(sys.argv[4]); tag = sys.argv[5]
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
def call(method, path, body=None):
    c.request(method, path, body)
    r = c.getresponse(); data = r.read()
    if r.status >= 300:
        sys.exit("%s %s: HTTP %d" % (method, path, r.status))
    return json.loads(data) if data else None
total = 0
for i in range(n):
    name = "%s%d" % (tag, i)
    if op == "create":
        call("POST", "/proxies", json.dumps({"name": name, "upstream": "127.0.0.1:" + ep, "listen": "127.0.0.1:0"}))
    elif op == "delete":
        call("DELETE", "/proxies/" + name)
    elif op == "traffic":  # CONNS connections through the proxy, one 64-byte round trip each
        port = int(call("GET", "/proxies/" + name)["listen"].rsplit(":", 1)[1])
        for _ in range(int(sys.argv[6])):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"x" * 64)
            got = 0
            while got < 64:
                b = s.recv(64 - got)
                if not b:
                    sys.exit("echo closed early")
                got += len(b)
            s.close()
    else:  # textbytes: the kept events as JSON text
        total += sum(len(json.dumps(e, separators=(",", ":"))) for e in call("GET", "/proxies/%s/events" % name))
if op == "textbytes":
    print(total)
PY
}
# a warm-up round, so first-use allocations of the API are not counted
proxies create 10 warm; proxies delete 10 warm
base=$(rssof)
proxies create "$NP" idle
full=$(rssof)
listed=$(curl -sf "$API/proxies" | jget 'len([k for k in d if str(k).startswith("idle")])')
echo "   proxies listed by the API after creating: $listed"
[ "$listed" = "$NP" ] || echo "   MISS: expected $NP"

per=$(python3 -c "print(round(($full-$base)/$NP,2))")
echo "   RSS: before $base KB, with $NP proxies $full KB ($per KB per idle proxy, target <= 16) $(verdict "$(python3 -c "print(int($per <= 16))")")"
proxies traffic "$NP" idle "$TC"
busy=$(rssof)
# idle: 1 s without a connection or an event; wait until RSS settles (bounded)
i=0 settled=$busy prev=0
while [ $i -lt 40 ]; do
	sleep 0.25; settled=$(rssof)
	[ "$settled" != "$prev" ] || [ $i -lt 8 ] || break
	prev=$settled i=$((i + 1))
done
text=$(( $(proxies textbytes "$NP" idle) / 1024 ))
echo "   after $TC connections through each ($((NP * TC * 2)) events): RSS $busy KB as the traffic ends," \
	"$settled KB once idle"
pidle=$(python3 -c "print(round(($settled-$full)/$NP,2))")
ptext=$(python3 -c "print(round($text/$NP,2))")
pnet=$(python3 -c "print(round(($settled-$full-$text)/$NP,2))")
echo "   once idle, over the never-used proxies: $pidle KB per proxy, of which the kept events as text $ptext KB;" \
	"the rest $pnet KB per proxy (target <= 16) $(verdict "$(python3 -c "print(int($pnet <= 16))")")"
proxies delete "$NP" idle
sleep 0.5 # the engine trims the heap 0.2 s after a burst of deletes
after=$(rssof)
echo "   RSS after deleting them: $after KB, $((after - base)) KB over before (target <= 1024) $(verdict "$(python3 -c "print(int($after - $base <= 1024))")")"
fi
