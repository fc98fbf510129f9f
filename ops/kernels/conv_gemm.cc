#include "ops/kernels/conv_gemm.h"

#include <cpuinfo.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstdlib>
#include <cstring>

// gcc 12 flags _mm512_undefined_ps() inside the unpack intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace onnxrun::kernels {

namespace {

constexpr size_t MR = ConvGemm::kMR, NR = ConvGemm::kNR;
// Packed A bytes a task aims to keep (L2 resident, reused for every panel of its group; L2 is
// 2 MB per core here). Larger blocks mean fewer passes over the weights (ResNet-50 layer4 at 7x7:
// one block, the weights stream once); measured 512 KB -> 1.5 MB: ResNet-50 convs 60 -> 54 ms.
constexpr size_t kABlockBytes = 1536 * 1024;

#define ONNXRUN_AVX512 __attribute__((target("avx512f")))

// y[m, 0:ncols) = clamp(bias + sum_k a[k*MR_ + m] * w[k*32 + j]) for m < MR_.
// kTwo: 32 columns (two zmm per row); else 16 (the first half of each packed row).
template <int MR_, bool kTwo>
ONNXRUN_AVX512 void Micro(size_t K, const float* __restrict a, const float* __restrict w,
                          const float* bias, float* y, size_t ys, __mmask16 m0, __mmask16 m1,
                          float lo, float hi, const char* pf, size_t pf_step) {
  __m512 acc0[MR_], acc1[MR_];
  const __m512 b0 = _mm512_load_ps(bias);
  const __m512 b1 = kTwo ? _mm512_load_ps(bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) {
    acc0[m] = b0;
    if (kTwo) acc1[m] = b1;
  }
  for (size_t k = 0; k < K; ++k) {
    const __m512 w0 = _mm512_load_ps(w);
    const __m512 w1 = kTwo ? _mm512_load_ps(w + 16) : _mm512_setzero_ps();
    w += NR;
    _mm_prefetch(pf, _MM_HINT_T1);  // the next weight panel, into L2 while this one computes
    pf += pf_step;
#pragma GCC unroll 14
    for (int m = 0; m < MR_; ++m) {
      const __m512 av = _mm512_set1_ps(a[m]);
      acc0[m] = _mm512_fmadd_ps(av, w0, acc0[m]);
      if (kTwo) acc1[m] = _mm512_fmadd_ps(av, w1, acc1[m]);
    }
    a += MR_;
  }
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
#pragma GCC unroll 14
  for (int m = 0; m < MR_; ++m) {
    float* row = y + m * ys;
    _mm512_mask_storeu_ps(row, m0, _mm512_min_ps(_mm512_max_ps(acc0[m], vlo), vhi));
    if (kTwo) _mm512_mask_storeu_ps(row + 16, m1, _mm512_min_ps(_mm512_max_ps(acc1[m], vlo), vhi));
  }
}

using MicroFn = void (*)(size_t, const float*, const float*, const float*, float*, size_t, __mmask16,
                         __mmask16, float, float, const char*, size_t);

template <int... I>
constexpr auto MakeTable(std::integer_sequence<int, I...>) {
  struct T {
    MicroFn f[2][sizeof...(I)];
  };
  return T{{{&Micro<I + 1, false>...}, {&Micro<I + 1, true>...}}};
}
constexpr auto kMicro = MakeTable(std::make_integer_sequence<int, MR>{});

// Per-channel transform applied while packing: clamp(x * scale + bias, lo, hi).
struct InputTransform {
  const float* scale = nullptr;  // null: none
  const float* bias = nullptr;
  float lo = 0, hi = 0;
};

// dst[c * mr + m] = rows[m][c] for c < C, m < mr (mr <= 14): 16x16 transposes in registers.
ONNXRUN_AVX512 void TransposeRows(const float* const* rows, size_t mr, size_t C, float* dst,
                                  const InputTransform& tf = {}) {
  const __mmask16 smask = (__mmask16)((1u << mr) - 1);
  for (size_t c0 = 0; c0 < C; c0 += 16) {
    const size_t cnt = std::min<size_t>(16, C - c0);
    const __mmask16 lmask = (__mmask16)((1u << cnt) - 1);
    __m512 r[16], t[16];
    for (size_t m = 0; m < 16; ++m)
      r[m] = m < mr ? _mm512_maskz_loadu_ps(lmask, rows[m] + c0) : _mm512_setzero_ps();
    if (tf.scale) {
      const __m512 sc = _mm512_maskz_loadu_ps(lmask, tf.scale + c0);
      const __m512 bi = _mm512_maskz_loadu_ps(lmask, tf.bias + c0);
      const __m512 lo = _mm512_set1_ps(tf.lo), hi = _mm512_set1_ps(tf.hi);
      for (size_t m = 0; m < mr; ++m)
        r[m] = _mm512_min_ps(_mm512_max_ps(_mm512_fmadd_ps(r[m], sc, bi), lo), hi);
    }
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
      const int b = 4 * i;
      r[b + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[b]), _mm512_castps_pd(t[b + 2])));
      r[b + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[b]), _mm512_castps_pd(t[b + 2])));
      r[b + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[b + 1]), _mm512_castps_pd(t[b + 3])));
      r[b + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[b + 1]), _mm512_castps_pd(t[b + 3])));
    }
    // r[4i + j] lane l holds rows 4i..4i+3 of column 4l + j.
    for (int j = 0; j < 4; ++j) {
      const __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);
      const __m512 b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
      const __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
      const __m512 d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
      t[j] = _mm512_shuffle_f32x4(a, c, 0x88);
      t[4 + j] = _mm512_shuffle_f32x4(a, c, 0xDD);
      t[8 + j] = _mm512_shuffle_f32x4(b, d, 0x88);
      t[12 + j] = _mm512_shuffle_f32x4(b, d, 0xDD);
    }
    float* out = dst + c0 * mr;
    for (size_t j = 0; j < cnt; ++j) _mm512_mask_storeu_ps(out + j * mr, smask, t[j]);
  }
}

