// CPU dispatch: what this CPU runs (cpuinfo, checked once) and the target attributes of the code
// written for it. Kernels with an AVX-512 path compile it with ONNXRUN_AVX512 and call it only when
// HasAvx512().
#pragma once

#define ONNXRUN_AVX512 __attribute__((target("avx512f")))
#define ONNXRUN_AVX2 __attribute__((target("avx2,fma")))
#define ONNXRUN_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline
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

// The instruction set the own conv kernels (ConvGemm, Winograd) run on. kNone: none (XNNPACK runs
// every conv, as on a CPU without AVX2+FMA). kAuto (in ConvGemmParams): the process's ActiveIsa().
enum class Isa { kAuto, kNone, kAvx2, kAvx512 };
const char* IsaName(Isa isa);

// The CPU has it (kNone, kAuto: always).
bool IsaSupported(Isa isa);
// The process's ISA: the best the CPU has (kAvx512 > kAvx2 > kNone), or the one ForceIsa set.
Isa ActiveIsa();
inline Isa ResolveIsa(Isa isa) { return isa == Isa::kAuto ? ActiveIsa() : isa; }
// Runs the whole process as on a CPU with `isa` at most (tests, benchmarks): below kAvx512, every
// AVX-512 path is off -- HasAvx512() is false and cpuinfo reports no AVX-512 to XNNPACK (which
// reads it once, at xnn_initialize: force before it). False (nothing changed) when the CPU lacks
// `isa`.
bool ForceIsa(Isa isa);

// True when the CPU has AVX-512F and the process runs it (ActiveIsa() == kAvx512).
bool HasAvx512();

// The single-core float32 FMA throughput of this CPU in GFLOP/s (AVX-512, else AVX2+FMA; 0 without
// FMA), measured once (~15 ms) with independent FMA chains: the roof kernels are compared with.
double MeasureFmaPeakGflops();

}  // namespace onnxrun::kernels
