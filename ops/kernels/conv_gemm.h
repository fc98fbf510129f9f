// 2-D convolution (group == 1) in NHWC as an implicit GEMM on an AVX-512 microkernel (or its
// AVX2+FMA counterpart on the same layouts, ops/kernels/conv_avx2.h, when params.isa is kAvx2).
//
//   y[p, o] = clamp(bias[o] + sum_k A[p, k] * W[k, o], lo, hi)
//
// p = output pixel (n, oy, ox) flattened, k = (ky * kw + kx) * in_c + c (tap-major, then channel).
// W is packed once (Init) into panels of NR = 32 output channels, [panel][K][32], zero-padded.
// A (im2col) is packed per tile of MR = 14 output pixels as [K][14] into a pack slot per running
// task, in the scratch the caller hands Run (scratch_floats(): one slot for each of the
// `max_threads` tasks that run at once; nothing is allocated or shared between runs). The
// 14x32 microkernel keeps 28 zmm accumulators; the bias initializes them and the clamp is applied
// on store.
//
// Work split: (blocks of M tiles) x (groups of N panels); a task packs its A tiles once, then
// runs panel-outer / tile-inner so that a weight panel stays in L2 while the packed A block is
// reused from L2 for each panel.
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops/kernels/aligned.h"
#include "ops/kernels/cpu.h"

namespace onnxrun::kernels {

// How the A operand is read. kPacked: im2col-packed tiles (any geometry). kDirect (stride_w 1
// or 2): from a planar zero-padded copy of the input made once per run, no im2col -- wins when
// few output panels share each packed tile (narrow outputs) and rows are long. kAuto picks.
enum class ConvGemmMode { kAuto, kPacked, kDirect };

struct ConvGemmParams {
  size_t n = 1, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  size_t kh = 1, kw = 1, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  size_t pad_top = 0, pad_left = 0;  // bottom/right padding follows from out_h/out_w
  size_t groups = 1;  // ConvGemm and Winograd: 1 only; GroupConv (ops/kernels/group_conv.h): > 1
  float lo = -__builtin_inff(), hi = __builtin_inff();
  ConvGemmMode mode = ConvGemmMode::kAuto;
  Isa isa = Isa::kAuto;  // the microkernels' instruction set (kAvx512 or kAvx2; kAuto: ActiveIsa())
  // SetInputTransform will be called: packed 1x1 stride-1 convs then plan to pack (applying the
  // transform as they pack) instead of reading their input rows in place (AVX-512). A transform
  // set without it still works (those tiles pack into the slots), only with a task split chosen
  // for reading in place.
  bool input_transform = false;
};

class ConvGemm {
 public:
  static constexpr size_t kMR = 14, kNR = 32;
  static constexpr bool kTakesInputTransform = true;  // SetInputTransform (LowerOwnConv)
  static constexpr bool kTakesResidual = true;        // Run(..., residual) (LowerOwnConv)

  ConvGemm();
  ~ConvGemm();
  ConvGemm(const ConvGemm&) = delete;
  ConvGemm& operator=(const ConvGemm&) = delete;

  // The process runs the own kernels: ActiveIsa() is kAvx512 or kAvx2 (ops/kernels/conv_avx2.h).
  static bool Supported();

  // Weights and bias packed into the microkernel's panels. Immutable once made: every ConvGemm of
  // the same weights and layout may share one (run contexts and input shapes of one session).
  struct PackedWeights;
  // Packs the weights (ONNX OIHW [out_c, in_c, kh, kw]) and bias ([out_c] or null) for `p`.
  static std::shared_ptr<const PackedWeights> Pack(const ConvGemmParams& p,
                                                   const float* weights_oihw,
                                                   const float* bias_or_null);
  // What Pack's layout depends on (channels, kernel size, mode): equal keys, interchangeable packs.
  static std::string PackKey(const ConvGemmParams& p);
  // Sets up for `p` over packed weights (made by Pack for a `p` of the same PackKey).
  // `max_threads` = threads of the pool Run will get (one pack slot each).
  void Init(const ConvGemmParams& p, std::shared_ptr<const PackedWeights> packed,
            size_t max_threads = 1);
  // Pack and Init in one (keeps its own copies).
  void Init(const ConvGemmParams& p, const float* weights_oihw, const float* bias_or_null,
            size_t max_threads = 1) {
    Init(p, Pack(p, weights_oihw, bias_or_null), max_threads);
  }

  // Floats of scratch Run needs (packed mode: a pack slot per thread; direct mode: the planar
  // padded copy of one image), without packing weights: == scratch_floats() after Init(p, threads).
  static size_t ScratchFloats(const ConvGemmParams& p, size_t max_threads);
  size_t scratch_floats() const;

  // The mode kAuto resolves to for these parameters (kPacked where kDirect does not apply).
  static ConvGemmMode ResolveMode(const ConvGemmParams& p);

