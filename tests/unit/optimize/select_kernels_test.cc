// select_kernels: which kernel each Conv / Gemm / MatMul shape gets, that
// SessionOptions::conv_kernel steers it, and that lowering honours the recorded choice (and refuses
// one it cannot honour).
#include <gtest/gtest.h>
#include <xnnpack.h>

#include <random>

#include "ops/kernels/conv_gemm.h"
#include "ops/kernels/group_conv.h"
#include "ops/kernels/winograd.h"
#include "runtime/exec/executor.h"
#include "runtime/optimize/pass.h"
#include "runtime/plan/memory_plan.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

struct ConvCase {
  std::string name;
  Shape x, w;
  int64_t group = 1, stride = 1;
  ir::Impl want;           // with the own conv GEMM available (AVX-512)
  ir::Impl want_fallback;  // without it
};

GraphBuilder ConvModel(const ConvCase& c, std::mt19937& rng) {
  GraphBuilder b;
  const std::string x = b.Input("x", c.x);
  const int64_t rank = static_cast<int64_t>(c.x.size()) - 2;
  b.Output(b.Op("Conv", {x, b.Weight("w", c.w, rng, -0.3f, 0.3f)}, 1, "conv")
               .Int("group", c.group)
               .Ints("strides", std::vector<int64_t>(rank, c.stride)));
  return b;
}

ir::Graph Selected(const GraphBuilder& b, ConvKernel conv = ConvKernel::kAuto,
                   bool winograd = true) {
  auto g = PrepareGraph(b);
  EXPECT_TRUE(g.ok()) << g.status();
  PassContext ctx;
  ctx.options.kernels.conv = conv;
  ctx.options.kernels.winograd = winograd;
  EXPECT_TRUE(SelectKernels(*g, ctx).ok());
  return std::move(*g);
}

const std::vector<ConvCase>& ConvCases() {
  using I = ir::Impl;
  static const std::vector<ConvCase> cases = {
      {"1-D", {1, 8, 20}, {16, 8, 3}, 1, 1, I::kConvNd, I::kConvNd},
      {"3-D", {1, 4, 5, 5, 5}, {8, 4, 3, 3, 3}, 1, 1, I::kConvNd, I::kConvNd},
      {"depthwise", {1, 32, 14, 14}, {32, 1, 3, 3}, 32, 1, I::kConvGroup, I::kXnnConv},
      {"4 per group", {1, 128, 14, 14}, {128, 4, 3, 3}, 32, 1, I::kConvGroup, I::kXnnConv},
      {"16 per group", {1, 64, 14, 14}, {64, 16, 3, 3}, 4, 1, I::kConvGroup, I::kXnnConv},
      {"24 per group", {1, 96, 14, 14}, {96, 24, 3, 3}, 4, 1, I::kXnnConv, I::kXnnConv},
      {"too few outputs", {1, 32, 14, 14}, {8, 32, 1, 1}, 1, 1, I::kXnnConv, I::kXnnConv},
      {"1x1 dense", {1, 64, 14, 14}, {128, 64, 1, 1}, 1, 1, I::kConvGemmPacked, I::kXnnConv},
      {"narrow 3x3 stride 3 small image",
       {1, 32, 16, 16},
       {32, 32, 3, 3},
       1,
       3,
       I::kXnnConv,
       I::kXnnConv},
  };
  return cases;
}

TEST(SelectKernels, ConvByShape) {
  std::mt19937 rng(1);
  const bool own = kernels::ConvGemm::Supported();
  for (const ConvCase& c : ConvCases()) {
    SCOPED_TRACE(c.name);
    ir::Graph g = Selected(ConvModel(c, rng));
    // GroupConv needs AVX-512 where the other own kernels also run on AVX2.
    const bool has = c.want == ir::Impl::kConvGroup ? kernels::GroupConv::Supported() : own;
    EXPECT_STREQ(ir::ImplName(g.nodes[0].impl), ir::ImplName(has ? c.want : c.want_fallback));
  }
}

