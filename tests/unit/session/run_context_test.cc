// The embedding contract (docs/API.md): concurrent Run on one session, any input shape per run,
// output selection, caller buffers and views, cancellation, load from memory, metadata, a thread
// pool shared between sessions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

// x [N,3,H,W] -> Conv 3->16 -> Relu -> Conv 16->c2 -> Relu -> GlobalAveragePool -> Flatten
// -> Gemm(10) "logits:0", plus "feat:0" (the pooled features). Batch, height and width are
// dynamic.
GraphBuilder DynamicNet(std::mt19937& rng, int64_t c2 = 32) {
  GraphBuilder b;
  auto c1 = b.Op("Relu", {Conv(b, rng, b.Input("x", {-1, 3, -1, -1}), 3, 16, 3, true)});
  auto c2o = b.Op("Relu", {Conv(b, rng, c1, 16, c2, 3, true)});
  auto pooled = b.Op("Flatten", {b.Op("GlobalAveragePool", {c2o})}, 1, "feat");
  b.Output(pooled);
  b.Output(
      b.Op("Gemm", {pooled, b.Weight("fc", {10, c2}, rng), b.Weight("fcb", {10}, rng)}, 1, "logits")
          .Int("transB", 1));
  return b;
}

bool SameBits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].shape() != b[i].shape() ||
        std::memcmp(a[i].data(), b[i].data(), a[i].num_elements() * sizeof(float)) != 0)
      return false;
  return true;
}

