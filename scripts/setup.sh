#!/usr/bin/env bash
# Installs what is missing (Debian bookworm packages) and builds onnxrun in Release into build/.
# Usage: scripts/setup.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ make pkg-config clang-format
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjpeg62-turbo-dev libpng-dev
  python3-torch python3-torchvision python3-onnx python3-numpy python3-sklearn python3-skimage
  python3-pil libonnx-testdata
  python3-dev pybind11-dev python3-pybind11 python3-pytest python3-pandas python3-dask
  python3-distributed
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== configuring and building (Release) in build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "== built build/onnxrun"

# The Python package (docs/PYTHON.md) into the prefix's dist-packages (/usr/local/lib/python3.X/
# dist-packages by default, on /usr/bin/python3's path), so `import onnxrun` works anywhere.
if [ -f build/python/onnxrun/__init__.py ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO cmake --install build --component python >> build.log 2>&1 || { tail -20 build.log; exit 1; }
  echo "== installed the Python package onnxrun ($(cd / && /usr/bin/python3 -c 'import onnxrun; print(onnxrun.__file__)'))"
fi
