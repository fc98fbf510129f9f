#include "ops/kernels/winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "ops/kernels/aligned.h"
#include "ops/kernels/conv_avx2.h"
#include "ops/kernels/cpu.h"
#include "ops/kernels/kernels.h"

// gcc 12 flags _mm512_undefined_ps() inside the masked-load intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace onnxrun::kernels {

namespace {

constexpr size_t MR = Winograd::kMR, NR = Winograd::kNR;
// Bytes of V and M a task aims to keep in L2 (1 MB per core here): the block's transformed input
// is reused for every panel, its M rows for the output transform.
constexpr size_t kBlockBytes = 768 * 1024;
// Bytes of one transform point's V and M rows of a block (what its GEMMs reuse across panels).
// Blocks grow to this when the weights (streamed once per block) outweigh the block's V and M.
constexpr size_t kSliceBytes = 256 * 1024;
constexpr size_t kMaxSlots = 64;
// Largest V + M of a phased run (Plan::phased).
constexpr size_t kPhasedBytes = 8 << 20;

// A stride of `floats` rounded up to an odd number of cache lines: the 36 (or 16) transform points
// of a tile are that far apart, and a power-of-two multiple would put them all in one L1 set.
size_t OddLines(size_t floats) {
  const size_t lines = (floats + 15) / 16;
  return (lines | 1) * 16;
}

using Buffer = AlignedFloats;
Buffer Alloc(size_t floats) { return AllocAligned(floats); }

// Weight transform G (a x 3) for F(m x m, 3 x 3).
constexpr double kG4[6][3] = {{1.0 / 4, 0, 0},
                              {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                              {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                              {1.0 / 24, 1.0 / 12, 1.0 / 6},
                              {1.0 / 24, -1.0 / 12, 1.0 / 6},
                              {0, 0, 1}};
constexpr double kG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};

// One column (or row) of the input transform B^T d: a values in, a out.
template <int M>
ONNXRUN_AVX512_INLINE void InputLine(const __m512* d, __m512* t) {
  if constexpr (M == 4) {
    // B^T rows: [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0] [0 -2 -1 2 1 0] [0 2 -1 -2 1 0]
    // [0 4 0 -5 0 1].
    const __m512 four = _mm512_set1_ps(4.f), five = _mm512_set1_ps(5.f), two = _mm512_set1_ps(2.f);
    const __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]);             // d4 - 4 d2
    const __m512 b = _mm512_fnmadd_ps(four, d[1], d[3]);             // d3 - 4 d1
    const __m512 c = _mm512_sub_ps(d[4], d[2]);                      // d4 - d2
    const __m512 e = _mm512_mul_ps(two, _mm512_sub_ps(d[3], d[1]));  // 2 (d3 - d1)
    t[0] = _mm512_fnmadd_ps(five, d[2], _mm512_fmadd_ps(four, d[0], d[4]));
    t[1] = _mm512_add_ps(a, b);
    t[2] = _mm512_sub_ps(a, b);
    t[3] = _mm512_add_ps(c, e);
    t[4] = _mm512_sub_ps(c, e);
    t[5] = _mm512_fnmadd_ps(five, d[3], _mm512_fmadd_ps(four, d[1], d[5]));
  } else {
    // B^T rows: [1 0 -1 0] [0 1 1 0] [0 -1 1 0] [0 1 0 -1].
    t[0] = _mm512_sub_ps(d[0], d[2]);
    t[1] = _mm512_add_ps(d[1], d[2]);
    t[2] = _mm512_sub_ps(d[2], d[1]);
    t[3] = _mm512_sub_ps(d[1], d[3]);
  }
}

// One column (or row) of the output transform A^T s: a values in, m out.
template <int M>
ONNXRUN_AVX512_INLINE void OutputLine(const __m512* s, __m512* o) {
  if constexpr (M == 4) {
    // A^T rows: [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 0] [0 1 -1 8 -8 1].
    const __m512 s12 = _mm512_add_ps(s[1], s[2]), d12 = _mm512_sub_ps(s[1], s[2]);
    const __m512 s34 = _mm512_add_ps(s[3], s[4]), d34 = _mm512_sub_ps(s[3], s[4]);
    o[0] = _mm512_add_ps(_mm512_add_ps(s[0], s12), s34);
    o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.f), d34, d12);
    o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.f), s34, s12);
    o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.f), d34, d12), s[5]);
  } else {
    // A^T rows: [1 1 1 0] [0 1 -1 -1].
    o[0] = _mm512_add_ps(_mm512_add_ps(s[0], s[1]), s[2]);
    o[1] = _mm512_sub_ps(_mm512_sub_ps(s[1], s[2]), s[3]);
  }
}

