#include "runtime/ir/tensor.h"

#include <atomic>

#include "runtime/ir/graph.h"

namespace onnxrun::ir {

static int64_t Product(const std::vector<int64_t>& shape) { return NumElements(shape); }

Tensor::Tensor(std::vector<int64_t> shape) : shape_(std::move(shape)), data_(Product(shape_)) {}

Tensor::Tensor(std::vector<int64_t> shape, std::vector<float> data)
    : shape_(std::move(shape)), data_(std::move(data)) {}

Tensor Tensor::Ints(std::vector<int64_t> shape, std::vector<int64_t> data, DataType type) {
  Tensor t;
  t.dtype_ = type;
  t.shape_ = std::move(shape);
  t.ints_ = std::move(data);
  return t;
}

uint64_t Tensor::NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Tensor::Tensor(const Tensor& other)
    : dtype_(other.dtype_),
      shape_(other.shape_),
      data_(other.data_),
      ints_(other.ints_),
      released_(other.released_) {}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this == &other) return *this;
  dtype_ = other.dtype_;
  shape_ = other.shape_;
  data_ = other.data_;
  ints_ = other.ints_;
  released_ = other.released_;
  id_ = NextId();
  return *this;
}

Tensor::Tensor(Tensor&& other) noexcept
    : dtype_(other.dtype_),
      shape_(std::move(other.shape_)),
      data_(std::move(other.data_)),
      ints_(std::move(other.ints_)),
      id_(std::exchange(other.id_, NextId())),
      released_(other.released_) {}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  dtype_ = other.dtype_;
  shape_ = std::move(other.shape_);
  data_ = std::move(other.data_);
  ints_ = std::move(other.ints_);
  id_ = std::exchange(other.id_, NextId());
  released_ = other.released_;
  return *this;
}

void Tensor::Release() {
  std::vector<float>().swap(data_);
  std::vector<int64_t>().swap(ints_);
  released_ = true;
}

int64_t Tensor::num_elements() const { return Product(shape_); }

std::string OnnxTypeName(int64_t code) {
  static const char* kNames[] = {
      "UNDEFINED",      "FLOAT",      "UINT8",          "INT8",       "UINT16",   "INT16",
      "INT32",          "INT64",      "STRING",         "BOOL",       "FLOAT16",  "DOUBLE",
      "UINT32",         "UINT64",     "COMPLEX64",      "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
      "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",      "INT4",     "FLOAT4E2M1"};
  constexpr int64_t kCount = sizeof(kNames) / sizeof(kNames[0]);
  if (code >= 0 && code < kCount) return kNames[code];
  return "an unknown type (" + std::to_string(code) + ")";
}

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return "float32";
    case DataType::kInt64:
      return "int64";
    case DataType::kInt32:
      return "int32";
    case DataType::kBool:
      return "bool";
    case DataType::kFloat64:
      return "float64";
    case DataType::kFloat16:
      return "float16";
    case DataType::kInt8:
      return "int8";
    case DataType::kUint8:
      return "uint8";
    case DataType::kUint64:
      return "uint64";
    case DataType::kBfloat16:
      return "bfloat16";
    case DataType::kString:
      return "string";
    default:
      return "unsupported type";
  }
}

}  // namespace onnxrun::ir
