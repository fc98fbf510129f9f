#include "ops/row_major.h"

#include "ops/kernels/layout.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {

absl::StatusOr<std::unique_ptr<Kernel>> LowerRowMajor(const LowerContext& ctx,
                                                      const RowMajorBody& body) {
  auto seq = std::make_unique<SequenceKernel>();
  auto scratch = std::make_shared<std::vector<std::vector<float>>>();
  scratch->reserve(ctx.in.size() + ctx.out.size());
  std::vector<const float*> in(ctx.in.size(), nullptr);
  std::vector<float*> out(ctx.out.size(), nullptr);
  for (size_t i = 0; i < ctx.in.size(); ++i) {
    if (!ctx.has_input(i)) continue;
    const auto& v = ctx.input(i);
    if (v.is_constant()) {  // keep a reference: the graph releases constants after lowering
      auto keep = v.constant;
      seq->Add(MakeFnKernel([keep](pthreadpool_t) {}));
      in[i] = keep->data();
    } else if (op_util::IsNhwc(v)) {
      scratch->emplace_back(ir::NumElements(v.shape));
      float* s = scratch->back().data();
      const float* x = ctx.in[i].data;
      const size_t stride = ctx.in[i].pixel_stride;
      const size_t n = v.shape[0], c = v.shape[1], hw = v.shape[2] * v.shape[3];
      seq->Add(MakeFnKernel(
          [=](pthreadpool_t pool) { kernels::NhwcToNchw(x, stride, s, n, c, hw, pool); }));
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
    if (i >= ctx.node->outputs.size() || ctx.node->outputs[i] < 0) continue;
    const auto& v = ctx.output(i);
    if (op_util::IsNhwc(v)) {
      scratch->emplace_back(ir::NumElements(v.shape));
      out[i] = scratch->back().data();
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
  seq->Add(MakeFnKernel([scratch](pthreadpool_t) {}));  // owns the scratch buffers
  return std::unique_ptr<Kernel>(std::move(seq));
}

}  // namespace onnxrun
