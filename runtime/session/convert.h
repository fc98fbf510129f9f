// The session's boundary between the public types (include/onnxrun) and the IR's own.
#pragma once

#include <utility>

#include "onnxrun/onnxrun.h"
#include "runtime/ir/tensor.h"

namespace onnxrun {

// The two enums list the same types in the same order.
static_assert(static_cast<int>(DataType::kOther) == static_cast<int>(ir::DataType::kOther));
inline ir::DataType ToIr(DataType t) { return static_cast<ir::DataType>(t); }
inline DataType FromIr(ir::DataType t) { return static_cast<DataType>(t); }

inline ir::Tensor ToIr(const Tensor& t) {
  ir::Tensor out =
      t.dtype() == DataType::kFloat32
          ? ir::Tensor(t.shape(), std::vector<float>(t.data(), t.data() + t.num_elements()))
          : ir::Tensor::Ints(t.shape(), t.ints());
  out.set_dtype(ToIr(t.dtype()));
  if (t.dtype() != DataType::kFloat32) out.values() = t.values();  // float64/float16 converted
  return out;
}

inline Tensor FromIr(ir::Tensor t) {
  Tensor out = t.dtype() == ir::DataType::kFloat32 ? Tensor(t.shape(), std::move(t.values()))
                                                   : Tensor::Ints(t.shape(), std::move(t.ints()));
  out.set_dtype(FromIr(t.dtype()));
  if (t.dtype() != ir::DataType::kFloat32) out.values() = std::move(t.values());
  return out;
}

}  // namespace onnxrun
