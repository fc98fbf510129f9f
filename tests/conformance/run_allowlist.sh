#!/bin/sh
# run_allowlist.sh ONNXRUN DATA_DIR ALLOWLIST
# Runs `onnxrun test` on exactly the allowlisted ONNX backend tests (names relative to DATA_DIR,
# '#' comments and blank lines ignored). Every one must PASS: a missing directory, a FAIL or a SKIP
# fails this script. Exits 77 (ctest: skipped) when DATA_DIR does not exist.
set -u
# In a sanitizer build (-DONNXRUN_SANITIZE=ON) a UBSan finding must fail its case, not scroll by.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
onnxrun=$1 data=$2 allowlist=$3
if [ ! -d "$data" ]; then
  echo "run_allowlist.sh: no test data at $data (install libonnx-testdata); skipping"
  exit 77
fi
dirs=$(mktemp) && out=$(mktemp) || exit 1
trap 'rm -f "$dirs" "$out"' EXIT
missing=0 listed=0
for name in $(sed -e 's/#.*//' "$allowlist"); do
  listed=$((listed + 1))
  if [ -f "$data/$name/model.onnx" ]; then
    printf '%s\n' "$data/$name" >> "$dirs"
  else
    echo "run_allowlist.sh: allowlisted test '$name' has no $data/$name/model.onnx"
    missing=$((missing + 1))
  fi
done
[ "$missing" -eq 0 ] || exit 1
[ "$listed" -gt 0 ] || { echo "run_allowlist.sh: $allowlist lists no tests"; exit 1; }
# shellcheck disable=SC2046  # one argument per directory; test directory names have no spaces
"$onnxrun" test --jobs 2 --timeout 120 $(cat "$dirs") > "$out" 2>&1
status=$?
grep -v '^PASS ' "$out"
summary=$(tail -n 1 "$out")
passed=$(printf '%s' "$summary" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
if [ "$status" -ne 0 ] || [ "${passed:-0}" -ne "$listed" ]; then
  echo "run_allowlist.sh: $listed allowlisted, ${passed:-0} passed: every allowlisted test must pass"
  exit 1
fi
echo "run_allowlist.sh: all $listed allowlisted tests pass"
