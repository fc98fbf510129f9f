// Integer and bool tensors at run time (ops/typed.h): graph inputs and outputs of every type
// through the public API, the arena sized by element type, and the typed ops checked against
// references written here, on random shapes, at run time and folded (inputs bound at load).
#include <algorithm>
#include <numeric>

#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

Tensor RandomInts(const std::vector<int64_t>& shape, std::mt19937& rng, int64_t lo, int64_t hi,
                  DataType type = DataType::kInt64) {
  std::vector<int64_t> v(ir::NumElements(shape));
  for (int64_t& x : v) x = RandomInt(rng, lo, hi);
  return Tensor::Ints(shape, std::move(v), type);
}

// Runs `b` with every input given to Run(), then with the non-float32 ones bound at load (folded):
// both must give `check`'s verdict and the same outputs.
void RunBothWays(const GraphBuilder& b, const Feeds& feeds,
                 const std::function<void(const std::vector<Tensor>&)>& check) {
  auto run = RunModel(b, {}, feeds);
  ASSERT_TRUE(run.ok()) << run.status();
  check(*run);
  SessionOptions bound;
  Feeds rest;
  for (const auto& [name, t] : feeds)
    if (t.dtype() == DataType::kFloat32)
      rest.push_back({name, t});
    else
      bound.bound_inputs[name] = t;
  auto folded = RunModel(b, bound, rest);
  ASSERT_TRUE(folded.ok()) << folded.status();
  ASSERT_EQ(folded->size(), run->size());
  for (size_t i = 0; i < run->size(); ++i) {
    EXPECT_EQ((*folded)[i].dtype(), (*run)[i].dtype()) << i;
    EXPECT_EQ((*folded)[i].ints(), (*run)[i].ints()) << i;
    EXPECT_EQ((*folded)[i].values(), (*run)[i].values()) << i;
  }
}

TEST(Typed, ArgMaxThresholdAndWhereHeadAtRunTime) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t rows = RandomInt(rng, 1, 4), cols = RandomInt(rng, 1, 9);
    GraphBuilder b(13);
    auto x = b.Input("x", {rows, cols});
    b.Output(b.Op("ArgMax", {x}).Int("axis", 1).Int("keepdims", 0));
    auto zero = b.Init("zero", {}, {0.f});
    auto mask = b.Op("Less", {x, zero});
    b.Output(b.Op("Where", {mask, zero, x}));  // Relu written as a mask
    b.Output(b.Op("Not", {mask}));
    const Tensor in = RandomTensor({rows, cols}, rng);
    auto out = RunModel(b, {}, {{"x", in}});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), 3u);
    EXPECT_EQ((*out)[0].dtype(), DataType::kInt64);
    EXPECT_EQ((*out)[0].shape(), (std::vector<int64_t>{rows}));
    EXPECT_EQ((*out)[2].dtype(), DataType::kBool);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = in.data() + r * cols;
      EXPECT_EQ((*out)[0].ints()[r], std::max_element(row, row + cols) - row);
      for (int64_t c = 0; c < cols; ++c) {
        EXPECT_EQ((*out)[1].values()[r * cols + c], std::max(row[c], 0.f));
        EXPECT_EQ((*out)[2].ints()[r * cols + c], row[c] >= 0.f);
      }
    }
  }
}

