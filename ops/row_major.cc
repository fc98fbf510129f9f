#include "ops/row_major.h"

#include "ops/kernels/layout.h"
#include "ops/tensor_util.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

// Floats of the workspace each operand takes (0: used in place): run-time rank-4 operands get an
// NCHW copy, each part rounded to whole cache lines.
std::vector<int64_t> Parts(const ir::Graph& g, const ir::Node& n, bool outputs) {
  const std::vector<int>& ids = outputs ? n.outputs : n.inputs;
  std::vector<int64_t> parts(ids.size(), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0) continue;
    const ir::Value& v = g.value(ids[i]);
    if (!v.is_constant() && op_util::IsNhwc(v))
      parts[i] = op_util::AlignFloats(ir::NumElements(v.shape));
  }
  return parts;
}

}  // namespace

int64_t RowMajorWorkspace(const ir::Graph& g, const ir::Node& n, int /*threads*/) {
  int64_t floats = 0;
  for (bool outputs : {false, true})
    for (int64_t f : Parts(g, n, outputs)) floats += f;
  return floats * int64_t(sizeof(float));
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerRowMajor(const LowerContext& ctx,
                                                      const RowMajorBody& body) {
  const ir::Graph& g = *ctx.graph;
  const ir::Node& n = *ctx.node;
  RETURN_IF_ERROR(op_util::RequireWorkspace(ctx, RowMajorWorkspace(g, n, 0)));
  auto seq = std::make_unique<SequenceKernel>();
  float* scratch = ctx.workspace;
  const std::vector<int64_t> in_parts = Parts(g, n, false), out_parts = Parts(g, n, true);
  std::vector<const float*> in(ctx.in.size(), nullptr);
  std::vector<float*> out(ctx.out.size(), nullptr);
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    if (!ctx.has_input(i)) continue;
    const auto& v = ctx.input(i);
    if (v.is_constant()) {  // hold a reference: the graph releases constants after lowering
      seq->Hold(v.constant);
      in[i] = static_cast<const float*>(RawData(*v.constant));  // int64 for integer types
    } else if (in_parts[i] > 0) {
      float* s = scratch;
      scratch += in_parts[i];
      const float* x = ctx.in[i].data;
      const size_t stride = ctx.in[i].pixel_stride;
      const size_t batch = v.shape[0], c = v.shape[1], hw = v.shape[2] * v.shape[3];
      seq->Add(MakeFnKernel(
          [=](pthreadpool_t pool) { kernels::NhwcToNchw(x, stride, s, batch, c, hw, pool); }));
      in[i] = s;
    } else {
      in[i] = ctx.in[i].data;
    }
  }
  struct Back {
    float* from;
    float* to;
    size_t stride, n, c, hw;
  };
  std::vector<Back> back;
  for (size_t i = 0; i < ctx.out.size(); ++i) {
    if (i >= n.outputs.size() || n.outputs[i] < 0) continue;
    const auto& v = ctx.output(i);
    if (out_parts[i] > 0) {
      out[i] = scratch;
      scratch += out_parts[i];
      back.push_back({out[i], ctx.out[i].data, size_t(ctx.out[i].pixel_stride), size_t(v.shape[0]),
                      size_t(v.shape[1]), size_t(v.shape[2] * v.shape[3])});
    } else {
      out[i] = ctx.out[i].data;
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k, body(in, out));
  seq->Add(std::move(k));
  for (const Back& b : back)
    seq->Add(MakeFnKernel([b](pthreadpool_t pool) {
      kernels::NchwToNhwc(b.from, b.to, b.n, b.c, b.hw, b.stride, pool);
    }));
  return std::unique_ptr<Kernel>(std::move(seq));
}

}  // namespace onnxrun
