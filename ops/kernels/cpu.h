// CPU dispatch: what this CPU runs (cpuinfo, checked once) and the target attributes of the code
// written for it. Kernels with an AVX-512 path compile it with ONNXRUN_AVX512 and call it only when
// HasAvx512().
#pragma once

#define ONNXRUN_AVX512 __attribute__((target("avx512f")))
#define ONNXRUN_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline

namespace onnxrun::kernels {

// True when the CPU has AVX-512F.
bool HasAvx512();

}  // namespace onnxrun::kernels