  // Pre-activation folded into the packing: every input value is read as
  // clamp(x * scale[c] + bias[c], lo, hi) -- a BatchNormalization(+ReLU) that precedes the conv
  // costs no pass over memory; padding stays zero. Taken by 1x1 stride-1 unpadded convs and by
  // every direct-mode conv. Copies `scale` and `bias` ([in_c]).
  static bool TakesInputTransform(const ConvGemmParams& p);
  void SetInputTransform(const float* scale, const float* bias, float lo, float hi);

  // x: NHWC input with pixel stride x_pixel_stride (>= in_c); y: NHWC output with pixel stride
  // y_pixel_stride (>= out_c). Only channels [0, out_c) of each output pixel are written.
  // `scratch`: scratch_floats() floats (64-byte aligned is fastest), used only during the call;
  // runs with distinct scratch may go concurrently.
  // `residual` (optional): an NHWC tensor of y's shape, pixel stride `residual_pixel_stride`,
  // added to the conv's result before the clamp, y = clamp(conv(x) + residual) -- a residual Add
  // fused into the conv (runtime/optimize/fuse_residual.cc). It must not overlap y.
  void Run(const float* x, size_t x_pixel_stride, float* y, size_t y_pixel_stride, float* scratch,
           pthreadpool_t pool, const float* residual = nullptr,
           size_t residual_pixel_stride = 0) const;
  // Same with scratch allocated for the call (tests, tools).
  void Run(const float* x, size_t x_pixel_stride, float* y, size_t y_pixel_stride,
           pthreadpool_t pool, const float* residual = nullptr,
           size_t residual_pixel_stride = 0) const;

  const ConvGemmParams& params() const { return p_; }
  // Packed mode, T > 1: the run packs every tile once into an A its tasks share (see Configure).
  bool shares_packed_a() const { return shared_a_; }

  // Internal (public for the pthreadpool trampoline).
  struct RunArgs;
  void Task(const RunArgs& a, size_t block, size_t group) const;
  void PackSharedTile(const RunArgs& a, size_t tile) const;  // shared A: packs one tile
  void PackPlanarRow(const float* x, size_t xs, size_t py, float* planar) const;

 private:
  using Buffer = AlignedFloats;
  static Buffer Alloc(size_t floats) { return AllocAligned(floats); }

  // Geometry, mode and task shape (everything but the packed weights).
  void Configure(const ConvGemmParams& p, size_t max_threads);
  void PackTile(const RunArgs& a, size_t p0, size_t mr, float* dst, float* rowbuf) const;
  // Output panel n: its columns, their store masks (low 16, high 16), weights and bias.
  static double DirectEfficiency(const ConvGemmParams& p, bool* by_rows);
  struct Panel {
    size_t cols;
    uint16_t m0, m1;
    const float* w;
    const float* bias;
  };
  Panel PanelOf(size_t n) const;
  void DirectTask(const RunArgs& a, size_t block, size_t group) const;
  void PrefetchResidual(const RunArgs& a, size_t p0, size_t n, size_t cols) const;
  // Packed mode, 1x1 stride-1 unpadded: prefetches the input pixels of the tile from pixel p0.
  void PrefetchInput(const RunArgs& a, size_t p0) const;

  ConvGemmParams p_;
  size_t K_ = 0, panels_ = 0, pixels_ = 0, tiles_ = 0;
  size_t tile_mr_ = kMR;        // packed mode: pixels per tile (the last may have fewer)
  size_t block_tiles_ = 1;      // M tiles per task
  size_t blocks_ = 0;           // ceil(tiles_ / block_tiles_)
  size_t groups_ = 1;           // panel groups (tasks along N)
  size_t group_panels_ = 1;     // panels per group
  bool avx2_ = false;           // AVX2+FMA microkernels and packing (else AVX-512)
  bool one_by_one_ = false;     // 1x1 stride-1 unpadded: a tile's A is its pixels' input rows
  bool rows_in_place_ = false;  // AVX-512, one_by_one_, no input transform: tiles read in place
  std::shared_ptr<const PackedWeights> packed_;
  const float* w_ = nullptr;  // packed_'s panels, bias and a zero row
  const float* bias_ = nullptr;
  const float* zeros_ = nullptr;
  Buffer in_scale_, in_bias_;  // input transform (null: none)
  float in_lo_ = 0, in_hi_ = 0;
  size_t slots_ = 0, slot_floats_ = 0, a_floats_ = 0;  // packed mode's pack slots in the scratch
  // Packed mode with T > 1 threads and panel groups: every tile is packed once, by all threads,
  // into one A at the start of the scratch (shared_a_floats_), which the tasks then read; the
  // slots hold only PackTile's row buffer. Otherwise each task packs its block into its slot.
  bool shared_a_ = false;
  size_t shared_a_floats_ = 0;
  // Direct mode (see Init): the padded grid is rh_ x rw_; the planar copy holds channel c of
  // padded row py at c * c_stride_ + py * row_stride_; tiles_ counts the tiles of one image.
  bool direct_ = false, by_rows_ = false;
  size_t rh_ = 0, rw_ = 0, grid_ = 0, c_stride_ = 0, row_stride_ = 0, planar_floats_ = 0;
  std::vector<ptrdiff_t> toff_;
};

}  // namespace onnxrun::kernels