TEST(Typed, IntegerInputsArithmeticAndCasts) {
  std::mt19937 rng(2);
  GraphBuilder b(13);
  auto a = b.InputInts("a", {3, 4});
  auto d = b.InputInts("d", {4});
  b.Output(b.Op("Add", {a, d}));
  b.Output(b.Op("Mod", {a, d}));  // sign of the divisor
  auto f = b.Op("Cast", {a}).Int("to", onnx::TensorProto::FLOAT);
  b.Output(b.Op("Mul", {f, f}));
  b.Output(b.Op("Cast", {b.Op("Mul", {a, a})}).Int("to", onnx::TensorProto::INT8));
  const Tensor ta = RandomInts({3, 4}, rng, -100, 100), td = RandomInts({4}, rng, 1, 9);
  RunBothWays(b, {{"a", ta}, {"d", td}}, [&](const std::vector<Tensor>& out) {
    ASSERT_EQ(out.size(), 4u);
    for (int64_t i = 0; i < 12; ++i) {
      const int64_t u = ta.ints()[i], v = td.ints()[i % 4];
      EXPECT_EQ(out[0].ints()[i], u + v);
      EXPECT_EQ(out[1].ints()[i], ((u % v) + v) % v);
      EXPECT_EQ(out[2].values()[i], static_cast<float>(u * u));
      EXPECT_EQ(out[3].ints()[i], static_cast<int8_t>(u * u));  // wraps at 8 bits
    }
    EXPECT_EQ(out[3].dtype(), DataType::kInt8);
  });
}

TEST(Typed, GatherAndScatterElementsOnRandomShapes) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 8; ++trial) {
    const int64_t rank = RandomInt(rng, 1, 3);
    std::vector<int64_t> shape(rank);
    for (int64_t& s : shape) s = RandomInt(rng, 1, 4);
    const int64_t axis = RandomInt(rng, -rank, rank - 1), ax = axis < 0 ? axis + rank : axis;
    GraphBuilder b(16);
    auto x = b.Input("x", shape);
    auto idx = b.InputInts("idx", shape);
    b.Output(b.Op("GatherElements", {x, idx}).Int("axis", axis));
    b.Output(b.Op("ScatterElements", {x, idx, x}).Int("axis", axis).Str("reduction", "add"));
    const Tensor tx = RandomTensor(shape, rng);
    const Tensor ti = RandomInts(shape, rng, -shape[ax], shape[ax] - 1);
    // Reference: walk every index position.
    const int64_t count = ir::NumElements(shape);
    std::vector<float> gather(count), scatter(tx.values());
    std::vector<int64_t> strides(rank, 1);
    for (int64_t k = rank - 1; k > 0; --k) strides[k - 1] = strides[k] * shape[k];
    for (int64_t e = 0; e < count; ++e) {
      const int64_t j = ti.ints()[e] < 0 ? ti.ints()[e] + shape[ax] : ti.ints()[e];
      const int64_t pos = (e / strides[ax]) % shape[ax];
      const int64_t src = e + (j - pos) * strides[ax];
      gather[e] = tx.values()[src];
      scatter[src] += tx.values()[e];
    }
    RunBothWays(b, {{"x", tx}, {"idx", ti}}, [&](const std::vector<Tensor>& out) {
      EXPECT_EQ(out[0].values(), gather);
      for (int64_t e = 0; e < count; ++e) EXPECT_FLOAT_EQ(out[1].values()[e], scatter[e]) << e;
    });
  }
}

TEST(Typed, TopKTriluCumSumOnRandomShapes) {
  std::mt19937 rng(4);
  for (int trial = 0; trial < 6; ++trial) {
    const int64_t rows = RandomInt(rng, 1, 5), cols = RandomInt(rng, 1, 6);
    const int64_t k = RandomInt(rng, 0, cols), diag = RandomInt(rng, -3, 3);
    GraphBuilder b(14);
    auto x = b.InputOfType("x", {rows, cols}, onnx::TensorProto::INT32);
    auto xf = b.Op("Cast", {x}).Int("to", onnx::TensorProto::FLOAT);
    auto top = b.Op("TopK", {xf, b.InitInts("k", {1}, {k})}, 2);
    b.Output(top.out(0));
    b.Output(top.out(1));
    b.Output(b.Op("Trilu", {x, b.InitInts("diag", {}, {diag})}).Int("upper", 0));
    b.Output(b.Op("CumSum", {x, b.InitInts("axis", {}, {1})}).Int("reverse", 1));
    const Tensor tx = RandomInts({rows, cols}, rng, -5, 5, DataType::kInt32);
    RunBothWays(b, {{"x", tx}}, [&](const std::vector<Tensor>& out) {
      ASSERT_EQ(out.size(), 4u);
      EXPECT_EQ(out[2].dtype(), DataType::kInt32);
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<int64_t> order(cols);
        std::iota(order.begin(), order.end(), 0);
        const int64_t* row = tx.ints().data() + r * cols;
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t c) { return row[a] > row[c]; });
        for (int64_t j = 0; j < k; ++j) {
          EXPECT_EQ(out[1].ints()[r * k + j], order[j]);
          EXPECT_EQ(out[0].values()[r * k + j], static_cast<float>(row[order[j]]));
        }
        int64_t acc = 0;
        for (int64_t c = cols - 1; c >= 0; --c) {
          acc += row[c];
          EXPECT_EQ(out[3].ints()[r * cols + c], acc);
          EXPECT_EQ(out[2].ints()[r * cols + c], c - r <= diag ? row[c] : 0);
        }
      }
    });
  }
}

