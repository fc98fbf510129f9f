#!/usr/bin/env bash
# --shape NAME=D1xD2x... for bench, info and classify: good values prepare that shape; bad ones
# are one line on stderr naming the flag and the value, exit 2 (usage) or 1 (load), no stdout.
# Usage: shape_flag.sh ONNXRUN MODEL_DIR (resnet18_op13: input [batch,3,224,224])
set -u
onnxrun=$1
model=$2/model.onnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
img=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
# expect NAME EXIT_CODE EXPECTED_SUBSTRING -- command...
expect() {
  local name=$1 code=$2 want=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ne "$code" ]; then echo "FAIL $name: exit code $rc, not $code: $(cat "$tmp/err")"; fail=1; return; fi
  if [ -s "$tmp/out" ]; then echo "FAIL $name: wrote to stdout: $(head -c 200 "$tmp/out")"; fail=1; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then echo "FAIL $name: not one line: $(cat "$tmp/err")"; fail=1; return; fi
  if ! grep -qF -- "$want" "$tmp/err"; then
    echo "FAIL $name: stderr lacks '$want': $(cat "$tmp/err")"; fail=1; return
  fi
  echo "PASS $name: $(cat "$tmp/err")"
}
# check NAME EXPECTED_SUBSTRING FILE
check() {
  if grep -qF -- "$2" "$3"; then echo "PASS $1"; else echo "FAIL $1: '$2' not in $(head -c 600 "$3")"; fail=1; fi
}

# Malformed values: usage errors (exit 2), for each command that takes --shape.
expect no-equals 2 "--shape expects NAME=D1xD2x... (e.g. input=1x3x224x224), got 'input': no '='" -- "$onnxrun" info "$model" --shape input
expect empty-name 2 "got '=1x3x224x224': empty input name" -- "$onnxrun" bench "$model" --shape =1x3x224x224
expect not-a-number 2 "got 'x=1x3xAx2': dimension 'A' is not an integer in [1, 2^31)" -- "$onnxrun" info "$model" --shape x=1x3xAx2
expect empty-dim 2 "dimension '' is not" -- "$onnxrun" info "$model" --shape input=1x3x224x
expect zero-dim 2 "dimension '0' is not" -- "$onnxrun" bench "$model" --shape input=0x3x224x224
expect negative-dim 2 "dimension '-1' is not" -- "$onnxrun" "$model" "$img" --shape input=-1x3x224x224
expect beyond-int64 2 "dimension '99999999999999999999' is not" -- "$onnxrun" info "$model" --shape input=99999999999999999999x3x224x224
expect too-many-elements 2 "got 'input=65536x3x224x224': more than 2^31 elements" -- "$onnxrun" info "$model" --shape input=65536x3x224x224
expect twice 2 "input 'input' given twice" -- "$onnxrun" info "$model" --shape input=1x3x224x224 --shape input=2x3x224x224
expect test-has-none 2 "unknown option '--shape'" -- "$onnxrun" test "$2" --shape input=1x3x224x224
# Values the model refuses: load errors (exit 1) that lead with the flag and its value.
expect unknown-input 1 "--shape image=1x3x224x224: " -- "$onnxrun" info "$model" --shape image=1x3x224x224
expect unknown-input-2 1 "the model has no input named 'image'" -- "$onnxrun" bench "$model" --shape image=1x3x224x224
expect fixed-dims 1 "--shape input=1x3x160x160: " -- "$onnxrun" info "$model" --shape input=1x3x160x160
expect fixed-dims-2 1 "input 'input': shape [1,3,160,160] does not match the model's [-1,3,224,224] at dimension 2" -- "$onnxrun" bench "$model" --shape input=1x3x160x160
expect wrong-rank 1 "--shape input=3x224x224: " -- "$onnxrun" "$model" "$img" --shape input=3x224x224
expect classify-batch 1 "--shape for input 'input' has batch 2; classify needs batch 1" -- "$onnxrun" "$model" "$img" --shape input=2x3x224x224

