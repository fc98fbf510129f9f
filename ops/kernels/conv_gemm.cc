#include "ops/kernels/conv_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "ops/kernels/conv_avx2.h"
#include "ops/kernels/conv_pack.h"
#include "ops/kernels/cpu.h"
#include "ops/kernels/kernels.h"

// gcc 12 flags _mm512_undefined_ps() inside the unpack intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace onnxrun::kernels {

namespace {

using conv_pack::DeinterleaveColumns;
using conv_pack::InputTransform;
using conv_pack::TransposeRows;

constexpr size_t MR = ConvGemm::kMR, NR = ConvGemm::kNR;
// Packed A bytes a task aims to keep (L2 resident, reused for every panel of its group; L2 is
// 2 MB per core here). Larger blocks mean fewer passes over the weights (ResNet-50 layer4 at 7x7:
// one block, the weights stream once); measured 512 KB -> 1.5 MB: ResNet-50 convs 60 -> 54 ms.
constexpr size_t kABlockBytes = 1536 * 1024;
// Largest A (every tile of a run, packed) shared by the tasks of a multi-thread run.
constexpr size_t kSharedABytes = 4 << 20;

// The microkernels' accumulators: rows start at the bias; stored clamped, 32 (kTwo) or 16
// columns under masks m0/m1, to row_of(m) (null: not stored).
template <int MR_, bool kTwo>
ONNXRUN_AVX512_INLINE void InitAcc(__m512* acc0, __m512* acc1, const float* bias) {
  const __m512 b0 = _mm512_load_ps(bias);
  const __m512 b1 = kTwo ? _mm512_load_ps(bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) {
    acc0[m] = b0;
    if (kTwo) acc1[m] = b1;
  }
}

// acc[m] += a[m * S] * (w0, w1) for m < MR_.
template <int MR_, bool kTwo, int S = 1>
ONNXRUN_AVX512_INLINE void FmaStep(__m512* acc0, __m512* acc1, const float* a, __m512 w0,
                                   __m512 w1) {
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) {
    const __m512 av = _mm512_set1_ps(a[m * S]);
    acc0[m] = _mm512_fmadd_ps(av, w0, acc0[m]);
    if (kTwo) acc1[m] = _mm512_fmadd_ps(av, w1, acc1[m]);
  }
}

// res_of(m): row m's residual (added before the clamp; a fused residual Add), or null for none.
template <int MR_, bool kTwo, class RowOf, class ResOf>
ONNXRUN_AVX512_INLINE void StoreAcc(__m512* acc0, __m512* acc1, const RowOf& row_of,
                                    const ResOf& res_of, __mmask16 m0, __mmask16 m1, float lo,
                                    float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) {
    float* row = row_of(m);
    if (!row) continue;
    if (const float* r = res_of(m)) {
      acc0[m] = _mm512_add_ps(acc0[m], _mm512_maskz_loadu_ps(m0, r));
      if (kTwo) acc1[m] = _mm512_add_ps(acc1[m], _mm512_maskz_loadu_ps(m1, r + 16));
    }
    _mm512_mask_storeu_ps(row, m0, _mm512_min_ps(_mm512_max_ps(acc0[m], vlo), vhi));
    if (kTwo) _mm512_mask_storeu_ps(row + 16, m1, _mm512_min_ps(_mm512_max_ps(acc1[m], vlo), vhi));
  }
}

// y[m, 0:ncols) = clamp(bias + sum_k a[k*MR_ + m] * w[k*32 + j] (+ r[m, j])) for m < MR_ (r:
// a fused residual, rows rs apart, or null).
// kTwo: 32 columns (two zmm per row); else 16 (the first half of each packed row).
template <int MR_, bool kTwo>
ONNXRUN_AVX512 void Micro(size_t K, const float* __restrict a, const float* __restrict w,
                          const float* bias, float* y, size_t ys, __mmask16 m0, __mmask16 m1,
                          float lo, float hi, const char* pf, size_t pf_step, const float* r,
                          size_t rs) {
  __m512 acc0[MR_], acc1[MR_];
  InitAcc<MR_, kTwo>(acc0, acc1, bias);
  for (size_t k = 0; k < K; ++k) {
    const __m512 w0 = _mm512_load_ps(w);
    const __m512 w1 = kTwo ? _mm512_load_ps(w + 16) : _mm512_setzero_ps();
    w += NR;
    _mm_prefetch(pf, _MM_HINT_T1);  // the next weight panel, into L2 while this one computes
    pf += pf_step;
    FmaStep<MR_, kTwo>(acc0, acc1, a, w0, w1);
    a += MR_;
  }
  StoreAcc<MR_, kTwo>(
      acc0, acc1, [&](int m) { return y + m * ys; },
      [&](int m) { return r ? r + m * rs : nullptr; }, m0, m1, lo, hi);
}

