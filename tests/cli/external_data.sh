#!/usr/bin/env bash
# A model whose weights live in an external data file beside it (data_location = EXTERNAL) loads
# and gives the same results. Usage: external_data.sh ONNXRUN MODEL_DIR
set -eu
onnxrun=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/test_data_set_0" "$tmp/"
/usr/bin/python3 - "$src/model.onnx" "$tmp/model.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.save_model(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True,
                location="weights.bin", size_threshold=1024)
PY
ls -la "$tmp"
size=$(stat -c %s "$tmp/model.onnx")
[ "$size" -lt 1000000 ] || { echo "FAIL: model.onnx still holds the weights ($size bytes)"; exit 1; }
"$onnxrun" test "$tmp"
# A missing external file is a clear error naming it.
mv "$tmp/weights.bin" "$tmp/gone.bin"
if "$onnxrun" info "$tmp/model.onnx" 2>"$tmp/err" >/dev/null; then echo "FAIL: loaded without its data"; exit 1; fi
grep -q "weights.bin" "$tmp/err" || { echo "FAIL: error does not name the file: $(cat "$tmp/err")"; exit 1; }
echo "PASS missing external data: $(cat "$tmp/err")"
