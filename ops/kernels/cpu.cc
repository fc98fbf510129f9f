#include "ops/kernels/cpu.h"

#include <cpuinfo.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace onnxrun::kernels {

namespace {

Isa BestIsa() {
  static const Isa best = [] {
    if (!cpuinfo_initialize()) return Isa::kNone;
    if (cpuinfo_has_x86_avx512f()) return Isa::kAvx512;
    if (cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3()) return Isa::kAvx2;
    return Isa::kNone;
  }();
  return best;
}

std::atomic<Isa> forced{Isa::kAuto};

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAuto:
      return "auto";
    case Isa::kNone:
      return "xnnpack";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

bool IsaSupported(Isa isa) { return isa == Isa::kAuto || (int)isa <= (int)BestIsa(); }

Isa ActiveIsa() {
  const Isa f = forced.load(std::memory_order_relaxed);
  return f == Isa::kAuto ? BestIsa() : f;
}

bool ForceIsa(Isa isa) {
  if (!IsaSupported(isa)) return false;
  forced.store(isa);
  if (ResolveIsa(isa) != Isa::kAvx512) {
    // What XNNPACK (and every cpuinfo_has_x86_avx512*() reader) sees from now on.
    cpuinfo_isa.avx512f = cpuinfo_isa.avx512pf = cpuinfo_isa.avx512er = false;
    cpuinfo_isa.avx512cd = cpuinfo_isa.avx512dq = cpuinfo_isa.avx512bw = false;
    cpuinfo_isa.avx512vl = cpuinfo_isa.avx512ifma = cpuinfo_isa.avx512vbmi = false;
    cpuinfo_isa.avx512vbmi2 = cpuinfo_isa.avx512bitalg = cpuinfo_isa.avx512vpopcntdq = false;
    cpuinfo_isa.avx512vnni = cpuinfo_isa.avx512bf16 = cpuinfo_isa.avx512vp2intersect = false;
    cpuinfo_isa.avx512_4vnniw = cpuinfo_isa.avx512_4fmaps = false;
  }
  return true;
}

bool HasAvx512() { return ActiveIsa() == Isa::kAvx512; }

namespace {

// 24 independent FMA chains (enough to cover the latency of two FMA ports), `iters` rounds. The
// inner loop is unrolled so that the chains live in registers: rolled, GCC kept them on the stack
// and the measure came out at half the peak (112 GFLOP/s on a CPU whose conv kernels ran at 190).
ONNXRUN_AVX512 double Run512(int64_t iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 24
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
#pragma GCC unroll 24
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
