#!/bin/sh
# e2e: probes and graceful shutdown of the reference services, and
# `promtool check metrics` on every service's /metrics.
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
ref_up probes -- --drain-delay 1s --grace 5s --breaker-wait 1s --call-timeout 3s
# metrics first, after some traffic of every kind
FL_REF="$REF_DATA" "$FAULTLINE" run "$ROOT/e2e/ref_lua/sagas.lua" --grep "internal transfer|bank rejects|CQRS" >/dev/null
if command -v promtool >/dev/null 2>&1; then
	for svc in membership money banking extbank remittance query gateway; do
		url=$(sed -n "/\"$svc\": {/,/}/s/.*\"url\": \"\\([^\"]*\\)\".*/\\1/p" "$REF_DATA/topology.json" | head -n 1)
		curl -sf "$url/metrics" >"$REF_TMP/$svc.prom"
		promtool check metrics <"$REF_TMP/$svc.prom" || { echo "promtool rejects $svc /metrics"; exit 1; }
		grep -q '^fl_http_requests_total{' "$REF_TMP/$svc.prom"
	done
	grep -q '^fl_breaker_state{breaker="remittance->banking"}' "$REF_TMP/remittance.prom"
	grep -q '^fl_sagas{state="COMPLETED"}' "$REF_TMP/remittance.prom"
	grep -q '^fl_ledger_sum_krw 0$' "$REF_TMP/money.prom"
	echo "promtool: every service's /metrics passes"
else
	echo "promtool not installed: metrics format not checked"
fi
ref_run e2e/ref_lua/probes.lua
ref_down
