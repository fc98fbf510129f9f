#!/usr/bin/env bash
# Bad input gets one clear message naming what and where, a non-zero exit, no crash, and nothing
# on stdout. Usage: bad_input.sh ONNXRUN MODEL_DIR (a model dir in the ONNX test-data layout)
set -u
onnxrun=$1
model=$2/model.onnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# expect NAME EXPECTED_SUBSTRING -- command...
expect() {
  local name=$1 want=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then
    echo "FAIL $name: exit code $rc"; fail=1; return
  fi
  if [ -s "$tmp/out" ]; then echo "FAIL $name: wrote to stdout: $(head -c 200 "$tmp/out")"; fail=1; return; fi
  if ! grep -q -- "$want" "$tmp/err"; then
    echo "FAIL $name: stderr lacks '$want': $(cat "$tmp/err")"; fail=1; return
  fi
  echo "PASS $name: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
}
img=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
echo "not a model" > "$tmp/text.onnx"
head -c 100000 "$model" > "$tmp/truncated.onnx"
echo "not an image" > "$tmp/text.jpg"
head -c 2000 "$img" > "$tmp/truncated.png"
/usr/bin/python3 - "$tmp" <<'PY'
import sys, onnx
from onnx import helper, TensorProto
d = sys.argv[1]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
         helper.make_node("Einsum", ["a"], ["b"], name="my_einsum", equation="ij->ji"),
         helper.make_node("NonMaxSuppression", ["b"], ["y"], name="my_nms")]
g = helper.make_graph(nodes, "bad", [x], [y])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/unsupported.onnx")
nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", pads=[1, 1, 1])]
w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.1] * 108)
g = helper.make_graph(nodes, "bad", [x], [y], [w])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/badattr.onnx")

def with_initializer(t, path):  # Relu(x) -> y, plus the initializer t (the loader converts all)
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "bad", [x], [y], [t])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)

def tensor(dims, external=None):
    t = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=dims)
    if external is None:
        t.raw_data = b""
    else:
        t.data_location = TensorProto.EXTERNAL
        for k, v in external.items():
            t.external_data.add(key=k, value=v)
    return t

# 2^62 floats = 2^64 bytes: wrapped to 0 and matched the empty raw_data
with_initializer(tensor([1 << 62]), f"{d}/overflow.onnx")
import os
os.makedirs(f"{d}/ext")
open(f"{d}/ext/w.bin", "wb").write(bytes(16))
with_initializer(tensor([4], {"location": "w.bin", "offset": str((1 << 63) - 4), "length": "16"}),
                 f"{d}/ext/range.onnx")
open(f"{d}/secret.bin", "wb").write(bytes(16))
os.symlink(f"{d}/secret.bin", f"{d}/ext/link.bin")
with_initializer(tensor([4], {"location": "link.bin"}), f"{d}/ext/symlink.onnx")
os.mkfifo(f"{d}/ext/pipe.bin")
with_initializer(tensor([4], {"location": "pipe.bin"}), f"{d}/ext/fifo.onnx")
os.mkfifo(f"{d}/fifo.jpg")
os.mkfifo(f"{d}/fifo.onnx")
PY
expect missing-model "cannot open model file" -- "$onnxrun" "$tmp/nope.onnx" "$img"
expect not-onnx "not a valid ONNX model" -- "$onnxrun" "$tmp/text.onnx" "$img"
expect truncated-model "truncated" -- "$onnxrun" "$tmp/truncated.onnx" "$img"
expect unsupported-all "my_einsum' (Einsum, opset 13)" -- "$onnxrun" "$tmp/unsupported.onnx" "$img"
expect unsupported-all-2 "my_nms' (NonMaxSuppression, opset 13)" -- "$onnxrun" "$tmp/unsupported.onnx" "$img"
expect bad-attribute "node 'conv1' (Conv): attribute 'pads' has 3 values, expected 4" -- "$onnxrun" "$tmp/badattr.onnx" "$img"
expect missing-image "image" -- "$onnxrun" "$model" "$tmp/nope.jpg"
expect not-an-image "not a JPEG or PNG" -- "$onnxrun" "$model" "$tmp/text.jpg"
expect truncated-image "truncated.png" -- "$onnxrun" "$model" "$tmp/truncated.png"
expect bad-option "--top" -- "$onnxrun" "$model" "$img" --top abc
expect bad-threads "thread" -- "$onnxrun" "$model" "$img" --threads 0
expect size-overflow "initializer 'big': shape 4611686018427387904 of 4-byte elements overflows int64 bytes" -- "$onnxrun" "$tmp/overflow.onnx" "$img"
expect range-overflow "initializer 'big': external data range offset 9223372036854775804 + length 16 overflows int64" -- "$onnxrun" "$tmp/ext/range.onnx" "$img"
expect symlink-escape "external data location 'link.bin' resolves to '$(realpath "$tmp")/secret.bin', outside the folder" -- "$onnxrun" "$tmp/ext/symlink.onnx" "$img"
# A FIFO must be refused at once, not read: timeout turns a hang into exit 124 (a failure here).
expect fifo-external "is a FIFO, not a regular file" -- timeout 10 "$onnxrun" "$tmp/ext/fifo.onnx" "$img"
expect fifo-model "model file '$tmp/fifo.onnx' is a FIFO, not a regular file" -- timeout 10 "$onnxrun" "$tmp/fifo.onnx" "$img"
expect fifo-image "image '$tmp/fifo.jpg' is a FIFO, not a regular file" -- timeout 10 "$onnxrun" "$model" "$tmp/fifo.jpg"
# More threads than usable CPUs is not an error: clamped, with a note on stderr.
"$onnxrun" "$model" "$img" --threads 100000 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ] || ! grep -q "note: --threads 100000 exceeds the .* CPU(s) this process may use; using" "$tmp/err"; then
  echo "FAIL threads-clamped: exit $rc, stderr: $(cat "$tmp/err")"; fail=1
else
  echo "PASS threads-clamped: $(head -c 300 "$tmp/err")"
fi
# Omitted ("") required operands: refused by name before any op code runs (issue 11).
/usr/bin/python3 - "$tmp" <<'PY'
import sys, onnx
from onnx import helper, TensorProto
d = sys.argv[1]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
g = helper.make_graph([helper.make_node("Conv", ["x", ""], ["y"], name="conv1")], "bad", [x], [y])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/emptyw.onnx")
nodes = [helper.make_node("Relu", ["x"], [""], name="r"), helper.make_node("Sum", ["x", ""], ["y"], name="s")]
g = helper.make_graph(nodes, "bad", [x], [y])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{d}/emptyout.onnx")
PY
expect empty-weights "node 'conv1' (Conv): input 1 (W) is required but empty" -- "$onnxrun" "$tmp/emptyw.onnx" "$img"
expect empty-output "node 'r' (Relu): output 0 is required but empty" -- "$onnxrun" "$tmp/emptyout.onnx" "$img"
expect empty-sum-input "node 's' (Sum): input 1 (data) is required but empty" -- "$onnxrun" "$tmp/emptyout.onnx" "$img"
exit $fail
