// Comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual), logical ops (And, Or, Xor,
// Not), bitwise ops (BitShift, BitwiseAnd/Or/Xor/Not), Mod, IsNaN and IsInf: elementwise with
// numpy broadcasting on every numeric type and bool, folded at load or run as typed kernels
// (ops/typed.h). Comparisons and logical ops return bool.
#include <cmath>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;
using ir::DataType;

enum class Kind {
  kEqual,
  kLess,
  kGreater,
  kLessOrEqual,
  kGreaterOrEqual,
  kAnd,
  kOr,
  kXor,
  kBitAnd,
  kBitOr,
  kBitXor,
  kShiftLeft,
  kShiftRight,
  kMod,
  kFmod,
};

struct LogicalParams : ir::OpParams {
  Kind kind = Kind::kEqual;
  bool detect_negative = true, detect_positive = true;  // IsInf
};

bool IsComparison(std::string_view op) {
  return op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" ||
         op == "GreaterOrEqual";
}
bool IsLogical(std::string_view op) { return op == "And" || op == "Or" || op == "Xor"; }
bool IsBitwise(std::string_view op) {
  return op == "BitwiseAnd" || op == "BitwiseOr" || op == "BitwiseXor" || op == "BitShift";
}
bool IsIntType(DataType t) { return !ir::IsFloatType(t) && t != DataType::kBool; }

absl::StatusOr<Kind> KindOf(const ir::Node& n, DataType t) {
  static const std::pair<std::string_view, Kind> kKinds[] = {
      {"Equal", Kind::kEqual},
      {"Less", Kind::kLess},
      {"Greater", Kind::kGreater},
      {"LessOrEqual", Kind::kLessOrEqual},
      {"GreaterOrEqual", Kind::kGreaterOrEqual},
      {"And", Kind::kAnd},
      {"Or", Kind::kOr},
      {"Xor", Kind::kXor},
      {"BitwiseAnd", Kind::kBitAnd},
      {"BitwiseOr", Kind::kBitOr},
      {"BitwiseXor", Kind::kBitXor}};
  for (const auto& [name, kind] : kKinds)
    if (n.op == name) return kind;
  if (n.op == "BitShift") {
    if (!n.Has("direction")) return Invalid(n, "attribute 'direction' is required");
    ASSIGN_OR_RETURN(std::string dir, n.String("direction", ""));
    if (dir == "LEFT") return Kind::kShiftLeft;
    if (dir == "RIGHT") return Kind::kShiftRight;
    return Invalid(n, absl::StrCat("direction '", dir, "' is not LEFT or RIGHT"));
  }
  // Mod: integer mod takes the divisor's sign (Python) unless fmod = 1; floats need fmod = 1.
  ASSIGN_OR_RETURN(int64_t fmod, n.Int("fmod", 0));
  if (fmod != 0 && fmod != 1) return Invalid(n, absl::StrCat("fmod = ", fmod, " is not 0 or 1"));
  if (ir::IsFloatType(t) && fmod != 1)
    return Invalid(n, "fmod must be 1 for floating-point inputs");
  return fmod ? Kind::kFmod : Kind::kMod;
}

