// DFT (opset 17): the discrete Fourier transform along one axis of a real ([..., 1]) or complex
// ([..., 2]) signal, forward or inverse (scaled by 1/N), with dft_length (zero-padded or cut) and
// onesided output. A direct O(N^2) sum in double on row-major buffers (ops/typed.h).
#include <algorithm>
#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct DftParams : ir::OpParams {
  int64_t axis = 1, length = 0;
  bool inverse = false, onesided = false;
};

absl::Status InferDft(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 3));
  if (n.input(2) >= 0) return Unsupported(n, "axis as an input (opset 20)");
  const ir::Value& x = g.value(n.inputs[0]);
  if (!ir::IsFloatType(x.dtype)) return Unsupported(n, "only float signals are supported");
  const int64_t rank = x.shape.size();
  if (rank < 3 || (x.shape.back() != 1 && x.shape.back() != 2))
    return Invalid(
        n, absl::StrCat("input ", ir::ShapeString(x.shape), " is not [batch, signal..., 1 or 2]"));
  auto p = std::make_shared<DftParams>();
  ASSIGN_OR_RETURN(int64_t axis, n.Int("axis", 1));
  ASSIGN_OR_RETURN(p->axis, Axis(n, axis, rank - 1, "axis"));
  if (p->axis == 0) return Invalid(n, "axis 0 is the batch axis");
  ASSIGN_OR_RETURN(int64_t inverse, n.Int("inverse", 0));
  ASSIGN_OR_RETURN(int64_t onesided, n.Int("onesided", 0));
  p->inverse = inverse != 0;
  p->onesided = onesided != 0;
  if (p->inverse && p->onesided) return Unsupported(n, "inverse with onesided = 1");
  p->length = x.shape[p->axis];
  if (n.input(1) >= 0) {  // the output length: it must be constant
    ASSIGN_OR_RETURN(std::vector<int64_t> len, ConstInts(g, n, 1, "'dft_length' input"));
    if (len.size() != 1 || len[0] < 1 || len[0] > (int64_t{1} << 24))
      return Invalid(n, "dft_length must be one value in [1, 2^24]");
    p->length = len[0];
  }
  ir::Shape shape = x.shape;
  shape[p->axis] = p->onesided ? p->length / 2 + 1 : p->length;
  shape.back() = 2;
  n.params = p;
  SetOutput(g, n, 0, ir::DataType::kFloat32, shape);
  return absl::OkStatus();
}

absl::Status ComputeDft(const ir::Node& n, const std::vector<TypedBuf>& in,
                        const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const DftParams* p, Params<DftParams>(n));
  const TypedBuf &x = in[0], &y = out[0];
  const int64_t comps = x.shape.back(), len_in = x.shape[p->axis], len_out = y.shape[p->axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < p->axis; ++d) outer *= x.shape[d];
  for (size_t d = p->axis + 1; d + 1 < x.shape.size(); ++d) inner *= x.shape[d];
  const int64_t used = std::min(len_in, p->length);  // samples beyond dft_length are cut
  const double sign = p->inverse ? 1 : -1, scale = p->inverse ? 1.0 / p->length : 1.0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t k = 0; k < len_out; ++k) {
        double re = 0, im = 0;
        for (int64_t t = 0; t < used; ++t) {
          const int64_t src = ((o * len_in + t) * inner + i) * comps;
          const double a = x.f()[src], b = comps == 2 ? x.f()[src + 1] : 0;
          // The angle reduced modulo the length first keeps it exact for long signals.
          const double angle = sign * 2 * std::numbers::pi * ((k * t) % p->length) / p->length;
          re += a * std::cos(angle) - b * std::sin(angle);
          im += a * std::sin(angle) + b * std::cos(angle);
        }
        const int64_t dst = ((o * len_out + k) * inner + i) * 2;
        y.f()[dst] = static_cast<float>(re * scale);
        y.f()[dst + 1] = static_cast<float>(im * scale);
      }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(DFT, InferDft, ComputeDft);

}  // namespace onnxrun
