#!/usr/bin/env bash
# The real SqueezeNet 1.1 converted to float16 (models/fp16_convert.py): with float16 inputs and
# outputs, and float16 inside with float32 I/O through Cast nodes, it must classify the photos of
# check_squeezenet.sh as the float32 model does.
# Usage: check_squeezenet_fp16.sh ONNXRUN PYTHON SOURCE_DIR SHARED_DIR OUT_DIR
set -u
onnxrun=$1 python=$2 src=$3 shared=$4 out=$5
model=$shared/models/squeezenet1.1/model.onnx
if [ ! -f "$model" ]; then
  echo "SKIP: $model not found (../shared is not beside the checkout)"
  exit 77
fi
mkdir -p "$out"
fail=0
for variant in fp16 fp16_io32; do
  flag=""
  [ "$variant" = fp16_io32 ] && flag=--keep-io-types
  "$python" "$src/models/fp16_convert.py" "$model" "$out/squeezenet1.1_$variant.onnx" $flag || exit 1
  echo "== $variant"
  "$src/tests/real/check_squeezenet.sh" "$onnxrun" "$shared" "$out/squeezenet1.1_$variant.onnx" || fail=1
done
exit $fail
