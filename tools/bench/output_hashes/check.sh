#!/usr/bin/env bash
# Bitwise output check for changes that must not alter results (refactors): builds dump_outputs
# (public API only) against an onnxrun source tree, as a subproject, hashes every output of every
# model dir (model.onnx + test_data_set_*), and compares with a baseline hash file.
#
#   # 1. before the change: hashes of the current tree (a clone of the base commit works too)
#   tools/bench/output_hashes/check.sh . /tmp/before.txt
#   # 2. after it: the same, compared
#   BASELINE=/tmp/before.txt tools/bench/output_hashes/check.sh . /tmp/after.txt
#
# Usage: check.sh <onnxrun-src-tree> <out-file> [threads]
#   threads      num_threads for the sessions (default 1)
# Environment:
#   BASELINE=<file>      hash file to compare with (none: only hash)
#   MODEL_ROOTS="a b"    directories holding model dirs (default: <tree>/build/models, the CI set;
#                        export the full set with models/export.py --set all for more)
# Line format: <dirname>/<set> out<k> <shape> <FNV-1a 64 of the raw float32 (or int64) bytes>.
# Hashes are specific to the CPU (XNNPACK and onnxrun pick kernels by CPU features at run time).
#   RUNS=R               runs per data set on one session; a run differing from the first is
#                        flagged NONDETERMINISTIC (default 2)
#   TIMEOUT=S            per-model time limit in seconds (default 900)
#   BUILD_DIR=<dir>      build directory (default /tmp/onnxrun-output-hashes-<tree name>-<hash of tree path>)
#   JOBS=J               build parallelism (default 2)
# Exit status: 0 all outputs identical to the baseline (or no baseline to compare), 1 differences
# or errors, 2 usage/build failure.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 <onnxrun-src-tree> <out-file> [threads]" >&2
  exit 2
fi
TREE="$(realpath -e "$1" 2>/dev/null)" || { echo "check.sh: no such tree: $1" >&2; exit 2; }
OUT="$2"
THREADS="${3:-1}"
case "$THREADS" in ''|*[!0-9]*) echo "check.sh: threads must be a positive integer" >&2; exit 2;; esac
RUNS="${RUNS:-2}"
TIMEOUT="${TIMEOUT:-900}"
JOBS="${JOBS:-2}"
BASELINE="${BASELINE:-}"
MODEL_ROOTS="${MODEL_ROOTS:-$TREE/build/models}"
KEY="$(printf '%s' "$TREE" | md5sum | cut -c1-8)"
BUILD_DIR="${BUILD_DIR:-/tmp/onnxrun-output-hashes-$(basename "$TREE")-$KEY}"
export LC_ALL=C

# --- build ---------------------------------------------------------------------------------------
echo "== tree $TREE ($(git -C "$TREE" rev-parse --short HEAD 2>/dev/null || echo 'no git')$(git -C "$TREE" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ', dirty'))"
echo "== building dump_outputs in $BUILD_DIR"
mkdir -p "$BUILD_DIR"
if ! cmake -S "$HERE" -B "$BUILD_DIR" -DONNXRUN_SRC="$TREE" -DCMAKE_BUILD_TYPE=Release \
      -DONNXRUN_BUILD_TESTS=OFF > "$BUILD_DIR/configure.log" 2>&1; then
  tail -30 "$BUILD_DIR/configure.log"; echo "check.sh: configure failed ($BUILD_DIR/configure.log)" >&2; exit 2
fi
if ! nice -n 10 cmake --build "$BUILD_DIR" --target dump_outputs -j"$JOBS" > "$BUILD_DIR/build.log" 2>&1; then
  tail -40 "$BUILD_DIR/build.log"; echo "check.sh: build failed ($BUILD_DIR/build.log)" >&2; exit 2
fi
TOOL="$BUILD_DIR/dump_outputs"

# --- models --------------------------------------------------------------------------------------
MODELS=()
for root in $MODEL_ROOTS; do
  [ -d "$root" ] || continue
  while IFS= read -r m; do MODELS+=("$(dirname "$m")"); done \
    < <(find "$root" -mindepth 2 -maxdepth 2 -name model.onnx | sort)
