// Softmax and LogSoftmax along one axis. (ops/kernels/softmax.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

// Softmax (log_softmax=false) or LogSoftmax along the middle axis of a
// row-major [outer, axis, inner] tensor. Numerically stable (max subtracted).
// In-place allowed (x == y).
void Softmax(const float* x, float* y, size_t outer, size_t axis, size_t inner, bool log_softmax,
             pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
