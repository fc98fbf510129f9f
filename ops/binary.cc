// Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean with numpy broadcasting (e.g. SE's N×C×1×1 ×
// N×C×H×W). Float tensors run on XNNPACK's N-d binary operators in physical (NHWC) order with the
// fused clamp; integer operands fold at load or run as a typed kernel (ops/typed.h), in int64
// wrapped to their type's width.
#include "ops/kernels/binary.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/kernels/transpose.h"
#include "ops/typed.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

kernels::BinaryOp KindOf(const std::string& op) {
  if (op == "Add" || op == "Sum") return kernels::BinaryOp::kAdd;
  if (op == "Sub") return kernels::BinaryOp::kSub;
  if (op == "Mul") return kernels::BinaryOp::kMul;
  if (op == "Div") return kernels::BinaryOp::kDiv;
  if (op == "Pow") return kernels::BinaryOp::kPow;
  if (op == "Max") return kernels::BinaryOp::kMax;
  if (op == "Mean") return kernels::BinaryOp::kAdd;  // then scaled by 1/n
  return kernels::BinaryOp::kMin;
}

bool Variadic(const std::string& op) {
  return op == "Sum" || op == "Max" || op == "Min" || op == "Mean";
}

// Float values of a constant operand (Pow's exponent may be an integer tensor).
std::vector<float> FloatValues(const ir::Tensor& t) {
  if (t.dtype() == ir::DataType::kFloat32) return t.values();
  return std::vector<float>(t.ints().begin(), t.ints().end());
}

// Integer Pow, folded at load: computed in double and rounded (exact for integer exponents);
// int base ** float exponent truncates like a C cast, as ONNX Runtime does.
absl::StatusOr<ir::Tensor> FoldIntPow(const ir::Node& n, const ir::Tensor& a, const ir::Tensor& b) {
  ASSIGN_OR_RETURN(ir::Shape shape, Broadcast(n, a.shape(), b.shape()));
  const size_t rank = shape.size();
  auto strides = [&](const ir::Shape& s) {
    std::vector<int64_t> st(rank, 0);
    int64_t step = 1;
    for (size_t i = 0; i < s.size(); ++i) {
      const size_t axis = rank - 1 - i, dim = s.size() - 1 - i;
      st[axis] = s[dim] == 1 ? 0 : step;
      step *= s[dim];
    }
    return st;
  };
  const auto sa = strides(a.shape()), sb = strides(b.shape());
  const bool b_float = b.dtype() == ir::DataType::kFloat32;
  const int64_t count = ir::NumElements(shape);
  std::vector<int64_t> y(count);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    const double base = static_cast<double>(a.ints()[ia]);
    const double e = b_float ? b.values()[ib] : static_cast<double>(b.ints()[ib]);
    const double r = std::pow(base, e);
    if (!(std::fabs(r) < 9.2e18))
      return Unsupported(n, absl::StrCat(base, " ** ", e, " does not fit a 64-bit integer"));
    y[i] = b_float ? static_cast<int64_t>(r) : std::llround(r);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return ir::Tensor::Ints(shape, std::move(y), a.dtype());
}

absl::Status InferBinary(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, Variadic(n.op) ? 1 : 2, Variadic(n.op) ? 64 : 2));
  ASSIGN_OR_RETURN(int64_t legacy, n.Int("broadcast", 0));
  ir::Shape shape = g.value(n.inputs[0]).shape;
  const ir::DataType t = g.value(n.inputs[0]).dtype;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const auto& v = g.value(n.inputs[i]);
    if (v.dtype != t && n.op != "Pow")
      return Invalid(n, absl::StrCat("inputs have different types (", ir::DataTypeName(t), " and ",
                                     ir::DataTypeName(v.dtype), ")"));
    if (legacy && n.Has("axis") && v.shape.size() < shape.size()) {
      // Opset < 7 broadcasting: B's dims align at `axis`, not at the end.
      ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
      if (axis + static_cast<int64_t>(v.shape.size()) != static_cast<int64_t>(shape.size()))
        return Unsupported(n, "legacy broadcasting with 'axis' that is not numpy-compatible");
    }
    ASSIGN_OR_RETURN(shape, Broadcast(n, shape, v.shape));
  }
  if (t == ir::DataType::kBool || t == ir::DataType::kString || t == ir::DataType::kOther)
    return Unsupported(n, absl::StrCat("element type ", ir::DataTypeName(t), " is not supported"));
  // The broadcasting kernels (own and XNNPACK's) stop at rank 6; Pow at rank 7 returned the
  // arena's contents before.
  if (shape.size() > kernels::kMaxRank)
    return Unsupported(n,
                       absl::StrCat("output rank ", shape.size(), " is above ", kernels::kMaxRank));
  SetOutput(g, n, 0, t, shape);
  return absl::OkStatus();
}

