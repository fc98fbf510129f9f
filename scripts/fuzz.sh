#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang + ASan + UBSan in build-fuzz/ and runs each
# for SECONDS (default 60) from a seed corpus generated into the build tree. Exits 1 if any target
# found a crash, sanitizer report, leak, timeout or out-of-memory; the inputs are left in
# build-fuzz/tests/fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: model image tensor; default all)
# Environment: FUZZ_BUILD (default build-fuzz); FUZZ_KEEP_GOING=1 runs libFuzzer's fork mode,
# which goes on after a finding (to collect every crash class in one run). Each run's log: build-fuzz/tests/fuzz/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(model image tensor)
build=${FUZZ_BUILD:-build-fuzz}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DONNXRUN_FUZZ=ON -DONNXRUN_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
nice cmake --build "$build" -j"$(nproc)" --target fuzz_seeds \
  $(printf '%s_fuzzer ' "${targets[@]}") >/dev/null

dir=$build/tests/fuzz
mode=()
[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
found=0
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
  echo "== ${t}_fuzzer: ${seconds}s"
  # Inputs over 64 KiB, runs over 20 s and more than 2 GiB of memory count as findings.
  nice "$dir/${t}_fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "${mode[@]}" -artifact_prefix="$dir/artifacts/$t/" \
    "$dir/corpus/$t" "$dir/seeds/$t" >"$dir/$t.log" 2>&1 || true
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|SUMMARY)|ERROR' "$dir/$t.log" || true
  if compgen -G "$dir/artifacts/$t/*" >/dev/null; then
    echo "!! ${t}_fuzzer findings:"; ls -1 "$dir/artifacts/$t"; found=1
  fi
done
exit $found
