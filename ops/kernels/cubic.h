// The cubic convolution kernel (Keys) of coefficient a, shared by Resize's and GridSample's
// bicubic interpolation: the weight of a tap at distance t.
#pragma once

#include <cmath>

namespace onnxrun::kernels {

inline double CubicWeight(double t, double a) {
  t = std::fabs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

}  // namespace onnxrun::kernels
