#!/usr/bin/env bash
# The layering rule on the sources: a folder includes only its own floor and the floors beneath it
# (docs/ARCHITECTURE.md, "Layers"). The build enforces the same rule with per-layer include views
# (CMakeLists.txt); this check names every offending line at once.
#   tools/lint/check_layers.sh [SOURCE_ROOT]     exit 0: clean, 1: upward includes (listed)
set -uo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root" || exit 2

# Floors, bottom up, and what each may include (project paths; "onnxrun/" is include/onnxrun).
# The longest folder prefix decides a file's floor.
declare -A ALLOWED=(
  [include/onnxrun]="onnxrun/"
  [runtime/ir]="runtime/ir/"
  [ops/kernels]="ops/kernels/"
  [ops]="runtime/ir/ ops/"
  [loaders]="runtime/ir/ ops/ loaders/onnx_loader.h loaders/tensor_proto.h"
  [runtime/optimize]="runtime/ir/ ops/ runtime/optimize/"
  [runtime/plan]="runtime/ir/ ops/ runtime/plan/"
  [runtime/exec]="runtime/ir/ ops/ runtime/plan/ runtime/exec/"
  [runtime/session]="onnxrun/ runtime/ir/ ops/ loaders/onnx_loader.h loaders/tensor_proto.h runtime/optimize/ runtime/plan/ runtime/exec/ runtime/session/"
  [loaders/image]="onnxrun/ runtime/ir/status.h runtime/ir/file.h loaders/image/"
  [tools/cli]="onnxrun/ tools/cli/"
  [tools/bench]="onnxrun/ ops/kernels/ tools/bench/"
  [python]="onnxrun/ python/"
)
# Prefixes that name one of our folders (anything else, e.g. "absl/", is a system include).
OURS="onnxrun/ runtime/ ops/ loaders/ tools/ python/"

floor_of() {
  local f="$1" best=""
  for k in "${!ALLOWED[@]}"; do
    if [[ "$f" == "$k/"* && ${#k} -gt ${#best} ]]; then best="$k"; fi
  done
  echo "$best"
}

bad=0
checked=0
while IFS= read -r file; do
  floor="$(floor_of "$file")"
  [ -z "$floor" ] && continue
  checked=$((checked + 1))
  while IFS=: read -r line inc; do
    ours=0
    for p in $OURS; do [[ "$inc" == "$p"* ]] && ours=1; done
    [ $ours -eq 0 ] && continue
    ok=0
    for a in ${ALLOWED[$floor]}; do [[ "$inc" == "$a"* ]] && ok=1; done
    if [ $ok -eq 0 ]; then
      echo "$file:$line: includes \"$inc\", which is not beneath layer '$floor'"
      bad=$((bad + 1))
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
           sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1:\2/')
done < <(find include runtime ops loaders tools python -type f \( -name '*.h' -o -name '*.cc' -o -name '*.inc' \) 2>/dev/null | sort)

if [ $bad -gt 0 ]; then
  echo "check_layers: $bad upward include(s) in $checked files"
  exit 1
fi
echo "check_layers: $checked files, every include points down"
