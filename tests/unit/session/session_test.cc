// The public API (onnxrun/onnxrun.h): load and run errors with their messages, inputs()/outputs(),
// report(), bound inputs, repeated runs and thread counts.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

// x [N,3,8,8] -> Conv(4) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(5) -> "logits";
// y [N,2] -> Relu -> "aux". Batch is dynamic.
GraphBuilder TwoInputModel(std::mt19937& rng) {
  GraphBuilder b;
  auto conv = b.Op("Conv", {b.Input("x", {-1, 3, 8, 8}), b.Weight("w", {4, 3, 3, 3}, rng),
                            b.Weight("b", {4}, rng)})
                  .Ints("pads", {1, 1, 1, 1});
  auto flat = b.Op("Flatten", {b.Op("GlobalAveragePool", {b.Op("Relu", {conv})})});
  b.Output(b.Op("Gemm", {flat, b.Weight("fc", {5, 4}, rng), b.Weight("fcb", {5}, rng)}, 1, "logits")
               .Int("transB", 1));
  b.Output(b.Op("Relu", {b.Input("y", {-1, 2})}, 1, "aux"));
  return b;
}

absl::Status RunWith(Session& s, const std::vector<std::pair<std::string, const Tensor*>>& in) {
  std::vector<Tensor> out;
  return s.Run(in, &out);
}

TEST(SessionErrors, RunRejectsBadInputs) {
  std::mt19937 rng(1);
  auto s = LoadSession(TwoInputModel(rng));
  ASSERT_TRUE(s.ok()) << s.status();
  Session& session = **s;
  const Tensor x = RandomTensor({1, 3, 8, 8}, rng), y = RandomTensor({1, 2}, rng);
  const Tensor wrong_shape = RandomTensor({1, 3, 8, 9}, rng);
  const Tensor short_data({1, 2}, {1.f});
  const Tensor ints = Tensor::Ints({1, 2}, {1, 2});
  EXPECT_TRUE(RunWith(session, {{"x", &x}, {"y", &y}}).ok());
  EXPECT_TRUE(RunWith(session, {{"y", &y}, {"x", &x}}).ok());  // any order
  EXPECT_ERROR(RunWith(session, {{"x", &wrong_shape}, {"y", &y}}), kInvalidArgument,
               "input 'x' has shape [1,3,8,9]; dimension 3 must be 8 (the model declares "
               "[-1,3,8,8])");
  const Tensor wrong_rank = RandomTensor({3, 8, 8}, rng);
  EXPECT_ERROR(RunWith(session, {{"x", &wrong_rank}, {"y", &y}}), kInvalidArgument,
               "input 'x' has shape [3,8,8], rank 3; the model declares rank 4");
  EXPECT_ERROR(RunWith(session, {{"x", &x}, {"z", &y}}), kInvalidArgument, "no input named 'z'");
  EXPECT_ERROR(RunWith(session, {{"x", &x}}), kInvalidArgument, "input 'y' is missing");
  EXPECT_ERROR(RunWith(session, {{"x", &x}, {"y", &y}, {"x", &x}}), kInvalidArgument,
               "input 'x' given twice");
  EXPECT_ERROR(RunWith(session, {{"x", &x}, {"y", nullptr}}), kInvalidArgument,
               "input 'y' is null");
  EXPECT_ERROR(RunWith(session, {{"x", &x}, {"y", &ints}}), kInvalidArgument, "expected float32");
  EXPECT_ERROR(RunWith(session, {{"x", &x}, {"y", &short_data}}), kInvalidArgument,
               "holds 1 values");
  EXPECT_ERROR(session.Run({{"x", &x}, {"y", &y}}, nullptr), kInvalidArgument,
               "outputs must not be null");
  EXPECT_TRUE(RunWith(session, {{"x", &x}, {"y", &y}}).ok());  // errors leave the session usable
}

