// RNN, GRU and LSTM (opsets 7-14): forward, reverse and bidirectional, sequence_lens, initial
// states, peepholes, clip, layout 0/1, GRU's linear_before_reset, LSTM's input_forget, and the
// activations Sigmoid, Tanh, Relu, HardSigmoid, LeakyRelu, Affine, Elu, Softsign, Softplus,
// ThresholdedRelu, ScaledTanh. Step by step on row-major buffers (ops/typed.h), gate sums in
// double.
#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "ops/typed.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

using namespace op_util;

struct Activation {
  std::string name;
  float alpha = 0, beta = 0;
  double operator()(double v) const {
    if (name == "Sigmoid") return 1 / (1 + std::exp(-v));
    if (name == "Tanh") return std::tanh(v);
    if (name == "Relu") return std::max(v, 0.0);
    if (name == "HardSigmoid") return std::clamp(alpha * v + beta, 0.0, 1.0);
    if (name == "LeakyRelu") return v >= 0 ? v : alpha * v;
    if (name == "ThresholdedRelu") return v > alpha ? v : 0;
    if (name == "ScaledTanh") return alpha * std::tanh(beta * v);
    if (name == "Affine") return alpha * v + beta;
    if (name == "Elu") return v >= 0 ? v : alpha * (std::exp(v) - 1);
    if (name == "Softsign") return v / (1 + std::fabs(v));
    return std::log1p(std::exp(v));  // Softplus
  }
};

struct RecurrentParams : ir::OpParams {
  int64_t gates = 1, hidden = 0, dirs = 1;
  bool reverse = false, batch_first = false, linear_before_reset = false, input_forget = false;
  float clip = 0;               // 0: none
  std::vector<Activation> act;  // per direction: f, g(, h)
};

