// LRN across channels on NHWC pixels. (ops/kernels/lrn.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

// ONNX LRN across channels, NHWC strided:
//   sq[c] = sum_{j = c - floor((size-1)/2)}^{c + ceil((size-1)/2)} x[j]^2  (clipped to [0,C))
//   y[c]  = x[c] / (bias + alpha / size * sq[c]) ^ beta
// beta 0.75 / 0.5 / 1 / 0 are special-cased (no pow). Not in-place.
void LrnNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t pixels,
             size_t channels, size_t size, float alpha, float beta, float bias,
             pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
