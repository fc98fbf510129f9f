// CPU dispatch: what this CPU runs (cpuinfo, checked once) and the target attributes of the code
// written for it. Kernels with an AVX-512 path compile it with ONNXRUN_AVX512 and call it only when
// HasAvx512().
#pragma once

#define ONNXRUN_AVX512 __attribute__((target("avx512f")))
#define ONNXRUN_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline
// Function multiversioning: one clone per target, picked once at load by an ifunc resolver.
// Sanitizer builds define ONNXRUN_NO_IFUNC (default clone only): the sanitizers instrument the
// resolver, which the dynamic loader runs before their runtime is set up (a crash at startup).
#ifdef ONNXRUN_NO_IFUNC
#define ONNXRUN_CLONES(...)
#else
#define ONNXRUN_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#endif

namespace onnxrun::kernels {

// True when the CPU has AVX-512F.
bool HasAvx512();

// The single-core float32 FMA throughput of this CPU in GFLOP/s (AVX-512, else AVX2+FMA; 0 without
// FMA), measured once (~15 ms) with independent FMA chains: the roof kernels are compared with.
double MeasureFmaPeakGflops();

}  // namespace onnxrun::kernels