// A 1x1 stride-1 conv's tile read in place: row m of A is pixel m's input row, a + m * as (the
// NHWC input is already the GEMM's row-major A).
// Same arithmetic and prefetch as Micro; no packing, so no pass over the input before the
// arithmetic (1 thread, 96 -> 24 at 56x56: 158 -> 96 us; 256 -> 64: 682 -> 522 us).
template <int MR_, bool kTwo>
ONNXRUN_AVX512 void MicroRows(size_t K, const float* __restrict a, size_t as,
                              const float* __restrict w, const float* bias, float* y, size_t ys,
                              __mmask16 m0, __mmask16 m1, float lo, float hi, const char* pf,
                              size_t pf_step, const float* r, size_t rs) {
  __m512 acc0[MR_], acc1[MR_];
  InitAcc<MR_, kTwo>(acc0, acc1, bias);
  const float* a7 = a + 7 * as;
  for (size_t k = 0; k < K; ++k) {
    const __m512 w0 = _mm512_load_ps(w);
    const __m512 w1 = kTwo ? _mm512_load_ps(w + 16) : _mm512_setzero_ps();
    w += NR;
    _mm_prefetch(pf, _MM_HINT_T1);
    pf += pf_step;
#pragma GCC unroll 14
    for (int m = 0; m < MR_; ++m) {
      const float* row = m < 7 ? a + m * as : a7 + (m - 7) * as;
      const __m512 av = _mm512_set1_ps(row[k]);
      acc0[m] = _mm512_fmadd_ps(av, w0, acc0[m]);
      if (kTwo) acc1[m] = _mm512_fmadd_ps(av, w1, acc1[m]);
    }
  }
  StoreAcc<MR_, kTwo>(
      acc0, acc1, [&](int m) { return y + m * ys; },
      [&](int m) { return r ? r + m * rs : nullptr; }, m0, m1, lo, hi);
}
// Pixel strides of 4 KB multiples put a tile's 14 rows in one L1 set: those convs pack (2 threads,
// 14x14 1024 -> 256: 0.29 ms packed, 0.36 in place; 7x7 2048 -> 512: 0.31 / 0.34; 512 -> 128 at
// 28x28, 2 KB apart, is ahead in place: 0.36 / 0.27).
bool InPlaceStride(size_t xs) { return xs % 1024 != 0; }

using MicroRowsFn = void (*)(size_t, const float*, size_t, const float*, const float*, float*,
                             size_t, __mmask16, __mmask16, float, float, const char*, size_t,
                             const float*, size_t);
template <int MR_, bool kTwo>
struct RowsMicro {
  static constexpr MicroRowsFn fn = &MicroRows<MR_, kTwo>;
};

using MicroFn = void (*)(size_t, const float*, const float*, const float*, float*, size_t,
                         __mmask16, __mmask16, float, float, const char*, size_t, const float*,
                         size_t);

// f[kTwo][MR_ - 1]: a microkernel's instantiations for every tile height.
template <class Fn>
struct MicroTable {
  Fn f[2][MR];
};
template <template <int, bool> class K, int... I>
constexpr auto MakeTable(std::integer_sequence<int, I...>) {
  return MicroTable<std::remove_const_t<decltype(K<1, false>::fn)>>{
      {{K<I + 1, false>::fn...}, {K<I + 1, true>::fn...}}};
}
template <int MR_, bool kTwo>
struct PackedMicro {
  static constexpr MicroFn fn = &Micro<MR_, kTwo>;
};
constexpr auto kMicro = MakeTable<PackedMicro>(std::make_integer_sequence<int, MR>{});
constexpr auto kMicroRows = MakeTable<RowsMicro>(std::make_integer_sequence<int, MR>{});

// Direct mode: a reads a planar zero-padded copy of the input (channel c at a + c * cs), so the
// MR_ consecutive output pixels of a tile read MR_ floats S apart (S = stride_w) at every tap:
// one pointer, constant displacements, no im2col. Weights are packed [c][tap][32].
//   y[m] = clamp(bias + sum_c sum_t a[c * cs + toff[t] + m * S] * w[(c * taps + t) * 32 + j])
// yr[m] is the output row of pixel m, or null for a pixel of the padded grid that is not an
// output (the columns past out_w of each padded row).
template <int MR_, bool kTwo, int S>
ONNXRUN_AVX512 void MicroDirect(size_t C, size_t taps, const ptrdiff_t* toff, const float* a,
                                size_t cs, const float* __restrict w, const float* bias,
                                float* const* yr, const float* const* rr, __mmask16 m0,
                                __mmask16 m1, float lo, float hi) {
  __m512 acc0[MR_], acc1[MR_];
  InitAcc<MR_, kTwo>(acc0, acc1, bias);
  for (size_t c = 0; c < C; ++c, a += cs) {
    for (size_t t = 0; t < taps; ++t) {
      const float* at = a + toff[t];
      const __m512 w0 = _mm512_load_ps(w);
      const __m512 w1 = kTwo ? _mm512_load_ps(w + 16) : _mm512_setzero_ps();
      w += NR;
      FmaStep<MR_, kTwo, S>(acc0, acc1, at, w0, w1);
    }
  }
  StoreAcc<MR_, kTwo>(
      acc0, acc1, [&](int m) { return yr[m]; }, [&](int m) { return rr ? rr[m] : nullptr; }, m0, m1,
      lo, hi);
}

using MicroDirectFn = void (*)(size_t, size_t, const ptrdiff_t*, const float*, size_t, const float*,
                               const float*, float* const*, const float* const*, __mmask16,
                               __mmask16, float, float);

template <int MR_, bool kTwo>
struct DirectMicro1 {
  static constexpr MicroDirectFn fn = &MicroDirect<MR_, kTwo, 1>;
};
template <int MR_, bool kTwo>
struct DirectMicro2 {
  static constexpr MicroDirectFn fn = &MicroDirect<MR_, kTwo, 2>;
};
// [stride_w - 1]
constexpr MicroTable<MicroDirectFn> kMicroDirect[2] = {
    MakeTable<DirectMicro1>(std::make_integer_sequence<int, MR>{}),
    MakeTable<DirectMicro2>(std::make_integer_sequence<int, MR>{})};

