// 2-D max and average pooling on NHWC tensors. (ops/kernels/pool.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "ops/kernels/window.h"

namespace onnxrun::kernels {

// ONNX output extent of one spatial axis:
//   out = floor_or_ceil((in + pb + pe - ((k-1)*d + 1)) / s) + 1
// and, with ceil_mode, if (out-1)*s >= in + pb then out -= 1 (the last window
// must start inside the input or the left padding). Returns 0 when the
// (dilated) kernel does not fit in the padded input.
size_t PoolOutputSize(size_t in, size_t kernel, size_t stride, size_t dilation, size_t pad_begin,
                      size_t pad_end, bool ceil_mode);

// `w` has rank 2 (use in = kernel = 1 on the first axis for 1-D pooling). x: [n, in[0], in[1], c]
// pixel stride x_stride; y: [n, out[0], out[1], c] pixel stride y_stride. Padded taps are ignored.
// A window with no input taps yields -inf.
void MaxPool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                   size_t channels, const Window& w, pthreadpool_t pool = nullptr);
// Same layout. Divisor: count_include_pad=0 -> number of taps inside the input;
// count_include_pad=1 -> number of taps inside the padded input
// [-pad_begin, in + pad_end) (ceil-mode overhang beyond it is not counted, as
// ONNX Runtime does). A window with a zero divisor yields 0.
void AveragePool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                       size_t channels, const Window& w, bool count_include_pad,
                       pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
