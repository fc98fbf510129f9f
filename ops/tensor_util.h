// Untyped views of constant tensors for folds that only move elements (float32 or widened ints).
#pragma once

#include "onnxrun/onnxrun.h"
#include "runtime/ir/graph.h"

namespace onnxrun {

inline bool IsFloat(const Tensor& t) { return t.dtype() == DataType::kFloat32; }
inline size_t ElemSize(const Tensor& t) { return IsFloat(t) ? sizeof(float) : sizeof(int64_t); }
inline const void* RawData(const Tensor& t) {
  return IsFloat(t) ? static_cast<const void*>(t.values().data()) : t.ints().data();
}
inline void* RawData(Tensor& t) {
  return IsFloat(t) ? static_cast<void*>(t.values().data()) : t.ints().data();
}
// A zero-filled tensor of `like`'s dtype with the given shape.
inline Tensor EmptyLike(const Tensor& like, const ir::Shape& shape) {
  if (IsFloat(like)) return Tensor(shape);
  return Tensor::Ints(shape, std::vector<int64_t>(ir::NumElements(shape)), like.dtype());
}
// The same data under a new shape.
inline Tensor Reshaped(const Tensor& t, const ir::Shape& shape) {
  if (IsFloat(t)) return Tensor(shape, t.values());
  return Tensor::Ints(shape, t.ints(), t.dtype());
}
inline std::vector<size_t> SizeDims(const ir::Shape& s) { return std::vector<size_t>(s.begin(), s.end()); }

}  // namespace onnxrun