// M[m][0:32) = sum_k a[k / 16][m][k % 16] * w[k][0:32) for m < MR_: the tile GEMM of one
// transform point. a: CB blocks of [MR][16] (16 channels of each of the group's tiles); w: the
// panel, [16 CB][32]. Rows are stored whole (y: 64-byte aligned, ys a multiple of 16).
template <int MR_>
ONNXRUN_AVX512 void Micro(size_t CB, const float* __restrict a, const float* __restrict w, float* y,
                          size_t ys) {
  __m512 acc0[MR_], acc1[MR_];
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) acc0[m] = acc1[m] = _mm512_setzero_ps();
  for (size_t cb = 0; cb < CB; ++cb, a += MR * 16) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      const __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16);
      w += NR;
#pragma GCC unroll 14
      for (int m = 0; m < MR_; ++m) {
        const __m512 av = _mm512_set1_ps(a[m * 16 + i]);
        acc0[m] = _mm512_fmadd_ps(av, w0, acc0[m]);
        acc1[m] = _mm512_fmadd_ps(av, w1, acc1[m]);
      }
    }
  }
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) {
    _mm512_store_ps(y + m * ys, acc0[m]);
    _mm512_store_ps(y + m * ys + 16, acc1[m]);
  }
}

using MicroFn = void (*)(size_t, const float*, const float*, float*, size_t);
template <int... I>
constexpr std::array<MicroFn, MR> MakeMicros(std::integer_sequence<int, I...>) {
  return {&Micro<I + 1>...};
}
constexpr std::array<MicroFn, MR> kMicro = MakeMicros(std::make_integer_sequence<int, MR>{});

// U = G g G^T for input channel c of outputs [o0, o0 + n) (n <= 32), in double, the 32 outputs
// side by side (vectorized over them): point xi of output o0 + j goes to dst[xi * xi_stride + j].
// Compiled twice: for AVX-512 and for any x86-64 (the AVX2 path; rounding may differ in the last
// bit of a float).
__attribute__((always_inline)) inline void TransformWeightsBody(const double (*G)[3], int a,
                                                                const float* w_oihw, size_t in_c,
                                                                size_t c, size_t o0, size_t n,
                                                                float* dst, size_t xi_stride) {
  double g[9][NR] = {}, t[6][3][NR];
  for (size_t j = 0; j < n; ++j)
    for (int e = 0; e < 9; ++e) g[e][j] = w_oihw[((o0 + j) * in_c + c) * 9 + e];
  for (int i = 0; i < a; ++i)
    for (int k = 0; k < 3; ++k)
      for (size_t j = 0; j < NR; ++j)
        t[i][k][j] = G[i][0] * g[k][j] + G[i][1] * g[3 + k][j] + G[i][2] * g[6 + k][j];
  for (int i = 0; i < a; ++i)
    for (int k = 0; k < a; ++k) {
      float* d = dst + (size_t)(i * a + k) * xi_stride;
      for (size_t j = 0; j < NR; ++j)
        d[j] = (float)(t[i][0][j] * G[k][0] + t[i][1][j] * G[k][1] + t[i][2][j] * G[k][2]);
    }
}
ONNXRUN_AVX512 void TransformWeights512(const double (*G)[3], int a, const float* w_oihw,
                                        size_t in_c, size_t c, size_t o0, size_t n, float* dst,
                                        size_t xi_stride) {
  TransformWeightsBody(G, a, w_oihw, in_c, c, o0, n, dst, xi_stride);
}
void TransformWeightsAny(const double (*G)[3], int a, const float* w_oihw, size_t in_c, size_t c,
                         size_t o0, size_t n, float* dst, size_t xi_stride) {
  TransformWeightsBody(G, a, w_oihw, in_c, c, o0, n, dst, xi_stride);
}

}  // namespace

struct Winograd::Weights {
  Buffer u;     // [a^2][panels][c16][32]
  Buffer bias;  // [panels * 32], zero-padded
};

struct Winograd::Preact {
  Buffer scale, bias;  // [c16], zero-padded
  float lo, hi;
};

struct Winograd::RunArgs {
  const Winograd* self;
  const float* x;
  size_t xs;
  float* y;
  size_t ys;
  float* scratch;
  std::atomic<bool>* busy;
  size_t block = 0;          // phased runs: the block being run
  const float* r = nullptr;  // residual added before the clamp (null: none), pixel stride rs
  size_t rs = 0;
};

bool Winograd::Applies(const ConvGemmParams& p) {
  return p.kh == 3 && p.kw == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 &&
         p.dil_w == 1 && p.pad_top <= 2 && p.pad_left <= 2 && p.out_h > 0 && p.out_w > 0 &&
         p.in_c > 0 && p.out_c > 0;
}