// TransposeRows on the active ISA's code (avx2: AVX2+FMA, else AVX-512).
void TransposeRowsOn(bool avx2, const float* const* rows, size_t mr, size_t C, float* dst,
                     const InputTransform& tf = {}, size_t ds = 0, uint32_t pad = 0) {
  if (ds == 0) ds = mr;
  if (avx2)
    avx2::TransposeRows(rows, mr, C, dst, ds, pad, tf.scale, tf.bias, tf.lo, tf.hi);
  else
    TransposeRows(rows, mr, C, dst, tf, ds, pad);
}

// Run's scratch, from the caller: packed mode, one pack slot per concurrently running task
// (slot_floats_ each, claimed through `busy` for the length of a task); direct mode, the planar
// padded copy of one image.
constexpr size_t kMaxSlots = 64;

}  // namespace

struct ConvGemm::RunArgs {
  const ConvGemm* self;
  const float* x;
  size_t xs;
  float* y;
  size_t ys;
  bool span;  // x rows are contiguous across kx (x pixel stride == in_c, dil_w == 1)
  const float* planar = nullptr;      // direct mode: the planar padded copy of image x
  float* scratch = nullptr;           // packed mode: slots_ pack slots of slot_floats_
  std::atomic<bool>* busy = nullptr;  // [slots_]: a task holds the slot
  const float* r = nullptr;           // residual added before the clamp (null: none)
  size_t rs = 0;                      // its pixel stride
};

// The residual is read in 32-column strips a pixel stride apart, no stream the hardware
// prefetchers follow: a tile prefetches the residual rows of the tile two ahead (a ResNet
// bottleneck's block input comes from L3 or memory).
void ConvGemm::PrefetchResidual(const RunArgs& a, size_t p0, size_t n, size_t cols) const {
  if (p0 >= pixels_) return;
  const size_t rows = std::min(tile_mr_, pixels_ - p0);
  const char* r = reinterpret_cast<const char*>(a.r + p0 * a.rs + n * NR);
  for (size_t m = 0; m < rows; ++m) {
    _mm_prefetch(r + m * a.rs * sizeof(float), _MM_HINT_T0);
    if (cols > 16) _mm_prefetch(r + m * a.rs * sizeof(float) + 64, _MM_HINT_T0);
  }
}

ConvGemm::ConvGemm() = default;
ConvGemm::~ConvGemm() = default;

bool ConvGemm::Supported() { return ActiveIsa() >= Isa::kAvx2; }

size_t ConvGemm::ScratchFloats(const ConvGemmParams& p, size_t max_threads) {
  ConvGemm g;
  g.Configure(p, max_threads);
  return g.scratch_floats();
}

size_t ConvGemm::scratch_floats() const {
  if (tiles_ == 0 || panels_ == 0) return 0;
  return direct_ ? planar_floats_ : shared_a_floats_ + slots_ * slot_floats_;
}

struct ConvGemm::PackedWeights {
  Buffer w, bias, zeros;
};

std::string ConvGemm::PackKey(const ConvGemmParams& p) {
  const bool direct = ResolveMode(p) == ConvGemmMode::kDirect;
  return "conv_gemm:" + std::to_string(p.out_c) + "x" + std::to_string(p.in_c) + "x" +
         std::to_string(p.kh) + "x" + std::to_string(p.kw) + (direct ? ":direct" : ":packed");
}

std::shared_ptr<const ConvGemm::PackedWeights> ConvGemm::Pack(const ConvGemmParams& p,
                                                              const float* weights,
                                                              const float* bias) {
  const bool direct = ResolveMode(p) == ConvGemmMode::kDirect;
  const size_t taps = p.kh * p.kw, K = taps * p.in_c, panels = (p.out_c + NR - 1) / NR;
  auto packed = std::make_shared<PackedWeights>();
  packed->w = Alloc(panels * K * NR);
  float* w = packed->w.get();
  std::memset(w, 0, panels * K * NR * sizeof(float));
  for (size_t o = 0; o < p.out_c; ++o) {
    float* dp = w + (o / NR) * K * NR + (o % NR);
    const float* so = weights + o * K;  // [in_c][kh][kw]
    for (size_t c = 0; c < p.in_c; ++c)
      for (size_t t = 0; t < taps; ++t)
        dp[(direct ? c * taps + t : t * p.in_c + c) * NR] = so[c * taps + t];
  }
  packed->bias = Alloc(panels * NR);
  std::memset(packed->bias.get(), 0, panels * NR * sizeof(float));
  if (bias) std::memcpy(packed->bias.get(), bias, p.out_c * sizeof(float));
  const size_t row = p.kw * p.in_c;  // >= in_c: direct mode reads in_c zeros for a pad column
  packed->zeros = Alloc(row + 16);
  std::memset(packed->zeros.get(), 0, (row + 16) * sizeof(float));
  return packed;
}

void ConvGemm::Init(const ConvGemmParams& p, std::shared_ptr<const PackedWeights> packed,
                    size_t max_threads) {
  Configure(p, max_threads);
  packed_ = std::move(packed);
  w_ = packed_->w.get();
  bias_ = packed_->bias.get();
  zeros_ = packed_->zeros.get();
}