std::vector<size_t> Dims(const ir::Shape& s) { return std::vector<size_t>(s.begin(), s.end()); }

absl::Status ComputeIntBinary(const ir::Node& n, const std::vector<TypedBuf>& in,
                              const std::vector<TypedBuf>& out);

absl::Status FoldBinary(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  const auto kind = KindOf(n.op);
  // Integer Add ... Min fold through the run-time kernel: one place for the integer rules.
  const ir::DataType t = g.value(n.inputs[0]).dtype;
  if (!ir::IsFloatType(t) && kind != kernels::BinaryOp::kPow && n.op != "Mean")
    return FoldTyped(g, n, out, ComputeIntBinary);
  ir::Tensor acc = *g.value(n.inputs[0]).constant;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const ir::Tensor& b = *g.value(n.inputs[i]).constant;
    ASSIGN_OR_RETURN(ir::Shape shape, Broadcast(n, acc.shape(), b.shape()));
    auto da = Dims(acc.shape()), db = Dims(b.shape());
    if (acc.dtype() != ir::DataType::kFloat32 && kind == kernels::BinaryOp::kPow) {
      ASSIGN_OR_RETURN(acc, FoldIntPow(n, acc, b));
    } else if (acc.dtype() == ir::DataType::kFloat32) {
      ir::Tensor y(shape);
      std::vector<float> bf = FloatValues(b);
      if (!kernels::BroadcastBinary(kind, acc.data(), da.size(), da.data(), bf.data(), db.size(),
                                    db.data(), y.data()))
        return Invalid(n, "cannot broadcast");
      acc = std::move(y);
    } else {
      std::vector<int64_t> y(ir::NumElements(shape));
      if (!kernels::BroadcastBinaryI64(kind, acc.ints().data(), da.size(), da.data(),
                                       b.ints().data(), db.size(), db.data(), y.data()))
        return Invalid(n, "integer division by zero or unsupported integer op");
      for (int64_t& v : y) v = WrapTo(acc.dtype(), v);
      acc = ir::Tensor::Ints(shape, std::move(y), acc.dtype());
    }
  }
  if (n.op == "Mean") {
    if (acc.dtype() != ir::DataType::kFloat32) return Unsupported(n, "integer Mean");
    for (float& v : acc.values()) v /= static_cast<float>(n.inputs.size());
  }
  out->push_back(std::move(acc));
  return absl::OkStatus();
}

// Physical shape of operand `v` padded to the output's rank; NHWC order for rank-4 outputs.
// For a run-time operand whose memory order would differ, returns an error.
absl::StatusOr<ir::Shape> PhysicalShape(const ir::Node& n, const ir::Value& v, size_t rank,
                                        bool nhwc_out) {
  ir::Shape s(rank - v.shape.size(), 1);
  s.insert(s.end(), v.shape.begin(), v.shape.end());
  if (!nhwc_out) return s;
  if (!v.is_constant() && v.shape.size() != 4 && s[1] != 1 && s[2] * s[3] != 1)
    return Unsupported(n, absl::StrCat("broadcasting run-time operand '", v.name, "' of shape ",
                                       ir::ShapeString(v.shape), " against a rank-4 image tensor"));
  return NhwcShape(s);
}