absl::Status InferRecurrent(ir::Graph& g, ir::Node& n) {
  RETURN_IF_ERROR(RequireInputs(n, 3, n.op == "LSTM" ? 8 : 6));
  auto p = std::make_shared<RecurrentParams>();
  p->gates = n.op == "LSTM" ? 4 : n.op == "GRU" ? 3 : 1;
  const ir::Value& x = g.value(n.inputs[0]);
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (n.inputs[i] >= 0 && i != 4 && !ir::IsFloatType(g.value(n.inputs[i]).dtype))
      return Unsupported(n, "only float inputs are supported");
  if (n.input(4) >= 0 && ir::IsFloatType(g.value(n.inputs[4]).dtype))
    return Invalid(n, "sequence_lens must be integers");
  ASSIGN_OR_RETURN(int64_t layout, n.Int("layout", 0));
  p->batch_first = layout != 0;
  ASSIGN_OR_RETURN(std::string direction, n.String("direction", "forward"));
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return Invalid(n, absl::StrCat("direction '", direction, "' is not valid"));
  p->dirs = direction == "bidirectional" ? 2 : 1;
  p->reverse = direction == "reverse";
  if (x.shape.size() != 3) return Invalid(n, "X must have rank 3");
  const int64_t seq = x.shape[p->batch_first ? 1 : 0], batch = x.shape[p->batch_first ? 0 : 1];
  const ir::Value& w = g.value(n.inputs[1]);
  if (w.shape.size() != 3 || w.shape[0] != p->dirs || w.shape[2] != x.shape[2])
    return Invalid(n, "W must be [num_directions, gates * hidden_size, input_size]");
  p->hidden = w.shape[1] / p->gates;
  ASSIGN_OR_RETURN(int64_t hidden, n.Int("hidden_size", p->hidden));
  if (hidden != p->hidden || w.shape[1] != p->gates * hidden)
    return Invalid(n, absl::StrCat("hidden_size ", hidden, " does not match W"));
  const ir::Shape r_shape = {p->dirs, p->gates * hidden, hidden};
  if (g.value(n.inputs[2]).shape != r_shape)
    return Invalid(n, absl::StrCat("R must be ", ir::ShapeString(r_shape)));
  const ir::Shape state =
      p->batch_first ? ir::Shape{batch, p->dirs, hidden} : ir::Shape{p->dirs, batch, hidden};
  const std::vector<std::pair<size_t, ir::Shape>> optional = {{3, {p->dirs, 2 * p->gates * hidden}},
                                                              {4, {batch}},
                                                              {5, state},
                                                              {6, state},
                                                              {7, {p->dirs, 3 * hidden}}};
  for (const auto& [i, shape] : optional)
    if (n.input(i) >= 0 && g.value(n.inputs[i]).shape != shape)
      return Invalid(n, absl::StrCat("input ", i, " must be ", ir::ShapeString(shape)));
  ASSIGN_OR_RETURN(p->clip, n.Float("clip", 0.f));
  if (p->clip < 0) return Invalid(n, "clip must not be negative");
  ASSIGN_OR_RETURN(int64_t lbr, n.Int("linear_before_reset", 0));
  p->linear_before_reset = lbr != 0;
  ASSIGN_OR_RETURN(int64_t forget, n.Int("input_forget", 0));
  p->input_forget = forget != 0;
  const std::vector<std::string> defaults =
      n.op == "LSTM"  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
      : n.op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                      : std::vector<std::string>{"Tanh"};
  std::vector<std::string> names;
  if (n.Has("activations")) {
    if (n.attrs.at("activations").kind != ir::Attribute::Kind::kStrings)
      return Invalid(n, "activations must be strings");
    names = n.attrs.at("activations").strings;
  } else {
    for (int64_t d = 0; d < p->dirs; ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  if (names.size() != defaults.size() * p->dirs)
    return Invalid(n, absl::StrCat(names.size(), " activations for ", p->dirs, " direction(s)"));
  ASSIGN_OR_RETURN(std::vector<float> alpha, n.Floats("activation_alpha"));
  ASSIGN_OR_RETURN(std::vector<float> beta, n.Floats("activation_beta"));
  static const char* kKnown[] = {
      "Sigmoid",    "Tanh",   "Relu", "HardSigmoid", "LeakyRelu", "ThresholdedRelu",
      "ScaledTanh", "Affine", "Elu",  "Softsign",    "Softplus"};
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(std::begin(kKnown), std::end(kKnown), names[i]) == std::end(kKnown))
      return Unsupported(n, absl::StrCat("activation '", names[i], "'"));
    Activation a{names[i]};
    // Defaults of the parametric activations (ONNX's, as for the ops of the same names).
    a.alpha = names[i] == "HardSigmoid" ? 0.2f : names[i] == "LeakyRelu" ? 0.01f : 1.f;
    a.beta = names[i] == "HardSigmoid" ? 0.5f : names[i] == "Affine" ? 0.f : 1.f;
    if (i < alpha.size()) a.alpha = alpha[i];
    if (i < beta.size()) a.beta = beta[i];
    p->act.push_back(a);
  }
  n.params = p;
  SetOutput(g, n, 0, ir::DataType::kFloat32,
            p->batch_first ? ir::Shape{batch, seq, p->dirs, hidden}
                           : ir::Shape{seq, p->dirs, batch, hidden});
  SetOutput(g, n, 1, ir::DataType::kFloat32, state);
  if (n.op == "LSTM") SetOutput(g, n, 2, ir::DataType::kFloat32, state);
  return absl::OkStatus();
}

