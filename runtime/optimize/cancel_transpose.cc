// Removes layout noise: the Transposes that exporters such as tf2onnx (with its optimizers off)
// put around every layout-sensitive op of an NHWC model. Anchored at a Transpose T(perm p):
//   * T(q) after T(p): one Transpose of the composed permutation, none when it is the identity;
//   * an elementwise op with one run-time input after T (Relu, Clip with constant bounds, ...):
//     the op moves before T (op(T(x)) == T(op(x))), so that T meets the next Transpose;
//   * a binary elementwise op whose run-time inputs are T(a) and T(b) of one permutation, or T(a)
//     and a constant (which is permuted to match): the op moves before one Transpose (numpy
//     broadcasting commutes with a permutation of every operand: SE blocks' [N,C,1,1] scales);
//   * a Reduce* after T: it reduces x over the permuted axes instead. With keepdims it moves
//     before T; without, when the kept dims keep their order (tf2onnx's ReduceMean over H, W of
//     NHWC data, Keras' GlobalAveragePooling2D), T goes away;
//   * a T that only moves dims of size 1 (what is left after a pooled [N,C,1,1] moved through)
//     keeps the order of the data: it becomes a Reshape, which aliases its input.
// Guards: the moved Transposes have no other reader and are no graph output; the op's other
// inputs are constants. Afterwards pairs cancel, and the ops land next to the convs they fuse into.
#include <algorithm>
#include <numeric>

#include "ops/kernels/transpose.h"
#include "ops/op.h"
#include "runtime/ir/status.h"
#include "runtime/optimize/pass.h"