// Process-wide scratch buffers (packed A blocks), one per concurrently running task: all the
// ConvGemms of all sessions share them, so the memory is that of the biggest block x threads.
constexpr size_t kSlots = 64;
struct ScratchSlot {
  std::atomic<bool> busy{false};
  float* data = nullptr;
  size_t floats = 0;
};
ScratchSlot g_scratch[kSlots];

float* AllocRaw(size_t floats) {
  const size_t bytes = ((std::max<size_t>(floats, 16) * sizeof(float)) + 63) / 64 * 64;
  return static_cast<float*>(std::aligned_alloc(64, bytes));
}

// Grows slots [0, n) to `floats` (waits for a slot a running task holds).
void ReserveScratch(size_t n, size_t floats) {
  for (size_t i = 0; i < std::min(n, kSlots); ++i) {
    ScratchSlot& sl = g_scratch[i];
    while (sl.busy.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
    if (sl.floats < floats) {
      std::free(sl.data);
      sl.data = AllocRaw(floats);
      sl.floats = floats;
    }
    sl.busy.store(false, std::memory_order_release);
  }
}

}  // namespace

struct ConvGemm::RunArgs {
  const ConvGemm* self;
  const float* x;
  size_t xs;
  float* y;
  size_t ys;
  bool span;  // x rows are contiguous across kx (x pixel stride == in_c, dil_w == 1)
};

void ConvGemm::AlignedFree::operator()(float* p) const { std::free(p); }

ConvGemm::Buffer ConvGemm::Alloc(size_t floats) {
  const size_t bytes = ((std::max<size_t>(floats, 16) * sizeof(float)) + 63) / 64 * 64;
  return Buffer(static_cast<float*>(std::aligned_alloc(64, bytes)));
}

ConvGemm::ConvGemm() = default;
ConvGemm::~ConvGemm() = default;

bool ConvGemm::Supported() {
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx512f();
  return ok;
}

