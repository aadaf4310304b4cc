#!/bin/sh
# e2e: durable writes of the saga log per saga (remittance's
# fl_db_commits_total): 4 for an internal transfer or a top-up, 5 for an
# external transfer (a step's answer and the next step's request share one).
set -eu
. "${ROOT:-.}/e2e/ref_lua/lib.sh"
ref_up commits
ref_run e2e/ref_lua/commits.lua
ref_down
