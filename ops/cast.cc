// Cast and CastLike. At run time a float32 -> float32 cast is an alias and a float32 -> FLOAT16 or
// BFLOAT16 cast rounds to that precision (the runtime's float16 and bfloat16 tensors are float32
// holding such values); every other cast (folded at load or run as a typed kernel, ops/typed.h):
// floats truncate toward zero into integers, integers wrap to the target width, float16 and
// bfloat16 targets round to their precision (ties to even), float64 is float32. UINT64 values are
// int64 bits.
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ops/kernels/unary.h"
#include "ops/op.h"
#include "ops/tensor_util.h"
#include "ops/typed.h"
#include "ops/xnn_kernel.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

// ONNX TensorProto.DataType codes.
enum OnnxType : int64_t {
  kF32 = 1,
  kU8 = 2,
  kI8 = 3,
  kU16 = 4,
  kI16 = 5,
  kI32 = 6,
  kI64 = 7,
  kStr = 8,
  kBool = 9,
  kF16 = 10,
  kF64 = 11,
  kU32 = 12,
  kU64 = 13,
  kC64 = 14,
  kC128 = 15,
  kBF16 = 16,
};

// The runtime's DataType for an ONNX target type, or kOther when it has none.
ir::DataType TargetType(int64_t to) {
  switch (to) {
    case kF32:
      return ir::DataType::kFloat32;
    case kF16:
      return ir::DataType::kFloat16;
    case kBF16:
      return ir::DataType::kBfloat16;
    case kU64:
      return ir::DataType::kUint64;
    case kF64:
      return ir::DataType::kFloat64;
    case kI64:
      return ir::DataType::kInt64;
    case kI32:
    case kI16:
    case kU16:
    case kU32:
      return ir::DataType::kInt32;
    case kI8:
      return ir::DataType::kInt8;
    case kU8:
      return ir::DataType::kUint8;
    case kBool:
      return ir::DataType::kBool;
    default:
      return ir::DataType::kOther;
  }
}

int64_t WrapInt(int64_t v, int64_t to) {
  switch (to) {
    case kI8:
      return static_cast<int8_t>(v);
    case kU8:
      return static_cast<uint8_t>(v);
    case kI16:
      return static_cast<int16_t>(v);
    case kU16:
      return static_cast<uint16_t>(v);
    case kI32:
      return static_cast<int32_t>(v);
    case kU32:
      return static_cast<uint32_t>(v);
    case kBool:
      return v != 0;
    default:
      return v;
  }
}

// The ONNX target type; CastLike's is that of its second input, `like`.
absl::StatusOr<int64_t> TargetOf(const ir::Node& n, ir::DataType like) {
  if (n.op == "CastLike") {
    const ir::DataType t = like;
    switch (t) {
      case ir::DataType::kFloat32:
        return int64_t{kF32};
      case ir::DataType::kFloat16:
        return int64_t{kF16};
      case ir::DataType::kFloat64:
        return int64_t{kF64};
      case ir::DataType::kInt64:
        return int64_t{kI64};
      case ir::DataType::kInt32:
        return int64_t{kI32};
      case ir::DataType::kInt8:
        return int64_t{kI8};
      case ir::DataType::kUint8:
        return int64_t{kU8};
      case ir::DataType::kUint64:
        return int64_t{kU64};
      case ir::DataType::kBfloat16:
        return int64_t{kBF16};
      case ir::DataType::kBool:
        return int64_t{kBool};
      default:
        return Unsupported(n,
                           absl::StrCat("target type ", ir::DataTypeName(t), " is not supported"));
    }
  }
  if (!n.Has("to")) return Invalid(n, "attribute 'to' is required");
  return n.Int("to", kF32);
}

absl::Status ComputeCast(const ir::Node& n, const std::vector<TypedBuf>& in,
                         const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(int64_t to, TargetOf(n, in.size() > 1 ? in[1].dtype : ir::DataType::kOther));
  const TypedBuf &x = in[0], &y = out[0];
  const int64_t count = x.count();
  if (y.is_float()) {
    for (int64_t i = 0; i < count; ++i) {
      const float v = x.is_float() ? x.f()[i]
                      : x.dtype == ir::DataType::kUint64
                          ? static_cast<float>(static_cast<uint64_t>(x.i()[i]))
                          : static_cast<float>(x.i()[i]);
      y.f()[i] = to == kF16    ? kernels::RoundToHalf(v)
                 : to == kBF16 ? kernels::RoundToBfloat16(v)
                               : v;
    }
    return absl::OkStatus();
  }
  for (int64_t i = 0; i < count; ++i) {
    if (!x.is_float()) {
      y.i()[i] = WrapInt(x.i()[i], to);
      continue;
    }
    const float f = x.f()[i];
    if (to == kBool) {
      y.i()[i] = f != 0;
      continue;
    }
    if (!std::isfinite(f) || std::fabs(f) >= 9.2e18f)
      return Unsupported(n, absl::StrCat("casting ", f, " to ", ir::OnnxTypeName(to),
                                         " is out of range (undefined in ONNX)"));
    y.i()[i] = WrapInt(static_cast<int64_t>(std::trunc(f)), to);
  }
  return absl::OkStatus();
}

