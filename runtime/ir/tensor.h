// The IR's own tensor type: constants (initializers and everything folded at load). Kept apart
// from the public onnxrun::Tensor (include/onnxrun/onnxrun.h) so that the layers below the
// session depend on nothing of the public API; the session converts at its boundary.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace onnxrun::ir {

// Element types. The runtime computes in float32; int64 (and the smaller integer and bool types,
// widened to int64) serve shape arithmetic that is folded at load.
enum class DataType {
  kFloat32,
  kInt64,
  kInt32,
  kBool,
  kFloat64,
  kFloat16,
  kInt8,
  kUint8,
  kUint64,
  kBfloat16,
  kString,
  kOther
};
const char* DataTypeName(DataType type);
// Float types are held as float32 (float64 and float16 values rounded or widened); integer and
// bool types as int64 (bool 0/1), in constants and in run-time buffers alike.
inline bool IsFloatType(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16 ||
         t == DataType::kBfloat16;
}
// Bytes one element of `t` takes in memory: 4 for the float types, 8 otherwise.
inline int64_t ElementBytes(DataType t) { return IsFloatType(t) ? 4 : 8; }
// The name of an ONNX TensorProto.DataType code (FLOAT, FLOAT16, ..., FLOAT8E4M3FN, INT4 of IR 9
// and 10, FLOAT4E2M1), or "an unknown type (N)".
std::string OnnxTypeName(int64_t code);

// Dense, row-major (ONNX layout). Float32 values live in `values()`, integer and bool values
// (widened) in `ints()`.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape);  // float32, zero-filled
  Tensor(std::vector<int64_t> shape, std::vector<float> data);
  static Tensor Ints(std::vector<int64_t> shape, std::vector<int64_t> data,
                     DataType type = DataType::kInt64);
  // Every tensor has an id no other tensor has in this process (a copy gets a new one; a moved-to
  // tensor takes the id, the moved-from one gets a new one), so caches of weights packed from a
  // constant can key by it (ops/op.h PackCache). Writing through values() keeps the id: code that
  // changes a constant in place must own it alone (the optimizer copies shared constants).
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;
  uint64_t id() const { return id_; }
  // Drops the values (dtype, shape and id stay) once every reader holds a packed copy of them;
  // data() is null afterwards.
  void Release();
  bool released() const { return released_; }

  DataType dtype() const { return dtype_; }
  void set_dtype(DataType type) { dtype_ = type; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t num_elements() const;
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::vector<float>& values() { return data_; }
  const std::vector<float>& values() const { return data_; }
  std::vector<int64_t>& ints() { return ints_; }
  const std::vector<int64_t>& ints() const { return ints_; }

 private:
  DataType dtype_ = DataType::kFloat32;
  std::vector<int64_t> shape_;
  std::vector<float> data_;
  std::vector<int64_t> ints_;
  uint64_t id_ = NextId();
  bool released_ = false;
  static uint64_t NextId();
};

}  // namespace onnxrun::ir
