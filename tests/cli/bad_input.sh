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
# expect_run NAME EXIT WANT -- command...: a run that must end with EXIT and print WANT (stdout or
# stderr), e.g. a valid model that used to crash, or `onnxrun test` naming a bad file.
expect_run() {
  local name=$1 rc_want=$2 want=$3
  shift 4
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ $rc -eq "$rc_want" ] && grep -q -- "$want" "$tmp/out"; then
    echo "PASS $name: $(head -c 200 "$tmp/out" | tr '\n' ' ')"
  else
    echo "FAIL $name: exit $rc: $(head -c 300 "$tmp/out" | tr '\n' ' ')"; fail=1
  fi
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
         helper.make_node("Scan", ["a"], ["b"], name="my_scan"),
         helper.make_node("StringNormalizer", ["b"], ["y"], name="my_strnorm")]
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
expect unsupported-all "my_scan' (Scan, opset 13)" -- "$onnxrun" "$tmp/unsupported.onnx" "$img"
expect unsupported-all-2 "my_strnorm' (StringNormalizer, opset 13)" -- "$onnxrun" "$tmp/unsupported.onnx" "$img"
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
# Hostile sizes and values (issue 11, fuzzing): every size computed from the model is checked
# arithmetic, every tensor is bounded by SessionOptions::max_tensor_bytes before it is allocated.
/usr/bin/python3 - "$tmp" <<'PY'
import os, sys, onnx, numpy as np
from onnx import helper, TensorProto, numpy_helper
d = sys.argv[1]
F = TensorProto.FLOAT
x = helper.make_tensor_value_info("x", F, [1, 4, 4, 4])
y = helper.make_tensor_value_info("y", F, None)
N = helper.make_node
ints = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
floats = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
def save(name, nodes, inits=(), opset=13, inputs=None, outputs=None):
    g = helper.make_graph(nodes, "bad", inputs or [x], outputs or [y], list(inits))
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), f"{d}/{name}.onnx")
save("reshape_ovf", [N("Reshape", ["x", "s"], ["y"], name="rs")], [ints("s", [1 << 62, 1 << 62, -1])])
save("tile_ovf", [N("Tile", ["x", "r"], ["y"], name="t")], [ints("r", [1 << 62, 1 << 62, 1, 1])])
save("pad_ovf", [N("Pad", ["x", "p"], ["y"], name="p")], [ints("p", [0, 0, 0, (1 << 63) - 1, 0, 0, 0, 1])])
save("expand_big", [N("Expand", ["x", "s"], ["y"], name="e")], [ints("s", [1 << 40, 1, 1, 1])])
save("expand_ovf", [N("Expand", ["x", "s"], ["y"], name="e")], [ints("s", [1 << 62, 1, 1, 1])])
save("cos_big", [N("ConstantOfShape", ["r"], ["y"], name="c")], [ints("r", [1 << 20, 1 << 20, 1 << 10])])
save("cos_empty", [N("ConstantOfShape", ["r"], ["y"], name="c", value=helper.make_tensor("v", F, [0], []))], [ints("r", [2])])
save("range_ovf", [N("Range", ["a", "b", "c"], ["y"], name="rg")], [ints("a", -(1 << 63)), ints("b", (1 << 63) - 1), ints("c", 1)])
save("range_nan", [N("Range", ["a", "b", "c"], ["y"], name="rg")], [floats("a", 0), floats("b", np.nan), floats("c", 1)])
save("range_mixed", [N("Range", ["a", "b", "c"], ["y"], name="rg")], [floats("a", 0), ints("b", 5), floats("c", 1)])
save("range_empty", [N("Range", ["a", "b", "c"], ["y"], name="rg")], [floats("a", []), floats("b", 5), floats("c", 1)])
save("d2s_wrap", [N("DepthToSpace", ["x"], ["y"], name="d", blocksize=1 << 32)])
# Empty tensors pass the size limit whatever their other dimensions; their sum still overflows.
save("concat_ovf", [N("ConstantOfShape", ["s"], ["e"]), N("Concat", ["e", "e"], ["y"], name="cc", axis=0)], [ints("s", [1 << 62, 0])])
save("pool_ovf", [N("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2], pads=[(1 << 63) - 1, 0, (1 << 63) - 1, 0])])
# Split whose second output nobody reads: the dropped output must not be written (was a null write).
os.makedirs(f"{d}/split_unused/test_data_set_0")
save("split_unused/model", [N("Split", ["x"], ["y", "z"], axis=1), N("Relu", ["y"], ["r"])],
     outputs=[helper.make_tensor_value_info("r", F, None)])
xv = np.arange(64, dtype=np.float32).reshape(1, 4, 4, 4) - 30
onnx.save_tensor(numpy_helper.from_array(xv, "x"), f"{d}/split_unused/test_data_set_0/input_0.pb")
onnx.save_tensor(numpy_helper.from_array(np.maximum(xv[:, :2], 0), "r"), f"{d}/split_unused/test_data_set_0/output_0.pb")
# The optimizer's own domain is not for models.
g = helper.make_graph([N("ChannelScale", ["x", "s"], ["y"], name="cs", domain="onnxrun")], "bad", [x], [y], [floats("s", [1, 1, 1, 1])])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("onnxrun", 1)]), f"{d}/internal.onnx")
# Required inputs missing altogether (not ""): read as inputs[0] / inputs[1] before (fuzzing).
save("slice_noinputs", [N("Relu", ["x"], ["r"]), N("Slice", [], ["y"], name="sl")])
save("conv_one_input", [N("Conv", ["x"], ["y"], name="cv")])
# ConvTranspose with output_padding 2^63 - 1: the output size overflowed (fuzzing, session 7).
save("convt_outpad", [N("ConvTranspose", ["x", "wt"], ["y"], name="ct", output_padding=[(1 << 63) - 1, 0])],
     [floats("wt", np.ones((4, 2, 3, 3)))])
