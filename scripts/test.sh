#!/usr/bin/env bash
# Sets everything up, generates the test models (cached in build/models) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 3000
