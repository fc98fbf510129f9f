// Grouped and depthwise 2-D convolution in NHWC on AVX-512, for groups of c = 1, 2, 4, 8, 16, 32
// or 64 input and as many output channels (depthwise: c = 1; ResNeXt's 32 groups of 4 to 64
// channels): any kernel size, stride, dilation and padding.
//
// Wide groups (c >= 16): each group is a direct conv of its own, c / 16 output vectors per pixel
// over strips of up to 14 pixels; every input value is broadcast from memory and multiplied by the
// weight vectors of its (tap, input) -- at 3-wide stride 1 once for the 3 output pixels that read
// it, with rows run as strips of equal width end to end (edge strips skip the padding). Weights
// [group][tap][j][c]; the run goes group by group, so a group's weights stay in L2 over its rows.
//
// Narrow groups (c <= 8):
// a vector holds 16 consecutive output channels: 16 / c whole groups, whose inputs are the same 16
// input channels. The 16 input channels of a pixel are loaded once and permuted in registers c
// times, so that lane l sees input j of its own group ((l / c) * c + j), then multiplied by the
// weight vector of (tap, j): every multiply is useful, where a GEMM per group pads c outputs to
// its 16-wide panel. Strips of 8 output pixels share each weight vector; at stride 1 each input
// pixel's permutations serve all the kernel columns that read it. Weights are packed once (Pack)
// as [block of 16 channels][tap][j][16], bias as [block][16]; nothing is allocated per run.
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <memory>
#include <string>

#include "ops/kernels/conv_gemm.h"

namespace onnxrun::kernels {

class GroupConv {
 public:
  static constexpr size_t kBlock = 16, kStrip = 8;
  static constexpr bool kTakesInputTransform = false;  // no SetInputTransform (LowerOwnConv)
  static constexpr bool kTakesResidual = false;        // no fused residual (LowerOwnConv)

  // p.groups > 1, in_c == out_c == groups * c with c in {1, 2, 4, 8, 16, 32, 64}: what this
  // kernel computes.
  static bool Applies(const ConvGemmParams& p);
  // The process runs AVX-512 kernels (ActiveIsa() == kAvx512).
  static bool Supported();

  struct PackedWeights;
  // Packs ONNX OIHW weights [out_c, c, kh, kw] and bias ([out_c] or null) for `p`.
  static std::shared_ptr<const PackedWeights> Pack(const ConvGemmParams& p,
                                                   const float* weights_oihw,
                                                   const float* bias_or_null);
  // What Pack's layout depends on: equal keys, interchangeable packs.
  static std::string PackKey(const ConvGemmParams& p);
  void Init(const ConvGemmParams& p, std::shared_ptr<const PackedWeights> packed,
            size_t max_threads = 1);
  void Init(const ConvGemmParams& p, const float* weights_oihw, const float* bias_or_null,
            size_t max_threads = 1) {
    Init(p, Pack(p, weights_oihw, bias_or_null), max_threads);
  }
  // No scratch: the kernel reads the input in place.
  static size_t ScratchFloats(const ConvGemmParams&, size_t) { return 0; }
  size_t scratch_floats() const { return 0; }

  // x: NHWC input, pixel stride xs >= in_c; y: NHWC output, pixel stride ys >= out_c (only
  // channels [0, out_c) are written). `scratch` is unused (scratch_floats() == 0).
  void Run(const float* x, size_t xs, float* y, size_t ys, float* scratch,
           pthreadpool_t pool) const;
  void Run(const float* x, size_t xs, float* y, size_t ys, pthreadpool_t pool) const {
    Run(x, xs, y, ys, nullptr, pool);
  }

  const ConvGemmParams& params() const { return p_; }

  // Internal (public for the pthreadpool trampoline): output row `row` (image * out_h + oy) of
  // channel blocks [b0, b0 + nb).
  struct RunArgs;
  void Task(const RunArgs& a, size_t row, size_t b0, size_t nb) const;

 private:
  ConvGemmParams p_;
  size_t c_ = 1, blocks_ = 0, taps_ = 0;
  size_t ox_lo_ = 0, ox_hi_ = 0;  // output columns whose taps all fall inside the input
  std::shared_ptr<const PackedWeights> w_;
};

}  // namespace onnxrun::kernels