absl::Status InferBinaryLogical(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 2, 2));
  const ir::Value& a = g.value(n.inputs[0]);
  const ir::Value& b = g.value(n.inputs[1]);
  if (a.dtype != b.dtype)
    return Invalid(n, absl::StrCat("inputs have different types (", ir::DataTypeName(a.dtype),
                                   " and ", ir::DataTypeName(b.dtype), ")"));
  const DataType t = a.dtype;
  if (t == DataType::kString || t == DataType::kOther)
    return Unsupported(n, absl::StrCat("element type ", ir::DataTypeName(t), " is not supported"));
  if (IsLogical(n.op) && t != DataType::kBool)
    return Invalid(n, absl::StrCat("inputs are ", ir::DataTypeName(t), ", not bool"));
  if (IsBitwise(n.op) && !IsIntType(t))
    return Invalid(n, absl::StrCat("inputs are ", ir::DataTypeName(t), ", not integers"));
  if ((n.op == "Less" || n.op == "Greater" || n.op == "LessOrEqual" || n.op == "GreaterOrEqual" ||
       n.op == "Mod") &&
      t == DataType::kBool)
    return Invalid(n, "inputs are bool, not numbers");
  ASSIGN_OR_RETURN(int64_t legacy, n.Int("broadcast", 0));
  if (legacy && n.Has("axis") && b.shape.size() < a.shape.size()) {
    ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 0));
    if (axis + static_cast<int64_t>(b.shape.size()) != static_cast<int64_t>(a.shape.size()))
      return Unsupported(n, "legacy broadcasting with 'axis' that is not numpy-compatible");
  }
  ASSIGN_OR_RETURN(ir::Shape shape, Broadcast(n, a.shape, b.shape));
  auto p = std::make_shared<LogicalParams>();
  ASSIGN_OR_RETURN(p->kind, KindOf(n, t));
  n.params = p;
  const bool to_bool = IsComparison(n.op) || IsLogical(n.op);
  SetOutput(g, n, 0, to_bool ? DataType::kBool : t, shape);
  return absl::OkStatus();
}

// Python's modulo: the result takes the divisor's sign.
int64_t FloorMod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

absl::Status ComputeBinaryLogical(const ir::Node& n, const std::vector<TypedBuf>& in,
                                  const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const LogicalParams* p, Params<LogicalParams>(n));
  const TypedBuf &a = in[0], &b = in[1], &y = out[0];
  BroadcastIndex index(y.shape, {a.shape, b.shape});
  const Kind kind = p->kind;
  if (a.is_float()) {
    const float *x0 = a.f(), *x1 = b.f();
    if (kind == Kind::kFmod) {
      float* r = y.f();
      index.ForEach(
          [&](int64_t k, const std::vector<int64_t>& o) { r[k] = std::fmod(x0[o[0]], x1[o[1]]); });
      return absl::OkStatus();
    }
    int64_t* r = y.i();
    index.ForEach([&](int64_t k, const std::vector<int64_t>& o) {
      const float u = x0[o[0]], v = x1[o[1]];
      switch (kind) {
        case Kind::kEqual:
          r[k] = u == v;
          break;
        case Kind::kLess:
          r[k] = u < v;
          break;
        case Kind::kGreater:
          r[k] = u > v;
          break;
        case Kind::kLessOrEqual:
          r[k] = u <= v;
          break;
        default:
          r[k] = u >= v;
          break;
      }
    });
    return absl::OkStatus();
  }
  const int64_t *x0 = a.i(), *x1 = b.i();
  int64_t* r = y.i();
  const DataType t = a.dtype;
  // Shifts and bitwise ops act on the bits of the type's width: unsigned types shift in zeros.
  const int bits = t == DataType::kInt8 || t == DataType::kUint8 ? 8
                   : t == DataType::kInt32                       ? 32
                                                                 : 64;
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  // UINT64 values are int64 bits: compared with the sign bit flipped (unsigned order), divided
  // unsigned.
  const bool u64 = t == DataType::kUint64;
  const int64_t order_flip = u64 ? std::numeric_limits<int64_t>::min() : 0;
  bool div_by_zero = false;
  index.ForEach([&](int64_t k, const std::vector<int64_t>& o) {
    const int64_t u = x0[o[0]], v = x1[o[1]];
    const int64_t uo = u ^ order_flip, vo = v ^ order_flip;  // ordered as the type orders
    int64_t z = 0;
    switch (kind) {
      case Kind::kEqual:
        z = u == v;
        break;
      case Kind::kLess:
        z = uo < vo;
        break;
      case Kind::kGreater:
        z = uo > vo;
        break;
      case Kind::kLessOrEqual:
        z = uo <= vo;
        break;
      case Kind::kGreaterOrEqual:
        z = uo >= vo;
        break;
      case Kind::kAnd:
        z = u && v;
        break;
      case Kind::kOr:
        z = u || v;
        break;
      case Kind::kXor:
        z = (u != 0) != (v != 0);
        break;
      case Kind::kBitAnd:
        z = u & v;
        break;
      case Kind::kBitOr:
        z = u | v;
        break;
      case Kind::kBitXor:
        z = u ^ v;
        break;
      case Kind::kShiftLeft:
      case Kind::kShiftRight: {
        const uint64_t bitsu = static_cast<uint64_t>(u) & mask;
        const uint64_t s = static_cast<uint64_t>(v);
        const uint64_t shifted = s >= static_cast<uint64_t>(bits) ? 0
                                 : kind == Kind::kShiftLeft       ? (bitsu << s) & mask
                                                                  : bitsu >> s;
        z = WrapTo(t, static_cast<int64_t>(shifted));
        break;
      }
      case Kind::kMod:
      case Kind::kFmod:
        if (v == 0) {
          div_by_zero = true;
          break;
        }
        // INT64_MIN % -1 overflows in C++; the remainder is 0.
        z = u64       ? static_cast<int64_t>(static_cast<uint64_t>(u) % static_cast<uint64_t>(v))
            : v == -1 ? 0
            : kind == Kind::kMod ? FloorMod(u, v)
                                 : u % v;
        break;
    }
    r[k] = z;
  });
  if (div_by_zero) return Invalid(n, "integer modulo by zero");
  return absl::OkStatus();
}

