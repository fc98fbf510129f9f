// Times one 3x3 stride-1 convolution shape on the own kernels: ConvGemm (the mode it resolves)
// and Winograd F(4x4,3x3) / F(2x2,3x3), the median of interleaved runs, at the pool's threads.
// The data for the Winograd cost model (ops/kernels/winograd.cc) and docs/BENCHMARKS.md.
//   conv_bench [--threads N] [--runs R] [--cold] [--check] [--isa avx2|avx512] < shapes
//   (lines: label n h w in_c out_c pad)
// --cold reads 64 MB between timed runs (untimed), so that weights and input come from DRAM as in a
// model, where every other layer's weights pass through the caches between two runs of a conv.
// Prints: label shape, ms of each variant, the cost model's estimates; --check adds each
// variant's error at 4096 sampled outputs against a double-precision reference: max |error| /
// max |output| over the samples (inputs and weights uniform in [-1, 1], no clamp).
#include <pthreadpool.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ops/kernels/conv_gemm.h"
#include "ops/kernels/winograd.h"

using namespace onnxrun::kernels;

int main(int argc, char** argv) {
  size_t threads = 1, runs = 15;
  bool check = false, cold = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--check")) check = true;
    if (!std::strcmp(argv[i], "--cold")) cold = true;
    if (i + 1 >= argc) continue;
    if (!std::strcmp(argv[i], "--threads")) threads = std::strtoul(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--runs")) runs = std::strtoul(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--isa") &&
        !ForceIsa(!std::strcmp(argv[i + 1], "avx2") ? Isa::kAvx2 : Isa::kAvx512)) {
      std::fprintf(stderr, "conv_bench: this CPU lacks %s\n", argv[i + 1]);
      return 1;
    }
  }
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
  std::mt19937 g(1);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::printf("%-18s %4s %4s %4s %4s %3s %10s %9s %9s %9s %8s %8s %8s\n", "model", "hw", "", "in",
              "out", "pad", "gemm_mode", "gemm_ms", "wino4_ms", "wino2_ms", "est_gemm", "est_w4",
              "est_w2");
  std::vector<float> evict(cold ? 16u << 20 : 0, 1.f);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string label;
    size_t n, h, w, c, o, pad;
    if (!(in >> label >> n >> h >> w >> c >> o >> pad)) continue;
    n = std::max<size_t>(n, 1);
    ConvGemmParams p;
    p.n = n, p.in_h = h, p.in_w = w, p.in_c = c, p.out_c = o, p.kh = p.kw = 3;
    p.pad_top = p.pad_left = pad, p.out_h = h + 2 * pad - 2, p.out_w = w + 2 * pad - 2;
    if (!check) p.lo = 0.f;  // ReLU as in the models; --check compares unclamped outputs
    std::vector<float> x(n * h * w * c), wt(o * c * 9), b(o), y(n * p.out_h * p.out_w * o);
    for (auto* v : {&x, &wt, &b})
      for (auto& e : *v) e = d(g);
    ConvGemm gemm;
    gemm.Init(p, wt.data(), b.data(), threads);
    Winograd w4, w2;
    w4.Init(p, wt.data(), b.data(), threads, 4);
    w2.Init(p, wt.data(), b.data(), threads, 2);
    auto alloc = [](size_t floats) {
      return static_cast<float*>(std::aligned_alloc(64, (floats * 4 + 127) / 64 * 64));
    };
    float* sg = alloc(gemm.scratch_floats());
    float* s4 = alloc(w4.scratch_floats());
    float* s2 = alloc(w2.scratch_floats());
    std::vector<double> tg, t4, t2;
    auto time = [&](auto&& f, std::vector<double>& out) {
      if (cold) {
        volatile float sink = 0;
        float acc = 0;
        for (size_t i = 0; i < evict.size(); i += 16) acc += evict[i];
        sink = acc;
        (void)sink;
      }
      const auto t0 = std::chrono::steady_clock::now();
      f();
      out.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    };
    for (size_t r = 0; r < runs + 2; ++r) {
      time([&] { gemm.Run(x.data(), c, y.data(), o, sg, pool); }, tg);
      time([&] { w4.Run(x.data(), c, y.data(), o, s4, pool); }, t4);
      time([&] { w2.Run(x.data(), c, y.data(), o, s2, pool); }, t2);
    }
    auto med = [](std::vector<double> v) {
      v.erase(v.begin(), v.begin() + 2);  // warm-up
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    const char* mode = ConvGemm::ResolveMode(p) == ConvGemmMode::kDirect ? "direct" : "packed";
    ConvGemmParams p2 = p;
    std::printf("%-18s %4zu %4zu %4zu %4zu %3zu %10s %9.3f %9.3f %9.3f %8.3f %8.3f %8.3f",
                label.c_str(), h, w, c, o, pad, mode, med(tg), med(t4), med(t2),
                1e3 * Winograd::GemmSeconds(p), 1e3 * Winograd::EstimatedSeconds(p, 4),
                1e3 * Winograd::EstimatedSeconds(p2, 2));
    if (check) {
      std::vector<float> y4(y.size()), y2(y.size());
      gemm.Run(x.data(), c, y.data(), o, sg, pool);
      w4.Run(x.data(), c, y4.data(), o, s4, pool);
      w2.Run(x.data(), c, y2.data(), o, s2, pool);
      double err[3] = {0, 0, 0}, top = 0;
      std::uniform_int_distribution<size_t> pick(0, y.size() - 1);
      for (int s = 0; s < 4096; ++s) {
        const size_t i = pick(g), oc = i % o, px = i / o;
        const size_t ox = px % p.out_w, oy = (px / p.out_w) % p.out_h,
                     bi = px / (p.out_w * p.out_h);
        double ref = b[oc];
        for (size_t ci = 0; ci < c; ++ci)
          for (size_t ky = 0; ky < 3; ++ky)
            for (size_t kx = 0; kx < 3; ++kx) {
              const ptrdiff_t iy = (ptrdiff_t)(oy + ky) - (ptrdiff_t)pad;
              const ptrdiff_t ix = (ptrdiff_t)(ox + kx) - (ptrdiff_t)pad;
              if (iy < 0 || ix < 0 || iy >= (ptrdiff_t)h || ix >= (ptrdiff_t)w) continue;
              ref += (double)x[((bi * h + iy) * w + ix) * c + ci] *
                     wt[((oc * c + ci) * 3 + ky) * 3 + kx];
            }
        top = std::max(top, std::fabs(ref));
        const float* ys[3] = {y.data(), y4.data(), y2.data()};
        for (int v = 0; v < 3; ++v) err[v] = std::max(err[v], std::fabs(ys[v][i] - ref));
      }
      std::printf("  err/max: gemm %.1e w4 %.1e w2 %.1e", err[0] / top, err[1] / top, err[2] / top);
    }
    std::printf("\n");
    std::fflush(stdout);
    std::free(sg), std::free(s4), std::free(s2);
  }
  if (pool) pthreadpool_destroy(pool);
  return 0;
}
