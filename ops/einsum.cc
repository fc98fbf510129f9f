// Einsum (opset 12): any equation of numpy's grammar (explicit or implicit output, repeated labels
// for diagonals, "..." broadcast), computed by visiting every combination of the labels' indices
// and accumulating products in double. A direct loop: right for small contractions, not a GEMM.
#include <algorithm>
#include <cctype>
#include <map>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct EinsumParams : ir::OpParams {
  std::vector<std::string> inputs;  // labels per operand ("..." expanded to labels 1, 2, ...)
  std::string output;
  std::map<char, int64_t> sizes;
};

// Labels of one term with "..." replaced by the last `rank - letters` of the `ellipsis` labels
// (right-aligned, as numpy broadcasts).
absl::StatusOr<std::string> Expand(const ir::Node& n, std::string term, int64_t rank,
                                   int64_t ellipsis) {
  const size_t dots = term.find("...");
  if (dots == std::string::npos) return term;
  const int64_t k = rank - static_cast<int64_t>(term.size() - 3);
  if (k < 0 || k > ellipsis) return Invalid(n, "an operand's rank does not match the equation");
  std::string labels;
  for (int64_t j = ellipsis - k; j < ellipsis; ++j) labels += static_cast<char>(1 + j);
  return term.replace(dots, 3, labels);
}

absl::Status InferEinsum(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 64));
  if (!n.Has("equation")) return Invalid(n, "attribute 'equation' is required");
  ASSIGN_OR_RETURN(std::string eq, n.String("equation", ""));
  std::erase(eq, ' ');
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != n.inputs.size())
    return Invalid(n, absl::StrCat("equation '", eq, "' has ", terms.size(), " operands, the node ",
                                   n.inputs.size()));
  auto p = std::make_shared<EinsumParams>();
  int64_t ellipsis = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    const ir::Value& v = g.value(n.inputs[i]);
    if (v.dtype != g.value(n.inputs[0]).dtype || v.dtype == ir::DataType::kBool ||
        v.dtype == ir::DataType::kString || v.dtype == ir::DataType::kOther)
      return Unsupported(n, "operands must share one numeric type");
    if (terms[i].find("...") != std::string::npos)
      ellipsis = std::max<int64_t>(ellipsis, v.shape.size() - (terms[i].size() - 3));
  }
  if (ellipsis > 20) return Invalid(n, "too many broadcast dimensions");
  std::map<char, int> count;
  for (size_t i = 0; i < terms.size(); ++i) {
    const ir::Value& v = g.value(n.inputs[i]);
    ASSIGN_OR_RETURN(std::string labels, Expand(n, terms[i], v.shape.size(), ellipsis));
    if (labels.size() != v.shape.size())
      return Invalid(n,
                     absl::StrCat("term '", terms[i], "' does not match the rank of operand ", i));
    for (size_t d = 0; d < labels.size(); ++d) {
      const char c = labels[d];
      if (c > 20 && !std::isalpha(static_cast<unsigned char>(c)))
        return Invalid(n, absl::StrCat("equation '", eq, "' has an invalid label"));
      auto [it, fresh] = p->sizes.emplace(c, v.shape[d]);
      if (!fresh && it->second != v.shape[d]) {
        // Broadcast dimensions of size 1 stretch; letters must agree.
        if (c <= 20 && (it->second == 1 || v.shape[d] == 1))
          it->second = std::max(it->second, v.shape[d]);
        else
          return Invalid(n, absl::StrCat("label '", std::string(1, c), "' has sizes ", it->second,
                                         " and ", v.shape[d]));
      }
      ++count[c];
    }
    p->inputs.push_back(labels);
  }
  if (arrow != std::string::npos) {
    const std::string rhs = eq.substr(arrow + 2);
    const bool dots = rhs.find("...") != std::string::npos;
    ASSIGN_OR_RETURN(p->output,
                     Expand(n, rhs, dots ? rhs.size() - 3 + ellipsis : rhs.size(), ellipsis));
  } else {  // implicit: the broadcast labels, then the letters used once, alphabetically
    for (int64_t j = 0; j < ellipsis; ++j) p->output += static_cast<char>(1 + j);
    for (const auto& [c, k] : count)  // occurrences over every term
      if (c > 20 && k == 1) p->output += c;
  }
  ir::Shape shape;
  int64_t work = 1;
  for (const auto& [c, size] : p->sizes) {
    ASSIGN_OR_RETURN(work, SizeMul(n, work, std::max<int64_t>(size, 1), "einsum work"));
  }
  if (work > (int64_t{1} << 31)) return Unsupported(n, "the contraction is too large");
  for (char c : p->output) {
    if (!p->sizes.count(c) || std::count(p->output.begin(), p->output.end(), c) != 1)
      return Invalid(n, absl::StrCat("output of equation '", eq, "' is not valid"));
    shape.push_back(p->sizes[c]);
  }
  n.params = p;
  SetOutput(g, n, 0, g.value(n.inputs[0]).dtype, shape);
  return absl::OkStatus();
}

absl::Status ComputeEinsum(const ir::Node& n, const std::vector<TypedBuf>& in,
                           const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const EinsumParams* p, Params<EinsumParams>(n));
  // Every label, output labels first; per operand the stride of each label (0 where it broadcasts).
  std::string all = p->output;
  for (const auto& [c, size] : p->sizes)
    if (all.find(c) == std::string::npos) all += c;
  std::vector<int64_t> size(all.size());
  for (size_t l = 0; l < all.size(); ++l) size[l] = p->sizes.at(all[l]);
  std::vector<std::vector<int64_t>> stride(in.size(), std::vector<int64_t>(all.size(), 0));
  for (size_t i = 0; i < in.size(); ++i) {
    const std::vector<int64_t> st = Strides(in[i].shape);
    for (size_t d = 0; d < p->inputs[i].size(); ++d)
      if (in[i].shape[d] != 1) stride[i][all.find(p->inputs[i][d])] += st[d];
  }
  std::vector<int64_t> out_stride(all.size(), 0);
  const std::vector<int64_t> ost = Strides(out[0].shape);
  for (size_t d = 0; d < p->output.size(); ++d) out_stride[d] = ost[d];
  std::vector<double> acc(out[0].count(), 0.0);
  int64_t total = 1;
  for (int64_t s : size) total *= s;
  std::vector<int64_t> idx(all.size(), 0);
  for (int64_t k = 0; k < total; ++k) {
    double prod = 1;
    int64_t o = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      int64_t off = 0;
      for (size_t l = 0; l < all.size(); ++l) off += idx[l] * stride[i][l];
      prod *= in[i].at(off);
    }
    for (size_t l = 0; l < p->output.size(); ++l) o += idx[l] * out_stride[l];
    acc[o] += prod;
    for (size_t l = all.size(); l-- > 0;) {
      if (++idx[l] < size[l]) break;
      idx[l] = 0;
    }
  }
  for (int64_t k = 0; k < out[0].count(); ++k) {
    if (out[0].is_float())
      out[0].f()[k] = static_cast<float>(acc[k]);
    else
      out[0].i()[k] = WrapTo(out[0].dtype, static_cast<int64_t>(acc[k]));
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(Einsum, InferEinsum, ComputeEinsum);

}  // namespace onnxrun