bool Winograd::Supported() { return ConvGemm::Supported(); }

int Winograd::TileOf(const ConvGemmParams& p) {
  ConvGemmParams one = p;  // per image: the batch does not change the tile (nor the packed weights)
  one.n = 1;
  return EstimatedSeconds(one, 2) < EstimatedSeconds(one, 4) ? 2 : 4;
}

// The cost model (fitted to 41 real conv shapes at 1 thread with the weights and the input cold,
// `conv_bench --cold`, as in a model where every other layer's weights pass through the caches
// between two runs of a conv; it picks within 0.1% of the per-shape best over them):
//   Winograd = GEMM FLOPs / (200 GFLOP/s x row use) + transform bytes / 50 GB/s
//              + blocks x transformed weight bytes / weight bandwidth
//   ConvGemm = FLOPs / 225 GFLOP/s (x2 for K < 64) + weight bytes / weight bandwidth.
// Weights stream from memory once per run at ~100 GB/s up to 1 MB, ~20 GB/s up to 16 MB, ~15
// GB/s beyond (what the prefetchers reach on a cold stream); F(4x4) weights are 4x the direct
// kernel's, F(2x2) 1.8x, which is what loses on small images with wide channels (7x7 at 512 ->
// 512 takes the GEMM, 14x14 at 256 -> 256 F(2x2)). The first fit, on warm caches (weights from
// L3 at 100 GB/s), took F(4x4) for 14x14 and Winograd for GoogLeNet's 7x7 160 -> 320: 1.2-1.4x
// the best there, 3% of ResNet-18/34/50 at 1 thread.
// On AVX2+FMA (half the vector width) both GEMMs run at half those rates and the transforms at 0.7
// of them (measured on 16 of the shapes: ConvGemm 2.15x, F(4x4) 1.85x the AVX-512 times), so
// Winograd gains more there.
namespace {
double WeightSeconds(double bytes) {
  return bytes / (bytes > 16e6 ? 15e9 : bytes > 1e6 ? 20e9 : 100e9);
}
double FlopRate(const ConvGemmParams& p) { return ResolveIsa(p.isa) == Isa::kAvx2 ? 0.5 : 1.0; }
double TransformRate(const ConvGemmParams& p) {
  return ResolveIsa(p.isa) == Isa::kAvx2 ? 0.7 : 1.0;
}
}  // namespace

double Winograd::EstimatedSeconds(const ConvGemmParams& p, int tile) {
  if (tile != 2 && tile != 4) tile = TileOf(p);
  const Plan pl = MakePlan(p, 1, tile);
  const double a2 = (tile + 2) * (tile + 2);
  const double use = std::min(1.0, 0.5 + 0.5 * (double)pl.group_tiles / MR);
  const double flops = 2.0 * a2 * (double)pl.tiles * (double)pl.c16 * (double)(pl.panels * NR);
  const double transform_bytes = 4.0 * a2 * (double)pl.tiles * (double)(pl.c16 + pl.panels * NR);
  const double weight_bytes = 4.0 * a2 * (double)pl.c16 * (double)(pl.panels * NR);
  return flops / (200e9 * FlopRate(p) * use) + transform_bytes / (50e9 * TransformRate(p)) +
         (double)pl.blocks * WeightSeconds(weight_bytes);
}

double Winograd::GemmSeconds(const ConvGemmParams& p) {
  const double k = (double)(p.kh * p.kw * p.in_c);
  const double flops = 2.0 * (double)(p.n * p.out_h * p.out_w * p.out_c) * k;
  return flops / (225e9 * FlopRate(p)) * (k < 64 ? 2.0 : 1.0) +
         WeightSeconds(4.0 * k * (double)p.out_c);
}

namespace {
// Cuts the tiles into `blocks` even blocks, each in tile groups of at most MR rows, evened out.
void SetBlocks(Winograd::Plan& pl, size_t blocks) {
  pl.blocks = blocks;
  pl.block_tiles = (pl.tiles + blocks - 1) / blocks;
  const size_t groups = (pl.block_tiles + MR - 1) / MR;
  pl.group_tiles = (pl.block_tiles + groups - 1) / groups;
}
// The panel groups of pl.group_panels panels, and one block's V and M (a2 transform points).
void SetBuffers(Winograd::Plan& pl, size_t a2) {
  pl.groups = (pl.panels + pl.group_panels - 1) / pl.group_panels;
  const size_t tg = (pl.block_tiles + pl.group_tiles - 1) / pl.group_tiles;
  pl.v_floats = a2 * OddLines(tg * MR * pl.c16);
  pl.m_floats = a2 * OddLines(pl.block_tiles * pl.group_panels * NR);
}
}  // namespace