void ConvGemm::Configure(const ConvGemmParams& p, size_t max_threads) {
  p_ = p;
  avx2_ = ResolveIsa(p.isa) == Isa::kAvx2;
  const size_t taps = p.kh * p.kw;
  K_ = taps * p.in_c;
  panels_ = (p.out_c + NR - 1) / NR;
  pixels_ = p.n * p.out_h * p.out_w;
  tiles_ = (pixels_ + MR - 1) / MR;
  // Packed mode: the pixels split evenly over the tiles (169 = 13 x 13, not 12 x 14 + 1): the
  // last tile's microkernel call streams a whole panel whatever its height. Each pixel's sum is
  // the same whatever tile it falls in.
  tile_mr_ = tiles_ ? (pixels_ + tiles_ - 1) / tiles_ : MR;
  one_by_one_ = p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
                p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
  max_threads = std::max<size_t>(1, std::min<size_t>(max_threads, kMaxSlots));
  direct_ = ResolveMode(p) == ConvGemmMode::kDirect;
  rows_in_place_ = one_by_one_ && !direct_ && !avx2_ && !p.input_transform && InPlaceStride(p.in_c);
  if (direct_) {
    // The padded grid is rh_ x rw_ per channel. Two layouts of the planar copy:
    // - by rows, [py][c][px]: a tile is up to MR pixels of one output row (no dropped work when
    //   out_w is a multiple of MR; each tile reads kh contiguous blocks, prefetch friendly);
    // - flat, [c][py * rw_ + px]: output (oy, ox) is grid position j = oy * rw_ + ox and a tile
    //   is MR consecutive positions, rows included; positions with ox >= out_w are computed and
    //   dropped (better for narrow images: 7 px rows would fill half a tile).
    //   (flat needs stride 1; by rows takes stride_w 1 or 2, any stride_h.)
    // Tap (ky, kx) reads the tile's start + toff_[tap].
    rw_ = (p.out_w - 1) * p.stride_w + (p.kw - 1) * p.dil_w + 1;
    rh_ = (p.out_h - 1) * p.stride_h + (p.kh - 1) * p.dil_h + 1;
    grid_ = (p.out_h - 1) * rw_ + p.out_w;
    const size_t row_tiles = (p.out_w + MR - 1) / MR;
    DirectEfficiency(p, &by_rows_);
    if (by_rows_) {
      tiles_ = p.out_h * row_tiles;  // per image
      c_stride_ = rw_;
      row_stride_ = p.in_c * rw_;
      planar_floats_ = rh_ * row_stride_;
    } else {
      tiles_ = (grid_ + MR - 1) / MR;
      c_stride_ = (rh_ * rw_ + MR + 15) / 16 * 16;  // slack: the last tile reads past the grid
      if (c_stride_ % 1024 == 0) c_stride_ += 16;   // keep channel planes off 4 KiB aliasing
      row_stride_ = rw_;
      planar_floats_ = p.in_c * c_stride_;
    }
    toff_.clear();
    for (size_t ky = 0; ky < p.kh; ++ky)
      for (size_t kx = 0; kx < p.kw; ++kx)
        toff_.push_back((ptrdiff_t)(ky * p.dil_h * row_stride_ + kx * p.dil_w));
  }

  // Task shape: tasks = (blocks of block_tiles_ M tiles) x (groups of group_panels_ N panels).
  // A task packs its A tiles once (L2 resident: <= kABlockBytes unless a single tile) and streams
  // its panels once. Cost model, in units of K cycles: a 14x32 tile-panel computes in ~14, packing
  // a tile ~4, streaming a panel from L3 ~6 (mostly hidden by the prefetch). The threads claim
  // tasks as they go (pthreadpool steals a finished thread's share), so with T > 1 threads the run
  // takes about tasks x task / T plus the tail of the last task: two vCPUs of unequal speed
  // (hyperthread siblings, a busy neighbour) finish together only when tasks are small against the
  // run. Picks the cheapest shape (1 thread: the biggest A blocks). Direct mode packs nothing; a
  // tile reads ~MR * in_c floats of the planar copy; nor do 1x1 convs that read their rows in
  // place (their slots still hold a block, for an input transform set against p.input_transform).
  //
  // Packed mode at T > 1 may instead pack every tile once, all threads together, into one A the
  // tasks share (when it fits kSharedABytes): tasks then pack nothing, at the price of a second
  // pass over the pool and A read from L3 rather than from the task's own L2.
  // Splitting the panels then costs no repacking: 7x7 at 512 -> 512 (4 tiles, 16 panels) at 2
  // threads packed each tile 8 times over.
  const size_t tile_bytes = MR * (direct_ ? p.in_c : K_) * sizeof(float);
  const double pack_cost = direct_ || rows_in_place_ ? 0.0 : 4.0;
  const size_t max_bt = std::max<size_t>(1, std::min(tiles_, kABlockBytes / tile_bytes));
  const double T = (double)max_threads;
  double best = 1e300;
  block_tiles_ = max_bt;
  group_panels_ = panels_;
  shared_a_ = false;
  const bool can_share = !direct_ && !rows_in_place_ && max_threads > 1 &&
                         tiles_ * tile_bytes <= kSharedABytes && tiles_ > 0;
  for (int shared = 0; shared <= (can_share ? 1 : 0); ++shared) {
    const size_t b_min = shared ? 1 : (tiles_ + max_bt - 1) / max_bt;
    // Shared: a tile-panel reads its A from L3 (~2 more), and the packing pass costs a second
    // dispatch to the pool (~20k cycles).
    const double pack = shared ? 2.0 : pack_cost;
    const double phase1 =
        shared ? (double)tiles_ * pack_cost / T + pack_cost + 20000.0 / (double)K_ : 0.0;
    for (size_t b = b_min; b <= std::min(tiles_, std::max(b_min, 8 * max_threads)); ++b) {
      const size_t bt = (tiles_ + b - 1) / b;
      if ((tiles_ + bt - 1) / bt != b) continue;  // not a distinct split
      for (size_t g = 1; g <= panels_; ++g) {
        const size_t gp = (panels_ + g - 1) / g;
        if ((panels_ + gp - 1) / gp != g) continue;
        const double task = 14.0 * bt * gp + pack * bt + 6.0 * gp;
        const double cost = phase1 + (max_threads == 1 ? (double)(b * g) * task
                                                       : (double)(b * g) * task / T + task);
        if (cost < best * 0.999)
          best = cost, block_tiles_ = bt, group_panels_ = gp, shared_a_ = shared;
      }
    }
  }
  blocks_ = (tiles_ + block_tiles_ - 1) / block_tiles_;
  groups_ = (panels_ + group_panels_ - 1) / group_panels_;
  if (blocks_ * groups_ == 1) shared_a_ = false;

  if (direct_) return;
  a_floats_ = shared_a_ ? 0 : block_tiles_ * MR * K_;
  shared_a_floats_ = shared_a_ ? tiles_ * MR * K_ : 0;
  const size_t row = p.kw * p.in_c;  // PackTile's rowbuf: MR assembled runs of kw * in_c floats
  slot_floats_ = (a_floats_ + MR * row + 16 + 15) / 16 * 16;  // whole cache lines
  slots_ = max_threads;
}

