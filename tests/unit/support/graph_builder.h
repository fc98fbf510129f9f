// Test helpers: build small ONNX models in memory (onnx::ModelProto), write them to a temp file so
// tests go through the real loader and Session::Load, run sessions, and load the IR for structure
// checks of single passes and of the memory plan. Header-only: every tests/unit/**/*_test.cc is one
// binary and may include it.
//
//   GraphBuilder b(13);
//   auto x = b.Input("x", {1, 3, 8, 8});
//   auto w = b.Init("w", {4, 3, 3, 3}, RandomVector(108, rng));
//   auto y = b.Op("Conv", {x, w}).Ints("pads", {1, 1, 1, 1});
//   b.Output(b.Op("Relu", {y}));
//   auto out = RunModel(b, {}, {{"x", RandomTensor({1, 3, 8, 8}, rng)}});
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "loaders/onnx_loader.h"
#include "onnx/onnx_pb.h"
#include "onnxrun/onnxrun.h"
#include "runtime/exec/fold_by_running.h"
#include "runtime/ir/graph.h"
#include "runtime/optimize/pass.h"
#include "runtime/optimize/prepare.h"
#include "runtime/plan/memory_plan.h"

namespace onnxrun::test {

// A node under construction: chain attribute setters, convert to its (first) output name.
class NodeRef {
 public:
  explicit NodeRef(onnx::NodeProto* p) : p_(p) {}
  NodeRef& Int(const std::string& name, int64_t v) {
    auto* a = Attr(name, onnx::AttributeProto::INT);
    a->set_i(v);
    return *this;
  }
  NodeRef& Ints(const std::string& name, const std::vector<int64_t>& v) {
    auto* a = Attr(name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
    return *this;
  }
  NodeRef& Float(const std::string& name, float v) {
    auto* a = Attr(name, onnx::AttributeProto::FLOAT);
    a->set_f(v);
    return *this;
  }
  NodeRef& Floats(const std::string& name, const std::vector<float>& v) {
    auto* a = Attr(name, onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
    return *this;
  }
  NodeRef& Str(const std::string& name, const std::string& v) {
    auto* a = Attr(name, onnx::AttributeProto::STRING);
    a->set_s(v);
    return *this;
  }
  const std::string& name() const { return p_->name(); }
  std::string out(int i = 0) const { return p_->output(i); }
  operator std::string() const { return out(0); }  // NOLINT: reads like a value in Op({...})
  onnx::NodeProto* proto() const { return p_; }

 private:
  onnx::AttributeProto* Attr(const std::string& name, onnx::AttributeProto::AttributeType t) {
    auto* a = p_->add_attribute();
    a->set_name(name);
    a->set_type(t);
    return a;
  }
  onnx::NodeProto* p_;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(int64_t opset = 13) {
    model_.set_ir_version(opset >= 13 ? 7 : 6);
    model_.set_producer_name("onnxrun-tests");
    auto* imp = model_.add_opset_import();
    imp->set_domain("");
    imp->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  // A float32 graph input; -1 dimensions are dynamic (dim_param).
  std::string Input(const std::string& name, const std::vector<int64_t>& shape) {
    return AddInput(name, shape, onnx::TensorProto::FLOAT);
  }
  // An int64 graph input (to be bound at load with SessionOptions::bound_inputs).
  std::string InputInts(const std::string& name, const std::vector<int64_t>& shape) {
    return AddInput(name, shape, onnx::TensorProto::INT64);
  }
  // A graph input of any ONNX element type (onnx::TensorProto::INT32, BOOL, ...).
  std::string InputOfType(const std::string& name, const std::vector<int64_t>& shape, int type) {
    return AddInput(name, shape, type);
  }
  std::string Init(const std::string& name, const std::vector<int64_t>& shape,
                   const std::vector<float>& data) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
    return name;
  }
  std::string InitInts(const std::string& name, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& data) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : shape) t->add_dims(d);
    for (int64_t v : data) t->add_int64_data(v);
    return name;
  }
  // A random float initializer in [lo, hi).
  std::string Weight(const std::string& name, const std::vector<int64_t>& shape, std::mt19937& rng,
                     float lo = -1.f, float hi = 1.f) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return Init(name, shape, v);
  }

