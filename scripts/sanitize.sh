#!/usr/bin/env bash
# Concurrent runs under the sanitizers: builds the library and tests/concurrency/concurrent_runs
# with -fsanitize=thread and, separately, -fsanitize=address,undefined (each in its own build
# tree), then runs 4 threads x 100 runs on one session for SqueezeNet 1.1, ResNet-50,
# DenseNet-121 and GoogLeNet (every output bitwise equal to a serial run) and batch 1 -> 8 -> 3 -> 1
# on one session (equal to fresh sessions). Exits non-zero on any sanitizer report or mismatch.
#   scripts/sanitize.sh [tsan] [asan]        (default: both)
# Environment:
#   ONNXRUN_CONCURRENCY_RUNS   runs per thread (default 100; CI may lower it)
#   MODELS_DIR                 exported models (default build/models: run `make models` first)
#   SANITIZE_BUILD_ROOT        where the two build trees go (default build-sanitize)
#   JOBS                       build parallelism (default 2)
# Both builds define ONNXRUN_NO_IFUNC (ops/kernels/cpu.h): the loader runs ifunc resolvers before
# the sanitizer runtime is up, and an instrumented resolver crashes the program at startup.
# Sessions run with 1 intra-op thread: XNNPACK and pthreadpool are Debian's uninstrumented
# libraries, whose synchronization ThreadSanitizer cannot see, so a worker pool would report races
# that are not there. The 4 application threads on one session are what is checked.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
models=${MODELS_DIR:-$src/build/models}
root=${SANITIZE_BUILD_ROOT:-$src/build-sanitize}
jobs=${JOBS:-2}
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(tsan asan)
names=(squeezenet1_1_op13 resnet50_op13 densenet121_op13 googlenet_op13)
dirs=()
for n in "${names[@]}"; do
  [ -f "$models/$n/model.onnx" ] || { echo "sanitize: $models/$n/model.onnx missing (make models)" >&2; exit 2; }
  dirs+=("$models/$n")
done
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

status=0
for kind in "${kinds[@]}"; do
  case $kind in
    tsan) flags=(-DCMAKE_CXX_FLAGS="-fsanitize=thread -g -fno-omit-frame-pointer -DONNXRUN_NO_IFUNC"
                 -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread) ;;
    asan) flags=(-DONNXRUN_SANITIZE=ON -DCMAKE_CXX_FLAGS="-g -fno-omit-frame-pointer") ;;
    *) echo "sanitize: unknown kind '$kind' (tsan, asan)" >&2; exit 2 ;;
  esac
  build=$root/$kind
  log=$root/$kind.log
  mkdir -p "$root"
  start=$(date +%s)
  echo "== $kind: building in $build"
  if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DONNXRUN_BUILD_TESTS=ON \
           "${launcher[@]}" "${flags[@]}" &&
         nice cmake --build "$build" -j"$jobs" --target concurrent_runs; } > "$log" 2>&1; then
    tail -30 "$log"
    echo "sanitize: $kind build failed (log: $log)" >&2
    exit 2
  fi
  built=$(date +%s)
  echo "== $kind: running (build $((built - start)) s)"
  # halt_on_error: the first report fails the run; exitcode 66 tells a report from a mismatch (1).
  if TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
     ASAN_OPTIONS="halt_on_error=1 exitcode=66 detect_leaks=1" \
     UBSAN_OPTIONS="halt_on_error=1 exitcode=66 print_stacktrace=1" \
     "$build/tests/concurrent_runs" "${dirs[@]}"; then
    echo "== $kind: clean ($(($(date +%s) - built)) s run)"
  else
    rc=$?
    echo "== $kind: FAILED (exit $rc: $([ $rc -eq 66 ] && echo sanitizer report || echo mismatch or error))" >&2
    status=1
  fi
done
exit $status
