// CPU dispatch: what this CPU runs (cpuinfo, checked once) and the target attributes of the code
// written for it. Kernels with an AVX-512 path compile it with ONNXRUN_AVX512 and call it only when
// HasAvx512().
#pragma once

#define ONNXRUN_AVX512 __attribute__((target("avx512f")))
#define ONNXRUN_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline

namespace onnxrun::kernels {

// True when the CPU has AVX-512F.
bool HasAvx512();

// The single-core float32 FMA throughput of this CPU in GFLOP/s (AVX-512, else AVX2+FMA; 0 without
// FMA), measured once (~15 ms) with independent FMA chains: the roof kernels are compared with.
double MeasureFmaPeakGflops();

}  // namespace onnxrun::kernels
