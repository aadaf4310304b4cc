#!/bin/sh
# e2e: the reference system's sagas through fault-injector links: happy
# paths, every compensation path, idempotency, concurrency, traceparent,
# CQRS convergence and gateway aggregation; then a clean shutdown (exit 0).
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
ref_up sagas -- --saga-deadline 2s --breaker-wait 1s --drain-delay 300ms
ref_run e2e/ref_lua/sagas.lua
ref_run e2e/ref_lua/scale.lua
ref_down
