#!/usr/bin/env bash
# Sets everything up, gets the default model and classifies photos with it.
# The default model has real weights wherever possible (models/default_model.py): torchvision's
# pretrained ResNet-50 when the machine is online (checksum-verified, cached in ~/.cache/onnxrun),
# else the real SqueezeNet 1.1 from ../shared/models, else random weights with a notice saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CHOICE=$(/usr/bin/python3 models/default_model.py --out build/default_model)
MODEL=$(/usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])['model'])" "$CHOICE")
PRESET=$(/usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])['preset'])" "$CHOICE")
NOTE=$(/usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])['note'])" "$CHOICE")
IMAGE=../shared/images/cat.jpg
[ -f "$IMAGE" ] || IMAGE=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
echo "== model: $NOTE"
echo "== build/onnxrun $MODEL $IMAGE --preprocess $PRESET"
build/onnxrun "$MODEL" "$IMAGE" --preprocess "$PRESET"
# Many images at once: a folder of photos, the model loaded once.
DIR=../shared/images
[ -d "$DIR" ] || DIR=/usr/lib/python3/dist-packages/skimage/data
echo "== build/onnxrun $MODEL $DIR --preprocess $PRESET --top 1"
build/onnxrun "$MODEL" "$DIR" --preprocess "$PRESET" --top 1 || true  # a non-photo file fails alone