TEST(SessionErrors, LoadRejectsBadOptionsAndFiles) {
  std::mt19937 rng(2);
  const GraphBuilder b = TwoInputModel(rng);
  for (int threads : {0, -1}) {
    SessionOptions o;
    o.num_threads = threads;
    EXPECT_ERROR(LoadSession(b, o).status(), kInvalidArgument,
                 absl::StrCat("num_threads is ", threads));
  }
  SessionOptions unknown;
  unknown.input_shapes["nope"] = {1, 3, 8, 8};
  EXPECT_ERROR(LoadSession(b, unknown).status(), kInvalidArgument, "no input named 'nope'");
  SessionOptions rank;
  rank.input_shapes["x"] = {1, 3, 8};
  EXPECT_ERROR(LoadSession(b, rank).status(), kInvalidArgument,
               "has rank 3 but the model declares rank 4");
  SessionOptions fixed;
  fixed.input_shapes["x"] = {2, 3, 9, 8};
  EXPECT_ERROR(LoadSession(b, fixed).status(), kInvalidArgument, "at dimension 2");

  EXPECT_ERROR(Session::Load("/nonexistent/model.onnx").status(), kNotFound,
               "cannot open model file");
  const std::string garbage =
      absl::StrCat(::testing::TempDir(), "onnxrun_garbage_", ::getpid(), ".onnx");
  std::ofstream(garbage) << "this is not a protobuf \x01\x02\x03";
  const absl::Status g = Session::Load(garbage).status();
  EXPECT_EQ(g.code(), absl::StatusCode::kInvalidArgument) << g;
  std::remove(garbage.c_str());

  GraphBuilder unsupported;  // every unsupported node is listed at once
  auto x = unsupported.Input("x", {1, 4});
  unsupported.Output(
      unsupported.Op("Frobnicate", {unsupported.Op("Wibble", {x}, 1, "first")}, 1, "second"));
  const absl::Status u = LoadSession(unsupported).status();
  EXPECT_EQ(u.code(), absl::StatusCode::kUnimplemented) << u;
  EXPECT_NE(u.message().find("'first' (Wibble"), std::string::npos) << u;
  EXPECT_NE(u.message().find("'second' (Frobnicate"), std::string::npos) << u;
}

// One thread limit for the API and the CLI: the CPUs the process may use. More is clamped (ONNX
// Runtime accepts any count too), and the report says what the session runs with.
TEST(SessionThreads, MoreThreadsThanUsableCpusAreClamped) {
  const int cpus = UsableCpus();
  ASSERT_GE(cpus, 1);
  std::mt19937 rng(3);
  const GraphBuilder b = TwoInputModel(rng);
  for (int asked : {1, cpus, cpus + 1, 1000, 1 << 30}) {
    SessionOptions o;
    o.num_threads = asked;
    auto s = LoadSession(b, o);
    ASSERT_TRUE(s.ok()) << asked << ": " << s.status();
    EXPECT_EQ((*s)->report().num_threads, std::min(asked, cpus)) << asked;
  }
}

