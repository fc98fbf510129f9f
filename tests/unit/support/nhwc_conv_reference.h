// One output of a dense NHWC 2-D convolution (ONNX OIHW weights), in double, for the tests of the
// own conv kernels (tests/unit/ops/kernels/conv_gemm_test.cc, winograd_test.cc).
#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

namespace onnxrun::test {

struct NhwcConvGeometry {
  size_t h, w, c, kh, kw, sh, sw, dh, dw, pt, pl;
  size_t xs;  // input pixel stride (floats)
};

// {bias + sum of the products, bias magnitude + sum of |products|} of output (bi, oy, ox, o);
// in(offset, c) is the input value at pixel offset `offset` (floats), channel c. Padding is zero.
template <class In>
std::pair<double, double> NhwcConvAt(const NhwcConvGeometry& g, const In& in, const float* w_oihw,
                                     double bias, size_t bi, size_t oy, size_t ox, size_t o) {
  double acc = bias, mag = std::fabs(bias);
  for (size_t c = 0; c < g.c; ++c)
    for (size_t ky = 0; ky < g.kh; ++ky)
      for (size_t kx = 0; kx < g.kw; ++kx) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * g.sh + ky * g.dh) - (ptrdiff_t)g.pt;
        const ptrdiff_t ix = (ptrdiff_t)(ox * g.sw + kx * g.dw) - (ptrdiff_t)g.pl;
        if (iy < 0 || ix < 0 || iy >= (ptrdiff_t)g.h || ix >= (ptrdiff_t)g.w) continue;
        const double prod = in(((bi * g.h + iy) * g.w + ix) * g.xs, c) *
                            w_oihw[((o * g.c + c) * g.kh + ky) * g.kw + kx];
        acc += prod;
        mag += std::fabs(prod);
      }
  return {acc, mag};
}

}  // namespace onnxrun::test
