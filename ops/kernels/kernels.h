// onnxrun's own float32 (and 4/8-byte generic) kernels for what XNNPACK lacks.
//
// Pure functions on raw pointers: no dependency on the rest of the runtime, no
// allocation visible to the caller (a few kernels use small internal scratch).
//
// Conventions
//  * Activations are NHWC. "pixels" = N*H*W. A *pixel stride* is the number of
//    elements between consecutive pixels (>= channels), so a kernel can read a
//    channel slice of a wider buffer or write into one.
//  * "Row-major tensor" kernels take rank <= kMaxRank and a shape array.
//  * `pool` may be nullptr (serial). Kernels parallelize over rows only when the
//    work is large enough to pay for the dispatch.
//  * Output buffers never alias inputs unless a kernel says "in-place allowed".
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

namespace onnxrun::kernels {

inline constexpr size_t kMaxRank = 6;

// ---------------------------------------------------------------- layout.cc
// x: [n, c, hw] contiguous -> y: [n, hw, c] with y pixel stride `y_stride` (>= c).
// Elements of y between c and y_stride are left untouched.
void NchwToNhwc(const float* x, float* y, size_t n, size_t c, size_t hw, size_t y_stride,
                pthreadpool_t pool = nullptr);
// x: [n, hw, c] with x pixel stride `x_stride` (>= c) -> y: [n, c, hw] contiguous.
void NhwcToNchw(const float* x, size_t x_stride, float* y, size_t n, size_t c, size_t hw,
                pthreadpool_t pool = nullptr);

// --------------------------------------------------------------- channel.cc
// y[p, c] = clamp(x[p, c] * scale[c] + bias[c], lo, hi) for p < pixels.
// `bias` may be nullptr (0). Pass lo=-inf, hi=+inf for no clamp. In-place
// allowed (x == y with equal strides).
void ChannelAffine(const float* x, size_t x_stride, float* y, size_t y_stride, size_t pixels,
                   size_t channels, const float* scale, const float* bias, float lo, float hi,
                   pthreadpool_t pool = nullptr);

// y[n, p, c] = clamp(x[n, p, c] * s[n, c] + r[n, p, c], lo, hi) for n < batch, p < pixels (per
// image), c < channels: a per-image channel scale (an SE block's gate) plus a residual, in one
// pass. Pixel strides x_stride, r_stride, y_stride; rows of s are `s_stride` apart (0: one row for
// every image). `r` may be nullptr (no addend). Multiply and add round separately (no FMA
// contraction), so the result is bitwise that of a Mul followed by an Add. In-place allowed (y == x
// or y == r with equal strides).
void ChannelScale(const float* x, size_t x_stride, const float* s, size_t s_stride, const float* r,
                  size_t r_stride, float* y, size_t y_stride, size_t batch, size_t pixels,
                  size_t channels, float lo, float hi, pthreadpool_t pool = nullptr);

// ONNX LRN across channels, NHWC strided:
//   sq[c] = sum_{j = c - floor((size-1)/2)}^{c + ceil((size-1)/2)} x[j]^2  (clipped to [0,C))
//   y[c]  = x[c] / (bias + alpha / size * sq[c]) ^ beta
// beta 0.75 / 0.5 / 1 / 0 are special-cased (no pow). Not in-place.
void LrnNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t pixels,
             size_t channels, size_t size, float alpha, float beta, float bias,
             pthreadpool_t pool = nullptr);

// ------------------------------------------------------------------ pool.cc
// 2-D pooling parameters (use kernel_h = 1, in_h = 1 for 1-D pooling).
struct Pool2dParams {
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool only
};

// ONNX output extent of one spatial axis:
//   out = floor_or_ceil((in + pb + pe - ((k-1)*d + 1)) / s) + 1
// and, with ceil_mode, if (out-1)*s >= in + pb then out -= 1 (the last window
// must start inside the input or the left padding). Returns 0 when the
// (dilated) kernel does not fit in the padded input.
size_t PoolOutputSize(size_t in, size_t kernel, size_t stride, size_t dilation, size_t pad_begin,
                      size_t pad_end, bool ceil_mode);

// x: [n, in_h, in_w, c] pixel stride x_stride; y: [n, out_h, out_w, c] pixel
// stride y_stride, out_h/out_w from PoolOutputSize. Padded taps are ignored.
// A window with no input taps yields -inf.
void MaxPool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                   size_t in_h, size_t in_w, size_t channels, const Pool2dParams& p,
                   pthreadpool_t pool = nullptr);
