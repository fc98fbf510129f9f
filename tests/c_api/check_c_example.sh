#!/usr/bin/env bash
# examples/c/classify.c as built (in the tree, or with cc + pkg-config against an installed prefix):
# the top-5 of a model's test input, the top class the reference output's, and a missing model
# refused with one "error:" line, exit 1 and nothing on stdout.
# Usage: check_c_example.sh CLASSIFY_BINARY MODEL_DIR PYTHON
set -euo pipefail
BIN=$1 DIR=$2 PYTHON=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

top=$("$BIN" "$DIR/model.onnx" "$DIR/test_data_set_0/input_0.pb")
echo "$top"
[ "$(grep -cE '^[1-5]  [0-9]+  -?[0-9.e+-]+$' <<< "$top")" -eq 5 ] || fail "expected 5 top lines"
want=$("$PYTHON" -c 'import sys, onnx, onnx.numpy_helper as h
t = onnx.TensorProto(); t.ParseFromString(open(sys.argv[1], "rb").read())
print(int(h.to_array(t).reshape(-1).argmax()))' "$DIR/test_data_set_0/output_0.pb")
[ "$(awk 'NR==1 {print $2}' <<< "$top")" = "$want" ] || fail "top class is not the reference's ($want)"
if "$BIN" "$tmp/missing.onnx" "$DIR/test_data_set_0/input_0.pb" > "$tmp/out" 2> "$tmp/err"; then
  fail "a missing model succeeded"
fi
grep -q "^error: .*missing.onnx" "$tmp/err" && [ "$(wc -l < "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] ||
  fail "bad path gave '$(cat "$tmp/err")'"
echo "c example: ok"