void ConvGemm::Init(const ConvGemmParams& p, const float* weights, const float* bias, size_t max_threads) {
  p_ = p;
  const size_t taps = p.kh * p.kw;
  K_ = taps * p.in_c;
  panels_ = (p.out_c + NR - 1) / NR;
  pixels_ = p.n * p.out_h * p.out_w;
  tiles_ = (pixels_ + MR - 1) / MR;
  max_threads = std::max<size_t>(1, std::min<size_t>(max_threads, 64));

  w_ = Alloc(panels_ * K_ * NR);
  std::memset(w_.get(), 0, panels_ * K_ * NR * sizeof(float));
  for (size_t o = 0; o < p.out_c; ++o) {
    float* dp = w_.get() + (o / NR) * K_ * NR + (o % NR);
    const float* so = weights + o * K_;  // [in_c][kh][kw]
    for (size_t c = 0; c < p.in_c; ++c)
      for (size_t t = 0; t < taps; ++t) dp[(t * p.in_c + c) * NR] = so[c * taps + t];
  }
  bias_ = Alloc(panels_ * NR);
  std::memset(bias_.get(), 0, panels_ * NR * sizeof(float));
  if (bias) std::memcpy(bias_.get(), bias, p.out_c * sizeof(float));
  const size_t row = p.kw * p.in_c;
  zeros_ = Alloc(row + 16);
  std::memset(zeros_.get(), 0, (row + 16) * sizeof(float));

  // Task shape: tasks = (blocks of block_tiles_ M tiles) x (groups of group_panels_ N panels).
  // A task packs its A tiles once (L2 resident: <= kABlockBytes unless a single tile) and streams
  // its panels once. Cost model, in units of K cycles: a 14x32 tile-panel computes in ~14, packing
  // a tile ~4, streaming a panel from L3 ~6 (mostly hidden by the prefetch); the tasks run
  // ceil(tasks / threads) rounds. Picks the cheapest shape (1 thread: the biggest A blocks).
  const size_t tile_bytes = MR * K_ * sizeof(float);
  const size_t max_bt = std::max<size_t>(1, std::min(tiles_, kABlockBytes / tile_bytes));
  double best = 1e300;
  block_tiles_ = max_bt;
  group_panels_ = panels_;
  const size_t b_min = (tiles_ + max_bt - 1) / max_bt;
  for (size_t b = b_min; b <= std::min(tiles_, std::max(b_min, 8 * max_threads)); ++b) {
    const size_t bt = (tiles_ + b - 1) / b;
    if ((tiles_ + bt - 1) / bt != b) continue;  // not a distinct split
    for (size_t g = 1; g <= panels_; ++g) {
      const size_t gp = (panels_ + g - 1) / g;
      if ((panels_ + gp - 1) / gp != g) continue;
      const size_t rounds = (b * g + max_threads - 1) / max_threads;
      const double cost = (double)rounds * (14.0 * bt * gp + 4.0 * bt + 6.0 * gp);
      if (cost < best * 0.999) best = cost, block_tiles_ = bt, group_panels_ = gp;
    }
  }
  blocks_ = (tiles_ + block_tiles_ - 1) / block_tiles_;
  groups_ = (panels_ + group_panels_ - 1) / group_panels_;

  a_floats_ = block_tiles_ * MR * K_;
  scratch_floats_ = a_floats_ + MR * row + 16;
  ReserveScratch(max_threads, scratch_floats_);
}