  // Adds a node; outputs are named "<node>:<i>". An empty input name is an omitted optional input.
  NodeRef Op(const std::string& op, const std::vector<std::string>& inputs, int num_outputs = 1,
             std::string name = "") {
    if (name.empty()) name = absl::StrCat(op, "_", model_.graph().node_size());
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& in : inputs) n->add_input(in);
    for (int i = 0; i < num_outputs; ++i) n->add_output(absl::StrCat(name, ":", i));
    return NodeRef(n);
  }
  void Output(const std::string& value) {
    auto* o = model_.mutable_graph()->add_output();
    o->set_name(value);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }

  onnx::ModelProto& model() { return model_; }
  const onnx::ModelProto& model() const { return model_; }

  // Writes the model to a fresh file under the test temp dir and returns its path.
  std::string Save() const {
    static std::atomic<int> counter{0};
    const std::string path =
        absl::StrCat(::testing::TempDir(), "onnxrun_unit_", ::getpid(), "_", counter++, ".onnx");
    std::ofstream f(path, std::ios::binary);
    model_.SerializeToOstream(&f);
    return path;
  }

 private:
  std::string AddInput(const std::string& name, const std::vector<int64_t>& shape, int type) {
    auto* in = model_.mutable_graph()->add_input();
    in->set_name(name);
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* s = tt->mutable_shape();
    for (size_t i = 0; i < shape.size(); ++i) {
      auto* d = s->add_dim();
      if (shape[i] < 0)
        d->set_dim_param(absl::StrCat("d", i));
      else
        d->set_dim_value(shape[i]);
    }
    return name;
  }
  onnx::ModelProto model_;
};

// Expects `expr` (an absl::Status) to fail with `status_code` and a message containing `text`.
#define EXPECT_ERROR(expr, status_code, text)                                           \
  do {                                                                                  \
    const absl::Status _s = (expr);                                                     \
    EXPECT_EQ(_s.code(), absl::StatusCode::status_code) << _s;                          \
    EXPECT_NE(std::string(_s.message()).find(text), std::string::npos) << _s.message(); \
  } while (0)

using Feeds = std::vector<std::pair<std::string, Tensor>>;

inline std::vector<float> RandomVector(int64_t n, std::mt19937& rng, float lo = -1.f,
                                       float hi = 1.f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}
