#include "ops/kernels/cpu.h"

#include <cpuinfo.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>

namespace onnxrun::kernels {

bool HasAvx512() {
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx512f();
  return ok;
}

namespace {

// 24 independent FMA chains (enough to cover the latency of two FMA ports), `iters` rounds.
ONNXRUN_AVX512 double Run512(int64_t iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  float lanes[16];
  double sink = 0;
  for (int i = 0; i < 24; ++i) {
    _mm512_storeu_ps(lanes, acc[i]);
    sink += lanes[0];
  }
  return sink;
}

__attribute__((target("avx2,fma"))) double Run256(int64_t iters) {
  __m256 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 24; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  float lanes[8];
  double sink = 0;
  for (int i = 0; i < 24; ++i) {
    _mm256_storeu_ps(lanes, acc[i]);
    sink += lanes[0];
  }
  return sink;
}

}  // namespace

double MeasureFmaPeakGflops() {
  static const double peak = [] {
    const bool wide = HasAvx512();
    if (!wide && !(cpuinfo_initialize() && cpuinfo_has_x86_fma3())) return 0.0;
    const int lanes = wide ? 16 : 8;
    volatile double sink = 0;
    double best = 0;
    for (int round = 0; round < 3; ++round) {  // best of 3 rounds of ~5 ms
      const int64_t iters = 200000;
      const auto t0 = std::chrono::steady_clock::now();
      sink = sink + (wide ? Run512(iters) : Run256(iters));
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, 2.0 * lanes * 24 * iters / s / 1e9);
    }
    return best;
  }();
  return peak;
}

}  // namespace onnxrun::kernels