Winograd::Plan Winograd::MakePlan(const ConvGemmParams& p, size_t max_threads, int tile) {
  Plan pl;
  pl.m = tile == 2 || tile == 4 ? tile : TileOf(p);
  const size_t a2 = (size_t)(pl.m + 2) * (pl.m + 2);
  pl.tiles_h = (p.out_h + pl.m - 1) / pl.m;
  pl.tiles_w = (p.out_w + pl.m - 1) / pl.m;
  pl.tiles = p.n * pl.tiles_h * pl.tiles_w;
  pl.c16 = (p.in_c + 15) / 16 * 16;
  pl.panels = (p.out_c + NR - 1) / NR;
  pl.group_panels = pl.panels;
  if (pl.tiles == 0 || pl.panels == 0) return pl;  // empty batch: Run does nothing
  const size_t threads = std::max<size_t>(1, std::min(max_threads, kMaxSlots));
  // T: V (a^2 x T x c16) and M (a^2 x T x group columns) within the block budget; larger (one
  // point's rows within kSliceBytes) when the weights outweigh that; then evened out.
  const size_t row_bytes = sizeof(float) * (pl.c16 + pl.group_panels * NR);
  size_t t = kBlockBytes / (a2 * row_bytes);
  const bool weight_bound = a2 * pl.c16 * pl.panels * NR * sizeof(float) > t * a2 * row_bytes;
  if (weight_bound) t = std::max(t, kSliceBytes / row_bytes);
  t = std::min(pl.tiles, std::max(MR, t / MR * MR));
  auto blocks_of = [&](size_t t) { return (pl.tiles + t - 1) / t; };
  // Enough tasks for the threads: smaller blocks first (down to one tile group), then panel groups.
  // Weight-bound convs split the panels first, into 2 groups per thread: each task then streams
  // its own share of the weights once, where smaller blocks would stream all of them once per
  // block (in a model the weights come from DRAM: ResNet-50's 14x14 256 -> 256 F(4x4) took 0.89
  // ms at 1 thread and 0.96 at 2 with two blocks). Where panels end up split, the run goes phased
  // if V and M fit (below): panel groups would each transform the whole input again, or (with a
  // shared V) each read all of V for a part of the GEMMs.
  const size_t want = (weight_bound ? 2 : 3) * threads;
  if (threads > 1 && weight_bound && pl.panels >= 2 * threads)
    pl.group_panels = (pl.panels + want - 1) / want;
  while (threads > 1 &&
         blocks_of(t) * ((pl.panels + pl.group_panels - 1) / pl.group_panels) < want && t > MR)
    t = std::max(MR, t - MR);
  SetBlocks(pl, blocks_of(t));
  if (threads > 1 &&
      pl.blocks * ((pl.panels + pl.group_panels - 1) / pl.group_panels) < 2 * threads) {
    const size_t g = std::min(pl.panels, (2 * threads + pl.blocks - 1) / pl.blocks);
    pl.group_panels = std::min(pl.group_panels, (pl.panels + g - 1) / g);
  }
  SetBuffers(pl, a2);
  pl.slots = std::min(threads, pl.blocks * pl.groups);
  pl.slot_floats = (pl.v_floats + pl.m_floats + 15) / 16 * 16;
  // Panels split across tasks: run phased instead, on the fewest blocks (run one after another)
  // whose V and M fit kPhasedBytes.
  if (threads > 1 && pl.groups > 1) {
    for (size_t b = 1; b <= pl.tiles; ++b) {
      if (blocks_of((pl.tiles + b - 1) / b) != b) continue;  // not a distinct split
      Plan q = pl;
      SetBlocks(q, b);
      q.group_panels = q.panels;
      SetBuffers(q, a2);
      if ((q.v_floats + q.m_floats) * sizeof(float) > kPhasedBytes) continue;
      q.phased = true;
      q.slots = 0, q.slot_floats = 0;
      pl = q;
      break;
    }
  }
  return pl;
}

namespace {
size_t ScratchOf(const Winograd::Plan& pl) {
  return (pl.phased ? pl.v_floats + pl.m_floats : 0) + pl.slots * pl.slot_floats;
}
}  // namespace

size_t Winograd::ScratchFloats(const ConvGemmParams& p, size_t max_threads, int tile) {
  return ScratchOf(MakePlan(p, max_threads, tile));
}

size_t Winograd::scratch_floats() const { return ScratchOf(plan_); }

