// Winograd convolution F(m x m, 3 x 3) (m = 4 or 2) for dense 3x3 stride-1 dilation-1 2-D
// convolutions in NHWC on AVX-512 (or AVX2+FMA, ops/kernels/conv_avx2.h, on the same layouts):
// fewer multiplications than the direct GEMM (36 / (16 * 9) = 1 / 4 of its arithmetic for m = 4,
// 16 / (4 * 9) for m = 2), paid for with input and output transforms.
//
//   output tile (m x m) = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
//
// The a = m + 2 squared transform points ("xi") turn the conv into a^2 independent GEMMs
//   M[xi][tile][o] = sum_c V[xi][tile][c] * U[xi][c][o].
// U (the transformed weights) is computed once at Init, in double, into panels of 32 output
// channels, [xi][panel][C16][32] (C16: in_c rounded up to 16, zero-padded). A task takes a block of
// T tiles and a group of panels: it transforms the block's input into V[xi][tile group][c / 16]
// [14][16] (16 channels per zmm, tile groups of 14 = the microkernel's rows), runs the 14x32
// microkernel for every xi, tile group and panel into M[xi][tile][group columns], then the
// output transform adds the bias, clamps and stores the m x m pixels. V and M of a task live in
// the caller's scratch (one slot per running task); Run is const and runs concurrently with
// distinct scratch. Where the panels would be split across tasks (threads > 1, small images with
// wide channels), the run goes in three passes over the pool instead (Plan::phased).
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <memory>
#include <string>

#include "ops/kernels/conv_gemm.h"

namespace onnxrun::kernels {

class Winograd {
 public:
  static constexpr size_t kMR = 14, kNR = 32;
  static constexpr bool kTakesInputTransform = true;  // SetInputTransform (LowerOwnConv)
  static constexpr bool kTakesResidual = true;        // Run(..., r, rs) (LowerOwnConv)

  // Dense 3x3 convolution, stride 1, dilation 1, pads at most 2 (any output size): what this kernel
  // computes. Supported(): as ConvGemm::Supported().
  static bool Applies(const ConvGemmParams& p);
  static bool Supported();

  // Output tile size for these parameters, chosen for one image whatever p.n (4, or 2 for images
  // too small for 4x4 tiles to pay).
  static int TileOf(const ConvGemmParams& p);

  // The cost model the conv's kernel selection decides by: estimated seconds of one run at 1
  // thread of this kernel (tile 0 = TileOf(p)) and of ConvGemm on the same conv, fitted to
  // measurements of the real convs (tools/bench/conv_bench.cc, docs/BENCHMARKS.md).
  static double EstimatedSeconds(const ConvGemmParams& p, int tile = 0);
  static double GemmSeconds(const ConvGemmParams& p);

  // Immutable after Pack (shareable between run contexts and input shapes).
  struct Weights;
  using PackedWeights = Weights;
  // Transforms the weights (ONNX OIHW [out_c, in_c, 3, 3]) and bias ([out_c] or null) for the tile
  // of `p` (`tile`: 2 or 4, 0 = TileOf(p)).
  static std::shared_ptr<const Weights> Pack(const ConvGemmParams& p, const float* weights_oihw,
                                             const float* bias_or_null, int tile = 0);
  // What Pack's layout depends on (channels, tile size): equal keys, interchangeable packs.
  static std::string PackKey(const ConvGemmParams& p, int tile = 0);
  // Sets up for `p` over weights Pack made for a `p` of the same PackKey. `max_threads`: threads
  // of the pool Run will get (one scratch slot each).
  void Init(const ConvGemmParams& p, std::shared_ptr<const Weights> packed, size_t max_threads = 1,
            int tile = 0);
  // Pack and Init in one.
  void Init(const ConvGemmParams& p, const float* weights_oihw, const float* bias_or_null,
            size_t max_threads = 1, int tile = 0) {
    Init(p, Pack(p, weights_oihw, bias_or_null, tile), max_threads, tile);
  }

