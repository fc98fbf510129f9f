// ConvGemm::Run on caller scratch: sized by ScratchFloats, whatever it held before, results are
// bitwise those of a run on fresh scratch; runs of two convs on distinct scratch may go at once.
#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "ops/kernels/conv_gemm.h"

namespace onnxrun::kernels {
namespace {

struct Conv {
  ConvGemmParams p;
  std::vector<float> x, w, b;
  size_t out_floats() const { return p.n * p.out_h * p.out_w * p.out_c; }
};

Conv Make(ConvGemmMode mode, size_t k, size_t stride, size_t in_c, size_t out_c, size_t hw,
          std::mt19937& rng) {
  Conv c;
  ConvGemmParams& p = c.p;
  p.n = 2, p.in_h = p.in_w = hw, p.in_c = in_c, p.out_c = out_c;
  p.kh = p.kw = k, p.stride_h = p.stride_w = stride, p.pad_top = p.pad_left = k / 2;
  p.out_h = p.out_w = (hw + 2 * (k / 2) - k) / stride + 1;
  p.mode = mode;
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  c.x.resize(p.n * hw * hw * in_c);
  c.w.resize(out_c * in_c * k * k);
  c.b.resize(out_c);
  for (auto* v : {&c.x, &c.w, &c.b})
    for (float& f : *v) f = d(rng);
  return c;
}

bool Same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class ConvGemmScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ConvGemm::Supported()) GTEST_SKIP() << "no AVX-512F";
  }
};

TEST_F(ConvGemmScratchTest, ScratchFloatsMatchesInit) {
  std::mt19937 rng(1);
  for (ConvGemmMode mode : {ConvGemmMode::kPacked, ConvGemmMode::kDirect})
    for (size_t threads : {1, 2, 5}) {
      const Conv c = Make(mode, 3, 1, 24, 40, 17, rng);
      ConvGemm conv;
      conv.Init(c.p, c.w.data(), c.b.data(), threads);
      EXPECT_EQ(conv.scratch_floats(), ConvGemm::ScratchFloats(c.p, threads));
      EXPECT_GT(conv.scratch_floats(), 0u);
    }
}

TEST_F(ConvGemmScratchTest, DirtyScratchGivesTheSameBits) {
  std::mt19937 rng(2);
  pthreadpool_t pool = pthreadpool_create(3);
  ASSERT_NE(pool, nullptr);
  for (ConvGemmMode mode : {ConvGemmMode::kPacked, ConvGemmMode::kDirect})
    for (size_t stride : {1, 2}) {
      SCOPED_TRACE(testing::Message() << "mode " << int(mode) << " stride " << stride);
      const Conv c = Make(mode, 3, stride, 20, 48, 15, rng);
      for (pthreadpool_t p : {pthreadpool_t(nullptr), pool}) {
        ConvGemm conv;
        conv.Init(c.p, c.w.data(), c.b.data(), p ? 3 : 1);
        std::vector<float> want(c.out_floats()), got(c.out_floats());
        conv.Run(c.x.data(), c.p.in_c, want.data(), c.p.out_c, p);  // fresh scratch
        std::vector<float> scratch(conv.scratch_floats(), std::nanf(""));
        conv.Run(c.x.data(), c.p.in_c, got.data(), c.p.out_c, scratch.data(), p);
        EXPECT_TRUE(Same(got, want));
        for (size_t i = 0; i < scratch.size(); i += 7) scratch[i] = 1e30f;  // reused, dirtied
        std::fill(got.begin(), got.end(), 0.f);
        conv.Run(c.x.data(), c.p.in_c, got.data(), c.p.out_c, scratch.data(), p);
        EXPECT_TRUE(Same(got, want));
      }
    }
  pthreadpool_destroy(pool);
}

// Small images with wide channels split their panels over the threads and pack each tile once
// into an A the tasks share: the same bits as one thread, also with the 2-thread plan run
// without a pool.
TEST_F(ConvGemmScratchTest, SharedPackGivesTheBitsOfOneThread) {
  std::mt19937 rng(4);
  pthreadpool_t pool = pthreadpool_create(2);
  ASSERT_NE(pool, nullptr);
  for (size_t k : {1, 3}) {
    SCOPED_TRACE(testing::Message() << "kernel " << k);
    Conv c = Make(ConvGemmMode::kPacked, k, 1, k == 1 ? 512 : 256, 500, 7, rng);
    // A 1x1 conv packs only when it takes an input transform (else it reads its rows in place).
    c.p.input_transform = k == 1;
    ConvGemm one, two;
    one.Init(c.p, c.w.data(), c.b.data(), 1);
    two.Init(c.p, c.w.data(), c.b.data(), 2);
    EXPECT_FALSE(one.shares_packed_a());
    EXPECT_TRUE(two.shares_packed_a());
    EXPECT_EQ(two.scratch_floats(), ConvGemm::ScratchFloats(c.p, 2));
    std::vector<float> want(c.out_floats()), got(c.out_floats(), -1.f), serial(c.out_floats());
    one.Run(c.x.data(), c.p.in_c, want.data(), c.p.out_c, nullptr);
    two.Run(c.x.data(), c.p.in_c, got.data(), c.p.out_c, pool);
    two.Run(c.x.data(), c.p.in_c, serial.data(), c.p.out_c, nullptr);
    EXPECT_TRUE(Same(got, want));
    EXPECT_TRUE(Same(serial, want));
  }
  pthreadpool_destroy(pool);
}

TEST_F(ConvGemmScratchTest, ConcurrentRunsOnDistinctScratch) {
  std::mt19937 rng(3);
  const Conv a = Make(ConvGemmMode::kPacked, 3, 1, 32, 64, 21, rng);
  const Conv b = Make(ConvGemmMode::kDirect, 3, 1, 16, 32, 19, rng);
  ConvGemm ca, cb;
  ca.Init(a.p, a.w.data(), a.b.data(), 2);
  cb.Init(b.p, b.w.data(), b.b.data(), 2);
  std::vector<float> want_a(a.out_floats()), want_b(b.out_floats());
  ca.Run(a.x.data(), a.p.in_c, want_a.data(), a.p.out_c, nullptr);
  cb.Run(b.x.data(), b.p.in_c, want_b.data(), b.p.out_c, nullptr);
  // Each thread runs both convs on its own pool and scratch, many times.
  auto worker = [&](bool* ok) {
    pthreadpool_t pool = pthreadpool_create(2);
    std::vector<float> sa(ca.scratch_floats()), sb(cb.scratch_floats());
    std::vector<float> ya(a.out_floats()), yb(b.out_floats());
    *ok = pool != nullptr;
    for (int r = 0; r < 5 && *ok; ++r) {
      ca.Run(a.x.data(), a.p.in_c, ya.data(), a.p.out_c, sa.data(), pool);
      cb.Run(b.x.data(), b.p.in_c, yb.data(), b.p.out_c, sb.data(), pool);
      *ok = Same(ya, want_a) && Same(yb, want_b);
    }
    if (pool) pthreadpool_destroy(pool);
  };
  bool ok[3] = {false, false, false};
  std::vector<std::thread> threads;
  for (bool& o : ok) threads.emplace_back(worker, &o);
  for (auto& t : threads) t.join();
  for (bool o : ok) EXPECT_TRUE(o);
}

}  // namespace
}  // namespace onnxrun::kernels
