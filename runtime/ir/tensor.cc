#include "runtime/ir/tensor.h"

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

int64_t Tensor::num_elements() const { return Product(shape_); }

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
    case DataType::kString:
      return "string";
    default:
      return "unsupported type";
  }
}

}  // namespace onnxrun::ir
