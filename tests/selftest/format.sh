#!/bin/sh
# The product's C code is laid out as .clang-format says (make format-check):
# fails naming each file that departs from it and the clang-format -i that
# fixes it; skips (77) where clang-format is not installed.
# test-lane: side (no socket, no system, no timing; its own files only)
set -u
command -v clang-format >/dev/null 2>&1 || { echo "skip: clang-format is not installed"; exit 77; }
sh tools/format-check.sh
