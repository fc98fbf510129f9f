// Data movement of row-major tensors: Gather, Slice, Concat, Split, Pad. (ops/kernels/tensor.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

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

enum class PadMode { kConstant, kReflect, kEdge, kWrap };
// pads: 2*rank values, all begins then all ends (ONNX order); negative pads
// crop. Output dim i = shape[i] + pads[i] + pads[rank+i]. `value` points to one
// element used in kConstant mode (nullptr = zero bytes). Reflect mirrors
// without repeating the edge (numpy 'reflect', repeated for large pads); reflect
// of a size-1 axis repeats the element. Wrap repeats the axis periodically
// (numpy 'wrap'). Returns false on a negative output dim, or non-constant
// padding of an empty axis.
bool Pad(const void* x, void* y, size_t elem_size, size_t rank, const size_t* shape,
         const int64_t* pads, PadMode mode, const void* value);

}  // namespace onnxrun::kernels