std::string Winograd::PackKey(const ConvGemmParams& p, int tile) {
  const int m = tile == 2 || tile == 4 ? tile : TileOf(p);
  return "winograd:" + std::to_string(p.out_c) + "x" + std::to_string(p.in_c) + ":f" +
         std::to_string(m) + (ResolveIsa(p.isa) == Isa::kAvx2 ? ":avx2" : "");
}

std::shared_ptr<const Winograd::Weights> Winograd::Pack(const ConvGemmParams& p,
                                                        const float* w_oihw, const float* bias,
                                                        int tile) {
  // The layout depends on the tile, c16 and panels only, none of which depends on the threads.
  const Plan pl = MakePlan(p, 1, tile);
  const int a = pl.m + 2;
  const double(*G)[3] = pl.m == 4 ? kG4 : kG2;
  auto w = std::make_shared<Weights>();
  const size_t a2 = (size_t)a * a, cols = pl.panels * NR;
  w->u = Alloc(a2 * cols * pl.c16);
  std::memset(w->u.get(), 0, a2 * cols * pl.c16 * sizeof(float));
  const auto transform =
      ResolveIsa(p.isa) == Isa::kAvx512 ? &TransformWeights512 : &TransformWeightsAny;
  for (size_t panel = 0; panel < pl.panels; ++panel)
    for (size_t c = 0; c < p.in_c; ++c)
      transform(G, a, w_oihw, p.in_c, c, panel * NR, std::min(NR, p.out_c - panel * NR),
                w->u.get() + (panel * pl.c16 + c) * NR, pl.panels * pl.c16 * NR);
  w->bias = Alloc(cols);
  std::memset(w->bias.get(), 0, cols * sizeof(float));
  if (bias) std::memcpy(w->bias.get(), bias, p.out_c * sizeof(float));
  return w;
}

void Winograd::Init(const ConvGemmParams& p, std::shared_ptr<const Weights> packed,
                    size_t max_threads, int tile) {
  p_ = p;
  avx2_ = ResolveIsa(p.isa) == Isa::kAvx2;
  plan_ = MakePlan(p, max_threads, tile);
  w_ = std::move(packed);
  pre_.reset();
}

void Winograd::SetInputTransform(const float* scale, const float* bias, float lo, float hi) {
  auto pre = std::make_shared<Preact>();
  pre->scale = Alloc(plan_.c16);
  pre->bias = Alloc(plan_.c16);
  std::memset(pre->scale.get(), 0, plan_.c16 * sizeof(float));
  std::memset(pre->bias.get(), 0, plan_.c16 * sizeof(float));
  std::memcpy(pre->scale.get(), scale, p_.in_c * sizeof(float));
  std::memcpy(pre->bias.get(), bias, p_.in_c * sizeof(float));
  pre->lo = lo;
  pre->hi = hi;
  pre_ = std::move(pre);
}