bool KnownSource(ir::DataType t) { return t != ir::DataType::kOther && t != ir::DataType::kString; }

absl::Status InferCast(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, n.op == "CastLike" ? 2 : 1, n.op == "CastLike" ? 2 : 1));
  const auto& x = g.value(n.inputs[0]);
  if (!KnownSource(x.dtype))
    return Unsupported(n, absl::StrCat("input '", x.name, "' is ", ir::DataTypeName(x.dtype)));
  ASSIGN_OR_RETURN(int64_t to,
                   TargetOf(n, n.op == "CastLike" ? g.value(n.inputs[1]).dtype : x.dtype));
  const ir::DataType dt = TargetType(to);
  if (dt == ir::DataType::kOther)
    return Unsupported(n, absl::StrCat("cast to ", ir::OnnxTypeName(to), " is not supported"));
  // At run time float16 is float32 holding half values (runtime/optimize/prepare.cc): the cast
  // rounds to half precision. Float64 is float32 too.
  SetOutput(g, n, 0, ir::IsFloatType(dt) && !x.is_constant() ? ir::DataType::kFloat32 : dt,
            x.shape);
  return absl::OkStatus();
}

// Cast to FLOAT16 or BFLOAT16 at run time (CastLike's target is float32 by then): rounds every
// value; the target's code, 0 for other casts.
int64_t RoundsTo(const ir::Graph& g, const ir::Node& n) {
  if (n.op != "Cast" || g.value(n.inputs[0]).is_constant() ||
      g.value(n.inputs[0]).dtype != ir::DataType::kFloat32)
    return 0;
  const int64_t to = n.Int("to", kF32).value_or(kF32);
  return to == kF16 || to == kBF16 ? to : 0;
}

// A cast reading or writing an integer or bool tensor at run time (a typed kernel).
bool Typed(const ir::Graph& g, const ir::Node& n) {
  return g.value(n.inputs[0]).dtype != ir::DataType::kFloat32 ||
         g.value(n.outputs[0]).dtype != ir::DataType::kFloat32;
}

float HalfOf(float v, const kernels::UnaryParams&) { return kernels::RoundToHalf(v); }
float BfloatOf(float v, const kernels::UnaryParams&) { return kernels::RoundToBfloat16(v); }

absl::StatusOr<std::unique_ptr<Kernel>> LowerCast(const LowerContext& ctx) {
  if (Typed(*ctx.graph, *ctx.node)) return LowerTyped(ctx, ComputeCast);
  const int64_t to = RoundsTo(*ctx.graph, *ctx.node);
  if (!to)
    return absl::InternalError(ctx.node->Describe() + ": a float32 cast is an alias, not a step");
  const float* x = ctx.in[0].data;
  float* y = ctx.out[0].data;
  const size_t count = ir::NumElements(ctx.input(0).shape);
  return MakeFnKernel([=](pthreadpool_t pool) {
    if (to == kF16)
      kernels::Elementwise<HalfOf>(x, count, y, count, 1, count, {}, pool);
    else
      kernels::Elementwise<BfloatOf>(x, count, y, count, 1, count, {}, pool);
  });
}

// At run time a float32 -> float32 cast is an alias (the output is the input), one to FLOAT16 a
// rounding step. CastLike reads only the type of its second input, so it folds as soon as its
// data is constant.
uint32_t CastCaps(const ir::Graph& g, const ir::Node& n) {
  if (n.op == "CastLike" && g.value(n.inputs[0]).is_constant()) return kCapFoldsFromShape;
  if (Typed(g, n)) return kCapTyped;
  return RoundsTo(g, n) ? kCapInPlace : kCapAlias;
}

int64_t CastWorkspace(const ir::Graph& g, const ir::Node& n, int threads) {
  return Typed(g, n) ? TypedWorkspace(g, n, threads) : 0;
}

}  // namespace

extern const OpDef kCastOp = {"Cast",    InferCast, FoldWith<ComputeCast>,
                              LowerCast, CastCaps,  CastWorkspace};
extern const OpDef kCastLikeOp = {"CastLike", InferCast, FoldWith<ComputeCast>,
                                  LowerCast,  CastCaps,  CastWorkspace};

}  // namespace onnxrun
