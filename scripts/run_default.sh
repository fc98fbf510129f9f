#!/usr/bin/env bash
# Sets everything up, exports the default model and classifies an image with it.
#   1. ResNet-50 exported from torchvision (seeded random weights: the classes are meaningless,
#      it shows the pipeline), on a real photo;
#   2. the real pretrained SqueezeNet 1.1 from ../shared/models (Caffe preprocessing), when present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
/usr/bin/python3 models/export.py --out build/models --only resnet50_op13
IMAGE=../shared/images/cat.jpg
[ -f "$IMAGE" ] || IMAGE=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
echo "== build/onnxrun build/models/resnet50_op13/model.onnx $IMAGE"
build/onnxrun build/models/resnet50_op13/model.onnx "$IMAGE"
if [ -f ../shared/models/squeezenet1.1/model.onnx ]; then
  echo "== build/onnxrun ../shared/models/squeezenet1.1/model.onnx $IMAGE --preprocess caffe"
  build/onnxrun ../shared/models/squeezenet1.1/model.onnx "$IMAGE" --preprocess caffe
fi