TEST(SessionBoundInputs, Int64ShapeInputFoldsIntoReshape) {
  std::mt19937 rng(3);
  GraphBuilder b;
  auto relu = b.Op("Relu", {b.Input("x", {2, 3, 4, 5})});
  b.Output(b.Op("Reshape", {relu, b.InputInts("target", {2})}, 1, "flat"));
  // Unbound, an int64 run-time input cannot set a shape (plans have fixed shapes).
  EXPECT_ERROR(LoadSession(b).status(), kUnimplemented,
               "'shape' input 'target' is computed at run time; it must be constant at load");
  SessionOptions o;
  o.bound_inputs["target"] = Tensor::Ints({2}, {0, -1});
  auto s = LoadSession(b, o);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ((*s)->inputs().size(), 1u);  // bound inputs are not run-time inputs
  EXPECT_EQ((*s)->inputs()[0].name, "x");
  EXPECT_EQ((*s)->outputs()[0].shape, (Shape{2, 60}));
  const Tensor x = RandomTensor({2, 3, 4, 5}, rng);
  auto out = RunSession(**s, {{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status();
  Tensor want({2, 60}, x.values());
  for (float& v : want.values()) v = std::max(v, 0.f);
  EXPECT_TRUE(BitwiseEqual((*out)[0], want));
  // Passing a bound input at run time is an error: it is no longer an input.
  const Tensor t = RandomTensor({2}, rng);
  std::vector<Tensor> outs;
  EXPECT_ERROR((*s)->Run({{"x", &x}, {"target", &t}}, &outs), kInvalidArgument,
               "no input named 'target'");
}

TEST(SessionInfo, InputsOutputsNamesAndShapes) {
  std::mt19937 rng(4);
  const GraphBuilder b = TwoInputModel(rng);
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ((*s)->inputs().size(), 2u);
  EXPECT_EQ((*s)->inputs()[0].name, "x");
  EXPECT_EQ((*s)->inputs()[0].dtype, "float32");
  EXPECT_EQ((*s)->inputs()[0].shape, (Shape{1, 3, 8, 8}));  // dynamic batch defaults to 1
  EXPECT_EQ((*s)->inputs()[0].model_shape, (Shape{-1, 3, 8, 8}));
  EXPECT_EQ((*s)->inputs()[1].name, "y");
  EXPECT_EQ((*s)->inputs()[1].shape, (Shape{1, 2}));
  ASSERT_EQ((*s)->outputs().size(), 2u);
  EXPECT_EQ((*s)->outputs()[0].name, "logits:0");
  EXPECT_EQ((*s)->outputs()[0].shape, (Shape{1, 5}));
  EXPECT_EQ((*s)->outputs()[1].name, "aux:0");

  SessionOptions o;
  o.input_shapes["x"] = {3, 3, 8, 8};
  o.input_shapes["y"] = {4, 2};
  s = LoadSession(b, o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->inputs()[0].shape, (Shape{3, 3, 8, 8}));
  EXPECT_EQ((*s)->outputs()[0].shape, (Shape{3, 5}));
  EXPECT_EQ((*s)->outputs()[1].shape, (Shape{4, 2}));
  auto out =
      RunSession(**s, {{"x", RandomTensor({3, 3, 8, 8}, rng)}, {"y", RandomTensor({4, 2}, rng)}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 5}));
  EXPECT_EQ((*out)[1].shape(), (Shape{4, 2}));
}

TEST(SessionInfo, ReportFieldsArePopulated) {
  std::mt19937 rng(5);
  auto s = LoadSession(TwoInputModel(rng));
  ASSERT_TRUE(s.ok()) << s.status();
  const ModelReport& r = (*s)->report();
  EXPECT_EQ(r.opset, 13);
  EXPECT_NE(r.producer.find("onnxrun-tests"), std::string::npos) << r.producer;
  EXPECT_EQ(r.ops_before,
            (std::map<std::string, int>{
                {"Conv", 1}, {"Flatten", 1}, {"Gemm", 1}, {"GlobalAveragePool", 1}, {"Relu", 2}}));
  EXPECT_EQ(r.ops_after.count("Conv+Relu"), 1u);
  EXPECT_EQ(r.ops_after.count("Conv"), 0u);
  ASSERT_FALSE(r.passes.empty());
  EXPECT_EQ(r.passes[0].pass, "fold_constants");
  int fused = 0;
  for (const PassReport& p : r.passes)
    if (p.pass == "fuse_activation") fused = p.rewrites;
  EXPECT_EQ(fused, 1);
  EXPECT_EQ(r.parameters, 4 * 27 + 4 + 5 * 4 + 5);
  EXPECT_NEAR(r.gflops, (2.0 * 4 * 64 * 27 + 2.0 * 5 * 4) / 1e9, 1e-12);
  EXPECT_GT(r.memory.arena_bytes, 0);
  EXPECT_GE(r.memory.naive_bytes, r.memory.arena_bytes);
  EXPECT_LE(r.memory.lower_bound_bytes, r.memory.arena_bytes);
  EXPECT_EQ(r.memory.concats_in_place + r.memory.concats_copied, 0);

  SessionOptions off;
  off.optimize = false;
  auto plain = LoadSession(TwoInputModel(rng), off);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->report().ops_after.count("Conv+Relu"), 0u);
  EXPECT_EQ((*plain)->report().passes.size(), 1u);  // only fold_constants
}

// A deeper net (so that two threads split real work): conv stack with a residual and a concat.
GraphBuilder ConvNet(std::mt19937& rng, const Shape& in) {
  GraphBuilder b;
  auto conv = [&](const std::string& x, int64_t c, int64_t m, int64_t k) {
    const int n = b.model().graph().initializer_size();
    return b
        .Op("Conv", {x, b.Weight(absl::StrCat("w", n), {m, c, k, k}, rng, -0.2f, 0.2f),
                     b.Weight(absl::StrCat("b", n), {m}, rng)})
        .Ints("pads", {k / 2, k / 2, k / 2, k / 2})
        .out();
  };
  auto h = b.Op("Relu", {conv(b.Input("x", in), in[1], 16, 3)});
  auto r = b.Op("Relu", {b.Op("Add", {conv(b.Op("Relu", {conv(h, 16, 16, 3)}), 16, 16, 3), h})});
  auto cat = b.Op("Concat", {conv(r, 16, 8, 1), conv(r, 16, 8, 3)}).Int("axis", 1);
  auto pooled =
      b.Op("Flatten",
           {b.Op("GlobalAveragePool",
                 {b.Op("MaxPool", {cat}).Ints("kernel_shape", {2, 2}).Ints("strides", {2, 2})})});
  b.Output(b.Op("Softmax",
                {b.Op("Gemm", {pooled, b.Weight("fc", {10, 16}, rng), b.Weight("fcb", {10}, rng)})
                     .Int("transB", 1)}));
  b.Output(cat);
  return b;
}

TEST(SessionRun, RunningTwiceGivesTheSameResult) {
  std::mt19937 rng(6);
  const Shape in = {2, 3, 17, 13};
  auto s = LoadSession(ConvNet(rng, in));
  ASSERT_TRUE(s.ok()) << s.status();
  const Tensor x = RandomTensor(in, rng);
  auto first = RunSession(**s, {{"x", x}});
  ASSERT_TRUE(first.ok()) << first.status();
  auto other = RunSession(**s, {{"x", RandomTensor(in, rng)}});  // different data in between
  ASSERT_TRUE(other.ok());
  auto second = RunSession(**s, {{"x", x}});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(first->size(), 2u);
  for (size_t i = 0; i < first->size(); ++i)
    EXPECT_TRUE(BitwiseEqual((*first)[i], (*second)[i])) << i;
  EXPECT_FALSE(BitwiseEqual((*first)[1], (*other)[1]));
}

TEST(SessionRun, TwoThreadsMatchOneThread) {
  std::mt19937 rng(7);
  const Shape in = {2, 3, 33, 29};
  const GraphBuilder b = ConvNet(rng, in);
  const Tensor x = RandomTensor(in, rng);
  SessionOptions one, two;
  two.num_threads = 2;
  auto a = RunModel(b, one, {{"x", x}});
  auto c = RunModel(b, two, {{"x", x}});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(c.ok()) << c.status();
  for (size_t i = 0; i < a->size(); ++i) EXPECT_TRUE(AllClose((*c)[i], (*a)[i], 1e-5, 1e-5)) << i;
  auto s = LoadSession(b, two);  // and a two-thread session is stable across runs
  ASSERT_TRUE(s.ok());
  auto r1 = RunSession(**s, {{"x", x}});
  auto r2 = RunSession(**s, {{"x", x}});
  ASSERT_TRUE(r1.ok() && r2.ok());
  for (size_t i = 0; i < r1->size(); ++i) EXPECT_TRUE(BitwiseEqual((*r1)[i], (*r2)[i])) << i;
}

// Run from four threads at once on one session: every output bitwise equal to a lone run of the
// same input (each thread feeds its own input, so a mixed-up arena would show).
TEST(SessionRun, ConcurrentRunsOnOneSessionMatchSerialRuns) {
  std::mt19937 rng(8);
  const Shape in = {1, 3, 21, 19};
  auto s = LoadSession(ConvNet(rng, in));
  ASSERT_TRUE(s.ok()) << s.status();
  constexpr int kThreads = 4, kRuns = 25;
  std::vector<Tensor> inputs;
  std::vector<std::vector<Tensor>> want;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(RandomTensor(in, rng));
    auto r = RunSession(**s, {{"x", inputs.back()}});
    ASSERT_TRUE(r.ok()) << r.status();
    want.push_back(std::move(*r));
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        auto r = RunSession(**s, {{"x", inputs[t]}});
        if (!r.ok()) {
          ++failures;
          continue;
        }
        for (size_t k = 0; k < r->size(); ++k)
          if (!BitwiseEqual((*r)[k], want[t][k])) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

// Outputs that fold to constants are copied out; an input nothing reads is still required.
TEST(SessionRun, ConstantOutputAndUnreadInput) {
  std::mt19937 rng(8);
  GraphBuilder b;
  b.Input("unused", {1, 2});
  auto x = b.Input("x", {2, 3});
  b.Output(b.Op("Identity", {b.Init("c", {2, 2}, {1.f, 2.f, 3.f, 4.f})}, 1, "const_out"));
  b.Output(b.Op("Relu", {x}));
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ((*s)->inputs().size(), 2u);
  const Tensor in = RandomTensor({2, 3}, rng), unused = RandomTensor({1, 2}, rng);
  std::vector<Tensor> out;
  EXPECT_ERROR((*s)->Run({{"x", &in}}, &out), kInvalidArgument, "input 'unused' is missing");
  for (int run = 0; run < 2; ++run) {
    auto r = RunSession(**s, {{"x", in}, {"unused", unused}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(BitwiseEqual((*r)[0], Tensor({2, 2}, {1.f, 2.f, 3.f, 4.f})));
  }
}

// A NaN or infinity reaching an XNNPACK operator (which clamps NaN to a bound; ONNX Runtime 1.30
// returns NaN) is refused by name; one reaching only nodes that propagate it as ORT does runs.
TEST(SessionRun, NonFiniteInputs) {
  std::mt19937 rng(9);
  auto s = LoadSession(TwoInputModel(rng));
  ASSERT_TRUE(s.ok()) << s.status();
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = INFINITY;
  Tensor x = RandomTensor({1, 3, 8, 8}, rng), y = RandomTensor({1, 2}, rng);
  EXPECT_TRUE(RunSession(**s, {{"x", x}, {"y", y}}).ok());
  for (float bad : {nan, inf, -inf}) {
    Tensor xb = x;
    xb.values()[1 * 64 + 2 * 8 + 5] = bad;
    EXPECT_ERROR(RunSession(**s, {{"x", xb}, {"y", y}}).status(), kInvalidArgument,
                 absl::StrCat("input 'x' element [0,1,2,5] is ", std::isnan(bad) ? "NaN" : "",
                              bad == inf ? "+inf" : (bad == -inf ? "-inf" : "")));
    EXPECT_ERROR(RunSession(**s, {{"x", xb}, {"y", y}}).status(), kInvalidArgument,
                 "(Conv) would not propagate it as ONNX Runtime does");
  }
  // y reaches a standalone Relu only: NaN and infinities come out as ORT gives them.
  Tensor yb({1, 2}, {nan, -inf});
  auto r = RunSession(**s, {{"x", x}, {"y", yb}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(std::isnan((*r)[1].values()[0]));
  EXPECT_EQ((*r)[1].values()[1], 0.f);
  // The check off: the Conv input runs (its output may differ from ORT's).
  SessionOptions unchecked;
  unchecked.check_finite_inputs = false;
  auto u = LoadSession(TwoInputModel(rng), unchecked);
  ASSERT_TRUE(u.ok()) << u.status();
  x.values()[7] = nan;
  EXPECT_TRUE(RunSession(**u, {{"x", x}, {"y", y}}).ok());
}

TEST(SessionRun, InfinityThroughUnclampedArithmetic) {
  // An Add of two run-time inputs (XNNPACK, bounds -inf and +inf) keeps an infinity as IEEE does
  // (ONNX Runtime too): it runs; a NaN would come out as -inf there, so a NaN is still refused.
  GraphBuilder b;
  b.Output(b.Op("Add", {b.Input("a", {2, 3}), b.Input("b", {3})}, 1, "add"));
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  const float inf = INFINITY;
  Tensor a({2, 3}, {1, 2, inf, 4, -inf, 6}), c({3}, {1, 1, 1});
  auto r = RunSession(**s, {{"a", a}, {"b", c}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].values()[2], inf);
  EXPECT_EQ((*r)[0].values()[4], -inf);
  EXPECT_EQ((*r)[0].values()[5], 7.f);
  a.values()[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_ERROR(RunSession(**s, {{"a", a}, {"b", c}}).status(), kInvalidArgument,
               "input 'a' element [1,0] is NaN; node 'add' (Add) would not propagate it");
  // A fused Relu clamps: then an infinity is refused too.
  GraphBuilder fused;
  fused.Output(fused.Op(
      "Relu", {fused.Op("Add", {fused.Input("a", {2, 3}), fused.Input("b", {3})}, 1, "add")}, 1,
      "relu"));
  auto f = LoadSession(fused);
  ASSERT_TRUE(f.ok()) << f.status();
  a.values()[3] = 4;
  EXPECT_ERROR(RunSession(**f, {{"a", a}, {"b", c}}).status(), kInvalidArgument,
               "input 'a' element [0,2] is +inf");
}

// A NaN weight read by an XNNPACK operator (fully connected here) is refused at load by name;
// ONNX Runtime's outputs would hold NaN where XNNPACK's hold -inf (mutation run).
TEST(SessionLoad, NanWeightOfANodeNotPropagatingIt) {
  std::vector<float> w(8 * 10, 0.5f);
  w[4 * 8 + 3] = std::numeric_limits<float>::quiet_NaN();
  GraphBuilder b;
  b.Output(b.Op("MatMul", {b.Input("x", {4, 10}), b.Init("w", {10, 8}, w)}, 1, "fc"));
  EXPECT_ERROR(LoadSession(b).status(), kInvalidArgument,
               "constant 'w' element [4,3] is NaN; node 'fc' (MatMul) would not propagate it");
  SessionOptions unchecked;
  unchecked.check_finite_inputs = false;
  EXPECT_TRUE(LoadSession(b, unchecked).ok());
}

TEST(SessionLoad, NonFiniteGemmScale) {
  // The mutation run's Gemm with alpha = NaN: XNNPACK gave -inf where ONNX Runtime gives NaN.
  std::mt19937 rng(5);
  for (const char* attr : {"alpha", "beta"}) {
    GraphBuilder b;
    b.Output(b.Op("Gemm",
                  {b.Input("x", {2, 4}), b.Weight("w", {4, 3}, rng), b.Weight("c", {3}, rng)}, 1,
                  "fc")
                 .Float(attr, std::numeric_limits<float>::quiet_NaN()));
    EXPECT_ERROR(LoadSession(b).status(), kInvalidArgument,
                 absl::StrCat("node 'fc' (Gemm): attribute '", attr, "' is nan"));
  }
}

}  // namespace
}  // namespace onnxrun::test
