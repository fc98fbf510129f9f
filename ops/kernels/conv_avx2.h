// AVX2+FMA microkernels of the own convolutions (ConvGemm packed and direct, Winograd), for CPUs
// without AVX-512 (Isa::kAvx2). They read and write the same layouts as the AVX-512 kernels
// (A tiles of 14 rows, weight panels of 32 columns, Winograd's 16-channel blocks), so that packing
// and task splitting are shared: a 14 x 32 tile is computed in passes of up to 6 rows x 16 columns
// (12 ymm accumulators, 2 weight registers, 1 broadcast -- the 16 ymm registers), the 14 rows as
// evened-out row groups (5 + 5 + 4), each pass over the whole K.
// Compiled for avx2,fma by target attributes: call only when IsaSupported(Isa::kAvx2).
#pragma once

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels::avx2 {

// y[m, 0:cols) = clamp(bias + sum_k a[k * mr + m] * w[k * 32 + j], lo, hi) for m < mr (<= 14).
// Column j of row m is stored when bit j of (m1 << 16 | m0) is set (a contiguous low run).
void GemmTile(size_t K, const float* a, size_t mr, const float* w, const float* bias, float* y,
              size_t ys, uint16_t m0, uint16_t m1, float lo, float hi);

// ConvGemm's direct mode (see MicroDirect in conv_gemm.cc): stride_w S in {1, 2},
//   y[m] = clamp(bias + sum_c sum_t a[c * cs + toff[t] + m * S] * w[(c * taps + t) * 32 + j])
// to row yr[m] (null: not stored), m < mr (<= 14).
void DirectTile(int S, size_t C, size_t taps, const ptrdiff_t* toff, const float* a, size_t cs,
                const float* w, const float* bias, float* const* yr, size_t mr, uint16_t m0,
                uint16_t m1, float lo, float hi);

// dst[c * ds + m] = f(rows[m][c]) for c < C, m < mr (<= 16), f(v) = clamp(v * scale[c] + bias[c],
// lo, hi) (identity when scale is null). Rows flagged in `pad` read as zeros, untransformed.
void TransposeRows(const float* const* rows, size_t mr, size_t C, float* dst, size_t ds,
                   uint32_t pad, const float* scale, const float* bias, float lo, float hi);

// Winograd's tile GEMM: y[m][0:32) = sum_k a[(k / 16) * 14 * 16 + m * 16 + k % 16] * w[k * 32 + j]
// for m < mr (<= 14), K = 16 * CB; rows stored whole.
void WinogradGemm(size_t CB, const float* a, size_t mr, const float* w, float* y, size_t ys);

// A fused residual Add after a tile stored unclamped: y[0:cols) = clamp(y[0:cols) + r[0:cols), lo,
// hi), one output pixel's columns (ConvGemm's tiles, Winograd's output tiles).
void AddResidual(float* y, const float* r, size_t cols, float lo, float hi);

// Winograd's input transform of one tile (m = 4 or 2), 16 channels from c0 (cnt real, the rest
// zero), through the pre-activation (scale null: none): point xi to v + xi * xi_stride.
void WinogradInputTile(int m, const float* img, size_t in_h, size_t in_w, size_t xs, ptrdiff_t iy0,
                       ptrdiff_t ix0, size_t c0, size_t cnt, const float* scale, const float* bias,
                       float lo, float hi, float* v, size_t xi_stride);

// Winograd's output transform of one tile, 16 channels (cnt stored), bias added, clamped, stored
// to the rows x cols_px pixels of y that exist.
void WinogradOutputTile(int m, const float* s, size_t xi_stride, const float* bias, float lo,
                        float hi, float* y, size_t row_stride, size_t ys, int rows, int cols_px,
                        size_t cnt);

}  // namespace onnxrun::kernels::avx2
