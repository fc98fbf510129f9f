#!/usr/bin/env bash
# Sets everything up, generates the test models (cached in build/models) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
# ONNX Runtime (npm) is the reference of the opset 18-21 cases (opsets.ort_cases); best effort:
# without node/npm or the registry that test skips, the rest is unaffected.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tools/bench/setup_ort.sh build/ort > build/ort_setup.log 2>&1 ||
    echo "== ONNX Runtime (npm) unavailable: opsets.ort_cases will skip (build/ort_setup.log)"
fi
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 3000