TEST(Typed, IndexOutOfRangeAtRunTimeNamesTheNode) {
  GraphBuilder b(13);
  auto x = b.Input("x", {2, 3});
  auto idx = b.InputInts("idx", {2, 3});
  b.Output(b.Op("GatherElements", {x, idx}, 1, "gather").Int("axis", 1));
  auto s = LoadSession(b);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<Tensor> out;
  const Tensor tx({2, 3}), ti = Tensor::Ints({2, 3}, {0, 1, 2, 3, 0, 0});
  EXPECT_ERROR((*s)->Run({{"x", &tx}, {"idx", &ti}}, &out), kInvalidArgument,
               "node 'gather' (GatherElements): index 3 is out of range for an axis of 3");
  const Tensor wrong = Tensor::Ints({2, 3}, {0, 0, 0, 0, 0, 0}, DataType::kInt32);
  EXPECT_ERROR((*s)->Run({{"x", &tx}, {"idx", &wrong}}, &out), kInvalidArgument,
               "input 'idx' is int32, expected int64");
}

TEST(Typed, ArenaSizesIntegerTensorsByElementType) {
  GraphBuilder b(13);
  auto x = b.Input("x", {1, 1000});
  auto i = b.Op("Cast", {x}, 1, "to_int").Int("to", onnx::TensorProto::INT64);
  b.Output(b.Op("Cast", {i}).Int("to", onnx::TensorProto::FLOAT));
  auto g = PrepareGraph(b);
  ASSERT_TRUE(g.ok()) << g.status();
  auto plan = PlanGraph(*g, true, MemoryPlanOptions{});
  ASSERT_TRUE(plan.ok()) << plan.status();
  const int v = ValueId(*g, "to_int:0");
  ASSERT_GE(v, 0);
  EXPECT_EQ(plan->buffers[plan->values[v].buffer].size, 8000);
  EXPECT_EQ(plan->report.naive_bytes, 4000 + 8000 + 4000);
}

TEST(Typed, RefusesOpsWithoutATypedKernel) {
  GraphBuilder b(13);
  auto x = b.InputInts("x", {2, 3});
  b.Output(b.Op("Softmax", {x}, 1, "sm"));
  EXPECT_ERROR(LoadSession(b).status(), kUnimplemented, "node 'sm' (Softmax)");
}