TEST(SelectKernels, DenseThreeByThreeTakesWinogradOrTheOwnKernelWithoutIt) {
  std::mt19937 rng(2);
  ConvCase c{"3x3 64->64 at 56", {1, 64, 56, 56}, {64, 64, 3, 3}};
  const GraphBuilder b = ConvModel(c, rng);
  EXPECT_EQ(Selected(b).nodes[0].impl,
            kernels::Winograd::Supported() ? ir::Impl::kConvWinograd : ir::Impl::kXnnConv);
  // Winograd off (the option, or ONNXRUN_CONV=nowinograd): the GEMM, as before it existed.
  EXPECT_EQ(Selected(b, ConvKernel::kNoWinograd).nodes[0].impl,
            Selected(b, ConvKernel::kAuto, false).nodes[0].impl);
  const ir::Impl impl = Selected(b, ConvKernel::kAuto, false).nodes[0].impl;
  if (kernels::ConvGemm::Supported())
    EXPECT_TRUE(impl == ir::Impl::kConvGemmDirect || impl == ir::Impl::kConvGemmPacked)
        << ir::ImplName(impl);
  else
    EXPECT_EQ(impl, ir::Impl::kXnnConv);
}

// The choice is made for one image: a session that plans batch 8 after batch 1 runs the same
// kernels on each image and finds their packed weights already made (issue 10).
TEST(SelectKernels, ConvChoiceDoesNotDependOnTheBatch) {
  std::mt19937 rng(5);
  const std::vector<ConvCase> cases = {
      // Each of these took Winograd at batch 8 when the choice was made for the whole batch.
      {"3x3 128->32 at 7 (DenseNet growth)", {1, 128, 7, 7}, {32, 128, 3, 3}},
      {"3x3 256->256 at 7", {1, 256, 7, 7}, {256, 256, 3, 3}},
      {"3x3 512->16 at 14", {1, 512, 14, 14}, {16, 512, 3, 3}},
      {"narrow 3x3 stride 2 at 56", {1, 32, 56, 56}, {32, 32, 3, 3}, 1, 2},
      {"narrow 3x3 at 28", {1, 32, 28, 28}, {48, 32, 3, 3}},
      {"1x1 at 7", {1, 1024, 7, 7}, {256, 1024, 1, 1}},
  };
  for (const ConvCase& c : cases) {
    const ir::Impl one = Selected(ConvModel(c, rng)).nodes[0].impl;
    for (int64_t batch : {2, 8, 32}) {
      ConvCase b = c;
      b.x[0] = batch;
      EXPECT_STREQ(ir::ImplName(Selected(ConvModel(b, rng)).nodes[0].impl), ir::ImplName(one))
          << c.name << ", batch " << batch;
    }
  }
}

