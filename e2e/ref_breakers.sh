#!/bin/sh
# e2e: circuit breakers (Resilience4j semantics) of the reference system
# under injected failures, DEFERRED sagas completing after recovery.
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
ref_up breakers -- --breaker-wait 1s --saga-deadline 5s --drain-delay 200ms
ref_run e2e/ref_lua/breakers.lua
ref_down
