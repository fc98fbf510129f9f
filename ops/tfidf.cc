// TfIdfVectorizer (opset 9) on integer tokens: counts the pool's n-grams (lengths min_gram_length
// to max_gram_length, tokens up to max_skip_count apart) in each row of X and writes TF, IDF or
// TF-IDF values at their ngram_indexes. String pools and inputs are refused (no string tensors).
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct TfIdfParams : ir::OpParams {
  int64_t min_n = 1, max_n = 1, max_skip = 0, width = 0;
  std::string mode;
  std::map<std::vector<int64_t>, int64_t> pool;  // n-gram -> its ordinal in the pool
  std::vector<int64_t> indexes;                  // per ordinal: output column
  std::vector<float> weights;                    // per ordinal (empty: 1)
};

absl::Status InferTfIdf(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 1, 1));
  const ir::Value& x = g.value(n.inputs[0]);
  if (x.dtype != ir::DataType::kInt64 && x.dtype != ir::DataType::kInt32)
    return Unsupported(
        n, absl::StrCat("input is ", ir::DataTypeName(x.dtype), " (only int32 and int64 tokens)"));
  if (n.Has("pool_strings")) return Unsupported(n, "pool_strings (no string tensors)");
  if (x.shape.empty() || x.shape.size() > 2) return Invalid(n, "X must be [C] or [N, C]");
  auto p = std::make_shared<TfIdfParams>();
  ASSIGN_OR_RETURN(p->min_n, n.Int("min_gram_length", 0));
  ASSIGN_OR_RETURN(p->max_n, n.Int("max_gram_length", 0));
  ASSIGN_OR_RETURN(p->max_skip, n.Int("max_skip_count", 0));
  ASSIGN_OR_RETURN(p->mode, n.String("mode", ""));
  ASSIGN_OR_RETURN(std::vector<int64_t> counts, n.Ints("ngram_counts"));
  ASSIGN_OR_RETURN(p->indexes, n.Ints("ngram_indexes"));
  ASSIGN_OR_RETURN(std::vector<int64_t> pool, n.Ints("pool_int64s"));
  ASSIGN_OR_RETURN(p->weights, n.Floats("weights"));
  if (p->mode != "TF" && p->mode != "IDF" && p->mode != "TFIDF")
    return Invalid(n, absl::StrCat("mode '", p->mode, "' is not TF, IDF or TFIDF"));
  if (p->min_n < 1 || p->max_n < p->min_n || p->max_skip < 0 || p->max_n > 64 ||
      p->max_skip > (int64_t{1} << 30))
    return Invalid(n, "gram lengths or max_skip_count out of range");
  // ngram_counts[k]: where the n-grams of length k + 1 start in the pool.
  int64_t ordinal = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    const int64_t begin = counts[k];
    const int64_t end = k + 1 < counts.size() ? counts[k + 1] : static_cast<int64_t>(pool.size());
    const int64_t len = k + 1;
    if (begin < 0 || end < begin || end > static_cast<int64_t>(pool.size()) ||
        (end - begin) % len != 0)
      return Invalid(n, "ngram_counts does not split pool_int64s into n-grams");
    for (int64_t s = begin; s < end; s += len)
      p->pool.emplace(std::vector<int64_t>(pool.begin() + s, pool.begin() + s + len), ordinal++);
  }
  if (static_cast<int64_t>(p->indexes.size()) != ordinal ||
      (!p->weights.empty() && static_cast<int64_t>(p->weights.size()) != ordinal))
    return Invalid(n, "ngram_indexes (and weights) must have one value per pool n-gram");
  for (int64_t idx : p->indexes) {
    if (idx < 0 || idx > (int64_t{1} << 31)) return Invalid(n, "ngram_indexes out of range");
    p->width = std::max(p->width, idx + 1);
  }
  n.params = p;
  SetOutput(g, n, 0, ir::DataType::kFloat32,
            x.shape.size() == 1 ? ir::Shape{p->width} : ir::Shape{x.shape[0], p->width});
  return absl::OkStatus();
}

absl::Status ComputeTfIdf(const ir::Node& n, const std::vector<TypedBuf>& in,
                          const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const TfIdfParams* p, Params<TfIdfParams>(n));
  const TypedBuf &x = in[0], &y = out[0];
  const int64_t rows = x.shape.size() == 1 ? 1 : x.shape[0], cols = x.shape.back();
  std::fill_n(y.f(), y.count(), 0.f);
  std::vector<int64_t> gram;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t* row = x.i() + r * cols;
    std::vector<double> count(p->width, 0.0);
    for (int64_t len = p->min_n; len <= p->max_n; ++len)
      for (int64_t skip = 0; skip <= (len == 1 ? 0 : p->max_skip); ++skip)
        for (int64_t start = 0; start + (len - 1) * (skip + 1) < cols; ++start) {
          gram.clear();
          for (int64_t k = 0; k < len; ++k) gram.push_back(row[start + k * (skip + 1)]);
          auto it = p->pool.find(gram);
          if (it != p->pool.end()) count[p->indexes[it->second]] += 1;
        }
    for (const auto& [ngram, ordinal] : p->pool) {
      const int64_t col = p->indexes[ordinal];
      const double w = p->weights.empty() ? 1.0 : p->weights[ordinal];
      const double c = count[col];
      y.f()[r * p->width + col] = static_cast<float>(p->mode == "TF"    ? c
                                                     : p->mode == "IDF" ? (c > 0 ? w : 0)
                                                                        : c * w);
    }
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(TfIdfVectorizer, InferTfIdf, ComputeTfIdf);

}  // namespace onnxrun
