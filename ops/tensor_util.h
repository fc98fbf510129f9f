// Untyped views of constant tensors for folds that only move elements (float32 or widened ints).
#pragma once

#include "runtime/ir/graph.h"
#include "runtime/ir/tensor.h"

namespace onnxrun {

// Float32, and float64/float16 (read into float32 values()), keep their data in values().
inline bool IsFloat(const ir::Tensor& t) { return ir::IsFloatType(t.dtype()); }
inline size_t ElemSize(const ir::Tensor& t) { return IsFloat(t) ? sizeof(float) : sizeof(int64_t); }
inline const void* RawData(const ir::Tensor& t) {
  return IsFloat(t) ? static_cast<const void*>(t.values().data()) : t.ints().data();
}
inline void* RawData(ir::Tensor& t) {
  return IsFloat(t) ? static_cast<void*>(t.values().data()) : t.ints().data();
}
// A zero-filled tensor of `like`'s dtype with the given shape.
inline ir::Tensor EmptyLike(const ir::Tensor& like, const ir::Shape& shape) {
  if (IsFloat(like)) {
    ir::Tensor t(shape);
    t.set_dtype(like.dtype());
    return t;
  }
  return ir::Tensor::Ints(shape, std::vector<int64_t>(ir::NumElements(shape)), like.dtype());
}
// The same data under a new shape.
inline ir::Tensor Reshaped(const ir::Tensor& t, const ir::Shape& shape) {
  if (IsFloat(t)) {
    ir::Tensor r(shape, t.values());
    r.set_dtype(t.dtype());
    return r;
  }
  return ir::Tensor::Ints(shape, t.ints(), t.dtype());
}
inline std::vector<size_t> SizeDims(const ir::Shape& s) {
  return std::vector<size_t>(s.begin(), s.end());
}

}  // namespace onnxrun
