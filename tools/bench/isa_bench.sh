#!/bin/bash
# The AVX2 path against the XNNPACK fallback it replaces and the AVX-512 kernels (docs/BENCHMARKS.md,
# "AVX2 path"): `onnxrun bench --isa I` per model and ISA, pinned to one CPU, 1 thread, rounds
# interleaved (every model and ISA once per round); prints each round's p50 and the median over
# the rounds.
#   tools/bench/isa_bench.sh ONNXRUN ROUNDS CPU MODEL_DIR...
set -euo pipefail
bin=$1 rounds=$2 cpu=$3
shift 3
isas=(avx512 avx2 xnnpack)
declare -A runs
for ((r = 0; r < rounds; ++r)); do
  for dir in "$@"; do
    for isa in "${isas[@]}"; do
      ms=$(taskset -c "$cpu" "$bin" bench "$dir/model.onnx" --isa "$isa" --iters 5 --warmup 2 |
        awk '$1 == "p50_ms" { print $2 }')
      runs[$dir,$isa]+="$ms "
      echo "round $r $(basename "$dir") $isa $ms" >&2
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-22s %10s %10s %10s %12s %12s\n' model avx512_ms avx2_ms xnnpack_ms xnnpack/avx2 avx2/avx512
for dir in "$@"; do
  a=$(echo "${runs[$dir,avx512]}" | median)
  b=$(echo "${runs[$dir,avx2]}" | median)
  c=$(echo "${runs[$dir,xnnpack]}" | median)
  printf '%-22s %10.1f %10.1f %10.1f %12.2f %12.2f\n' "$(basename "$dir")" "$a" "$b" "$c" \
    "$(echo "$c / $b" | bc -l)" "$(echo "$b / $a" | bc -l)"
done