inline Tensor RandomTensor(const std::vector<int64_t>& shape, std::mt19937& rng, float lo = -1.f,
                           float hi = 1.f) {
  return Tensor(shape, RandomVector(ir::NumElements(shape), rng, lo, hi));
}
inline int64_t RandomInt(std::mt19937& rng, int64_t lo, int64_t hi) {  // inclusive
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
// Random values in [lo, hi) for every graph input, in the shapes the model declares.
inline Feeds RandomFeeds(const GraphBuilder& b, std::mt19937& rng, float lo = -1.f,
                         float hi = 1.f) {
  Feeds f;
  for (const auto& in : b.model().graph().input()) {
    std::vector<int64_t> s;
    for (const auto& d : in.type().tensor_type().shape().dim()) s.push_back(d.dim_value());
    f.push_back({in.name(), RandomTensor(s, rng, lo, hi)});
  }
  return f;
}

// A k x k Conv of c -> m channels with "same" pads, small random weights (magnitudes stay near 1,
// so 1e-5 is a meaningful absolute tolerance) and, if `bias`, a random bias.
inline std::string Conv(GraphBuilder& b, std::mt19937& rng, const std::string& in, int64_t c,
                        int64_t m, int64_t k = 3, bool bias = false, const std::string& name = "") {
  const int i = b.model().graph().initializer_size();
  std::vector<std::string> ins = {in,
                                  b.Weight(absl::StrCat("w", i), {m, c, k, k}, rng, -0.3f, 0.3f)};
  if (bias) ins.push_back(b.Weight(absl::StrCat("b", i), {m}, rng));
  return b.Op("Conv", ins, 1, name).Ints("pads", {k / 2, k / 2, k / 2, k / 2});
}

// Saves, loads (and deletes the file).
inline absl::StatusOr<std::unique_ptr<Session>> LoadSession(const GraphBuilder& b,
                                                            const SessionOptions& options = {}) {
  const std::string path = b.Save();
  auto s = Session::Load(path, options);
  std::remove(path.c_str());
  return s;
}

inline absl::StatusOr<std::vector<Tensor>> RunSession(Session& s, const Feeds& feeds) {
  std::vector<std::pair<std::string, const Tensor*>> in;
  for (const auto& [name, t] : feeds) in.push_back({name, &t});
  std::vector<Tensor> out;
  absl::Status st = s.Run(in, &out);
  if (!st.ok()) return st;
  return out;
}

inline absl::StatusOr<std::vector<Tensor>> RunModel(const GraphBuilder& b,
                                                    const SessionOptions& options,
                                                    const Feeds& feeds) {
  auto s = LoadSession(b, options);
  if (!s.ok()) return s.status();
  return RunSession(**s, feeds);
}

// The IR as loaded (no shape inference).
inline absl::StatusOr<ir::Graph> LoadGraph(const GraphBuilder& b) {
  const std::string path = b.Save();
  auto g = LoadOnnxModel(path);
  std::remove(path.c_str());
  return g;
}
// Loaded + shapes bound and inferred + constants folded: what the optimizer sees.
inline absl::StatusOr<ir::Graph> PrepareGraph(const GraphBuilder& b,
                                              const PrepareOptions& options = {},
                                              int* folded = nullptr) {
  auto g = LoadGraph(b);
  if (!g.ok()) return g.status();
  PrepareOptions with_folding = options;  // fold as a session does
  if (!with_folding.fold_by_running) with_folding.fold_by_running = FoldByRunning;
  absl::Status s = InferAndFold(*g, with_folding, folded);
  if (!s.ok()) return s;
  return std::move(*g);
}
// A model both PrepareGraph and LoadSession refuse with InvalidArgument, the message holding every
// `wanted` text (the checks before any op code runs: operands, attributes).
inline void ExpectLoadRefused(const GraphBuilder& b, const std::vector<std::string>& wanted) {
  for (const bool session : {false, true}) {
    const absl::Status s = session ? LoadSession(b).status() : PrepareGraph(b).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    for (const auto& w : wanted) EXPECT_NE(s.message().find(w), absl::string_view::npos) << s;
  }
}
// Prepared + (optionally) optimized + planned: what the executor sees.
inline absl::StatusOr<MemoryPlan> PlanGraph(ir::Graph& g, bool optimize,
                                            MemoryPlanOptions options) {
  // As the session does: without the optimizer, kernels are still selected (lowering and the
  // workspaces read the choice).
  absl::Status s = optimize ? Optimize(g, nullptr) : SelectKernelsOnly(g, OptimizeOptions{});
  if (!s.ok()) return s;
  return PlanMemory(g, options);
}

// Lookups in a prepared graph (-1 when absent).
inline int ValueId(const ir::Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].name == name) return static_cast<int>(i);
  return -1;
}
inline int NodeIndex(const ir::Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!g.nodes[i].removed && g.nodes[i].name == name) return static_cast<int>(i);
  return -1;
}
inline int LiveNodes(const ir::Graph& g) {
  int n = 0;
  for (const auto& node : g.nodes) n += !node.removed;
  return n;
}

