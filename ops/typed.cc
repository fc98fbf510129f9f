#include "ops/typed.h"

#include "absl/strings/str_cat.h"
#include "ops/row_major.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {

int64_t WrapTo(ir::DataType t, int64_t v) {
  switch (t) {
    case ir::DataType::kInt8:
      return static_cast<int8_t>(v);
    case ir::DataType::kUint8:
      return static_cast<uint8_t>(v);
    case ir::DataType::kInt32:
      return static_cast<int32_t>(v);
    case ir::DataType::kBool:
      return v != 0;
    default:
      return v;
  }
}

std::vector<int64_t> Strides(const ir::Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

BroadcastIndex::BroadcastIndex(const ir::Shape& out, const std::vector<ir::Shape>& in) : out_(out) {
  for (const ir::Shape& s : in) {
    std::vector<int64_t> st(out.size(), 0);
    const std::vector<int64_t> own = Strides(s);
    for (size_t i = 0; i < s.size(); ++i) {
      const size_t axis = out.size() - s.size() + i;
      st[axis] = s[i] == 1 ? 0 : own[i];
    }
    strides_.push_back(std::move(st));
  }
}

absl::Status FoldTyped(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* outputs,
                       TypedCompute compute) {
  std::vector<TypedBuf> in(n.inputs.size()), out(n.outputs.size());
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) continue;
    const ir::Value& v = g.value(n.inputs[i]);
    in[i] = {v.dtype, v.shape, nullptr};  // no data: an op folding from shapes (EyeLike)
    if (v.is_constant()) in[i].data = RawData(*v.constant);  // read only
  }
  outputs->clear();
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const int id = n.outputs[i];
    const ir::DataType type = id >= 0 ? g.value(id).dtype : ir::DataType::kFloat32;
    const ir::Shape shape = id >= 0 ? g.value(id).shape : ir::Shape{0};
    if (ir::IsFloatType(type)) {
      outputs->emplace_back(shape);
      outputs->back().set_dtype(type);
    } else {
      outputs->push_back(
          ir::Tensor::Ints(shape, std::vector<int64_t>(ir::NumElements(shape)), type));
    }
    if (id >= 0) out[i] = {type, shape, RawData(outputs->back())};
  }
  return compute(n, in, out);
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerTyped(const LowerContext& ctx, TypedCompute compute) {
  const ir::Node node = *ctx.node;  // the kernel keeps its own copy (attributes, params)
  std::vector<TypedBuf> in(node.inputs.size()), out(node.outputs.size());
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (ctx.has_input(i)) in[i] = {ctx.input(i).dtype, ctx.input(i).shape, nullptr};
  for (size_t i = 0; i < node.outputs.size(); ++i)
    if (node.outputs[i] >= 0) out[i] = {ctx.output(i).dtype, ctx.output(i).shape, nullptr};
  return LowerRowMajor(
      ctx,
      [&](const std::vector<const float*>& x,
          const std::vector<float*>& y) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        for (size_t i = 0; i < in.size(); ++i) in[i].data = const_cast<float*>(x[i]);
        for (size_t i = 0; i < out.size(); ++i) out[i].data = y[i];
        return MakeFnKernel([node, in, out, compute](pthreadpool_t) -> absl::Status {
          return compute(node, in, out);
        });
      });
}

uint32_t TypedCaps(const ir::Graph&, const ir::Node&) { return kCapTyped; }

int64_t TypedWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  return RowMajorWorkspace(g, n, threads);
}

}  // namespace onnxrun
