#!/usr/bin/env bash
# Shows that an upward include is refused twice over: by tools/lint/check_layers.sh on the sources,
# and by the build, whose per-layer include views (CMakeLists.txt) do not contain upper floors.
#   upward_include.sh SOURCE_ROOT LAYER_VIEWS_DIR CXX XNNPACK_INCLUDE
set -uo pipefail
src="$1" views="$2" cxx="$3" xnn="$4"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. The source check: plant `#include "runtime/exec/executor.h"` in an op (ops sit below exec).
mkdir -p "$tmp/tree"
(cd "$src" && cp -r include runtime ops loaders tools "$tmp/tree/")
"$tmp/tree/tools/lint/check_layers.sh" "$tmp/tree" > "$tmp/clean.txt" || fail "clean tree rejected: $(cat "$tmp/clean.txt")"
sed -i '1i #include "runtime/exec/executor.h"' "$tmp/tree/ops/conv.cc"
if "$tmp/tree/tools/lint/check_layers.sh" "$tmp/tree" > "$tmp/out.txt"; then
  fail "check_layers accepted ops/conv.cc including runtime/exec/executor.h"
fi
grep -q "^ops/conv.cc:1: includes \"runtime/exec/executor.h\"" "$tmp/out.txt" ||
  fail "check_layers did not name the line: $(cat "$tmp/out.txt")"
echo "check_layers refuses it: $(head -1 "$tmp/out.txt")"

# 2. The build: compile against the ops layer's include view, as ops/*.cc are compiled.
view="$views/onnxrun_ops"
[ -d "$view" ] || fail "no include view at $view"
printf '#include "ops/op.h"\nint main() { return 0; }\n' > "$tmp/down.cc"
"$cxx" -std=c++20 -fsyntax-only -I"$view" -I"$xnn" "$tmp/down.cc" 2> "$tmp/down.err" ||
  fail "a downward include does not compile in the ops view: $(head -3 "$tmp/down.err")"
printf '#include "runtime/exec/executor.h"\nint main() { return 0; }\n' > "$tmp/up.cc"
if "$cxx" -std=c++20 -fsyntax-only -I"$view" -I"$xnn" "$tmp/up.cc" 2> "$tmp/up.err"; then
  fail "an upward include compiled in the ops view"
fi
grep -q "runtime/exec/executor.h: No such file" "$tmp/up.err" || fail "unexpected error: $(head -3 "$tmp/up.err")"
echo "the build refuses it: $(grep -m1 'No such file' "$tmp/up.err")"