TEST(SelectKernels, ConvKernelOptionSteersTheChoice) {
  std::mt19937 rng(3);
  ConvCase c{"3x3 64->64 at 28", {1, 64, 28, 28}, {64, 64, 3, 3}};
  const GraphBuilder b = ConvModel(c, rng);
  EXPECT_EQ(Selected(b, ConvKernel::kXnnpack).nodes[0].impl, ir::Impl::kXnnConv);
  if (!kernels::ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512";
  EXPECT_EQ(Selected(b, ConvKernel::kPacked).nodes[0].impl, ir::Impl::kConvGemmPacked);
  EXPECT_EQ(Selected(b, ConvKernel::kDirect).nodes[0].impl, ir::Impl::kConvGemmDirect);
  // Every choice computes the same convolution.
  const Feeds feeds = {{"x", RandomTensor(c.x, rng)}};
  auto want = RunModel(b, {}, feeds);
  ASSERT_TRUE(want.ok()) << want.status();
  for (const char* kernel : {"xnnpack", "packed", "direct", "auto", "nowinograd"}) {
    SessionOptions o;
    o.conv_kernel = kernel;
    auto got = RunModel(b, o, feeds);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(AllClose((*got)[0], (*want)[0], 1e-4, 1e-4)) << kernel;
  }
}

TEST(SelectKernels, UnknownConvKernelFailsTheLoad) {
  std::mt19937 rng(4);
  SessionOptions o;
  o.conv_kernel = "fastest";
  auto s = LoadSession(ConvModel(ConvCases()[4], rng), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("conv_kernel"), std::string::npos) << s.status();
}

// SessionOptions::isa: an unknown name, an instruction set the CPU lacks, and a change after the
// process's first session (XNNPACK has picked its kernels) fail the load and change nothing.
TEST(SelectKernels, IsaOptionErrors) {
  std::mt19937 rng(6);
  const GraphBuilder b = ConvModel(ConvCases()[4], rng);
  ASSERT_TRUE(LoadSession(b, SessionOptions{}).ok());  // the process's ISA is now fixed
  const kernels::Isa active = kernels::ActiveIsa();
  SessionOptions o;
  o.isa = "avx3";
  auto s = LoadSession(b, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("isa is 'avx3'"), std::string::npos) << s.status();
  if (!kernels::IsaSupported(kernels::Isa::kAvx512)) {
    o.isa = "avx512";
    s = LoadSession(b, o);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
    EXPECT_NE(s.status().message().find("lacks"), std::string::npos) << s.status();
  }
  o.isa = kernels::IsaName(active);
  EXPECT_TRUE(LoadSession(b, o).ok());  // the ISA it runs: nothing to change
  if (active != kernels::Isa::kNone) {
    o.isa = active == kernels::Isa::kAvx512 ? "avx2" : "xnnpack";
    s = LoadSession(b, o);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  }
  EXPECT_EQ(kernels::ActiveIsa(), active);
}

TEST(SelectKernels, GemmAndMatMul) {
  std::mt19937 rng(5);
  {
    GraphBuilder b;  // constant weights: fully connected
    b.Output(
        b.Op("Gemm", {b.Input("a", {2, 8}), b.Weight("w", {4, 8}, rng), b.Weight("c", {4}, rng)})
            .Int("transB", 1));
    EXPECT_EQ(Selected(b).nodes[0].impl, ir::Impl::kFullyConnected);
  }
  {
    GraphBuilder b;  // transA: the own matmul
    b.Output(b.Op("Gemm", {b.Input("a", {8, 2}), b.Weight("w", {8, 4}, rng)}).Int("transA", 1));
    EXPECT_EQ(Selected(b).nodes[0].impl, ir::Impl::kMatMul);
  }
  {
    GraphBuilder b;  // run-time B
    b.Output(b.Op("MatMul", {b.Input("a", {2, 8}), b.Input("b", {8, 4})}));
    EXPECT_EQ(Selected(b).nodes[0].impl, ir::Impl::kMatMul);
  }
  {
    GraphBuilder b;  // constant 2-D B
    b.Output(b.Op("MatMul", {b.Input("a", {3, 2, 8}), b.Weight("w", {8, 4}, rng)}));
    EXPECT_EQ(Selected(b).nodes[0].impl, ir::Impl::kFullyConnected);
  }
}

// Lowering reads the choice: a choice that does not fit the node, or none, is an internal error.
absl::Status Lower(ir::Graph& g) {
  if (xnn_initialize(nullptr) != xnn_status_success) return absl::InternalError("XNNPACK");
  auto plan = PlanMemory(g, MemoryPlanOptions{});
  if (!plan.ok()) return plan.status();
  return Executor::Create(g, *plan, nullptr).status();
}

TEST(SelectKernels, LoweringHonoursTheRecordedChoice) {
  std::mt19937 rng(6);
  const ConvCase& depthwise = ConvCases()[2];
  {
    ir::Graph g = Selected(ConvModel(depthwise, rng));
    EXPECT_TRUE(Lower(g).ok());
  }
  {
    ir::Graph g = Selected(ConvModel(depthwise, rng));
    g.nodes[0].impl = ir::Impl::kConvGemmDirect;  // the own kernel takes no groups
    absl::Status s = Lower(g);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  }
  {
    ir::Graph g = Selected(ConvModel(depthwise, rng));
    g.nodes[0].impl = ir::Impl::kUnselected;
    absl::Status s = Lower(g);
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
    EXPECT_NE(s.message().find("select_kernels"), std::string::npos) << s;
  }
  {
    GraphBuilder b;
    b.Output(b.Op("MatMul", {b.Input("a", {2, 8}), b.Input("b", {8, 4})}));
    ir::Graph g = Selected(b);
    g.nodes[0].impl = ir::Impl::kFullyConnected;  // B is not constant
    EXPECT_EQ(Lower(g).code(), absl::StatusCode::kInternal);
  }
}

}  // namespace
}  // namespace onnxrun::test
