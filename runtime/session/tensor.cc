// Public Tensor type and test-data tensor file I/O.
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "loaders/tensor_proto.h"
#include "onnxrun/onnxrun.h"
#include "runtime/ir/file.h"
#include "runtime/ir/graph.h"
#include "runtime/ir/status.h"
#include "runtime/session/convert.h"

namespace onnxrun {

// The public Tensor mirrors ir::Tensor (runtime/ir/tensor.h): the element count and the type
// names are the IR's.
static int64_t Product(const std::vector<int64_t>& shape) { return ir::NumElements(shape); }

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

Tensor Tensor::View(float* data, std::vector<int64_t> shape) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.view_ = data;
  return t;
}

Tensor Tensor::View(const float* data, std::vector<int64_t> shape) {
  Tensor t = View(const_cast<float*>(data), std::move(shape));
  t.read_only_ = true;
  return t;
}

Tensor::Tensor(const Tensor& other) = default;
Tensor& Tensor::operator=(const Tensor& other) = default;

// A moved-from view must not keep pointing at the caller's memory.
Tensor::Tensor(Tensor&& other) noexcept
    : dtype_(other.dtype_),
      shape_(std::move(other.shape_)),
      data_(std::move(other.data_)),
      ints_(std::move(other.ints_)),
      view_(std::exchange(other.view_, nullptr)),
      read_only_(std::exchange(other.read_only_, false)) {}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  dtype_ = other.dtype_;
  shape_ = std::move(other.shape_);
  data_ = std::move(other.data_);
  ints_ = std::move(other.ints_);
  view_ = std::exchange(other.view_, nullptr);
  read_only_ = std::exchange(other.read_only_, false);
  return *this;
}

int64_t Tensor::num_elements() const { return Product(shape_); }

const char* DataTypeName(DataType type) { return ir::DataTypeName(ToIr(type)); }

absl::StatusOr<Tensor> ReadTensorFile(const std::string& path, std::string* name) {
  ASSIGN_OR_RETURN(ir::ScopedFd fd, ir::OpenRegularFile(path, "tensor file"));
  onnx::TensorProto proto;
  if (!proto.ParseFromFileDescriptor(fd.get()))
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a serialized onnx.TensorProto"));
  // An empty file parses as an empty TensorProto: refused, not read as a tensor of no type.
  if (proto.data_type() == onnx::TensorProto::UNDEFINED)
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' has no element type (an empty file or not an onnx.TensorProto)"));
  if (name) *name = proto.name();
  // External data of a tensor file lies beside it, as a model's lies beside the model.
  ASSIGN_OR_RETURN(ir::Tensor t, TensorFromProto(&proto, ir::DirName(path),
                                                 absl::StrCat("tensor file '", path, "'"), true));
  return FromIr(std::move(t));
}

absl::Status WriteTensorFile(const std::string& path, const Tensor& tensor,
                             const std::string& name) {
  onnx::TensorProto proto;
  proto.set_name(name);
  for (int64_t d : tensor.shape()) proto.add_dims(d);
  if (tensor.dtype() == DataType::kFloat32) {
    proto.set_data_type(onnx::TensorProto::FLOAT);
    proto.set_raw_data(tensor.data(), tensor.num_elements() * sizeof(float));
  } else if (tensor.dtype() == DataType::kInt64) {
    proto.set_data_type(onnx::TensorProto::INT64);
    proto.set_raw_data(tensor.ints().data(), tensor.ints().size() * sizeof(int64_t));
  } else {
    return absl::UnimplementedError(
        absl::StrCat("writing ", DataTypeName(tensor.dtype()), " tensors is not supported"));
  }
  std::ofstream f(path, std::ios::binary);
  if (!f || !proto.SerializeToOstream(&f))
    return absl::InternalError(absl::StrCat("cannot write tensor file '", path, "'"));
  return absl::OkStatus();
}

}  // namespace onnxrun