namespace {

// The input tile at (iy0, ix0) (may reach into the padding), 16 channels from c0, through the
// pre-activation, into V: point xi of the tile at v + xi * xi_stride.
template <int M>
ONNXRUN_AVX512 void InputTile(const float* img, size_t in_h, size_t in_w, size_t xs, ptrdiff_t iy0,
                              ptrdiff_t ix0, size_t c0, __mmask16 lm, const float* scale,
                              const float* bias, float lo, float hi, float* v, size_t xi_stride) {
  constexpr int A = M + 2;
  __m512 t[A][A];
  __m512 sc = _mm512_setzero_ps(), bi = sc, vlo = sc, vhi = sc;
  if (scale) {
    sc = _mm512_maskz_loadu_ps(lm, scale + c0);
    bi = _mm512_maskz_loadu_ps(lm, bias + c0);
    vlo = _mm512_set1_ps(lo);
    vhi = _mm512_set1_ps(hi);
  }
  for (int j = 0; j < A; ++j) {
    const ptrdiff_t ix = ix0 + j;
    const bool col_in = ix >= 0 && ix < (ptrdiff_t)in_w;
    __m512 d[A];
    for (int i = 0; i < A; ++i) {
      const ptrdiff_t iy = iy0 + i;
      if (col_in && iy >= 0 && iy < (ptrdiff_t)in_h) {
        d[i] = _mm512_maskz_loadu_ps(lm, img + ((size_t)iy * in_w + (size_t)ix) * xs + c0);
        if (scale) d[i] = _mm512_min_ps(_mm512_max_ps(_mm512_fmadd_ps(d[i], sc, bi), vlo), vhi);
      } else {
        d[i] = _mm512_setzero_ps();
      }
    }
    __m512 o[A];
    InputLine<M>(d, o);
    for (int i = 0; i < A; ++i) t[i][j] = o[i];
  }
  for (int i = 0; i < A; ++i) {
    __m512 o[A];
    InputLine<M>(t[i], o);
    for (int j = 0; j < A; ++j) _mm512_store_ps(v + (size_t)(i * A + j) * xi_stride, o[j]);
  }
}

// The output tile whose point xi is at s + xi * xi_stride (16 channels from col), bias added (and
// the residual r, rows r_row_stride and pixels rs apart, when not null: a fused residual Add),
// clamped, stored to the pixels of y (pixel stride ys) that exist: rows < rows, columns < cols_px.
template <int M>
ONNXRUN_AVX512 void OutputTile(const float* s, size_t xi_stride, const float* bias, float lo,
                               float hi, float* y, size_t row_stride, size_t ys, int rows,
                               int cols_px, __mmask16 cm, const float* r, size_t r_row_stride,
                               size_t rs) {
  constexpr int A = M + 2;
  __m512 t[M][A];
  for (int j = 0; j < A; ++j) {
    __m512 d[A], o[M];
    for (int i = 0; i < A; ++i) d[i] = _mm512_load_ps(s + (size_t)(i * A + j) * xi_stride);
    OutputLine<M>(d, o);
    for (int i = 0; i < M; ++i) t[i][j] = o[i];
  }
  const __m512 b = _mm512_load_ps(bias), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  for (int i = 0; i < rows; ++i) {
    __m512 o[M];
    OutputLine<M>(t[i], o);
    float* row = y + i * row_stride;
    for (int j = 0; j < cols_px; ++j) {
      __m512 v = _mm512_add_ps(o[j], b);
      if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(cm, r + i * r_row_stride + j * rs));
      _mm512_mask_storeu_ps(row + j * ys, cm, _mm512_min_ps(_mm512_max_ps(v, vlo), vhi));
    }
  }
}

}  // namespace

void Winograd::TransformInput(const RunArgs& ra, size_t block, size_t i0, size_t i1, size_t cb0,
                              size_t cb1, float* v) const {
  const ConvGemmParams& p = p_;
  const Plan& pl = plan_;
  const int m = pl.m;
  const size_t t0 = block * pl.block_tiles;
  const size_t T = pl.block_tiles, GT = pl.group_tiles, TG = (T + GT - 1) / GT, CB = pl.c16 / 16;
  const size_t per_image = pl.tiles_h * pl.tiles_w;
  const Preact* pre = pre_.get();
  // V[xi][tile group][cb][14][16].
  const size_t v_xi = OddLines(TG * CB * MR * 16);
  for (size_t i = i0; i < i1; ++i) {
    const size_t t = t0 + i, b = t / per_image, r = t % per_image;
    const ptrdiff_t iy0 = (ptrdiff_t)((r / pl.tiles_w) * m) - (ptrdiff_t)p.pad_top;
    const ptrdiff_t ix0 = (ptrdiff_t)((r % pl.tiles_w) * m) - (ptrdiff_t)p.pad_left;
    const float* img = ra.x + b * p.in_h * p.in_w * ra.xs;
    float* vt = v + ((i / GT) * CB * MR + i % GT) * 16;
    for (size_t cb = cb0; cb < cb1; ++cb) {
      const size_t c0 = cb * 16, cnt = std::min<size_t>(16, p.in_c - std::min(p.in_c, c0));
      const __mmask16 lm = (__mmask16)((1u << cnt) - 1);
      float* dst = vt + cb * MR * 16;
      if (avx2_)
        avx2::WinogradInputTile(m, img, p.in_h, p.in_w, ra.xs, iy0, ix0, c0, cnt,
                                pre ? pre->scale.get() : nullptr, pre ? pre->bias.get() : nullptr,
                                pre ? pre->lo : 0, pre ? pre->hi : 0, dst, v_xi);
      else if (m == 4)
        InputTile<4>(img, p.in_h, p.in_w, ra.xs, iy0, ix0, c0, lm, pre ? pre->scale.get() : nullptr,
                     pre ? pre->bias.get() : nullptr, pre ? pre->lo : 0, pre ? pre->hi : 0, dst,
                     v_xi);
      else
        InputTile<2>(img, p.in_h, p.in_w, ra.xs, iy0, ix0, c0, lm, pre ? pre->scale.get() : nullptr,
                     pre ? pre->bias.get() : nullptr, pre ? pre->lo : 0, pre ? pre->hi : 0, dst,
                     v_xi);
    }
  }
}