std::vector<Tensor> RunOk(Session& s, const Tensor& x) {
  std::vector<Tensor> out;
  absl::Status st = s.Run({{"x", &x}}, &out);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

class ConcurrentRuns : public ::testing::TestWithParam<const char*> {};

// 4 threads x 30 runs on one session, each thread its own input: every output bitwise equal to
// the serial run of the same input. "xnnpack" makes the 64->128 conv a shared XNNPACK operator
// (weights >= kSharedXnnWeights) that contexts set up again in turn.
TEST_P(ConcurrentRuns, EveryOutputEqualsTheSerialRun) {
  std::mt19937 rng(11);
  GraphBuilder b;
  auto c1 = b.Op("Relu", {Conv(b, rng, b.Input("x", {-1, 3, 12, 12}), 3, 64, 3, true)});
  auto c2 = b.Op("Relu", {Conv(b, rng, c1, 64, 128, 3, true)});
  auto pooled = b.Op("Flatten", {b.Op("GlobalAveragePool", {c2})});
  b.Output(b.Op("Gemm", {pooled, b.Weight("fc", {10, 128}, rng)}, 1, "logits").Int("transB", 1));
  SessionOptions o;
  o.conv_kernel = GetParam();
  auto s = LoadSession(b, o);
  ASSERT_TRUE(s.ok()) << s.status();
  constexpr int kThreads = 4, kRuns = 30;
  std::vector<Tensor> in;
  std::vector<std::vector<Tensor>> want;
  for (int t = 0; t < kThreads; ++t) {
    in.push_back(RandomTensor({1, 3, 12, 12}, rng));
    want.push_back(RunOk(**s, in.back()));
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::vector<Tensor> got;
      for (int r = 0; r < kRuns; ++r) {
        if (!(*s)->Run({{"x", &in[t]}}, &got).ok()) {
          ++failures;
        } else if (!SameBits(got, want[t])) {
          ++mismatches;
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}
INSTANTIATE_TEST_SUITE_P(Kernels, ConcurrentRuns, ::testing::Values("auto", "xnnpack"));

// One session runs a sequence of batch sizes and image sizes; each output is bitwise what a fresh
// session prepared for that shape gives. With max_cached_shapes 1 every change re-plans.
TEST(ShapesPerRun, EachShapeEqualsAFreshSession) {
  std::mt19937 rng(12);
  const GraphBuilder b = DynamicNet(rng);
  for (int cached : {8, 1}) {
    SessionOptions o;
    o.max_cached_shapes = cached;
    auto s = LoadSession(b, o);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ((*s)->inputs()[0].shape, (Shape{1, 3, 1, 1}));  // dynamic dims prepared as 1
    EXPECT_GT((*s)->report().kept_weight_bytes, 0);
    for (const Shape& shape : {Shape{1, 3, 8, 8}, Shape{4, 3, 8, 8}, Shape{2, 3, 12, 10},
                               Shape{1, 3, 6, 6}, Shape{4, 3, 8, 8}, Shape{1, 3, 8, 8}}) {
      const Tensor x = RandomTensor(shape, rng);
      SessionOptions fo;
      fo.input_shapes["x"] = shape;
      auto fresh = LoadSession(b, fo);
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      const std::vector<Tensor> got = RunOk(**s, x);
      EXPECT_TRUE(SameBits(got, RunOk(**fresh, x))) << ir::ShapeString(shape);
      ASSERT_EQ(got.size(), 2u);
      EXPECT_EQ(got[1].shape(), (Shape{shape[0], 10}));
      auto shapes = (*s)->OutputShapes({{"x", shape}});
      ASSERT_TRUE(shapes.ok()) << shapes.status();
      EXPECT_EQ((*shapes)[1], (Shape{shape[0], 10}));
    }
  }
}

TEST(ShapesPerRun, RefusedShapesNameTheDimension) {
  std::mt19937 rng(13);
  const GraphBuilder b = DynamicNet(rng);
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  const Tensor two_channels = RandomTensor({1, 2, 8, 8}, rng);
  std::vector<Tensor> out;
  EXPECT_ERROR((*s)->Run({{"x", &two_channels}}, &out), kInvalidArgument,
               "dimension 1 must be 3 (the model declares [-1,3,-1,-1])");
  // Too small for the 3x3 convs with pads 1? No: 1x1 works; an empty batch is refused by a kernel
  // or accepted, but never crashes.
  const Tensor empty = RandomTensor({0, 3, 8, 8}, rng);
  (void)(*s)->Run({{"x", &empty}}, &out);

  SessionOptions fixed;
  fixed.shapes_per_run = false;
  fixed.input_shapes["x"] = {2, 3, 8, 8};
  auto f = LoadSession(b, fixed);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->report().kept_weight_bytes, 0);
  RunOk(**f, RandomTensor({2, 3, 8, 8}, rng));
  const Tensor other = RandomTensor({1, 3, 8, 8}, rng);
  EXPECT_ERROR((*f)->Run({{"x", &other}}, &out), kInvalidArgument, "shapes_per_run is false");
}

TEST(RunOutputs, SelectedByNameInTheGivenOrder) {
  std::mt19937 rng(14);
  auto s = LoadSession(DynamicNet(rng));
  ASSERT_TRUE(s.ok()) << s.status();
  const Tensor x = RandomTensor({2, 3, 8, 8}, rng);
  const std::vector<Tensor> all = RunOk(**s, x);  // graph order: feat, logits
  std::vector<Tensor> out;
  {
    absl::Status st = (*s)->Run({{"x", &x}}, {"logits:0"}, &out);
    ASSERT_TRUE(st.ok()) << st;
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(SameBits(out, {all[1]}));
  ASSERT_TRUE((*s)->Run({{"x", &x}}, {"logits:0", "feat:0"}, &out).ok());
  EXPECT_TRUE(SameBits(out, {all[1], all[0]}));
  EXPECT_ERROR((*s)->Run({{"x", &x}}, {"nope"}, &out), kInvalidArgument, "no output named 'nope'");
  EXPECT_ERROR((*s)->Run({{"x", &x}}, {"feat:0", "feat:0"}, &out), kInvalidArgument,
               "output 'feat:0' asked twice");
}

TEST(RunOutputs, CallerBuffersAndInputViews) {
  std::mt19937 rng(15);
  auto s = LoadSession(DynamicNet(rng));
  ASSERT_TRUE(s.ok()) << s.status();
  const Tensor x = RandomTensor({2, 3, 8, 8}, rng);
  const std::vector<Tensor> want = RunOk(**s, x);
  // Input read in place from caller memory; outputs written into caller memory.
  std::vector<float> xin(x.values()), feat(2 * 32, -7.f), logits(2 * 10, -7.f);
  const Tensor xv = Tensor::View(static_cast<const float*>(xin.data()), {2, 3, 8, 8});
  std::vector<Tensor> out;
  out.push_back(Tensor::View(feat.data(), {2, 32}));
  out.push_back(Tensor::View(logits.data(), {2, 10}));
  ASSERT_TRUE((*s)->Run({{"x", &xv}}, {}, &out).ok());
  EXPECT_EQ(out[1].data(), logits.data());  // no copy: the caller's buffer
  EXPECT_EQ(std::memcmp(logits.data(), want[1].data(), logits.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(feat.data(), want[0].data(), feat.size() * sizeof(float)), 0);
  // A copy of a view views the same memory; a moved-from view views nothing.
  Tensor copy = out[1];
  EXPECT_EQ(copy.data(), logits.data());
  Tensor moved = std::move(copy);
  EXPECT_FALSE(copy.is_view());
  EXPECT_TRUE(moved.is_view());

  std::vector<Tensor> wrong;
  wrong.push_back(Tensor::View(logits.data(), {1, 10}));
  EXPECT_ERROR((*s)->Run({{"x", &xv}}, {"logits:0"}, &wrong), kInvalidArgument,
               "buffer given for output 'logits:0' is [1,10]; the output is [2,10]");
  std::vector<Tensor> read_only;
  read_only.push_back(Tensor::View(static_cast<const float*>(logits.data()), {2, 10}));
  EXPECT_ERROR((*s)->Run({{"x", &xv}}, {"logits:0"}, &read_only), kInvalidArgument, "read-only");
}

TEST(RunCancel, TerminateFlagAndCancelStopOnlyTheirRuns) {
  std::mt19937 rng(16);
  auto s = LoadSession(DynamicNet(rng));
  ASSERT_TRUE(s.ok()) << s.status();
  const Tensor x = RandomTensor({1, 3, 8, 8}, rng);
  std::atomic<bool> stop{true};
  RunOptions ro;
  ro.terminate = &stop;
  std::vector<Tensor> out;
  EXPECT_ERROR((*s)->Run({{"x", &x}}, {}, &out, ro), kCancelled, "cancelled");
  stop = false;
  EXPECT_TRUE((*s)->Run({{"x", &x}}, {}, &out, ro).ok());
  (*s)->Cancel();  // no run in progress: later runs are not affected
  EXPECT_TRUE((*s)->Run({{"x", &x}}, &out).ok());
  // A run in progress on another thread stops between steps once Cancel() is called.
  const Tensor big = RandomTensor({1, 3, 192, 192}, rng);
  std::atomic<bool> cancelled{false};
  std::thread runner([&] {
    std::vector<Tensor> o;
    for (int i = 0; i < 2000 && !cancelled; ++i)
      if ((*s)->Run({{"x", &big}}, &o).code() == absl::StatusCode::kCancelled) cancelled = true;
  });
  for (int i = 0; i < 2000 && !cancelled; ++i) {
    (*s)->Cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  runner.join();
  EXPECT_TRUE(cancelled.load());
  EXPECT_TRUE((*s)->Run({{"x", &x}}, &out).ok());
}

TEST(LoadFromMemory, SameAsTheFileAndClearErrors) {
  std::mt19937 rng(17);
  GraphBuilder b = DynamicNet(rng);
  std::string bytes;
  ASSERT_TRUE(b.model().SerializeToString(&bytes));
  auto mem = Session::LoadFromMemory(bytes.data(), bytes.size());
  ASSERT_TRUE(mem.ok()) << mem.status();
  auto file = LoadSession(b);
  ASSERT_TRUE(file.ok()) << file.status();
  const Tensor x = RandomTensor({1, 3, 8, 8}, rng);
  EXPECT_TRUE(SameBits(RunOk(**mem, x), RunOk(**file, x)));
  const std::string junk = "this is not a model";
  EXPECT_ERROR(Session::LoadFromMemory(junk.data(), junk.size()).status(), kInvalidArgument,
               "'<model in memory>' is not a valid ONNX model");
  EXPECT_ERROR(Session::LoadFromMemory(nullptr, 10).status(), kInvalidArgument, "null data");
  // External data has no folder to be resolved in.
  auto* init = b.model().mutable_graph()->mutable_initializer(0);
  init->clear_raw_data();
  init->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = init->add_external_data();
  kv->set_key("location");
  kv->set_value("weights.bin");
  ASSERT_TRUE(b.model().SerializeToString(&bytes));
  EXPECT_ERROR(Session::LoadFromMemory(bytes.data(), bytes.size()).status(), kInvalidArgument,
               "a model loaded from memory cannot read");
}

TEST(Metadata, DeclaredShapesSymbolicNamesAndModelFields) {
  std::mt19937 rng(18);
  GraphBuilder b = DynamicNet(rng);
  onnx::ModelProto& m = b.model();
  m.set_doc_string("a test net");
  m.set_producer_version("9.9");
  m.set_domain("ai.test");
  m.set_model_version(3);
  auto* prop = m.add_metadata_props();
  prop->set_key("license");
  prop->set_value("MIT");
  auto* out = m.mutable_graph()->mutable_output(1)->mutable_type()->mutable_tensor_type();
  out->mutable_shape()->add_dim()->set_dim_param("batch");
  out->mutable_shape()->add_dim()->set_dim_value(10);
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  const ModelMetadata& md = (*s)->metadata();
  EXPECT_EQ(md.producer_name, "onnxrun-tests");
  EXPECT_EQ(md.producer_version, "9.9");
  EXPECT_EQ(md.domain, "ai.test");
  EXPECT_EQ(md.model_version, 3);
  EXPECT_EQ(md.graph_name, "test");
  EXPECT_EQ(md.doc_string, "a test net");
  EXPECT_EQ(md.custom.at("license"), "MIT");
  const TensorInfo& in = (*s)->inputs()[0];
  EXPECT_EQ(in.model_shape, (Shape{-1, 3, -1, -1}));
  EXPECT_EQ(in.dim_names, (std::vector<std::string>{"d0", "", "d2", "d3"}));
  const TensorInfo& logits = (*s)->outputs()[1];
  EXPECT_EQ(logits.model_shape, (Shape{-1, 10}));  // declared, not the prepared [1,10]
  EXPECT_EQ(logits.shape, (Shape{1, 10}));
  EXPECT_EQ(logits.dim_names, (std::vector<std::string>{"batch", ""}));
  const std::string path = b.Save();
  auto info = ReadModelInfo(path);
  std::remove(path.c_str());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->metadata.custom.at("license"), "MIT");
  EXPECT_EQ(info->outputs[1].dim_names, logits.dim_names);
}

TEST(SharedThreadPool, SessionsShareOnePool) {
  std::mt19937 rng(19);
  auto pool = ThreadPool::Create(2);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_ERROR(ThreadPool::Create(0).status(), kInvalidArgument, "expected 1 or more");
  SessionOptions shared;
  shared.thread_pool = *pool;
  shared.num_threads = 64;  // ignored with a pool
  const GraphBuilder b1 = DynamicNet(rng), b2 = DynamicNet(rng, 48);
  auto s1 = LoadSession(b1, shared);
  auto s2 = LoadSession(b2, shared);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ((*s1)->report().num_threads, (*pool)->num_threads());
  SessionOptions own;
  own.num_threads = (*pool)->num_threads();
  auto r1 = LoadSession(b1, own);
  auto r2 = LoadSession(b2, own);
  ASSERT_TRUE(r1.ok() && r2.ok());
  const Tensor x = RandomTensor({2, 3, 16, 16}, rng);
  EXPECT_TRUE(SameBits(RunOk(**s1, x), RunOk(**r1, x)));
  EXPECT_TRUE(SameBits(RunOk(**s2, x), RunOk(**r2, x)));
}

}  // namespace
}  // namespace onnxrun::test
