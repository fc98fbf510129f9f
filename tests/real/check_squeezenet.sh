#!/usr/bin/env bash
# The real pretrained SqueezeNet 1.1 (../shared/models, Caffe preprocessing) must give the top-1
# classes that ONNX Runtime gives on the same preprocessing (../shared/models/README.md).
# Usage: check_squeezenet.sh ONNXRUN SHARED_DIR [MODEL]   (MODEL: a conversion of it, e.g. float16)
set -u
onnxrun=$1
shared=$2
model=${3:-$shared/models/squeezenet1.1/model.onnx}
if [ ! -f "$model" ]; then
  echo "SKIP: $model not found (../shared is not beside the checkout)"
  exit 77
fi
skdata=/usr/lib/python3/dist-packages/skimage/data
fail=0
# image expected-top1-index
# dog.jpg: ../shared/models/README.md lists 207 (golden retriever), but ONNX Runtime 1.30 on this
# exact preprocessing (PIL resize 256, center crop 224, BGR - mean) gives 537 (dogsled, 0.80) and
# so does onnxrun (0.81): we check against the measured ORT result.
checks=(
  "$shared/images/cat.jpg 285"
  "$shared/images/dog.jpg 537"
  "$shared/images/hummingbird.jpg 94"
  "$shared/images/kitten_224.png 281"
  "$shared/images/fish.png 389"
  "$skdata/coffee.png 967"
  "$skdata/chelsea.png 285"
)
for c in "${checks[@]}"; do
  set -- $c
  img=$1 want=$2
  if [ ! -f "$img" ]; then echo "SKIP $img (missing)"; continue; fi
  line=$("$onnxrun" "$model" "$img" --preprocess caffe --top 1) || { echo "FAIL $img: onnxrun exited $?"; fail=1; continue; }
  got=$(echo "$line" | awk '{print $2}')
  if [ "$got" = "$want" ]; then echo "PASS $img -> $line"; else echo "FAIL $img: got '$line', want class $want"; fail=1; fi
done
exit $fail