# A fully convolutional model whose input size the caller chooses (--shape).
w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
save("fcn", [N("Conv", ["x", "w"], ["c"]), N("GlobalAveragePool", ["c"], ["y"])], [w],
     inputs=[helper.make_tensor_value_info("x", F, [1, 3, "H", "W"])])
x7 = helper.make_tensor_value_info("x", F, [1, 1, 1, 1, 1, 2, 2])
save("pow_rank7", [N("Pow", ["x", "e"], ["y"], name="pw")], [floats("e", [2.0])], inputs=[x7])
save("avgpool_pads", [N("AveragePool", ["x"], ["y"], name="ap", kernel_shape=[2, 2], pads=[2, 2, 2, 2])])
# Clip before opset 11 has one input: a second (run-time) one left a constant input 0 unfolded.
x2 = helper.make_tensor_value_info("x2", F, [3])
save("clip_two_inputs", [N("Clip", ["c", "x2"], ["y"], name="cl")], [floats("c", [1, 2, 3])], opset=6, inputs=[x2])
save("clip_f64_bounds", [N("Clip", ["x", "lo"], ["y"], name="cl")], [numpy_helper.from_array(np.array(-1.0), "lo")])
save("lrn_int_alpha", [N("LRN", ["x"], ["y"], name="lrn", size=3, alpha=2)])
# An op used in an opset that predates it (Gelu appeared in opset 20).
save("gelu_opset13", [N("Gelu", ["x"], ["y"], name="ge")])
# Softmax over an empty axis: XNNPACK refused it ("create softmax: invalid parameter").
save("softmax_empty", [N("Softmax", ["x"], ["y"], name="sm", axis=1)],
     inputs=[helper.make_tensor_value_info("x", F, [1, 0, 2, 2])])
# A 1 GiB constant fold (under the 4 GiB tensor limit) in 800 MB of address space: std::bad_alloc
# aborted the process; now an error naming what was being done.
save("bigfold", [N("ConstantOfShape", ["s"], ["c"], name="big", value=helper.make_tensor("v", F, [1], [1.0])),
                 N("Add", ["x", "c"], ["y"])], [ints("s", [1, 1, 16384, 16384])])