void Winograd::Gemm(size_t block, size_t group, const float* v, float* mbuf, size_t xi0,
                    size_t xi1) const {
  const Plan& pl = plan_;
  const size_t t0 = block * pl.block_tiles, nt = std::min(pl.block_tiles, pl.tiles - t0);
  const size_t T = pl.block_tiles, GT = pl.group_tiles, TG = (T + GT - 1) / GT, CB = pl.c16 / 16;
  const size_t v_xi = OddLines(TG * CB * MR * 16);
  // Tile GEMMs: M[xi][tile][group columns].
  const size_t p0 = group * pl.group_panels, p1 = std::min(pl.panels, p0 + pl.group_panels);
  const size_t gc = (p1 - p0) * NR, m_xi = OddLines(T * gc);
  const float* u = w_->u.get();
  for (size_t xi = xi0; xi < xi1; ++xi)
    for (size_t pn = p0; pn < p1; ++pn) {
      const float* wp = u + (xi * pl.panels + pn) * pl.c16 * NR;
      for (size_t g = 0; g * GT < nt; ++g) {
        const size_t mr = std::min(GT, nt - g * GT);
        const float* va = v + xi * v_xi + g * CB * MR * 16;
        float* mo = mbuf + xi * m_xi + g * GT * gc + (pn - p0) * NR;
        if (avx2_)
          avx2::WinogradGemm(CB, va, mr, wp, mo, gc);
        else
          kMicro[mr - 1](CB, va, wp, mo, gc);
      }
    }
}

void Winograd::Output(const RunArgs& ra, size_t block, size_t group, const float* mbuf, size_t i0,
                      size_t i1) const {
  const ConvGemmParams& p = p_;
  const Plan& pl = plan_;
  const int m = pl.m;
  const size_t t0 = block * pl.block_tiles;
  const size_t per_image = pl.tiles_h * pl.tiles_w;
  const size_t p0 = group * pl.group_panels, p1 = std::min(pl.panels, p0 + pl.group_panels);
  const size_t gc = (p1 - p0) * NR, m_xi = OddLines(pl.block_tiles * gc);
  // Output transform, bias, clamp, store.
  const size_t col_end = std::min(p.out_c, p1 * NR);
  for (size_t i = i0; i < i1; ++i) {
    const size_t t = t0 + i, b = t / per_image, r = t % per_image;
    const size_t oy = (r / pl.tiles_w) * m, ox = (r % pl.tiles_w) * m;
    const int rows = (int)std::min<size_t>(m, p.out_h - oy);
    const int cols_px = (int)std::min<size_t>(m, p.out_w - ox);
    const size_t px = (b * p.out_h + oy) * p.out_w + ox;
    float* y = ra.y + px * ra.ys;
    const float* res = ra.r ? ra.r + px * ra.rs : nullptr;
    for (size_t c = p0 * NR; c < col_end; c += 16) {
      const size_t cnt = std::min<size_t>(16, col_end - c);
      const __mmask16 cm = (__mmask16)((1u << cnt) - 1);
      const float* s = mbuf + i * gc + (c - p0 * NR);
      if (avx2_) {
        // With a residual the AVX2 tile stores unclamped; the residual and clamp follow.
        avx2::WinogradOutputTile(m, s, m_xi, w_->bias.get() + c, res ? -__builtin_inff() : p.lo,
                                 res ? __builtin_inff() : p.hi, y + c, p.out_w * ra.ys, ra.ys, rows,
                                 cols_px, cnt);
        if (res)
          for (int ty = 0; ty < rows; ++ty)
            for (int tx = 0; tx < cols_px; ++tx)
              avx2::AddResidual(y + (ty * p.out_w + tx) * ra.ys + c,
                                res + (ty * p.out_w + tx) * ra.rs + c, cnt, p.lo, p.hi);
      } else if (m == 4) {
        OutputTile<4>(s, m_xi, w_->bias.get() + c, p.lo, p.hi, y + c, p.out_w * ra.ys, ra.ys, rows,
                      cols_px, cm, res ? res + c : nullptr, p.out_w * ra.rs, ra.rs);
      } else {
        OutputTile<2>(s, m_xi, w_->bias.get() + c, p.lo, p.hi, y + c, p.out_w * ra.ys, ra.ys, rows,
                      cols_px, cm, res ? res + c : nullptr, p.out_w * ra.rs, ra.rs);
      }
    }
  }
}

void Winograd::TransformTask(const RunArgs& ra, size_t unit) const {
  const Plan& pl = plan_;
  const size_t CB = pl.c16 / 16, g = unit / CB, cb = unit % CB;
  const size_t nt = std::min(pl.block_tiles, pl.tiles - ra.block * pl.block_tiles);
  const size_t i0 = g * pl.group_tiles, i1 = std::min(nt, i0 + pl.group_tiles);
  if (i0 < i1) TransformInput(ra, ra.block, i0, i1, cb, cb + 1, ra.scratch);
}