bool ConvGemm::TakesInputTransform(const ConvGemmParams& p) {
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

float* ConvGemm::AcquireScratch(size_t* slot) const {
  for (;;) {
    for (size_t i = 0; i < kSlots; ++i) {
      ScratchSlot& sl = g_scratch[i];
      if (sl.busy.load(std::memory_order_relaxed) || sl.busy.exchange(true, std::memory_order_acquire))
        continue;
      if (sl.floats < scratch_floats_) {  // only when more tasks run at once than reserved for
        std::free(sl.data);
        sl.data = AllocRaw(scratch_floats_);
        sl.floats = scratch_floats_;
      }
      *slot = i;
      return sl.data;
    }
  }
}

void ConvGemm::ReleaseScratch(size_t slot) const { g_scratch[slot].busy.store(false, std::memory_order_release); }

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
  const float* zeros = zeros_.get();
  if (p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
      p.pad_left == 0 && p.out_h == p.in_h && p.out_w == p.in_w) {
    for (size_t m = 0; m < mr; ++m) rows[m] = a.x + (p0 + m) * a.xs;
    InputTransform tf;
    if (in_scale_) tf = {in_scale_.get(), in_bias_.get(), in_lo_, in_hi_};
    TransposeRows(rows, mr, p.in_c, dst, tf);
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
      TransposeRows(rows, mr, row, dst + ky * row * mr);
    } else {
      for (size_t kx = 0; kx < p.kw; ++kx) {
        for (size_t m = 0; m < mr; ++m) {
          const ptrdiff_t iy = (ptrdiff_t)(oy[m] * p.stride_h + ky * p.dil_h) - (ptrdiff_t)p.pad_top;
          const ptrdiff_t ix = (ptrdiff_t)(ox[m] * p.stride_w + kx * p.dil_w) - (ptrdiff_t)p.pad_left;
          rows[m] = (iy < 0 || iy >= (ptrdiff_t)p.in_h || ix < 0 || ix >= (ptrdiff_t)p.in_w)
                        ? zeros
                        : a.x + ((b[m] * p.in_h + iy) * p.in_w + ix) * a.xs;
        }
        TransposeRows(rows, mr, p.in_c, dst + (ky * p.kw + kx) * p.in_c * mr);
      }
    }
  }
}

void ConvGemm::Task(const RunArgs& a, size_t block, size_t group) const {
  size_t slot;
  float* scratch = AcquireScratch(&slot);
  float* rowbuf = scratch + a_floats_;
  const size_t t0 = block * block_tiles_, t1 = std::min(tiles_, t0 + block_tiles_);
  for (size_t t = t0; t < t1; ++t) {
    const size_t p0 = t * MR, mr = std::min(MR, pixels_ - p0);
    PackTile(a, p0, mr, scratch + (t - t0) * MR * K_, rowbuf);
  }
  const size_t n0 = group * group_panels_, n1 = std::min(panels_, n0 + group_panels_);
  for (size_t n = n0; n < n1; ++n) {
    const size_t cols = std::min(NR, p_.out_c - n * NR);
    const __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xFFFF : (1u << cols) - 1);
    const __mmask16 m1 = (__mmask16)(cols >= 32 ? 0xFFFF : cols > 16 ? (1u << (cols - 16)) - 1 : 0);
    const float* w = w_.get() + n * K_ * NR;
    const float* bias = bias_.get() + n * NR;
    // Each tile's kernel prefetches its share of the next panel (one line per k step).
    const size_t panel_bytes = K_ * NR * sizeof(float), nt = t1 - t0;
    const char* next = reinterpret_cast<const char*>(n + 1 < n1 ? w + K_ * NR : w);
    const size_t share = (panel_bytes + nt - 1) / nt;
    const size_t step = std::max<size_t>(1, (share + 64 * K_ - 1) / (64 * K_)) * 64;
    for (size_t t = t0; t < t1; ++t) {
      const size_t p0 = t * MR, mr = std::min(MR, pixels_ - p0);
      kMicro.f[cols > 16][mr - 1](K_, scratch + (t - t0) * MR * K_, w, bias, a.y + p0 * a.ys + n * NR,
                                  a.ys, m0, m1, p_.lo, p_.hi, next + std::min(panel_bytes - 64, (t - t0) * share),
                                  step);
    }
  }
  ReleaseScratch(slot);
}

namespace {
void TaskTrampoline(void* ctx, size_t block, size_t group) {
  const auto* a = static_cast<const ConvGemm::RunArgs*>(ctx);
  a->self->Task(*a, block, group);
}
}  // namespace

void ConvGemm::Run(const float* x, size_t xs, float* y, size_t ys, pthreadpool_t pool) const {
  if (tiles_ == 0 || panels_ == 0) return;
  RunArgs a{this, x, xs, y, ys, xs == p_.in_c && p_.dil_w == 1};
  if (!pool || pthreadpool_get_threads_count(pool) <= 1 || blocks_ * groups_ == 1) {
    for (size_t g = 0; g < groups_; ++g)
      for (size_t b = 0; b < blocks_; ++b) Task(a, b, g);
    return;
  }
  pthreadpool_parallelize_2d(pool, &TaskTrampoline, &a, blocks_, groups_, 0);
}

}  // namespace onnxrun::kernels
