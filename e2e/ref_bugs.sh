#!/bin/sh
# e2e: every planted bug of the reference system shows its wrong behaviour
# (one system per bug, started with --bug NAME).
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
BUGS="${REF_BUGS:-no-refund refund-on-unknown non-idempotent-credit internal-no-compensation
no-saga-deadline breaker-never-opens breaker-stuck-open breaker-halfopen-flood
liveness-checks-deps ready-while-draining drop-inflight-on-sigterm query-increases-only}"
for bug in $BUGS; do
	echo "== --bug $bug"
	ref_up "$bug" --bug "$bug" -- --saga-deadline 2s --breaker-wait 1s --drain-delay 500ms --call-timeout 1s
	ref_run e2e/ref_lua/bugs.lua --grep "bug: $bug :"
	"$FAULTLINE" ref down --data "$REF_DATA" >/dev/null || true
done