// |got - want| <= atol + rtol * |want| elementwise, same shape.
inline ::testing::AssertionResult AllClose(const Tensor& got, const Tensor& want,
                                           double atol = 1e-4, double rtol = 1e-4) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure()
           << "shape " << ir::ShapeString(got.shape()) << " vs " << ir::ShapeString(want.shape());
  if (got.values().size() != want.values().size())
    return ::testing::AssertionFailure()
           << "size " << got.values().size() << " vs " << want.values().size();
  int bad = 0;
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  for (size_t i = 0; i < got.values().size(); ++i) {
    const double g = got.values()[i], w = want.values()[i];
    if (std::fabs(g - w) <= atol + rtol * std::fabs(w)) continue;
    if (bad++ < 5) r << "\n  at " << i << ": got " << g << " want " << w;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return r << "\n  " << bad << " of " << got.values().size() << " elements differ";
}

inline ::testing::AssertionResult BitwiseEqual(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure()
           << "shape " << ir::ShapeString(a.shape()) << " vs " << ir::ShapeString(b.shape());
  for (size_t i = 0; i < a.values().size(); ++i)
    if (std::memcmp(&a.values()[i], &b.values()[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure()
             << "differ at " << i << ": " << a.values()[i] << " vs " << b.values()[i];
  return ::testing::AssertionSuccess();
}

// Every combination of optimize x concat_in_place x in_place (optimize first varies slowest).
inline std::vector<SessionOptions> OptionVariants() {
  std::vector<SessionOptions> v;
  for (bool opt : {true, false})
    for (bool concat : {true, false})
      for (bool in_place : {true, false}) {
        SessionOptions o;
        o.optimize = opt;
        o.concat_in_place = concat;
        o.in_place = in_place;
        v.push_back(o);
      }
  return v;
}
inline std::string VariantName(const SessionOptions& o) {
  return absl::StrCat("optimize=", o.optimize, " concat_in_place=", o.concat_in_place,
                      " in_place=", o.in_place, " threads=", o.num_threads);
}

// Runs `b` under every option variant; each output must match `want` within atol/rtol, and every
// variant must equal the first one bitwise (`bitwise`) or within atol/rtol.
inline void ExpectAllVariants(const GraphBuilder& b, const Feeds& feeds,
                              const std::vector<Tensor>& want, bool bitwise = true,
                              double atol = 1e-4, double rtol = 1e-4) {
  std::vector<Tensor> first;
  for (const SessionOptions& o : OptionVariants()) {
    SCOPED_TRACE(VariantName(o));
    auto out = RunModel(b, o, feeds);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_TRUE(AllClose((*out)[i], want[i], atol, rtol)) << "output " << i;
      if (!first.empty()) {
        if (bitwise)
          EXPECT_TRUE(BitwiseEqual((*out)[i], first[i])) << "output " << i << " vs first variant";
        else
          EXPECT_TRUE(AllClose((*out)[i], first[i], atol, rtol))
              << "output " << i << " vs first variant";
      }
    }
    if (first.empty()) first = std::move(*out);
  }
}

// The session's outputs with the optimizer on equal those with it off: within `tol`, or to the bit
// (`bitwise`, for rewrites that compute the same roundings, e.g. fused elementwise steps).
inline void ExpectOptimizeKeepsNumerics(const GraphBuilder& b, const Feeds& feeds,
                                        double tol = 1e-5, bool bitwise = false) {
  SessionOptions off;
  off.optimize = false;
  auto with = RunModel(b, {}, feeds);
  auto without = RunModel(b, off, feeds);
  ASSERT_TRUE(with.ok()) << with.status();
  ASSERT_TRUE(without.ok()) << without.status();
  ASSERT_EQ(with->size(), without->size());
  for (size_t i = 0; i < with->size(); ++i)
    EXPECT_TRUE(bitwise ? BitwiseEqual((*with)[i], (*without)[i])
                        : AllClose((*with)[i], (*without)[i], tol, tol))
        << "output " << i;
}

}  // namespace onnxrun::test
