#!/bin/sh
# make bench: benchmarks that print ratios against baselines measured in the
# same run, in alternating rounds (median and range). Not part of make test.
# This script runs the runner's own benchmarks, then every other bench/*.sh.
# The HTTP server of every HTTP comparison is nginx (bench/lib.sh), never a
# helper of ours. Env: BUILD, BENCH_DURATION (s per round, default 5),
# BENCH_ROUNDS (default 5), BENCH_ONLY (run: the runner's benchmarks here;
# threads: only its worker-thread ones; else a substring of bench/*.sh names).
set -eu
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-"$BUILD/faultline"}
DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-5}
. bench/lib.sh
T=$(mktemp -d)
cleanup() { nginx_stop; rm -rf "$T"; }
trap cleanup EXIT INT TERM

loadavg() { cut -d' ' -f1 /proc/loadavg; }
echo "machine: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
want() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = run ] || [ "$BENCH_ONLY" = "$1" ]; }
if want run1; then
echo "== faultline run: fl.parallel(64) GET loops vs wrk -t1 -c64, against nginx, $ROUNDS alternating rounds of ${DURATION} s =="
echo "   (faultline: its plain-HTTP path; faultline/curl: FAULTLINE_HTTP_CURL=1, every request through libcurl)"
nginx_start "$T/nginx"
echo "  nginx $(nginx -v 2>&1 | sed 's/.*\///') on $NGINX_ADDR, $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
wr="" fr="" rr="" cr="" fc="" cc="" cx=""
r=0
fl_rate() { # [env...] -> "RATE CPU_US"
	env "$@" "$FAULTLINE" run bench/http_rate.lua -q -e BASE="http://$NGINX_ADDR" -e CLIENTS=64 -e DURATION="$DURATION" |
		awk '/^rate:/ { r = $2 } /^cpu:/ { c = $2 } END { print r, c }'
}
while [ $r -lt "$ROUNDS" ]; do
	w=$(wrk -t 1 -c 64 -d "${DURATION}s" "http://$NGINX_ADDR/" | awk '/Requests\/sec/ { print $2 }')
	set -- $(fl_rate FAULTLINE_HTTP_CURL=0); f=$1 fcpu=$2
	set -- $(fl_rate FAULTLINE_HTTP_CURL=1); c=$1 ccpu=$2
	wr="$wr $w" fr="$fr $f" rr="$rr $(ratio "$f" "$w")" cr="$cr $(ratio "$c" "$w")"
	fc="$fc $fcpu" cc="$cc $ccpu" cx="$cx $(ratio "$ccpu" "$fcpu")"
	r=$((r + 1))
done
# shellcheck disable=SC2086
{
echo "  wrk -t1 -c64:                $(stats $wr) req/s"
echo "  faultline parallel(64):      $(stats $fr) req/s"
echo "  ratio faultline/wrk:         $(stats $rr)  (target >= 0.50: $(awk -v m="$(median $rr)" 'BEGIN { print (m >= 0.5 ? "met" : "NOT met") }'))"
echo "  ratio faultline/curl / wrk:  $(stats $cr)"
echo "  runner CPU per request:      $(stats $fc) us (libcurl path: $(stats $cc) us)"
echo "  cost libcurl path / this:    $(stats $cx)  (target >= 2, cost halved: $(awk -v m="$(median $cx)" 'BEGIN { print (m >= 2 ? "met" : "NOT met") }'))"
}
nginx_stop

echo "== faultline run: fl.rate open model against nginx, ${DURATION} s per rate (latency from the intended send time) =="
nginx_start "$T/nginx"
best=0
for rate in ${BENCH_RATES:-1000 2000 5000 10000 20000 40000}; do
	line=$("$FAULTLINE" run bench/http_open.lua -q -e BASE="http://$NGINX_ADDR" -e RATE="$rate" -e DURATION="$DURATION" 2>/dev/null | sed -n 's/^open: //p')
	echo "  $line"
	case "$line" in *"held true"*) best=$rate ;; *) break ;; esac
done
echo "  highest rate held within 1 %: $best req/s"
nginx_stop
fi

