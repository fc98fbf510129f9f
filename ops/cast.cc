// Cast and CastLike. At run time a float32 -> float32 cast is an alias and a float32 -> FLOAT16
// cast rounds to half precision (the runtime's float16 tensors are float32 holding half values);
// every other cast folds at load (shape arithmetic, bound test inputs): floats truncate toward zero
// into integers, integers wrap to the target width, float16 targets round to half precision.
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ops/kernels/unary.h"
#include "ops/op.h"
#include "ops/tensor_util.h"
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

absl::StatusOr<int64_t> TargetOf(const ir::Graph& g, const ir::Node& n) {
  if (n.op == "CastLike") {
    const ir::DataType t = g.value(n.inputs[1]).dtype;
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

absl::StatusOr<ir::Tensor> CastTensor(const ir::Node& n, const ir::Tensor& x, int64_t to) {
  const ir::DataType dt = TargetType(to);
  if (dt == ir::DataType::kOther)
    return Unsupported(n, absl::StrCat("cast to ", ir::OnnxTypeName(to), " is not supported"));
  const int64_t count = x.num_elements();
  const bool from_float = IsFloat(x);
  if (dt == ir::DataType::kFloat32 || dt == ir::DataType::kFloat16 ||
      dt == ir::DataType::kFloat64) {
    std::vector<float> v(count);
    for (int64_t i = 0; i < count; ++i) {
      v[i] = from_float ? x.values()[i] : static_cast<float>(x.ints()[i]);
      if (dt == ir::DataType::kFloat16) v[i] = kernels::RoundToHalf(v[i]);
    }
    ir::Tensor y(x.shape(), std::move(v));
    y.set_dtype(dt);
    return y;
  }
  std::vector<int64_t> v(count);
  for (int64_t i = 0; i < count; ++i) {
    if (from_float) {
      const float f = x.values()[i];
      if (to == kBool) {
        v[i] = f != 0;
        continue;
      }
      if (!std::isfinite(f) || std::fabs(f) >= 9.2e18f)
        return Unsupported(n, absl::StrCat("casting ", f, " to ", ir::OnnxTypeName(to),
                                           " is out of range (undefined in ONNX)"));
      v[i] = WrapInt(static_cast<int64_t>(std::trunc(f)), to);
    } else {
      v[i] = WrapInt(x.ints()[i], to);
    }
  }
  return ir::Tensor::Ints(x.shape(), std::move(v), dt);
}

bool KnownSource(ir::DataType t) { return t != ir::DataType::kOther && t != ir::DataType::kString; }

absl::Status InferCast(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, n.op == "CastLike" ? 2 : 1, n.op == "CastLike" ? 2 : 1));
  const auto& x = g.value(n.inputs[0]);
  if (!KnownSource(x.dtype))
    return Unsupported(n, absl::StrCat("input '", x.name, "' is ", ir::DataTypeName(x.dtype)));
  ASSIGN_OR_RETURN(int64_t to, TargetOf(g, n));
  const ir::DataType dt = TargetType(to);
  if (dt == ir::DataType::kOther)
    return Unsupported(n, absl::StrCat("cast to ", ir::OnnxTypeName(to), " is not supported"));
  const bool float_to_float = x.dtype == ir::DataType::kFloat32 &&
                              (dt == ir::DataType::kFloat32 || dt == ir::DataType::kFloat16);
  if (!x.is_constant() && !float_to_float)
    return Unsupported(
        n, absl::StrCat("cast from ", ir::DataTypeName(x.dtype), " to ", ir::OnnxTypeName(to),
                        " at run time (only float32 and float16 are computed at run time)"));
  // At run time float16 is float32 holding half values (runtime/optimize/prepare.cc): the cast
  // rounds to half precision.
  SetOutput(g, n, 0, x.is_constant() ? dt : ir::DataType::kFloat32, x.shape);
  return absl::OkStatus();
}

// Cast to FLOAT16 at run time (to = 10; CastLike's target is float32 by then): rounds every value.
bool RoundsToHalf(const ir::Graph& g, const ir::Node& n) {
  return n.op == "Cast" && !g.value(n.inputs[0]).is_constant() &&
         n.Int("to", kF32).value_or(kF32) == kF16;
}

float HalfOf(float v, const kernels::UnaryParams&) { return kernels::RoundToHalf(v); }

absl::StatusOr<std::unique_ptr<Kernel>> LowerCast(const LowerContext& ctx) {
  if (!RoundsToHalf(*ctx.graph, *ctx.node))
    return absl::InternalError(ctx.node->Describe() + ": a float32 cast is an alias, not a step");
  const float* x = ctx.in[0].data;
  float* y = ctx.out[0].data;
  const size_t count = ir::NumElements(ctx.input(0).shape);
  return MakeFnKernel([=](pthreadpool_t pool) {
    kernels::Elementwise<HalfOf>(x, count, y, count, 1, count, {}, pool);
  });
}

absl::Status FoldCast(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* out) {
  ASSIGN_OR_RETURN(int64_t to, TargetOf(g, n));
  ASSIGN_OR_RETURN(ir::Tensor y, CastTensor(n, *g.value(n.inputs[0]).constant, to));
  out->push_back(std::move(y));
  return absl::OkStatus();
}

// At run time a float32 -> float32 cast is an alias (the output is the input), one to FLOAT16 a
// rounding step. CastLike reads only the type of its second input, so it folds as soon as its
// data is constant.
uint32_t CastCaps(const ir::Graph& g, const ir::Node& n) {
  if (n.op == "CastLike" && g.value(n.inputs[0]).is_constant()) return kCapFoldsFromShape;
  return RoundsToHalf(g, n) ? kCapInPlace : kCapAlias;
}

}  // namespace

extern const OpDef kCastOp = {"Cast", InferCast, FoldCast, LowerCast, CastCaps};
extern const OpDef kCastLikeOp = {"CastLike", InferCast, FoldCast, nullptr, CastCaps};

}  // namespace onnxrun
