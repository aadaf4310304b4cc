#!/bin/sh
# Checks that the product's C files are laid out as .clang-format says:
# runs clang-format --dry-run -Werror on each and prints where a file
# departs from it. Exit 0 when every file is clean, 1 otherwise, 77 when
# clang-format is not installed (Debian: clang-format).
#   tools/format-check.sh            every product C file tracked by git
#   tools/format-check.sh FILE...    just those
set -u
command -v clang-format >/dev/null 2>&1 || { echo "format-check: clang-format is not installed" >&2; exit 77; }
if [ $# -eq 0 ]; then
	# product code: the components and the tools (tests and generated files are not checked)
	set -- $(git ls-files '*.c' '*.h' | grep -E '^(core|report|fault-injector|contract|checkers|launcher|hostfault|transfer-system|runner|cli|tools)/')
fi
bad=0
for f in "$@"; do
	clang-format --style=file --dry-run -Werror "$f" 2>/dev/null >/dev/null && continue
	n=$(clang-format --style=file "$f" | diff "$f" - | grep -c '^<')
	echo "$f: $n line(s) differ from .clang-format (clang-format -i $f)"
	bad=1
done
exit $bad