done
if [ ${#MODELS[@]} -eq 0 ]; then echo "check.sh: no model dirs under $MODEL_ROOTS" >&2; exit 2; fi
dups="$(for m in "${MODELS[@]}"; do basename "$m"; done | sort | uniq -d)"
[ -n "$dups" ] && echo "check.sh: warning: model names in more than one root (lines repeat): $dups" >&2

echo "== hashing ${#MODELS[@]} model dirs, threads $THREADS, runs $RUNS -> $OUT"
mkdir -p "$(dirname "$OUT")"
TMP="$(mktemp "${OUT}.tmp.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
start=$(date +%s)
for m in "${MODELS[@]}"; do
  name="$(basename "$m")"
  lines="$(timeout "$TIMEOUT" nice -n 10 "$TOOL" --threads "$THREADS" --runs "$RUNS" "$m" 2>/dev/null)"
  rc=$?
  [ -n "$lines" ] && printf '%s\n' "$lines" >> "$TMP"
  if [ $rc -eq 124 ]; then
    echo "$name ERROR timed out after ${TIMEOUT}s" >> "$TMP"
  elif [ $rc -gt 1 ]; then
    echo "$name ERROR crashed (exit status $rc$( [ $rc -gt 128 ] && echo ", signal $((rc-128))"))" >> "$TMP"
  elif [ -z "$lines" ]; then
    echo "$name ERROR no output (exit status $rc)" >> "$TMP"
  fi
done
mv "$TMP" "$OUT"
trap - EXIT
echo "== hashed in $(( $(date +%s) - start )) s"

# --- compare -------------------------------------------------------------------------------------
n_out=$(awk '$2 ~ /^out[0-9]+$/' "$OUT" | wc -l)
n_err=$(grep -c ' ERROR ' "$OUT")
n_nondet=$(grep -c 'NONDETERMINISTIC' "$OUT")
n_dirs=$(awk '{split($1,a,"/"); print a[1]}' "$OUT" | sort -u | wc -l)
echo "== $n_dirs model dirs, $n_out outputs, $n_err error lines, $n_nondet nondeterministic outputs"
[ "$n_err" -gt 0 ] && grep ' ERROR ' "$OUT" | sed 's/^/   /'
[ "$n_nondet" -gt 0 ] && grep 'NONDETERMINISTIC' "$OUT" | sed 's/^/   /'

if [ -z "$BASELINE" ] || [ ! -f "$BASELINE" ] || [ "$(realpath "$BASELINE")" = "$(realpath "$OUT")" ]; then
  echo "== no baseline to compare with ($BASELINE)"
  [ "$n_err" -eq 0 ] && [ "$n_nondet" -eq 0 ] && exit 0 || exit 1
fi

# Lines keyed by "<dir>/<set> out<k>" (or "<dir>[/<set>] ERROR").
awk -v base="$BASELINE" -v new="$OUT" '
  function key(line,   f) { split(line, f, " "); return f[1] " " f[2] }
  FNR == 1 { file++ }
  file == 1 { b[key($0)] = $0; border[++nb] = key($0); next }
  file == 2 { n[key($0)] = $0; norder[++nn] = key($0); next }
  END {
    same = 0; diff = 0; missing = 0; extra = 0
    for (i = 1; i <= nb; i++) {
      k = border[i]
      if (!(k in n)) { missing++; ml = ml "   missing: " b[k] "\n"; continue }
      if (n[k] == b[k]) same++
      else { diff++; dl = dl "   baseline: " b[k] "\n   now:      " n[k] "\n" }
    }
    for (i = 1; i <= nn; i++) {
      k = norder[i]
      if (!(k in b)) { extra++; el = el "   new:     " n[k] "\n" }
    }
    printf "== vs %s: %d baseline lines, %d identical, %d differ, %d missing, %d new\n", base, nb, same, diff, missing, extra
    if (diff)    printf "differing:\n%s", dl
    if (missing) printf "missing (in baseline, not now):\n%s", ml
    if (extra)   printf "new (now, not in baseline):\n%s", el
    exit (diff || missing || extra) ? 1 : 0
  }' "$BASELINE" "$OUT"
cmp_rc=$?
if [ $cmp_rc -eq 0 ]; then
  echo "== RESULT: IDENTICAL ($n_out outputs bitwise equal to the baseline)"
else
  echo "== RESULT: DIFFERENT"
fi
[ $cmp_rc -eq 0 ] && [ "$n_err" -eq 0 ] && [ "$n_nondet" -eq 0 ] && exit 0 || exit 1