absl::Status ComputeRecurrent(const ir::Node& n, const std::vector<TypedBuf>& in,
                              const std::vector<TypedBuf>& out) {
  ASSIGN_OR_RETURN(const RecurrentParams* p, Params<RecurrentParams>(n));
  auto input = [&](size_t i) -> const TypedBuf* {
    return i < in.size() && in[i].data ? &in[i] : nullptr;
  };
  const TypedBuf &x = in[0], &wt = in[1], &rt = in[2];
  const bool bf = p->batch_first;
  const int64_t seq = x.shape[bf ? 1 : 0], batch = x.shape[bf ? 0 : 1], isz = x.shape[2];
  const int64_t hs = p->hidden, gates = p->gates, dirs = p->dirs;
  const size_t acts = p->act.size() / dirs;
  // Element offsets: X[t][b][:], Y[t][d][b][:], states [d][b][:] (layout 0) or the batch-first
  // orders (layout 1).
  auto x_at = [&](int64_t t, int64_t b) { return ((bf ? b * seq + t : t * batch + b)) * isz; };
  auto y_at = [&](int64_t t, int64_t d, int64_t b) {
    return (bf ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * hs;
  };
  auto s_at = [&](int64_t d, int64_t b) { return (bf ? b * dirs + d : d * batch + b) * hs; };
  if (out[0].data) std::fill_n(out[0].f(), out[0].count(), 0.f);
  std::vector<double> h(hs), c(hs), next(hs), zv(hs), rv(hs), gsum(gates * hs), rsum(gates * hs);
  for (int64_t d = 0; d < dirs; ++d) {
    const Activation *f = &p->act[d * acts], *gact = &p->act[d * acts + (acts > 1 ? 1 : 0)];
    const Activation* hact = &p->act[d * acts + (acts > 2 ? 2 : 0)];
    const bool rev = p->reverse || d == 1;
    const float* w = wt.f() + d * gates * hs * isz;
    const float* r = rt.f() + d * gates * hs * hs;
    const float* bias = input(3) ? input(3)->f() + d * 2 * gates * hs : nullptr;
    const float* peep = input(7) ? input(7)->f() + d * 3 * hs : nullptr;
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t len = input(4) ? input(4)->i()[b] : seq;
      if (len < 0 || len > seq)
        return Invalid(n, absl::StrCat("sequence length ", len, " is outside [0, ", seq, "]"));
      for (int64_t k = 0; k < hs; ++k) {
        h[k] = input(5) ? input(5)->f()[s_at(d, b) + k] : 0;
        c[k] = input(6) ? input(6)->f()[s_at(d, b) + k] : 0;
      }
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = rev ? len - 1 - s : s;
        const float* xt = x.f() + x_at(t, b);
        // Gate sums: W x + Wb (gsum) and R h + Rb (rsum), kept apart for GRU's reset gate.
        for (int64_t j = 0; j < gates * hs; ++j) {
          double a = bias ? bias[j] : 0, e = bias ? bias[gates * hs + j] : 0;
          for (int64_t i = 0; i < isz; ++i) a += double(w[j * isz + i]) * xt[i];
          for (int64_t i = 0; i < hs; ++i) e += double(r[j * hs + i]) * h[i];
          gsum[j] = a;
          rsum[j] = e;
        }
        auto clip = [&](double v) {
          return p->clip > 0 ? std::clamp<double>(v, -p->clip, p->clip) : v;
        };
        if (gates == 3)
          for (int64_t k = 0; k < hs; ++k) {
            zv[k] = (*f)(clip(gsum[k] + rsum[k]));
            rv[k] = (*f)(clip(gsum[hs + k] + rsum[hs + k]));
          }
        for (int64_t k = 0; k < hs; ++k) {
          if (gates == 1) {
            h[k] = (*f)(clip(gsum[k] + rsum[k]));
          } else if (gates == 3) {  // GRU: z, r, then the candidate h (reset r applied)
            double cand;
            if (p->linear_before_reset) {
              cand = (*gact)(clip(gsum[2 * hs + k] + rv[k] * rsum[2 * hs + k]));
            } else {
              double e = bias ? bias[gates * hs + 2 * hs + k] : 0;
              for (int64_t i = 0; i < hs; ++i) e += double(r[(2 * hs + k) * hs + i]) * rv[i] * h[i];
              cand = (*gact)(clip(gsum[2 * hs + k] + e));
            }
            next[k] = (1 - zv[k]) * cand + zv[k] * h[k];
          } else {  // LSTM: i, o, f, c
            const double pi = peep ? peep[k] : 0, po = peep ? peep[hs + k] : 0,
                         pf = peep ? peep[2 * hs + k] : 0;
            const double ig = (*f)(clip(gsum[k] + rsum[k] + pi * c[k]));
            const double fg = p->input_forget
                                  ? 1 - ig
                                  : (*f)(clip(gsum[2 * hs + k] + rsum[2 * hs + k] + pf * c[k]));
            const double cg = (*gact)(clip(gsum[3 * hs + k] + rsum[3 * hs + k]));
            const double cn = fg * c[k] + ig * cg;
            const double og = (*f)(clip(gsum[hs + k] + rsum[hs + k] + po * cn));
            next[k] = og * (*hact)(cn);
            c[k] = cn;
          }
        }
        if (gates > 1) h = next;  // every gate read the previous state
        if (out[0].data)
          for (int64_t k = 0; k < hs; ++k) out[0].f()[y_at(t, d, b) + k] = static_cast<float>(h[k]);
      }
      for (int64_t k = 0; k < hs; ++k) {
        if (out.size() > 1 && out[1].data) out[1].f()[s_at(d, b) + k] = static_cast<float>(h[k]);
        if (out.size() > 2 && out[2].data) out[2].f()[s_at(d, b) + k] = static_cast<float>(c[k]);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

ONNXRUN_TYPED_OP(RNN, InferRecurrent, ComputeRecurrent);
ONNXRUN_TYPED_OP(GRU, InferRecurrent, ComputeRecurrent);
ONNXRUN_TYPED_OP(LSTM, InferRecurrent, ComputeRecurrent);

}  // namespace onnxrun
