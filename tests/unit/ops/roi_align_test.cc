// ops/roi_align.cc: a box whose coordinates (or their product with spatial_scale) are not finite
// is refused with an error naming the box, not sampled (a NaN coordinate reached an integer cast:
// undefined behaviour, found by scripts/fuzz.sh model).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

absl::StatusOr<std::vector<Tensor>> RunRoiAlign(const std::vector<float>& box, float scale) {
  GraphBuilder b(16);
  const std::string x = b.Input("x", {1, 2, 6, 6});
  const std::string rois = b.Init("rois", {1, 4}, box);
  const std::string idx = b.InitInts("idx", {1}, {0});
  b.Output(b.Op("RoiAlign", {x, rois, idx})
               .Int("output_height", 2)
               .Int("output_width", 2)
               .Float("spatial_scale", scale));
  std::vector<float> xv(72);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = float(i % 7);
  // With the load-time check of non-finite constants off (--allow-nonfinite), as the fuzzer ran:
  // the op itself must refuse the box.
  SessionOptions options;
  options.check_finite_inputs = false;
  return RunModel(b, options, {{"x", Tensor({1, 2, 6, 6}, xv)}});
}

TEST(OpsRoiAlign, NonFiniteBoxIsRefused) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
  for (const auto& [box, scale] : std::vector<std::pair<std::vector<float>, float>>{
           {{nan, 0, 4, 4}, 1.f}, {{0, 0, inf, 4}, 1.f}, {{0, 0, 4, 4}, inf}}) {
    auto out = RunRoiAlign(box, scale);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(std::string(out.status().message()).find("roi 0"), std::string::npos) << out.status();
    EXPECT_NE(std::string(out.status().message()).find("not finite"), std::string::npos)
        << out.status();
  }
}

TEST(OpsRoiAlign, FiniteBoxRuns) {
  auto out = RunRoiAlign({0, 0, 4, 4}, 1.f);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->at(0).values().size(), 8u);
  for (float v : out->at(0).values()) EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace onnxrun::test
