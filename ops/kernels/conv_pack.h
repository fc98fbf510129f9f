// Moving input pixels into the own conv kernels' operand layouts (ops/kernels/conv_gemm.cc):
// NHWC rows transposed to channel-major blocks, with an optional per-channel input transform (a
// folded pre-activation BatchNorm + ReLU). AVX-512 only: callers check ConvGemm::Supported().
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops/kernels/cpu.h"

namespace onnxrun::kernels::conv_pack {

// Per-channel transform applied while packing: clamp(x * scale + bias, lo, hi).
struct InputTransform {
  const float* scale = nullptr;  // null: none
  const float* bias = nullptr;
  float lo = 0, hi = 0;
};

// dst[c * ds + m] = rows[m][c] for c < C, m < mr (mr <= 16; ds = dst stride, default mr):
// 16x16 transposes in registers.
// Rows flagged in `pad` read as zeros and skip the transform (padding stays zero).
ONNXRUN_AVX512 void TransposeRows(const float* const* rows, size_t mr, size_t C, float* dst,
                                  const InputTransform& tf = {}, size_t ds = 0, uint32_t pad = 0);

// dst[c * ds + m] = src[(col0 + m) * xs + c] for c < C and lanes m < cnt (cnt <= 16) in
// [first, last); other lanes zero. For inputs of few channels with pixel stride xs <= 4 (RGB
// stems): the 16 pixels' 16 * xs floats are loaded once and each channel is picked out with two
// permutes, where TransposeRows would move 16 channels of which C are used (a gather is slower
// still). The same transform arithmetic as TransposeRows.
ONNXRUN_AVX512 void DeinterleaveColumns(const float* src, ptrdiff_t col0, size_t xs, size_t cnt,
                                        size_t C, float* dst, size_t ds, size_t first, size_t last,
                                        const InputTransform& tf);

}  // namespace onnxrun::kernels::conv_pack
