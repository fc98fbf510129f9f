// Tests for ops/pool.cc: MaxPool and AveragePool on random windows; GlobalAveragePool,
// GlobalMaxPool, through the real loader and Session against naive NCHW references
// (tests/unit/support/reference_ops.h) on seeded random shapes. ExpectAllVariants runs each case
// under all eight combinations of optimize / concat_in_place / in_place; the variants agree bitwise
// unless a case says otherwise.
#include "ops/pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/reference_ops.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;
using namespace reference;  // NOLINT: the references read best unqualified

TEST(OpsPool, MaxAndAverageRandomWindows) {
  std::mt19937 rng(15);
  for (int it = 0; it < 80; ++it) {
    const bool is_max = it % 2 == 0;
    const int64_t N = RandomInt(rng, 1, 3), C = RandomInt(rng, 1, 9), H = RandomInt(rng, 2, 12),
                  W = RandomInt(rng, 2, 12);
    Window p;
    p.kh = RandomInt(rng, 1, std::min<int64_t>(H, 4));
    p.kw = RandomInt(rng, 1, std::min<int64_t>(W, 4));
    if (p.kh * p.kw == 1 && it % 3) p.kh = std::min<int64_t>(H, 2);
    p.sh = RandomInt(rng, 1, 3);
    p.sw = RandomInt(rng, 1, 3);
    if (is_max && it % 5 == 0) p.dh = p.dw = 2;
    if (it % 4 != 3) {  // pads strictly smaller than the window
      p.pt = RandomInt(rng, 0, p.kh - 1), p.pb = RandomInt(rng, 0, p.kh - 1);
      p.pl = RandomInt(rng, 0, p.kw - 1), p.pr = RandomInt(rng, 0, p.kw - 1);
    }
    p.ceil_mode = it % 3 == 1;
    p.count_include_pad = !is_max && it % 4 == 1;
    if (p.OutH(H) < 1 || p.OutW(W) < 1) continue;
    SCOPED_TRACE(absl::StrCat("case ", it, is_max ? " Max" : " Avg", " N", N, " C", C, " ", H, "x",
                              W, " k", p.kh, "x", p.kw, " s", p.sh, p.sw, " d", p.dh, " pads ",
                              p.pt, p.pl, p.pb, p.pr, " ceil ", p.ceil_mode, " cip ",
                              p.count_include_pad));
    GraphBuilder b;
    const Tensor x = RandomTensor({N, C, H, W}, rng);
    auto n = b.Op(is_max ? "MaxPool" : "AveragePool", {b.Input("x", {N, C, H, W})})
                 .Ints("kernel_shape", {p.kh, p.kw})
                 .Ints("strides", {p.sh, p.sw})
                 .Ints("pads", {p.pt, p.pl, p.pb, p.pr})
                 .Int("ceil_mode", p.ceil_mode);
    if (p.dh > 1) n.Ints("dilations", {p.dh, p.dw});
    if (!is_max) n.Int("count_include_pad", p.count_include_pad);
    b.Output(n);
    ExpectAllVariants(b, {{"x", x}}, {RefPool(x, p, is_max)});
  }
}

TEST(OpsPool, GlobalAverageAndMax) {
  std::mt19937 rng(16);
  for (int it = 0; it < 10; ++it) {
    const bool is_max = it % 2;
    const Shape s = {RandomInt(rng, 1, 3), RandomInt(rng, 1, 17), RandomInt(rng, 1, 9),
                     RandomInt(rng, 1, 9)};
    SCOPED_TRACE(ir::ShapeString(s));
    GraphBuilder b;
    const Tensor x = RandomTensor(s, rng);
    b.Output(b.Op(is_max ? "GlobalMaxPool" : "GlobalAveragePool", {b.Input("x", s)}));
    Window p;
    p.kh = p.sh = s[2];
    p.kw = p.sw = s[3];
    ExpectAllVariants(b, {{"x", x}}, {RefPool(x, p, is_max)});
  }
}

// Infer parses the pools' attributes once into PoolParams; a global pool's window is the input.
TEST(OpsPool, InferStoresResolvedParams) {
  GraphBuilder b;
  const std::string x = b.Input("x", {2, 3, 5, 6});
  b.Output(b.Op("AveragePool", {x}, 1, "avg")
               .Ints("kernel_shape", {2, 3})
               .Ints("strides", {2, 2})
               .Ints("pads", {0, 1, 1, 0})
               .Int("ceil_mode", 1)
               .Int("count_include_pad", 1));
  b.Output(b.Op("GlobalMaxPool", {x}, 1, "global"));
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  const PoolParams* avg = ir::ParamsAs<PoolParams>(g->nodes[NodeIndex(*g, "avg")]);
  ASSERT_NE(avg, nullptr);
  EXPECT_TRUE(avg->count_include_pad);
  const kernels::Window& w = avg->window;
  EXPECT_EQ(w.rank, 2u);
  EXPECT_TRUE(w.ceil_mode);
  EXPECT_EQ(w.kernel[0], 2u);
  EXPECT_EQ(w.kernel[1], 3u);
  EXPECT_EQ(w.pad_begin[1], 1u);
  EXPECT_EQ(w.pad_end[0], 1u);
  EXPECT_EQ(w.out[0], 3u);  // ceil((5 + 1 - 2) / 2) + 1
  EXPECT_EQ(w.out[1], 3u);  // ceil((6 + 1 - 3) / 2) + 1
  const PoolParams* global = ir::ParamsAs<PoolParams>(g->nodes[NodeIndex(*g, "global")]);
  ASSERT_NE(global, nullptr);
  const size_t in[2] = {5, 6};
  EXPECT_TRUE(global->window == kernels::GlobalWindow(2, in));
  EXPECT_FALSE(global->count_include_pad);
}

