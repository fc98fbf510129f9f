#!/usr/bin/env bash
# Every C and C++ source git tracks is formatted by the checked-in .clang-format (Google, 100 columns).
#   tools/lint/check_format.sh [FILE...]   (no files: every tracked .c/.cc/.h/.inc)
# Fix with: clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang-format > /dev/null || { echo "check_format: clang-format is not installed"; exit 2; }
if [ $# -eq 0 ]; then
  mapfile -t files < <(git ls-files '*.c' '*.cc' '*.h' '*.inc' 2> /dev/null || find include runtime ops loaders tools tests examples -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name '*.inc')
else
  files=("$@")
fi
if clang-format --dry-run -Werror "${files[@]}" 2> /tmp/check_format.$$; then
  rm -f /tmp/check_format.$$
  echo "check_format: ${#files[@]} files formatted"
else
  grep -E '^[^ ].*: (error|warning):' /tmp/check_format.$$ | cut -d: -f1,2 | sort -u | head -50
  echo "check_format: files above differ from clang-format's output (clang-format -i FILE)"
  rm -f /tmp/check_format.$$
  exit 1
fi
