#!/bin/sh
# e2e: the saga coordinator crashes (--crash-at) at every labelled point and
# recovers from its durable log before /startupz turns OK; money conserved.
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
ref_up recovery -- --saga-deadline 5s --drain-delay 200ms
ref_run e2e/ref_lua/recovery.lua
ref_down
