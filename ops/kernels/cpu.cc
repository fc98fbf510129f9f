#include "ops/kernels/cpu.h"

#include <cpuinfo.h>

namespace onnxrun::kernels {

bool HasAvx512() {
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx512f();
  return ok;
}

}  // namespace onnxrun::kernels
