// The geometry of a sliding window (convolution or pooling) over 1 to 3 spatial axes, the one type
// the op definitions resolve (ops/spatial.h) and the kernels read (ConvNd, PoolNd, the 2-D NHWC
// pools, the conv GEMM's parameters).
#pragma once

#include <cstddef>

namespace onnxrun::kernels {

// Per spatial axis, outermost first; axes [rank, 3) are unused. out[i] is the ONNX output size for
// the other fields (PoolOutputSize in ops/kernels/pool.h).
struct Window {
  size_t rank = 0;
  size_t in[3] = {}, out[3] = {}, kernel[3] = {};
  size_t stride[3] = {1, 1, 1}, dilation[3] = {1, 1, 1};
  size_t pad_begin[3] = {}, pad_end[3] = {};
  bool ceil_mode = false;

  bool operator==(const Window&) const = default;
  bool has_pads() const {
    for (size_t i = 0; i < rank; ++i)
      if (pad_begin[i] || pad_end[i]) return true;
    return false;
  }
  size_t taps() const {
    size_t t = 1;
    for (size_t i = 0; i < rank; ++i) t *= kernel[i];
    return t;
  }
  size_t out_size() const {
    size_t t = 1;
    for (size_t i = 0; i < rank; ++i) t *= out[i];
    return t;
  }
};

// A window over the whole input (global pooling): kernel = in, one output per axis.
inline Window GlobalWindow(size_t rank, const size_t* in) {
  Window w;
  w.rank = rank;
  for (size_t i = 0; i < rank; ++i) {
    w.in[i] = in[i];
    w.kernel[i] = in[i];
    w.stride[i] = in[i];
    w.out[i] = 1;
  }
  return w;
}

}  // namespace onnxrun::kernels