// UINT64 tensors hold int64 bits: values from 2^63 on must order, divide and reduce as unsigned.
TEST(Typed, Uint64ComparesAndDividesUnsigned) {
  GraphBuilder b(13);
  auto a = b.InputOfType("a", {4}, onnx::TensorProto::UINT64);
  auto d = b.InputOfType("d", {4}, onnx::TensorProto::UINT64);
  b.Output(b.Op("Max", {a, d}));
  b.Output(b.Op("Min", {a, d}));
  b.Output(b.Op("Less", {a, d}));
  b.Output(b.Op("Div", {a, d}));
  b.Output(b.Op("Mod", {a, d}));
  const uint64_t big = (uint64_t{1} << 63) + 10, huge = ~uint64_t{0};  // read as negative int64
  const std::vector<uint64_t> av = {big, 7, huge, 3}, dv = {3, big, 2, 3};
  auto bits = [](const std::vector<uint64_t>& v) {
    return std::vector<int64_t>(v.begin(), v.end());  // the same bits
  };
  const Tensor ta = Tensor::Ints({4}, bits(av), DataType::kUint64);
  const Tensor td = Tensor::Ints({4}, bits(dv), DataType::kUint64);
  RunBothWays(b, {{"a", ta}, {"d", td}}, [&](const std::vector<Tensor>& out) {
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0].dtype(), DataType::kUint64);
    for (size_t i = 0; i < 4; ++i) {
      const uint64_t x = av[i], y = dv[i];
      EXPECT_EQ(uint64_t(out[0].ints()[i]), std::max(x, y)) << i;
      EXPECT_EQ(uint64_t(out[1].ints()[i]), std::min(x, y)) << i;
      EXPECT_EQ(out[2].ints()[i], x < y) << i;
      EXPECT_EQ(uint64_t(out[3].ints()[i]), x / y) << i;
      EXPECT_EQ(uint64_t(out[4].ints()[i]), x % y) << i;
    }
  });
}

// NonMaxSuppression against a hand-worked case (ONNX's suppress_by_IOU boxes): per class, by
// descending score, a box overlapping a kept one by IoU > 0.5 is dropped; at most 3 per class; the
// score threshold drops a class's weak boxes. The inputs must be constant (bound at load).
TEST(Typed, NonMaxSuppressionKeepsTheBestBoxes) {
  GraphBuilder b(11);
  auto boxes = b.Input("boxes", {1, 6, 4});
  auto scores = b.Input("scores", {1, 2, 6});
  auto max_out = b.InputInts("max_out", {1});
  auto iou = b.Input("iou", {1});
  auto score = b.Input("score", {1});
  auto nms = b.Op("NonMaxSuppression", {boxes, scores, max_out, iou, score}, 1, "nms");
  b.model().mutable_graph()->add_output()->set_name(nms);
  b.model()
      .mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->set_elem_type(onnx::TensorProto::INT64);
  // Corners [y1, x1, y2, x2]; boxes 0-2 overlap heavily, 3-5 are apart from them and each other.
  const Tensor tb({1, 6, 4}, {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                              0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101});
  const Tensor ts({1, 2, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f,    // class 0
                              0.1f, 0.2f, 0.3f, 0.05f, 0.4f, 0.35f});  // class 1
  SessionOptions o;
  o.bound_inputs["boxes"] = tb;
  o.bound_inputs["scores"] = ts;
  o.bound_inputs["max_out"] = Tensor::Ints({1}, {3});
  o.bound_inputs["iou"] = Tensor({1}, {0.5f});
  o.bound_inputs["score"] = Tensor({1}, {0.25f});
  auto out = RunModel(b, o, {});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  // Class 0: 3 (0.95), 0 (0.9); 1 and 2 overlap 0, 4 overlaps 3; then 5 (0.3): three kept.
  // Class 1 above 0.25: 4 (0.4), 5 (0.35), 2 (0.3).
  EXPECT_EQ((*out)[0].shape(), (std::vector<int64_t>{6, 3}));
  EXPECT_EQ((*out)[0].ints(), (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5,  //
                                                    0, 1, 4, 0, 1, 5, 0, 1, 2}));
  // Scores computed at run time cannot set the output's shape at load: a clear refusal.
  SessionOptions run_time = o;
  run_time.bound_inputs.erase("scores");
  EXPECT_ERROR(LoadSession(b, run_time).status(), kUnimplemented,
               "node 'nms' (NonMaxSuppression): input 'scores' is computed at run time");
}

}  // namespace
}  // namespace onnxrun::test
