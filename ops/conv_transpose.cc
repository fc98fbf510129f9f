// ConvTranspose (opsets 1-21), any rank, groups, dilations, output_padding, output_shape and
// auto_pad: a direct scatter of every input pixel times the kernel into the output, accumulated in
// float32 on row-major buffers (ops/typed.h). Correct for every attribute combination; not a fast
// kernel (no packing, no threads).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct ConvTransposeParams : ir::OpParams {
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations, pads_begin;
};

absl::Status InferConvTranspose(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 3));
  const ir::Value& x = g.value(n.inputs[0]);
  const ir::Value& w = g.value(n.inputs[1]);
  if (!ir::IsFloatType(x.dtype) || !ir::IsFloatType(w.dtype))
    return Unsupported(n, "only float inputs are supported");
  const size_t rank = x.shape.size();
  if (rank < 3 || w.shape.size() != rank)
    return Invalid(n, absl::StrCat("input ", ir::ShapeString(x.shape), " and weights ",
                                   ir::ShapeString(w.shape), " must have the same rank >= 3"));
  const size_t sp = rank - 2;
  auto p = std::make_shared<ConvTransposeParams>();
  ASSIGN_OR_RETURN(p->group, n.Int("group", 1));
  if (p->group < 1 || x.shape[1] % p->group != 0 || w.shape[0] != x.shape[1])
    return Invalid(n, absl::StrCat("group ", p->group, " does not divide ", x.shape[1],
                                   " input channels, or the weights are not [C, M/group, ...]"));
  const int64_t m = w.shape[1] * p->group;
  if (n.input(2) >= 0 && g.value(n.inputs[2]).shape != ir::Shape{m})
    return Invalid(n, absl::StrCat("bias must be [", m, "]"));
  std::vector<int64_t> kernel(w.shape.begin() + 2, w.shape.end());
  ASSIGN_OR_RETURN(p->kernel, n.Ints("kernel_shape", kernel));
  if (p->kernel != kernel) return Invalid(n, "kernel_shape does not match the weights");
  ASSIGN_OR_RETURN(p->strides, n.Ints("strides", std::vector<int64_t>(sp, 1)));
  ASSIGN_OR_RETURN(p->dilations, n.Ints("dilations", std::vector<int64_t>(sp, 1)));
  ASSIGN_OR_RETURN(std::vector<int64_t> pads, n.Ints("pads", std::vector<int64_t>(2 * sp, 0)));
  ASSIGN_OR_RETURN(std::vector<int64_t> out_pad,
                   n.Ints("output_padding", std::vector<int64_t>(sp, 0)));
  ASSIGN_OR_RETURN(std::vector<int64_t> out_shape, n.Ints("output_shape"));
  ASSIGN_OR_RETURN(std::string auto_pad, n.String("auto_pad", "NOTSET"));
  if (p->strides.size() != sp || p->dilations.size() != sp || pads.size() != 2 * sp ||
      out_pad.size() != sp || (!out_shape.empty() && out_shape.size() != sp))
    return Invalid(n,
                   "strides, dilations, pads, output_padding or output_shape have the wrong size");
  for (size_t i = 0; i < sp; ++i)
    if (p->strides[i] < 1 || p->dilations[i] < 1 || out_pad[i] < 0 || pads[i] < 0 ||
        pads[sp + i] < 0 || p->kernel[i] < 1 || p->kernel[i] > (int64_t{1} << 20) ||
        p->strides[i] > (int64_t{1} << 20) || p->dilations[i] > (int64_t{1} << 20) ||
        out_pad[i] > (int64_t{1} << 20))
      return Invalid(n,
                     "strides, dilations and kernel must be positive (at most 2^20), pads and "
                     "output_padding not negative (output_padding at most 2^20)");
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" &&
      auto_pad != "VALID")
    return Invalid(n, absl::StrCat("auto_pad '", auto_pad, "' is not valid"));
  ir::Shape shape = {x.shape[0], m};
  p->pads_begin.resize(sp);
  for (size_t i = 0; i < sp; ++i) {
    const int64_t in = x.shape[2 + i];
    const int64_t full =
        p->strides[i] * (in - 1) + out_pad[i] + (p->kernel[i] - 1) * p->dilations[i] + 1;
    int64_t out;
    if (!out_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // The output size is given (or in * stride): the padding is what is left, split evenly,
      // the odd unit at the end for SAME_UPPER (and a given output_shape), at the start for
      // SAME_LOWER.
      out = !out_shape.empty() ? out_shape[i] : in * p->strides[i];
      const int64_t total = std::max<int64_t>(full - out, 0);
      p->pads_begin[i] = auto_pad == "SAME_LOWER" ? total - total / 2 : total / 2;
    } else {
      if (auto_pad == "VALID") pads[i] = pads[sp + i] = 0;
      out = full - pads[i] - pads[sp + i];
      p->pads_begin[i] = pads[i];
    }
    if (out < 0) return Invalid(n, "the output size is negative");
    shape.push_back(out);
  }
  n.params = p;
  SetOutput(g, n, 0, ir::DataType::kFloat32, shape);
  return absl::OkStatus();
}

absl::Status ComputeConvTranspose(const ir::Node& n, const std::vector<TypedBuf>& in,
                                  const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const ConvTransposeParams* p, Params<ConvTransposeParams>(n));
  const TypedBuf &x = in[0], &w = in[1], &y = out[0];
  const size_t sp = x.shape.size() - 2;
  const int64_t batch = x.shape[0], c = x.shape[1], m = y.shape[1];
  const int64_t cg = c / p->group, mg = m / p->group;
  int64_t in_px = 1, out_px = 1, k_px = 1;
  for (size_t i = 0; i < sp; ++i) {
    in_px *= x.shape[2 + i];
    out_px *= y.shape[2 + i];
    k_px *= p->kernel[i];
  }
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < m; ++o) {
      const float bias = in.size() > 2 && in[2].data ? in[2].f()[o] : 0.f;
      std::fill_n(y.f() + (b * m + o) * out_px, out_px, bias);
    }
  std::vector<int64_t> ip(sp), kp(sp);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t ci = 0; ci < c; ++ci) {
      const int64_t grp = ci / cg;
      const float* xs = x.f() + (b * c + ci) * in_px;
      std::fill(ip.begin(), ip.end(), 0);
      for (int64_t i = 0; i < in_px; ++i) {
        const float v = xs[i];
        std::fill(kp.begin(), kp.end(), 0);
        for (int64_t k = 0; k < k_px; ++k) {
          // Output pixel of input pixel ip and tap kp: ip * stride + kp * dilation - pad.
          int64_t off = 0;
          bool inside = true;
          for (size_t d = 0; d < sp && inside; ++d) {
            const int64_t pos = ip[d] * p->strides[d] + kp[d] * p->dilations[d] - p->pads_begin[d];
            inside = pos >= 0 && pos < y.shape[2 + d];
            off = off * y.shape[2 + d] + pos;
          }
          if (inside)
            for (int64_t mo = 0; mo < mg; ++mo)
              y.f()[(b * m + grp * mg + mo) * out_px + off] += v * w.f()[(ci * mg + mo) * k_px + k];
          for (size_t d = sp; d-- > 0;) {
            if (++kp[d] < p->kernel[d]) break;
            kp[d] = 0;
          }
        }
        for (size_t d = sp; d-- > 0;) {
          if (++ip[d] < x.shape[2 + d]) break;
          ip[d] = 0;
        }
      }
    }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(ConvTranspose, InferConvTranspose, ComputeConvTranspose);

}  // namespace onnxrun