  // Pre-activation: every input value is read as clamp(x * scale[c] + bias[c], lo, hi); padding
  // stays zero. Copies `scale` and `bias` ([in_c]). Call before the first Run.
  void SetInputTransform(const float* scale, const float* bias, float lo, float hi);

  // Floats of scratch Run needs: == scratch_floats() after Init(p, threads, tile).
  static size_t ScratchFloats(const ConvGemmParams& p, size_t max_threads, int tile = 0);
  size_t scratch_floats() const;

  // x: NHWC input, pixel stride xs >= in_c; y: NHWC output, pixel stride ys >= out_c (only
  // channels [0, out_c) are written). `scratch`: scratch_floats() floats, 64-byte aligned.
  // `r` (optional): an NHWC tensor of y's shape, pixel stride rs, added before the clamp in the
  // output transform, y = clamp(conv(x) + r) (a fused residual Add); it must not overlap y.
  void Run(const float* x, size_t xs, float* y, size_t ys, float* scratch, pthreadpool_t pool,
           const float* r = nullptr, size_t rs = 0) const;
  // Same with scratch allocated for the call (tests, tools).
  void Run(const float* x, size_t xs, float* y, size_t ys, pthreadpool_t pool,
           const float* r = nullptr, size_t rs = 0) const;

  const ConvGemmParams& params() const { return p_; }
  int tile() const { return plan_.m; }

  // How the work is cut (a function of the parameters and thread count only).
  struct Plan {
    int m = 4;  // output tile size; a = m + 2
    size_t tiles_h = 0, tiles_w = 0, tiles = 0;
    size_t c16 = 0;                      // in_c rounded up to 16
    size_t panels = 0;                   // ceil(out_c / 32)
    size_t block_tiles = 0, blocks = 0;  // T tiles per task
    size_t group_tiles = 0;              // tiles per microkernel call (<= 14), evened out
    size_t group_panels = 0, groups = 0;
    size_t v_floats = 0, m_floats = 0, slot_floats = 0, slots = 0;
    // Phased (threads > 1 where panels would be split across tasks): the fewest blocks whose V
    // and M fit 8 MB, run one after another, each in three passes over the pool, each split
    // evenly: the input transform into V, the tile GEMMs of each transform point into M, the
    // output transform of each tile. One block's V and M sit at the start of the scratch; there
    // are no slots.
    bool phased = false;
  };
  static Plan MakePlan(const ConvGemmParams& p, size_t max_threads, int tile);

  // Internal (public for the pthreadpool trampoline).
  struct RunArgs;
  void Task(const RunArgs& a, size_t block, size_t group) const;
  // Phased runs: transforms tile group `unit / CB` for channel block `unit % CB`; the tile GEMMs
  // of transform point `xi`; the output transform of one tile.
  void TransformTask(const RunArgs& a, size_t unit) const;
  void GemmTask(const RunArgs& a, size_t xi) const;
  void OutputTask(const RunArgs& a, size_t tile) const;

 private:
  struct Preact;
  // Tiles [i0, i1) of `block`, channel blocks [cb0, cb1), into the block's V at `v`.
  void TransformInput(const RunArgs& a, size_t block, size_t i0, size_t i1, size_t cb0, size_t cb1,
                      float* v) const;
  // The block's tile GEMMs of transform points [xi0, xi1) for panel group `group`, from V at `v`
  // into M at `mbuf`.
  void Gemm(size_t block, size_t group, const float* v, float* mbuf, size_t xi0, size_t xi1) const;
  // The output transform of the block's tiles [i0, i1), the group's columns, from M at `mbuf`.
  void Output(const RunArgs& a, size_t block, size_t group, const float* mbuf, size_t i0,
              size_t i1) const;
  ConvGemmParams p_;
  Plan plan_;
  std::shared_ptr<const Weights> w_;
  std::shared_ptr<const Preact> pre_;  // null: no input transform
  bool avx2_ = false;                  // AVX2+FMA kernels (ops/kernels/conv_avx2.h), else AVX-512
};

}  // namespace onnxrun::kernels