// Same layout. Divisor: count_include_pad=0 -> number of taps inside the input;
// count_include_pad=1 -> number of taps inside the padded input
// [-pad_begin, in + pad_end) (ceil-mode overhang beyond it is not counted, as
// ONNX Runtime does). A window with a zero divisor yields 0.
void AveragePool2dNhwc(const float* x, size_t x_stride, float* y, size_t y_stride, size_t n,
                       size_t in_h, size_t in_w, size_t channels, const Pool2dParams& p,
                       pthreadpool_t pool = nullptr);

// ------------------------------------------------------------- transpose.cc
// Generic transpose: y has shape out[i] = shape[perm[i]]; elem_size 4 or 8
// (also 1 and 2 work). rank <= kMaxRank. Size-1 axes are dropped and axes that
// stay adjacent are merged first; when the innermost axis stays innermost, rows
// are copied with memcpy, otherwise a cache-blocked 2-D tile transpose is used.
// Returns false on bad arguments (rank, perm not a permutation, elem_size).
bool Transpose(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
               const size_t* perm, pthreadpool_t pool = nullptr);

// --------------------------------------------------------------- softmax.cc
// Softmax (log_softmax=false) or LogSoftmax along the middle axis of a
// row-major [outer, axis, inner] tensor. Numerically stable (max subtracted).
// In-place allowed (x == y).
void Softmax(const float* x, float* y, size_t outer, size_t axis, size_t inner, bool log_softmax,
             pthreadpool_t pool = nullptr);

// ---------------------------------------------------------------- reduce.cc
enum class ReduceOp {
  kSum,
  kMean,
  kMax,
  kMin,
  kProd,
  kSumSquare,
  kL1,
  kL2,
  kLogSum,
  kLogSumExp,
};
// Reduces row-major x of the given shape over `axes` (each in [0, rank), any
// order, duplicates ignored; num_axes == 0 reduces all axes). y has the same
// rank with reduced dims = 1 (keepdims layout; dropping them is a reshape).
// Reducing an empty extent gives the op's identity (Sum 0, Prod 1, Max -inf,
// Min +inf, Mean NaN). Returns false on a bad axis or rank.
bool Reduce(ReduceOp op, const float* x, float* y, size_t rank, const size_t* shape,
            const size_t* axes, size_t num_axes);

// ---------------------------------------------------------------- binary.cc
enum class BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin };

// Numpy broadcast of two shapes (ranks <= kMaxRank). Writes the output rank and
// shape; returns false if incompatible.
bool BroadcastShape(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                    size_t* out_rank, size_t* out_shape);
// y = a op b with numpy broadcasting; y is contiguous with the broadcast shape.
// y may alias a or b when that operand already has the output shape.
bool BroadcastBinary(BinaryOp op, const float* a, size_t a_rank, const size_t* a_shape,
                     const float* b, size_t b_rank, const size_t* b_shape, float* y);
// int64 version for Add/Sub/Mul/Div (Div truncates toward zero like C++ and
// ONNX Runtime; Max/Min also work). Wrap-around arithmetic. Returns false on
// division by zero, kPow, or incompatible shapes.
bool BroadcastBinaryI64(BinaryOp op, const int64_t* a, size_t a_rank, const size_t* a_shape,
                        const int64_t* b, size_t b_rank, const size_t* b_shape, int64_t* y);

// ---------------------------------------------------------------- matmul.cc
// C[m, n] (ldc) = A[m, k] (lda) * B[k, n] (ldb), row-major, blocked i-k-j.
void Gemm(size_t m, size_t k, size_t n, const float* a, size_t lda, const float* b, size_t ldb,
          float* c, size_t ldc);
// Output shape of numpy matmul: 1-D a is [1,k] (dim dropped), 1-D b is [k,1]
// (dim dropped), batch dims broadcast. Returns false if incompatible.
bool MatMulShape(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                 size_t* out_rank, size_t* out_shape);
// y = matmul(a, b) with numpy semantics (ranks 1..kMaxRank). y contiguous.
bool MatMul(const float* a, size_t a_rank, const size_t* a_shape, const float* b, size_t b_rank,
            const size_t* b_shape, float* y, pthreadpool_t pool = nullptr);

// ---------------------------------------------------------------- tensor.cc
// All take element size 4 or 8 (any size works; 4/8 are fast paths).

// y[o, i, r] = x[o, wrap(indices[i]), r] with x viewed as [outer, axis_dim, inner].
// Negative indices wrap once (+axis_dim). Returns false (nothing guaranteed
// written) if any index is outside [-axis_dim, axis_dim).
bool Gather(const void* x, void* y, size_t elem_size, size_t outer, size_t axis_dim, size_t inner,
            const int64_t* indices, size_t num_indices);