// Useful share of the direct mode's microkernel work, for its better layout (by_rows: see Init):
// flat drops the padded grid's extra columns and part of the last tile; by rows drops part of
// each row's last tile.
double ConvGemm::DirectEfficiency(const ConvGemmParams& p, bool* by_rows) {
  const size_t pixels = p.out_h * p.out_w;
  const double rows = double(pixels) / (double)(p.out_h * ((p.out_w + MR - 1) / MR) * MR);
  double flat = 0;
  if (p.stride_h == 1 && p.stride_w == 1) {
    const size_t grid = (p.out_h - 1) * (p.out_w + (p.kw - 1) * p.dil_w) + p.out_w;
    flat = double(pixels) / (double)((grid + MR - 1) / MR * MR);
  }
  if (by_rows) *by_rows = rows >= flat;
  return std::max(rows, flat);
}

ConvGemmMode ConvGemm::ResolveMode(const ConvGemmParams& p) {
  // Stride 1 1x1 convs read the input as it is: the packed mode's packing is the same transpose.
  const bool can = (p.stride_w == 1 || p.stride_w == 2) &&
                   (p.kh * p.kw > 1 || p.stride_h * p.stride_w > 1) && p.out_h > 0 && p.out_w > 0;
  if (!can || p.mode == ConvGemmMode::kPacked) return ConvGemmMode::kPacked;
  if (p.mode == ConvGemmMode::kDirect) return ConvGemmMode::kDirect;
  // Useful share of the microkernel's work. Packed: partial last tile, and packing a tile costs
  // about 4/14 of one panel's arithmetic on it. Direct: the padded grid's dropped columns and
  // partial last tile. Measured (1 thread, GFLOP/s packed -> direct): DenseNet's 3x3 128->32 at
  // 56/28/14/7 px 100->129, 104->120, 118->130, 118->94; ResNet's 64->64 at 56 px 136->151,
  // 128->128 at 28 px 139->132, 256->256 at 14 px 158->143; VGG's 64->64 at 112 px 132->154.
  const size_t panels = (p.out_c + NR - 1) / NR;
  const size_t pixels = p.out_h * p.out_w;
  const double direct = DirectEfficiency(p, nullptr);
  const double packed =
      double(pixels) / (double)((pixels + MR - 1) / MR * MR) / (1.0 + 4.0 / (14.0 * panels));
  return direct > 1.03 * packed ? ConvGemmMode::kDirect : ConvGemmMode::kPacked;
}

bool ConvGemm::TakesInputTransform(const ConvGemmParams& p) {
  if (ResolveMode(p) == ConvGemmMode::kDirect) return true;
  return p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
         p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
}

void ConvGemm::SetInputTransform(const float* scale, const float* bias, float lo, float hi) {
  in_scale_ = Alloc(p_.in_c + 16);
  in_bias_ = Alloc(p_.in_c + 16);
  std::memcpy(in_scale_.get(), scale, p_.in_c * sizeof(float));
  std::memcpy(in_bias_.get(), bias, p_.in_c * sizeof(float));
  in_lo_ = lo;
  in_hi_ = hi;
}

