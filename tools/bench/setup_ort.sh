#!/usr/bin/env bash
# Installs onnxruntime-node 1.30 (CPU) into the build tree for tools/bench/ort_bench.js.
# Comparison only: onnxrun never links or loads ONNX Runtime.
#
#   tools/bench/setup_ort.sh [DIR]        # default DIR: <repo>/build/ort
#
# Idempotent: does nothing (and needs no network) when DIR already holds a working 1.30.x.
# Otherwise runs `npm install --ignore-scripts`: the package's postinstall script tries to
# download CUDA/TensorRT binaries and fails without internet, while the CPU library
# (bin/napi-v6/linux/x64/libonnxruntime.so.1) already ships inside the npm tarball. npm tries its
# cache first (--prefer-offline) and, if the registry cannot be reached, retries with --offline.
set -euo pipefail

ORT_VERSION="${ORT_VERSION:-1.30}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$repo/build/ort}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pkg="$dir/node_modules/onnxruntime-node"

command -v node >/dev/null || { echo "setup_ort: node not found (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup_ort: npm not found (apt-get install npm)" >&2; exit 1; }

check() {
  # Prints the installed version if it loads and matches ORT_VERSION, fails otherwise.
  [[ -f "$pkg/package.json" ]] || return 1
  node -e '
    const [pkg, want] = process.argv.slice(1);
    const v = require(pkg + "/package.json").version;
    if (!(v === want || v.startsWith(want + "."))) process.exit(1);
    const ort = require(pkg);
    if (!ort.InferenceSession) process.exit(1);
    console.log(v);' "$pkg" "$ORT_VERSION" 2>/dev/null
}

if v="$(check)"; then
  echo "setup_ort: onnxruntime-node $v already installed in $dir"
  exit 0
fi

# A package.json of its own keeps npm from walking up into anything else.
[[ -f "$dir/package.json" ]] ||
  printf '{\n  "name": "onnxrun-ort-bench",\n  "private": true\n}\n' >"$dir/package.json"

npm_args=(install --prefix "$dir" --ignore-scripts --no-audit --no-fund --no-save
          "onnxruntime-node@$ORT_VERSION")
echo "setup_ort: npm ${npm_args[*]}"
if ! npm "${npm_args[@]}" --prefer-offline; then
  echo "setup_ort: registry install failed; retrying from the npm cache only" >&2
  npm "${npm_args[@]}" --offline
fi

if v="$(check)"; then
  echo "setup_ort: onnxruntime-node $v installed in $dir"
else
  echo "setup_ort: onnxruntime-node did not load from $pkg" >&2
  exit 1
fi