// Integer Add, Sub, Mul, Div, Max, Min, Sum at run time: in int64, wrapped to the type's width.
// UINT64 values are int64 bits: Add, Sub and Mul wrap alike; Max and Min compare with the sign bit
// flipped (unsigned order), Div divides unsigned.
absl::Status ComputeIntBinary(const ir::Node& n, const std::vector<TypedBuf>& in,
                              const std::vector<TypedBuf>& out) {
  const TypedBuf& y = out[0];
  const kernels::BinaryOp kind = KindOf(n.op);
  const bool u64 = y.dtype == ir::DataType::kUint64;
  const bool flip = u64 && (kind == kernels::BinaryOp::kMax || kind == kernels::BinaryOp::kMin);
  constexpr int64_t kSign = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> acc(in[0].i(), in[0].i() + in[0].count()), next, rhs;
  if (flip)
    for (int64_t& v : acc) v ^= kSign;
  ir::Shape shape = in[0].shape;
  for (size_t i = 1; i < in.size(); ++i) {
    ASSIGN_OR_RETURN(ir::Shape s, Broadcast(n, shape, in[i].shape));
    next.assign(ir::NumElements(s), 0);
    if (u64 && kind == kernels::BinaryOp::kDiv) {
      BroadcastIndex index(s, {shape, in[i].shape});
      bool by_zero = false;
      index.ForEach([&](int64_t k, const std::vector<int64_t>& o) {
        const uint64_t a = acc[o[0]], b = in[i].i()[o[1]];
        by_zero |= b == 0;
        next[k] = b == 0 ? 0 : static_cast<int64_t>(a / b);
      });
      if (by_zero) return Invalid(n, "integer division by zero");
    } else {
      rhs.assign(in[i].i(), in[i].i() + in[i].count());
      if (flip)
        for (int64_t& v : rhs) v ^= kSign;
      const auto da = Dims(shape), db = Dims(in[i].shape);
      if (!kernels::BroadcastBinaryI64(kind, acc.data(), da.size(), da.data(), rhs.data(),
                                       db.size(), db.data(), next.data()))
        return Invalid(n, "integer division by zero");
    }
    acc.swap(next);
    shape = s;
  }
  if (flip)
    for (int64_t& v : acc) v ^= kSign;
  for (int64_t k = 0; k < y.count(); ++k) y.i()[k] = WrapTo(y.dtype, acc[k]);
  return absl::OkStatus();
}

bool IntAtRunTime(const ir::Graph& g, const ir::Node& n) {
  return g.value(n.outputs[0]).dtype != ir::DataType::kFloat32;
}