void Winograd::Task(const RunArgs& ra, size_t block, size_t group) const {
  const Plan& pl = plan_;
  const size_t slot = detail::ClaimSlot(ra.busy, pl.slots);
  float* v = ra.scratch + slot * pl.slot_floats;
  float* mbuf = v + pl.v_floats;
  const size_t nt = std::min(pl.block_tiles, pl.tiles - block * pl.block_tiles);
  TransformInput(ra, block, 0, nt, 0, pl.c16 / 16, v);
  Gemm(block, group, v, mbuf, 0, (size_t)(pl.m + 2) * (pl.m + 2));
  Output(ra, block, group, mbuf, 0, nt);
  detail::ReleaseSlot(ra.busy, slot);
}

// Phased runs (Plan::phased; block ra.block, one panel group): V and M at the start of the
// scratch.
void Winograd::GemmTask(const RunArgs& ra, size_t xi) const {
  Gemm(ra.block, 0, ra.scratch, ra.scratch + plan_.v_floats, xi, xi + 1);
}
void Winograd::OutputTask(const RunArgs& ra, size_t tile) const {
  Output(ra, ra.block, 0, ra.scratch + plan_.v_floats, tile, tile + 1);
}

namespace {
void TaskTrampoline(void* ctx, size_t block, size_t group) {
  const auto* a = static_cast<const Winograd::RunArgs*>(ctx);
  a->self->Task(*a, block, group);
}
void TransformTrampoline(void* ctx, size_t unit) {
  const auto* a = static_cast<const Winograd::RunArgs*>(ctx);
  a->self->TransformTask(*a, unit);
}
void GemmTrampoline(void* ctx, size_t xi) {
  const auto* a = static_cast<const Winograd::RunArgs*>(ctx);
  a->self->GemmTask(*a, xi);
}
void OutputTrampoline(void* ctx, size_t tile) {
  const auto* a = static_cast<const Winograd::RunArgs*>(ctx);
  a->self->OutputTask(*a, tile);
}
}  // namespace

void Winograd::Run(const float* x, size_t xs, float* y, size_t ys, pthreadpool_t pool,
                   const float* r, size_t rs) const {
  Buffer scratch = Alloc(scratch_floats());
  Run(x, xs, y, ys, scratch.get(), pool, r, rs);
}

void Winograd::Run(const float* x, size_t xs, float* y, size_t ys, float* scratch,
                   pthreadpool_t pool, const float* r, size_t rs) const {
  const Plan& pl = plan_;
  if (pl.tiles == 0 || pl.panels == 0) return;
  std::atomic<bool> busy[kMaxSlots] = {};
  RunArgs a{this, x, xs, y, ys, scratch, busy};
  a.r = r;
  a.rs = rs;
  if (pl.phased) {
    // Block after block, three passes each, each split evenly over the threads: the input
    // transform (tile groups x channel blocks), the tile GEMMs (one transform point each:
    // disjoint V, U and M), the output transform (one tile each).
    const size_t a2 = (size_t)(pl.m + 2) * (pl.m + 2);
    const bool threaded = pool && pthreadpool_get_threads_count(pool) > 1;
    for (size_t b = 0; b < pl.blocks; ++b) {
      a.block = b;
      const size_t nt = std::min(pl.block_tiles, pl.tiles - b * pl.block_tiles);
      const size_t units = ((nt + pl.group_tiles - 1) / pl.group_tiles) * (pl.c16 / 16);
      if (threaded) {
        pthreadpool_parallelize_1d(pool, &TransformTrampoline, &a, units, 0);
        pthreadpool_parallelize_1d(pool, &GemmTrampoline, &a, a2, 0);
        pthreadpool_parallelize_1d(pool, &OutputTrampoline, &a, nt, 0);
      } else {
        for (size_t u = 0; u < units; ++u) TransformTask(a, u);
        for (size_t xi = 0; xi < a2; ++xi) GemmTask(a, xi);
        for (size_t t = 0; t < nt; ++t) OutputTask(a, t);
      }
    }
    return;
  }
  if (!pool || pthreadpool_get_threads_count(pool) <= 1 || pl.blocks * pl.groups == 1) {
    for (size_t g = 0; g < pl.groups; ++g)
      for (size_t b = 0; b < pl.blocks; ++b) Task(a, b, g);
    return;
  }
  pthreadpool_parallelize_2d(pool, &TaskTrampoline, &a, pl.blocks, pl.groups, 0);
}

}  // namespace onnxrun::kernels
