#!/bin/bash
# Opset 18-21 cases against ONNX Runtime: models/opset_cases.py builds the graphs (and re-writes the
# CI architectures at opsets 18-21), models/ort_check.js --write takes their outputs from ONNX
# Runtime, `onnxrun test` must pass every case (no FAIL, no SKIP). Exit 77 (skip) without node or
# onnxruntime-node.
#   run_cases.sh ONNXRUN PYTHON SOURCE_DIR OUT_DIR MODELS_DIR ORT_DIR
set -u
onnxrun=$1 python=$2 src=$3 out=$4 models=$5 ort=$6
if ! command -v node > /dev/null || [ ! -d "$ort/node_modules/onnxruntime-node" ]; then
  echo "SKIP: needs node and $ort/node_modules/onnxruntime-node (set ONNXRUN_ORT_DIR)"
  exit 77
fi
rm -rf "$out"
"$python" "$src/models/opset_cases.py" --out "$out" --models "$models" || exit 1
node "$src/models/ort_check.js" --write --ort-dir "$ort" "$out"/*/ || exit 1
result=$("$onnxrun" test "$out" 2>&1)
status=$?
echo "$result"
[ $status -eq 0 ] || exit 1
if echo "$result" | grep -q "^SKIP"; then
  echo "FAIL: a case was skipped (every opset 18-21 case must run)"
  exit 1
fi
count=$(echo "$result" | grep -c "^PASS")
[ "$count" -ge 76 ] || { echo "FAIL: only $count cases passed, expected >= 76"; exit 1; }
