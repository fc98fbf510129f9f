// Concat. Along channels of NHWC image tensors it is a set of strided channel-slice copies -- and
// usually nothing at all: the planner lets producers write straight into their slice (kCapConcat),
// in which case no kernel is created. Other axes and ranks copy in ONNX order.
#include "absl/strings/str_cat.h"
#include "ops/kernels/layout.h"
#include "ops/kernels/tensor.h"
#include "ops/row_major.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct ConcatParams : ir::OpParams {
  int64_t axis = 1;  // non-negative
};

absl::Status InferConcat(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 4096));
  const auto& first = g.value(n.inputs[0]);
  const int64_t rank = first.shape.size();
  int64_t axis = 1;
  if (n.Has("axis") || g.opset >= 4) {
    if (!n.Has("axis")) return Invalid(n, "attribute 'axis' is required");
    ASSIGN_OR_RETURN(axis, n.Int("axis", 1));
  }
  ASSIGN_OR_RETURN(axis, Axis(n, axis, rank, "attribute 'axis'"));
  auto p = std::make_shared<ConcatParams>();
  p->axis = axis;
  n.params = std::move(p);
  ir::Shape out = first.shape;
  out[axis] = 0;
  for (int v : n.inputs) {
    if (v < 0) return Invalid(n, "an input is missing");
    const auto& x = g.value(v);
    if (x.dtype != first.dtype) return Invalid(n, "inputs have different element types");
    if (static_cast<int64_t>(x.shape.size()) != rank)
      return Invalid(
          n, absl::StrCat("input '", x.name, "' has rank ", x.shape.size(), ", expected ", rank));
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis && x.shape[i] != first.shape[i])
        return Invalid(n, absl::StrCat("input '", x.name, "' has shape ", ir::ShapeString(x.shape),
                                       ", incompatible with ", ir::ShapeString(first.shape),
                                       " outside axis ", axis));
    ASSIGN_OR_RETURN(out[axis], SizeAdd(n, out[axis], x.shape[axis], "concatenated size"));
  }
  SetOutput(g, n, 0, first.dtype, out);
  return absl::OkStatus();
}

// The normalized axis infer parsed; -1 before infer.
int64_t ConcatAxis(const ir::Node& n) {
  const ConcatParams* p = ir::ParamsAs<ConcatParams>(n);
  return p ? p->axis : -1;
}

absl::Status FoldConcat(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(const ConcatParams* p, Params<ConcatParams>(n));
  const int64_t axis = p->axis;
  const ir::Shape& shape = g.value(n.outputs[0]).shape;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  std::vector<const void*> ins;
  std::vector<size_t> dims;
  for (int v : n.inputs) {
    ins.push_back(RawData(*g.value(v).constant));
    dims.push_back(g.value(v).shape[axis]);
  }
  const ir::Tensor& first = *g.value(n.inputs[0]).constant;
  ir::Tensor y = EmptyLike(first, shape);
  kernels::Concat(ins.data(), dims.data(), ins.size(), RawData(y), ElemSize(first), outer, inner);
  out->push_back(std::move(y));
  return absl::OkStatus();
}

bool IsChannelConcat(const ir::Graph& g, const ir::Node& n) {
  return IsNhwc(g.value(n.outputs[0])) && ConcatAxis(n) == 1;
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerConcat(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  const auto& y = ctx.output(0);
  if (IsChannelConcat(*ctx.graph, n)) {
    auto seq = std::make_unique<SequenceKernel>();
    const size_t pixels = y.shape[0] * y.shape[2] * y.shape[3];
    int64_t offset = 0;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const auto& x = ctx.input(i);
      const int64_t c = x.shape[1];
      float* dst = ctx.out[0].data + offset;
      offset += c;
      if (ctx.in[i].data == dst) continue;  // the producer wrote in place
      const float* src = ctx.in[i].data;
      std::shared_ptr<std::vector<float>> nhwc;
      size_t src_stride = ctx.in[i].pixel_stride;
      if (x.is_constant()) {  // a constant input: reorder once
        nhwc = std::make_shared<std::vector<float>>(x.constant->num_elements());
        kernels::NchwToNhwc(x.constant->data(), nhwc->data(), x.shape[0], c,
                            x.shape[2] * x.shape[3], c);
        src = nhwc->data();
        src_stride = c;
      }
      auto k = std::make_unique<XnnKernel>();
      RETURN_IF_ERROR(
          Xnn(xnn_create_copy_nc_x32(c, src_stride, ctx.out[0].pixel_stride, 0, k->slot()), n,
              "create copy"));
      RETURN_IF_ERROR(
          Xnn(xnn_setup_copy_nc_x32(k->op(), pixels, src, dst, ctx.pool), n, "setup copy"));
      seq->Add(std::move(k));
      if (nhwc) seq->Hold(nhwc);
    }
    return std::unique_ptr<Kernel>(std::move(seq));
  }
  ASSIGN_OR_RETURN(const ConcatParams* p, Params<ConcatParams>(n));
  const int64_t axis = p->axis;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= y.shape[i];
  for (size_t i = axis + 1; i < y.shape.size(); ++i) inner *= y.shape[i];
  std::vector<size_t> dims;
  for (size_t i = 0; i < n.inputs.size(); ++i) dims.push_back(ctx.input(i).shape[axis]);
  return LowerRowMajor(
      ctx,
      [=](const std::vector<const float*>& in,
          const std::vector<float*>& out) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        std::vector<const void*> ins(in.begin(), in.end());
        void* dst = out[0];
        return MakeFnKernel([=](pthreadpool_t) {
          kernels::Concat(ins.data(), dims.data(), ins.size(), dst, sizeof(float), outer, inner);
        });
      });
}

int64_t ConcatWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  return IsChannelConcat(g, n) ? 0 : RowMajorWorkspace(g, n, threads);
}

uint32_t ConcatCaps(const ir::Graph& g, const ir::Node& n) {
  return IsChannelConcat(g, n) ? (kCapConcat | kCapStridedInput | kCapStridedOutput) : 0;
}

}  // namespace

extern const OpDef kConcatOp = {"Concat",    InferConcat, FoldConcat,
                                LowerConcat, ConcatCaps,  ConcatWorkspace};

}  // namespace onnxrun