namespace onnxrun {
namespace {

using Perm = std::vector<int64_t>;

// The permutation of Transpose node `n` (ONNX default: reversed dims), or empty.
Perm PermOf(const Rewriter& rw, const ir::Node& n) {
  if (n.op != "Transpose" || !n.domain.empty() || n.inputs.empty() || n.inputs[0] < 0) return {};
  const size_t rank = rw.value(n.inputs[0]).shape.size();
  Perm def(rank);
  for (size_t i = 0; i < rank; ++i) def[i] = static_cast<int64_t>(rank - 1 - i);
  auto p = n.Ints("perm", def);
  return p.ok() && p->size() == rank ? *p : Perm{};
}

bool IsIdentity(const Perm& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Ops computing each output element from the same element of their inputs, with no layout-
// dependent attribute; binary ones broadcast numpy-style.
bool IsUnaryElementwise(const std::string& op) {
  static const char* kOps[] = {"Relu",       "LeakyRelu", "Sigmoid",  "Tanh",        "Elu",
                               "Selu",       "Softplus",  "Softsign", "HardSigmoid", "HardSwish",
                               "Abs",        "Neg",       "Exp",      "Log",         "Sqrt",
                               "Reciprocal", "Erf",       "Clip",     "Floor",       "Ceil",
                               "Round",      "Sin",       "Cos",      "Mish",        "Gelu"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}
bool IsReduce(const std::string& op) {
  static const char* kOps[] = {"ReduceMean",   "ReduceSum",       "ReduceMax", "ReduceMin",
                               "ReduceProd",   "ReduceSumSquare", "ReduceL1",  "ReduceL2",
                               "ReduceLogSum", "ReduceLogSumExp"};
  for (const char* o : kOps)
    if (op == o) return true;
  return false;
}
bool IsBinaryElementwise(const std::string& op) {
  return op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Max" || op == "Min" ||
         op == "Pow";
}

// Nodes a and b exchange what they compute (op, attributes, name, fusions); their operands stay.
void ExchangeComputations(ir::Node& a, ir::Node& b) {
  std::swap(a.op, b.op);
  std::swap(a.domain, b.domain);
  std::swap(a.attrs, b.attrs);
  std::swap(a.name, b.name);
  std::swap(a.fusion, b.fusion);
  a.impl = b.impl = ir::Impl::kUnselected;
}

class CancelTranspose : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    const ir::Node& t = rw.node(i);
    perm_ = PermOf(rw, t);
    if (perm_.empty()) return false;
    kind_ = Kind::kNone;
    const int x = t.inputs[0];
    // T(q) after T(p).
    if (const int p = rw.value(x).producer; p >= 0 && !PermOf(rw, rw.node(p)).empty()) {
      kind_ = Kind::kCompose;
      return !(rw.value(t.outputs[0]).graph_output && IsIdentity(Composed(rw, i)));
    }
    // The sole reader of T: an elementwise op to move before it.
    const int out = t.outputs[0];
    const int c = rw.SoleConsumer(out);
    if (c < 0 || rw.value(out).graph_output) return false;
    const ir::Node& op = rw.node(c);
    if (IsReduce(op.op) && op.domain.empty() && op.inputs[0] == out && op.outputs.size() == 1) {
      consumer_ = c;
      return MatchReduce(rw, op);
    }
    if (!op.domain.empty() || op.outputs.size() != 1 || rw.value(op.outputs[0]).graph_output ||
        rw.value(op.outputs[0]).dtype != ir::DataType::kFloat32)
      return false;
    consumer_ = c;
    if (IsUnaryElementwise(op.op)) {
      if (op.inputs[0] != out) return false;
      for (size_t k = 1; k < op.inputs.size(); ++k)  // Clip's bounds
        if (op.inputs[k] >= 0 && !rw.value(op.inputs[k]).is_constant()) return false;
      kind_ = Kind::kUnary;
      return true;
    }
    if (!IsBinaryElementwise(op.op) || op.inputs.size() != 2 || !op.attrs.empty()) return false;
    const int other = op.inputs[0] == out ? op.inputs[1] : op.inputs[0];
    if (other == out) return false;
    const ir::Value& ov = rw.value(other);
    // Broadcasting commutes with a permutation applied to every operand of the same rank.
    const size_t rank = perm_.size();
    if (rw.value(op.outputs[0]).shape.size() != rank) return false;
    if (ov.is_constant()) {
      if (ov.constant->dtype() != ir::DataType::kFloat32 || ov.shape.size() > rank) return false;
      kind_ = Kind::kBinaryConstant;
      return true;
    }
    // T(a) and T(b): the other input is a Transpose of the same permutation read only here.
    if (ov.producer < 0 || PermOf(rw, rw.node(ov.producer)) != perm_ ||
        rw.SoleConsumer(other) != c || ov.graph_output)
      return false;
    if (rw.value(rw.node(ov.producer).inputs[0]).shape.size() != rank) return false;
    other_t_ = ov.producer;
    kind_ = Kind::kBinaryPair;
    return true;
  }

  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override {
    switch (kind_) {
      case Kind::kCompose:
        return Compose(rw, i);
      case Kind::kUnary:
        return Swap(rw, i, consumer_);
      case Kind::kBinaryConstant:
        return BinaryConstant(rw, i);
      case Kind::kBinaryPair:
        return BinaryPair(rw, i);
      case Kind::kReduce:
        return Reduce(rw, i);
      default:
        return absl::InternalError("cancel_transpose: no match to apply");
    }
  }

 private:
  enum class Kind { kNone, kCompose, kUnary, kBinaryConstant, kBinaryPair, kReduce };

  // A Reduce* reading T's output, with constant axes (attribute, or input 1 from opset 18 and
  // ReduceSum 13): records the axes it reduces on T's input, and whether T then goes away.
  bool MatchReduce(const Rewriter& rw, const ir::Node& op) {
    const int64_t rank = static_cast<int64_t>(perm_.size());
    const bool axes_input =
        rw.graph().opset >= 18 || (op.op == "ReduceSum" && rw.graph().opset >= 13);
    std::vector<int64_t> axes;
    if (axes_input) {
      if (op.Has("axes") || op.inputs.size() != 2 || op.inputs[1] < 0) return false;
      auto a = op_util::ConstInts(rw.graph(), op, 1, "'axes' input");
      if (!a.ok()) return false;
      axes = *a;
    } else {
      if (op.inputs.size() != 1) return false;
      auto a = op.Ints("axes");
      if (!a.ok()) return false;
      axes = *a;
    }
    auto keep = op.Int("keepdims", 1);
    auto noop = op.Int("noop_with_empty_axes", 0);
    if (!keep.ok() || !noop.ok() || axes.empty() || *noop != 0 || (*keep != 0 && *keep != 1))
      return false;
    // Moved before T, its output would become T's: not when it is a graph output.
    if (*keep == 1 && rw.value(op.outputs[0]).graph_output) return false;
    std::vector<bool> reduced(rank, false);
    for (int64_t a : axes) {
      if (a < -rank || a >= rank) return false;  // infer names the error
      reduced[a < 0 ? a + rank : a] = true;
    }
    reduce_axes_.clear();
    for (int64_t d = 0; d < rank; ++d)
      if (reduced[d]) reduce_axes_.push_back(perm_[d]);
    std::sort(reduce_axes_.begin(), reduce_axes_.end());
    reduce_axes_input_ = axes_input;
    reduce_drops_transpose_ = *keep == 0;
    if (*keep == 0) {  // the kept dims, in T's order, must be in x's order too
      int64_t last = -1;
      for (int64_t d = 0; d < rank; ++d) {
        if (reduced[d]) continue;
        if (perm_[d] < last) return false;
        last = perm_[d];
      }
    }
    kind_ = Kind::kReduce;
    return true;
  }

  // The permutation of T(q) o T(p): output dim k reads input dim p[q[k]].
  Perm Composed(const Rewriter& rw, int i) const {
    const Perm q = PermOf(rw, rw.node(i));
    const Perm p = PermOf(rw, rw.node(rw.value(rw.node(i).inputs[0]).producer));
    Perm r(q.size());
    for (size_t k = 0; k < q.size(); ++k) r[k] = p[q[k]];
    return r;
  }

  absl::StatusOr<std::string> Compose(Rewriter& rw, int i) {
    const Perm r = Composed(rw, i);
    const int first = rw.value(rw.node(i).inputs[0]).producer;
    const int x = rw.node(first).inputs[0];
    if (IsIdentity(r)) {
      rw.ReplaceUses(rw.node(i).outputs[0], x);
      rw.Remove(i);
      return std::string("cancels the Transpose before it");
    }
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = r;
    rw.SetAttr(i, "perm", a);
    rw.SetInput(i, 0, x);
    return std::string("merged with the Transpose before it");
  }

  // Node t (Transpose, x -> m) and node c (op, m -> y) exchange what they compute: t runs the op
  // on x into m, c transposes m into y. Positions stay (t precedes c), so the order holds.
  absl::StatusOr<std::string> Swap(Rewriter& rw, int t, int c) {
    ir::Node& tn = rw.node(t);
    ir::Node& cn = rw.node(c);
    const int x = tn.inputs[0], m = tn.outputs[0];
    std::vector<int> op_inputs = cn.inputs;
    for (int& v : op_inputs)
      if (v == m) v = x;
    ExchangeComputations(tn, cn);
    rw.SetInputs(t, op_inputs);
    rw.SetInputs(c, {m});
    return absl::StrCat(rw.node(t).op, " moved before the Transpose");
  }

  absl::StatusOr<std::string> BinaryConstant(Rewriter& rw, int i) {
    ir::Node& op = rw.node(consumer_);
    const int m = rw.node(i).outputs[0];
    const size_t k = op.inputs[0] == m ? 1 : 0;
    const ir::Tensor& c = *rw.value(op.inputs[k]).constant;
    // The constant, padded to the full rank, with its dims permuted back: c'[perm[d]] = c[d].
    const size_t rank = perm_.size();
    std::vector<size_t> dims(rank, 1);
    for (size_t d = 0; d < c.shape().size(); ++d)
      dims[rank - c.shape().size() + d] = static_cast<size_t>(c.shape()[d]);
    std::vector<size_t> inverse(rank);
    for (size_t d = 0; d < rank; ++d) inverse[perm_[d]] = d;
    ir::Shape shape(rank);
    for (size_t d = 0; d < rank; ++d) shape[d] = static_cast<int64_t>(dims[inverse[d]]);
    ir::Tensor permuted(shape);
    kernels::Transpose(c.data(), permuted.data(), sizeof(float), rank, dims.data(), inverse.data());
    const int cv = rw.AddConstant(rw.value(op.inputs[k]).name + ".perm", std::move(permuted));
    rw.SetInput(consumer_, k, cv);
    return Swap(rw, i, consumer_);
  }

  absl::StatusOr<std::string> BinaryPair(Rewriter& rw, int i) {
    // The later of the two Transposes becomes the op on (a, b); the op becomes the Transpose.
    const int later = std::max(i, other_t_), earlier = std::min(i, other_t_);
    ir::Node& op = rw.node(consumer_);
    const int m_later = rw.node(later).outputs[0], m_earlier = rw.node(earlier).outputs[0];
    std::vector<int> op_inputs = op.inputs;
    for (int& v : op_inputs) {
      if (v == m_later) v = rw.node(later).inputs[0];
      if (v == m_earlier) v = rw.node(earlier).inputs[0];
    }
    rw.SetInputs(consumer_, op_inputs);
    ir::Node& ln = rw.node(later);
    ir::Node& cn = rw.node(consumer_);
    ExchangeComputations(ln, cn);
    rw.SetInputs(later, op_inputs);
    rw.SetInputs(consumer_, {m_later});
    rw.Remove(earlier);
    return absl::StrCat(rw.node(later).op, " of two Transposes moved before one");
  }

  absl::StatusOr<std::string> Reduce(Rewriter& rw, int i) {
    if (reduce_axes_input_) {
      const int a = rw.AddConstant(
          rw.value(rw.node(consumer_).inputs[1]).name + ".perm",
          ir::Tensor::Ints({static_cast<int64_t>(reduce_axes_.size())}, reduce_axes_));
      rw.SetInput(consumer_, 1, a);
    } else {
      ir::Attribute attr;
      attr.kind = ir::Attribute::Kind::kInts;
      attr.ints = reduce_axes_;
      rw.SetAttr(consumer_, "axes", attr);
    }
    if (!reduce_drops_transpose_) return Swap(rw, i, consumer_);
    const std::string what = rw.node(consumer_).op + " reads the Transpose's input";
    rw.SetInput(consumer_, 0, rw.node(i).inputs[0]);
    rw.Remove(i);
    return what;
  }

  Perm perm_;
  Kind kind_ = Kind::kNone;
  std::vector<int64_t> reduce_axes_;
  bool reduce_axes_input_ = false, reduce_drops_transpose_ = false;
  int consumer_ = -1, other_t_ = -1;
};

// After the pairs have cancelled: a Transpose that only moves dims of size 1 keeps the data in
// order and becomes a Reshape (a view). Run second, so that it never takes a Transpose the rule
// above would have cancelled against another.
class UnitTranspose : public Rule {
 public:
  bool Match(const Rewriter& rw, int i) override {
    perm_ = PermOf(rw, rw.node(i));
    return !perm_.empty() && MovesOnlyUnitDims(rw.value(rw.node(i).inputs[0]).shape);
  }
  absl::StatusOr<std::string> Apply(Rewriter& rw, int i) override { return ToReshape(rw, i); }

