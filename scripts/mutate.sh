#!/usr/bin/env bash
# Structure-aware model mutation run (tests/fuzz/mutate_models.py) against an ASan + UBSan build of
# the CLI, every accepted mutant compared with ONNX Runtime (onnxruntime-node, tests/fuzz/
# ort_outputs.js). Builds onnxrun_cli in the fuzz build tree (clang, -DONNXRUN_FUZZ=ON: the whole
# library under ASan + UBSan), writes the seed models there (tests/fuzz/make_seeds.py) and runs
# CASES mutants (default 3000) of them and of the CI models LeNet-5 and SqueezeNet 1.1.
# Exits 1 if any mutant crashed, hung, tripped a sanitizer, gave an unnamed error or differs from
# ONNX Runtime; the mutants to review stay in OUT (default build-fuzz/mutate), one line per mutant
# in OUT/results.tsv.
# Usage: scripts/mutate.sh [CASES] [SEED]
# Environment: FUZZ_BUILD (default build-fuzz), MODELS_DIR (default build/models), OUT,
#              ONNXRUN_ORT_DIR (onnxruntime-node's folder, default /work/ort).
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-3000}
seed=${2:-1}
build=${FUZZ_BUILD:-build-fuzz}
models=${MODELS_DIR:-build/models}
out=${OUT:-$build/mutate}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DONNXRUN_FUZZ=ON -DONNXRUN_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
nice cmake --build "$build" -j"$(nproc)" --target onnxrun_cli fuzz_seeds >/dev/null
rm -rf "$out"
nice /usr/bin/python3 tests/fuzz/mutate_models.py --onnxrun "$build/onnxrun" \
  --seeds "$build/tests/fuzz/seeds/model" --models "$models/lenet5_op13" "$models/squeezenet1_1_op13" \
  --out "$out" --cases "$cases" --seed "$seed"