# A NaN pixel reaching a Conv (XNNPACK clamps NaN; ONNX Runtime returns NaN) is refused by name.
os.makedirs(f"{d}/nan_conv/test_data_set_0")
save("nan_conv/model", [N("Conv", ["x", "w"], ["y"], name="cv")], [floats("w", np.ones((2, 3, 1, 1)))],
     inputs=[helper.make_tensor_value_info("x", F, [1, 3, 2, 2])])
xn = np.ones((1, 3, 2, 2), np.float32); xn[0, 1, 0, 1] = np.nan
onnx.save_tensor(numpy_helper.from_array(xn, "x"), f"{d}/nan_conv/test_data_set_0/input_0.pb")
PY
expect reshape-overflow "node 'rs' (Reshape): shape product 4611686018427387904 x 4611686018427387904 overflows int64" -- "$onnxrun" "$tmp/reshape_ovf.onnx" "$img"
expect tile-overflow "node 't' (Tile): tiled size 4 x 4611686018427387904 overflows int64" -- "$onnxrun" "$tmp/tile_ovf.onnx" "$img"
expect pad-overflow "node 'p' (Pad): padded size 4 + 9223372036854775807 overflows int64" -- "$onnxrun" "$tmp/pad_ovf.onnx" "$img"
expect expand-limit "node 'e' (Expand): output 'y': shape .1099511627776,4,4,4. is 70368744177664 elements (281474976710656 bytes), over the limit of" -- "$onnxrun" "$tmp/expand_big.onnx" "$img"
expect expand-overflow "node 'e' (Expand): output 'y': shape .4611686018427387904,4,4,4. overflows int64 elements" -- "$onnxrun" "$tmp/expand_ovf.onnx" "$img"
expect fold-limit "node 'c' (ConstantOfShape): output: shape .1048576,1048576,1024. is 1125899906842624 elements" -- "$onnxrun" "$tmp/cos_big.onnx" "$img"
expect constantofshape-empty "node 'c' (ConstantOfShape): attribute 'value' must hold one element, not 0" -- "$onnxrun" "$tmp/cos_empty.onnx" "$img"
expect range-int-overflow "node 'rg' (Range): limit 9223372036854775807 - start -9223372036854775808 overflows int64" -- "$onnxrun" "$tmp/range_ovf.onnx" "$img"
expect range-nan "node 'rg' (Range): start 0, limit nan and delta 1 must be finite" -- "$onnxrun" "$tmp/range_nan.onnx" "$img"
expect range-mixed "node 'rg' (Range): input 'limit' is int64 but 'start' is float32" -- "$onnxrun" "$tmp/range_mixed.onnx" "$img"
expect range-empty "node 'rg' (Range): input 'start' must be a scalar, not shape .0." -- "$onnxrun" "$tmp/range_empty.onnx" "$img"
expect depthtospace-wrap "node 'd' (DepthToSpace): blocksize^2 4294967296 x 4294967296 overflows int64" -- "$onnxrun" "$tmp/d2s_wrap.onnx" "$img"
expect concat-overflow "node 'cc' (Concat): concatenated size 4611686018427387904 + 4611686018427387904 overflows int64" -- "$onnxrun" "$tmp/concat_ovf.onnx" "$img"
expect pool-overflow "node 'mp' (MaxPool)" -- "$onnxrun" "$tmp/pool_ovf.onnx" "$img"
expect internal-domain "node 'cs' (onnxrun.ChannelScale): the domain 'onnxrun' is internal to the runtime" -- "$onnxrun" "$tmp/internal.onnx" "$img"
expect missing-input "node 'sl' (Slice): input 0 (data) is required but missing" -- "$onnxrun" "$tmp/slice_noinputs.onnx" "$img"
expect missing-weights "node 'cv' (Conv): input 1 (W) is required but missing" -- "$onnxrun" "$tmp/conv_one_input.onnx" "$img"
expect convt-outpad-overflow "node 'ct' (ConvTranspose)" -- "$onnxrun" "$tmp/convt_outpad.onnx" "$img"
expect pow-rank7 "node 'pw' (Pow): output rank 7 is above 6" -- "$onnxrun" "$tmp/pow_rank7.onnx" "$img"
expect avgpool-pads "node 'ap' (AveragePool): pads 2 and 2 of spatial axis 0 must be smaller than the kernel size 2" -- "$onnxrun" "$tmp/avgpool_pads.onnx" "$img"
expect clip-opset6-inputs "node 'cl' (Clip): " -- "$onnxrun" info "$tmp/clip_two_inputs.onnx"
expect_run clip-float64-bounds 0 "clip_f64_bounds.onnx" -- "$onnxrun" info "$tmp/clip_f64_bounds.onnx"
expect attribute-type "node 'lrn' (LRN): attribute 'alpha' is an int, expected a float" -- "$onnxrun" "$tmp/lrn_int_alpha.onnx" "$img"
expect opset-predates-op "node 'ge' (Gelu): Gelu first appears in opset 20; the model imports opset 13" -- "$onnxrun" info "$tmp/gelu_opset13.onnx"
expect_run softmax-empty-axis 0 "softmax_empty.onnx" -- "$onnxrun" info "$tmp/softmax_empty.onnx"
expect bad-alloc "out of memory while preparing, optimizing and planning the graph (std::bad_alloc" -- bash -c "ulimit -v 800000; exec \"\$0\" info \"\$1\"" "$onnxrun" "$tmp/bigfold.onnx"
expect_run nan-input 1 "input 'x' element \[0,1,0,1\] is NaN; node 'cv' (Conv) would not propagate it" -- "$onnxrun" test "$tmp/nan_conv"
expect_run nan-input-allowed 0 "1 passed" -- "$onnxrun" test "$tmp/nan_conv" --allow-nonfinite
# Limits: a 1x3x20000x20000 input (4.8 GB) is refused before anything is allocated; limits
# are overridable (--max-tensor-mb, --max-arena-mb; SessionOptions::max_tensor_bytes, max_arena_bytes).
expect input-limit "input 'x': shape .1,3,20000,20000. is 1200000000 elements (4800000000 bytes), over the limit of 4294967296 bytes per tensor" -- "$onnxrun" info "$tmp/fcn.onnx" --shape x=1x3x20000x20000
expect tensor-limit-flag "over the limit of 1048576 bytes per tensor" -- "$onnxrun" info "$tmp/fcn.onnx" --shape x=1x3x300x300 --max-tensor-mb 1
expect arena-limit-flag "the arena needs .* bytes, over the limit of 1048576 bytes (SessionOptions::max_arena_bytes)" -- "$onnxrun" "$model" "$img" --max-arena-mb 1
expect bad-limit-flag "--max-arena-mb" -- "$onnxrun" "$model" "$img" --max-arena-mb 0
expect_run split-unused-output 0 "1 passed, 0 failed" -- "$onnxrun" test "$tmp/split_unused"
# An empty input_0.pb fails its case by name (was a skip); an over-long index in a file name is
# not a number onnxrun test reads (was "(exception: stol)").
mkdir -p "$tmp/empty_pb/test_data_set_0"
cp "$tmp/split_unused/model.onnx" "$tmp/empty_pb/"
: > "$tmp/empty_pb/test_data_set_0/input_0.pb"
cp "$tmp/split_unused/test_data_set_0/output_0.pb" "$tmp/split_unused/test_data_set_0/output_99999999999999999999999.pb"
expect_run empty-input-pb 1 "input_0.pb' has no element type" -- "$onnxrun" test "$tmp/empty_pb"
expect_run long-index-name 0 "1 passed, 0 failed" -- "$onnxrun" test "$tmp/split_unused"
exit $fail