// Normalized slice: per axis the first index, the step and the element count.
struct SliceSpec {
  int64_t start[kMaxRank];
  int64_t step[kMaxRank];
  size_t count[kMaxRank];
};
// ONNX Slice normalization: axes may be nullptr (0..n-1) and negative; steps may
// be nullptr (1) and negative; starts/ends are clamped per the ONNX spec
// (positive step: [0, dim], negative step: [-1, dim-1] after adding dim to
// negatives). Unlisted axes are taken whole. Returns false on step 0, bad or
// repeated axis, rank > kMaxRank. out_shape[i] = spec->count[i].
bool MakeSliceSpec(size_t rank, const size_t* shape, const int64_t* starts, const int64_t* ends,
                   const int64_t* axes, const int64_t* steps, size_t num, SliceSpec* spec);
void Slice(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
           const SliceSpec& spec);

// Concat: inputs[i] is [outer, axis_dims[i], inner]; y is [outer, sum, inner].
void Concat(const void* const* inputs, const size_t* axis_dims, size_t num_inputs, void* y,
            size_t elem_size, size_t outer, size_t inner);
// Split: inverse of Concat. x is [outer, sum(axis_dims), inner].
void Split(const void* x, void* const* outputs, const size_t* axis_dims, size_t num_outputs,
           size_t elem_size, size_t outer, size_t inner);

enum class PadMode { kConstant, kReflect, kEdge };
// pads: 2*rank values, all begins then all ends (ONNX order); negative pads
// crop. Output dim i = shape[i] + pads[i] + pads[rank+i]. `value` points to one
// element used in kConstant mode (nullptr = zero bytes). Reflect mirrors
// without repeating the edge (numpy 'reflect', repeated for large pads); reflect
// of a size-1 axis repeats the element. Returns false on a negative output dim,
// or reflect/edge padding of an empty axis.
bool Pad(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
         const int64_t* pads, PadMode mode, const void* value);

// ---------------------------------------------------------------- internal
namespace detail {
// d[j*ds + i] = s[i*ss + j] for i < rows, j < cols: cache-blocked 4x4-register
// float transpose (layout.cc); bit-exact, so it also moves any 4-byte data.
void Transpose2dF32(const float* s, size_t ss, float* d, size_t ds, size_t rows, size_t cols);

// Nested loops (outermost first) with per-loop source/destination strides.
struct Loop {
  size_t n, ss, ds;
};
// Calls f(src_offset, dst_offset) for flat iterations [b, e) of `loops`.
template <class F>
inline void ForEachIndex(const Loop* loops, size_t k, size_t b, size_t e, const F& f) {
  size_t idx[kMaxRank + 1] = {}, so = 0, dof = 0, t = b;
  for (size_t i = k; i-- > 0;) {
    idx[i] = t % loops[i].n;
    t /= loops[i].n;
    so += idx[i] * loops[i].ss;
    dof += idx[i] * loops[i].ds;
  }
  for (size_t it = b; it < e; ++it) {
    f(so, dof);
    for (size_t i = k; i-- > 0;) {
      so += loops[i].ss;
      dof += loops[i].ds;
      if (++idx[i] < loops[i].n) break;
      so -= loops[i].n * loops[i].ss;
      dof -= loops[i].n * loops[i].ds;
      idx[i] = 0;
    }
  }
}

// Calls f(begin, end) over [0, n) in chunks, on `pool` when given and
// `work` (approximate element count) is large enough; otherwise serially.
template <class F>
inline void ParallelRows(pthreadpool_t pool, size_t n, size_t work, const F& f) {
  const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (threads <= 1 || n <= 1 || work < (size_t{1} << 15)) {
    if (n) f(size_t{0}, n);
    return;
  }
  struct Ctx {
    const F* f;
    size_t n, chunk;
  } ctx{&f, n, (n + threads * 4 - 1) / (threads * 4)};
  const size_t tasks = (n + ctx.chunk - 1) / ctx.chunk;
  pthreadpool_parallelize_1d(
      pool,
      [](void* p, size_t t) {
        const Ctx& c = *static_cast<const Ctx*>(p);
        const size_t b = t * c.chunk, e = b + c.chunk < c.n ? b + c.chunk : c.n;
        (*c.f)(b, e);
      },
      &ctx, tasks, 0);
}
}  // namespace detail

}  // namespace onnxrun::kernels
