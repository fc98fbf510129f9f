#!/usr/bin/env bash
# onnxrun MODEL IMAGE|DIR... with many images: one line per image in input order (directories
# walked recursively for .jpg/.jpeg/.png), a corrupt image reported on its line while the rest go
# on (exit 1), --batch N giving the same top-k as single-image runs, text/jsonl/csv formats.
# Usage: classify_many.sh ONNXRUN MODEL_DIR (resnet18_op13: input [batch,3,224,224])
set -u
onnxrun=$1
model=$2/model.onnx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
data=/usr/lib/python3/dist-packages/skimage/data
mkdir -p "$tmp/imgs/sub/deeper" "$tmp/empty"
cp "$data/chelsea.png" "$data/coffee.png" "$tmp/imgs/"
cp "$data/astronaut.png" "$tmp/imgs/sub/"
cp "$data/hubble_deep_field.jpg" "$tmp/imgs/sub/deeper/Hubble.JPG"
cp "$data/chelsea.png" "$tmp/imgs/sub/deeper/d.png"
printf 'not an image' >"$tmp/imgs/sub/broken.jpg"
printf 'notes' >"$tmp/imgs/readme.txt"  # not an image name: skipped by the walk
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; fail=1; }

# The walk: sorted paths, images only; jsonl with --batch 3, 2 decoding jobs.
"$onnxrun" "$model" "$tmp/imgs" --format jsonl --top 3 --batch 3 --jobs 2 >"$tmp/many.jsonl" 2>"$tmp/many.err"
rc=$?
[ $rc -eq 1 ] && pass "exit 1 with a corrupt image" || bad "exit $rc with a corrupt image: $(cat "$tmp/many.err")"
grep -q "1 of 6 images failed" "$tmp/many.err" && pass "failure count on stderr" || bad "stderr: $(cat "$tmp/many.err")"
/usr/bin/python3 - "$tmp" <<'PY' || fail=1
import json, subprocess, sys
tmp = sys.argv[1]
lines = [json.loads(l) for l in open(f"{tmp}/many.jsonl")]
want = sorted([f"{tmp}/imgs/chelsea.png", f"{tmp}/imgs/coffee.png", f"{tmp}/imgs/sub/astronaut.png",
               f"{tmp}/imgs/sub/broken.jpg", f"{tmp}/imgs/sub/deeper/Hubble.JPG",
               f"{tmp}/imgs/sub/deeper/d.png"])
got = [l["image"] for l in lines]
ok = True
if got != want:
    print("FAIL walk order:", got); ok = False
else:
    print("PASS walk: 6 images in sorted order, readme.txt skipped")
for l in lines:
    if l["image"].endswith("broken.jpg"):
        if "error" in l and "broken.jpg" in l["error"]:
            print("PASS corrupt image reported on its line:", l["error"])
        else:
            print("FAIL corrupt image line:", l); ok = False
open(f"{tmp}/lines.json", "w").write(json.dumps(lines))
sys.exit(0 if ok else 1)
PY

# Each image alone gives the same top-3 (indices and probabilities) as in the batches.
/usr/bin/python3 - "$tmp" "$onnxrun" "$model" <<'PY' || fail=1
import json, subprocess, sys
tmp, onnxrun, model = sys.argv[1:4]
ok = True
for l in json.load(open(f"{tmp}/lines.json")):
    if "error" in l:
        continue
    r = subprocess.run([onnxrun, model, l["image"], "--json", "--top", "3"], capture_output=True, text=True)
    single = json.loads(r.stdout)["top"]
    if [(t["index"], t["probability"]) for t in single] != [(t["index"], t["probability"]) for t in l["top"]]:
        print("FAIL batch vs single for", l["image"], single, l["top"]); ok = False
print("PASS batch of 3 == single-image runs" if ok else "FAIL batch results differ")
sys.exit(0 if ok else 1)
PY

# csv: a header and one row per image; text: one line per image.
"$onnxrun" "$model" "$tmp/imgs/coffee.png" "$tmp/imgs/sub" --format csv --top 2 >"$tmp/out.csv" 2>/dev/null
[ "$(head -1 "$tmp/out.csv")" = "image,index1,label1,probability1,index2,label2,probability2,error" ] && pass "csv header" || bad "csv header: $(head -1 "$tmp/out.csv")"
[ "$(wc -l <"$tmp/out.csv")" -eq 6 ] && pass "csv rows (args in order, then the walk)" || bad "csv rows: $(cat "$tmp/out.csv")"
head -2 "$tmp/out.csv" | tail -1 | grep -q "^$tmp/imgs/coffee.png," && pass "csv first row is the first argument" || bad "csv order: $(cat "$tmp/out.csv")"
"$onnxrun" "$model" "$tmp/imgs/chelsea.png" "$tmp/imgs/coffee.png" --top 1 >"$tmp/out.txt" 2>/dev/null
[ "$(wc -l <"$tmp/out.txt")" -eq 2 ] && pass "text: one line per image" || bad "text: $(cat "$tmp/out.txt")"

# Nothing to classify; a bad --format.
"$onnxrun" "$model" "$tmp/empty" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no JPEG or PNG images" "$tmp/err" && pass "empty directory: $(cat "$tmp/err")" || bad "empty directory: $(cat "$tmp/err")"
"$onnxrun" "$model" "$tmp/imgs" --format xml >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "format expects text, jsonl or csv" "$tmp/err" && pass "bad --format" || bad "bad --format: $(cat "$tmp/err")"
exit $fail
