// Tests for the arena planner (runtime/plan/arena.h): hand-computed tables in the style of
// TFLite Micro's greedy_memory_planner_test, then randomized invariants.
#include "runtime/plan/arena.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace onnxrun {
namespace {

using Buffers = std::vector<BufferRequest>;

struct TableCase {
  std::string name;
  Buffers buffers;
  int64_t alignment;
  std::vector<int64_t> offsets;
  int64_t total_bytes;
  int64_t lower_bound;
};

class ArenaTableTest : public ::testing::TestWithParam<TableCase> {};

TEST_P(ArenaTableTest, MatchesHandComputedPlan) {
  const TableCase& c = GetParam();
  const ArenaPlan plan = PlanArena(c.buffers, c.alignment);
  EXPECT_EQ(plan.offsets, c.offsets);
  EXPECT_EQ(plan.total_bytes, c.total_bytes);
  EXPECT_EQ(ArenaLowerBound(c.buffers, c.alignment), c.lower_bound);
  EXPECT_TRUE(VerifyArenaPlan(c.buffers, plan).ok()) << VerifyArenaPlan(c.buffers, plan);
}

// {size, first_use, last_use}
INSTANTIATE_TEST_SUITE_P(
    Tables, ArenaTableTest,
    ::testing::Values(
        TableCase{"Empty", {}, 64, {}, 0, 0}, TableCase{"Single", {{100, 0, 0}}, 1, {0}, 100, 100},
        // Lifetimes never meet: everything reuses offset 0; arena = largest buffer.
        TableCase{
            "DisjointReuseZero", {{100, 0, 0}, {50, 1, 1}, {80, 2, 2}}, 1, {0, 0, 0}, 100, 100},
        // A -> op1 -> B -> op2 -> C: B (largest) at 0; A and C both meet B, not each other,
        // so both sit on top of it at 200.
        TableCase{"Chain", {{100, 0, 1}, {200, 1, 2}, {100, 2, 3}}, 1, {200, 0, 200}, 300, 300},
        // Everything live at once: stacked largest first.
        TableCase{"AllLive", {{10, 0, 3}, {30, 0, 3}, {20, 1, 2}}, 1, {50, 0, 30}, 60, 60},
        // Big ones: A [0,100), B [100,200) (dies after step 1), C [200,280). Two 50-byte buffers
        // born after B died both fit in B's 100-byte hole.
        TableCase{"TwoSmallInHoleOfBig",
                  {{100, 0, 5}, {100, 0, 1}, {80, 0, 5}, {50, 2, 3}, {50, 2, 3}},
                  1,
                  {0, 100, 200, 100, 150},
                  280,
                  280},
        // No single order is best: by size, the 5-byte buffer (step 1) goes to 0, the long-lived
        // one above it at 5, and the 4-byte one (step 4) finds no room below 7: total 9. Longest-
        // lived first puts the long-lived buffer at 0 and reaches the lower bound, 8; PlanArena
        // keeps the smallest of its orders.
        TableCase{"SmallestOfSeveralOrders",
                  {{5, 1, 1}, {2, 0, 4}, {2, 4, 5}, {4, 4, 4}},
                  1,
                  {2, 0, 2, 4},
                  8,
                  8},
        // Best fit, not first fit: when Q (50, steps 2-3) is placed, the buffers live with it
        // leave a 100-byte gap at [100,200) and a 50-byte gap at [300,350); Q takes the
        // tighter one. (First fit would put it at 100.)
        TableCase{"BestFitNotFirstFit",
                  {{100, 0, 9}, {100, 0, 1}, {100, 0, 9}, {50, 0, 1}, {50, 0, 9}, {50, 2, 3}},
                  1,
                  {0, 100, 200, 300, 350, 300},
                  400,
                  400},
        // Equal gaps: the lower one wins. Live with X (steps 2-3): [0,10) and [20,30) and
        // [40,50), gaps [10,20) and [30,40).
        TableCase{"EqualGapsLowestOffset",
                  {{10, 0, 9}, {10, 0, 1}, {10, 0, 9}, {10, 0, 1}, {10, 0, 9}, {5, 2, 3}},
                  1,
                  {0, 10, 20, 30, 40, 10},
                  50,
                  50},
        // Alignment 64: sizes 1, 65, 64, 100 occupy 64, 128, 64, 128. Order by size:
        // 100 -> 0, 65 -> 128, 64 -> 256, 1 -> 320; total 384.
        TableCase{"AlignmentRounding",
                  {{1, 0, 0}, {65, 0, 0}, {64, 0, 0}, {100, 0, 0}},
                  64,
                  {320, 128, 256, 0},
                  384,
                  384},
        // Aligned hole: A [0,256), B (100 bytes, dies after step 1) [256,384), C [384,512).
        // B leaves a 128-byte hole, which D (80 bytes, rounded to 128, born at 2) fills exactly.
        TableCase{"AlignedHoleFits",
                  {{200, 0, 3}, {100, 0, 1}, {90, 0, 3}, {80, 2, 3}},
                  64,
                  {0, 256, 384, 256},
                  512,
                  512},
        // Alignment 16 on odd sizes; total is a multiple of 16 even though no size is.
        TableCase{"AlignmentTotal", {{17, 0, 1}, {3, 1, 2}}, 16, {0, 32}, 48, 48},
        // Zero-size buffers: offset 0, occupy nothing, never push others up.
        TableCase{"ZeroSize",
                  {{0, 0, 5}, {100, 0, 5}, {0, 3, 3}, {28, 2, 4}},
                  64,
                  {0, 0, 0, 128},
                  192,
                  192},
        TableCase{"AllZeroSize", {{0, 0, 1}, {0, 0, 1}}, 64, {0, 0}, 0, 0},
        // Ties on size: earlier first_use first, then lower index. Both live at step 1.
        TableCase{"TieBreakFirstUse", {{64, 1, 2}, {64, 0, 1}}, 64, {64, 0}, 128, 128},
        TableCase{"TieBreakIndex", {{64, 0, 1}, {64, 0, 1}}, 64, {0, 64}, 128, 128},
        // Greedy is not optimal. A (100, steps 0-1) -> 0; B (80, 1-2) meets A -> 100;
        // C (80, 2-3) meets B only -> the hole [0,100); D (60, 2-3) meets B and C, and the
        // 20-byte gap [80,100) is too small -> 180. Total 240, but the peak (step 2) is 220,
        // which is reachable: B 0, A 80, C 80, D 160.
        TableCase{"GreedyAboveBound",
                  {{100, 0, 1}, {80, 1, 2}, {80, 2, 3}, {60, 2, 3}},
                  1,
                  {0, 100, 0, 180},
                  240,
                  220}),
    [](const ::testing::TestParamInfo<TableCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------

Buffers RandomBuffers(std::mt19937& rng, int n, int steps, int64_t max_size) {
  std::uniform_int_distribution<int> first(0, steps - 1);
  std::geometric_distribution<int> length(0.3);
  std::uniform_int_distribution<int64_t> size(0, max_size);
  std::bernoulli_distribution zero(0.05);
  Buffers b(n);
  for (auto& r : b) {
    r.first_use = first(rng);
    r.last_use = std::min(steps - 1, r.first_use + length(rng));
    r.size = zero(rng) ? 0 : size(rng);
  }
  return b;
}

void ExpectValidPlan(const Buffers& buffers, const ArenaPlan& plan, int64_t alignment) {
  ASSERT_TRUE(VerifyArenaPlan(buffers, plan).ok()) << VerifyArenaPlan(buffers, plan);
  EXPECT_EQ(plan.total_bytes % alignment, 0);
  int64_t sum = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0) << "buffer " << i;
    if (buffers[i].size == 0) {
      EXPECT_EQ(plan.offsets[i], 0) << "buffer " << i;
    }
    sum += (buffers[i].size + alignment - 1) / alignment * alignment;
  }
  EXPECT_GE(plan.total_bytes, ArenaLowerBound(buffers, alignment));
  EXPECT_LE(plan.total_bytes, sum);
}

TEST(ArenaRandomTest, NoOverlapAndNeverBelowLowerBound) {
  std::mt19937 rng(20240611);
  const int64_t alignments[] = {1, 4, 16, 64};
  std::vector<double> ratios;
  for (int trial = 0; trial < 3000; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 80);
    const int steps = 1 + static_cast<int>(rng() % 40);
    const int64_t alignment = alignments[rng() % 4];
    const Buffers buffers = RandomBuffers(rng, n, steps, 1 + rng() % 5000);
    const ArenaPlan plan = PlanArena(buffers, alignment);
    ExpectValidPlan(buffers, plan, alignment);
    if (HasFatalFailure()) return;
    EXPECT_EQ(PlanArena(buffers, alignment).offsets, plan.offsets) << "not deterministic";
    const int64_t bound = ArenaLowerBound(buffers, alignment);
    if (bound > 0) ratios.push_back(static_cast<double>(plan.total_bytes) / bound);
  }
  std::sort(ratios.begin(), ratios.end());
  const double median = ratios[ratios.size() / 2];
  std::printf("plan / lower bound over %zu random sets: median %.4f, p90 %.4f, max %.4f\n",
              ratios.size(), median, ratios[ratios.size() * 9 / 10], ratios.back());
  EXPECT_LT(median, 1.25);  // greedy best-fit is near-optimal on typical inputs
}