 private:
  // Whether perm_ keeps the dims of size > 1 of a tensor of `shape` in their order (not the
  // identity: that is a Transpose an exporter wrote on purpose, left to the kernels).
  bool MovesOnlyUnitDims(const ir::Shape& shape) const {
    if (shape.size() != perm_.size() || IsIdentity(perm_)) return false;
    int64_t last = -1;
    for (int64_t d : perm_) {
      if (shape[d] < 0) return false;
      if (shape[d] == 1) continue;
      if (d < last) return false;
      last = d;
    }
    return true;
  }

  absl::StatusOr<std::string> ToReshape(Rewriter& rw, int i) {
    ir::Node& t = rw.node(i);
    const ir::Shape& y = rw.value(t.outputs[0]).shape;
    const int shape = rw.AddConstant(t.name.empty() ? "transpose.shape" : t.name + ".shape",
                                     ir::Tensor::Ints({static_cast<int64_t>(y.size())}, y));
    t.op = "Reshape";
    t.attrs.clear();
    t.impl = ir::Impl::kUnselected;
    rw.SetInputs(i, {t.inputs[0], shape});
    return std::string("moves only dims of size 1: a Reshape");
  }

  Perm perm_;
};

}  // namespace

absl::StatusOr<int> CancelTransposes(ir::Graph& g, const PassContext& ctx) {
  CancelTranspose rule;
  ASSIGN_OR_RETURN(int cancelled,
                   RunRule(g, "cancel_transpose", rule, ctx.trace, ctx.options.driver));
  UnitTranspose unit;
  ASSIGN_OR_RETURN(int reshaped,
                   RunRule(g, "cancel_transpose", unit, ctx.trace, ctx.options.driver));
  return cancelled + reshaped;
}

}  // namespace onnxrun