if want threads; then
echo "== faultline run: fl.parallel.load (2 worker threads, 64 clients) GET loops vs wrk -t2 -c64, against nginx, $ROUNDS alternating rounds of ${DURATION} s =="
nginx_start "$T/nginx"
echo "  nginx $(nginx -v 2>&1 | sed 's/.*\///') on $NGINX_ADDR, $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
wr="" fr="" rr="" f1="" r1="" la="" wc="" fc=""
r=0
fl_load() { # threads -> "RATE CPU_US"
	"$FAULTLINE" run bench/http_rate.lua -q -e BASE="http://$NGINX_ADDR" -e CLIENTS=64 -e THREADS="$1" -e DURATION="$DURATION" |
		awk '/^rate:/ { r = $2 } /^cpu:/ { c = $2 } END { print r, c }'
}
wrk_load() { # -> "RATE CPU_US": wrk's own user + system time (the shell's `times`) per request
	{ wrk -t 2 -c 64 -d "${DURATION}s" "http://$NGINX_ADDR/"; times; } | awk '
		function sec(s) { split(s, a, "m"); return a[1] * 60 + a[2] }
		/Requests\/sec/ { r = $2 } /^[0-9]+m[0-9.]+s [0-9]+m[0-9.]+s$/ { c = sec($1) + sec($2) }
		END { printf "%s %.2f\n", r, (r > 0 ? c * 1e6 / (r * '"$DURATION"') : 0) }'
}
while [ $r -lt "$ROUNDS" ]; do
	la="$la $(loadavg)"
	set -- $(wrk_load); w=$1 wcpu=$2
	set -- $(fl_load 2); f=$1 fcpu=$2
	set -- $(fl_load 1); o=$1
	wr="$wr $w" fr="$fr $f" rr="$rr $(ratio "$f" "$w")" f1="$f1 $o" r1="$r1 $(ratio "$f" "$o")"
	wc="$wc $wcpu" fc="$fc $fcpu"
	r=$((r + 1))
done
# shellcheck disable=SC2086
{
echo "  load average (1 min) at each round: $(stats $la)"
echo "  wrk -t2 -c64:                $(stats $wr) req/s"
echo "  faultline 2 threads:         $(stats $fr) req/s"
echo "  faultline 1 thread:          $(stats $f1) req/s"
echo "  ratio 2 threads / wrk -t2:   $(stats $rr)  (target >= 0.80: $(awk -v m="$(median $rr)" 'BEGIN { print (m >= 0.8 ? "met" : "NOT met") }'))"
echo "  ratio 2 threads / 1 thread:  $(stats $r1)"
echo "  CPU per request, wrk -t2:    $(stats $wc) us; faultline 2 threads: $(stats $fc) us (user + system)"
}
echo "== faultline run: fl.rate threads=2 (open model, 64 clients) against nginx, ${DURATION} s per rate =="
best=0
for rate in ${BENCH_RATES:-5000 10000 20000 30000 40000}; do
	line=$("$FAULTLINE" run bench/http_open.lua -q -e BASE="http://$NGINX_ADDR" -e RATE="$rate" -e THREADS=2 -e DURATION="$DURATION" 2>/dev/null | sed -n 's/^open: //p')
	echo "  $line (load average $(loadavg))"
	case "$line" in *"held true"*) best=$rate ;; *) break ;; esac
done
echo "  highest rate held within 1 % on 2 threads: $best req/s"
nginx_stop
fi

if want run1; then

echo "== faultline run: wall time of an empty scenario ($ROUNDS rounds of 20 runs) =="
"$FAULTLINE" run bench/empty.lua -q >/dev/null
ms=""
r=0
while [ $r -lt "$ROUNDS" ]; do
	start=$(date +%s%N)
	n=0; while [ $n -lt 20 ]; do "$FAULTLINE" run bench/empty.lua -q >/dev/null; n=$((n + 1)); done
	end=$(date +%s%N)
	ms="$ms $(awk -v ns="$((end - start))" 'BEGIN { printf "%.2f", ns / 20 / 1e6 }')"
	r=$((r + 1))
done
# shellcheck disable=SC2086
echo "  mean wall time per run: $(stats $ms) ms  (target < 20 ms: $(awk -v m="$(median $ms)" 'BEGIN { print (m < 20 ? "met" : "NOT met") }'))"
fi

for b in bench/*.sh; do
	case "$b" in bench/run.sh | bench/lib.sh) continue ;; esac
	[ -z "${BENCH_ONLY:-}" ] || case "$b" in *"$BENCH_ONLY"*) ;; *) continue ;; esac
	echo
	echo "== $b =="
	rc=0
	BUILD="$BUILD" sh "$b" || rc=$?
	[ $rc -eq 0 ] || echo "  $b: exit $rc$([ $rc -eq 77 ] && echo ' (skipped)')"
done
