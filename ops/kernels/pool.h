// 2-D max and average pooling on NHWC tensors. (ops/kernels/pool.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

// 2-D pooling parameters (use kernel_h = 1, in_h = 1 for 1-D pooling).
struct Pool2dParams {
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool only
};

// ONNX output extent of one spatial axis:
//   out = floor_or_ceil((in + pb + pe - ((k-1)*d + 1)) / s) + 1
// and, with ceil_mode, if (out-1)*s >= in + pb then out -= 1 (the last window
// must start inside the input or the left padding). Returns 0 when the
// (dilated) kernel does not fit in the padded input.
size_t PoolOutputSize(size_t in, size_t kernel, size_t stride, size_t dilation, size_t pad_begin,
                      size_t pad_end, bool ceil_mode);

// x: [n, in_h, in_w, c] pixel stride x_stride; y: [n, out_h, out_w, c] pixel
// stride y_stride, out_h/out_w from PoolOutputSize. Padded taps are ignored.
// A window with no input taps yields -inf.
void MaxPool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                   size_t in_h, size_t in_w, size_t channels, const Pool2dParams& p,
                   pthreadpool_t pool = nullptr);
// Same layout. Divisor: count_include_pad=0 -> number of taps inside the input;
// count_include_pad=1 -> number of taps inside the padded input
// [-pad_begin, in + pad_end) (ceil-mode overhang beyond it is not counted, as
// ONNX Runtime does). A window with a zero divisor yields 0.
void AveragePool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                       size_t in_h, size_t in_w, size_t channels, const Pool2dParams& p,
                       pthreadpool_t pool = nullptr);

}  // namespace onnxrun::kernels
