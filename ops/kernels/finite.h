// Finding NaN and infinities in a float buffer (Session::Run's check of its inputs,
// docs/ROBUSTNESS.md "NaN and infinities").
#pragma once

#include <cstdint>

namespace onnxrun::kernels {

// Index of the first NaN or infinity among x[0, n), or -1 when every element is finite.
int64_t FirstNonFinite(const float* x, int64_t n);

}  // namespace onnxrun::kernels
