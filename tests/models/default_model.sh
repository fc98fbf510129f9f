#!/usr/bin/env bash
# models/default_model.py: verified download (over a file:// URL here), the cache, and the
# fallback with its notice when the checksum is wrong.
# Usage: default_model.sh ONNXRUN
set -u
onnxrun=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# A "published" weights file: resnet18's state dict, named <arch>-<sha256 prefix>.pth.
/usr/bin/python3 - "$tmp" <<'PY' || exit 1
import hashlib, os, sys, torch, torchvision.models as tvm
tmp = sys.argv[1]
torch.manual_seed(5)
p = os.path.join(tmp, "w.pth")
torch.save(tvm.resnet18().state_dict(), p)
h = hashlib.sha256(open(p, "rb").read()).hexdigest()[:8]
os.rename(p, os.path.join(tmp, f"resnet18-{h}.pth"))
PY
weights=$(ls "$tmp"/resnet18-*.pth)
dm() { /usr/bin/python3 "$here/models/default_model.py" --arch resnet18 --no-shared --cache "$tmp/cache" "$@"; }
source_of() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['source'])" "$1/choice.json"; }

dm --url "file://$weights" --out "$tmp/o1" >/dev/null 2>"$tmp/err1"
[ "$(source_of "$tmp/o1")" = download ] && echo "PASS downloaded and verified" || { echo "FAIL download: $(cat "$tmp/err1")"; fail=1; }
"$onnxrun" "$tmp/o1/model.onnx" /usr/lib/python3/dist-packages/skimage/data/chelsea.png --top 1 >/dev/null 2>&1 \
  && echo "PASS the exported model classifies" || { echo "FAIL classify"; fail=1; }

dm --url "file:///nonexistent/$(basename "$weights")" --out "$tmp/o2" >/dev/null 2>"$tmp/err2"
[ "$(source_of "$tmp/o2")" = cache ] && echo "PASS taken from the cache" || { echo "FAIL cache: $(cat "$tmp/err2")"; fail=1; }

rm -rf "$tmp/cache"
dm --url "file://$weights" --sha256 00000000 --out "$tmp/o3" >/dev/null 2>"$tmp/err3"
if [ "$(source_of "$tmp/o3")" = random ] && grep -q "checksum mismatch" "$tmp/err3" && grep -q "classes are meaningless" "$tmp/err3"; then
  echo "PASS a wrong checksum is refused; random weights with the notice"
else
  echo "FAIL checksum: $(cat "$tmp/err3")"; fail=1
fi
[ ! -e "$tmp/cache/$(basename "$weights")" ] && echo "PASS nothing unverified left in the cache" || { echo "FAIL cache kept a bad file"; fail=1; }
exit $fail
