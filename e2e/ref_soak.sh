#!/bin/sh
# e2e: a soak of the reference system under random faults (bank chaos, link
# toxics, cut links, paused money, killed remittance): every saga ends and
# money is conserved. QUICK=1 (make test): 8 s; QUICK=0: 60 s.
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
secs=8
[ "${QUICK:-1}" = 0 ] && secs=60
ref_up soak -- --saga-deadline 3s --breaker-wait 1s --call-timeout 1s --drain-delay 200ms
ref_run e2e/ref_lua/soak.lua -e SOAK_SECONDS="$secs"
ref_down