// Packs output pixels [p0, p0 + mr) as A[K][mr].
void ConvGemm::PackTile(const RunArgs& a, size_t p0, size_t mr, float* dst, float* rowbuf) const {
  const ConvGemmParams& p = p_;
  const float* rows[MR];
  size_t b[MR], oy[MR], ox[MR];
  for (size_t m = 0; m < mr; ++m) {
    const size_t q = p0 + m;
    ox[m] = q % p.out_w;
    oy[m] = (q / p.out_w) % p.out_h;
    b[m] = q / (p.out_w * p.out_h);
  }
  const float* zeros = zeros_;
  if (one_by_one_) {
    for (size_t m = 0; m < mr; ++m) rows[m] = a.x + (p0 + m) * a.xs;
    InputTransform tf;
    if (in_scale_) tf = {in_scale_.get(), in_bias_.get(), in_lo_, in_hi_};
    TransposeRowsOn(avx2_, rows, mr, p.in_c, dst, tf);
    return;
  }
  const size_t row = p.kw * p.in_c;
  for (size_t ky = 0; ky < p.kh; ++ky) {
    if (a.span) {
      // One run of kw * in_c floats per pixel; partly padded runs are assembled in rowbuf.
      for (size_t m = 0; m < mr; ++m) {
        const ptrdiff_t iy = (ptrdiff_t)(oy[m] * p.stride_h + ky * p.dil_h) - (ptrdiff_t)p.pad_top;
        if (iy < 0 || iy >= (ptrdiff_t)p.in_h) {
          rows[m] = zeros;
          continue;
        }
        const ptrdiff_t ix0 = (ptrdiff_t)(ox[m] * p.stride_w) - (ptrdiff_t)p.pad_left;
        const float* src = a.x + ((b[m] * p.in_h + iy) * p.in_w) * a.xs;
        if (ix0 >= 0 && ix0 + (ptrdiff_t)p.kw <= (ptrdiff_t)p.in_w) {
          rows[m] = src + ix0 * a.xs;
          continue;
        }
        float* r = rowbuf + m * row;
        for (size_t kx = 0; kx < p.kw; ++kx) {
          const ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
          if (ix < 0 || ix >= (ptrdiff_t)p.in_w)
            std::memset(r + kx * p.in_c, 0, p.in_c * sizeof(float));
          else
            std::memcpy(r + kx * p.in_c, src + ix * a.xs, p.in_c * sizeof(float));
        }
        rows[m] = r;
      }
      TransposeRowsOn(avx2_, rows, mr, row, dst + ky * row * mr);
    } else {
      for (size_t kx = 0; kx < p.kw; ++kx) {
        for (size_t m = 0; m < mr; ++m) {
          const ptrdiff_t iy =
              (ptrdiff_t)(oy[m] * p.stride_h + ky * p.dil_h) - (ptrdiff_t)p.pad_top;
          const ptrdiff_t ix =
              (ptrdiff_t)(ox[m] * p.stride_w + kx * p.dil_w) - (ptrdiff_t)p.pad_left;
          rows[m] = (iy < 0 || iy >= (ptrdiff_t)p.in_h || ix < 0 || ix >= (ptrdiff_t)p.in_w)
                        ? zeros
                        : a.x + ((b[m] * p.in_h + iy) * p.in_w + ix) * a.xs;
        }
        TransposeRowsOn(avx2_, rows, mr, p.in_c, dst + (ky * p.kw + kx) * p.in_c * mr);
      }
    }
  }
}

ConvGemm::Panel ConvGemm::PanelOf(size_t n) const {
  Panel pn;
  pn.cols = std::min(NR, p_.out_c - n * NR);
  pn.m0 = (uint16_t)(pn.cols >= 16 ? 0xFFFF : (1u << pn.cols) - 1);
  pn.m1 = (uint16_t)(pn.cols >= 32 ? 0xFFFF : pn.cols > 16 ? (1u << (pn.cols - 16)) - 1 : 0);
  pn.w = w_ + n * K_ * NR;
  pn.bias = bias_ + n * NR;
  return pn;
}

void ConvGemm::Task(const RunArgs& a, size_t block, size_t group) const {
  if (direct_) return DirectTask(a, block, group);
  const size_t t0 = block * block_tiles_, t1 = std::min(tiles_, t0 + block_tiles_);
  size_t slot = 0;       // unless shared, the task packs its block into a pack slot of its own
  const float* scratch;  // the block's packed tiles
  float* own = nullptr;  // not shared: the slot, each tile packed just before its first panel
  float* rowbuf = nullptr;
  // 1x1 stride-1 without an input transform: the microkernel reads the input rows in place.
  const bool in_place = rows_in_place_ && !in_scale_ && InPlaceStride(a.xs);
  if (in_place) {
    scratch = nullptr;
  } else if (shared_a_) {
    scratch = a.scratch + t0 * MR * K_;
  } else {
    slot = detail::ClaimSlot(a.busy, slots_);
    own = a.scratch + slot * slot_floats_;
    rowbuf = own + a_floats_;
    scratch = own;
  }
  const size_t n0 = group * group_panels_, n1 = std::min(panels_, n0 + group_panels_);
  for (size_t n = n0; n < n1; ++n) {
    const Panel pn = PanelOf(n);
    const size_t cols = pn.cols;
    const __mmask16 m0 = pn.m0, m1 = pn.m1;
    const float* w = pn.w;
    const float* bias = pn.bias;
    // Each tile's kernel prefetches its share of the next panel (one line per k step) -- also
    // past the group's end: the panel after a task's last is the first of the task its thread most
    // likely runs next (pthreadpool hands each thread a contiguous range of tasks, stealing only at
    // the end), so a task of one panel (2 threads, shared A) does not start on a cold stream.
    // Measured at 2 threads: ResNet-50 -4%, ResNet-152 -4%, 7x7 2048 -> 512 1x1 conv -13%.
    const size_t panel_bytes = K_ * NR * sizeof(float), nt = t1 - t0;
    const char* next = reinterpret_cast<const char*>(n + 1 < panels_ ? w + K_ * NR : w);
    const size_t share = (panel_bytes + nt - 1) / nt;
    const size_t step = std::max<size_t>(1, (share + 64 * K_ - 1) / (64 * K_)) * 64;
    for (size_t t = t0; t < t1; ++t) {
      const size_t p0 = t * tile_mr_, mr = std::min(tile_mr_, pixels_ - p0);
      float* y = a.y + p0 * a.ys + n * NR;
      const float* r = a.r ? a.r + p0 * a.rs + n * NR : nullptr;
      if (in_place) {
        kMicroRows.f[cols > 16][mr - 1](K_, a.x + p0 * a.xs, a.xs, w, bias, y, a.ys, m0, m1, p_.lo,
                                        p_.hi, next + std::min(panel_bytes - 64, (t - t0) * share),
                                        step, r, a.rs);
        continue;
      }
      if (own && n == n0) {
        // Packing tile t reads its input from memory; the tile two ahead is prefetched now so
        // that those reads overlap this tile's arithmetic instead of stalling the packing.
        if (t + 2 < t1) PrefetchInput(a, (t + 2) * tile_mr_);
        PackTile(a, p0, mr, own + (t - t0) * MR * K_, rowbuf);
      }
      if (r) PrefetchResidual(a, p0 + 2 * tile_mr_, n, cols);
      if (avx2_) {
        // The AVX2 tile stores unclamped when there is a residual; avx2::AddResidual clamps (the
        // AVX-512 microkernels add it to their accumulators: reading back a masked store stalls).
        avx2::GemmTile(K_, scratch + (t - t0) * MR * K_, mr, w, bias, y, a.ys, m0, m1,
                       r ? -__builtin_inff() : p_.lo, r ? __builtin_inff() : p_.hi);
        if (r) {
          for (size_t m = 0; m < mr; ++m)
            avx2::AddResidual(y + m * a.ys, r + m * a.rs, cols, p_.lo, p_.hi);
        }
        continue;
      }
      kMicro.f[cols > 16][mr - 1](K_, scratch + (t - t0) * MR * K_, w, bias, y, a.ys, m0, m1, p_.lo,
                                  p_.hi, next + std::min(panel_bytes - 64, (t - t0) * share), step,
                                  r, a.rs);
    }
  }
  if (!shared_a_) detail::ReleaseSlot(a.busy, slot);
}

