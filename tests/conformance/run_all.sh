#!/bin/sh
# run_all.sh ONNXRUN DATA_DIR
# Runs every ONNX backend test under DATA_DIR: passes iff none FAILs (a SKIP -- valid ONNX the
# runtime does not support, reported with its reason -- is allowed). Exits 77 (ctest: skipped) when
# DATA_DIR does not exist.
set -u
# In a sanitizer build (-DONNXRUN_SANITIZE=ON) a UBSan finding must fail its case, not scroll by.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
onnxrun=$1 data=$2
if [ ! -d "$data" ]; then
  echo "run_all.sh: no test data at $data (install libonnx-testdata); skipping"
  exit 77
fi
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$onnxrun" test "$data" --jobs 2 --timeout 120 > "$out" 2>&1
status=$?
grep '^FAIL ' "$out"
tail -n 1 "$out"
exit "$status"