// MaxPool's Indices output (the typed kernel): the values equal the float kernels' reference, and
// each index points at an input element equal to its value (row-major, or with H and W swapped for
// storage_order 1), inside the window; uint8 data pools like float.
TEST(OpsPool, MaxPoolIndicesAndUint8) {
  std::mt19937 rng(18);
  for (int it = 0; it < 30; ++it) {
    const int64_t N = RandomInt(rng, 1, 2), C = RandomInt(rng, 1, 4), H = RandomInt(rng, 2, 9),
                  W = RandomInt(rng, 2, 9);
    Window p;
    p.kh = RandomInt(rng, 1, std::min<int64_t>(H, 3));
    p.kw = RandomInt(rng, 1, std::min<int64_t>(W, 3));
    p.sh = RandomInt(rng, 1, 2);
    p.sw = RandomInt(rng, 1, 2);
    p.pt = RandomInt(rng, 0, p.kh - 1), p.pb = RandomInt(rng, 0, p.kh - 1);
    p.pl = RandomInt(rng, 0, p.kw - 1), p.pr = RandomInt(rng, 0, p.kw - 1);
    if (p.OutH(H) < 1 || p.OutW(W) < 1) continue;
    const int64_t order = it % 2;
    SCOPED_TRACE(
        absl::StrCat("case ", it, " ", H, "x", W, " k", p.kh, "x", p.kw, " order ", order));
    GraphBuilder b(12);
    const Tensor x = RandomTensor({N, C, H, W}, rng);
    auto pool = b.Op("MaxPool", {b.Input("x", {N, C, H, W})}, 2, "pool")
                    .Ints("kernel_shape", {p.kh, p.kw})
                    .Ints("strides", {p.sh, p.sw})
                    .Ints("pads", {p.pt, p.pl, p.pb, p.pr})
                    .Int("storage_order", order);
    b.Output(pool.out(0));
    b.Output(pool.out(1));
    b.model()
        .mutable_graph()
        ->mutable_output(1)
        ->mutable_type()
        ->mutable_tensor_type()
        ->set_elem_type(onnx::TensorProto::INT64);
    auto out = RunModel(b, {}, {{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status();
    const Tensor want = RefPool(x, p, true);
    ASSERT_EQ((*out)[0].values(), want.values());
    const Tensor& idx = (*out)[1];
    ASSERT_EQ(idx.shape(), want.shape());
    const int64_t oh = p.OutH(H), ow = p.OutW(W);
    for (int64_t k = 0; k < idx.num_elements(); ++k) {
      const int64_t plane = k / (oh * ow), oy = k / ow % oh, ox = k % ow;
      int64_t at = idx.ints()[k] - plane * H * W;
      ASSERT_GE(at, 0);
      ASSERT_LT(at, H * W);
      const int64_t y = order ? at % H : at / W, xx = order ? at / H : at % W;
      EXPECT_EQ(x.values()[plane * H * W + y * W + xx], want.values()[k]) << k;
      EXPECT_GE(y, oy * p.sh - p.pt);
      EXPECT_LT(y, oy * p.sh - p.pt + p.kh);
      EXPECT_GE(xx, ox * p.sw - p.pl);
      EXPECT_LT(xx, ox * p.sw - p.pl + p.kw);
    }
  }
  // uint8 data: the same maxima as float on values 0..255.
  GraphBuilder b(12);
  b.Output(b.Op("MaxPool", {b.InputOfType("x", {1, 1, 3, 3}, onnx::TensorProto::UINT8)})
               .Ints("kernel_shape", {2, 2}));
  b.model()
      .mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::UINT8);
  auto out = RunModel(
      b, {},
      {{"x", Tensor::Ints({1, 1, 3, 3}, {1, 200, 3, 4, 5, 255, 7, 8, 0}, DataType::kUint8)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].dtype(), DataType::kUint8);
  EXPECT_EQ((*out)[0].ints(), (std::vector<int64_t>{200, 255, 8, 255}));
}

}  // namespace
}  // namespace onnxrun::test