void ConvGemm::PrefetchInput(const RunArgs& a, size_t p0) const {
  if (!one_by_one_ || p0 >= pixels_) return;
  const size_t mr = std::min(tile_mr_, pixels_ - p0), bytes = p_.in_c * sizeof(float);
  for (size_t m = 0; m < mr; ++m) {
    const char* row = reinterpret_cast<const char*>(a.x + (p0 + m) * a.xs);
    for (size_t b = 0; b < bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
  }
}

void ConvGemm::PackSharedTile(const RunArgs& a, size_t t) const {
  const size_t slot = detail::ClaimSlot(a.busy, slots_);
  const size_t p0 = t * tile_mr_, mr = std::min(tile_mr_, pixels_ - p0);
  PackTile(a, p0, mr, a.scratch + t * MR * K_, a.scratch + shared_a_floats_ + slot * slot_floats_);
  detail::ReleaseSlot(a.busy, slot);
}

// Direct mode: row py of the padded grid, every channel plane, in 16-column transposes: the
// input row (input-transformed) where it lies, zeros where the grid pads; the last row also
// covers the planes' slack (read only for dropped outputs, zeroed to keep it finite).
void ConvGemm::PackPlanarRow(const float* x, size_t xs, size_t py, float* planar) const {
  const ConvGemmParams& p = p_;
  const ptrdiff_t iy = (ptrdiff_t)py - (ptrdiff_t)p.pad_top;
  const size_t left = std::min(p.pad_left, rw_);
  const size_t cols = (iy < 0 || iy >= (ptrdiff_t)p.in_h) ? 0 : std::min(p.in_w, rw_ - left);
  const size_t width = !by_rows_ && py + 1 == rh_ ? c_stride_ - py * rw_ : rw_;
  InputTransform tf;
  if (in_scale_) tf = {in_scale_.get(), in_bias_.get(), in_lo_, in_hi_};
  const float* src = x + (size_t)std::max<ptrdiff_t>(iy, 0) * p.in_w * xs;
  const float* rows[16];
  for (size_t x0 = 0; x0 < width; x0 += 16) {
    const size_t cnt = std::min<size_t>(16, width - x0);
    if (xs <= 4 && !avx2_) {
      // Grid columns [x0, x0 + cnt): the real ones are input columns from x0 - left on.
      const size_t a = std::clamp(left, x0, x0 + cnt), b = std::clamp(left + cols, a, x0 + cnt);
      DeinterleaveColumns(src, (ptrdiff_t)x0 - (ptrdiff_t)left, xs, cnt, p.in_c,
                          planar + py * row_stride_ + x0, c_stride_, a - x0, b - x0, tf);
      continue;
    }
    uint32_t pad = 0;
    for (size_t m = 0; m < cnt; ++m) {
      const size_t col = x0 + m;
      const bool real = col >= left && col < left + cols;
      rows[m] = real ? src + (col - left) * xs : zeros_;
      pad |= real ? 0u : 1u << m;
    }
    TransposeRowsOn(avx2_, rows, cnt, p.in_c, planar + py * row_stride_ + x0, tf, c_stride_, pad);
  }
}

void ConvGemm::DirectTask(const RunArgs& a, size_t block, size_t group) const {
  const ConvGemmParams& p = p_;
  const size_t t0 = block * block_tiles_, t1 = std::min(tiles_, t0 + block_tiles_);
  const size_t n0 = group * group_panels_, n1 = std::min(panels_, n0 + group_panels_);
  const size_t taps = p.kh * p.kw;
  float* yr[MR];
  const float* rr[MR];  // residual row of each tile row (a fused residual Add)
  size_t px[MR];        // output pixel of each tile row
  for (size_t n = n0; n < n1; ++n) {
    const Panel pn = PanelOf(n);
    for (size_t t = t0; t < t1; ++t) {
      size_t start, mr;
      if (by_rows_) {
        const size_t row_tiles = tiles_ / p.out_h, oy = t / row_tiles, ox0 = (t % row_tiles) * MR;
        mr = std::min(MR, p.out_w - ox0);
        start = oy * p.stride_h * row_stride_ + ox0 * p.stride_w;
        for (size_t m = 0; m < mr; ++m) {
          px[m] = oy * p.out_w + ox0 + m;
          yr[m] = a.y + px[m] * a.ys + n * NR;
        }
      } else {
        start = t * MR;
        mr = std::min(MR, grid_ - start);
        for (size_t m = 0; m < mr; ++m) {
          const size_t oy = (start + m) / rw_, ox = (start + m) % rw_;
          px[m] = oy * p.out_w + ox;
          yr[m] = ox < p.out_w ? a.y + px[m] * a.ys + n * NR : nullptr;
        }
      }
      if (a.r)
        for (size_t m = 0; m < mr; ++m) rr[m] = a.r + px[m] * a.rs + n * NR;
      if (avx2_) {
        // The AVX2 tile stores unclamped when there is a residual; avx2::AddResidual clamps (the
        // AVX-512 microkernels add it to their accumulators: reading back a masked store stalls).
        avx2::DirectTile((int)p.stride_w, p.in_c, taps, toff_.data(), a.planar + start, c_stride_,
                         pn.w, pn.bias, yr, mr, pn.m0, pn.m1, a.r ? -__builtin_inff() : p.lo,
                         a.r ? __builtin_inff() : p.hi);
        if (a.r)
          for (size_t m = 0; m < mr; ++m)
            if (yr[m]) avx2::AddResidual(yr[m], rr[m], pn.cols, p.lo, p.hi);
        continue;
      }
      kMicroDirect[p.stride_w - 1].f[pn.cols > 16][mr - 1](
          p.in_c, taps, toff_.data(), a.planar + start, c_stride_, pn.w, pn.bias, yr,
          a.r ? rr : nullptr, pn.m0, pn.m1, p.lo, p.hi);
    }
  }
}

namespace {
void TaskTrampoline(void* ctx, size_t block, size_t group) {
  const auto* a = static_cast<const ConvGemm::RunArgs*>(ctx);
  a->self->Task(*a, block, group);
}
void PackTrampoline(void* ctx, size_t t) {
  const auto* a = static_cast<const ConvGemm::RunArgs*>(ctx);
  a->self->PackSharedTile(*a, t);
}
void PlanarTrampoline(void* ctx, size_t py) {
  const auto* a = static_cast<const ConvGemm::RunArgs*>(ctx);
  a->self->PackPlanarRow(a->x, a->xs, py, const_cast<float*>(a->planar));
}
}  // namespace

void ConvGemm::Run(const float* x, size_t xs, float* y, size_t ys, pthreadpool_t pool,
                   const float* r, size_t rs) const {
  Buffer scratch = Alloc(scratch_floats());
  Run(x, xs, y, ys, scratch.get(), pool, r, rs);
}

void ConvGemm::Run(const float* x, size_t xs, float* y, size_t ys, float* scratch,
                   pthreadpool_t pool, const float* r, size_t rs) const {
  if (tiles_ == 0 || panels_ == 0) return;
  const bool threaded = pool && pthreadpool_get_threads_count(pool) > 1;
  if (direct_) {
    // One image at a time: the planar copy (one shared buffer) is made, then read by every tile.
    float* planar = scratch;
    for (size_t b = 0; b < p_.n; ++b) {
      RunArgs a{
          this,  x + b * p_.in_h * p_.in_w * xs, xs, y + b * p_.out_h * p_.out_w * ys, ys, false,
          planar};
      a.r = r ? r + b * p_.out_h * p_.out_w * rs : nullptr;
      a.rs = rs;
      if (threaded) {
        pthreadpool_parallelize_1d(pool, &PlanarTrampoline, &a, rh_, 0);
      } else {
        for (size_t py = 0; py < rh_; ++py) PackPlanarRow(a.x, xs, py, planar);
      }
      if (!threaded || blocks_ * groups_ == 1) {
        for (size_t g = 0; g < groups_; ++g)
          for (size_t bl = 0; bl < blocks_; ++bl) DirectTask(a, bl, g);
      } else {
        pthreadpool_parallelize_2d(pool, &TaskTrampoline, &a, blocks_, groups_, 0);
      }
    }
    return;
  }
  std::atomic<bool> busy[kMaxSlots] = {};
  RunArgs a{this, x, xs, y, ys, xs == p_.in_c && p_.dil_w == 1, nullptr, scratch, busy, r, rs};
  if (shared_a_) {
    if (threaded)
      pthreadpool_parallelize_1d(pool, &PackTrampoline, &a, tiles_, 0);
    else
      for (size_t t = 0; t < tiles_; ++t) PackSharedTile(a, t);
  }
  if (!pool || pthreadpool_get_threads_count(pool) <= 1 || blocks_ * groups_ == 1) {
    for (size_t g = 0; g < groups_; ++g)
      for (size_t b = 0; b < blocks_; ++b) Task(a, b, g);
    return;
  }
  pthreadpool_parallelize_2d(pool, &TaskTrampoline, &a, blocks_, groups_, 0);
}

}  // namespace onnxrun::kernels