# Good values. resnet18 (dynamic batch): --shape sets the batch, no defaulted-dims note.
"$onnxrun" info "$model" --json --memory >"$tmp/default.json" 2>"$tmp/default.err" || { echo "FAIL info default"; fail=1; }
check note-without-shape "dynamic dimensions; they were set to 1" "$tmp/default.err"
"$onnxrun" info "$model" --json --memory --shape input=2x3x224x224 >"$tmp/shape.json" 2>"$tmp/shape.err" || { echo "FAIL info --shape: $(cat "$tmp/shape.err")"; fail=1; }
check info-shape '"shape":[2,3,224,224]' "$tmp/shape.json"
if [ -s "$tmp/shape.err" ]; then echo "FAIL no-note-with-shape: $(cat "$tmp/shape.err")"; fail=1; else echo "PASS no-note-with-shape"; fi
a1=$(grep -o '"arena_bytes":[0-9]*' "$tmp/default.json"); a2=$(grep -o '"arena_bytes":[0-9]*' "$tmp/shape.json")
if [ -n "$a1" ] && [ -n "$a2" ] && [ "$a1" != "$a2" ]; then echo "PASS arena-differs: $a1 vs $a2"; else echo "FAIL arena-differs: '$a1' vs '$a2'"; fail=1; fi
# --shape wins over --batch for the inputs it names.
"$onnxrun" info "$model" --json --batch 4 --shape input=2x3x224x224 >"$tmp/both.json" 2>"$tmp/both.err" || { echo "FAIL info --batch --shape"; fail=1; }
check shape-wins-over-batch '"shape":[2,3,224,224]' "$tmp/both.json"
"$onnxrun" bench "$model" --iters 1 --warmup 0 --json --shape input=2x3x224x224 >"$tmp/bench.json" 2>"$tmp/bench.err" || { echo "FAIL bench --shape: $(cat "$tmp/bench.err")"; fail=1; }
check bench-shape '"p50_ms"' "$tmp/bench.json"
if [ -s "$tmp/bench.err" ]; then echo "FAIL bench-no-note: $(cat "$tmp/bench.err")"; fail=1; else echo "PASS bench-no-note"; fi
"$onnxrun" "$model" "$img" --top 1 --shape input=1x3x224x224 >"$tmp/cls.txt" 2>"$tmp/cls.err" || { echo "FAIL classify --shape: $(cat "$tmp/cls.err")"; fail=1; }
"$onnxrun" "$model" "$img" --top 1 >"$tmp/cls0.txt" 2>/dev/null
if cmp -s "$tmp/cls.txt" "$tmp/cls0.txt"; then echo "PASS classify-same-shape"; else echo "FAIL classify-same-shape"; fail=1; fi

# A model with dynamic H and W (GlobalAveragePool head): classify resizes to the given HxW.
/usr/bin/python3 - "$tmp/dyn.onnx" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
w = numpy_helper.from_array(np.eye(3, 4, dtype=np.float32), "w")
nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
         helper.make_node("Flatten", ["p"], ["f"]),
         helper.make_node("MatMul", ["f", "w"], ["y"])]
g = helper.make_graph(nodes, "dyn", [x], [y], [w])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
PY
"$onnxrun" info "$tmp/dyn.onnx" --json --shape x=1x3x40x56 >"$tmp/dyn.json" 2>"$tmp/dyn.err" || { echo "FAIL dyn info: $(cat "$tmp/dyn.err")"; fail=1; }
check dyn-info-shape '"shape":[1,3,40,56]' "$tmp/dyn.json"
"$onnxrun" "$tmp/dyn.onnx" "$img" --json --shape x=1x3x40x56 >"$tmp/dyn_cls.json" 2>"$tmp/dyn_cls.err" || { echo "FAIL dyn classify: $(cat "$tmp/dyn_cls.err")"; fail=1; }
check dyn-classify-input '"input_shape":[1,3,40,56]' "$tmp/dyn_cls.json"
# Without --shape, dynamic H and W take 224x224 and stderr says so (never a silent guess).
"$onnxrun" "$tmp/dyn.onnx" "$img" --json >"$tmp/dyn_def.json" 2>"$tmp/dyn_def.err" || { echo "FAIL dyn default: $(cat "$tmp/dyn_def.err")"; fail=1; }
check dyn-default-input '"input_shape":[1,3,224,224]' "$tmp/dyn_def.json"
check dyn-default-note "input 'x' has a dynamic height or width; classifying at 224x224 (set another with --shape x=1x3x224x224)" "$tmp/dyn_def.err"
exit $fail