absl::StatusOr<std::unique_ptr<Kernel>> LowerBinary(const LowerContext& ctx) {
  const ir::Node& n = *ctx.node;
  if (IntAtRunTime(*ctx.graph, n)) return LowerTyped(ctx, ComputeIntBinary);
  const auto& y = ctx.output(0);
  const size_t rank = y.shape.size();
  const bool nhwc = IsNhwc(y);
  auto seq = std::make_unique<SequenceKernel>();
  // Constants reordered to physical layout, owned by the kernel.
  auto owned = std::make_shared<std::vector<std::vector<float>>>();
  struct Operand {
    ir::Shape shape;
    const float* data;
  };
  std::vector<Operand> ops;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const auto& v = ctx.input(i);
    ASSIGN_OR_RETURN(ir::Shape ps, PhysicalShape(n, v, rank, nhwc));
    const float* data = ctx.in[i].data;
    if (v.is_constant()) {
      owned->emplace_back(FloatValues(*v.constant));
      if (nhwc) {
        ir::Shape s(rank - v.shape.size(), 1);
        s.insert(s.end(), v.shape.begin(), v.shape.end());
        const size_t dims[4] = {size_t(s[0]), size_t(s[1]), size_t(s[2]), size_t(s[3])};
        const size_t perm[4] = {0, 2, 3, 1};
        const std::vector<float> src = owned->back();
        kernels::Transpose(src.data(), owned->back().data(), 4, 4, dims, perm);
      }
      data = owned->back().data();
    }
    ops.push_back({ps, data});
  }
  const ir::Shape out_shape = nhwc ? NhwcShape(y.shape) : y.shape;
  float* out = ctx.out[0].data;
  if (ops.size() == 1) {  // Sum/Max/Min of one input: a copy
    const float* in = ops[0].data;
    const size_t count = ir::NumElements(out_shape);
    return MakeFnKernel([=](pthreadpool_t) {
      (void)owned;  // `in` may be a reordered constant
      if (in != out) std::memmove(out, in, count * sizeof(float));
    });
  }
  const auto kind = KindOf(n.op);
  for (size_t i = 1; i < ops.size(); ++i) {
    const bool last = i + 1 == ops.size();
    const float lo = last ? n.fusion.lo : -INFINITY, hi = last ? n.fusion.hi : INFINITY;
    const Operand a = i == 1 ? ops[0] : Operand{out_shape, out};
    const Operand& b = ops[i];
    auto k = std::make_unique<XnnKernel>();
    xnn_status st = xnn_status_unsupported_parameter;
    switch (kind) {
      case kernels::BinaryOp::kAdd:
        st = xnn_create_add_nd_f32(lo, hi, 0, k->slot());
        break;
      case kernels::BinaryOp::kSub:
        st = xnn_create_subtract_nd_f32(lo, hi, 0, k->slot());
        break;
      case kernels::BinaryOp::kMul:
        st = xnn_create_multiply_nd_f32(lo, hi, 0, k->slot());
        break;
      case kernels::BinaryOp::kDiv:
        st = xnn_create_divide_nd_f32(lo, hi, 0, k->slot());
        break;
      // Max and Min run the own kernel: XNNPACK's drops a NaN (max(NaN, 0) = 0; ONNX Runtime
      // returns NaN).
      default:
        break;
    }
    auto da = Dims(a.shape), db = Dims(b.shape);
    if (st == xnn_status_success) {
      auto setup = kind == kernels::BinaryOp::kAdd   ? xnn_setup_add_nd_f32
                   : kind == kernels::BinaryOp::kSub ? xnn_setup_subtract_nd_f32
                   : kind == kernels::BinaryOp::kMul ? xnn_setup_multiply_nd_f32
                                                     : xnn_setup_divide_nd_f32;
      RETURN_IF_ERROR(Xnn(
          setup(k->op(), da.size(), da.data(), db.size(), db.data(), a.data, b.data, out, ctx.pool),
          n, "setup binary"));
      seq->Add(std::move(k));
      continue;
    }
    const size_t count = ir::NumElements(out_shape);
    seq->Add(MakeFnKernel([=](pthreadpool_t) {
      kernels::BroadcastBinary(kind, a.data, da.size(), da.data(), b.data, db.size(), db.data(),
                               out);
      if (lo != -INFINITY || hi != INFINITY)
        for (size_t j = 0; j < count; ++j) out[j] = std::min(std::max(out[j], lo), hi);
    }));
  }
  if (n.op == "Mean") {
    const size_t count = ir::NumElements(out_shape);
    const float scale = 1.f / static_cast<float>(ops.size());
    seq->Add(MakeFnKernel([=](pthreadpool_t) {
      for (size_t j = 0; j < count; ++j) out[j] *= scale;
    }));
  }
  seq->Hold(owned);  // the reordered constants live as long as the kernels
  return std::unique_ptr<Kernel>(std::move(seq));
}

uint32_t BinaryCaps(const ir::Graph& g, const ir::Node& n) {
  // Integer Pow and Mean only fold.
  if (IntAtRunTime(g, n)) return n.op == "Pow" || n.op == "Mean" ? 0u : uint32_t{kCapTyped};
  const auto kind = KindOf(n.op);
  const bool clamp =
      n.op != "Mean" && (kind == kernels::BinaryOp::kAdd || kind == kernels::BinaryOp::kSub ||
                         kind == kernels::BinaryOp::kMul || kind == kernels::BinaryOp::kDiv);
  return (n.inputs.size() == 2 ? uint32_t{kCapInPlace} : 0u) |
         (clamp && n.inputs.size() >= 2 ? uint32_t{kCapClamp} : 0u);
}

}  // namespace

#define ONNXRUN_BINARY_OP(name) \
  extern const OpDef k##name##Op = {#name, InferBinary, FoldBinary, LowerBinary, BinaryCaps};
ONNXRUN_BINARY_OP(Add)
ONNXRUN_BINARY_OP(Sub)
ONNXRUN_BINARY_OP(Mul)
ONNXRUN_BINARY_OP(Div)
ONNXRUN_BINARY_OP(Pow)
ONNXRUN_BINARY_OP(Max)
ONNXRUN_BINARY_OP(Min)
ONNXRUN_BINARY_OP(Sum)
ONNXRUN_BINARY_OP(Mean)
#undef ONNXRUN_BINARY_OP

}  // namespace onnxrun