absl::Status InferUnaryLogical(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& x = g.value(n.inputs[0]);
  auto p = std::make_shared<LogicalParams>();
  if (n.op == "Not" && x.dtype != DataType::kBool)
    return Invalid(n, absl::StrCat("input is ", ir::DataTypeName(x.dtype), ", not bool"));
  if (n.op == "BitwiseNot" && !IsIntType(x.dtype))
    return Invalid(n, absl::StrCat("input is ", ir::DataTypeName(x.dtype), ", not an integer"));
  if ((n.op == "IsNaN" || n.op == "IsInf") && !ir::IsFloatType(x.dtype))
    return Invalid(n, absl::StrCat("input is ", ir::DataTypeName(x.dtype), ", not a float"));
  if (n.op == "IsInf") {
    ASSIGN_OR_RETURN(int64_t neg, n.Int("detect_negative", 1));
    ASSIGN_OR_RETURN(int64_t pos, n.Int("detect_positive", 1));
    p->detect_negative = neg != 0;
    p->detect_positive = pos != 0;
  }
  n.params = p;
  SetOutput(g, n, 0, n.op == "BitwiseNot" ? x.dtype : DataType::kBool, x.shape);
  return absl::OkStatus();
}

absl::Status ComputeUnaryLogical(const ir::Node& n, const std::vector<TypedBuf>& in,
                                 const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const LogicalParams* p, Params<LogicalParams>(n));
  const int64_t count = out[0].count();
  int64_t* y = out[0].i();
  if (n.op == "Not" || n.op == "BitwiseNot") {
    const int64_t* x = in[0].i();
    for (int64_t k = 0; k < count; ++k) y[k] = n.op == "Not" ? !x[k] : WrapTo(in[0].dtype, ~x[k]);
    return absl::OkStatus();
  }
  const float* x = in[0].f();
  for (int64_t k = 0; k < count; ++k) {
    const float v = x[k];
    y[k] = n.op == "IsNaN" ? std::isnan(v)
                           : std::isinf(v) && (v > 0 ? p->detect_positive : p->detect_negative);
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(Equal, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(Less, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(Greater, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(LessOrEqual, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(GreaterOrEqual, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(And, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(Or, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(Xor, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(BitwiseAnd, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(BitwiseOr, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(BitwiseXor, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(BitShift, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(Mod, InferBinaryLogical, ComputeBinaryLogical);
ONNXRUN_TYPED_OP(Not, InferUnaryLogical, ComputeUnaryLogical);
ONNXRUN_TYPED_OP(BitwiseNot, InferUnaryLogical, ComputeUnaryLogical);
ONNXRUN_TYPED_OP(IsNaN, InferUnaryLogical, ComputeUnaryLogical);
ONNXRUN_TYPED_OP(IsInf, InferUnaryLogical, ComputeUnaryLogical);

}  // namespace onnxrun