TEST(ArenaRandomTest, FiveThousandBuffersIsFast) {
  std::mt19937 rng(7);
  const Buffers buffers = RandomBuffers(rng, 5000, 2000, 1 << 20);
  const auto start = std::chrono::steady_clock::now();
  const ArenaPlan plan = PlanArena(buffers, 64);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("planned 5000 buffers in %.2f ms: %lld bytes, lower bound %lld\n", ms,
              static_cast<long long>(plan.total_bytes),
              static_cast<long long>(ArenaLowerBound(buffers, 64)));
  ExpectValidPlan(buffers, plan, 64);
  // Loose guard against accidental O(n^3) (sanitizer builds are ~10x slower than -O2).
  EXPECT_LT(ms, 2000.0);
}

// Structured lifetimes where greedy best-fit is optimal: plan == lower bound.
TEST(ArenaStructuredTest, EqualsLowerBound) {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int64_t> size(1, 4096);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 2 + trial % 50;
    // (a) all live at once: bound = sum; (b) pairwise disjoint: bound = max.
    Buffers all(n), disjoint(n), chain(n);
    for (int i = 0; i < n; ++i) {
      all[i] = {size(rng), 0, n};
      disjoint[i] = {size(rng), i, i};
    }
    // (c) a chain of equal-size activations (a plain CNN without branches): two live at a time.
    const int64_t s = size(rng);
    for (int i = 0; i < n; ++i) chain[i] = {s, i, i + 1};
    for (const Buffers* b : {&all, &disjoint, &chain}) {
      const ArenaPlan plan = PlanArena(*b, 64);
      ASSERT_TRUE(VerifyArenaPlan(*b, plan).ok());
      EXPECT_EQ(plan.total_bytes, ArenaLowerBound(*b, 64)) << "trial " << trial;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// VerifyArenaPlan must be able to fail, or the invariant tests above prove nothing.

TEST(VerifyArenaPlanTest, CatchesOverlapOfLiveBuffers) {
  const Buffers buffers = {{100, 0, 2}, {100, 1, 3}, {100, 4, 5}};
  ArenaPlan plan = PlanArena(buffers, 1);
  ASSERT_TRUE(VerifyArenaPlan(buffers, plan).ok());
  plan.offsets[1] = plan.offsets[0] + 99;  // one byte of overlap
  const absl::Status status = VerifyArenaPlan(buffers, plan);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(status.message());
  EXPECT_NE(msg.find("buffer 0 (steps [0, 2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("buffer 1 (steps [1, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
}

TEST(VerifyArenaPlanTest, AllowsOverlapOfBuffersNotLiveTogether) {
  const Buffers buffers = {{100, 0, 1}, {100, 2, 3}};
  EXPECT_TRUE(VerifyArenaPlan(buffers, ArenaPlan{{0, 0}, 100}).ok());
  EXPECT_TRUE(VerifyArenaPlan(buffers, ArenaPlan{{0, 50}, 150}).ok());
  // Touching end to start is fine when live together.
  const Buffers live = {{100, 0, 1}, {100, 1, 2}};
  EXPECT_TRUE(VerifyArenaPlan(live, ArenaPlan{{0, 100}, 200}).ok());
  EXPECT_FALSE(VerifyArenaPlan(live, ArenaPlan{{0, 99}, 200}).ok());
}

TEST(VerifyArenaPlanTest, CatchesBufferOutsideArena) {
  const Buffers buffers = {{100, 0, 0}, {100, 0, 0}};
  ArenaPlan plan = PlanArena(buffers, 1);
  plan.total_bytes -= 1;
  const absl::Status status = VerifyArenaPlan(buffers, plan);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("outside the arena of 199 bytes"), std::string::npos) << status;
  EXPECT_FALSE(VerifyArenaPlan(buffers, ArenaPlan{{-100, 0}, 200}).ok());
}

TEST(VerifyArenaPlanTest, CatchesOffsetCountMismatchAndBadRequests) {
  const Buffers buffers = {{100, 0, 0}, {100, 0, 0}};
  const absl::Status status = VerifyArenaPlan(buffers, ArenaPlan{{0}, 200});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("1 offsets for 2 buffers"), std::string::npos) << status;
  EXPECT_FALSE(VerifyArenaPlan({{-1, 0, 0}}, ArenaPlan{{0}, 0}).ok());
  EXPECT_FALSE(VerifyArenaPlan({{10, 3, 2}}, ArenaPlan{{0}, 10}).ok());
}

// Corrupt random plans one offset at a time: whenever the corruption creates a real overlap
// (checked by brute force here), VerifyArenaPlan must report it.
TEST(VerifyArenaPlanTest, CatchesRandomCorruption) {
  std::mt19937 rng(1234);
  int caught = 0;
  for (int trial = 0; trial < 500; ++trial) {
    const Buffers buffers = RandomBuffers(rng, 2 + static_cast<int>(rng() % 30), 10, 1000);
    ArenaPlan plan = PlanArena(buffers, 1);
    const size_t victim = rng() % buffers.size();
    plan.offsets[victim] = static_cast<int64_t>(rng() % (plan.total_bytes + 1));
    bool bad =
        plan.offsets[victim] + buffers[victim].size > plan.total_bytes && buffers[victim].size > 0;
    for (size_t j = 0; j < buffers.size() && !bad; ++j) {
      const BufferRequest &a = buffers[victim], &b = buffers[j];
      bad = j != victim && a.size > 0 && b.size > 0 && a.first_use <= b.last_use &&
            b.first_use <= a.last_use && plan.offsets[victim] < plan.offsets[j] + b.size &&
            plan.offsets[j] < plan.offsets[victim] + a.size;
    }
    EXPECT_EQ(VerifyArenaPlan(buffers, plan).ok(), !bad) << "trial " << trial;
    caught += bad;
  }
  EXPECT_GT(caught, 100);  // the corruption really does produce bad plans
}

}  // namespace
}  // namespace onnxrun
