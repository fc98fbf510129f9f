// kernels::FirstNonFinite (ops/kernels/finite.h): Session::Run's scan of its inputs for NaN and
// infinities.
#include "ops/kernels/finite.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace onnxrun::kernels {
namespace {

TEST(FirstNonFinite, FindsTheFirstNanOrInfinityAnywhere) {
  const float kMax = std::numeric_limits<float>::max();
  const float kDenormal = std::numeric_limits<float>::denorm_min();
  // Finite extremes are finite: the largest float, -0, denormals.
  std::vector<float> x(3000, 1.f);
  x[5] = kMax, x[6] = -kMax, x[7] = -0.f, x[8] = kDenormal, x[9] = -kDenormal;
  EXPECT_EQ(FirstNonFinite(x.data(), static_cast<int64_t>(x.size())), -1);
  EXPECT_EQ(FirstNonFinite(x.data(), 0), -1);
  // Every position of a block and across block boundaries (1024), each kind.
  for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                    -std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY}) {
    for (int64_t at : {0, 1, 1023, 1024, 1025, 2047, 2999}) {
      std::vector<float> y = x;
      y[at] = bad;
      EXPECT_EQ(FirstNonFinite(y.data(), static_cast<int64_t>(y.size())), at) << bad << " " << at;
      if (at + 5 < 3000) y[at + 5] = bad;  // the first one counts
      EXPECT_EQ(FirstNonFinite(y.data(), static_cast<int64_t>(y.size())), at);
      EXPECT_EQ(FirstNonFinite(y.data(), at), -1);  // before it: none
    }
  }
}

}  // namespace
}  // namespace onnxrun::kernels
